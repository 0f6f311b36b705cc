/**
 * The sender's SACK scoreboard (sans-I/O): which bytes above SND.UNA the peer reported
 * holding, and the RFC 6675 queries the loss recovery needs.
 *
 * Implements:
 * - RFC 2018 section 3 (sender side): SACK blocks [left, right) are recorded as disjoint,
 *   sorted ranges of sequence space and merged when they touch or overlap. Per RFC 2018
 *   section 8 SACKed data may be reneged, so nothing here ever counts as acknowledged:
 *   only the cumulative ACK (advance()) releases data.
 * - RFC 2883 D-SACK: a block at or below SND.UNA (a duplicate report) changes nothing; a
 *   D-SACK inside a later block is a subset of SACKed data and adds nothing. D-SACKs are
 *   counted (`dsackBlocks`) by RFC 3708 2's rule: the first block, at or below SND.UNA or
 *   within the second block. A block that
 *   straddles SND.UNA keeps its part above SND.UNA (the peer holds those bytes).
 *   Blocks reaching beyond SND.NXT (never sent) or empty/inverted ones are ignored
 *   (counted in `invalidBlocks`), like Linux's tcp_is_sackblock_valid.
 * - RFC 6675 section 4: IsLost(SeqNum) (DupThresh = 3 discontiguous SACKed ranges, or more
 *   than (DupThresh - 1) * SMSS SACKed bytes above SeqNum), SetPipe() and NextSeg() rules
 *   1 and 3 (nextLost()). Section 5.1 / RFC 2018 8: the ranges are kept across an RTO
 *   (forgetLost() drops only the lost marks) unless the receiver reneged — SND.UNA itself
 *   SACKed, Linux's test in tcp_timeout_mark_lost() — when the caller clears them; an RTO
 *   resends the holes only (holeEnd(), sackedEnd()). Decision 0041.
 * - RFC 8985 6.2, only as far as a delivered tail loss probe needs it: markLostBefore(seq)
 *   marks every unSACKed byte below seq lost (they were sent at least a PTO before the
 *   probe that arrived).
 *
 * HighRxt convention: `highRxt` is the sequence number just past the highest byte
 * retransmitted so far in this recovery (set to SND.UNA when recovery starts); bytes below
 * it count as retransmitted. It must not be below SND.UNA.
 *
 * Sequence numbers wrap modulo 2^32 (src/tcp/seq.ts); all ranges lie within
 * (SND.UNA, SND.NXT], less than 2^31 apart, so modular comparison orders them.
 *
 * Bounds: at most MAX_SACK_RANGES (1024) disjoint ranges, room for every hole of a flight
 * of ~1.4 MB with one segment lost in two (a 1 MiB send buffer has at most 362). When a new
 * block would create one more, the highest range is dropped (the new block itself if it
 * is the highest) and `overflowDrops` counts it (tcp_sack_scoreboard_overflows).
 * Forgetting a range only makes the sender think fewer bytes arrived (a spurious
 * retransmission); merging ranges instead would mark missing bytes as received and stall
 * recovery until the RTO. (With room for 32, BBR's window at 10 % loss forgot ranges and
 * resent 7 000 SACKed segments per 50 MB.)
 * Memory: the range arrays are made at the first SACK block with room for
 * INITIAL_SACK_RANGES, doubled when full, and given back when the cumulative ACK has
 * passed every range after they grew, so an idle connection keeps at most the first 256
 * bytes. No other allocation except ranges() (for /connections and tests).
 */
import { seqGeq, seqGt, seqLeq, seqLt, seqSub } from './seq.js';

/** Disjoint SACKed ranges kept at most. */
export const MAX_SACK_RANGES = 1024;
/** Room for ranges made at the first SACK block (doubled as needed). */
export const INITIAL_SACK_RANGES = 32;
/** No markLostBefore() in force (not a valid u32 sequence number). */
const NONE = -1;
/** Shared empty range arrays of a scoreboard that has not seen a SACK block yet. */
const NO_RANGES = new Uint32Array(0);
/** RFC 6675 DupThresh. */
const DUP_THRESH = 3;

/** RFC 2018 / RFC 6675 sender scoreboard. */
export class SackScoreboard {
  /** Sender maximum segment size (SMSS), bytes; the caller may update it. */
  mss: number;
  /** Ranges dropped because MAX_SACK_RANGES were held. */
  overflowDrops = 0;
  /** Blocks ignored: empty, inverted or beyond SND.NXT. */
  invalidBlocks = 0;
  /**
   * RFC 6675's IsLost() counting rule (DupThresh ranges or bytes SACKed above a hole) in
   * force; RACK (./recovery/rack.ts) turns it off and marks losses by time alone
   * (markLostBefore()).
   */
  dupThreshRule = true;
  /** D-SACK blocks received (RFC 2883 4: a first block at or below SND.UNA or inside the second block). */
  dsackBlocks = 0;
  /** Bytes those D-SACK blocks reported. */
  dsackBytes = 0;

  // Allocated at the first SACK block: most connections never see one.
  private lefts = NO_RANGES;
  private rights = NO_RANGES;
  private n = 0;
  private sacked = 0;
  /** markLostBefore()'s sequence, or NONE. */
  private lostBefore = NONE;

  /** @param mss sender maximum segment size, bytes */
  constructor(mss: number) {
    this.mss = mss;
  }

  /** Total bytes SACKed above SND.UNA. */
  get sackedBytes(): number {
    return this.sacked;
  }

  /** Number of disjoint SACKed ranges held. */
  get rangeCount(): number {
    return this.n;
  }

  /** Ranges the arrays have room for now (0: none made). */
  get roomForRanges(): number {
    return this.lefts.length;
  }

  /**
   * Records SACK blocks from an ACK (pairs [left,right) in blocks[0..2*count)); ignores
   * blocks not within (sndUna, sndNxt] and D-SACKs below sndUna. `ack` is the segment's
   * cumulative ACK (a first block at or below it is a D-SACK). Returns bytes newly SACKed.
   */
  update(sndUna: number, sndNxt: number, blocks: Uint32Array, count: number, ack = sndUna): number {
    let newly = 0;
    const m = Math.min(count, blocks.length >>> 1);
    for (let i = 0; i < m; i++) {
      let l = blocks[2 * i];
      const r = blocks[2 * i + 1];
      if (!seqLt(l, r) || seqGt(r, sndNxt)) {
        this.invalidBlocks++;
        continue;
      }
      // RFC 2883 4 / RFC 3708 2: only the first block can be a D-SACK, when it lies at or
      // below SND.UNA or within the second block.
      if (i === 0 && (seqLeq(r, ack) || (m > 1 && seqGeq(l, blocks[2]) && seqLeq(r, blocks[3])))) {
        this.dsackBlocks++;
        this.dsackBytes += seqSub(r, l);
      }
      if (seqLeq(r, sndUna)) continue;
      if (seqLt(l, sndUna)) l = sndUna >>> 0;
      newly += this.add(l, r);
    }
    return newly;
  }

  /** Forget everything below the new cumulative ACK. */
  advance(sndUna: number): void {
    const una = sndUna >>> 0;
    if (this.lostBefore !== NONE && seqGeq(una, this.lostBefore)) this.lostBefore = NONE;
    let drop = 0;
    while (drop < this.n && seqLeq(this.rights[drop], una)) {
      this.sacked -= seqSub(this.rights[drop], this.lefts[drop]);
      drop++;
    }
    if (drop > 0) {
      this.lefts.copyWithin(0, drop, this.n);
      this.rights.copyWithin(0, drop, this.n);
      this.n -= drop;
    }
    if (this.n > 0 && seqLt(this.lefts[0], una)) {
      this.sacked -= seqSub(una, this.lefts[0]);
      this.lefts[0] = una;
    }
    if (this.n === 0 && this.lefts.length > INITIAL_SACK_RANGES) this.lefts = this.rights = NO_RANGES;
  }

  /** Drops all state (the receiver reneged, RFC 2018 8; or the path MTU dropped the segments it describes). */
  clear(): void {
    this.n = 0;
    this.sacked = 0;
    this.lostBefore = NONE;
    if (this.lefts.length > INITIAL_SACK_RANGES) this.lefts = this.rights = NO_RANGES;
  }

  /** Keeps the SACKed ranges and forgets which holes were lost (after an RTO the caller marks them anew). */
  forgetLost(): void {
    this.lostBefore = NONE;
  }

  /**
   * RFC 8985 6.2 (RACK's rule, for the one case this sender uses it: a tail loss probe
   * was delivered): every unSACKed byte below `seq` counts as lost, for pipe() and
   * nextLost(), until the cumulative ACK passes it or clear().
   */
  markLostBefore(seq: number): void {
    if (this.lostBefore === NONE || seqGt(seq, this.lostBefore)) this.lostBefore = seq >>> 0;
  }

  /** The sequence number markLostBefore() marks up to, or `sndUna` when none is in force. */
  lostUpTo(sndUna: number): number {
    return this.lostBefore === NONE ? sndUna >>> 0 : this.lostBefore;
  }

  /** True while markLostBefore() applies to some byte at or above `sndUna`. */
  hasLostBefore(): boolean {
    return this.lostBefore !== NONE;
  }

  /** True if byte `seq` lies in a SACKed range. */
  isSacked(seq: number): boolean {
    for (let k = 0; k < this.n; k++) {
      if (seqLt(seq, this.lefts[k])) return false;
      if (seqLt(seq, this.rights[k])) return true;
    }
    return false;
  }

  /** The first SACKed byte after `seq` and below `end` (the end of the hole at `seq`), or `end` when there is none. */
  holeEnd(seq: number, end: number): number {
    for (let k = 0; k < this.n; k++) {
      if (!seqGt(this.lefts[k], seq)) continue;
      return seqLt(this.lefts[k], end) ? this.lefts[k] : end >>> 0;
    }
    return end >>> 0;
  }

  /** The right edge of the SACKed range holding byte `seq`, or `seq` when it is not SACKed. */
  sackedEnd(seq: number): number {
    for (let k = 0; k < this.n; k++) {
      if (seqLt(seq, this.lefts[k])) break;
      if (seqLt(seq, this.rights[k])) return this.rights[k];
    }
    return seq >>> 0;
  }

  /**
   * RFC 6675 IsLost(seq): DupThresh (3) discontiguous SACKed ranges or more than
   * (DupThresh-1)*mss SACKed bytes above seq.
   */
  isLost(seq: number): boolean {
    if (!this.dupThreshRule) return this.lostBefore !== NONE && seqLt(seq, this.lostBefore) && !this.isSacked(seq);
    const limit = (DUP_THRESH - 1) * this.mss;
    let count = 0;
    let bytes = 0;
    for (let k = this.n - 1; k >= 0; k--) {
      const l = this.lefts[k];
      const r = this.rights[k];
      if (seqLeq(r, seq)) break;
      bytes += seqGt(l, seq) ? seqSub(r, l) : seqSub(r, seq) - 1;
      count++;
      if (count >= DUP_THRESH || bytes > limit) return true;
    }
    return false;
  }

  /**
   * The top of what is SACKed in [from, end): the right edge of the highest block that
   * starts below `end` (at most `end`), or `from` when no block lies in the range.
   */
  sackedTopIn(from: number, end: number): number {
    for (let k = this.n - 1; k >= 0; k--) {
      if (!seqLt(this.lefts[k], end)) continue;
      if (!seqGt(this.rights[k], from)) break;
      return seqLt(this.rights[k], end) ? this.rights[k] : end >>> 0;
    }
    return from >>> 0;
  }

  /** Highest SACKed sequence (right edge), or sndUna when none. */
  highestSacked(sndUna: number): number {
    return this.n > 0 ? this.rights[this.n - 1] : sndUna >>> 0;
  }

  /**
   * RFC 6675 NextSeg() rule 1 (and rule 3 with requireLost = false): the first unSACKed
   * byte range at or after `from` (HighRxt, >= SND.UNA) and below the highest SACKed
   * byte that IsLost() (rule 1); limited to `maxLen` and to sndNxt. Writes [start, len]
   * into out[0], out[1] and returns true, or returns false if there is none.
   * `requireLost` is an extension of the agreed signature (optional, default true).
   */
  nextLost(from: number, sndNxt: number, maxLen: number, out: Float64Array, requireLost = true): boolean {
    let s = from >>> 0;
    for (let k = 0; k < this.n; k++) {
      const l = this.lefts[k];
      const r = this.rights[k];
      if (seqLeq(r, s)) continue;
      if (seqLeq(l, s)) {
        s = r;
        continue;
      }
      // Hole [s, l) with ranges k..n-1 above it. Higher holes have less SACKed above
      // them, so if this one is not lost, none is.
      let end = seqGt(l, sndNxt) ? sndNxt >>> 0 : l;
      if (requireLost && !(this.dupThreshRule && this.lostBelow(k))) {
        // Not lost by RFC 6675's count; maybe by markLostBefore() (then only up to it).
        if (this.lostBefore === NONE || !seqLt(s, this.lostBefore)) return false;
        if (seqGt(end, this.lostBefore)) end = this.lostBefore;
      }
      let len = seqSub(end, s);
      if (len > maxLen) len = maxLen;
      if (len <= 0) return false;
      out[0] = s;
      out[1] = len;
      return true;
    }
    return false;
  }

  /**
   * RFC 6675 SetPipe(): bytes in flight between sndUna and sndNxt given HighRxt. Every
   * unSACKed byte counts once unless IsLost(), and once more if below highRxt
   * (retransmitted).
   */
  pipe(sndUna: number, sndNxt: number, highRxt: number): number {
    const limit = (DUP_THRESH - 1) * this.mss;
    let total = 0;
    let cur = sndUna >>> 0;
    let rem = this.sacked;
    for (let k = 0; k < this.n; k++) {
      const l = this.lefts[k];
      const r = this.rights[k];
      if (seqLt(cur, l)) {
        const end = seqGt(l, sndNxt) ? sndNxt >>> 0 : l;
        const lost = (this.dupThreshRule && (this.n - k >= DUP_THRESH || rem > limit)) || (this.lostBefore !== NONE && seqLeq(end, this.lostBefore));
        total += holePipe(cur, end, lost, highRxt);
      }
      rem -= seqSub(r, l);
      if (seqGt(r, cur)) cur = r;
    }
    // Above the highest SACKed byte nothing is lost.
    if (seqLt(cur, sndNxt)) total += holePipe(cur, sndNxt >>> 0, false, highRxt);
    return total;
  }

  /** The ranges as [left,right) pairs, for /connections and tests. */
  ranges(): Array<[number, number]> {
    const a: Array<[number, number]> = [];
    for (let k = 0; k < this.n; k++) a.push([this.lefts[k], this.rights[k]]);
    return a;
  }

  /** IsLost() for a hole just below range k (ranges k..n-1 lie above it). */
  private lostBelow(k: number): boolean {
    if (this.n - k >= DUP_THRESH) return true;
    let bytes = 0;
    for (let j = k; j < this.n; j++) bytes += seqSub(this.rights[j], this.lefts[j]);
    return bytes > (DUP_THRESH - 1) * this.mss;
  }

  /** Room for more ranges: INITIAL_SACK_RANGES at first, then twice as many (up to MAX_SACK_RANGES). */
  private grow(): void {
    const cap = this.lefts.length === 0 ? INITIAL_SACK_RANGES : Math.min(MAX_SACK_RANGES, 2 * this.lefts.length);
    const lefts = new Uint32Array(cap);
    const rights = new Uint32Array(cap);
    lefts.set(this.lefts.subarray(0, this.n));
    rights.set(this.rights.subarray(0, this.n));
    this.lefts = lefts;
    this.rights = rights;
  }

  /** Adds [l, r) (valid, above SND.UNA); returns bytes not SACKed before. */
  private add(l: number, r: number): number {
    const n = this.n;
    // First range whose right edge reaches l (touching counts: merge adjacent ranges).
    let i = 0;
    while (i < n && seqLt(this.rights[i], l)) i++;
    // Last range whose left edge is at or before r.
    let j = i - 1;
    while (j + 1 < n && seqLeq(this.lefts[j + 1], r)) j++;
    if (j < i) {
      // Disjoint: insert at i.
      if (n === this.lefts.length && n < MAX_SACK_RANGES) this.grow();
      if (n === MAX_SACK_RANGES) {
        this.overflowDrops++;
        if (i === n) return 0; // the new block would be the highest: drop it
        this.sacked -= seqSub(this.rights[n - 1], this.lefts[n - 1]);
        this.n = n - 1;
      }
      this.lefts.copyWithin(i + 1, i, this.n);
      this.rights.copyWithin(i + 1, i, this.n);
      this.lefts[i] = l;
      this.rights[i] = r;
      this.n++;
      const len = seqSub(r, l);
      this.sacked += len;
      return len;
    }
    // Merge ranges i..j with [l, r).
    let covered = 0;
    for (let k = i; k <= j; k++) covered += seqSub(this.rights[k], this.lefts[k]);
    const nl = seqLt(l, this.lefts[i]) ? l : this.lefts[i];
    const nr = seqGt(r, this.rights[j]) ? r : this.rights[j];
    const newly = seqSub(nr, nl) - covered;
    this.lefts[i] = nl;
    this.rights[i] = nr;
    if (j > i) {
      this.lefts.copyWithin(i + 1, j + 1, n);
      this.rights.copyWithin(i + 1, j + 1, n);
      this.n = n - (j - i);
    }
    this.sacked += newly;
    return newly;
  }
}

/** SetPipe() with nothing SACKed: every byte of [sndUna, sndNxt), once more below highRxt. */
export function unsackedPipe(sndUna: number, sndNxt: number, highRxt: number): number {
  return holePipe(sndUna >>> 0, sndNxt >>> 0, false, highRxt);
}

/** SetPipe() contribution of the unSACKed bytes [a, b). */
function holePipe(a: number, b: number, lost: boolean, highRxt: number): number {
  const len = seqSub(b, a);
  if (len <= 0) return 0;
  let rx = seqSub(highRxt, a);
  if (rx < 0) rx = 0;
  else if (rx > len) rx = len;
  return (lost ? 0 : len) + rx;
}
