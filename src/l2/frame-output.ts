/**
 * The core's one way out to the link: reserves room for a frame in the TX sink, and
 * counts what it commits (tx_frames/tx_bytes) or could not place for want of room
 * (drop_tx_ring_full). A frame of a flow (`flow` set: a TCP connection's segment) is not
 * counted here: the connection keeps a refused segment and sends it again once there is
 * room (tcp_tx_ring_waits), and counts the frames it does not keep itself. A frame refused
 * because its flow has its share of the sink queued (TX_FLOW_LIMITED) is counted by the sink.
 * `refusals` tells a sender whose frame was not sent that the sink had no room (and not
 * that a route or a neighbour was missing): TCP then keeps the segment and waits for room
 * (tcp/tcp-layer.ts).
 */
import { C, type Counters } from '../base/counters.js';
import { TX_FLOW_LIMITED, type TxFlow, type TxOffload, type TxSink } from '../base/link.js';

/** Frame output over a TxSink, with counters. */
export class FrameOutput {
  /** reserve() calls that found the sink full, since the start. */
  refusals = 0;
  /** The flow the frames being built belong to (TxSink.reserve's `flow`; null: none). */
  flow: TxFlow | null = null;

  constructor(private readonly sink: TxSink, private readonly counters: Counters) {}

  /** The sink's memory: offsets from reserve() index into it. */
  get buf(): Uint8Array {
    return this.sink.buf;
  }

  /** Room for a frame of at most maxLen bytes: its offset in `buf`, or -1 (counted) when full. */
  reserve(maxLen: number, alignAt = 0): number {
    const off = this.sink.reserve(maxLen, alignAt, this.flow);
    if (off < 0) {
      this.refusals++;
      if (off !== TX_FLOW_LIMITED && this.flow === null) this.counters[C.drop_tx_ring_full]++;
    }
    return off;
  }

  /** The reserved frame may end in payload held by reference (TxSink.gathers). */
  get gathers(): boolean {
    return this.sink.gathers;
  }

  /** Ends the reserved frame with `len` bytes of `src` from `off`, not copied (TxSink.attach). */
  attach(src: Uint8Array, off: number, len: number): void {
    this.sink.attach(src, off, len);
  }

  /** Commits the reserved frame with its real length and what the device should finish (TxSink.commit). */
  commit(len: number, offload: TxOffload | null = null): void {
    this.sink.commit(len, offload);
    this.counters[C.tx_frames]++;
    this.counters[C.tx_bytes] += len;
  }
}
