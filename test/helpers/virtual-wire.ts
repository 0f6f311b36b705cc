/**
 * A virtual wire for deterministic tests of the sans-I/O core: a TxSink that keeps every
 * committed frame, with an optional capacity so that "TX full" can be tested too.
 */
import type { TxSink } from '../../src/base/tx-sink.js';

/** Collects the frames a Host sends. */
export class VirtualWire implements TxSink {
  readonly buf = new Uint8Array(70_000);
  /** Frames sent so far (copies). */
  readonly frames: Uint8Array[] = [];
  /** Frames the sink still accepts before it reports full (Infinity: unlimited). */
  room = Infinity;

  reserve(maxLen: number): number {
    if (this.room <= 0 || maxLen > this.buf.length) return -1;
    this.buf.fill(0xee, 0, maxLen); // poison: a field the core forgets to write shows up
    return 0;
  }

  commit(len: number): void {
    this.room--;
    this.frames.push(this.buf.slice(0, len));
  }

  /** Removes and returns the frames sent since the last take(). */
  take(): Uint8Array[] {
    return this.frames.splice(0, this.frames.length);
  }
}
