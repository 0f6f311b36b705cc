/**
 * IPv6 fragment reassembly (sans-I/O: bytes in, bytes out, time passed in as ms).
 *
 * - RFC 8200 4.5: fragments are grouped by (source, destination, identification); the
 *   Unfragmentable Part (the IPv6 header and the extension headers before the Fragment
 *   header) of the fragment with offset 0 heads the reassembled packet, the Next Header
 *   field that named the Fragment header takes the first fragment's Fragment header Next
 *   Header value, and the payload length is recomputed. The fragment with M = 0 fixes
 *   the length. A packet not complete 60 seconds after its first fragment arrived is
 *   dropped (drop_reasm6_timeout); when its first fragment was among those received,
 *   `onExpired` gets that fragment back, for the Time Exceeded (code 1) 4.5 asks for. The checks that answer with Parameter Problem (a non-final fragment not a
 *   multiple of 8 bytes long, data past 65535) are the caller's (ipv6-input.ts).
 * - RFC 5722: a fragment that overlaps another of the same packet discards the whole
 *   packet, "including those not yet received": the key stays known as discarded until
 *   the first fragment's timeout, and its later fragments are dropped too
 *   (drop_reasm6_overlap). An exact duplicate (same offset and length) is ignored, as
 *   RFC 8200 4.5 allows. Inconsistent ends (a second last fragment ending elsewhere, data
 *   past the known end) count as overlaps.
 * - RFC 6946 atomic fragments (offset 0, M = 0) never come here: the caller processes
 *   them as whole packets.
 *
 * Bounds, each counted: partial packets at once (maxPackets, the oldest evicted:
 * drop_reasm6_too_many), buffer memory over all of them (maxMemoryBytes, the oldest
 * evicted, or this one dropped when it alone does not fit: drop_reasm6_memory), and the
 * reassembled size (the Unfragmentable Part plus 65535 bytes at most: drop_reasm6_oversize).
 */
import { C, type Counters } from '../base/counters.js';
import { IPV6_HEADER_LEN, IPV6_PAYLOAD_LENGTH_OFFSET, fragmentId, fragmentMore, fragmentOffset } from '../wire/ipv6.js';

/** Bounds of the IPv6 reassembler. */
export interface Reassembly6Limits {
  /** Lifetime of a partial packet from its first fragment's arrival (RFC 8200: 60 s). */
  timeoutMs: number;
  /** Partial packets at once. */
  maxPackets: number;
  /** Buffer memory of all partial packets, bytes. */
  maxMemoryBytes: number;
}

/** Defaults: RFC 8200's 60 s, 64 packets, 4 MiB (as the IPv4 reassembler). */
export const DEFAULT_REASSEMBLY6_LIMITS: Reassembly6Limits = { timeoutMs: 60_000, maxPackets: 64, maxMemoryBytes: 4 * 1024 * 1024 };

/** Largest fragmentable part: offset + length must stay within 65535 (RFC 8200 4.5). */
export const MAX_FRAGMENTABLE = 65535;
/** Longest Unfragmentable Part kept (the IPv6 header and a few extension headers). */
const MAX_UNFRAGMENTABLE = 512;

class Partial6 {
  /** The first fragment's Unfragmentable Part (valid when unfragLen > 0) and where its Next Header field that named the Fragment header is. */
  unfrag: Uint8Array = EMPTY;
  unfragLen = 0;
  nhField = 0;
  /** The first fragment's Fragment header Next Header value, and the packet's Identification. */
  nextHeader = 0;
  id = 0;
  buf: Uint8Array = EMPTY;
  /** Received ranges [start, end) of the fragmentable part, sorted, disjoint. */
  readonly ranges: number[] = [];
  received = 0;
  maxEnd = 0;
  /** Length of the fragmentable part once the last fragment arrived, else -1. */
  total = -1;
  /** RFC 5722: an overlap was seen; fragments are dropped until the deadline. */
  discarded = false;

  constructor(readonly key: string, readonly deadline: number) {}
}

const EMPTY = new Uint8Array(0);

/** Reassembles IPv6 fragments within bounds of time, memory and number of packets. */
export class Ipv6Reassembler {
  private readonly pending = new Map<string, Partial6>();
  private readonly limits: Reassembly6Limits;
  private bytes = 0;
  private readonly outBuf = new Uint8Array(MAX_UNFRAGMENTABLE + MAX_FRAGMENTABLE);
  /** After add() returned a length: where the reassembled packet's Unfragmentable Part ends, and the Next Header to go on with. */
  resumeAt = 0;
  resumeNextHeader = 0;
  resumeNhField = 0;
  /** The first fragment of a timed-out packet, rebuilt for onExpired. */
  private readonly expiredBuf = new Uint8Array(MAX_UNFRAGMENTABLE + 8 + 1280);
  /**
   * Called when a partial packet whose first fragment (offset 0) was received times out,
   * with that fragment as it arrived (Unfragmentable Part, Fragment header, data; the data
   * cut at 1280 bytes) at b[0..len).
   */
  onExpired: ((b: Uint8Array, len: number, now: number) => void) | null = null;

  constructor(private readonly counters: Counters, limits: Partial<Reassembly6Limits> = {}) {
    this.limits = { ...DEFAULT_REASSEMBLY6_LIMITS, ...limits };
  }

  /** The last reassembled packet, from offset 0 (valid until the next add()). */
  get out(): Uint8Array {
    return this.outBuf;
  }

  /** Partial packets held now (discarded keys included). */
  get pendingPackets(): number {
    return this.pending.size;
  }

  /**
   * Takes the fragment whose IPv6 header is at b[ipOff], Fragment header at b[frag], the
   * Next Header field naming it at b[nhField], the packet ending at b[end]. Returns the
   * length of the reassembled packet now in `out` (with resumeAt/resumeNextHeader set),
   * or 0 (incomplete, duplicate, or dropped and counted).
   */
  add(b: Uint8Array, ipOff: number, frag: number, nhField: number, end: number, now: number): number {
    this.counters[C.ipv6_fragments_rx]++;
    this.poll(now);
    const start = fragmentOffset(b, frag);
    const more = fragmentMore(b, frag);
    const dataAt = frag + 8;
    const stop = start + (end - dataAt);
    const key = keyOf(b, ipOff, fragmentId(b, frag));
    let p = this.pending.get(key);
    if (p?.discarded === true) {
      this.counters[C.drop_reasm6_overlap]++;
      return 0;
    }
    if (frag - ipOff > MAX_UNFRAGMENTABLE || end === dataAt) {
      this.counters[C.drop_reasm6_oversize]++; // this fragment only: too many headers in front, or no data
      return 0;
    }
    if (p === undefined) {
      if (this.pending.size >= this.limits.maxPackets) {
        this.evictOldest(undefined);
        this.counters[C.drop_reasm6_too_many]++;
      }
      p = new Partial6(key, now + this.limits.timeoutMs);
      this.pending.set(key, p);
      this.counters[C.reasm6_pending_datagrams] = this.pending.size;
    }
    // The last fragment fixes the end; nothing may lie past it (RFC 8200 4.5).
    if ((!more && (stop < p.maxEnd || (p.total >= 0 && stop !== p.total))) || (more && p.total >= 0 && stop > p.total)) {
      this.discard(p);
      return 0;
    }
    const r = p.ranges;
    let i = 0;
    while (i < r.length && r[i] < start) i += 2;
    if (i < r.length && r[i] === start && r[i + 1] === stop) return this.complete(p); // exact duplicate: ignored
    if ((i < r.length && r[i] < stop) || (i > 0 && r[i - 1] > start)) {
      this.discard(p);
      return 0;
    }
    if (stop > p.buf.length && !this.grow(p, stop, more)) return 0;
    r.splice(i, 0, start, stop);
    p.buf.set(b.subarray(dataAt, end), start);
    p.received += stop - start;
    if (stop > p.maxEnd) p.maxEnd = stop;
    if (!more) p.total = stop;
    if (start === 0) {
      const n = frag - ipOff;
      p.unfrag = b.slice(ipOff, frag);
      p.unfragLen = n;
      p.nhField = nhField - ipOff;
      p.nextHeader = b[frag];
      p.id = fragmentId(b, frag);
    }
    return this.complete(p);
  }

  /** Forgets partial packets (and discarded keys) whose time is up; unfinished ones count drop_reasm6_timeout. */
  poll(now: number): void {
    for (const p of this.pending.values()) {
      if (now < p.deadline) break; // deadlines are in insertion order
      if (!p.discarded) {
        this.counters[C.drop_reasm6_timeout]++;
        if (p.unfragLen > 0 && this.onExpired !== null) this.reportExpired(p, now); // before remove() lets go of the data
      }
      this.remove(p);
    }
  }

  /** Rebuilds the first fragment of `p` for onExpired: its headers as received, a Fragment header (offset 0, M = 1), its data. */
  private reportExpired(p: Partial6, now: number): void {
    const q = this.expiredBuf;
    const n = p.unfragLen;
    q.set(p.unfrag.subarray(0, n), 0);
    q[n] = p.nextHeader;
    q[n + 1] = 0;
    q[n + 2] = 0;
    q[n + 3] = 1; // offset 0, M = 1: the packet had more fragments
    q[n + 4] = p.id >>> 24;
    q[n + 5] = (p.id >>> 16) & 0xff;
    q[n + 6] = (p.id >>> 8) & 0xff;
    q[n + 7] = p.id & 0xff;
    const data = Math.min(p.ranges[1] - p.ranges[0], q.length - n - 8); // the first range starts at 0
    q.set(p.buf.subarray(0, data), n + 8);
    this.onExpired?.(q, n + 8 + data, now);
  }

  /** The earliest deadline, or Infinity. */
  nextDeadline(): number {
    for (const p of this.pending.values()) return p.deadline;
    return Infinity;
  }

  private complete(p: Partial6): number {
    if (p.total < 0 || p.received !== p.total || p.unfragLen === 0) return 0;
    const o = this.outBuf;
    const n = p.unfragLen;
    o.set(p.unfrag, 0);
    o.set(p.buf.subarray(0, p.total), n);
    o[p.nhField] = p.nextHeader;
    const plen = n - IPV6_HEADER_LEN + p.total;
    o[IPV6_PAYLOAD_LENGTH_OFFSET] = plen >>> 8;
    o[IPV6_PAYLOAD_LENGTH_OFFSET + 1] = plen & 0xff;
    this.resumeAt = n;
    this.resumeNextHeader = p.nextHeader;
    this.resumeNhField = p.nhField;
    this.remove(p);
    this.counters[C.ipv6_reassembled]++;
    return n + p.total;
  }

  /** Makes room for `need` bytes of p's fragmentable part; false (p dropped, counted) when it cannot fit. */
  private grow(p: Partial6, need: number, more: boolean): boolean {
    if (need + (p.unfragLen || IPV6_HEADER_LEN) - IPV6_HEADER_LEN > MAX_FRAGMENTABLE) {
      this.discard(p, C.drop_reasm6_oversize);
      return false;
    }
    const old = p.buf.length;
    const want = more ? Math.min(MAX_FRAGMENTABLE, Math.max(need, old * 2)) : need;
    while (this.bytes - old + want > this.limits.maxMemoryBytes) {
      if (!this.evictOldest(p)) {
        this.discard(p, C.drop_reasm6_memory);
        return false;
      }
      this.counters[C.drop_reasm6_memory]++;
    }
    const nb = new Uint8Array(want);
    nb.set(p.buf, 0);
    p.buf = nb;
    this.bytes += want - old;
    return true;
  }

  /** RFC 5722: drop what was received and remember the key as discarded until its deadline. */
  private discard(p: Partial6, counter = C.drop_reasm6_overlap): void {
    this.counters[counter]++;
    this.bytes -= p.buf.length;
    p.buf = EMPTY;
    p.unfrag = EMPTY;
    p.ranges.length = 0;
    p.discarded = counter === C.drop_reasm6_overlap;
    if (!p.discarded) this.remove(p);
  }

  private evictOldest(keep: Partial6 | undefined): boolean {
    for (const p of this.pending.values()) {
      if (p === keep) continue;
      this.remove(p);
      return true;
    }
    return false;
  }

  private remove(p: Partial6): void {
    this.pending.delete(p.key);
    this.bytes -= p.buf.length;
    p.buf = EMPTY;
    this.counters[C.reasm6_pending_datagrams] = this.pending.size;
  }
}

/** The key of a fragment: source, destination and identification as 18 UTF-16 code units. */
function keyOf(b: Uint8Array, ipOff: number, id: number): string {
  let k = '';
  for (let i = ipOff + 8; i < ipOff + 40; i += 2) k += String.fromCharCode((b[i] << 8) | b[i + 1]);
  return k + String.fromCharCode(id >>> 16, id & 0xffff);
}
