/**
 * RACK's per-segment transmit times (RFC 8985 6.1 Segment.xmit_ts, Segment.end_seq,
 * Segment.retransmitted), kept without an object per segment:
 *
 * - originals: a ring of (end_seq, xmit_ts) in sequence order, one entry per transmission
 *   from SND.NXT (a TSO chunk is one entry); an entry starts where the one before ends.
 *   It grows by doubling up to ORIGINALS_MAX entries; beyond that the oldest entry is
 *   forgotten (the caller counts it) and its bytes fall back to the RTO.
 * - retransmissions: a ring of (start, end, xmit_ts, resolved, delivered: how far the run
 *   was already counted as delivered), RETRANSMISSIONS_TRACKED at first; a retransmission
 *   of the bytes right after the last one, sent at the same instant (the same `now`,
 *   nothing sent between), extends its run. When the ring is full, resolved entries make
 *   room; if none is, it doubles up to RETRANSMISSIONS_MAX; beyond that the oldest is
 *   overwritten (the caller counts it when it was unresolved).
 *
 * Entries are addressed by index (0 = oldest); the accessors read them.
 */
import { seqGeq, seqGt, seqLeq, seqLt, seqSub } from '../seq.js';

/** Most original transmissions remembered (a bound: 8192 TSO chunks or segments in flight). */
export const ORIGINALS_MAX = 8192;
/** Retransmission runs the ring holds at first. */
export const RETRANSMISSIONS_TRACKED = 64;
/** Most retransmission runs remembered at once (20 KiB). */
export const RETRANSMISSIONS_MAX = 512;
/**
 * Transmit times closer than this are the same instant: RackRecovery stamps transmissions
 * at one `now` 2^-20 ms apart (fewer than 1024 of them).
 */
const SAME_INSTANT = 2 ** -10;
const ORIGINALS_FIRST = 32;
const RESOLVED = 1;
/** Numbers per retransmission entry. */
const RTX_STRIDE = 5;

/** The transmit log of one connection's RACK state. */
export class RackLog {
  private orig = new Float64Array(2 * ORIGINALS_FIRST);
  private cap = ORIGINALS_FIRST;
  private head = 0;
  private count = 0;
  /** First sequence number of the oldest entry. */
  private headStart = 0;
  /** The cumulative ACK last seen (where delivery starts). */
  private una = 0;
  private rtx: Float64Array | null = null;
  private rtxCount = 0;
  private rtxNextSlot = 0;
  private rtxCap = RETRANSMISSIONS_TRACKED;
  /** The last transmission logged was a retransmission (the next one may extend its run). */
  private lastWasRtx = false;

  /** The cumulative ACK last passed to advance() (or the first sequence logged). */
  start(): number {
    return this.una;
  }

  /** Logs a transmission of [seq, end) from SND.NXT at `ts`; false when the oldest entry had to be forgotten. */
  addOriginal(seq: number, end: number, ts: number): boolean {
    if (this.count === 0 || seq !== this.origEnd(this.count - 1)) {
      // The first, or not where the last ended (SND.NXT went back): start again here.
      if (this.count === 0 || seqLt(seq, this.origEnd(this.count - 1))) {
        this.count = 0;
        this.head = 0;
        this.headStart = seq;
        if (this.rtxCount === 0) this.una = seq;
      }
    }
    let kept = true;
    if (this.count === this.cap) {
      if (this.cap < ORIGINALS_MAX) this.grow();
      else {
        this.headStart = this.orig[2 * this.head];
        this.head = (this.head + 1) % this.cap;
        this.count--;
        kept = false;
      }
    }
    this.lastWasRtx = false;
    const i = (this.head + this.count) % this.cap;
    this.orig[2 * i] = end >>> 0;
    this.orig[2 * i + 1] = ts;
    this.count++;
    return kept;
  }

  /**
   * Logs a retransmission of [seq, end) at `ts`; one right after the last at the same
   * instant, nothing sent between, extends its run. False when an unresolved run had to
   * be forgotten to make room.
   */
  addRetransmission(seq: number, end: number, ts: number): boolean {
    let r = (this.rtx ??= new Float64Array(RTX_STRIDE * this.rtxCap));
    const extend = this.lastWasRtx;
    this.lastWasRtx = true;
    if (this.rtxCount > 0 && extend) {
      const j = (this.rtxNextSlot + this.rtxCap - 1) % this.rtxCap;
      if (r[RTX_STRIDE * j + 3] !== RESOLVED && r[RTX_STRIDE * j + 1] === seq && ts - r[RTX_STRIDE * j + 2] < SAME_INSTANT) {
        r[RTX_STRIDE * j + 1] = end >>> 0;
        return true;
      }
    }
    let kept = true;
    if (this.rtxCount === this.rtxCap) {
      r = this.makeRetransmissionRoom(r);
      if (this.rtxCount === this.rtxCap) kept = r[RTX_STRIDE * this.rtxNextSlot + 3] === RESOLVED;
    }
    const i = this.rtxNextSlot;
    this.rtxNextSlot = (i + 1) % this.rtxCap;
    const o = RTX_STRIDE * i;
    r[o] = seq >>> 0;
    r[o + 1] = end >>> 0;
    r[o + 2] = ts;
    r[o + 3] = 0;
    r[o + 4] = seq >>> 0;
    if (this.rtxCount < this.rtxCap) this.rtxCount++;
    return kept;
  }

  /**
   * A full retransmission ring: keeps the unresolved runs, oldest first, and doubles the
   * ring when all are (up to RETRANSMISSIONS_MAX). Returns the ring. The runs are packed
   * in place when the oldest is at slot 0 (the writes trail the reads); a new ring only to
   * grow, or after the ring wrapped at RETRANSMISSIONS_MAX.
   */
  private makeRetransmissionRoom(r: Float64Array): Float64Array {
    const cap = this.rtxCap;
    const from = this.rtxNextSlot;
    let live = 0;
    for (let k = 0; k < cap; k++) if (r[RTX_STRIDE * ((from + k) % cap) + 3] !== RESOLVED) live++;
    if (live === cap && cap >= RETRANSMISSIONS_MAX) return r;
    const next = live === cap ? new Float64Array(RTX_STRIDE * cap * 2) : from === 0 ? r : new Float64Array(RTX_STRIDE * cap);
    let w = 0;
    for (let k = 0; k < cap; k++) {
      const o = RTX_STRIDE * ((from + k) % cap);
      if (r[o + 3] === RESOLVED) continue;
      const d = RTX_STRIDE * w++;
      if (next !== r || d !== o) for (let e = 0; e < RTX_STRIDE; e++) next[d + e] = r[o + e];
    }
    this.rtx = next;
    this.rtxCap = next.length / RTX_STRIDE;
    this.rtxCount = w;
    this.rtxNextSlot = w % this.rtxCap;
    return next;
  }

  /** The cumulative ACK reached `ack`: entries wholly below it go. */
  advance(ack: number): void {
    while (this.count > 0 && seqLeq(this.orig[2 * this.head], ack)) {
      this.headStart = this.orig[2 * this.head];
      this.head = (this.head + 1) % this.cap;
      this.count--;
    }
    if (seqGt(ack, this.una)) this.una = ack >>> 0;
    for (let k = 0; k < this.rtxCount; k++) if (seqLeq(this.rtxEnd(k), ack)) this.resolve(k);
  }

  /** Forgets everything (after an RTO). */
  clear(): void {
    this.lastWasRtx = false;
    this.count = 0;
    this.head = 0;
    this.rtxCount = 0;
    this.rtxNextSlot = 0;
  }

  /** Index of the first original entry ending after `seq`, or -1. */
  origFind(seq: number): number {
    let lo = 0;
    let hi = this.count;
    const base = this.headStart;
    const off = seqSub(seq, base);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqSub(this.origEnd(mid), base) > off) hi = mid;
      else lo = mid + 1;
    }
    return lo < this.count ? lo : -1;
  }

  origNext(k: number): number {
    return k + 1 < this.count ? k + 1 : -1;
  }

  origStart(k: number): number {
    return k === 0 ? this.headStart : this.origEnd(k - 1);
  }

  origEnd(k: number): number {
    return this.orig[2 * ((this.head + k) % this.cap)];
  }

  origTime(k: number): number {
    return this.orig[2 * ((this.head + k) % this.cap) + 1];
  }

  /** When the original transmission holding byte `seq` was sent, or -1 if it is not logged. */
  originalTime(seq: number): number {
    const k = this.origFind(seq);
    return k < 0 || seqLt(seq, this.origStart(k)) ? -1 : this.origTime(k);
  }

  /** True if a logged retransmission covers byte `seq`. */
  wasRetransmitted(seq: number): boolean {
    for (let k = 0; k < this.rtxCount; k++) {
      if (seqGeq(seq, this.rtxStart(k)) && seqLt(seq, this.rtxEnd(k))) return true;
    }
    return false;
  }

  /**
   * The end of the logged retransmissions covering byte `seq` (the highest), or `seq` when
   * none does. `unresolvedOnly`: only those not yet delivered (in flight, or already sent
   * again when found lost).
   */
  retransmittedEnd(seq: number, unresolvedOnly = false): number {
    let end = seq >>> 0;
    for (let k = 0; k < this.rtxCount; k++) {
      if (unresolvedOnly && this.isResolved(k)) continue;
      if (seqGeq(seq, this.rtxStart(k)) && seqLt(seq, this.rtxEnd(k)) && seqGt(this.rtxEnd(k), end)) end = this.rtxEnd(k);
    }
    return end;
  }

  /** Index of the first unresolved retransmission, or -1. */
  rtxFirst(): number {
    return this.rtxNext(-1);
  }

  /** Index of the next unresolved retransmission after `k`, or -1. */
  rtxNext(k: number): number {
    const r = this.rtx;
    if (r === null) return -1;
    for (let j = k + 1; j < this.rtxCount; j++) if (r[RTX_STRIDE * j + 3] !== RESOLVED) return j;
    return -1;
  }

  rtxStart(k: number): number {
    return (this.rtx as Float64Array)[RTX_STRIDE * k];
  }

  rtxEnd(k: number): number {
    return (this.rtx as Float64Array)[RTX_STRIDE * k + 1];
  }

  rtxTime(k: number): number {
    return (this.rtx as Float64Array)[RTX_STRIDE * k + 2];
  }

  /** Whether retransmission `k` was resolved (see resolve()). */
  isResolved(k: number): boolean {
    return (this.rtx as Float64Array)[RTX_STRIDE * k + 3] === RESOLVED;
  }

  /** Retransmission `k` arrived (or is no longer needed). */
  resolve(k: number): void {
    (this.rtx as Float64Array)[RTX_STRIDE * k + 3] = RESOLVED;
  }

  /**
   * Retransmission run `k` was delivered up to `end` (its highest SACKed byte): true when
   * that is further than already counted. A run sent again keeps what was counted: bytes
   * SACKed before the resend say nothing of when the resend arrived.
   */
  deliveredTo(k: number, end: number): boolean {
    const r = this.rtx as Float64Array;
    if (!seqGt(end, r[RTX_STRIDE * k + 4])) return false;
    r[RTX_STRIDE * k + 4] = end >>> 0;
    return true;
  }

  /** Retransmission `k` was sent again at `ts`. */
  retimed(k: number, ts: number): void {
    (this.rtx as Float64Array)[RTX_STRIDE * k + 2] = ts;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const next = new Float64Array(2 * cap);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) % this.cap;
      next[2 * k] = this.orig[2 * i];
      next[2 * k + 1] = this.orig[2 * i + 1];
    }
    this.orig = next;
    this.cap = cap;
    this.head = 0;
  }
}
