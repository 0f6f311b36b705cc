/**
 * The reading side of the capture rings (decision 0016): merges the records of every
 * thread's ring (dataplane/capture-ring.ts) into one stream in order of capture time.
 *
 * Each ring is in time order (one thread appends with the process-wide monotonic clock),
 * so a k-way merge with one record of lookahead per ring suffices. A record can be
 * published a little after it was stamped, so drain(upTo) passes on only records stamped
 * at or before `upTo` (the caller keeps `upTo` a few ms behind now); the first record
 * beyond it in each ring waits, copied out of the ring so that the ring's space can be
 * released. A record published later than that grace with an older time comes out of
 * order — rare (a thread descheduled between stamping and publishing) and harmless to
 * pcap readers.
 */
import { copyBytes } from '../util/copy-bytes.js';
import { RingConsumer, RING_MAX_RECORD } from './ring.js';

/** Receives each merged record: bytes, length on the wire, direction, capture time (ms, monoMs). */
export type CaptureRecordFn = (buf: Uint8Array, off: number, len: number, origLen: number, dir: number, timeMs: number) => void;

/** Merges capture rings by time. */
export class CaptureMerger {
  private readonly rings: RingConsumer[];
  /** Per ring: the lookahead record (has), where its bytes are (src/off), its fields. */
  private readonly has: boolean[];
  private readonly src: Uint8Array[];
  private readonly off: Int32Array;
  private readonly len: Int32Array;
  private readonly orig: Int32Array;
  private readonly dir: Uint8Array;
  private readonly time: Float64Array;
  /** Per ring: where a lookahead record is kept once its ring space is released (allocated on first use). */
  private readonly kept: Array<Uint8Array | null>;

  constructor(sabs: readonly SharedArrayBuffer[]) {
    this.rings = sabs.map((s) => new RingConsumer(s));
    const n = sabs.length;
    this.has = new Array<boolean>(n).fill(false);
    this.src = this.rings.map((r) => r.buf);
    this.off = new Int32Array(n);
    this.len = new Int32Array(n);
    this.orig = new Int32Array(n);
    this.dir = new Uint8Array(n);
    this.time = new Float64Array(n);
    this.kept = new Array<Uint8Array | null>(n).fill(null);
  }

  /**
   * Passes every record stamped at or before `upTo` to `out`, oldest first; returns how
   * many. Ring space is released before returning.
   */
  drain(upTo: number, out: CaptureRecordFn): number {
    const n = this.rings.length;
    for (let r = 0; r < n; r++) if (!this.has[r]) this.fetch(r);
    let written = 0;
    for (;;) {
      let best = -1;
      for (let r = 0; r < n; r++) if (this.has[r] && (best < 0 || this.time[r] < this.time[best])) best = r;
      if (best < 0 || this.time[best] > upTo) break;
      out(this.src[best], this.off[best], this.len[best], this.orig[best], this.dir[best], this.time[best]);
      written++;
      this.fetch(best);
    }
    for (let r = 0; r < n; r++) {
      const ring = this.rings[r];
      if (this.has[r] && this.src[r] === ring.buf) {
        const k = (this.kept[r] ??= new Uint8Array(RING_MAX_RECORD));
        copyBytes(ring.buf, this.off[r], k, 0, this.len[r]);
        this.src[r] = k;
        this.off[r] = 0;
      }
      ring.release();
    }
    return written;
  }

  /** Forgets every record published so far (e.g. left over from an earlier capture). */
  discard(): void {
    this.has.fill(false);
    for (const ring of this.rings) {
      while (ring.next() >= 0);
      ring.release();
    }
  }

  /** Loads the next record of ring r as its lookahead (has[r] false when there is none). */
  private fetch(r: number): void {
    const ring = this.rings[r];
    const o = ring.next();
    if (o < 0) {
      this.has[r] = false;
      return;
    }
    this.has[r] = true;
    this.src[r] = ring.buf;
    this.off[r] = o;
    this.len[r] = ring.length;
    this.orig[r] = ring.t1;
    this.dir[r] = ring.kind;
    this.time[r] = ring.t0;
  }
}
