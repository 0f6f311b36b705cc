/**
 * A virtual wire for deterministic tests of the sans-I/O core: a TxSink that keeps every
 * committed frame and the offload the core asked for with it, with an optional capacity
 * so that "TX full" can be tested too. With `gathers` set it takes payload by reference
 * (TxSink.attach) and copies it into the frame it keeps at commit.
 */
import type { TxOffload, TxSink } from '../../src/base/link.js';

/** The offload fields of one committed frame (null: none asked). */
export type OffloadRecord = Pick<TxOffload, 'csumStart' | 'csumOffset' | 'segSize' | 'hdrLen'> | null;

/** Collects the frames a Host sends. */
export class VirtualWire implements TxSink {
  readonly buf = new Uint8Array(70_000);
  /** Frames sent so far (copies). */
  readonly frames: Uint8Array[] = [];
  /** The offload asked for each frame in `frames`, by index. */
  readonly offloads: OffloadRecord[] = [];
  /** Frames the sink still accepts before it reports full (Infinity: unlimited). */
  room = Infinity;
  /** Frames may end in pieces held by reference (TxSink.gathers). Default false. */
  gathers = false;
  /** Pieces attached to the frame being built. */
  private readonly pieces: Array<{ src: Uint8Array; off: number; len: number }> = [];

  reserve(maxLen: number): number {
    this.pieces.length = 0;
    if (this.room <= 0 || maxLen > this.buf.length) return -1;
    this.buf.fill(0xee, 0, maxLen); // poison: a field the core forgets to write shows up
    return 0;
  }

  attach(src: Uint8Array, off: number, len: number): void {
    if (!this.gathers) throw new Error('attach() on a VirtualWire that does not gather');
    this.pieces.push({ src, off, len });
  }

  commit(len: number, offload: TxOffload | null): void {
    this.room--;
    let d = len - this.pieces.reduce((n, p) => n + p.len, 0);
    const frame = this.buf.slice(0, len);
    for (const p of this.pieces) {
      frame.set(p.src.subarray(p.off, p.off + p.len), d);
      d += p.len;
    }
    this.pieces.length = 0;
    this.frames.push(frame);
    this.offloads.push(
      offload === null ? null : { csumStart: offload.csumStart, csumOffset: offload.csumOffset, segSize: offload.segSize, hdrLen: offload.hdrLen },
    );
  }

  /** Removes and returns the frames sent since the last take() (and their offload records). */
  take(): Uint8Array[] {
    this.offloads.length = 0;
    return this.frames.splice(0, this.frames.length);
  }

  /** Like take(), with each frame's offload record. */
  takeWithOffload(): Array<{ frame: Uint8Array; offload: OffloadRecord }> {
    const out = this.frames.map((frame, i) => ({ frame, offload: this.offloads[i] ?? null }));
    this.frames.length = 0;
    this.offloads.length = 0;
    return out;
  }
}
