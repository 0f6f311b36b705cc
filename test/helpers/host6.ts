/**
 * A Host with IPv6 on a virtual wire with a virtual clock, for the IPv6 unit tests: our
 * MAC 02:00:00:00:00:04 with fd00:10:10::4/64 (and the link-local fe80::ff:fe00:4), a peer
 * 02:00:00:00:00:03 at fd00:10:10::3, and readers of what the host sent.
 */
import { Host, type HostLimits } from '../../src/iface/host.js';
import type { ForeignDatagramSink } from '../../src/l3/ipv4-input.js';
import { C, newCounters } from '../../src/base/counters.js';
import type { Ipv6Settings } from '../../src/base/host-config.js';
import { parseIpv4, parseMac } from '../../src/wire/addresses.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV6, ethDst, ethType } from '../../src/wire/ethernet.js';
import { type Ipv6Address, formatIpv6, ipv6, linkLocalFromMac, parseIpv6, readIpv6 } from '../../src/wire/ipv6-address.js';
import { IPV6_DST_OFFSET, IPV6_HEADER_LEN, IPV6_NEXT_HEADER_OFFSET, IPV6_SRC_OFFSET } from '../../src/wire/ipv6.js';
import { VirtualWire } from './virtual-wire.js';

export const OUR_MAC = parseMac('02:00:00:00:00:04');
export const PEER_MAC = parseMac('02:00:00:00:00:03');
export const OUR_IP6 = parseIpv6('fd00:10:10::4') as Ipv6Address;
export const PEER_IP6 = parseIpv6('fd00:10:10::3') as Ipv6Address;
export const OUR_LL = linkLocalFromMac(OUR_MAC);
export const PEER_LL = linkLocalFromMac(PEER_MAC);
export const ROUTER_LL = parseIpv6('fe80::1') as Ipv6Address;
export const ROUTER_MAC = parseMac('02:00:00:00:00:01');
/** Start of the clock in the tests (ms). */
export const T0 = 10_000;

/** One sent IPv6 frame, decoded enough to assert on. */
export interface Sent6 {
  frame: Uint8Array;
  ethDst: number;
  src: string;
  dst: string;
  nextHeader: number;
  /** First byte after the fixed header (the ICMPv6 type when nextHeader is 58). */
  type: number;
}

/** Decodes the IPv6 frames among `frames` (others are left out). */
export function decode6(frames: Uint8Array[]): Sent6[] {
  const a = ipv6(0, 0, 0, 0);
  return frames.filter((f) => ethType(f, 0) === ETHERTYPE_IPV6).map((f) => ({
    frame: f,
    ethDst: ethDst(f, 0),
    src: formatIpv6(readIpv6(f, ETH_HEADER_LEN + IPV6_SRC_OFFSET, a)),
    dst: formatIpv6(readIpv6(f, ETH_HEADER_LEN + IPV6_DST_OFFSET, a)),
    nextHeader: f[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET],
    type: f[ETH_HEADER_LEN + IPV6_HEADER_LEN],
  }));
}

/**
 * A Host with IPv6; `started`: DAD has run and passed (the frames it sent are taken);
 * `speaks: false`: a shard other than 0 (no DAD probe, RS, MLD or advertisements, decision 0030).
 */
export function setup6(opts: { settings?: Partial<Ipv6Settings>; limits?: HostLimits; started?: boolean; mac?: number; speaks?: boolean; shard?: [index: number, count: number]; foreign?: ForeignDatagramSink } = {}) {
  const wire = new VirtualWire();
  const counters = newCounters();
  const mac = opts.mac ?? OUR_MAC;
  const ipv6Settings: Ipv6Settings = { addresses: [{ address: OUR_IP6, prefixLength: 64 }], gateway: null, ...opts.settings };
  const host = new Host(
    { mac, ip: parseIpv4('10.10.0.4'), prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: opts.shard?.[0] ?? 0, shardCount: opts.shard?.[1] ?? 1, answersArp: opts.speaks ?? true, ttl: 64, ipv6: ipv6Settings },
    wire, counters, opts.foreign ?? (() => {}), opts.limits ?? {},
  );
  const rx = (f: Uint8Array, now: number) => host.receive(f, 0, f.length, now);
  const c = (name: keyof typeof C) => counters[C[name]];
  const sent = () => decode6(wire.take());
  const nd = host.nd;
  if (nd === null) throw new Error('no IPv6 in the host');
  if (opts.started ?? true) {
    host.startIpv6(T0);
    host.poll(T0 + ((opts.speaks ?? true) ? 1000 : 2000)); // a non-speaking shard waits 2 × RetransTimer (NdLayer.watchDad)
    wire.take();
  }
  return { wire, counters, host, nd, rx, c, sent };
}
