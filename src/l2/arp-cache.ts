/**
 * ARP cache: IPv4 address → MAC address, bounded in size and age.
 *
 * RFC 826 ("Packet Reception": merge, then add if the request was for us), RFC 1122
 * 2.3.2.1 (flush stale entries by timeout). Entries expire `ttlMs` after they were last
 * confirmed by an ARP packet from that host; when the cache is full the least recently
 * confirmed entry is evicted (and counted). A Map keeps insertion order, so re-inserting
 * on refresh makes the first key the oldest: eviction and expiry are O(1) per entry.
 */
import { C, type Counters } from '../stack/counters.js';

/** Limits of the ARP cache. */
export interface ArpCacheLimits {
  /** Most entries kept (Linux gc_thresh3 is 1024; a host on one LAN needs far fewer). */
  maxEntries: number;
  /** How long an entry stays valid after the last ARP packet from that host. */
  ttlMs: number;
}

/** Defaults: 256 entries, 60 s (smoltcp uses 60 s; Linux's reachable time is 15–45 s plus stale use). */
export const DEFAULT_ARP_CACHE_LIMITS: ArpCacheLimits = { maxEntries: 256, ttlMs: 60_000 };

interface Entry {
  mac: number;
  expires: number;
}

/** The neighbour table of one worker. */
export class ArpCache {
  private readonly entries = new Map<number, Entry>();
  private readonly limits: ArpCacheLimits;

  constructor(private readonly counters: Counters, limits: Partial<ArpCacheLimits> = {}) {
    this.limits = { ...DEFAULT_ARP_CACHE_LIMITS, ...limits };
  }

  /** Number of entries (for /stats). */
  get size(): number {
    return this.entries.size;
  }

  /** MAC of `ip`, or -1 when unknown or expired. */
  lookup(ip: number, now: number): number {
    const e = this.entries.get(ip);
    if (e === undefined) return -1;
    if (e.expires <= now) {
      this.entries.delete(ip);
      this.counters[C.arp_cache_entries] = this.entries.size;
      return -1;
    }
    return e.mac;
  }

  /** True if `ip` has an entry (RFC 826 "merge" updates only existing entries). */
  has(ip: number): boolean {
    return this.entries.has(ip);
  }

  /** Adds or refreshes `ip` → `mac`, valid for ttlMs from `now`. */
  set(ip: number, mac: number, now: number): void {
    const e = this.entries.get(ip);
    if (e !== undefined) {
      // Refresh: move to the back of the insertion order (youngest).
      this.entries.delete(ip);
      e.mac = mac;
      e.expires = now + this.limits.ttlMs;
      this.entries.set(ip, e);
      return;
    }
    if (this.entries.size >= this.limits.maxEntries) {
      const oldest = this.entries.keys().next().value as number;
      this.entries.delete(oldest);
      this.counters[C.arp_cache_evictions]++;
    }
    this.entries.set(ip, { mac, expires: now + this.limits.ttlMs });
    this.counters[C.arp_cache_entries] = this.entries.size;
  }

  /** Drops expired entries. */
  expire(now: number): void {
    for (const [ip, e] of this.entries) {
      if (e.expires > now) break; // insertion order is expiry order
      this.entries.delete(ip);
    }
    this.counters[C.arp_cache_entries] = this.entries.size;
  }

  /** Earliest expiry, or Infinity. */
  nextDeadline(): number {
    for (const e of this.entries.values()) return e.expires;
    return Infinity;
  }

  /** Snapshot for control/debugging: [ip, mac, expires] rows. */
  entriesSnapshot(): Array<[number, number, number]> {
    return [...this.entries].map(([ip, e]) => [ip, e.mac, e.expires]);
  }
}
