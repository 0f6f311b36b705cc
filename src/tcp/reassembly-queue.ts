/**
 * Out-of-order receive queue (sans-I/O): data that arrived beyond RCV.NXT, kept until
 * the hole before it is filled, and the SACK blocks that describe it.
 *
 * Implements:
 * - RFC 9293 3.10.7.4 "seventh, process the segment text": segments beyond RCV.NXT but
 *   inside the window are held for later delivery; anything below RCV.NXT (already
 *   received) or at/after RCV.NXT + RCV.WND is trimmed off.
 * - Overlaps: bytes already stored are kept, only the missing parts of a new segment are
 *   copied (first copy wins, like Linux's tcp_data_queue_ofo). A segment adding nothing
 *   is a duplicate (0 returned).
 * - RFC 2018 section 4 (data receiver behaviour): the first SACK block is the contiguous
 *   block holding the most recently received segment; the following blocks repeat the
 *   blocks of other recently received segments, most recent first, skipping any block
 *   already reported in this option. When fewer recent blocks exist than fit, the
 *   remaining held blocks fill the option in ascending order (more information for the
 *   sender; RFC 2018 only requires the recency order for the blocks it names).
 *
 * Storage: sorted, disjoint entries, each a private copy (an OOO segment copy per
 * arrival). Data that extends an entry's tail is appended to it (the buffer grows by
 * doubling up to COALESCE_MAX bytes), so a long run after one hole takes a few entries,
 * not one per segment. Adjacent entries are merged only when SACK blocks are built.
 *
 * Bounds: `bytes` (data held) never exceeds maxBytes and `segments` (entries) never
 * exceeds maxSegments; a segment whose new parts do not fit either is not stored at all
 * and insert() returns -1 (counted in `drops`; the caller counts its own counter).
 * Buffer slack from doubling is at most the entry's data size (≤ 2× `bytes` in total).
 *
 * Sequence numbers wrap modulo 2^32 (./seq.ts); everything held lies within one window
 * (< 2^31) above RCV.NXT.
 */
import { copyBytes } from '../util/copy-bytes.js';
import { seqAdd, seqGt, seqLeq, seqLt, seqSub } from './seq.js';

/** Largest entry built by appending contiguous data, bytes. */
export const COALESCE_MAX = 65536;
/** Recently received segment starts remembered for SACK block ordering. */
const RECENT_MAX = 8;

/**
 * Scratch for insert(), shared by every queue of the thread (insert() runs to completion):
 * the gaps a segment fills and the entry index each lies before.
 */
const GAP_S: number[] = [];
const GAP_E: number[] = [];
const GAP_AT: number[] = [];

/** Out-of-order data of one connection, with RFC 2018 SACK block generation. */
export class ReassemblyQueue {
  /** Limit on data bytes held. */
  readonly maxBytes: number;
  /** Limit on entries held. */
  readonly maxSegments: number;
  /** Segments not stored for lack of room (insert() returned -1). */
  drops = 0;

  // Entries, sorted: data [seqs[k], seqs[k]+lens[k]) in bufs[k][0..lens[k]).
  private readonly seqs: number[] = [];
  private readonly lens: number[] = [];
  private readonly bufs: Uint8Array[] = [];
  private total = 0;
  // Start sequence numbers of recently received segments, most recent first.
  private readonly recent: number[] = [];

  /**
   * @param maxBytes limit on data bytes held (normally the receive buffer size)
   * @param maxSegments limit on stored entries
   */
  constructor(maxBytes: number, maxSegments = 256) {
    this.maxBytes = maxBytes;
    this.maxSegments = maxSegments;
  }

  /** Data bytes held. */
  get bytes(): number {
    return this.total;
  }

  /** Entries held (0 = no out-of-order data). */
  get segments(): number {
    return this.seqs.length;
  }

  /**
   * Stores out-of-order data [seq, seq+len) copied from b[off..]; trims what lies below
   * rcvNxt or beyond rcvNxt+window; merges/dedups overlaps (keep already-stored bytes).
   * Returns bytes newly stored (0 for duplicate or nothing inside the window), or -1 when
   * dropped for lack of room (the caller counts). Remembers it as the most recent block
   * for SACK.
   */
  insert(seq: number, b: Uint8Array, off: number, len: number, rcvNxt: number, window: number): number {
    if (len <= 0 || window <= 0) return 0;
    let s = seq >>> 0;
    let o = off;
    let n = len;
    const before = seqSub(rcvNxt, s);
    if (before > 0) {
      if (before >= n) return 0;
      s = rcvNxt >>> 0;
      o += before;
      n -= before;
    }
    const ahead = seqSub(s, rcvNxt);
    if (ahead >= window) return 0;
    if (n > window - ahead) n = window - ahead;
    const e = seqAdd(s, n);

    // Find the gaps of [s, e) not covered by entries.
    const seqs = this.seqs;
    const lens = this.lens;
    const count = seqs.length;
    let k = 0;
    while (k < count && seqLeq(seqAdd(seqs[k], lens[k]), s)) k++;
    let cur = s;
    let gaps = 0;
    let newBytes = 0;
    let newEntries = 0;
    for (; k <= count; k++) {
      const segStart = k < count ? seqs[k] : e;
      const gapEnd = seqLt(segStart, e) ? segStart : e;
      if (seqLt(cur, gapEnd)) {
        const gl = seqSub(gapEnd, cur);
        GAP_S[gaps] = cur;
        GAP_E[gaps] = gapEnd;
        GAP_AT[gaps] = k;
        gaps++;
        newBytes += gl;
        if (!this.canAppend(k - 1, cur, gl)) newEntries++;
      }
      if (k === count || !seqLt(segStart, e)) break;
      const segEnd = seqAdd(segStart, lens[k]);
      if (seqGt(segEnd, cur)) cur = segEnd;
      if (!seqLt(cur, e)) break;
    }
    if (gaps === 0) {
      this.noteRecent(s);
      return 0;
    }
    if (this.total + newBytes > this.maxBytes || count + newEntries > this.maxSegments) {
      this.drops++;
      return -1;
    }
    // Commit, last gap first so the indices of earlier gaps stay valid.
    for (let g = gaps - 1; g >= 0; g--) {
      const gs = GAP_S[g];
      const gl = seqSub(GAP_E[g], gs);
      const at = GAP_AT[g];
      const srcOff = o + seqSub(gs, s);
      if (this.canAppend(at - 1, gs, gl)) {
        this.append(at - 1, b, srcOff, gl);
      } else {
        const c = new Uint8Array(gl);
        copyBytes(b, srcOff, c, 0, gl);
        seqs.splice(at, 0, gs);
        lens.splice(at, 0, gl);
        this.bufs.splice(at, 0, c);
      }
    }
    this.total += newBytes;
    this.noteRecent(s);
    return newBytes;
  }

  /**
   * Removes and delivers data now contiguous at rcvNxt: calls deliver(chunk, chunkOff, len)
   * for each piece in order (valid during the call only); returns the new rcvNxt. Entries
   * wholly below rcvNxt (the caller advanced past them) are discarded.
   */
  drain(rcvNxt: number, deliver: (b: Uint8Array, off: number, len: number) => void): number {
    let nxt = rcvNxt >>> 0;
    const seqs = this.seqs;
    let d = 0;
    while (d < seqs.length && seqLeq(seqs[d], nxt)) {
      const st = seqs[d];
      const l = this.lens[d];
      const end = seqAdd(st, l);
      if (seqGt(end, nxt)) {
        const skip = seqSub(nxt, st);
        deliver(this.bufs[d], skip, l - skip);
        nxt = end;
      }
      this.total -= l;
      d++;
    }
    if (d > 0) {
      seqs.splice(0, d);
      this.lens.splice(0, d);
      this.bufs.splice(0, d);
    }
    return nxt;
  }

  /**
   * Writes up to `max` SACK blocks (left,right pairs) into out, the block containing the
   * most recently received segment first (RFC 2018 4), then other recent ones, then any
   * other held blocks in ascending order; returns the count. With `first` > 0 the blocks
   * go after `first` pairs already written (a D-SACK block, RFC 2883), which count in
   * `max` and the returned count but are not compared with them.
   */
  sackBlocks(out: Uint32Array, max: number, first = 0): number {
    const lim = Math.min(max, out.length >>> 1);
    let cnt = first;
    for (let r = 0; r < this.recent.length && cnt < lim; r++) {
      const k = this.find(this.recent[r]);
      if (k < 0) continue;
      cnt = this.emitBlock(k, out, cnt, first);
    }
    for (let k = 0; k < this.seqs.length && cnt < lim; k++) cnt = this.emitBlock(k, out, cnt, first);
    return cnt;
  }

  /** True when every byte of [s, e) is held. */
  holds(s: number, e: number): boolean {
    let k = this.find(s);
    if (k < 0) return false;
    for (;;) {
      const end = seqAdd(this.seqs[k], this.lens[k]);
      if (!seqLt(end, e)) return true;
      k++;
      if (k >= this.seqs.length || this.seqs[k] !== end) return false;
    }
  }

  /** Highest right edge held (for window/ACK decisions), or -1 if empty. */
  highestRightEdge(): number {
    const n = this.seqs.length;
    return n === 0 ? -1 : seqAdd(this.seqs[n - 1], this.lens[n - 1]);
  }

  /** Drops everything held (and the SACK history). */
  clear(): void {
    this.seqs.length = 0;
    this.lens.length = 0;
    this.bufs.length = 0;
    this.recent.length = 0;
    this.total = 0;
  }

  /** Whether gap [gs, gs+gl) can be appended to entry k (it ends at gs and stays ≤ COALESCE_MAX). */
  private canAppend(k: number, gs: number, gl: number): boolean {
    if (k < 0) return false;
    const l = this.lens[k];
    return l + gl <= COALESCE_MAX && seqAdd(this.seqs[k], l) === gs;
  }

  /** Appends src[srcOff..+n) to entry k, growing its buffer by doubling. */
  private append(k: number, src: Uint8Array, srcOff: number, n: number): void {
    const l = this.lens[k];
    let buf = this.bufs[k];
    if (l + n > buf.length) {
      let cap = buf.length * 2;
      if (cap < l + n) cap = l + n;
      if (cap > COALESCE_MAX) cap = COALESCE_MAX;
      const nb = new Uint8Array(cap);
      copyBytes(buf, 0, nb, 0, l);
      buf = nb;
      this.bufs[k] = nb;
    }
    copyBytes(src, srcOff, buf, l, n);
    this.lens[k] = l + n;
  }

  /** Index of the entry holding byte `x`, or -1. */
  private find(x: number): number {
    const seqs = this.seqs;
    for (let k = 0; k < seqs.length; k++) {
      if (seqLt(x, seqs[k])) return -1;
      if (seqLt(x, seqAdd(seqs[k], this.lens[k]))) return k;
    }
    return -1;
  }

  /** Writes the contiguous block around entry k as pair `cnt` unless already written (from pair `first` on). */
  private emitBlock(k: number, out: Uint32Array, cnt: number, first: number): number {
    const seqs = this.seqs;
    const lens = this.lens;
    let lo = k;
    while (lo > 0 && seqAdd(seqs[lo - 1], lens[lo - 1]) === seqs[lo]) lo--;
    let hi = k;
    while (hi + 1 < seqs.length && seqAdd(seqs[hi], lens[hi]) === seqs[hi + 1]) hi++;
    const left = seqs[lo];
    const right = seqAdd(seqs[hi], lens[hi]);
    for (let i = first; i < cnt; i++) if (out[2 * i] === left) return cnt;
    out[2 * cnt] = left;
    out[2 * cnt + 1] = right;
    return cnt + 1;
  }

  /**
   * Remembers `s` as the most recently received segment's start (RFC 2018 4). The list
   * holds one entry per block: an entry in the same contiguous block as `s` is replaced,
   * so a long run of segments extending one block does not push the other recently
   * reported blocks out of the list (and out of the next ACKs' SACK options).
   */
  private noteRecent(s: number): void {
    const r = this.recent;
    let i = 0;
    while (i < r.length && r[i] !== s && !this.sameBlock(r[i], s)) i++;
    if (i === r.length && i === RECENT_MAX) i = RECENT_MAX - 1;
    for (; i > 0; i--) r[i] = r[i - 1];
    r[0] = s;
  }

  /** True when sequence numbers `a` and `b` are both held in one contiguous block. */
  private sameBlock(a: number, b: number): boolean {
    const ka = this.find(a);
    const kb = this.find(b);
    if (ka < 0 || kb < 0) return false;
    const lo = ka < kb ? ka : kb;
    const hi = ka < kb ? kb : ka;
    for (let k = lo; k < hi; k++) if (seqAdd(this.seqs[k], this.lens[k]) !== this.seqs[k + 1]) return false;
    return true;
  }
}
