/**
 * TCP over IPv6 between two cores on a virtual link (decision 0030): the handshake with
 * the MSS from the IPv6 MTU (RFC 8200 8.3: MTU − 60), data both ways with the RFC 8200
 * 8.1 pseudo-header in every checksum, the references on interned addresses given back
 * when the connection and its TIME_WAIT record end, SYN cookies and RSTs over IPv6, a
 * listener that takes both families, and bad segments dropped by reason.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import { IPV6_ID_BASE } from '../../../src/base/ipv6-interner.js';
import { onesSum, ipv6PseudoHeaderSumAt } from '../../../src/wire/checksum.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV6, ethType } from '../../../src/wire/ethernet.js';
import { formatIpv6, ipv6, linkLocalFromMac, readIpv6, writeIpv6 } from '../../../src/wire/ipv6-address.js';
import { IPV6_HEADER_LEN, IPV6_NEXT_HEADER_OFFSET, NH_ICMPV6, NH_TCP } from '../../../src/wire/ipv6.js';
import { TCP_ACK, TCP_RST, TCP_SYN, TcpOptions, fillTcpChecksum6At, parseTcpOptions, tcpDataOffset, tcpFlags } from '../../../src/wire/tcp.js';
import type { TcpConnectionHandle } from '../../../src/tcp/connection-handle.js';
import { IP6_A, IP6_B, MAC_A, MAC_B, Recorder, TcpPair, sendAll } from '../../helpers/tcp-pair.js';
import { patternBytes } from '../../helpers/frames.js';
import { fragments6, icmpv6Message, ipv6Frame, ndFrame } from '../../helpers/frames6.js';
import { asTcpConnection } from '../../helpers/tcp-peer.js';
import { OUR_IP6, OUR_MAC, PEER_IP6, PEER_MAC, T0, setup6 } from '../../helpers/host6.js';
import { NA_OVERRIDE, NA_SOLICITED } from '../../../src/wire/ndp.js';
import { flowHashOfFrame, flowHashOfIpv6Packet, foldIpv6Words, hashFourTuple, shardOf } from '../../../src/base/flow-hash.js';
import type { Ipv6Address } from '../../../src/wire/ipv6-address.js';

const TCP6 = ETH_HEADER_LEN + IPV6_HEADER_LEN;

/** The TCP segments over IPv6 in the pair's log, with their flags and options. */
function tcp6Segments(p: TcpPair) {
  return p.log
    .filter((f) => ethType(f.frame, 0) === ETHERTYPE_IPV6 && f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] === NH_TCP)
    .map((f) => {
      const b = f.frame;
      const opts = new TcpOptions();
      parseTcpOptions(b, TCP6, tcpDataOffset(b, TCP6), opts);
      const len = b.length - TCP6;
      return { from: f.from, flags: tcpFlags(b, TCP6), mss: opts.mss, len, checksumOk: onesSum(b, TCP6, len, ipv6PseudoHeaderSumAt(b, ETH_HEADER_LEN, NH_TCP, len)) === 0xffff };
    });
}

/** B listens on `port`; the connections it accepts, each with a Recorder. */
function listenOnB(p: TcpPair, port: number, backlog: number): TcpConnectionHandle[] {
  const accepted: TcpConnectionHandle[] = [];
  p.b.tcp.listen(port, backlog, (conn) => {
    accepted.push(conn);
    conn.events = new Recorder(conn);
  });
  return accepted;
}

describe('TCP over IPv6 on two cores', () => {
  it('RFC 8200 8.3: the handshake runs over IPv6 with an MSS of MTU − 60 and 200 KB cross both ways intact', () => {
    const p = new TcpPair({}, {}, { ipv6: true });
    const { client, server, c, s } = p.connect(80, true);
    expect(client.stateName).toBe('ESTABLISHED');
    expect(server.stateName).toBe('ESTABLISHED');
    expect(client.remoteIp).toBeGreaterThanOrEqual(IPV6_ID_BASE);
    const n = p.b.interner;
    if (n === null) throw new Error('no IPv6 in B');
    expect(formatIpv6(n.copyInto(server.remoteIp, ipv6(0, 0, 0, 0)))).toBe('fd00::a');
    expect(formatIpv6(n.copyInto(server.localIp, ipv6(0, 0, 0, 0)))).toBe('fd00::b');
    const segs = tcp6Segments(p);
    expect(segs.slice(0, 2).map((x) => [x.from, x.flags, x.mss])).toEqual([['A', TCP_SYN, 1440], ['B', TCP_SYN | TCP_ACK, 1440]]);
    const up = patternBytes(200_000, 3);
    const down = patternBytes(200_000, 5);
    sendAll(client, up, p);
    sendAll(server, down, p);
    p.run(p.now + 10_000);
    expect(Buffer.compare(s.bytes(), Buffer.from(up))).toBe(0);
    expect(Buffer.compare(c.bytes(), Buffer.from(down))).toBe(0);
    const all = tcp6Segments(p);
    expect(all.every((x) => x.checksumOk)).toBe(true);
    // Full segments: 1440 less the 12 bytes of timestamps, plus a 32-byte header.
    expect(Math.max(...all.map((x) => x.len))).toBe(1428 + 32);
    expect(p.countersA[C.drop_tcp_checksum] + p.countersB[C.drop_tcp_checksum]).toBe(0);
    expect(p.countersB[C.tcp6_segments_rx]).toBeGreaterThan(100);
  });

  it('every reference on an interned address is given back once the connection and its TIME_WAIT record end', () => {
    const p = new TcpPair({ tcp: { mslMs: 1000 } }, { tcp: { mslMs: 1000 } }, { ipv6: true });
    const { client, server, s } = p.connect(80, true);
    const na = p.a.interner, nb = p.b.interner;
    if (na === null || nb === null) throw new Error('no IPv6');
    expect(na.size).toBe(2); // fd00::a and fd00::b, held by A's connection
    expect(na.refsOf(client.remoteIp)).toBe(1);
    client.send(patternBytes(1000));
    client.close();
    p.run(p.now + 200);
    server.close();
    p.run(p.now + 500);
    expect(s.ended).toBe(true);
    expect(server.stateName).toBe('CLOSED');
    expect(client.stateName).toBe('TIME_WAIT');
    expect(p.countersA[C.tcp_time_wait]).toBe(1);
    expect(na.refsOf(client.remoteIp)).toBe(1); // now the TIME_WAIT record's
    expect(nb.size).toBe(0);
    p.run(p.now + 5000);
    expect(p.countersA[C.tcp_time_wait]).toBe(0);
    expect(na.size).toBe(0);
    expect(p.countersA[C.ipv6_interned_addresses]).toBe(0);
  });

  it('one listener takes both families: an IPv4 and an IPv6 client on the same port', () => {
    const p = new TcpPair({}, {}, { ipv6: true });
    const accepted = listenOnB(p, 7, 16);
    const v4 = p.a.tcp.connect(p.b.config.ip, 7);
    const n = p.a.interner;
    if (n === null || v4 === null) throw new Error('setup');
    const id = n.intern(IP6_B);
    const v6 = p.a.tcp.connect(id, 7);
    n.release(id);
    p.run(p.now + 2000);
    expect(v6?.stateName).toBe('ESTABLISHED');
    expect(v4.stateName).toBe('ESTABLISHED');
    expect(accepted.map((x) => x.remoteIp >= IPV6_ID_BASE).sort()).toEqual([false, true]);
  });

  it('RFC 4987 3.6 over IPv6: a full SYN queue answers with a cookie and the final ACK opens the connection', () => {
    const p = new TcpPair({}, {}, { ipv6: true });
    const accepted = listenOnB(p, 80, 1);
    // The first handshake's final ACK is lost: B keeps it in SYN_RECEIVED, its queue full.
    let synAcks = 0;
    p.fault = (f) => {
      const b = f.frame;
      if (ethType(b, 0) !== ETHERTYPE_IPV6 || b[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] !== NH_TCP) return [f];
      if (f.from === 'B' && tcpFlags(b, TCP6) === (TCP_SYN | TCP_ACK)) synAcks++;
      return f.from === 'A' && synAcks === 1 && tcpFlags(b, TCP6) === TCP_ACK ? [] : [f];
    };
    const n = p.a.interner;
    if (n === null) throw new Error('setup');
    const id = n.intern(IP6_B);
    p.a.tcp.connect(id, 80);
    p.run(p.now + 100);
    expect(p.countersB[C.tcp_syn_queue]).toBe(1);
    p.fault = null;
    const second = p.a.tcp.connect(id, 80);
    n.release(id);
    p.run(p.now + 100);
    expect(p.countersB[C.tcp_syn_cookies_tx]).toBe(1);
    expect(p.countersB[C.tcp_syn_cookies_ok]).toBe(1);
    expect(second?.stateName).toBe('ESTABLISHED');
    expect(accepted.some((x) => x.remotePort === second?.localPort)).toBe(true);
  });

  it('RFC 9293 3.10.7.1 over IPv6: a SYN to a closed port gets RST|ACK and the connect fails with ECONNREFUSED', () => {
    const p = new TcpPair({}, {}, { ipv6: true });
    const n = p.a.interner;
    if (n === null) throw new Error('setup');
    const id = n.intern(IP6_B);
    const conn = p.a.tcp.connect(id, 9);
    n.release(id);
    if (conn === null) throw new Error('connect');
    const r = new Recorder(conn);
    conn.events = r;
    p.run(p.now + 1000);
    expect(r.closeErr).toBe('ECONNREFUSED');
    expect(tcp6Segments(p).map((x) => x.flags)).toEqual([TCP_SYN, TCP_RST | TCP_ACK]);
    expect(p.countersB[C.drop_tcp_no_listener]).toBe(1);
    expect(n.size).toBe(0);
  });

  it('RFC 9293 3.1: one peer address and port to two of our IPv6 addresses are two connections (the local address is in the demux key)', () => {
    const p = new TcpPair({}, {}, { ipv6: true });
    const accepted = listenOnB(p, 80, 16);
    const n = p.a.interner;
    if (n === null) throw new Error('setup');
    const id = n.intern(IP6_B);
    const conn = p.a.tcp.connect(id, 80);
    n.release(id);
    p.run(p.now + 100);
    expect(conn?.stateName).toBe('ESTABLISHED');
    expect(accepted).toHaveLength(1);
    // The same SYN (same source address and port, same ISN) to B's link-local address.
    const syn = p.log.find((f) => f.from === 'A' && ethType(f.frame, 0) === ETHERTYPE_IPV6 && f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] === NH_TCP);
    if (syn === undefined) throw new Error('no SYN');
    const m = syn.frame.slice();
    writeIpv6(m, ETH_HEADER_LEN + 24, linkLocalFromMac(MAC_B));
    fillTcpChecksum6At(m, TCP6, m.length - TCP6, ETH_HEADER_LEN);
    const before = p.log.length;
    p.b.receive(m, 0, m.length, p.now);
    p.run(p.now + 1);
    const answers = p.log.slice(before).filter((f) => f.from === 'B' && ethType(f.frame, 0) === ETHERTYPE_IPV6 && f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] === NH_TCP);
    // A SYN-ACK from the link-local address (a new connection), not a challenge ACK from the first.
    expect(answers.map((f) => [tcpFlags(f.frame, TCP6), formatIpv6(readIpv6(f.frame, ETH_HEADER_LEN + 8, ipv6(0, 0, 0, 0)))])).toEqual([[TCP_SYN | TCP_ACK, 'fe80::ff:fe00:b02']]);
    expect(p.countersB[C.tcp_passive_opens]).toBe(2);
    expect(conn?.stateName).toBe('ESTABLISHED');
  });

  it('a segment with a bad IPv6 checksum is dropped (drop_tcp_checksum) and one to a multicast group too (drop_tcp6_multicast)', () => {
    const p = new TcpPair({}, {}, { ipv6: true });
    p.b.tcp.listen(80, 16, () => {});
    let first = true;
    p.fault = (f) => {
      if (!first || f.from !== 'A' || ethType(f.frame, 0) !== ETHERTYPE_IPV6 || f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] !== NH_TCP) return [f];
      first = false;
      const bad = f.frame.slice();
      bad[ETH_HEADER_LEN + 8 + 15] ^= 1; // the source address: the pseudo-header no longer sums
      return [{ ...f, frame: bad }];
    };
    const n = p.a.interner;
    if (n === null) throw new Error('setup');
    const id = n.intern(IP6_B);
    const conn = p.a.tcp.connect(id, 80);
    n.release(id);
    p.run(p.now + 5000);
    expect(p.countersB[C.drop_tcp_checksum]).toBe(1);
    expect(conn?.stateName).toBe('ESTABLISHED'); // the retransmitted SYN got through
    // A SYN to ff02::1 (accepted by IPv6 input as a group we listen to) is not for TCP.
    const syn = p.log.find((f) => f.from === 'A' && ethType(f.frame, 0) === ETHERTYPE_IPV6 && f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] === NH_TCP);
    if (syn === undefined) throw new Error('no SYN');
    const m = syn.frame.slice();
    m.set([0x33, 0x33, 0, 0, 0, 1], 0);
    m.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], ETH_HEADER_LEN + 24);
    p.b.receive(m, 0, m.length, p.now);
    expect(p.countersB[C.drop_tcp6_multicast]).toBe(1);
    expect(readIpv6(m, ETH_HEADER_LEN + 24, ipv6(0, 0, 0, 0))[0]).toBe(0xff020000);
  });

  it('an active open over IPv6 in shard 3 of 4 picks a port whose frames the I/O thread steers back to it', () => {
    const s = setup6({ speaks: false, shard: [3, 4] });
    const n = s.host.interner;
    if (n === null) throw new Error('no IPv6');
    const peer = n.intern(PEER_IP6);
    for (let i = 0; i < 4; i++) s.host.tcp.connect(peer, 80 + i); // (4 wait for the neighbour at most)
    n.release(peer);
    s.host.tcp.flushDirty(T0 + 2000);
    s.rx(ndFrame(136, PEER_MAC, PEER_IP6, OUR_IP6, PEER_IP6, { lla: PEER_MAC, flags: NA_SOLICITED | NA_OVERRIDE, dstMac: OUR_MAC }), T0 + 2001);
    const syns = s.sent().filter((f) => f.nextHeader === NH_TCP);
    expect(syns).toHaveLength(4);
    for (const f of syns) expect(shardOf(flowHashOfFrame(f.frame, 0, f.frame.length), 4)).toBe(3);
  });

  for (const deliver of ['wire', 'local'] as const) {
    it(`TSO6 over the in-memory link, ${deliver} delivery: super-segments with the IPv6 pseudo-header sum, 1 MB arrives intact`, () => {
      const p = new TcpPair({}, {}, { ipv6: true, capabilities: { txChecksum: true, tsoMaxPayload: 65_000 }, deliver });
      const { client, s } = p.connect(9, true);
      const data = patternBytes(1_000_000, 21);
      const seg0 = p.countersA[C.tcp_segments_tx];
      sendAll(client, data, p);
      p.run();
      expect(Buffer.compare(s.bytes(), Buffer.from(data))).toBe(0);
      expect(1_000_000 / (p.countersA[C.tcp_segments_tx] - seg0)).toBeGreaterThan(3000); // super-segments
      expect(p.countersB[C.drop_tcp_checksum]).toBe(0);
      expect(p.countersA[C.tcp_retransmits]).toBe(0);
      const v6 = tcp6Segments(p);
      if (deliver === 'wire') {
        expect(Math.max(...v6.map((x) => x.len))).toBe(1428 + 32); // cut at the MSS by the link
        expect(v6.every((x) => x.checksumOk)).toBe(true);
      } else {
        expect(v6.filter((x) => x.len > 1460).length).toBeGreaterThan(5);
      }
    });
  }

  it('an active open over IPv6 before duplicate address detection passed finds no source address: null (EADDRNOTAVAIL at the socket)', () => {
    const s = setup6({ started: false });
    s.host.startIpv6(T0);
    const n = s.host.interner;
    if (n === null) throw new Error('no IPv6');
    const peer = n.intern(PEER_IP6);
    expect(s.host.tcp.connect(peer, 80)).toBeNull();
    s.host.poll(T0 + 1000); // DAD passes
    expect(s.host.tcp.connect(peer, 80)).not.toBeNull();
    n.release(peer);
  });

  it("a fragmented TCP packet over IPv6 that shard 0 reassembles for another shard's flow goes back whole, to be steered to it", () => {
    const foreign: { bytes: Uint8Array; etherType: number | undefined }[] = [];
    const s = setup6({ shard: [0, 2], foreign: (b, off, len, etherType) => foreign.push({ bytes: b.slice(off, off + len), etherType }) });
    // A 3000-byte TCP segment (header and data; its checksum does not matter here) from a
    // port whose flow shard 1 owns, in fragments of 1448 bytes.
    let sport = 40000;
    const fold = (a: Ipv6Address) => foldIpv6Words(a[0], a[1], a[2], a[3]);
    while (shardOf(hashFourTuple(fold(PEER_IP6), sport, fold(OUR_IP6), 80, NH_TCP), 2) !== 1) sport++;
    const seg = new Uint8Array(3000);
    seg[0] = sport >> 8; seg[1] = sport & 0xff; seg[3] = 80; seg[12] = 5 << 4;
    for (const f of fragments6(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_TCP, seg, 1448, 77)) s.rx(f, T0 + 2000);
    expect(foreign).toHaveLength(1);
    expect(foreign[0].etherType).toBe(ETHERTYPE_IPV6);
    const whole = foreign[0].bytes;
    expect(whole.length).toBe(40 + 3000);
    expect(whole[6]).toBe(NH_TCP); // no fragment header left
    expect(shardOf(flowHashOfIpv6Packet(whole, 0, whole.length), 2)).toBe(1);
    expect(s.c('ipv6_reassembled_foreign')).toBe(1);
    expect(s.c('tcp6_segments_rx') + s.c('drop_tcp_checksum')).toBe(0); // not handled here
  });

  it('RFC 4443 3.2 / RFC 8200 5: a Packet Too Big quoting our segment lowers the MSS to 1280 − 60 − 12 and the flight goes out again at that size', () => {
    const p = new TcpPair({}, {}, { ipv6: true });
    const { client, s } = p.connect(80, true);
    // B's ACKs are lost for a moment, so A has data in flight when the error comes.
    p.fault = (f) => (f.from === 'B' ? [] : [f]);
    client.send(patternBytes(20_000, 4));
    p.run(p.now + 5);
    const seg = p.log.filter((f) => f.from === 'A' && f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] === NH_TCP).at(-1);
    if (seg === undefined) throw new Error('no segment');
    const quote = seg.frame.subarray(ETH_HEADER_LEN, ETH_HEADER_LEN + 1232);
    const ptb = icmpv6Message(IP6_B, IP6_A, 2, 0, 1280, quote);
    p.fault = null;
    const frame = ipv6Frame(MAC_A, MAC_B, IP6_B, IP6_A, NH_ICMPV6, ptb);
    expect(shardOf(flowHashOfFrame(frame, 0, frame.length), 4)).toBe(shardOf(flowHashOfFrame(seg.frame, 0, seg.frame.length), 4));
    p.a.receive(frame, 0, frame.length, p.now);
    expect(asTcpConnection(client).snd.mss).toBe(1280 - 60 - 12);
    expect(p.countersA[C.tcp_mss_lowered]).toBe(1);
    p.run(p.now + 5000);
    expect(s.bytes().length).toBe(20_000);
    const after = tcp6Segments(p).filter((x) => x.from === 'A');
    expect(Math.max(...after.slice(-5).map((x) => x.len))).toBeLessThanOrEqual(1280 - 40);
  });

  it('RFC 4443 3.1: a port unreachable quoting our SYN ends the active open with ECONNREFUSED; one quoting nothing of ours is dropped', () => {
    const p = new TcpPair({}, {}, { ipv6: true });
    p.fault = (f) => (f.from === 'A' && f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] === NH_TCP ? [] : [f]);
    const n = p.a.interner;
    if (n === null) throw new Error('setup');
    const id = n.intern(IP6_B);
    const conn = p.a.tcp.connect(id, 81);
    n.release(id);
    if (conn === null) throw new Error('connect');
    const r = new Recorder(conn);
    conn.events = r;
    p.run(p.now + 5);
    const syn = p.log.find((f) => f.from === 'A' && f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] === NH_TCP);
    if (syn === undefined) throw new Error('no SYN');
    const quote = syn.frame.subarray(ETH_HEADER_LEN);
    const other = quote.slice();
    other[40] ^= 0xff; // another source port: no such connection
    for (const q of [other, quote]) {
      const f = ipv6Frame(MAC_A, MAC_B, IP6_B, IP6_A, NH_ICMPV6, icmpv6Message(IP6_B, IP6_A, 1, 4, 0, q));
      p.a.receive(f, 0, f.length, p.now);
    }
    expect(p.countersA[C.drop_icmp_error_no_flow]).toBe(1);
    expect(r.closeErr).toBe('ECONNREFUSED');
    expect(p.countersA[C.tcp_icmp_hard_errors]).toBe(1);
  });
});
