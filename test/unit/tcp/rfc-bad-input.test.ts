/**
 * Robustness against malformed and hostile input: RFC 9293 3.1 / RFC 1122 4.2.3.10
 * (checksum, data offset, options parsed robustly), RFC 9293 3.10.7.2 (SYN+RST), a SYN
 * flood (RFC 4987), and random segments. Nothing may throw (drop_internal_error = 0).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IPPROTO_TCP, writeIpv4Header } from '../../../src/wire/ipv4.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, writeEthernetHeader } from '../../../src/wire/ethernet.js';
import {
  OUR_IP, OUR_MAC, PEER_MAC, TCP_ACK, TCP_PSH, TCP_RST, TCP_SYN, TcpPeer, buildTcpFrame,
} from '../../helpers/tcp-peer.js';

function established() {
  const p = new TcpPeer();
  const { conn, rec } = p.passiveOpen();
  return { p, conn, rec };
}

describe('bad input', () => {
  it('RFC 1122 4.2.3.10: a segment with a bad checksum is dropped silently (drop_tcp_checksum), data not delivered, no ACK', () => {
    const { p, rec } = established();
    p.send({ flags: TCP_ACK | TCP_PSH, payload: 'corrupt', badChecksum: true });
    p.expectNothing(p.now + 1000);
    expect(rec.bytes().length).toBe(0);
    expect(p.counter('drop_tcp_checksum')).toBe(1);
    // The same bytes with a good checksum are then taken.
    p.sendData('corrupt');
    expect(rec.bytes().toString()).toBe('corrupt');
  });

  it('RFC 1122 4.2.3.10: a SYN with a bad checksum gets no SYN-ACK and creates nothing', () => {
    const p = new TcpPeer();
    p.listen(80, 16, () => {});
    p.send({ flags: TCP_SYN, seq: 1, ack: 0, window: 1000, options: { mss: 1460 }, badChecksum: true });
    p.expectNothing(p.now + 1000);
    expect(p.counter('tcp_connections')).toBe(0);
    expect(p.counter('drop_tcp_checksum')).toBe(1);
  });

  it('RFC 9293 3.1: a data offset below 5 words is dropped (drop_tcp_bad_offset)', () => {
    const { p, rec } = established();
    for (const doff of [0, 1, 4]) p.send({ flags: TCP_ACK | TCP_PSH, payload: 'abcdefgh', dataOffsetWords: doff });
    p.expectNothing(p.now + 1000);
    expect(rec.bytes().length).toBe(0);
    expect(p.counter('drop_tcp_bad_offset')).toBe(3);
  });

  it('RFC 9293 3.1: a data offset pointing beyond the segment is dropped (drop_tcp_bad_offset)', () => {
    const { p, rec } = established();
    p.send({ flags: TCP_ACK, dataOffsetWords: 15, autoTs: false }); // 60-byte header in a 20-byte segment
    p.send({ flags: TCP_ACK | TCP_PSH, payload: 'abc', dataOffsetWords: 6, autoTs: false }); // 24 > 23 bytes
    p.expectNothing(p.now + 1000);
    expect(rec.bytes().length).toBe(0);
    expect(p.counter('drop_tcp_bad_offset')).toBe(2);
  });

  it('RFC 9293 3.1: a segment shorter than a TCP header is dropped (drop_tcp_truncated)', () => {
    const { p } = established();
    const l4 = new Uint8Array(12);
    const f = new Uint8Array(ETH_HEADER_LEN + 20 + l4.length);
    writeEthernetHeader(f, 0, OUR_MAC, PEER_MAC, ETHERTYPE_IPV4);
    writeIpv4Header(f, ETH_HEADER_LEN, 20 + l4.length, 1, 0, 64, IPPROTO_TCP, 0x0a000001, OUR_IP);
    p.inject(f);
    expect(p.counter('drop_tcp_truncated')).toBe(1);
    p.expectNothing();
  });

  it('RFC 9293 3.1: a SYN with a malformed option (length 0, length 1, past the header) is refused, counted drop_tcp_bad_options', () => {
    const p = new TcpPeer();
    p.listen(80, 16, () => {});
    const bad: number[][] = [
      [2, 4, 5, 0xb4, 8, 0], // timestamp with length 0
      [2, 4, 5, 0xb4, 3, 1], // window scale with length 1
      [2, 4, 5, 0xb4, 1, 1, 2, 8], // MSS claiming 8 bytes, 2 left
      [2, 4, 5, 0xb4, 1, 1, 1, 2], // kind 2 with no length byte at the end
    ];
    for (const [i, raw] of bad.entries()) {
      p.send({ flags: TCP_SYN, seq: 1, ack: 0, window: 1000, srcPort: 2000 + i, options: { raw, rawNoPad: raw.length % 4 === 0 } });
    }
    p.expectNothing(p.now + 1000);
    expect(p.counter('drop_tcp_bad_options')).toBe(4);
    expect(p.counter('tcp_connections')).toBe(0);
  });

  it('RFC 9293 3.1 (robustness): malformed options on an established connection are counted; the segment is still processed like Linux does', () => {
    const { p, rec, conn } = established();
    const be = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    // A good timestamp option, then a SACK option with length 0.
    p.send({ flags: TCP_ACK | TCP_PSH, payload: 'still here', options: { raw: [1, 1, 8, 10, ...be(p.tsVal()), ...be(p.lastOurTsVal), 5, 0] } });
    expect(p.counter('drop_tcp_bad_options')).toBe(1);
    expect(rec.bytes().toString()).toBe('still here');
    expect(conn.stateName).toBe('ESTABLISHED');
  });

  it('RFC 9293 3.10.7.2: SYN+RST to a listener is dropped: no reply, no connection', () => {
    const p = new TcpPeer();
    p.listen(80, 16, () => {});
    p.send({ flags: TCP_SYN | TCP_RST, seq: 1, ack: 0, window: 1000, options: { mss: 1460 } });
    p.send({ flags: TCP_SYN | TCP_RST | TCP_ACK, seq: 1, ack: 5, window: 1000 });
    p.expectNothing(p.now + 1000);
    expect(p.counter('tcp_connections')).toBe(0);
    expect(p.counter('tcp_resets_tx')).toBe(0);
  });

  it('RFC 9293 3.10.7.4: SYN+RST on an established connection is handled as a RST (in window, not exact → challenge ACK only)', () => {
    const { p, conn } = established();
    p.send({ flags: TCP_SYN | TCP_RST, seq: p.seq + 5, ack: 0 });
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(conn.stateName).toBe('ESTABLISHED');
  });

  it('RFC 4987: a flood of 10 000 SYNs from random addresses and ports stays bounded (SYN queue = backlog, the rest cookies) and nothing throws', () => {
    const p = new TcpPeer();
    let accepted = 0;
    p.listen(80, 64, () => accepted++);
    let x = 0x9e3779b9;
    const rnd = () => {
      x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
      return x;
    };
    for (let i = 0; i < 10_000; i++) {
      const r = rnd();
      // Mostly on-link neighbours (ARP needed), some off-link (no route).
      const src = (r & 7) === 0 ? ((0xc6336400 | (r >>> 24)) >>> 0) : (0x0a000000 | (3 + ((r >>> 8) % 250))) >>> 0;
      p.send({ flags: TCP_SYN, seq: rnd(), ack: 0, window: 64240, srcIp: src, srcPort: 1024 + (rnd() % 60000), options: { mss: 1460, sackPermitted: true, ts: [rnd(), 0], wscale: 7 } });
      if (i % 1000 === 0) p.advance(10);
    }
    p.takeAll();
    p.otherFrames.length = 0;
    expect(p.counter('drop_internal_error')).toBe(0);
    expect(p.counter('tcp_syn_queue')).toBeLessThanOrEqual(64);
    expect(p.counter('tcp_connections')).toBeLessThanOrEqual(64);
    expect(p.counter('tcp_syn_cookies_tx')).toBeGreaterThan(9000);
    expect(p.counter('arp_pending_packets')).toBeLessThanOrEqual(1024);
    expect(p.counter('arp_cache_entries')).toBeLessThanOrEqual(4096);
    expect(accepted).toBe(0);
    // The half-open connections time out (SYN-ACK retries) and everything drains.
    p.advance(300_000);
    expect(p.counter('tcp_connections')).toBe(0);
    expect(p.counter('tcp_syn_queue')).toBe(0);
    // A legitimate client still gets through afterwards.
    const { conn } = p.passiveOpen();
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(p.counter('drop_internal_error')).toBe(0);
  });

  it('robustness: random segments (flags, numbers, options, payload) to a listener and to an established connection never throw', () => {
    const { p } = established();
    const seg = fc.record({
      flags: fc.integer({ min: 0, max: 255 }),
      seqOff: fc.oneof(fc.integer({ min: -70000, max: 70000 }), fc.integer({ min: 0, max: 0xffffffff })),
      ackOff: fc.oneof(fc.integer({ min: -70000, max: 70000 }), fc.integer({ min: 0, max: 0xffffffff })),
      window: fc.integer({ min: 0, max: 65535 }),
      raw: fc.uint8Array({ maxLength: 40 }),
      payload: fc.uint8Array({ maxLength: 1600 }),
      toListener: fc.boolean(),
      srcPort: fc.integer({ min: 1, max: 65535 }),
    });
    fc.assert(
      fc.property(seg, (s) => {
        const frame = buildTcpFrame({
          flags: s.flags,
          seq: (p.seq + s.seqOff) >>> 0,
          ack: (p.ack + s.ackOff) >>> 0,
          window: s.window,
          srcIp: 0x0a000001,
          srcPort: s.toListener ? s.srcPort : p.peerPort,
          dstPort: 80,
          options: { raw: s.raw, rawNoPad: false },
          payload: s.payload,
        });
        p.inject(frame);
        p.advance(7);
        p.takeAll();
        return p.counter('drop_internal_error') === 0;
      }),
      { numRuns: 3000, seed: 4242 },
    );
    expect(p.counter('tcp_connections')).toBeLessThanOrEqual(300);
  });
});
