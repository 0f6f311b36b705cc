/**
 * The send buffer of a connection: bytes the application wrote that the peer has not
 * acknowledged yet (RFC 9293 3.3.1 send sequence space: offset 0 is SND.UNA; unsent data
 * follows the in-flight data). The sender copies segments out of it, the cumulative ACK
 * releases bytes from the front (RFC 9293 3.10.7.4 fifth check, "SND.UNA <- SEG.ACK").
 *
 * Every write is copied, into a chain of pooled blocks (util/block-pool.ts), as Linux
 * copies into skbs: once write() returned, the application's chunk is never read again,
 * so the socket may complete the write at once and the application may reuse its buffer
 * (Node's contract: after a write's callback the buffer is the caller's again). Segments
 * and retransmissions are built from the blocks. docs/decisions/0013-write-semantics.md
 * has the figures against keeping the chunk and completing the write on its ACK.
 *
 * Layout: block i of the chain holds bytes [start + i·BLOCK_BYTES, start + (i+1)·BLOCK_BYTES)
 * (absolute offsets); every block is full except the last, so the block holding offset `a`
 * is found by one division, with no per-write entries. The chain is a ring of block
 * references that grows by doubling.
 *
 * Bounds: at most `capacity` bytes are accepted, held in at most ⌈capacity/BLOCK_BYTES⌉+1
 * blocks. A block goes back to the pool as soon as the cumulative ACK has passed all of
 * it; when everything is acknowledged the buffer holds no block at all (an idle
 * connection costs no send-buffer memory). No allocation per segment.
 */
import { copyBytes } from '../util/copy-bytes.js';
import { BLOCK_BYTES, giveBlock, takeBlock } from '../util/block-pool.js';

type Block = Uint8Array<ArrayBuffer>;

/** Where attachOut() hands its pieces (a TxSink's attach). */
export interface PieceSink {
  attach(src: Uint8Array, off: number, len: number): void;
}

const EMPTY: Uint8Array = new Uint8Array(0);

/** copyOut's PieceSink: copies each piece to dst[at..] (one per thread, no object per call). */
const copier = {
  dst: EMPTY,
  at: 0,
  attach(src: Uint8Array, off: number, len: number): void {
    copyBytes(src, off, this.dst, this.at, len);
    this.at += len;
  },
};

/** A ring longer than this (slots) is dropped when the buffer empties, so an idle connection keeps no large array. */
const SMALL_RING = 8;

/** Bytes the application wrote and the peer has not acknowledged yet, copied into pooled blocks; offset 0 = sndUna. */
export class SendBuffer {
  /** Most bytes held at once; may be changed (a smaller value just stops new writes). */
  capacity: number;

  // The chain: `count` blocks from ring[first], ring.length a power of two.
  private ring: Array<Block | null> = [null, null];
  private first = 0;
  private count = 0;
  private start = 0; // absolute offset of byte 0 of the first block
  private base = 0; // absolute offset of SND.UNA
  private end = 0; // absolute offset just past the last byte

  /** @param capacity most bytes held at once */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Bytes held (unacked + unsent). */
  get length(): number {
    return this.end - this.base;
  }

  /** Free space in whole bytes: capacity - length (0 if capacity was lowered below length). */
  get space(): number {
    const s = Math.floor(this.capacity) - (this.end - this.base);
    return s > 0 ? s : 0;
  }

  /** Pooled blocks held now (for /connections and tests). */
  get blockCount(): number {
    return this.count;
  }

  /** Copies up to `space` bytes of chunk in; returns bytes accepted (0..chunk.length). The chunk is not referenced afterwards. */
  write(chunk: Uint8Array): number {
    const space = this.space;
    const n = chunk.length < space ? chunk.length : space;
    if (n <= 0) return 0;
    const mask = this.ring.length - 1;
    // Bytes used in the last block (a full one when there is none: take a block first).
    let fill = this.count === 0 ? BLOCK_BYTES : this.end - this.start - (this.count - 1) * BLOCK_BYTES;
    let last = this.count === 0 ? null : this.blockAt((this.first + this.count - 1) & mask);
    let src = 0;
    while (src < n) {
      if (fill === BLOCK_BYTES || last === null) {
        last = this.pushBlock();
        fill = 0;
      }
      let k = BLOCK_BYTES - fill;
      if (k > n - src) k = n - src;
      copyBytes(chunk, src, last, fill, k);
      fill += k;
      src += k;
    }
    this.end += n;
    return n;
  }

  /** Copies `len` bytes starting `offset` bytes after sndUna into dst[dstOff..]. Throws RangeError beyond the data held. */
  copyOut(offset: number, len: number, dst: Uint8Array, dstOff: number): void {
    copier.dst = dst;
    copier.at = dstOff;
    this.attachOut(offset, len, copier);
    copier.dst = EMPTY;
  }

  /**
   * Hands `len` bytes starting `offset` bytes after sndUna to `to.attach` by reference, a
   * piece per block they span (scatter-gather transmit, decision 0051): the sink reads them
   * when it writes the frame. Blocks released meanwhile are not reused before
   * (util/block-pool.ts holdBlocks), and write() only appends past them. Throws RangeError
   * beyond the data held.
   */
  attachOut(offset: number, len: number, to: PieceSink): void {
    if (len <= 0) return;
    if (offset < 0 || offset + len > this.end - this.base) {
      throw new RangeError(`bytes ${offset} to ${offset + len} of the send buffer: only ${this.end - this.base} held`);
    }
    const rel = this.base + offset - this.start;
    const i = Math.floor(rel / BLOCK_BYTES);
    let within = rel - i * BLOCK_BYTES;
    const ring = this.ring;
    const mask = ring.length - 1;
    let idx = (this.first + i) & mask;
    let left = len;
    while (left > 0) {
      let k = BLOCK_BYTES - within;
      if (k > left) k = left;
      to.attach(this.blockAt(idx), within, k);
      left -= k;
      within = 0;
      idx = (idx + 1) & mask;
    }
  }

  /** Releases `n` acknowledged bytes from the front (clamped to length); blocks wholly acknowledged go back to the pool. */
  ack(n: number): void {
    if (!(n > 0)) return;
    const held = this.end - this.base;
    this.base += n < held ? n : held;
    if (this.base === this.end) {
      this.releaseAll();
      return;
    }
    const ring = this.ring;
    const mask = ring.length - 1;
    while (this.start + BLOCK_BYTES <= this.base) {
      giveBlock(this.blockAt(this.first));
      ring[this.first] = null;
      this.first = (this.first + 1) & mask;
      this.count--;
      this.start += BLOCK_BYTES;
    }
  }

  /**
   * The connection is done with the buffer (closed, reset or in TIME_WAIT): every block
   * goes back to the pool and whatever was still held is dropped (length becomes 0).
   * Writes after this start a new block.
   */
  dispose(): void {
    this.base = this.end;
    this.releaseAll();
  }

  /** Gives every block back; the next write starts a block at offset `end`. A grown ring is dropped too. */
  private releaseAll(): void {
    const ring = this.ring;
    const mask = ring.length - 1;
    for (let k = 0; k < this.count; k++) {
      const idx = (this.first + k) & mask;
      giveBlock(this.blockAt(idx));
      ring[idx] = null;
    }
    if (ring.length > SMALL_RING) this.ring = [null, null];
    this.first = 0;
    this.count = 0;
    this.start = this.end;
  }

  /** Appends a pooled block to the chain (growing the ring when full) and returns it. */
  private pushBlock(): Block {
    if (this.count === this.ring.length) {
      const old = this.ring;
      const grown: Array<Block | null> = new Array<Block | null>(old.length * 2).fill(null);
      for (let k = 0; k < this.count; k++) grown[k] = old[(this.first + k) & (old.length - 1)] ?? null;
      this.ring = grown;
      this.first = 0;
    }
    const b = takeBlock();
    this.ring[(this.first + this.count) & (this.ring.length - 1)] = b;
    this.count++;
    return b;
  }

  /** The block in ring slot `idx`, one of the `count` held (an invariant; a missing one is a bug and throws). */
  private blockAt(idx: number): Block {
    const b = this.ring[idx];
    if (b === null) throw new Error(`send buffer: no block in slot ${idx}`);
    return b;
  }
}
