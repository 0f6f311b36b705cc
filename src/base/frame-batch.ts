/**
 * A batch of frames in one buffer, with per-frame metadata in typed arrays (no object per
 * frame): what a LinkDevice receives into and transmits from (base/link.ts).
 *
 * Frames start 16-byte aligned (copies into and out of shared memory are several times
 * slower to unaligned addresses). For building outgoing frames in place the batch hands
 * out room with reserve() and records each frame with commit(); a receiving device fills
 * offsets/lens/rxFlags/segSize itself and sets `count`.
 *
 * Per-frame fields:
 *   receive:  rxFlags (RX_* of base/rx-flags.ts), segSize (segment size of an aggregate)
 *   transmit: csumStart / csumOffset / segSize / hdrLen (a TxOffload, base/link.ts)
 *
 * Scatter-gather transmit (decision 0051): a frame being built may end in pieces of other
 * memory, held by reference (attach(): a TCP payload left in the send buffer's blocks).
 * `lens[i]` then counts only the frame's bytes in `buf`, `attached[i]` the bytes of its
 * pieces, which are pieces[pieceFirst[i] .. pieceFirst[i] + pieceCount[i]). Only a batch
 * made with `gather` takes pieces, and only a device with capabilities.txGather is handed one.
 */
import type { TxOffload } from './link.js';

/** Most pieces one frame may hold: a 64 KiB payload spans at most 5 send-buffer blocks of 16 KiB. */
export const MAX_PIECES_PER_FRAME = 8;
/** Most frames of a batch that takes pieces: the TAP writes at most 1 024 pieces per call (native/tap.c). */
export const GATHER_MAX_FRAMES = 128;

/** Frames and their metadata in one buffer. */
export class FrameBatch {
  /** Memory holding the frames (may be replaced: e.g. a view over ring memory). */
  buf: Uint8Array;
  readonly capacity: number;
  readonly offsets: Int32Array;
  readonly lens: Int32Array;
  readonly rxFlags: Uint8Array;
  readonly segSize: Uint16Array;
  readonly csumStart: Int32Array;
  readonly csumOffset: Uint8Array;
  readonly hdrLen: Uint16Array;
  /** Frames in the batch. */
  count = 0;
  /** Bytes of `buf` used by reserve()/commit() so far. */
  used = 0;
  /** Frames a device rejected since the last clear(), and the errno of the last one. */
  failed = 0;
  lastErrno = 0;
  /** Offset of the frame being built (reserve → commit), -1: none. */
  private cur = -1;
  /** Per frame: its first piece, its piece count, the bytes of its pieces (all 0 without gather). */
  readonly pieceFirst: Int32Array;
  readonly pieceCount: Int32Array;
  readonly attached: Int32Array;
  /** The pieces: memory, offset and length each (empty without gather). */
  readonly pieces: Array<Uint8Array | null>;
  readonly pieceOff: Int32Array;
  readonly pieceLen: Int32Array;
  /** Pieces held, the frame being built's included. */
  piecesUsed = 0;
  /** Pieces and bytes attached to the frame being built. */
  private curPieces = 0;
  private curAttached = 0;

  /**
   * @param buf the frames' memory
   * @param capacity most frames in the batch
   * @param headroom bytes reserve() leaves free in front of every frame (a device's txHeadroom)
   * @param gather frames may hold pieces by reference (attach)
   */
  constructor(buf: Uint8Array, capacity: number, readonly headroom = 0, readonly gather = false) {
    this.buf = buf;
    this.capacity = capacity;
    this.offsets = new Int32Array(capacity);
    this.lens = new Int32Array(capacity);
    this.rxFlags = new Uint8Array(capacity);
    this.segSize = new Uint16Array(capacity);
    this.csumStart = new Int32Array(capacity).fill(-1);
    this.csumOffset = new Uint8Array(capacity);
    this.hdrLen = new Uint16Array(capacity);
    this.pieceFirst = new Int32Array(capacity);
    this.pieceCount = new Int32Array(capacity);
    this.attached = new Int32Array(capacity);
    if (gather && capacity > GATHER_MAX_FRAMES) throw new RangeError(`a batch that takes pieces holds at most ${GATHER_MAX_FRAMES} frames`);
    const p = gather ? capacity * MAX_PIECES_PER_FRAME : 0;
    this.pieces = new Array<Uint8Array | null>(p).fill(null);
    this.pieceOff = new Int32Array(p);
    this.pieceLen = new Int32Array(p);
  }

  /** Empties the batch (the memory is reused from the start). */
  clear(): void {
    this.count = 0;
    this.used = 0;
    this.cur = -1;
    this.failed = 0;
    this.lastErrno = 0;
    // Let go of the pieces' memory.
    for (let j = 0; j < this.piecesUsed; j++) this.pieces[j] = null;
    this.piecesUsed = 0;
    this.curPieces = 0;
    this.curAttached = 0;
  }

  /**
   * Room for one more frame of at most `maxLen` bytes: its offset in `buf` — 16-byte
   * aligned, or placed so that its byte `alignAt` is (TxSink.reserve) — or -1 when the
   * batch is full (frames or bytes).
   */
  reserve(maxLen: number, alignAt = 0): number {
    const room = this.used + this.headroom;
    const o = ((room + 15) & ~15) + ((16 - (alignAt & 15)) & 15);
    this.dropCurrentPieces();
    if (this.count === this.capacity || o + maxLen > this.buf.length) return -1;
    this.cur = o;
    return o;
  }

  /**
   * Ends the frame being built with `len` bytes of `src` from `off`, held by reference
   * (not copied): the memory must stay as it is until the batch is transmitted or cleared.
   * For a batch made with `gather`, between reserve() and commit(); commit's length counts
   * these bytes. Throws RangeError beyond MAX_PIECES_PER_FRAME pieces (a caller's bug).
   */
  attach(src: Uint8Array, off: number, len: number): void {
    if (this.cur < 0 || !this.gather || this.curPieces === MAX_PIECES_PER_FRAME) {
      throw new RangeError(`attach: no frame being built in a gathering batch, or more than ${MAX_PIECES_PER_FRAME} pieces`);
    }
    const j = this.piecesUsed++;
    this.pieces[j] = src;
    this.pieceOff[j] = off;
    this.pieceLen[j] = len;
    this.curPieces++;
    this.curAttached += len;
  }

  /** Bytes of frame i, its pieces included, as one new array (for devices that keep frames; tests). */
  frameBytes(i: number): Uint8Array {
    const out = new Uint8Array(this.lens[i] + this.attached[i]);
    this.copyFrame(i, out, 0);
    return out;
  }

  /** Copies frame i, its pieces included, to dst[dstOff..] (which must have room); returns its length. */
  copyFrame(i: number, dst: Uint8Array, dstOff: number): number {
    const off = this.offsets[i];
    const len = this.lens[i];
    dst.set(this.buf.subarray(off, off + len), dstOff);
    let d = dstOff + len;
    for (let j = this.pieceFirst[i], end = j + this.pieceCount[i]; j < end; j++) {
      const p = this.pieces[j];
      if (p === null) throw new Error(`frame ${i}: piece ${j} is gone`);
      dst.set(p.subarray(this.pieceOff[j], this.pieceOff[j] + this.pieceLen[j]), d);
      d += this.pieceLen[j];
    }
    return d - dstOff;
  }

  /** Forgets the pieces attached to a frame that was reserved and not committed. */
  private dropCurrentPieces(): void {
    for (let k = 0; k < this.curPieces; k++) this.pieces[--this.piecesUsed] = null;
    this.curPieces = 0;
    this.curAttached = 0;
  }

  /** Records the frame begun by reserve(), `len` bytes, with its transmit offload (null: none). */
  commit(len: number, offload: TxOffload | null): void {
    const o = this.cur;
    if (o < 0) return;
    this.cur = -1;
    const i = this.count++;
    const inBuf = len - this.curAttached;
    this.offsets[i] = o;
    this.lens[i] = inBuf;
    this.rxFlags[i] = 0;
    this.setOffload(i, offload);
    this.pieceFirst[i] = this.piecesUsed - this.curPieces;
    this.pieceCount[i] = this.curPieces;
    this.attached[i] = this.curAttached;
    this.curPieces = 0;
    this.curAttached = 0;
    this.used = (o + inBuf + 15) & ~15;
  }

  /** Appends a description of a frame already in `buf` (offset, length, offload); false when full. */
  add(off: number, len: number, offload: TxOffload | null): boolean {
    if (this.count === this.capacity) return false;
    const i = this.count++;
    this.offsets[i] = off;
    this.lens[i] = len;
    this.rxFlags[i] = 0;
    this.setOffload(i, offload);
    this.pieceCount[i] = 0;
    this.attached[i] = 0;
    return true;
  }

  /** Sets frame i's transmit offload fields (null: none). */
  setOffload(i: number, o: TxOffload | null): void {
    if (o === null) {
      this.csumStart[i] = -1;
      this.csumOffset[i] = 0;
      this.segSize[i] = 0;
      this.hdrLen[i] = 0;
    } else {
      this.csumStart[i] = o.csumStart;
      this.csumOffset[i] = o.csumOffset;
      this.segSize[i] = o.segSize;
      this.hdrLen[i] = o.hdrLen;
    }
  }
}
