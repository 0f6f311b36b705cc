/**
 * A virtual wire for deterministic tests of the sans-I/O core: a TxSink that keeps every
 * committed frame and the offload the core asked for with it, with an optional capacity
 * so that "TX full" can be tested too.
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

  reserve(maxLen: number): number {
    if (this.room <= 0 || maxLen > this.buf.length) return -1;
    this.buf.fill(0xee, 0, maxLen); // poison: a field the core forgets to write shows up
    return 0;
  }

  commit(len: number, offload: TxOffload | null): void {
    this.room--;
    this.frames.push(this.buf.slice(0, len));
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
