/**
 * A LinkDevice for tests of what drives a device: it records every frame transmitted
 * (bytes and offload request), can refuse frames as a full kernel queue does (`acceptPlan`)
 * or reject chosen ones as a failing write does (`failing`), and hands out queued frames
 * on receive.
 */
import type { FrameBatch } from '../../src/base/frame-batch.js';
import { plainCapabilities, type LinkCapabilities, type LinkDevice } from '../../src/base/link.js';

/** One transmitted frame and the offload asked for it. */
export interface SentFrame {
  bytes: Uint8Array;
  csumStart: number;
  csumOffset: number;
  segSize: number;
  hdrLen: number;
}

/** Records transmissions; scripted refusals and failures. */
export class RecordingDevice implements LinkDevice {
  readonly capabilities: LinkCapabilities;
  /** Frames the device took, in order (rejected ones excluded). */
  readonly sent: SentFrame[] = [];
  /** transmit() calls made. */
  calls = 0;
  /** Per transmit() call: how many frames to take before the queue is "full" (none left: all). */
  acceptPlan: number[] = [];
  /** Indexes (counting every frame offered, across calls) that fail with EIO. */
  readonly failing = new Set<number>();
  /** Frames receive() hands out: bytes and receive flags. */
  readonly incoming: Array<{ bytes: Uint8Array; rxFlags: number }> = [];
  private offered = 0;

  constructor(capabilities: Partial<LinkCapabilities> = {}) {
    this.capabilities = { ...plainCapabilities(1500), ...capabilities };
  }

  transmit(batch: FrameBatch, first: number): number {
    this.calls++;
    const accept = this.acceptPlan.length > 0 ? this.acceptPlan.shift()! : Infinity;
    let done = 0;
    for (let i = first; i < batch.count && done < accept; i++, done++) {
      if (this.failing.has(this.offered++)) {
        batch.failed++;
        batch.lastErrno = 5;
        continue;
      }
      this.sent.push({
        bytes: batch.frameBytes(i),
        csumStart: batch.csumStart[i],
        csumOffset: batch.csumOffset[i],
        segSize: batch.segSize[i],
        hdrLen: batch.hdrLen[i],
      });
    }
    return done;
  }

  receive(batch: FrameBatch, max: number): number {
    let n = 0;
    let used = 0;
    while (n < Math.min(max, batch.capacity) && this.incoming.length > 0) {
      const f = this.incoming[0];
      if (used + f.bytes.length > batch.buf.length) break;
      this.incoming.shift();
      batch.buf.set(f.bytes, used);
      batch.offsets[n] = used;
      batch.lens[n] = f.bytes.length;
      batch.rxFlags[n] = f.rxFlags;
      batch.segSize[n] = 0;
      n++;
      used = (used + f.bytes.length + 15) & ~15;
    }
    batch.count = n;
    return n;
  }
}
