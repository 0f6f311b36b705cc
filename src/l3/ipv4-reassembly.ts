/**
 * IPv4 fragment reassembly (sans-I/O: bytes in, bytes out, time passed in as ms).
 *
 * Implements:
 * - RFC 791 section 3.2 "Reassembly": fragments are grouped by (source, destination,
 *   protocol, identification); the fragment offset is in 8-byte units; the fragment
 *   with MF=0 fixes the total payload length; the header of the fragment with offset 0
 *   (options included) becomes the header of the reassembled datagram.
 * - RFC 1122 section 3.3.2: reassembly timeout. The timer starts at the first
 *   fragment's arrival and is not restarted by later fragments; RFC 1122 suggests
 *   60-120 s, we use Linux's 30 s (`DEFAULT_REASSEMBLY_LIMITS.timeoutMs`). When it
 *   expires and fragment zero was received, `onExpired` gets that fragment (its header
 *   and the start of its data) so the caller can send the ICMP Time Exceeded (code 1,
 *   fragment reassembly time exceeded) that section requires.
 * - Overlaps follow Linux since 4.19 (net/ipv4/ip_fragment.c, inet_frag_queue_insert)
 *   and RFC 5722 (written for IPv6): a fragment that overlaps any received fragment
 *   drops the whole partial datagram (`drop_reasm_overlap`), except an exact duplicate
 *   (same offset and length), which is ignored and keeps the queue. Linux also ignores
 *   a fragment wholly inside one received fragment; we are stricter and drop (only
 *   exact duplicates are benign). A second last fragment (MF=0) with a different end,
 *   a last fragment ending before data already received, or data beyond a known end
 *   are inconsistencies and are counted as overlaps too (Linux: discard_qp, EINVAL).
 *   After a drop, later fragments of the same key start a new partial datagram (as in
 *   Linux); they can only complete if a full covering set arrives.
 * - Hole bookkeeping: instead of RFC 815's hole list we keep the sorted, disjoint
 *   [start, end) ranges of the received fragments. Because overlaps are rejected,
 *   "received bytes == total length" is exactly "no holes".
 *
 * Rules where RFC 791 is silent (our choices):
 * - A non-final fragment (MF=1) whose payload is not a multiple of 8, or any fragment
 *   with an empty payload, cannot be part of a valid datagram (RFC 791 3.2: "the data
 *   of each fragment except the last must be a multiple of 8 octets"). The whole
 *   partial datagram is dropped and counted as `drop_reasm_oversize`, the bucket for
 *   fragment geometry that violates the size rules. (Linux truncates the misaligned
 *   fragment and discards the queue on an empty fragment.)
 * - A fragment that would make the reassembled datagram (first fragment's header +
 *   payload) longer than `maxDatagramBytes` drops the whole partial datagram
 *   (`drop_reasm_oversize`). Until the first fragment arrives the header is assumed
 *   to be 20 bytes; the exact check is made again when it arrives.
 * - Memory: `bufferedBytes` is the size of the per-datagram payload buffers actually
 *   allocated (not just received bytes), so sparse fragments cannot hide memory. A
 *   buffer grows by doubling (exactly to the total once the last fragment is known),
 *   capped by what fits. When the limit would be exceeded the oldest other partial
 *   datagrams are evicted (`drop_reasm_memory`); if the datagram alone does not fit,
 *   it is dropped itself (`drop_reasm_memory`).
 * - A new key while `maxDatagrams` partial datagrams are pending evicts the oldest
 *   (`drop_reasm_too_many`). "Oldest" = earliest first fragment.
 * - Malformed input the caller should have rejected (IHL < 20, IHL > total length,
 *   total length beyond the buffer) is dropped and counted as `drop_ipv4_ihl` /
 *   `drop_ipv4_total_length`; nothing here throws on input bytes.
 * - A datagram passed in that is not a fragment (MF=0, offset 0) is handled as a
 *   one-fragment datagram: it completes at once (or conflicts with a pending one).
 * - `now` should be monotonic; a smaller value than seen before is treated as the
 *   latest seen, so deadlines stay in arrival order. Non-finite values likewise.
 *
 * Every fragment counts `ipv4_fragments_rx` (duplicates and dropped ones included);
 * every completed datagram counts `ipv4_reassembled`.
 *
 * Header fields are read with byte accesses; this file does not depend on src/wire.
 */
import { C } from '../base/counters.js';
import { ipv4HeaderChecksum } from './ipv4-fragmenter.js';

/** Bounds of the reassembler. */
export interface ReassemblyLimits {
  /** Lifetime of a partial datagram from its first fragment's arrival, ms (30000). */
  timeoutMs: number;
  /** Largest reassembled datagram incl. header, bytes (65535, also the maximum). */
  maxDatagramBytes: number;
  /** Total payload buffer memory of all partial datagrams, bytes (4 MiB). */
  maxMemoryBytes: number;
  /** Partial datagrams pending at once (64). */
  maxDatagrams: number;
}

/** Defaults: Linux's 30 s timeout, IPv4's 65535-byte maximum, 4 MiB, 64 datagrams. */
export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = Object.freeze({
  timeoutMs: 30_000,
  maxDatagramBytes: 65_535,
  maxMemoryBytes: 4 * 1024 * 1024,
  maxDatagrams: 64,
});

const MIN_HEADER = 20;
/** Most of fragment zero handed to onExpired: an ICMP error quotes no more (576-byte datagram). */
const EXPIRED_QUOTE_MAX = 576;
const EMPTY = new Uint8Array(0);

/** One partial datagram. */
class PartialDatagram {
  /** Deadline: first arrival + timeout. */
  readonly deadline: number;
  /** Header of the offset-0 fragment (up to 60 bytes), valid when hdrLen > 0. */
  readonly hdr = new Uint8Array(60);
  hdrLen = 0;
  /** Payload buffer indexed by payload offset; its length is the accounted memory. */
  buf: Uint8Array = EMPTY;
  /** Sorted, disjoint received ranges [starts[i], ends[i]). */
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  /** Payload bytes received (no duplicates). */
  received = 0;
  /** Highest end received. */
  maxEnd = 0;
  /** Total payload length once the last fragment (MF=0) is in, else -1. */
  total = -1;

  constructor(readonly key: string, deadline: number) {
    this.deadline = deadline;
  }
}

function clampInt(v: number | undefined, lo: number, hi: number, dflt: number): number {
  if (v === undefined || !Number.isFinite(v)) return dflt;
  return Math.min(hi, Math.max(lo, Math.floor(v)));
}

/**
 * Reassembles IPv4 fragments into datagrams, within fixed bounds of time, memory and
 * number of partial datagrams. Single-threaded; one per shard.
 */
export class Ipv4Reassembler {
  private readonly counters: Float64Array;
  private readonly limits: ReassemblyLimits;
  /** Partial datagrams in order of first arrival (Map keeps insertion order). */
  private readonly pending = new Map<string, PartialDatagram>();
  private bytes = 0;
  private lastNow = -Infinity;
  private readonly outBuf: Uint8Array;
  /** Fragment zero of a timed-out datagram, rebuilt for onExpired. */
  private readonly expiredBuf = new Uint8Array(EXPIRED_QUOTE_MAX);
  /**
   * Called when a partial datagram whose fragment zero was received times out, with that
   * fragment (header as received, then up to EXPIRED_QUOTE_MAX bytes in all) at b[0..len).
   */
  onExpired: ((b: Uint8Array, len: number, now: number) => void) | null = null;

  /** `limits` fields left out take `DEFAULT_REASSEMBLY_LIMITS`; values are clamped to sane ranges. */
  constructor(counters: Float64Array, limits?: Partial<ReassemblyLimits>) {
    this.counters = counters;
    const d = DEFAULT_REASSEMBLY_LIMITS;
    this.limits = {
      timeoutMs: Math.max(0, limits?.timeoutMs !== undefined && !Number.isNaN(limits.timeoutMs) ? limits.timeoutMs : d.timeoutMs),
      maxDatagramBytes: clampInt(limits?.maxDatagramBytes, MIN_HEADER + 8, 65_535, d.maxDatagramBytes),
      maxMemoryBytes: clampInt(limits?.maxMemoryBytes, 0, Number.MAX_SAFE_INTEGER, d.maxMemoryBytes),
      maxDatagrams: clampInt(limits?.maxDatagrams, 1, 1 << 20, d.maxDatagrams),
    };
    this.outBuf = new Uint8Array(this.limits.maxDatagramBytes);
  }

  /**
   * The last completed datagram, from offset 0, for the length `add` returned. Valid
   * until the next call of `add`.
   */
  get out(): Uint8Array {
    return this.outBuf;
  }

  /** Partial datagrams pending now. */
  get pendingDatagrams(): number {
    return this.pending.size;
  }

  /** Bytes of payload buffers allocated for partial datagrams now. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /**
   * Takes one fragment: the IPv4 header (already validated by the caller: version,
   * IHL, total length, header checksum) starts at b[off], `len` = its total length.
   * Returns the length of the complete datagram when this fragment completes one (the
   * datagram - the first fragment's header incl. options with total length set, MF=0,
   * offset 0, checksum recomputed, then the payload - is then in `this.out` from
   * offset 0, valid until the next call), or 0 when it is incomplete, a duplicate, or
   * dropped (and counted). Also expires timed-out partial datagrams first.
   */
  add(b: Uint8Array, off: number, len: number, now: number): number {
    const c = this.counters;
    c[C.ipv4_fragments_rx]++;
    now = this.advance(now);
    this.poll(now);

    // Defensive checks of what the caller promised.
    if (!(Number.isInteger(off) && Number.isInteger(len)) || off < 0 || len < MIN_HEADER || off + len > b.length) {
      c[C.drop_ipv4_total_length]++;
      return 0;
    }
    const ihl = (b[off] & 0x0f) << 2;
    if (ihl < MIN_HEADER || ihl > len) {
      c[C.drop_ipv4_ihl]++;
      return 0;
    }

    const fl = b[off + 6];
    const mf = (fl & 0x20) !== 0;
    const start = (((fl & 0x1f) << 8) | b[off + 7]) * 8;
    const plen = len - ihl;
    const end = start + plen;
    const id = (b[off + 4] << 8) | b[off + 5];
    const proto = b[off + 9];
    const src = ((b[off + 12] << 24) | (b[off + 13] << 16) | (b[off + 14] << 8) | b[off + 15]) >>> 0;
    const dst = ((b[off + 16] << 24) | (b[off + 17] << 16) | (b[off + 18] << 8) | b[off + 19]) >>> 0;
    const key = `${src}.${dst}.${proto}.${id}`;
    let p = this.pending.get(key);

    // Geometry: empty fragments and misaligned non-final fragments are invalid.
    if (plen === 0 || (mf && (plen & 7) !== 0)) {
      if (p) this.remove(p);
      c[C.drop_reasm_oversize]++;
      return 0;
    }
    // Size: the reassembled datagram must fit in maxDatagramBytes.
    const hlEff = p && p.hdrLen > 0 ? p.hdrLen : start === 0 ? ihl : MIN_HEADER;
    if (Math.max(end, p ? p.maxEnd : 0) + hlEff > this.limits.maxDatagramBytes) {
      if (p) this.remove(p);
      c[C.drop_reasm_oversize]++;
      return 0;
    }

    if (!p) {
      if (this.pending.size >= this.limits.maxDatagrams) {
        this.evictOldest(undefined);
        c[C.drop_reasm_too_many]++;
      }
      p = new PartialDatagram(key, now + this.limits.timeoutMs);
      this.pending.set(key, p);
    }

    // Consistency of the datagram's end (RFC 791: the MF=0 fragment fixes the length).
    if (!mf) {
      if (end < p.maxEnd || (p.total >= 0 && end !== p.total)) {
        this.remove(p);
        c[C.drop_reasm_overlap]++;
        return 0;
      }
    } else if (p.total >= 0 && end > p.total) {
      this.remove(p);
      c[C.drop_reasm_overlap]++;
      return 0;
    }

    // Find where [start, end) goes among the received ranges.
    const starts = p.starts;
    const ends = p.ends;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    if (lo < starts.length && starts[lo] === start && ends[lo] === end) {
      // Exact duplicate: ignored (first copy wins), but it may carry the MF=0 news.
      if (!mf) p.total = end;
      return this.maybeComplete(p);
    }
    if ((lo < starts.length && starts[lo] < end) || (lo > 0 && ends[lo - 1] > start)) {
      this.remove(p);
      c[C.drop_reasm_overlap]++;
      return 0;
    }

    if (!mf) p.total = end;
    if (end > p.buf.length && !this.grow(p, end)) {
      this.remove(p);
      c[C.drop_reasm_memory]++;
      return 0;
    }

    starts.splice(lo, 0, start);
    ends.splice(lo, 0, end);
    p.buf.set(b.subarray(off + ihl, off + len), start);
    p.received += plen;
    if (end > p.maxEnd) p.maxEnd = end;
    if (start === 0) {
      p.hdr.set(b.subarray(off, off + ihl), 0);
      p.hdrLen = ihl;
    }
    return this.maybeComplete(p);
  }

  /** Expires partial datagrams whose timeout has passed (counting drop_reasm_timeout). */
  poll(now: number): void {
    now = this.advance(now);
    for (const p of this.pending.values()) {
      if (now < p.deadline) break; // deadlines are in insertion order
      this.counters[C.drop_reasm_timeout]++;
      if (p.hdrLen > 0 && this.onExpired !== null) this.reportExpired(p, now); // before remove() lets go of the data
      this.remove(p);
    }
  }

  /** Rebuilds fragment zero of `p` (its header as received, then its data) for onExpired. */
  private reportExpired(p: PartialDatagram, now: number): void {
    const q = this.expiredBuf;
    const hl = p.hdrLen;
    q.set(p.hdr.subarray(0, hl), 0);
    const data = Math.min(p.ends[0] - p.starts[0], q.length - hl); // fragment zero's range starts at 0
    q.set(p.buf.subarray(0, data), hl);
    this.onExpired?.(q, hl + data, now);
  }

  /** The earliest time poll() has work to do, or Infinity. */
  nextDeadline(): number {
    for (const p of this.pending.values()) return p.deadline;
    return Infinity;
  }

  /** Clamps `now` to be monotonic and finite. */
  private advance(now: number): number {
    if (Number.isFinite(now) && now > this.lastNow) this.lastNow = now;
    return Number.isFinite(this.lastNow) ? this.lastNow : 0;
  }

  /** Assembles `p` into `out` when complete; returns its length, or 0. */
  private maybeComplete(p: PartialDatagram): number {
    if (p.total < 0 || p.received !== p.total || p.hdrLen === 0) return 0;
    const hl = p.hdrLen;
    const total = hl + p.total;
    const o = this.outBuf;
    o.set(p.hdr.subarray(0, hl), 0);
    o.set(p.buf.subarray(0, p.total), hl);
    o[2] = total >>> 8;
    o[3] = total & 0xff;
    o[6] = o[6] & 0xc0; // keep reserved/DF, clear MF and offset
    o[7] = 0;
    o[10] = 0;
    o[11] = 0;
    const ck = ipv4HeaderChecksum(o, 0, hl);
    o[10] = ck >>> 8;
    o[11] = ck & 0xff;
    this.remove(p);
    this.counters[C.ipv4_reassembled]++;
    return total;
  }

  /**
   * Grows p's buffer to hold at least `need` bytes, evicting older datagrams when the
   * memory limit requires. Returns false if p alone cannot fit.
   */
  private grow(p: PartialDatagram, need: number): boolean {
    const old = p.buf.length;
    const maxMem = this.limits.maxMemoryBytes;
    while (this.bytes - old + need > maxMem) {
      if (!this.evictOldest(p)) return false;
      this.counters[C.drop_reasm_memory]++;
    }
    let cap = p.total >= 0 ? p.total : Math.max(need, Math.min(old * 2, this.limits.maxDatagramBytes - MIN_HEADER));
    cap = Math.max(need, Math.min(cap, maxMem - (this.bytes - old)));
    const nb = new Uint8Array(cap);
    if (old > 0) nb.set(p.buf, 0);
    p.buf = nb;
    this.bytes += cap - old;
    return true;
  }

  /** Removes the oldest partial datagram other than `keep`; false if there is none. */
  private evictOldest(keep: PartialDatagram | undefined): boolean {
    for (const p of this.pending.values()) {
      if (p === keep) continue;
      this.remove(p);
      return true;
    }
    return false;
  }

  /** Forgets `p` and frees its memory. */
  private remove(p: PartialDatagram): void {
    this.pending.delete(p.key);
    this.bytes -= p.buf.length;
    p.buf = EMPTY;
  }
}
