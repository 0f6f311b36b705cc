/**
 * The IPv6 neighbour cache: address → MAC with the five states of RFC 4861 7.3.2, a small
 * queue of packets per address being resolved (7.2.2), bounded in size.
 *
 *  INCOMPLETE  resolution in progress: multicast solicitations every retransMs, at most
 *              maxMulticastSolicit; then the entry and its queued packets are dropped
 *              (nd_resolve_failed, drop_nd_unresolved).
 *  REACHABLE   confirmed (a solicited advertisement) less than reachableMs ago.
 *  STALE       not known to be reachable; used for sending. The first packet sent moves it
 *              to DELAY. An unused STALE entry is garbage collected after gcStaleMs.
 *  DELAY       a packet was sent to a STALE entry: wait delayFirstProbeMs for a
 *              confirmation (7.3.3), then PROBE.
 *  PROBE       unicast solicitations to the cached MAC every retransMs, at most
 *              maxUnicastSolicit; then the entry is deleted (nd_probe_failures).
 *
 * Events follow RFC 4861 7.2.3 (a solicitation or other message carrying the sender's
 * link-layer address), 7.2.5 (an advertisement; the table of appendix C) and 7.3.3. No
 * upper-layer reachability hints yet (TCP does not run over IPv6 in this slice).
 *
 * Sans-I/O: the cache decides, the ND layer sends through the NeighbourSender it is
 * given. Lookups allocate nothing (every IPv6 send resolves its next hop): entries hang
 * in collision chains under the 30-bit hash of the address's four words (a Map with
 * small-integer keys) and a chain is walked with four word compares per entry; a Set
 * keeps the insertion order that eviction takes the oldest from.
 */
import { C, type Counters } from '../base/counters.js';
import { hashWords } from '../base/ipv6-interner.js';
import { type Ipv6Address, ipv6 } from '../wire/ipv6-address.js';

/** Timers and bounds of the cache (RFC 4861 10 constants as defaults). */
export interface NeighbourCacheLimits {
  maxEntries: number;
  /** REACHABLE_TIME (30 s; a router advertisement may change it). */
  reachableMs: number;
  /** RETRANS_TIMER (1 s; a router advertisement may change it). */
  retransMs: number;
  /** DELAY_FIRST_PROBE_TIME (5 s). */
  delayFirstProbeMs: number;
  /** MAX_MULTICAST_SOLICIT (3). */
  maxMulticastSolicit: number;
  /** MAX_UNICAST_SOLICIT (3). */
  maxUnicastSolicit: number;
  /** An unused STALE entry is deleted this long after it became STALE (10 min, as the ARP cache). */
  gcStaleMs: number;
  /** Packets queued per INCOMPLETE entry (7.2.2: at least one) and over all entries. */
  maxPendingPerEntry: number;
  maxPendingTotal: number;
}

/** Defaults: RFC 4861 section 10, 256 entries, 4 packets queued per address, 64 in all. */
export const DEFAULT_NEIGHBOUR_CACHE_LIMITS: NeighbourCacheLimits = {
  maxEntries: 256, reachableMs: 30_000, retransMs: 1000, delayFirstProbeMs: 5000,
  maxMulticastSolicit: 3, maxUnicastSolicit: 3, gcStaleMs: 600_000, maxPendingPerEntry: 4, maxPendingTotal: 64,
};

/** Neighbour cache states (RFC 4861 7.3.2). */
export type NeighbourCacheState = 'INCOMPLETE' | 'REACHABLE' | 'STALE' | 'DELAY' | 'PROBE';

interface Entry {
  readonly address: Ipv6Address;
  /** hashWords of the address: the chain it hangs in. */
  readonly hash: number;
  /** The next entry with the same hash, or null. */
  next: Entry | null;
  /** -1 while INCOMPLETE. */
  mac: number;
  state: NeighbourCacheState;
  /** When the state's timer fires (ms): next solicitation, REACHABLE → STALE, DELAY → PROBE, GC. */
  deadline: number;
  /** Solicitations sent in this INCOMPLETE or PROBE phase. */
  sent: number;
  isRouter: boolean;
  /** IPv6 packets (from their IPv6 header) waiting for the MAC. */
  pending: Uint8Array[];
}

/** What the cache asks the ND layer to do. */
export interface NeighbourSender {
  /** Send a neighbour solicitation for `target`: to its solicited-node group (mac -1) or unicast to `mac`. */
  solicit(target: Readonly<Ipv6Address>, mac: number): void;
  /** `target` resolved to `mac`: send the packets that waited for it. */
  release(packets: Uint8Array[], mac: number): void;
}

/** A row of snapshot(): address, MAC (-1: none yet), state, when the state's timer fires, router flag. */
export interface NeighbourRow {
  address: Ipv6Address;
  mac: number;
  state: NeighbourCacheState;
  deadline: number;
  isRouter: boolean;
}

/** The neighbour cache of the IPv6 instance. */
export class NeighbourCache {
  /** Entries in insertion order (the first is the oldest, evicted first). */
  private readonly entries = new Set<Entry>();
  /** The head of each hash's collision chain. */
  private readonly chains = new Map<number, Entry>();
  readonly limits: NeighbourCacheLimits;
  private pendingTotal = 0;
  /** Cached earliest deadline (NaN: recompute). */
  private earliest = NaN;

  constructor(private readonly counters: Counters, private readonly sender: NeighbourSender, limits: Partial<NeighbourCacheLimits> = {}) {
    this.limits = { ...DEFAULT_NEIGHBOUR_CACHE_LIMITS, ...limits };
  }

  /** Number of entries. */
  get size(): number {
    return this.entries.size;
  }

  /** The state of `a`'s entry at `now`, or undefined. */
  state(a: Readonly<Ipv6Address>, now: number): NeighbourCacheState | undefined {
    const e = this.find(a);
    if (e === undefined) return undefined;
    this.settle(e, now);
    return e.state;
  }

  /**
   * The MAC to send a packet for `a` to, or -1 when the caller must queue it (enqueue). No
   * entry: one is made INCOMPLETE and the first multicast solicitation goes out. A STALE
   * entry goes to DELAY (RFC 4861 7.3.3).
   */
  resolve(a: Readonly<Ipv6Address>, now: number): number {
    let e = this.find(a);
    if (e === undefined) {
      e = this.insert(ipv6(a[0], a[1], a[2], a[3]), -1, 'INCOMPLETE', now);
      e.sent = 1;
      e.deadline = now + this.limits.retransMs;
      this.sender.solicit(e.address, -1);
      return -1;
    }
    this.settle(e, now);
    if (e.state === 'STALE') this.move(e, 'DELAY', now + this.limits.delayFirstProbeMs);
    return e.mac;
  }

  /** Queues a copy of b[off..off+len) (an IPv6 packet) until `a` resolves; false (counted) when full. */
  enqueue(a: Readonly<Ipv6Address>, b: Uint8Array, off: number, len: number): boolean {
    const e = this.find(a);
    if (e === undefined || e.state !== 'INCOMPLETE' || e.pending.length >= this.limits.maxPendingPerEntry || this.pendingTotal >= this.limits.maxPendingTotal) {
      this.counters[C.drop_nd_pending_full]++;
      return false;
    }
    e.pending.push(b.slice(off, off + len));
    this.pendingTotal++;
    this.counters[C.nd_pending_packets] = this.pendingTotal;
    return true;
  }

  /**
   * A solicitation, router solicitation or advertisement from `a` carried its link-layer
   * address `mac` (RFC 4861 7.2.3, 6.3.4): a new entry is STALE; a changed MAC makes it
   * STALE; an INCOMPLETE entry becomes STALE and releases its queue.
   */
  learn(a: Readonly<Ipv6Address>, mac: number, now: number, isRouter = false): void {
    const e = this.find(a);
    if (e === undefined) {
      this.insert(ipv6(a[0], a[1], a[2], a[3]), mac, 'STALE', now + this.limits.gcStaleMs).isRouter = isRouter;
      return;
    }
    if (isRouter) e.isRouter = true;
    if (e.mac === mac) return;
    e.mac = mac;
    this.move(e, 'STALE', now + this.limits.gcStaleMs);
    this.releaseQueue(e);
  }

  /**
   * A neighbour advertisement for `a` (RFC 4861 7.2.5 and appendix C): `mac` from its target
   * link-layer address option (-1: none), the S, O and R flags.
   */
  advertised(a: Readonly<Ipv6Address>, mac: number, solicited: boolean, override: boolean, isRouter: boolean, now: number): void {
    const e = this.find(a);
    if (e === undefined) return; // 7.2.5: no entry, no new one
    this.settle(e, now);
    if (e.state === 'INCOMPLETE') {
      if (mac < 0) return;
      e.mac = mac;
      e.isRouter = isRouter;
      if (solicited) this.move(e, 'REACHABLE', now + this.limits.reachableMs);
      else this.move(e, 'STALE', now + this.limits.gcStaleMs);
      this.releaseQueue(e);
      return;
    }
    const changed = mac >= 0 && mac !== e.mac;
    if (!override && changed) {
      if (e.state === 'REACHABLE') this.move(e, 'STALE', now + this.limits.gcStaleMs);
      return;
    }
    if (changed) e.mac = mac;
    e.isRouter = isRouter;
    if (solicited) this.move(e, 'REACHABLE', now + this.limits.reachableMs);
    else if (changed) this.move(e, 'STALE', now + this.limits.gcStaleMs);
  }

  /** Runs the timers due at `now`: solicitations, state changes, failures and garbage collection. */
  poll(now: number): void {
    if (!(this.nextDeadline() <= now)) return;
    const l = this.limits;
    for (const e of this.entries) {
      if (e.deadline > now) continue;
      switch (e.state) {
        case 'INCOMPLETE':
          if (e.sent >= l.maxMulticastSolicit) {
            this.counters[C.nd_resolve_failed]++;
            this.counters[C.drop_nd_unresolved] += e.pending.length;
            this.delete(e);
          } else {
            e.sent++;
            e.deadline = now + l.retransMs;
            this.sender.solicit(e.address, -1);
          }
          break;
        case 'REACHABLE':
          this.move(e, 'STALE', e.deadline + l.gcStaleMs);
          break;
        case 'STALE':
          this.delete(e);
          break;
        case 'DELAY':
          this.move(e, 'PROBE', now + l.retransMs);
          e.sent = 1;
          this.sender.solicit(e.address, e.mac);
          break;
        case 'PROBE':
          if (e.sent >= l.maxUnicastSolicit) {
            this.counters[C.nd_probe_failures]++;
            this.delete(e);
          } else {
            e.sent++;
            e.deadline = now + l.retransMs;
            this.sender.solicit(e.address, e.mac);
          }
          break;
      }
    }
    this.earliest = NaN;
  }

  /** The earliest time poll() has work, or Infinity. */
  nextDeadline(): number {
    if (Number.isNaN(this.earliest)) {
      let d = Infinity;
      for (const e of this.entries.values()) if (e.deadline < d) d = e.deadline;
      this.earliest = d;
    }
    return this.earliest;
  }

  /** Entries for control and tests, states as of `now`. */
  snapshot(now: number): NeighbourRow[] {
    return [...this.entries.values()].map((e) => {
      this.settle(e, now);
      return { address: e.address, mac: e.mac, state: e.state, deadline: e.deadline, isRouter: e.isRouter };
    });
  }

  /** The entry of `a`, or undefined: its hash's chain walked with four word compares per entry. */
  private find(a: Readonly<Ipv6Address>): Entry | undefined {
    let e = this.chains.get(hashWords(a[0], a[1], a[2], a[3]));
    while (e !== undefined) {
      const b = e.address;
      if (b[0] === a[0] && b[1] === a[1] && b[2] === a[2] && b[3] === a[3]) return e;
      e = e.next ?? undefined;
    }
    return undefined;
  }

  /** A REACHABLE entry past its time is STALE (the timer may not have run yet). */
  private settle(e: Entry, now: number): void {
    if (e.state === 'REACHABLE' && e.deadline <= now) this.move(e, 'STALE', e.deadline + this.limits.gcStaleMs);
  }

  private move(e: Entry, state: NeighbourCacheState, deadline: number): void {
    e.state = state;
    e.deadline = deadline;
    e.sent = 0;
    this.earliest = NaN;
  }

  private insert(address: Ipv6Address, mac: number, state: NeighbourCacheState, deadline: number): Entry {
    if (this.entries.size >= this.limits.maxEntries) {
      for (const old of this.entries) {
        this.counters[C.nd_cache_evictions]++;
        this.counters[C.drop_nd_unresolved] += old.pending.length;
        this.delete(old);
        break;
      }
    }
    const hash = hashWords(address[0], address[1], address[2], address[3]);
    const e: Entry = { address, hash, next: this.chains.get(hash) ?? null, mac, state, deadline, sent: 0, isRouter: false, pending: [] };
    this.chains.set(hash, e);
    this.entries.add(e);
    this.earliest = NaN;
    this.counters[C.nd_cache_entries] = this.entries.size;
    return e;
  }

  private delete(e: Entry): void {
    this.entries.delete(e);
    const head = this.chains.get(e.hash);
    if (head === e) {
      if (e.next === null) this.chains.delete(e.hash);
      else this.chains.set(e.hash, e.next);
    } else {
      // e is in the chain under its hash: walk to its predecessor.
      let p = head ?? null;
      while (p !== null && p.next !== e) p = p.next;
      if (p !== null) p.next = e.next;
    }
    e.next = null;
    this.pendingTotal -= e.pending.length;
    e.pending = [];
    this.earliest = NaN;
    this.counters[C.nd_cache_entries] = this.entries.size;
    this.counters[C.nd_pending_packets] = this.pendingTotal;
  }

  private releaseQueue(e: Entry): void {
    if (e.pending.length === 0) return;
    const packets = e.pending;
    e.pending = [];
    this.pendingTotal -= packets.length;
    this.counters[C.nd_pending_packets] = this.pendingTotal;
    this.sender.release(packets, e.mac);
  }
}
