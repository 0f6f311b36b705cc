/**
 * A shard worker's direct transmit path: frames built in place in a worker-local staging
 * batch and transmitted to the link device (the TAP) by the worker itself, in batches
 * (base/tx-staging.ts), used while the worker is idle (decision 0011, dataplane/tx-path.ts).
 *
 * Adds the data plane's accounting to the staging: tap_tx_frames/tap_tx_bytes for what
 * the device took, tap_write_batches per device call, drop_tap_write_error for frames it
 * rejected or had no room for (a full kernel queue drops the rest of the batch, as a NIC
 * would), and the tx_queue (commit → written) and total (TAP read of the frame that
 * caused it → written) latency stages. A failed write is counted, never thrown.
 */
import { C, type Counters } from '../base/counters.js';
import type { LinkDevice, TxOffload } from '../base/link.js';
import { TX_STAGING_BYTES, TxStaging, type FlushResult } from '../base/tx-staging.js';
import { monoMs } from '../util/clock.js';
import { S_TOTAL, S_TX_QUEUE, type StageLatencyRecorder } from './latency.js';

/** Most frames staged before they are written. */
const BATCH = 64;

/** Stages frames and writes them to the device, with counters and latency. */
export class DirectWriter extends TxStaging {
  /** Per staged frame: when it was committed and the RX time of the frame that caused it (0: none). */
  private readonly committedAt = new Float64Array(BATCH);
  private readonly causedBy = new Float64Array(BATCH);
  /** RX time of the frame being processed, stamped on the frames it causes (0: none). */
  cause = 0;

  constructor(
    device: LinkDevice,
    private readonly counters: Counters,
    private readonly latency: StageLatencyRecorder | null,
    bytes = TX_STAGING_BYTES,
  ) {
    super(device, bytes, BATCH);
  }

  override commit(len: number, offload: TxOffload | null): void {
    const i = this.batch.count;
    super.commit(len, offload);
    if (this.batch.count === i) return; // nothing was reserved
    this.committedAt[i] = monoMs();
    this.causedBy[i] = this.cause;
  }

  protected override flushed(r: FlushResult): void {
    const c = this.counters;
    const b = this.batch;
    c[C.tap_write_batches] += r.calls;
    c[C.drop_tap_write_error] += r.staged - r.consumed + r.failed;
    const now = monoMs();
    const lat = this.latency;
    for (let i = 0; i < r.consumed; i++) {
      c[C.tap_tx_bytes] += b.lens[i] + b.attached[i];
      if (lat !== null) {
        lat.record(S_TX_QUEUE, now - this.committedAt[i]);
        const t0 = this.causedBy[i];
        if (t0 > 0) lat.record(S_TOTAL, now - t0);
      }
    }
    c[C.tap_tx_frames] += r.consumed - r.failed;
  }
}
