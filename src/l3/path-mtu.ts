/**
 * The path MTU cache of one worker: an estimate per destination, lowered by ICMP
 * "fragmentation needed" and forgotten again after a while.
 *
 * RFC 1191 3 (the PMTU of a path starts at the first hop's MTU and only goes down on a
 * "datagram too big" message), 4 (the next-hop MTU in the message), 5 and 7 (a router
 * older than RFC 1191 leaves that field 0: take the largest plateau below the length of
 * the quoted datagram), 6.3 (raise the estimate again after a timeout, 10 minutes
 * recommended: here the entry expires and the link MTU applies again); RFC 8201 5.2's
 * bookkeeping in its IPv4 form (per destination, bounded, expiring). Like Linux
 * (ip_rt_min_pmtu 552, a "locked" MTU), a report below `minMtu` is held at `minMtu` and
 * datagrams to that destination go without DF from then on, so a forged tiny MTU cannot
 * make us send tiny segments (RFC 5927 7.2's concern) and the path can still fragment.
 * An entry is refreshed only by a lower report (RFC 1191 3: never raise on a message).
 *
 * Bounded: at most `maxEntries` destinations; a new one beyond that evicts the oldest
 * (pmtu_evictions). Reports that lower nothing are counted (pmtu_ignored).
 */
import { C, type Counters } from '../base/counters.js';

/** Limits of the cache. */
export interface PathMtuLimits {
  /** Destinations kept (the oldest goes first when full). */
  maxEntries: number;
  /** How long a lowered estimate holds before the link MTU applies again (RFC 1191 6.3: 10 min). */
  expiryMs: number;
  /** Smallest estimate kept; a lower report pins this and clears DF (Linux min_pmtu 552). */
  minMtu: number;
}

/** Linux-like defaults. */
export const DEFAULT_PATH_MTU_LIMITS: PathMtuLimits = { maxEntries: 512, expiryMs: 600_000, minMtu: 552 };

/** RFC 1191 7's table of MTU plateaus, highest first. */
const PLATEAUS = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

/** One destination's estimate. */
interface PathMtuEntry {
  mtu: number;
  expiresAt: number;
  /** The path reported less than minMtu: send without DF (Linux's locked MTU). */
  noDf: boolean;
}

/** The largest RFC 1191 plateau below `len` (68 at least). */
export function plateauBelow(len: number): number {
  for (const p of PLATEAUS) if (p < len) return p;
  return 68;
}

/** Path MTU estimates per destination address. */
export class PathMtuCache {
  readonly limits: PathMtuLimits;
  private readonly entries = new Map<number, PathMtuEntry>();
  /** Whether the destination of the latest mtuFor() may get DF (false: its path is locked). */
  lastDfAllowed = true;
  /**
   * Changes with every estimate lowered or expired: a user (a TCP connection) that saw
   * another value looks its destination up again (one compare per send, no callbacks).
   */
  generation = 0;

  constructor(readonly linkMtu: number, private readonly counters: Counters, limits: Partial<PathMtuLimits> = {}) {
    this.limits = { ...DEFAULT_PATH_MTU_LIMITS, ...limits };
  }

  /** Destinations with an estimate below the link MTU. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The PMTU towards `dst` at `now`: the link MTU unless a lowered estimate holds (an
   * expired one goes, pmtu_expired). Sets lastDfAllowed for the same destination.
   */
  mtuFor(dst: number, now: number): number {
    this.lastDfAllowed = true;
    if (this.entries.size === 0) return this.linkMtu;
    const e = this.entries.get(dst);
    if (e === undefined) return this.linkMtu;
    if (now >= e.expiresAt) {
      this.entries.delete(dst);
      this.generation++;
      this.counters[C.pmtu_expired]++;
      this.counters[C.pmtu_entries] = this.entries.size;
      return this.linkMtu;
    }
    this.lastDfAllowed = !e.noDf;
    return e.mtu;
  }

  /** When the estimate for `dst` expires (Infinity: there is none). */
  expiresAt(dst: number): number {
    return this.entries.get(dst)?.expiresAt ?? Infinity;
  }

  /**
   * A "fragmentation needed" message said a datagram of `quotedLen` bytes to `dst` met a
   * next hop of `reportedMtu` (0: not given). Returns the new estimate when it went down,
   * 0 when the report lowered nothing (counted pmtu_ignored).
   */
  lower(dst: number, reportedMtu: number, quotedLen: number, now: number): number {
    // RFC 1191 5: no usable figure (0, or one the datagram would have fitted): a plateau.
    return this.reduce(dst, reportedMtu === 0 || reportedMtu >= quotedLen ? plateauBelow(quotedLen) : reportedMtu, now);
  }

  /**
   * Puts the estimate for `dst` back to `mtu` (the link MTU: no entry), when a reduction
   * turned out wrong (TCP black-hole detection on a path that does carry larger packets).
   */
  restore(dst: number, mtu: number, now: number): void {
    if (mtu >= this.linkMtu) this.entries.delete(dst);
    else this.entries.set(dst, { mtu, expiresAt: now + this.limits.expiryMs, noDf: false });
    this.generation++;
    this.counters[C.pmtu_entries] = this.entries.size;
  }

  /** Forgets the estimate for `dst` (an IPv6 id that was freed and may name another address next). */
  forget(dst: number): void {
    if (this.entries.size === 0 || !this.entries.delete(dst)) return;
    this.generation++;
    this.counters[C.pmtu_entries] = this.entries.size;
  }

  /**
   * Takes the estimate for `dst` down to `newMtu` (held at minMtu, without DF, when below
   * it). Returns the new estimate, or 0 when that lowers nothing (pmtu_ignored).
   */
  reduce(dst: number, newMtu: number, now: number): number {
    let mtu = newMtu;
    const noDf = mtu < this.limits.minMtu;
    if (noDf) mtu = this.limits.minMtu;
    const cur = this.mtuFor(dst, now);
    const curNoDf = !this.lastDfAllowed;
    if (mtu > cur || (mtu === cur && (curNoDf || !noDf))) {
      this.counters[C.pmtu_ignored]++;
      return 0;
    }
    if (!this.entries.has(dst) && this.entries.size >= this.limits.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
      this.counters[C.pmtu_evictions]++;
    }
    this.entries.delete(dst); // re-inserted last: the newest
    this.entries.set(dst, { mtu, expiresAt: now + this.limits.expiryMs, noDf });
    this.generation++;
    this.counters[C.pmtu_lowered]++;
    this.counters[C.pmtu_entries] = this.entries.size;
    return mtu;
  }
}
