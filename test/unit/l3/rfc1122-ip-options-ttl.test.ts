/**
 * IP options and TTL on input, on a Host over a virtual wire: RFC 1122 3.2.1.8 (options are
 * passed over safely: an option we do not implement, record route and timestamp included,
 * is ignored and never answered; malformed option bytes change nothing; what we send
 * carries no options), RFC 1122 3.2.1.7 (a host does not drop a datagram for a low TTL, and
 * as a host, not a router, it never sends Time Exceeded for TTL 0 or 1), RFC 1122 3.3.2 (a
 * reassembly timeout after fragment zero arrived is answered with Time Exceeded, code 1: a
 * MUST in the requirements summary; never about a broadcast; rate-limited).
 */
import { describe, expect, it } from 'vitest';
import { Host } from '../../../src/iface/host.js';
import { C, newCounters } from '../../../src/base/counters.js';
import { startUdpEcho } from '../../../src/services/udp-echo.js';
import { BROADCAST_MAC, parseIpv4, parseMac } from '../../../src/wire/addresses.js';
import { internetChecksum } from '../../../src/wire/checksum.js';
import { ipDst, ipHeaderLength, ipProtocol, ipTotalLength, ipTtl } from '../../../src/wire/ipv4.js';
import { VirtualWire } from '../../helpers/virtual-wire.js';
import {
  IPPROTO_ICMP, IPPROTO_UDP, arpFrame, fragmentFrames, icmpEcho, ipv4Frame, patternBytes, udpDatagram, withIpOptions,
} from '../../helpers/frames.js';
import * as scripted from '../../helpers/tcp-peer.js';

const OUR_IP = parseIpv4('10.10.0.4');
const OUR_MAC = parseMac('02:00:00:00:00:04');
const PEER_IP = parseIpv4('10.10.0.3');
const PEER_MAC = parseMac('02:00:00:00:00:03');
const BROADCAST_IP = parseIpv4('10.10.0.255');

/** Record route (7) with room for 3 addresses, pointer at the first. */
const RECORD_ROUTE = [7, 15, 4, ...new Array<number>(12).fill(0)];
/** Timestamp (68), timestamps only, room for 2. */
const TIMESTAMP = [68, 12, 5, 0, ...new Array<number>(8).fill(0)];
/** Loose source route (131) whose route is used up (pointer past the end). */
const LSRR_DONE = [131, 7, 8, 10, 10, 0, 1];
/** An option number nobody assigned, then NOP and end of list. */
const UNKNOWN = [0x9e, 4, 0xab, 0xcd, 1, 0];
/** Malformed: an option length that runs past the header. */
const MALFORMED = [7, 40, 4, 0];

function setup() {
  const wire = new VirtualWire();
  const counters = newCounters();
  const host = new Host({
    mac: OUR_MAC, ip: OUR_IP, prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64,
  }, wire, counters);
  startUdpEcho(host);
  const rx = (f: Uint8Array, now = 0) => host.receive(f, 0, f.length, now);
  rx(arpFrame(BROADCAST_MAC, 1, PEER_MAC, PEER_IP, 0, OUR_IP));
  wire.take();
  return { wire, counters, host, rx };
}

/** ICMP types of every ICMP message in `frames`. */
function icmpTypes(frames: Uint8Array[]): number[] {
  return frames.filter((f) => ipProtocol(f, 14) === IPPROTO_ICMP).map((f) => f[14 + ipHeaderLength(f, 14)]);
}

describe('RFC 1122 3.2.1.8: IP options on input', () => {
  for (const [name, opts] of [
    ['record route', RECORD_ROUTE], ['timestamp', TIMESTAMP], ['a completed loose source route', LSRR_DONE],
    ['an unknown option', UNKNOWN], ['malformed option bytes', MALFORMED],
  ] as const) {
    it(`RFC 1122 3.2.1.8: an echo request and a UDP datagram with ${name} are answered as without it; the answer carries no options`, () => {
      const s = setup();
      s.rx(withIpOptions(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(7, 1, patternBytes(32))), [...opts]));
      const data = new TextEncoder().encode('with options');
      s.rx(withIpOptions(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40000, 7, data)), [...opts]));
      const out = s.wire.take();
      expect(out).toHaveLength(2);
      expect(out.map((f) => ipHeaderLength(f, 14))).toEqual([20, 20]); // record route not answered, nothing echoed back
      expect(out[0][34]).toBe(0); // echo reply
      expect(out[0].subarray(34 + 8)).toEqual(patternBytes(32));
      expect(new TextDecoder().decode(out[1].subarray(34 + 8))).toBe('with options');
      expect(s.counters[C.drop_internal_error]).toBe(0);
    });
  }

  it('RFC 1122 3.2.1.8: a TCP SYN with IP options is answered with a plain SYN-ACK', () => {
    const p = new scripted.TcpPeer();
    p.listen(80, 16, () => {});
    p.ourPort = 80;
    const syn = scripted.buildTcpFrame({
      flags: scripted.TCP_SYN, seq: 1000, ack: 0, window: 64240, srcIp: scripted.PEER_IP, srcPort: 40000, dstPort: 80, options: { mss: 1460 },
    });
    p.inject(withIpOptions(syn, [...RECORD_ROUTE]));
    const synAck = p.expectSegment({ flags: scripted.TCP_SYN | scripted.TCP_ACK, ack: 1001 });
    expect(ipHeaderLength(synAck.frame, 14)).toBe(20);
  });

  it('RFC 1122 3.2.2 / RFC 792: a port unreachable quotes the offending header with its options', () => {
    const s = setup();
    const f = withIpOptions(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40000, 9999, patternBytes(10))), [...TIMESTAMP]);
    s.rx(f);
    const [u] = s.wire.take();
    expect(u[34]).toBe(3);
    expect(u.subarray(34 + 8, 34 + 8 + ipTotalLength(f, 14))).toEqual(f.subarray(14));
  });
});

describe('RFC 1122 3.2.1.7 and 3.3.2: TTL on input; Time Exceeded only for a reassembly timeout', () => {
  it('RFC 1122 3.2.1.7: datagrams that arrive with TTL 1 or 0 are accepted and answered (with our TTL 64), never with Time Exceeded', () => {
    const s = setup();
    for (const ttl of [1, 0]) {
      s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(9, ttl, patternBytes(8)), { ttl }));
      s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40000, 7, patternBytes(5)), { ttl }));
    }
    const out = s.wire.take();
    expect(out).toHaveLength(4);
    expect(out.map((f) => ipTtl(f, 14))).toEqual([64, 64, 64, 64]);
    expect(icmpTypes(out)).toEqual([0, 0]); // echo replies; no Time Exceeded
  });

  it('RFC 1122 3.3.2: a reassembly that times out after fragment zero arrived is answered with Time Exceeded, code 1, quoting that fragment', () => {
    const s = setup();
    const frags = fragmentFrames(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40000, 7, patternBytes(3000)), 1500, 77);
    s.rx(frags[0], 0);
    s.rx(frags[2], 10);
    s.host.poll(29_999);
    expect(s.wire.take()).toEqual([]); // Linux's 30 s
    s.host.poll(30_000);
    expect(s.counters[C.drop_reasm_timeout]).toBe(1);
    const out = s.wire.take();
    expect(out).toHaveLength(1);
    const f = out[0];
    const icmp = 14 + ipHeaderLength(f, 14);
    expect(ipProtocol(f, 14)).toBe(IPPROTO_ICMP);
    expect(ipDst(f, 14)).toBe(PEER_IP);
    expect([f[icmp], f[icmp + 1]]).toEqual([11, 1]); // Time Exceeded, fragment reassembly time exceeded
    expect(internetChecksum(f, icmp, ipTotalLength(f, 14) - (icmp - 14))).toBe(0);
    // The quote: fragment zero's header as it arrived (MF set, its own total length), then its
    // data from the start, 548 bytes in all (a 576-byte datagram).
    const q = icmp + 8;
    expect(ipTotalLength(f, 14)).toBe(576);
    expect([...f.subarray(q, q + 20)]).toEqual([...frags[0].subarray(14, 34)]);
    expect([...f.subarray(q + 20, 14 + 576)]).toEqual([...frags[0].subarray(34, 34 + 548 - 20)]);
    expect(s.counters[C.icmp_time_exceeded_tx]).toBe(1);
  });

  it('RFC 1122 3.3.2: no Time Exceeded when fragment zero never came, nor for a datagram sent to a broadcast address', () => {
    const s = setup();
    const frags = fragmentFrames(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40000, 7, patternBytes(3000)), 1500, 78);
    s.rx(frags[1], 0);
    s.rx(frags[2], 0);
    const bcast = fragmentFrames(BROADCAST_MAC, PEER_MAC, PEER_IP, BROADCAST_IP, IPPROTO_UDP, udpDatagram(PEER_IP, BROADCAST_IP, 40000, 7, patternBytes(3000)), 1500, 79);
    s.rx(bcast[0], 0);
    s.host.poll(31_000);
    expect(s.counters[C.drop_reasm_timeout]).toBe(2);
    expect(s.wire.take()).toEqual([]);
    expect(s.counters[C.icmp_time_exceeded_tx]).toBe(0);
  });

  it('RFC 1122 3.2.8 / 4.3.2.8 bounds: Time Exceeded shares the ICMP error rate limit (counted when spent)', () => {
    const s = setup();
    for (let id = 0; id < 80; id++) {
      const frags = fragmentFrames(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40000, 7, patternBytes(2000)), 1500, 1000 + id);
      s.rx(frags[0], 0);
    }
    s.host.poll(30_000);
    expect(s.counters[C.drop_reasm_timeout]).toBe(64); // 80 partial datagrams, at most 64 held
    expect(s.counters[C.icmp_time_exceeded_tx]).toBe(50); // the burst
    expect(s.counters[C.icmp_time_exceeded_rate_limited]).toBe(14);
    expect(s.wire.take()).toHaveLength(50);
  });
});
