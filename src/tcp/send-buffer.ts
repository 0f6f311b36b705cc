/**
 * The send buffer of a connection: bytes the application wrote that the peer has not
 * acknowledged yet (RFC 9293 3.3.1 send sequence space: offset 0 is SND.UNA; unsent data
 * follows the in-flight data). The sender copies segments out of it, the cumulative ACK
 * releases bytes from the front (RFC 9293 3.10.7.4 fifth check, "SND.UNA <- SEG.ACK").
 *
 * Zero copy for the application's chunks: a write keeps a reference to the chunk (only
 * the accepted prefix is used when it does not fit). The caller must not modify a chunk
 * after writing it (Node's net module has the same rule). Small writes (< SMALL_WRITE
 * bytes) are copied into a shared staging block instead, so a stream of tiny writes does
 * not become one entry per byte; consecutive small writes extend one entry.
 *
 * Lookup: entries carry their absolute start offset; copyOut() finds the first entry by
 * continuing from the previous lookup (sequential sends) or by binary search
 * (retransmissions). Released entries are dropped from the front; the arrays are
 * compacted when more than half of them are dead.
 *
 * Bounds: at most `capacity` bytes are accepted; the staging block adds at most
 * STAGE_BLOCK bytes of slack. No allocation per segment.
 */
import { copyBytes } from '../util/copy-bytes.js';
import { BLOCK_BYTES, giveBlock, takeBlock } from '../util/block-pool.js';

/** Writes shorter than this are copied into the staging block, bytes. */
export const SMALL_WRITE = 256;
/** Size of a staging block for small writes, bytes (a pooled block, util/block-pool.ts). */
export const STAGE_BLOCK = BLOCK_BYTES;

/** Bytes the application wrote and the peer has not acknowledged yet. Holds the app's chunks by reference (no copy); offset 0 = sndUna. */
export class SendBuffer {
  /** Most bytes held at once; may be changed (a smaller value just stops new writes). */
  capacity: number;

  // Entries: bytes bufs[i][offs[i] .. offs[i]+lens[i]) at absolute offset starts[i].
  private bufs: Array<Uint8Array | null> = [];
  private offs: number[] = [];
  private lens: number[] = [];
  private starts: number[] = [];
  private head = 0; // first live entry
  private base = 0; // absolute offset of SND.UNA
  private end = 0; // absolute offset just past the last byte
  private cursor = 0; // entry index of the previous lookup
  private stage: Uint8Array<ArrayBuffer> | null = null;
  private stageUsed = 0;

  /** @param capacity most bytes held at once */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Bytes held (unacked + unsent). */
  get length(): number {
    return this.end - this.base;
  }

  /** Free space: capacity - length (0 if capacity was lowered below length). */
  get space(): number {
    const s = this.capacity - (this.end - this.base);
    return s > 0 ? s : 0;
  }

  /** Live entries (chunks referenced plus staging runs), for /connections and tests. */
  get chunkCount(): number {
    return this.bufs.length - this.head;
  }

  /** Appends up to `space` bytes of chunk; returns bytes accepted (0..chunk.length). Keeps a reference (subarray if partial). */
  write(chunk: Uint8Array): number {
    const space = this.space;
    const n = chunk.length < space ? chunk.length : space;
    if (n <= 0) return 0;
    if (n < SMALL_WRITE) {
      this.writeSmall(chunk, n);
    } else {
      this.push(chunk, 0, n);
    }
    this.end += n;
    return n;
  }

  /** Copies `len` bytes starting `offset` bytes after sndUna into dst[dstOff..]. Throws RangeError beyond the data held. */
  copyOut(offset: number, len: number, dst: Uint8Array, dstOff: number): void {
    if (len <= 0) return;
    if (offset < 0 || offset + len > this.end - this.base) {
      throw new RangeError(`copyOut(${offset}, ${len}) outside the ${this.end - this.base} bytes held`);
    }
    let a = this.base + offset;
    let i = this.locate(a);
    let left = len;
    let d = dstOff;
    while (left > 0) {
      const within = a - this.starts[i]!;
      let n = this.lens[i]! - within;
      if (n > left) n = left;
      copyBytes(this.bufs[i]!, this.offs[i]! + within, dst, d, n);
      d += n;
      a += n;
      left -= n;
      if (left > 0) i++;
    }
    this.cursor = i;
  }

  /** Releases `n` acknowledged bytes from the front (clamped to length). */
  ack(n: number): void {
    if (!(n > 0)) return;
    const held = this.end - this.base;
    this.base += n < held ? n : held;
    const count = this.bufs.length;
    let h = this.head;
    while (h < count && this.starts[h]! + this.lens[h]! <= this.base) {
      this.bufs[h] = null;
      h++;
    }
    this.head = h;
    if (h === count) {
      this.bufs.length = 0;
      this.offs.length = 0;
      this.lens.length = 0;
      this.starts.length = 0;
      this.head = 0;
      this.cursor = 0;
      this.stageUsed = 0; // nothing refers to the staging block now: fill it again from the start
    } else if (h > 32 && h * 2 > count) {
      this.bufs.splice(0, h);
      this.offs.splice(0, h);
      this.lens.splice(0, h);
      this.starts.splice(0, h);
      this.cursor = this.cursor > h ? this.cursor - h : 0;
      this.head = 0;
    }
  }

  /**
   * The connection is done with the buffer: when nothing is held any more, its staging
   * block goes back to the pool (else everything is left to the GC). Writes after this
   * start a new block.
   */
  dispose(): void {
    if (this.stage === null || this.end !== this.base) return;
    const st = this.stage;
    this.stage = null;
    this.stageUsed = 0;
    giveBlock(st);
  }

  private push(b: Uint8Array, off: number, n: number): void {
    this.bufs.push(b);
    this.offs.push(off);
    this.lens.push(n);
    this.starts.push(this.end);
  }

  private writeSmall(chunk: Uint8Array, n: number): void {
    let st = this.stage;
    if (st === null || this.stageUsed + n > st.length) {
      st = takeBlock();
      this.stage = st;
      this.stageUsed = 0;
    }
    const at = this.stageUsed;
    copyBytes(chunk, 0, st, at, n);
    this.stageUsed = at + n;
    const last = this.bufs.length - 1;
    if (last >= this.head && this.bufs[last] === st && this.offs[last]! + this.lens[last]! === at) {
      this.lens[last] = this.lens[last]! + n;
    } else {
      this.push(st, at, n);
    }
  }

  /** Index of the live entry holding absolute offset `a` (a < end). */
  private locate(a: number): number {
    const starts = this.starts;
    const count = starts.length;
    let c = this.cursor;
    if (c >= this.head && c < count && starts[c]! <= a) {
      // Sequential access: the wanted entry is usually this one or the next.
      for (let k = 0; k < 4 && c < count; k++, c++) {
        if (a < starts[c]! + this.lens[c]!) return c;
      }
    }
    let lo = this.head;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= a) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
