/**
 * Neighbour discovery on a virtual wire with a virtual clock: duplicate address detection
 * (RFC 4862 5.4) at start and for an address added later, the neighbour cache states of
 * RFC 4861 7.3.2 (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE) with their timers and
 * failures, answers to solicitations (7.2.4, compared byte for byte with Linux's answer),
 * router solicitation and advertisements (6.3.4, 6.3.7), MLDv2 reports (RFC 3810), and
 * validation (hop limit 255, options).
 */
import { describe, expect, it } from 'vitest';
import { ETH_HEADER_LEN } from '../../../src/wire/ethernet.js';
import {
  ICMPV6_ECHO_REPLY, ICMPV6_MLD_QUERY, ICMPV6_MLDV2_REPORT, ICMPV6_NEIGHBOR_ADVERTISEMENT, ICMPV6_NEIGHBOR_SOLICITATION,
  ICMPV6_ROUTER_ADVERTISEMENT, ICMPV6_ROUTER_SOLICITATION, icmpv6ChecksumValid,
} from '../../../src/wire/icmpv6.js';
import {
  type Ipv6Address, IPV6_ALL_NODES, IPV6_ALL_ROUTERS, IPV6_UNSPECIFIED, formatIpv6, ipv6, multicastMacOf, parseIpv6, readIpv6, solicitedNodeOf,
} from '../../../src/wire/ipv6-address.js';
import { IPV6_HEADER_LEN, NH_HOP_BY_HOP, NH_ICMPV6, ipv6HopLimit } from '../../../src/wire/ipv6.js';
import { MLD_CHANGE_TO_EXCLUDE, MLD_MODE_IS_EXCLUDE } from '../../../src/wire/mld.js';
import { NA_OVERRIDE, NA_SOLICITED, ND_NS_NA_LEN, ND_OPT_SOURCE_LLA, naFlags, ndFindOption, ndOptionMac } from '../../../src/wire/ndp.js';
import { echo6Frame, icmpv6Message, ipv6Frame, ndFrame } from '../../helpers/frames6.js';
import {
  OUR_IP6, OUR_LL, OUR_MAC, PEER_IP6, PEER_LL, PEER_MAC, ROUTER_LL, ROUTER_MAC, T0, decode6, setup6,
} from '../../helpers/host6.js';
import { golden, hex, MAC_B } from '../wire/golden-frames.js';
import { C, newCounters } from '../../../src/base/counters.js';
import { hashWords } from '../../../src/base/ipv6-interner.js';
import { NeighbourCache } from '../../../src/l2/neighbour-cache.js';

const ICMP = ETH_HEADER_LEN + IPV6_HEADER_LEN;
const DATA = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

/** An echo request from the peer to `dst` (our MAC). */
const ping = (dst: Ipv6Address = OUR_IP6, src: Ipv6Address = PEER_IP6, mac = PEER_MAC) => echo6Frame(OUR_MAC, mac, src, dst, 7, 1, DATA);
/** A solicited advertisement from the peer for itself. */
const peerNa = (flags = NA_SOLICITED | NA_OVERRIDE, lla = PEER_MAC) => ndFrame(136, lla, PEER_IP6, OUR_IP6, PEER_IP6, { flags, lla, dstMac: OUR_MAC });

/** A router advertisement from fe80::1: hop limit, lifetime (s), reachable time (ms), source link-layer option. */
function routerAdvertisement(hopLimit: number, lifetime: number, reachable = 0, extra: number[] = []): Uint8Array {
  const body = new Uint8Array(8 + 8 + extra.length);
  body[0] = reachable >>> 24; body[1] = reachable >>> 16; body[2] = reachable >>> 8; body[3] = reachable;
  body.set([ND_OPT_SOURCE_LLA, 1, 0x02, 0, 0, 0, 0, 0x01], 8);
  body.set(extra, 16);
  const m = icmpv6Message(ROUTER_LL, IPV6_ALL_NODES, ICMPV6_ROUTER_ADVERTISEMENT, 0, ((hopLimit << 24) | lifetime) >>> 0, body);
  return ipv6Frame(multicastMacOf(IPV6_ALL_NODES), ROUTER_MAC, ROUTER_LL, IPV6_ALL_NODES, NH_ICMPV6, m, { hopLimit: 255 });
}

describe('duplicate address detection (RFC 4862 5.4)', () => {
  it('at start: an MLD report from ::, then one DAD solicitation per address from :: to its solicited-node group, no link-layer option', () => {
    const s = setup6({ started: false });
    s.host.startIpv6(T0);
    const out = s.sent();
    expect(out).toHaveLength(3);
    // The MLD report goes first: hop-by-hop with Router Alert, hop limit 1, to ff02::16, from ::.
    expect(out[0].nextHeader).toBe(NH_HOP_BY_HOP);
    expect([out[0].src, out[0].dst, ipv6HopLimit(out[0].frame, ETH_HEADER_LEN)]).toEqual(['::', 'ff02::16', 1]);
    const report = ICMP + 8;
    expect(out[0].frame[report]).toBe(ICMPV6_MLDV2_REPORT);
    expect(icmpv6ChecksumValid(out[0].frame, ETH_HEADER_LEN, report, out[0].frame.length - report)).toBe(true);
    // One record: fe80::ff:fe00:4 and fd00:10:10::4 share the solicited-node group ff02::1:ff00:4.
    expect(out[0].frame[report + 7]).toBe(1);
    expect(formatIpv6(readIpv6(out[0].frame, report + 12, ipv6(0, 0, 0, 0)))).toBe('ff02::1:ff00:4');
    expect(out[0].frame[report + 8]).toBe(MLD_CHANGE_TO_EXCLUDE);
    const dad = out.slice(1);
    expect(dad.map((f) => [f.type, f.src, f.dst, f.ethDst])).toEqual([
      [ICMPV6_NEIGHBOR_SOLICITATION, '::', formatIpv6(solicitedNodeOf(OUR_LL)), multicastMacOf(solicitedNodeOf(OUR_LL))],
      [ICMPV6_NEIGHBOR_SOLICITATION, '::', formatIpv6(solicitedNodeOf(OUR_IP6)), multicastMacOf(solicitedNodeOf(OUR_IP6))],
    ]);
    for (const f of dad) {
      expect(f.frame.length).toBe(ICMP + ND_NS_NA_LEN); // no source link-layer option from ::
      expect(ipv6HopLimit(f.frame, ETH_HEADER_LEN)).toBe(255);
    }
    expect(s.nd.addresses.entries.map((e) => e.state)).toEqual(['TENTATIVE', 'TENTATIVE']);
  });

  it('a tentative address takes nothing but DAD messages; after RetransTimer (1 s) without an answer it is PREFERRED', () => {
    const s = setup6({ started: false });
    s.host.startIpv6(T0);
    s.sent();
    s.rx(ping(), T0 + 10);
    expect(s.c('drop_ipv6_tentative')).toBe(1);
    // A solicitation for it from a real address is silently ignored (RFC 4862 5.4.3).
    s.rx(ndFrame(135, PEER_MAC, PEER_IP6, solicitedNodeOf(OUR_IP6), OUR_IP6, { lla: PEER_MAC }), T0 + 20);
    expect(s.sent()).toEqual([]);
    expect(s.host.nextDeadline()).toBe(T0 + 1000);
    s.host.poll(T0 + 999);
    expect(s.nd.addresses.entries[1].state).toBe('TENTATIVE');
    s.host.poll(T0 + 1000);
    expect(s.nd.addresses.entries.map((e) => e.state)).toEqual(['PREFERRED', 'PREFERRED']);
    expect(s.c('nd_dad_ok')).toBe(2);
    s.rx(ping(), T0 + 1001);
    expect(s.c('icmpv6_echo_requests_rx')).toBe(1);
    expect(s.c('nd_pending_packets')).toBe(1); // the reply waits for the peer's MAC
  });

  it("another node's DAD solicitation (from ::) for our tentative address makes it DUPLICATE; it is never used", () => {
    const s = setup6({ started: false });
    s.host.startIpv6(T0);
    s.sent();
    s.rx(ndFrame(135, PEER_MAC, IPV6_UNSPECIFIED, solicitedNodeOf(OUR_IP6), OUR_IP6), T0 + 300);
    s.host.poll(T0 + 1000);
    expect(s.nd.addresses.entries.map((e) => e.state)).toEqual(['PREFERRED', 'DUPLICATE']);
    expect(s.c('nd_dad_duplicates')).toBe(1);
    s.rx(ping(), T0 + 1100);
    expect(s.c('drop_ipv6_not_for_us')).toBe(1);
  });

  it('an advertisement for a tentative address makes it DUPLICATE (RFC 4862 5.4.4)', () => {
    const s = setup6({ started: false });
    s.host.startIpv6(T0);
    s.rx(ndFrame(136, PEER_MAC, OUR_LL, IPV6_ALL_NODES, OUR_LL, { flags: NA_OVERRIDE, lla: PEER_MAC }), T0 + 500);
    s.host.poll(T0 + 1000);
    expect(s.nd.addresses.entries.map((e) => e.state)).toEqual(['DUPLICATE', 'PREFERRED']);
  });

  it('an address added later (an --ip6 change) is TENTATIVE and checked the same way', () => {
    const s = setup6();
    const extra = parseIpv6('2001:db8::4') as Ipv6Address;
    const e = s.nd.addAddress(extra, 64, T0 + 20_000);
    expect(e.state).toBe('TENTATIVE');
    const out = s.sent();
    expect(out.map((f) => [f.type === ICMPV6_NEIGHBOR_SOLICITATION || f.nextHeader === NH_HOP_BY_HOP, f.dst])).toEqual([
      [true, 'ff02::16'],
      [true, formatIpv6(solicitedNodeOf(extra))],
    ]);
    s.host.poll(T0 + 21_000);
    expect(e.state).toBe('PREFERRED');
  });
});

describe('answering solicitations (RFC 4861 7.2.3, 7.2.4)', () => {
  it("answers Linux's solicitation with exactly Linux's advertisement (golden frames), and learns the sender as STALE", () => {
    const [ns, na] = golden('ping6');
    const s = setup6({ mac: MAC_B, settings: { addresses: [{ address: parseIpv6('fd00:99::2') as Ipv6Address, prefixLength: 64 }] } });
    s.rx(ns, T0 + 2000);
    const out = s.wire.take();
    expect(out).toHaveLength(1);
    expect(hex(out[0])).toBe(hex(na));
    expect(s.nd.cache.state(parseIpv6('fd00:99::1') as Ipv6Address, T0 + 2000)).toBe('STALE');
  });

  it('answers a DAD probe for a preferred address to all-nodes, without the S flag', () => {
    const s = setup6();
    s.rx(ndFrame(135, PEER_MAC, IPV6_UNSPECIFIED, solicitedNodeOf(OUR_IP6), OUR_IP6), T0 + 2000);
    const [na] = s.sent();
    expect([na.type, na.dst, na.ethDst]).toEqual([ICMPV6_NEIGHBOR_ADVERTISEMENT, 'ff02::1', multicastMacOf(IPV6_ALL_NODES)]);
    expect(naFlags(na.frame, ICMP)).toBe(NA_OVERRIDE);
  });

  it('drops solicitations that fail validation: hop limit below 255, a multicast target, an option of length 0', () => {
    const s = setup6();
    s.rx(ndFrame(135, PEER_MAC, PEER_IP6, solicitedNodeOf(OUR_IP6), OUR_IP6, { lla: PEER_MAC, hopLimit: 254 }), T0 + 2000);
    s.rx(ndFrame(135, PEER_MAC, PEER_IP6, solicitedNodeOf(OUR_IP6), IPV6_ALL_NODES, { lla: PEER_MAC }), T0 + 2000);
    const bad = ndFrame(135, PEER_MAC, PEER_IP6, solicitedNodeOf(OUR_IP6), OUR_IP6, { lla: PEER_MAC });
    bad[ICMP + ND_NS_NA_LEN + 1] = 0;
    bad[ICMP + 2] = 0; bad[ICMP + 3] = 0; // (checksum recomputed below)
    const sum = icmpv6Message(PEER_IP6, solicitedNodeOf(OUR_IP6), 135, 0, 0, bad.subarray(ICMP + 8));
    bad.set(sum.subarray(2, 4), ICMP + 2);
    s.rx(bad, T0 + 2000);
    expect(s.c('drop_nd_invalid')).toBe(3);
    expect(s.sent().filter((f) => f.type === ICMPV6_NEIGHBOR_ADVERTISEMENT)).toEqual([]);
  });
});

describe('neighbour cache states (RFC 4861 7.3.2, appendix C)', () => {
  it('INCOMPLETE: a reply to an unknown peer waits while a multicast solicitation asks; a solicited advertisement makes it REACHABLE and releases it', () => {
    const s = setup6();
    s.rx(ping(), T0 + 2000);
    const [ns] = s.sent();
    expect([ns.type, ns.src, ns.dst, ns.ethDst]).toEqual([ICMPV6_NEIGHBOR_SOLICITATION, 'fd00:10:10::4', formatIpv6(solicitedNodeOf(PEER_IP6)), multicastMacOf(solicitedNodeOf(PEER_IP6))]);
    expect(ndOptionMac(ns.frame, ndFindOption(ns.frame, ICMP + ND_NS_NA_LEN, ns.frame.length, ND_OPT_SOURCE_LLA))).toBe(OUR_MAC);
    expect(s.nd.cache.state(PEER_IP6, T0 + 2000)).toBe('INCOMPLETE');
    expect(s.c('nd_pending_packets')).toBe(1);
    s.rx(peerNa(), T0 + 2100);
    const [reply] = s.sent();
    expect([reply.type, reply.ethDst, reply.dst]).toEqual([ICMPV6_ECHO_REPLY, PEER_MAC, 'fd00:10:10::3']);
    expect(s.nd.cache.state(PEER_IP6, T0 + 2100)).toBe('REACHABLE');
    expect(s.c('nd_pending_packets')).toBe(0);
  });

  it('INCOMPLETE without an answer: 3 solicitations 1 s apart, then the entry and its queued packets go (counted)', () => {
    const s = setup6();
    s.rx(ping(), T0 + 2000);
    s.rx(ping(), T0 + 2001);
    for (const t of [3000, 4000, 5000]) s.host.poll(T0 + t);
    const ns = s.sent().filter((f) => f.type === ICMPV6_NEIGHBOR_SOLICITATION);
    expect(ns).toHaveLength(3);
    expect(s.nd.cache.state(PEER_IP6, T0 + 5000)).toBeUndefined();
    expect([s.c('nd_resolve_failed'), s.c('drop_nd_unresolved')]).toEqual([1, 2]);
  });

  it('REACHABLE → STALE after ReachableTime; a packet moves STALE to DELAY and is sent at once; DELAY → PROBE after 5 s with unicast probes; no answer deletes it', () => {
    const s = setup6();
    s.rx(ping(), T0 + 2000);
    s.rx(peerNa(), T0 + 2000);
    s.sent();
    expect(s.nd.cache.state(PEER_IP6, T0 + 2000 + 29_999)).toBe('REACHABLE');
    expect(s.nd.cache.state(PEER_IP6, T0 + 2000 + 30_000)).toBe('STALE');
    const t = T0 + 40_000;
    s.rx(ping(), t);
    expect(s.sent().map((f) => [f.type, f.ethDst])).toEqual([[ICMPV6_ECHO_REPLY, PEER_MAC]]);
    expect(s.nd.cache.state(PEER_IP6, t)).toBe('DELAY');
    s.host.poll(t + 4999);
    expect(s.nd.cache.state(PEER_IP6, t + 4999)).toBe('DELAY');
    s.host.poll(t + 5000);
    expect(s.nd.cache.state(PEER_IP6, t + 5000)).toBe('PROBE');
    s.host.poll(t + 6000);
    s.host.poll(t + 7000);
    const probes = s.sent().filter((f) => f.type === ICMPV6_NEIGHBOR_SOLICITATION);
    expect(probes.map((f) => [f.ethDst, f.dst])).toEqual([[PEER_MAC, 'fd00:10:10::3'], [PEER_MAC, 'fd00:10:10::3'], [PEER_MAC, 'fd00:10:10::3']]);
    s.host.poll(t + 8000);
    expect(s.nd.cache.state(PEER_IP6, t + 8000)).toBeUndefined();
    expect(s.c('nd_probe_failures')).toBe(1);
  });

  it('a solicited advertisement during PROBE confirms it: REACHABLE, probing stops', () => {
    const s = setup6();
    s.rx(ndFrame(135, PEER_MAC, PEER_IP6, solicitedNodeOf(OUR_IP6), OUR_IP6, { lla: PEER_MAC }), T0 + 2000);
    expect(s.nd.cache.state(PEER_IP6, T0 + 2000)).toBe('STALE');
    s.rx(ping(), T0 + 3000);
    s.host.poll(T0 + 8000);
    expect(s.nd.cache.state(PEER_IP6, T0 + 8000)).toBe('PROBE');
    s.rx(peerNa(), T0 + 8100);
    expect(s.nd.cache.state(PEER_IP6, T0 + 8100)).toBe('REACHABLE');
    s.sent();
    s.host.poll(T0 + 9100);
    expect(s.sent().filter((f) => f.type === ICMPV6_NEIGHBOR_SOLICITATION && f.dst === 'fd00:10:10::3')).toEqual([]);
  });

  it('an advertisement without override and a new MAC: a REACHABLE entry goes STALE and keeps its MAC; with override the MAC changes', () => {
    const s = setup6();
    s.rx(ping(), T0 + 2000);
    s.rx(peerNa(), T0 + 2000);
    const other = 0x020000000099;
    s.rx(peerNa(NA_SOLICITED, other), T0 + 2100);
    expect(s.nd.cache.state(PEER_IP6, T0 + 2100)).toBe('STALE');
    expect(s.nd.cache.snapshot(T0 + 2100)[0].mac).toBe(PEER_MAC);
    s.rx(peerNa(NA_SOLICITED | NA_OVERRIDE, other), T0 + 2200);
    expect(s.nd.cache.snapshot(T0 + 2200)[0]).toMatchObject({ mac: other, state: 'REACHABLE' });
  });

  it('an unsolicited advertisement for an unknown address creates nothing (7.2.5)', () => {
    const s = setup6();
    s.rx(peerNa(NA_OVERRIDE), T0 + 2000);
    expect(s.nd.cache.size).toBe(0);
  });

  it('holds at most maxEntries, evicting the oldest (counted)', () => {
    const s = setup6({ limits: { neighbourCache: { maxEntries: 2 } } });
    for (let i = 1; i <= 3; i++) {
      const a = parseIpv6(`fd00:10:10::${10 + i}`) as Ipv6Address;
      s.rx(ndFrame(135, PEER_MAC + i, a, solicitedNodeOf(OUR_IP6), OUR_IP6, { lla: PEER_MAC + i }), T0 + 2000 + i);
    }
    expect(s.nd.cache.size).toBe(2);
    expect(s.c('nd_cache_evictions')).toBe(1);
    expect(s.nd.cache.snapshot(T0 + 3000).map((r) => formatIpv6(r.address))).toEqual(['fd00:10:10::12', 'fd00:10:10::13']);
  });

  it('addresses whose hashes collide keep separate entries; evicting or deleting one leaves the others found', () => {
    // Two pairs of addresses with equal 30-bit hashes (birthday search, words 2 and 3 = w).
    const seen = new Map<number, number>();
    const pairs: [Ipv6Address, Ipv6Address][] = [];
    for (let w = 1; pairs.length < 2; w++) {
      const h = hashWords(0xfd000010, 0x00100000, w, w);
      const other = seen.get(h);
      if (other !== undefined) pairs.push([ipv6(0xfd000010, 0x00100000, other, other), ipv6(0xfd000010, 0x00100000, w, w)]);
      else seen.set(h, w);
    }
    const counters = newCounters();
    const cache = new NeighbourCache(counters, { solicit() {}, release() {} }, { maxEntries: 3 });
    const [[a, b], [c, d]] = pairs;
    cache.learn(a, 0xa, 0);
    cache.learn(b, 0xb, 1);
    cache.learn(c, 0xc, 2);
    expect([a, b, c].map((x) => cache.resolve(x, 3))).toEqual([0xa, 0xb, 0xc]);
    cache.learn(d, 0xd, 4); // evicts a, the tail of its chain (b is the head)
    expect(counters[C.nd_cache_evictions]).toBe(1);
    expect(cache.state(a, 5)).toBeUndefined();
    expect([b, c, d].map((x) => cache.resolve(x, 5))).toEqual([0xb, 0xc, 0xd]);
    cache.learn(a, 0xa, 6); // evicts b: its chain is now empty
    expect(cache.state(b, 7)).toBeUndefined();
    expect([a, c, d].map((x) => cache.resolve(x, 7))).toEqual([0xa, 0xc, 0xd]);
    for (let t = 7; t <= 20_000; t += 500) cache.poll(t); // DELAY → PROBE → deleted, one at a time
    expect(cache.size).toBe(0);
    expect(counters[C.nd_probe_failures]).toBe(3);
    expect([a, b, c, d].map((x) => cache.state(x, 20_000))).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('routers (RFC 4861 6.3.4, 6.3.7)', () => {
  it('once the link-local address is usable: up to 3 router solicitations 4 s apart, from it, with our link-layer address', () => {
    const s = setup6({ started: false });
    s.host.startIpv6(T0);
    s.sent();
    for (const t of [1000, 5000, 9000, 13000, 17000]) s.host.poll(T0 + t);
    const rs = s.sent().filter((f) => f.type === ICMPV6_ROUTER_SOLICITATION);
    expect(rs.map((f) => [f.src, f.dst, f.ethDst])).toEqual(Array(3).fill([formatIpv6(OUR_LL), formatIpv6(IPV6_ALL_ROUTERS), multicastMacOf(IPV6_ALL_ROUTERS)]));
    expect(s.c('nd_rs_tx')).toBe(3);
  });

  it('an advertisement stops the solicitations, becomes the default router for its lifetime, and sets hop limit and reachable time', () => {
    const s = setup6();
    s.rx(routerAdvertisement(200, 30, 12_000), T0 + 2000);
    expect(s.nd.routers.map((r) => [formatIpv6(r.address), r.expires])).toEqual([['fe80::1', T0 + 2000 + 30_000]]);
    expect(s.nd.hopLimit).toBe(200);
    expect(s.nd.cache.limits.reachableMs).toBe(12_000);
    expect(s.nd.cache.state(ROUTER_LL, T0 + 2000)).toBe('STALE');
    s.sent();
    s.host.poll(T0 + 5000);
    expect(s.sent().filter((f) => f.type === ICMPV6_ROUTER_SOLICITATION)).toEqual([]);
    // An off-link peer is reached through the router, with the advertised hop limit.
    const far = parseIpv6('2001:db8::9') as Ipv6Address;
    s.rx(echo6Frame(OUR_MAC, ROUTER_MAC, far, OUR_IP6, 1, 1, DATA), T0 + 6000);
    const [reply] = s.sent();
    expect([reply.type, reply.ethDst, reply.dst, ipv6HopLimit(reply.frame, ETH_HEADER_LEN)]).toEqual([ICMPV6_ECHO_REPLY, ROUTER_MAC, '2001:db8::9', 200]);
    s.host.poll(T0 + 32_000);
    expect(s.nd.routers).toEqual([]);
    s.rx(echo6Frame(OUR_MAC, ROUTER_MAC, far, OUR_IP6, 1, 2, DATA), T0 + 33_000);
    expect(s.c('drop_ipv6_no_route')).toBe(1);
  });

  it('lifetime 0 removes a router; --gateway6 wins over advertised routers; only link-local sources count', () => {
    const s = setup6({ settings: { gateway: PEER_LL } });
    s.rx(routerAdvertisement(64, 1800), T0 + 2000);
    expect(s.nd.nextHop(parseIpv6('2001:db8::9') as Ipv6Address)).toEqual(PEER_LL);
    s.rx(routerAdvertisement(64, 0), T0 + 2100);
    expect(s.nd.routers).toEqual([]);
    const notLinkLocal = parseIpv6('fd00:10:10::1') as Ipv6Address;
    const m = icmpv6Message(notLinkLocal, IPV6_ALL_NODES, ICMPV6_ROUTER_ADVERTISEMENT, 0, ((64 << 24) | 1800) >>> 0, new Uint8Array(8));
    s.rx(ipv6Frame(multicastMacOf(IPV6_ALL_NODES), ROUTER_MAC, notLinkLocal, IPV6_ALL_NODES, NH_ICMPV6, m, { hopLimit: 255 }), T0 + 2200);
    expect(s.nd.routers).toEqual([]);
    expect(s.c('drop_nd_invalid')).toBe(1);
  });
});

describe('MLDv2 (RFC 3810)', () => {
  it('answers a query with a report of our groups (MODE_IS_EXCLUDE), at most one per second', () => {
    const s = setup6();
    const query = () => {
      const m = icmpv6Message(ROUTER_LL, IPV6_ALL_NODES, ICMPV6_MLD_QUERY, 0, 0x03e80000, new Uint8Array(20));
      return ipv6Frame(multicastMacOf(IPV6_ALL_NODES), ROUTER_MAC, ROUTER_LL, IPV6_ALL_NODES, NH_ICMPV6, m, { hopLimit: 1 });
    };
    s.rx(query(), T0 + 2000);
    s.host.poll(T0 + 2000);
    s.rx(query(), T0 + 2100);
    s.host.poll(T0 + 2100);
    const reports = decode6(s.wire.take()).filter((f) => f.nextHeader === NH_HOP_BY_HOP);
    expect(reports.map((f) => [f.src, f.frame[ICMP + 8 + 8]])).toEqual([[formatIpv6(OUR_LL), MLD_MODE_IS_EXCLUDE]]);
    s.host.poll(T0 + 3000);
    expect(decode6(s.wire.take()).filter((f) => f.nextHeader === NH_HOP_BY_HOP)).toHaveLength(1);
    expect(s.c('mld_queries_rx')).toBe(2);
  });

  it('accepts frames to the groups it listens to and no other multicast MAC', () => {
    const s = setup6();
    const other = parseIpv6('ff02::1:ff99:9999') as Ipv6Address;
    s.rx(echo6Frame(multicastMacOf(other), PEER_MAC, PEER_IP6, other, 1, 1, DATA), T0 + 2000);
    expect(s.c('drop_eth_not_for_us')).toBe(1);
    s.rx(echo6Frame(multicastMacOf(IPV6_ALL_NODES), PEER_MAC, PEER_LL, IPV6_ALL_NODES, 1, 1, DATA), T0 + 2000);
    expect(s.c('icmpv6_echo_requests_rx')).toBe(1);
  });
});

describe('a shard that does not speak for the interface (decision 0030)', () => {
  it('sends nothing at start; its addresses stay TENTATIVE (a ping is dropped) until shard 0\'s DAD had time to hear an answer (2 × RetransTimer), then PREFERRED', () => {
    const s = setup6({ speaks: false, started: false });
    s.host.startIpv6(T0);
    s.host.poll(T0 + 1000);
    expect(s.nd.addresses.entries.map((e) => e.state)).toEqual(['TENTATIVE', 'TENTATIVE']);
    s.rx(ping(), T0 + 1500);
    expect(s.c('drop_ipv6_tentative')).toBe(1);
    expect(s.host.nextDeadline()).toBeLessThanOrEqual(T0 + 2000);
    s.host.poll(T0 + 2000);
    expect(s.nd.addresses.entries.map((e) => e.state)).toEqual(['PREFERRED', 'PREFERRED']);
    expect(s.sent()).toEqual([]); // no DAD probe, RS or MLD report: shard 0 sends them
  });

  it('an advertisement defending its tentative address (the answer to shard 0\'s probe) makes it DUPLICATE here too; it is never used', () => {
    const s = setup6({ speaks: false, started: false });
    s.host.startIpv6(T0);
    s.rx(ndFrame(136, PEER_MAC, OUR_IP6, IPV6_ALL_NODES, OUR_IP6, { flags: NA_OVERRIDE, lla: PEER_MAC }), T0 + 300);
    s.host.poll(T0 + 5000);
    expect(s.nd.addresses.entries.map((e) => e.state)).toEqual(['PREFERRED', 'DUPLICATE']);
    s.rx(ping(), T0 + 5000);
    expect(s.sent()).toEqual([]);
  });

  it('a defence heard before the shard started keeps the address DUPLICATE after start', () => {
    const s = setup6({ speaks: false, started: false });
    s.rx(ndFrame(136, PEER_MAC, OUR_IP6, IPV6_ALL_NODES, OUR_IP6, { flags: NA_OVERRIDE, lla: PEER_MAC }), T0 - 5);
    s.host.startIpv6(T0);
    s.host.poll(T0 + 5000);
    expect(s.nd.addresses.entries.map((e) => e.state)).toEqual(['PREFERRED', 'DUPLICATE']);
  });

  it('an address added at run time is TENTATIVE here for 2 × RetransTimer, without a probe; another node\'s DAD probe for it makes it DUPLICATE', () => {
    const s = setup6({ speaks: false });
    const a = parseIpv6('fd00:10:10::9') as Ipv6Address;
    const b = parseIpv6('fd00:10:10::a') as Ipv6Address;
    s.nd.addAddress(a, 64, T0 + 3000);
    s.nd.addAddress(b, 64, T0 + 3000);
    s.rx(ndFrame(135, PEER_MAC, IPV6_UNSPECIFIED, solicitedNodeOf(b), b, {}), T0 + 3500);
    s.host.poll(T0 + 4999);
    expect([s.nd.addresses.find(a)?.state, s.nd.addresses.find(b)?.state]).toEqual(['TENTATIVE', 'DUPLICATE']);
    s.host.poll(T0 + 5000);
    expect([s.nd.addresses.find(a)?.state, s.nd.addresses.find(b)?.state]).toEqual(['PREFERRED', 'DUPLICATE']);
    expect(s.sent().filter((f) => f.type === ICMPV6_NEIGHBOR_SOLICITATION || f.type === ICMPV6_MLDV2_REPORT)).toEqual([]);
  });

  it('learns from solicitations without answering; resolves its own next hops', () => {
    const s = setup6({ speaks: false, started: false });
    s.host.startIpv6(T0);
    s.host.poll(T0 + 5000);
    expect(s.sent()).toEqual([]);
    expect(s.nd.addresses.entries.map((e) => e.state)).toEqual(['PREFERRED', 'PREFERRED']);
    s.rx(ndFrame(135, PEER_MAC, PEER_IP6, solicitedNodeOf(OUR_IP6), OUR_IP6, { lla: PEER_MAC }), T0 + 6000);
    expect(s.sent()).toEqual([]); // shard 0 answers
    expect(s.nd.cache.state(PEER_IP6, T0 + 6000)).toBe('STALE');
    const other = parseIpv6('fd00:10:10::7') as Ipv6Address;
    s.rx(echo6Frame(OUR_MAC, 0x020000000007, other, OUR_IP6, 1, 1, new Uint8Array(8)), T0 + 6000);
    const [ns] = s.sent();
    expect([ns.type, ns.dst]).toEqual([ICMPV6_NEIGHBOR_SOLICITATION, formatIpv6(solicitedNodeOf(other))]);
  });
});
