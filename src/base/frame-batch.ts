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
 */
import type { TxOffload } from './link.js';

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

  /**
   * @param buf the frames' memory
   * @param capacity most frames in the batch
   * @param headroom bytes reserve() leaves free in front of every frame (a device's txHeadroom)
   */
  constructor(buf: Uint8Array, capacity: number, readonly headroom = 0) {
    this.buf = buf;
    this.capacity = capacity;
    this.offsets = new Int32Array(capacity);
    this.lens = new Int32Array(capacity);
    this.rxFlags = new Uint8Array(capacity);
    this.segSize = new Uint16Array(capacity);
    this.csumStart = new Int32Array(capacity).fill(-1);
    this.csumOffset = new Uint8Array(capacity);
    this.hdrLen = new Uint16Array(capacity);
  }

  /** Empties the batch (the memory is reused from the start). */
  clear(): void {
    this.count = 0;
    this.used = 0;
    this.cur = -1;
    this.failed = 0;
    this.lastErrno = 0;
  }

  /**
   * Room for one more frame of at most `maxLen` bytes: its offset in `buf` — 16-byte
   * aligned, or placed so that its byte `alignAt` is (TxSink.reserve) — or -1 when the
   * batch is full (frames or bytes).
   */
  reserve(maxLen: number, alignAt = 0): number {
    const room = this.used + this.headroom;
    const o = ((room + 15) & ~15) + ((16 - (alignAt & 15)) & 15);
    if (this.count === this.capacity || o + maxLen > this.buf.length) return -1;
    this.cur = o;
    return o;
  }

  /** Records the frame begun by reserve(), `len` bytes, with its transmit offload (null: none). */
  commit(len: number, offload: TxOffload | null): void {
    const o = this.cur;
    if (o < 0) return;
    this.cur = -1;
    const i = this.count++;
    this.offsets[i] = o;
    this.lens[i] = len;
    this.rxFlags[i] = 0;
    this.setOffload(i, offload);
    this.used = (o + len + 15) & ~15;
  }

  /** Appends a description of a frame already in `buf` (offset, length, offload); false when full. */
  add(off: number, len: number, offload: TxOffload | null): boolean {
    if (this.count === this.capacity) return false;
    const i = this.count++;
    this.offsets[i] = off;
    this.lens[i] = len;
    this.rxFlags[i] = 0;
    this.setOffload(i, offload);
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
