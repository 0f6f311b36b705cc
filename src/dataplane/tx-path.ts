/**
 * A shard worker's transmit path (decision 0011): each frame is built in place either in
 * the worker's TX ring, for the I/O thread to write, or in the DirectWriter's staging
 * batch, for the worker to write itself.
 *
 * - Busy worker (more frames waiting in its RX ring): the ring. The I/O thread writes in
 *   parallel while the worker goes on with the next frames; measured, this keeps ~25 %
 *   more HTTP requests/s than writing everything from the worker on 2 vCPUs.
 * - Idle worker (nothing else waiting): write directly. Handing one reply to a sleeping
 *   I/O thread costs an eventfd wake-up (~100–200 µs on this VM), the write ~5 µs.
 * - A bulk frame (a TSO super-segment of DIRECT_FRAME_MIN bytes or more): directly, busy
 *   or not. Its copy into shared memory costs more than the I/O thread's parallel write
 *   saves: a bulk download sent ~20 % more per second with every frame written by the
 *   worker (decision 0047).
 *
 * Counted in tx_direct_frames and tx_ring_frames. Frames of one flow never overtake each
 * other: the target changes only when nothing is in flight on the current one (staging
 * empty; or every ring record published and released by the I/O thread, which releases
 * after writing). A bulk frame of a flow the core names (TxFlow: a TCP connection) is
 * written directly even while the target is the ring, once the I/O thread has released
 * that flow's latest ring record: frames of other flows may still wait in the ring, and
 * need not go first. Without it a busy worker's bulk frames followed its small ones into
 * the ring, and a download's bursts filled it (decisions 0048, 0050). A flow may hold at
 * most TX_FLOW_LIMIT bytes unwritten in the ring; its next frame is refused until they are
 * written (TCP keeps it and waits for room: canResume). A ring record carries the frame's
 * offload request in front of it (dataplane/ring-records.ts).
 */
import { C, type Counters } from '../base/counters.js';
import { TX_FLOW_LIMITED, type TxFlow, type TxOffload, type TxSink } from '../base/link.js';
import { monoMs } from '../util/clock.js';
import type { DirectWriter } from './direct-writer.js';
import { KIND_FRAME, TX_FRAME_PREFIX, framePad, writeOffloadBlock } from './ring-records.js';
import type { RingProducer } from './ring.js';

/**
 * Frames of this many bytes or more (TSO super-segments of bulk data) are written by the
 * worker even while it is busy (decision 0047).
 */
export const DIRECT_FRAME_MIN = 16384;

/**
 * Most bytes of one flow the TX ring holds unwritten (TCP Small Queues, Linux's
 * tcp_limit_output_bytes): beyond it the flow's next frame is refused until the I/O
 * thread has written what is queued, and TCP waits for room (decision 0050). A flow's
 * burst then leaves the rest of the ring to the other flows' small frames.
 */
export const TX_FLOW_LIMIT = 256 << 10;

/** Which way the frames being built go. */
export const TX_RING = 0;
export const TX_DIRECT = 1;

/** The core's TxSink in a shard worker: ring or direct, chosen per frame by its size and `idle`. */
export class TxPath implements TxSink {
  /** Target of the frame being built (TX_RING or TX_DIRECT). */
  private target = TX_RING;
  /** Offset of the ring record being built (-1: none, e.g. the ring was full), and its padding before the frame. */
  private ringRecord = -1;
  private ringPad = 0;
  /** RX time of the frame being processed, stamped on ring records (0: none). */
  cause = 0;
  /** The frame being built goes directly although the target is the ring (a bulk frame of a flow with nothing in the ring). */
  private bypass = false;
  /** The flow of the ring record being built (null: none), which learns where it was queued. */
  private ringFlow: TxFlow | null = null;
  /** The flow's earlier ring records were all written when its record being built was reserved. */
  private ringFlowWritten = false;
  /** A flow was refused for its share of the ring: resume once the ring is written up to here (-1: none). */
  private resumeAt = -1;

  /** @param idle asked when the target may change for a frame under DIRECT_FRAME_MIN: true when the worker has nothing else waiting */
  constructor(
    private readonly ring: RingProducer,
    private readonly writer: DirectWriter,
    private readonly idle: () => boolean,
    private readonly counters: Counters,
  ) {}

  get buf(): Uint8Array {
    return this.target === TX_DIRECT || this.bypass ? this.writer.buf : this.ring.buf;
  }

  reserve(maxLen: number, alignAt = 0, flow: TxFlow | null = null): number {
    if (this.target === TX_DIRECT) {
      if (this.writer.pending === 0 && !this.prefersDirect(maxLen) && this.ring.pending() === 0) this.target = TX_RING;
    } else if (this.ring.pending() === 0 && this.writer.pending === 0 && this.prefersDirect(maxLen) && this.ring.drained()) {
      this.target = TX_DIRECT;
    }
    this.bypass = false;
    let written = false;
    if (this.target === TX_RING && flow !== null) {
      written = flow.txQueuedAt < 0 || this.ring.released(flow.txQueuedAt);
      // A bulk frame of a flow whose ring records are all written: directly, past the ring.
      this.bypass = written && maxLen >= DIRECT_FRAME_MIN;
      if (!written && flow.txQueuedBytes + maxLen > TX_FLOW_LIMIT) {
        // The flow's share of the ring is full: it waits until the ring is written up to here.
        this.counters[C.tx_flow_limited]++;
        this.resumeAt = this.ring.position;
        this.ringRecord = -1;
        return TX_FLOW_LIMITED;
      }
    }
    if (this.target === TX_DIRECT || this.bypass) {
      this.writer.cause = this.cause;
      return this.writer.reserve(maxLen, alignAt);
    }
    const pad = alignAt > 0 ? framePad(alignAt) : 0;
    const o = this.ring.reserve(maxLen + TX_FRAME_PREFIX + pad);
    if (o < 0) {
      this.ring.noteDrop();
      this.ringRecord = -1;
      return -1;
    }
    this.ringRecord = o;
    this.ringPad = pad;
    this.ringFlow = flow;
    this.ringFlowWritten = written;
    return o + TX_FRAME_PREFIX + pad;
  }

  /**
   * True when connections refused for room may send again: the ring has room to resume
   * (RingProducer.roomToResume) and, after a refusal for a flow's share, the I/O thread
   * has written everything queued up to it.
   */
  canResume(): boolean {
    if (!this.ring.roomToResume()) return false;
    if (this.resumeAt < 0) return true;
    if (!this.ring.released(this.resumeAt)) return false;
    this.resumeAt = -1;
    return true;
  }

  get gathers(): boolean {
    return (this.target === TX_DIRECT || this.bypass) && this.writer.gathers;
  }

  attach(src: Uint8Array, off: number, len: number): void {
    this.writer.attach(src, off, len);
  }

  /** Directly when the frame is bulk (the worker's state is not asked then), or when the worker is idle. */
  private prefersDirect(maxLen: number): boolean {
    return maxLen >= DIRECT_FRAME_MIN || this.idle();
  }

  commit(len: number, offload: TxOffload | null): void {
    if (this.target === TX_DIRECT || this.bypass) {
      this.bypass = false;
      this.counters[C.tx_direct_frames]++;
      this.writer.commit(len, offload);
      return;
    }
    this.counters[C.tx_ring_frames]++;
    const o = this.ringRecord;
    if (o < 0) return;
    this.ringRecord = -1;
    writeOffloadBlock(this.ring.buf, o, offload, this.ringPad);
    this.ring.commit(len + TX_FRAME_PREFIX + this.ringPad, KIND_FRAME, this.cause, monoMs());
    const flow = this.ringFlow;
    if (flow !== null) {
      flow.txQueuedAt = this.ring.position;
      flow.txQueuedBytes = (this.ringFlowWritten ? 0 : flow.txQueuedBytes) + len;
      this.ringFlow = null;
    }
  }
}
