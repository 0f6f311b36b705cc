/**
 * A thread's capture ring (decision 0016): the CaptureSink (phy/capture-device.ts) of
 * that thread's capture decorators, over an SPSC ring (dataplane/ring.ts) that the
 * capture writer on the main thread drains (dataplane/capture-merge.ts).
 *
 * Record: the captured bytes (cut to the snapshot length) as payload; kind = direction
 * (CAPTURE_RX / CAPTURE_TX); t0 = capture time (ms, util/clock.ts monoMs, the same
 * timeline in every thread); t1 = the frame's length on the wire. A full ring drops the
 * record (the decorator counts pcap_dropped; the ring its fullDrops) and never blocks.
 */
import type { CaptureSink } from '../phy/capture-device.js';
import { RingProducer } from './ring.js';

/** Bytes of each thread's capture ring (a power of two: dataplane/ring.ts). */
export const CAPTURE_RING_BYTES = 4 * 1024 * 1024;

/** The producing end of a capture ring. */
export class CaptureRingSink implements CaptureSink {
  private readonly ring: RingProducer;

  constructor(sab: SharedArrayBuffer) {
    this.ring = new RingProducer(sab);
  }

  get buf(): Uint8Array {
    return this.ring.buf;
  }

  reserve(maxLen: number): number {
    const o = this.ring.reserve(maxLen);
    if (o < 0) this.ring.noteDrop();
    return o;
  }

  commit(len: number, origLen: number, dir: number, timeMs: number): void {
    this.ring.commit(len, dir, timeMs, origLen);
  }

  publish(): void {
    // The writer polls; it never sleeps on the ring, so there is nobody to wake.
    this.ring.publish();
  }
}
