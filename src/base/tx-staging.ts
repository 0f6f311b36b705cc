/**
 * A TxSink that stages the frames the core builds in a FrameBatch and transmits them to a
 * LinkDevice in batches (flush()), flushing early when the batch is full. What a
 * single-threaded driver (iface/link-driver.ts) and a shard worker writing to the TAP
 * itself (dataplane/direct-writer.ts, which adds counters and latency) send through.
 *
 * Bounded: at most `frames` frames or `bytes` bytes are staged. Frames the device does
 * not take because its queue is full are dropped, as a NIC drops when its ring is full;
 * `lastFlush` says what happened to the last batch.
 *
 * Over a device with txGather, a frame may end in a payload held by reference (attach,
 * decision 0051); from the first such piece until the batch is written or cleared the
 * block pool keeps blocks given back aside (util/block-pool.ts holdBlocks), so that the
 * memory a staged frame points into is not refilled before it goes out.
 */
import { FrameBatch } from './frame-batch.js';
import type { LinkDevice, TxOffload, TxSink } from './link.js';
import { holdBlocks, releaseBlocks } from '../util/block-pool.js';

/** Default staging: room for 8 TSO super-frames of 64 KiB plus 64 MTU-sized frames. */
export const TX_STAGING_BYTES = 8 * 65_600 + 64 * 1_600;

/** Outcome of one flush. */
export interface FlushResult {
  /** Frames staged, frames the device consumed, frames it rejected (errors) among those. */
  staged: number;
  consumed: number;
  failed: number;
  /** device.transmit() calls made. */
  calls: number;
  /** errno of the last rejected frame (0: none). */
  lastErrno: number;
}

/** Stages frames and transmits them to a device. */
export class TxStaging implements TxSink {
  protected readonly batch: FrameBatch;
  readonly gathers: boolean;
  /** The batch holds pieces (holdBlocks() was called for it). */
  private holding = false;
  /** What the last flush() did. */
  readonly lastFlush: FlushResult = { staged: 0, consumed: 0, failed: 0, calls: 0, lastErrno: 0 };

  /**
   * @param device where flush() transmits
   * @param bytes staging memory
   * @param frames most frames staged
   */
  constructor(protected readonly device: LinkDevice, bytes = TX_STAGING_BYTES, frames = 64) {
    this.gathers = device.capabilities.txGather === true;
    this.batch = new FrameBatch(new Uint8Array(new ArrayBuffer(bytes)), frames, device.capabilities.txHeadroom, this.gathers);
  }

  get buf(): Uint8Array {
    return this.batch.buf;
  }

  /** Frames staged and not yet transmitted. */
  get pending(): number {
    return this.batch.count;
  }

  reserve(maxLen: number, alignAt = 0): number {
    let o = this.batch.reserve(maxLen, alignAt);
    if (o < 0 && this.batch.count > 0) {
      this.flush();
      o = this.batch.reserve(maxLen, alignAt);
    }
    return o;
  }

  commit(len: number, offload: TxOffload | null): void {
    this.batch.commit(len, offload);
  }

  attach(src: Uint8Array, off: number, len: number): void {
    this.batch.attach(src, off, len);
    if (!this.holding) {
      this.holding = true;
      holdBlocks();
    }
  }

  /** Drops every staged frame without transmitting it. */
  clear(): void {
    this.batch.clear();
    this.release();
  }

  /** The staged frames are gone: blocks given back meanwhile may be reused. */
  private release(): void {
    if (!this.holding) return;
    this.holding = false;
    releaseBlocks();
  }

  /** Transmits every staged frame in order; returns how many the device consumed. */
  flush(): number {
    const b = this.batch;
    const k = b.count;
    if (k === 0) {
      this.release(); // pieces of a frame reserved and never committed
      return 0;
    }
    let done = 0;
    let calls = 0;
    while (done < k) {
      const w = this.device.transmit(b, done);
      calls++;
      if (w <= 0) break; // the device queue is full: the rest is dropped
      done += w;
    }
    const r = this.lastFlush;
    r.staged = k;
    r.consumed = done;
    r.failed = b.failed;
    r.calls = calls;
    r.lastErrno = b.lastErrno;
    this.flushed(r);
    b.clear();
    this.release();
    return done;
  }

  /** Called by flush() after transmitting, before the batch is cleared (frame i's data still there). */
  protected flushed(_r: FlushResult): void {}
}
