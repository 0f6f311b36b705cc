/**
 * Configuration of one instance of the protocol core (one per shard worker).
 */
import type { LinkCapabilities } from './link.js';

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
   * ARP frame (so each learns its neighbours) but exactly one answers.
   */
  answersArp: boolean;
  /** TTL of datagrams we send (RFC 1122 3.2.1.7: 64 is the recommended default). */
  ttl: number;
  /**
   * What the link device offloads (checksums it completes, TCP super-frames it segments);
   * omitted: nothing, every frame leaves complete.
   */
  device?: LinkCapabilities;
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
