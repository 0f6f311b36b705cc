/**
 * Configuration of one instance of the protocol core (one per shard worker).
 */
import type { LinkCapabilities } from './link.js';
import { type Ipv6Address, formatIpv6, ipv6IsMulticast, ipv6IsUnspecified, parseIpv6 } from '../wire/ipv6-address.js';

/** One IPv6 address of ours and the length of its on-link prefix (--ip6 ADDR/PREFIX). */
export interface Ipv6Assignment {
  address: Ipv6Address;
  prefixLength: number;
}

/**
 * Parses "ADDR[/PREFIX]" (prefix 1..128, 64 when left out) into an assignment of a
 * unicast address, or returns why it is not one (a line to show after the flag or route).
 */
export function parseIpv6Assignment(text: string): Ipv6Assignment | string {
  const slash = text.indexOf('/');
  const address = parseIpv6(slash < 0 ? text : text.slice(0, slash));
  const prefixText = slash < 0 ? '64' : text.slice(slash + 1);
  if (address === null || !/^\d{1,3}$/.test(prefixText)) return `'${text}' is not an IPv6 address with an optional /prefix`;
  const prefixLength = Number(prefixText);
  if (prefixLength < 1 || prefixLength > 128) return `prefix /${prefixLength} is out of range (1..128)`;
  if (ipv6IsMulticast(address) || ipv6IsUnspecified(address)) return `${formatIpv6(address)} is not a unicast address`;
  return { address, prefixLength };
}

/**
 * IPv6 settings. The link-local address (fe80::/64 from the MAC) is not listed: the core
 * always derives and adds it first.
 */
export interface Ipv6Settings {
  /** Addresses given with --ip6, in order. */
  addresses: Ipv6Assignment[];
  /** --gateway6: the default router; null: default routers come from router advertisements. */
  gateway: Ipv6Address | null;
}

/** What a Host needs to know about itself. Addresses are uint32, MACs 48-bit numbers. */
export interface HostConfig {
  /** Our MAC address. */
  mac: number;
  /** Our IPv4 address. */
  ip: number;
  /** Prefix length of our subnet (e.g. 24). */
  prefixLength: number;
  /** Default gateway, or 0 for none (off-subnet destinations are then unreachable). */
  gateway: number;
  /**
   * Static routes beside the subnet and the default gateway (l3/route-table.ts: longest
   * prefix wins); each gateway is on our subnet. Omitted: none.
   */
  routes?: readonly StaticRoute[];
  /** IP MTU of the link (bytes of IPv4 datagram per frame), 68..65535. */
  mtu: number;
  /** This worker's shard index (0-based) and the number of shards. */
  shardIndex: number;
  shardCount: number;
  /**
   * Whether this instance answers ARP requests for our address. Every worker sees every
   * ARP frame (so each learns its neighbours) but exactly one answers. The same instance
   * speaks for IPv6 neighbour discovery (DAD, router solicitations, MLD, advertisements).
   */
  answersArp: boolean;
  /** TTL of datagrams we send (RFC 1122 3.2.1.7: 64 is the recommended default). */
  ttl: number;
  /**
   * What the link device offloads (checksums it completes, TCP super-frames it segments);
   * omitted: nothing, every frame leaves complete.
   */
  device?: LinkCapabilities;
  /**
   * IPv6 (every shard: TCP and UDP flows are steered by their 4-tuple, neighbour
   * discovery frames to every shard, the rest to shard 0; base/flow-hash.ts, decision
   * 0030); omitted, or an MTU below 1280 (RFC 8200 5): IPv6 frames are dropped as an
   * unknown type.
   */
  ipv6?: Ipv6Settings;
}

/** A route to dest/prefixLength through `gateway` (all uint32 addresses). */
export interface StaticRoute {
  dest: number;
  prefixLength: number;
  gateway: number;
}

/** Most static routes a host takes (the lookup scans them on every datagram sent off the subnet). */
export const MAX_STATIC_ROUTES = 64;

/** Defaults matching the course lab: 10.10.0.4/24, MTU 1500. */
export const DEFAULT_TTL = 64;
