/**
 * One process-wide monotonic clock, readable from every thread without allocation.
 *
 * `performance.now()` is monotonic but its origin differs per worker thread, and
 * `process.hrtime.bigint()` is process-wide but allocates a BigInt per call. We read
 * hrtime once per thread to learn this thread's offset, then use
 * `performance.now() + offset` on the hot path: the same timeline in every thread
 * (to within a microsecond or so), in milliseconds as a float.
 */
import { performance } from 'node:perf_hooks';

const offsetMs = Number(process.hrtime.bigint()) / 1e6 - performance.now();

/** Milliseconds on the process-wide monotonic clock (float, µs resolution). */
export function monoMs(): number {
  return performance.now() + offsetMs;
}
