/**
 * IPv6 input on a virtual wire: echo of any size (RFC 4443 4.2), the extension header
 * walk and its Parameter Problem answers (RFC 8200 4, 4.1-4.6, RFC 5095, RFC 6946),
 * drops by named reason, ICMPv6 error rules and rate limiting (RFC 4443 2.4), fragment
 * reassembly with the RFC 5722 overlap rule and the RFC 8200 4.5 checks, fragmentation
 * of large replies, and IPv4 left as it was.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { C, newCounters } from '../../../src/base/counters.js';
import { Host } from '../../../src/iface/host.js';
import { BROADCAST_MAC, parseIpv4 } from '../../../src/wire/addresses.js';
import { ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4 } from '../../../src/wire/ethernet.js';
import { ICMPV6_ECHO_REPLY, ICMPV6_PARAMETER_PROBLEM, icmpv6ChecksumValid } from '../../../src/wire/icmpv6.js';
import { type Ipv6Address, IPV6_ALL_NODES, multicastMacOf, parseIpv6, solicitedNodeOf } from '../../../src/wire/ipv6-address.js';
import {
  IPV6_HEADER_LEN, NH_DESTINATION_OPTIONS, NH_FRAGMENT, NH_HOP_BY_HOP, NH_ICMPV6, NH_NONE, NH_TCP,
  fragmentId, fragmentMore, fragmentOffset, ipv6PayloadLength,
} from '../../../src/wire/ipv6.js';
import { echo6Frame, fragmentHeader, fragments6, icmpv6Message, ipv6Frame, ndFrame, optionsHeader, routingHeader } from '../../helpers/frames6.js';
import { OUR_IP6, OUR_MAC, PEER_IP6, PEER_MAC, T0, type Sent6, setup6 } from '../../helpers/host6.js';
import { VirtualWire } from '../../helpers/virtual-wire.js';
import { IPPROTO_ICMP, arpFrame, icmpEcho, ipv4Frame, patternBytes } from '../../helpers/frames.js';

const IP = ETH_HEADER_LEN;
const ICMP = ETH_HEADER_LEN + IPV6_HEADER_LEN;
const T = T0 + 2000;
const DATA = patternBytes(16);

/** A started host that knows the peer's MAC (from a solicitation: STALE, used at once). */
function ready(limits = {}) {
  const s = setup6({ limits });
  s.rx(ndFrame(135, PEER_MAC, PEER_IP6, solicitedNodeOf(OUR_IP6), OUR_IP6, { lla: PEER_MAC }), T0 + 1500);
  s.sent();
  return s;
}

/** The ICMPv6 Time Exceeded messages among `out` (ND and MLD traffic of the same minute left out). */
function timeExceeded(out: Sent6[]): Sent6[] {
  return out.filter((f) => f.nextHeader === NH_ICMPV6 && f.type === 3);
}

/** The Parameter Problem messages among `out`: [code, pointer]. */
function paramProblems(out: Sent6[]): number[][] {
  return out.filter((f) => f.type === ICMPV6_PARAMETER_PROBLEM).map((f) => {
    const b = f.frame;
    expect(icmpv6ChecksumValid(b, IP, ICMP, b.length - ICMP)).toBe(true);
    return [b[ICMP + 1], ((b[ICMP + 4] << 24) | (b[ICMP + 5] << 16) | (b[ICMP + 6] << 8) | b[ICMP + 7]) >>> 0];
  });
}

const ping = (opts: Parameters<typeof echo6Frame>[7] = {}, dst: Ipv6Address = OUR_IP6) => echo6Frame(OUR_MAC, PEER_MAC, PEER_IP6, dst, 0x1234, 9, DATA, opts);

describe('echo (RFC 4443 4.2)', () => {
  it('answers with the same identifier, sequence and data, from the address asked, hop limit 64, checksum valid', () => {
    const s = ready();
    const req = ping();
    s.rx(req, T);
    const [r] = s.sent();
    expect([r.type, r.src, r.dst, r.ethDst, r.frame[IP + 7]]).toEqual([ICMPV6_ECHO_REPLY, 'fd00:10:10::4', 'fd00:10:10::3', PEER_MAC, 64]);
    expect(icmpv6ChecksumValid(r.frame, IP, ICMP, r.frame.length - ICMP)).toBe(true);
    expect(r.frame.subarray(ICMP + 4)).toEqual(req.subarray(ICMP + 4));
  });

  it('answers a request to all-nodes from a unicast address of ours', () => {
    const s = ready();
    s.rx(echo6Frame(multicastMacOf(IPV6_ALL_NODES), PEER_MAC, PEER_IP6, IPV6_ALL_NODES, 1, 1, DATA), T);
    const [r] = s.sent();
    expect([r.type, r.src]).toEqual([ICMPV6_ECHO_REPLY, 'fd00:10:10::4']);
  });
});

describe('drops by named reason', () => {
  it.each([
    ['truncated', (f: Uint8Array) => f.slice(0, IP + 30), 'drop_ipv6_truncated'],
    ['version 5', (f: Uint8Array) => { f[IP] = 0x50; return f; }, 'drop_ipv6_version'],
    ['payload length past the frame', (f: Uint8Array) => { f[IP + 4] = 0x10; return f; }, 'drop_ipv6_payload_length'],
    ['a multicast source', (f: Uint8Array) => { f[IP + 8] = 0xff; return f; }, 'drop_ipv6_bad_source'],
    ['another unicast destination', (f: Uint8Array) => { f[IP + 39] = 0x99; return f; }, 'drop_ipv6_not_for_us'],
    ['a bad ICMPv6 checksum', (f: Uint8Array) => { f[ICMP + 9] ^= 0xff; return f; }, 'drop_icmpv6_checksum'],
  ] as const)('%s', (_name, mutate, counter) => {
    const s = ready();
    s.rx(mutate(ping()), T);
    expect(s.c(counter)).toBe(1);
    expect(s.sent()).toEqual([]);
  });

  it('a group we do not listen to is dropped (here in a frame to our own MAC, past the link filter)', () => {
    const s = ready();
    const f = echo6Frame(OUR_MAC, PEER_MAC, PEER_IP6, parseIpv6('ff02::1:2') as Ipv6Address, 1, 1, DATA);
    s.rx(f, T);
    expect(s.c('drop_ipv6_not_for_us')).toBe(1);
  });
});

describe('extension headers (RFC 8200 4)', () => {
  it('walks hop-by-hop (Router Alert, PadN), a routing header with segments left 0, destination options and an atomic fragment, then answers', () => {
    const s = ready();
    s.rx(ping({ exts: [optionsHeader(NH_HOP_BY_HOP, [5, 2, 0, 0]), routingHeader(4, 0), optionsHeader(NH_DESTINATION_OPTIONS, [0, 0]), fragmentHeader(0, false, 77)] }), T);
    expect(s.sent().map((f) => f.type)).toEqual([ICMPV6_ECHO_REPLY]);
    expect(s.c('ipv6_atomic_fragments')).toBe(1);
  });

  it('an unknown option acts by its two high bits: 00 skipped, 01 dropped, 10 Parameter Problem code 2 (even to multicast), 11 only to unicast', () => {
    const s = ready();
    s.rx(ping({ exts: [optionsHeader(NH_DESTINATION_OPTIONS, [0x1e, 1, 0])] }), T);
    expect(s.sent().map((f) => f.type)).toEqual([ICMPV6_ECHO_REPLY]);
    s.rx(ping({ exts: [optionsHeader(NH_DESTINATION_OPTIONS, [0x5e, 1, 0])] }), T);
    expect(s.sent()).toEqual([]);
    s.rx(ping({ exts: [optionsHeader(NH_DESTINATION_OPTIONS, [1, 0, 0x9e, 0])] }), T); // pointer: 40 + 4
    s.rx(ping({ exts: [optionsHeader(NH_DESTINATION_OPTIONS, [0xde, 0])] }), T);
    expect(paramProblems(s.sent())).toEqual([[2, 44], [2, 42]]);
    const toGroup = (t: number) => echo6Frame(multicastMacOf(IPV6_ALL_NODES), PEER_MAC, PEER_IP6, IPV6_ALL_NODES, 1, 1, DATA, { exts: [optionsHeader(NH_DESTINATION_OPTIONS, [t, 0])] });
    s.rx(toGroup(0x9e), T);
    s.rx(toGroup(0xde), T);
    expect(paramProblems(s.sent())).toEqual([[2, 42]]);
    expect(s.c('drop_ipv6_unknown_option')).toBe(5);
  });

  it('an unrecognised next header gets Parameter Problem code 1 pointing at the field that named it (TCP after options goes to TCP)', () => {
    const s = ready();
    s.rx(ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, 253, DATA), T);
    s.rx(ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, 132, DATA, { exts: [optionsHeader(NH_DESTINATION_OPTIONS, [])] }), T);
    s.rx(ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_TCP, DATA, { exts: [optionsHeader(NH_DESTINATION_OPTIONS, [])] }), T);
    expect(paramProblems(s.sent())).toEqual([[1, 6], [1, 40]]);
    expect(s.c('drop_ipv6_next_header')).toBe(2);
    expect(s.c('drop_tcp_checksum') + s.c('drop_tcp_truncated')).toBe(1);
  });

  it('a hop-by-hop header that is not first is an unrecognised next header', () => {
    const s = ready();
    s.rx(ping({ exts: [optionsHeader(NH_DESTINATION_OPTIONS, []), optionsHeader(NH_HOP_BY_HOP, [])] }), T);
    expect(paramProblems(s.sent())).toEqual([[1, 40]]);
    expect(s.c('drop_ipv6_hop_by_hop_not_first')).toBe(1);
  });

  it('a routing header with segments left (type 0 included, RFC 5095) gets Parameter Problem code 0 at the routing type', () => {
    const s = ready();
    s.rx(ping({ exts: [routingHeader(0, 1)] }), T);
    s.rx(ping({ exts: [optionsHeader(NH_HOP_BY_HOP, []), routingHeader(3, 2)] }), T);
    expect(paramProblems(s.sent())).toEqual([[0, 42], [0, 50]]);
    expect(s.c('drop_ipv6_routing_header')).toBe(2);
  });

  it('no next header ends the packet silently; malformed and overlong chains are dropped and counted', () => {
    const s = ready();
    s.rx(ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_NONE, new Uint8Array(8)), T);
    const longOption = optionsHeader(NH_DESTINATION_OPTIONS, [0x1e, 9]); // runs past its 8 bytes
    s.rx(ping({ exts: [longOption] }), T);
    const past = ping({ exts: [optionsHeader(NH_DESTINATION_OPTIONS, [])] });
    past[ICMP + 1] = 200; // header length past the packet
    s.rx(past, T);
    s.rx(ping({ exts: Array.from({ length: 9 }, () => optionsHeader(NH_DESTINATION_OPTIONS, [])) }), T);
    expect(s.sent()).toEqual([]);
    expect([s.c('drop_ipv6_ext_header'), s.c('drop_ipv6_ext_chain_too_long')]).toEqual([2, 1]);
  });
});

describe('ICMPv6 error rules (RFC 4443 2.4)', () => {
  it('no error about an ICMPv6 error, to a multicast destination (unless the option asks), or to a multicast or unspecified source', () => {
    const s = ready();
    const err = icmpv6Message(PEER_IP6, OUR_IP6, 1, 4, 0, DATA);
    s.rx(ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_ICMPV6, err, { exts: [optionsHeader(NH_DESTINATION_OPTIONS, [0xde, 0])] }), T);
    s.rx(echo6Frame(multicastMacOf(IPV6_ALL_NODES), PEER_MAC, PEER_IP6, IPV6_ALL_NODES, 1, 1, DATA, { exts: [routingHeader(0, 1)] }), T);
    const unspecified = parseIpv6('::') as Ipv6Address;
    s.rx(ipv6Frame(OUR_MAC, PEER_MAC, unspecified, OUR_IP6, 253, DATA), T);
    expect(paramProblems(s.sent())).toEqual([]);
    expect([s.c('drop_ipv6_unknown_option'), s.c('drop_ipv6_routing_header'), s.c('drop_ipv6_next_header')]).toEqual([1, 1, 1]);
  });

  it('errors are rate limited: a burst of 50, then about 100 a second (counted)', () => {
    const s = ready();
    const bad = ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, 253, DATA);
    for (let i = 0; i < 60; i++) s.rx(bad, T);
    expect(paramProblems(s.sent())).toHaveLength(50);
    expect(s.c('icmpv6_errors_rate_limited')).toBe(10);
    for (let i = 0; i < 20; i++) s.rx(bad, T + 100);
    expect(paramProblems(s.sent())).toHaveLength(10);
  });

  it('quotes the offending packet, at most what keeps the error within 1280 bytes', () => {
    const s = ready();
    s.rx(ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, 253, patternBytes(1400)), T);
    const [pp] = s.sent();
    expect(pp.frame.length - IP).toBe(1280);
    expect(pp.frame.subarray(ICMP + 8, ICMP + 8 + 40)).toEqual(ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, 253, patternBytes(1400)).subarray(IP, IP + 40));
  });
});

/** Reassembles our fragmented reply frames: [message bytes, fragment count]. */
function reassembleReply(out: Sent6[]): [Uint8Array, number] {
  const frags = out.filter((f) => f.nextHeader === NH_FRAGMENT);
  const ids = new Set(frags.map((f) => fragmentId(f.frame, ICMP)));
  expect(ids.size).toBe(1);
  let total = 0;
  const parts: Array<[number, Uint8Array]> = [];
  for (const f of frags) {
    expect(f.frame.length - IP).toBeLessThanOrEqual(1500);
    const data = f.frame.subarray(ICMP + 8, IP + IPV6_HEADER_LEN + ipv6PayloadLength(f.frame, IP));
    parts.push([fragmentOffset(f.frame, ICMP), data]);
    if (!fragmentMore(f.frame, ICMP)) total = fragmentOffset(f.frame, ICMP) + data.length;
  }
  const m = new Uint8Array(total);
  for (const [o, d] of parts) m.set(d, o);
  return [m, frags.length];
}

describe('fragments (RFC 8200 4.5, RFC 5722)', () => {
  const big = patternBytes(4000);
  const request = () => icmpv6Message(PEER_IP6, OUR_IP6, 128, 0, 0x00070001, big);
  const frags = (id = 5) => fragments6(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_ICMPV6, request(), 1448, id);

  it('reassembles a 4000-byte ping in any order and answers in fragments that fit the MTU', () => {
    const s = ready();
    const f = frags();
    expect(f).toHaveLength(3);
    s.rx(f[2], T);
    s.rx(f[0], T + 1);
    expect(s.sent()).toEqual([]);
    s.rx(f[1], T + 2);
    const [msg, n] = reassembleReply(s.sent());
    expect(n).toBe(3);
    expect(msg[0]).toBe(ICMPV6_ECHO_REPLY);
    expect(msg.subarray(4)).toEqual(request().subarray(4));
    expect([s.c('ipv6_fragments_rx'), s.c('ipv6_reassembled'), s.c('ipv6_fragmented_tx'), s.c('ipv6_fragments_tx')]).toEqual([3, 1, 1, 3]);
  });

  it('RFC 7739 5.3.3: two fragmented replies to one peer carry consecutive Identification values, from a start the secret decides', () => {
    const replyId = (s: ReturnType<typeof ready>, id: number): number => {
      for (const x of frags(id)) s.rx(x, T);
      const out = s.sent().filter((f) => f.nextHeader === NH_FRAGMENT);
      expect(out).toHaveLength(3);
      return fragmentId(out[0].frame, ICMP);
    };
    const s = ready();
    const first = replyId(s, 5);
    expect(replyId(s, 6)).toBe((first + 1) >>> 0);
    // Another stack (another secret) starts elsewhere: not a counter from 1 as before.
    const other = replyId(ready(), 5);
    expect(other).not.toBe(first);
    expect([first, other]).not.toContain(1);
  });

  it('RFC 8201 4 / 8200 4.5: a packet that waited for neighbour resolution leaves in fragments of the path MTU it was prepared for, not the link MTU', () => {
    const s = setup6();
    const out = s.host.ip6Out;
    if (out === null) throw new Error('no IPv6 output');
    const off = out.prepare(null, PEER_IP6, 1400, T, false, 0, 1280); // a path MTU of 1280 towards the peer
    out.buf.fill(0x5a, off, off + 1400);
    out.transmit(253, 1400); // the peer is not resolved yet: queued, a solicitation goes out
    expect(s.sent().filter((f) => f.nextHeader === NH_FRAGMENT)).toEqual([]);
    s.rx(ndFrame(136, PEER_MAC, PEER_IP6, OUR_IP6, PEER_IP6, { flags: 0x60, lla: PEER_MAC, dstMac: OUR_MAC }), T + 1);
    const frags = s.sent().filter((f) => f.nextHeader === NH_FRAGMENT);
    expect(frags).toHaveLength(2);
    for (const f of frags) expect(f.frame.length - IP).toBeLessThanOrEqual(1280);
    expect(frags.reduce((n, f) => n + ipv6PayloadLength(f.frame, IP) - 8, 0)).toBe(1400);
  });

  it('an exact duplicate fragment is ignored', () => {
    const s = ready();
    const f = frags();
    s.rx(f[0], T);
    s.rx(f[0], T);
    s.rx(f[1], T);
    s.rx(f[2], T);
    expect(s.c('ipv6_reassembled')).toBe(1);
    expect(s.c('drop_reasm6_overlap')).toBe(0);
  });

  it('RFC 5722: an overlapping fragment discards the whole packet, and its later fragments too, until the timeout', () => {
    const s = ready();
    const f = frags(9);
    s.rx(f[0], T);
    // Bytes 1400..2848: overlaps the first fragment (0..1448).
    const overlap = ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_ICMPV6, request().subarray(1400, 2848), { exts: [fragmentHeader(1400, true, 9)] });
    s.rx(overlap, T + 1);
    for (const x of f) s.rx(x, T + 2); // a complete, clean set: still discarded
    expect(s.c('ipv6_reassembled')).toBe(0);
    expect(s.c('drop_reasm6_overlap')).toBe(4);
    expect(s.sent()).toEqual([]);
    // After the first fragment's 60 s the key is forgotten: a new set completes.
    s.host.poll(T + 60_000);
    for (const x of f) s.rx(x, T + 60_001);
    expect(s.c('ipv6_reassembled')).toBe(1);
  });

  it('an incomplete packet is dropped 60 s after its first fragment (counted), and the deadline is announced', () => {
    const s = ready();
    s.rx(frags()[0], T);
    expect(s.host.nextDeadline()).toBeLessThanOrEqual(T + 60_000);
    s.host.poll(T + 60_000);
    expect(s.c('drop_reasm6_timeout')).toBe(1);
    expect(s.c('reasm6_pending_datagrams')).toBe(0);
  });

  it('RFC 8200 4.5: a packet not complete 60 s after its first fragment arrived is answered with Time Exceeded, code 1, quoting that fragment', () => {
    const s = ready();
    const f = frags(11);
    s.rx(f[0], T);
    s.rx(f[2], T + 5);
    s.host.poll(T + 59_999);
    expect(timeExceeded(s.sent())).toEqual([]);
    s.host.poll(T + 60_000);
    const out = timeExceeded(s.sent());
    expect(out).toHaveLength(1);
    const [e] = out;
    expect([e.nextHeader, e.type, e.frame[ICMP + 1]]).toEqual([NH_ICMPV6, 3, 1]); // Time Exceeded, fragment reassembly time exceeded
    expect([e.src, e.dst]).toEqual(['fd00:10:10::4', 'fd00:10:10::3']);
    expect(icmpv6ChecksumValid(e.frame, IP, ICMP, e.frame.length - ICMP)).toBe(true);
    // The quote is the first fragment as it arrived (IPv6 header, Fragment header, data), cut to fit 1280 bytes.
    const quote = e.frame.subarray(ICMP + 8);
    expect(e.frame.length - IP).toBe(1280);
    expect([...quote]).toEqual([...f[0].subarray(IP, IP + 1280 - 48)]);
    expect(s.c('icmpv6_time_exceeded_tx')).toBe(1);
  });

  it('RFC 8200 4.5: no Time Exceeded when the first fragment never came, nor after an RFC 5722 discard', () => {
    const s = ready();
    const f = frags(12);
    s.rx(f[1], T);
    s.rx(f[2], T);
    const g = frags(13);
    s.rx(g[0], T);
    s.rx(ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_ICMPV6, request().subarray(1400, 2848), { exts: [fragmentHeader(1400, true, 13)] }), T);
    s.host.poll(T + 60_000);
    expect(timeExceeded(s.sent())).toEqual([]);
    expect(s.c('icmpv6_time_exceeded_tx')).toBe(0);
  });

  it('Parameter Problem for a non-final fragment not a multiple of 8 long (at Payload Length) and for data past 65535 (at Fragment Offset)', () => {
    const s = ready();
    // (The quoted upper layer is an echo request: an error about an error would not be answered.)
    s.rx(ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_ICMPV6, request().subarray(0, 100), { exts: [fragmentHeader(0, true, 3)] }), T);
    s.rx(ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_ICMPV6, patternBytes(64), { exts: [fragmentHeader(65496, false, 3)] }), T);
    expect(paramProblems(s.sent())).toEqual([[0, 4], [0, 42]]);
    expect(s.c('drop_ipv6_fragment')).toBe(2);
  });

  it('is bounded: a new packet beyond maxPackets evicts the oldest; memory beyond maxMemoryBytes evicts too (counted)', () => {
    const s = ready({ reassembly6: { maxPackets: 2, maxMemoryBytes: 4000 } });
    s.rx(frags(1)[0], T);
    s.rx(frags(2)[0], T);
    s.rx(frags(3)[0], T);
    expect(s.c('drop_reasm6_too_many')).toBe(1);
    expect(s.host.ip6In?.reassembler.pendingPackets).toBe(2);
    s.rx(frags(3)[1], T);
    expect(s.c('drop_reasm6_memory')).toBeGreaterThanOrEqual(1);
  });

  it('neighbour discovery in fragments is dropped (RFC 6980)', () => {
    const s = ready();
    const ns = ndFrame(135, PEER_MAC, PEER_IP6, OUR_IP6, OUR_IP6, { lla: PEER_MAC, dstMac: OUR_MAC });
    const msg = ns.subarray(ICMP);
    const a = ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_ICMPV6, msg.subarray(0, 16), { exts: [fragmentHeader(0, true, 4)], hopLimit: 255 });
    const b = ipv6Frame(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_ICMPV6, msg.subarray(16), { exts: [fragmentHeader(16, false, 4)], hopLimit: 255 });
    s.rx(a, T);
    s.rx(b, T);
    expect(s.c('ipv6_reassembled')).toBe(1);
    expect(s.c('drop_nd_invalid')).toBe(1);
    expect(s.sent()).toEqual([]);
  });
});

describe('bad input never throws (property)', () => {
  it('random bytes and random corruptions of valid IPv6 frames are dropped or answered, never an internal error', () => {
    const s = ready();
    const seeds = [
      ping(),
      ping({ exts: [optionsHeader(NH_HOP_BY_HOP, [5, 2, 0, 0]), routingHeader(0, 1), optionsHeader(NH_DESTINATION_OPTIONS, [0x9e, 0])] }),
      ...fragments6(OUR_MAC, PEER_MAC, PEER_IP6, OUR_IP6, NH_ICMPV6, icmpv6Message(PEER_IP6, OUR_IP6, 128, 0, 1, patternBytes(3000)), 1448, 11),
      ndFrame(135, PEER_MAC, PEER_IP6, solicitedNodeOf(OUR_IP6), OUR_IP6, { lla: PEER_MAC }),
      ndFrame(136, PEER_MAC, PEER_IP6, OUR_IP6, PEER_IP6, { flags: 0x60, lla: PEER_MAC, dstMac: OUR_MAC }),
    ];
    let now = T;
    fc.assert(fc.property(
      fc.nat(seeds.length - 1), fc.array(fc.tuple(fc.nat(2000), fc.nat(255)), { maxLength: 3 }), fc.nat(2000), fc.boolean(),
      (which, flips, cut, random) => {
        const base = seeds[which];
        let f: Uint8Array;
        if (random) {
          f = new Uint8Array(14 + (cut % 200));
          for (const [i, v] of flips) f[i % f.length] = v;
          f.set(base.subarray(0, 14)); // keep the Ethernet header: to us, IPv6
        } else {
          f = base.slice(0, cut % 4 === 0 ? Math.max(14, base.length - (cut % 64)) : base.length);
          for (const [i, v] of flips) if (14 + (i % (f.length - 14)) < f.length) f[14 + (i % (f.length - 14))] = v;
        }
        now += 7;
        s.rx(f, now);
        s.host.poll(now);
        s.wire.take();
        expect(s.c('drop_internal_error')).toBe(0);
      },
    ), { numRuns: 3000, seed: 0x1c6 });
    // The corruptions reached every layer (fixed seed: the same 3000 frames every run).
    expect(s.c('ipv6_rx')).toBeGreaterThan(800);
    expect([s.c('icmpv6_rx') > 100, s.c('ipv6_fragments_rx') > 100, s.c('nd_ns_rx') > 0, s.c('drop_ipv6_ext_header') > 0]).toEqual([true, true, true, true]);
  });
});

describe('IPv4 is unchanged', () => {
  it('a host without IPv6 counts IPv6 frames as an unknown type and sends nothing', () => {
    const wire = new VirtualWire();
    const counters = newCounters();
    const host = new Host({ mac: OUR_MAC, ip: parseIpv4('10.10.0.4'), prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 }, wire, counters);
    const f = ping();
    host.receive(f, 0, f.length, T);
    host.startIpv6(T);
    expect(counters[C.drop_eth_unknown_type]).toBe(1);
    expect(wire.take()).toEqual([]);
    expect(host.nextDeadline()).toBe(Infinity);
  });

  it('IPv6 stays off on a link with an MTU below 1280 (RFC 8200 5)', () => {
    const wire = new VirtualWire();
    const counters = newCounters();
    const host = new Host({
      mac: OUR_MAC, ip: parseIpv4('10.10.0.4'), prefixLength: 24, gateway: 0, mtu: 1279, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64,
      ipv6: { addresses: [{ address: OUR_IP6, prefixLength: 64 }], gateway: null },
    }, wire, counters);
    expect(host.nd).toBeNull();
    host.startIpv6(T);
    expect(wire.take()).toEqual([]);
  });

  it('a host with IPv6 still answers IPv4 pings', () => {
    const s = ready();
    const f = ipv4Frame(OUR_MAC, PEER_MAC, parseIpv4('10.10.0.3'), parseIpv4('10.10.0.4'), IPPROTO_ICMP, icmpEcho(1, 1, DATA));
    s.rx(arpFrame(BROADCAST_MAC, 1, PEER_MAC, parseIpv4('10.10.0.3'), 0, parseIpv4('10.10.0.4')), T);
    s.rx(f, T);
    const out = s.wire.take();
    expect(out.map((x) => (x[12] << 8) | x[13])).toEqual([ETHERTYPE_ARP, ETHERTYPE_IPV4]);
    expect([s.c('icmp_echo_requests_rx'), s.c('icmp_echo_replies_tx'), s.c('drop_eth_unknown_type')]).toEqual([1, 1, 0]);
  });
});
