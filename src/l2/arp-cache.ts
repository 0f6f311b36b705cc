/**
 * ARP cache: IPv4 address → MAC address with Linux-like neighbour states, bounded in size.
 *
 * RFC 826 ("Packet Reception": merge, then add if the request was for us); RFC 1122
 * 2.3.2.1 (prevent stale entries: option (2) "Unicast Poll" — actively poll a cached
 * neighbour with unicast requests and delete the entry when it does not answer — and
 * time out entries); Linux's neighbour states (net/core/neighbour.c, NUD_*):
 *
 *  REACHABLE  confirmed (an ARP packet from that host) less than reachableMs ago.
 *  STALE      older, and still used for sending: live traffic never waits for ARP. The
 *             first use starts a refresh (PROBE). An unused STALE entry stays until
 *             gcStaleMs after its last confirmation (garbage collected, counted) or until
 *             the size cap evicts it.
 *  PROBE      still used for sending while the ARP layer polls the cached MAC with up to
 *             maxProbes unicast requests, probeIntervalMs apart (Linux ucast_solicit 3,
 *             retrans_time 1 s). A confirmation makes it REACHABLE; no answer after the
 *             last probe deletes it (counted) and the next packet resolves by broadcast.
 *
 * Differences from Linux: no DELAY state (Linux waits delay_first_probe_time, 5 s, for
 * upper-layer advice such as TCP ACKs before probing; we take no such advice and probe at
 * once); a fixed reachable time instead of a random 15–45 s; garbage collection by age
 * since the last confirmation (an entry in use is confirmed or deleted by its probes).
 *
 * A Map keeps insertion order and a confirmation re-inserts, so the first key is the
 * least recently confirmed: GC and eviction are O(1) per entry. Entries being probed are
 * also in a second map (at most the neighbours in use at one time).
 */
import { C, type Counters } from '../base/counters.js';

/** Limits of the ARP cache. */
export interface ArpCacheLimits {
  /** Most entries kept (Linux gc_thresh3 is 1024; a host on one LAN needs far fewer). */
  maxEntries: number;
  /** How long an entry is REACHABLE after the last ARP packet from that host. */
  reachableMs: number;
  /** An entry not confirmed for this long (so not in use) is garbage collected. */
  gcStaleMs: number;
  /** Unicast requests sent to a STALE entry in use before deleting it (Linux ucast_solicit). */
  maxProbes: number;
  /** Time between those requests (Linux retrans_time). */
  probeIntervalMs: number;
}

/**
 * Defaults: 256 entries, REACHABLE for 60 s (smoltcp's entry lifetime; Linux's reachable
 * time is 15–45 s), garbage collected after 10 min without confirmation, 3 unicast probes
 * 1 s apart.
 */
export const DEFAULT_ARP_CACHE_LIMITS: ArpCacheLimits = {
  maxEntries: 256, reachableMs: 60_000, gcStaleMs: 600_000, maxProbes: 3, probeIntervalMs: 1000,
};

/** Neighbour state names (Linux NUD_* without the prefix). */
export type NeighbourState = 'REACHABLE' | 'STALE' | 'PROBE';

interface Entry {
  mac: number;
  /** Last confirmation (ms). */
  confirmed: number;
  /** PROBE: unicast requests sent so far, and when the next one (or the verdict) is due. */
  probes: number;
  nextProbe: number;
}

/** Sends one unicast ARP request for `ip` to `mac` (the ARP layer). */
export type ProbeSender = (ip: number, mac: number) => void;

/** The neighbour table of one worker. */
export class ArpCache {
  private readonly entries = new Map<number, Entry>();
  private readonly probing = new Map<number, Entry>();
  private readonly limits: ArpCacheLimits;
  /** The latest time seen (for entriesSnapshot() without a time). */
  private lastNow = 0;

  constructor(private readonly counters: Counters, limits: Partial<ArpCacheLimits> = {}) {
    this.limits = { ...DEFAULT_ARP_CACHE_LIMITS, ...limits };
  }

  /** Number of entries (for /stats). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * MAC of `ip` in any state (REACHABLE, STALE or PROBE), or -1 when unknown. No state
   * changes except dropping an entry past its garbage-collection age.
   */
  lookup(ip: number, now: number): number {
    this.lastNow = now;
    const e = this.entries.get(ip);
    if (e === undefined) return -1;
    if (e.confirmed + this.limits.gcStaleMs <= now && !this.probing.has(ip)) {
      this.remove(ip);
      this.counters[C.arp_cache_gc]++;
      return -1;
    }
    return e.mac;
  }

  /** The neighbour state of `ip` at `now`, or undefined when it has no entry. */
  state(ip: number, now: number): NeighbourState | undefined {
    const e = this.entries.get(ip);
    return e === undefined ? undefined : this.entryState(ip, e, now);
  }

  private entryState(ip: number, e: Entry, now: number): NeighbourState {
    if (this.probing.has(ip)) return 'PROBE';
    return now < e.confirmed + this.limits.reachableMs ? 'REACHABLE' : 'STALE';
  }

  /**
   * A packet is about to use the entry of `ip`: if it is STALE, it goes to PROBE with the
   * first probe due at `now`. Returns true when it did (the caller runs pollProbes).
   */
  startProbe(ip: number, now: number): boolean {
    const e = this.entries.get(ip);
    if (e === undefined || this.probing.has(ip) || now < e.confirmed + this.limits.reachableMs) return false;
    e.probes = 0;
    e.nextProbe = now;
    this.probing.set(ip, e);
    return true;
  }

  /**
   * Sends the probes due at `now` through `send`; an entry whose last probe went
   * unanswered for probeIntervalMs is deleted (arp_probe_failures).
   */
  pollProbes(now: number, send: ProbeSender): void {
    for (const [ip, e] of this.probing) {
      if (e.nextProbe > now) continue;
      if (e.probes >= this.limits.maxProbes) {
        this.remove(ip);
        this.counters[C.arp_probe_failures]++;
        continue;
      }
      e.probes++;
      e.nextProbe = now + this.limits.probeIntervalMs;
      send(ip, e.mac);
    }
  }

  /** True if `ip` has an entry (RFC 826 "merge" updates only existing entries). */
  has(ip: number): boolean {
    return this.entries.has(ip);
  }

  /** Adds or confirms `ip` → `mac`: REACHABLE from `now` (a probe in progress ends). */
  set(ip: number, mac: number, now: number): void {
    const e = this.entries.get(ip);
    if (e !== undefined) {
      // Refresh: move to the back of the insertion order (youngest).
      this.entries.delete(ip);
      this.probing.delete(ip);
      e.mac = mac;
      e.confirmed = now;
      e.probes = 0;
      e.nextProbe = Infinity;
      this.entries.set(ip, e);
      return;
    }
    if (this.entries.size >= this.limits.maxEntries) {
      const oldest = this.entries.keys().next().value as number;
      this.remove(oldest);
      this.counters[C.arp_cache_evictions]++;
    }
    this.entries.set(ip, { mac, confirmed: now, probes: 0, nextProbe: Infinity });
    this.counters[C.arp_cache_entries] = this.entries.size;
  }

  /** Garbage-collects entries not confirmed for gcStaleMs (not those being probed). */
  expire(now: number): void {
    this.lastNow = now;
    const age = this.limits.gcStaleMs;
    for (const [ip, e] of this.entries) {
      if (e.confirmed + age > now) break; // insertion order is confirmation order
      if (this.probing.has(ip)) continue;
      this.entries.delete(ip);
      this.counters[C.arp_cache_gc]++;
    }
    this.counters[C.arp_cache_entries] = this.entries.size;
  }

  /** Earliest garbage collection or probe, or Infinity. */
  nextDeadline(): number {
    let d = Infinity;
    for (const [ip, e] of this.entries) {
      if (this.probing.has(ip)) continue; // its probes decide (expire() skips it too)
      d = e.confirmed + this.limits.gcStaleMs;
      break;
    }
    for (const e of this.probing.values()) if (e.nextProbe < d) d = e.nextProbe;
    return d;
  }

  /**
   * Snapshot for control/debugging: [ip, mac, deadline, state] rows; the deadline is when
   * the state ends unless something happens first (REACHABLE: becomes STALE; STALE: garbage
   * collected; PROBE: the next probe or the verdict). `now` defaults to the latest time
   * the cache saw.
   */
  entriesSnapshot(now = this.lastNow): Array<[number, number, number, NeighbourState]> {
    return [...this.entries].map(([ip, e]) => {
      const st = this.entryState(ip, e, now);
      const deadline = st === 'PROBE' ? e.nextProbe : st === 'REACHABLE' ? e.confirmed + this.limits.reachableMs : e.confirmed + this.limits.gcStaleMs;
      return [ip, e.mac, deadline, st];
    });
  }

  private remove(ip: number): void {
    this.entries.delete(ip);
    this.probing.delete(ip);
    this.counters[C.arp_cache_entries] = this.entries.size;
  }
}
