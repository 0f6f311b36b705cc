/**
 * Per-stage latency histograms of one thread.
 *
 * Stages, all on the process-wide monotonic clock (src/util/clock.ts):
 *  - I/O thread  `rx_dispatch`: TAP read of a batch → the frame's RX ring enqueue.
 *  - worker      `rx_queue`:    RX ring enqueue → worker dequeue.
 *  - worker      `process`:     worker dequeue of a frame → done with it (replies built).
 *  - `tx_queue`: a reply's commit → its TAP write finished. Recorded by the I/O thread for
 *    frames handed over through the TX ring, by the worker for frames it wrote itself
 *    (tx-path.ts; then it includes the write() call, which runs the kernel's receive
 *    path for the frame).
 *  - `total`: TAP read of a request → TAP write of its reply, in whichever thread wrote it.
 * Values are recorded in nanoseconds into Node's built-in HDR histograms
 * (`perf_hooks.createHistogram`, ~30 ns a record) and reported in microseconds.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { StageLatency } from './reports.js';

/** Stage names in report order. */
export const STAGES = ['rx_dispatch', 'rx_queue', 'process', 'tx_queue', 'total'] as const;
/** Stage indices for the hot path. */
export const S_RX_DISPATCH = 0, S_RX_QUEUE = 1, S_PROCESS = 2, S_TX_QUEUE = 3, S_TOTAL = 4;

/** The histograms of one thread. */
export class StageLatencyRecorder {
  private readonly h: RecordableHistogram[] = STAGES.map(() => createHistogram({ lowest: 1, highest: 60e9, figures: 3 }));

  /** Records a duration in milliseconds for stage index `s`. */
  record(s: number, ms: number): void {
    const ns = Math.round(ms * 1e6);
    this.h[s].record(ns >= 1 ? (ns <= 60e9 ? ns : 60e9) : 1);
  }

  /** Clears every histogram. */
  reset(): void {
    for (const h of this.h) h.reset();
  }

  /** Percentiles per stage in µs; stages with no samples are left out. */
  report(): Record<string, StageLatency> {
    const out: Record<string, StageLatency> = {};
    STAGES.forEach((name, i) => {
      const h = this.h[i];
      if (h.count === 0) return;
      const us = (ns: number) => Math.round(ns / 100) / 10;
      out[name] = {
        count: h.count,
        p50: us(h.percentile(50)),
        p90: us(h.percentile(90)),
        p99: us(h.percentile(99)),
        p999: us(h.percentile(99.9)),
        max: us(h.max),
        mean: us(h.mean),
      };
    });
    return out;
  }
}
