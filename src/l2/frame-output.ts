/**
 * The core's one way out to the link: reserves room for a frame in the TX sink, and
 * counts what it commits (tx_frames/tx_bytes) or could not place (drop_tx_ring_full).
 */
import { C, type Counters } from '../base/counters.js';
import type { TxSink } from '../base/tx-sink.js';

/** Frame output over a TxSink, with counters. */
export class FrameOutput {
  constructor(private readonly sink: TxSink, private readonly counters: Counters) {}

  /** The sink's memory: offsets from reserve() index into it. */
  get buf(): Uint8Array {
    return this.sink.buf;
  }

  /** Room for a frame of at most maxLen bytes: its offset in `buf`, or -1 (counted) when full. */
  reserve(maxLen: number): number {
    const off = this.sink.reserve(maxLen);
    if (off < 0) this.counters[C.drop_tx_ring_full]++;
    return off;
  }

  /** Virtio-net offload for the frame being built (see TxSink.offload). */
  offload(flags: number, gsoType: number, hdrLen: number, gsoSize: number, csumStart: number, csumOffset: number): void {
    this.sink.offload?.(flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset);
  }

  /** Commits the reserved frame with its real length. */
  commit(len: number): void {
    this.sink.commit(len);
    this.counters[C.tx_frames]++;
    this.counters[C.tx_bytes] += len;
  }
}
