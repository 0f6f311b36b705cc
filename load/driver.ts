/**
 * stackd-load's main loop (decision 0020): it keeps the three caps — clients alive at
 * once (--clients), clients started in all (--total), time to start clients in
 * (--duration) — and hands batches of clients to the pool, aggregating their outcomes as
 * they come back. A batch of k clients counts as k alive from its start to its end; every
 * client has its own timeout, so the run ends at most one timeout after the last start.
 * The clock and the batch runner are parameters, so the caps are tested without a pool.
 */
import type { BatchResult, BatchTask, LoadMode } from './batch-worker.js';
import type { ClientSpec } from './client.js';
import { MixPicker, type Kind, type MixEntry } from './mix.js';
import type { Aggregate, StopReason } from './report.js';

/** What to run. */
export interface LoadPlan {
  mode: LoadMode;
  mix: readonly MixEntry[];
  spec: ClientSpec;
  /** Clients alive at once, at most. */
  clients: number;
  /** Clients started in all, at most. */
  total: number;
  /** No client is started after this long (ms). */
  durationMs: number;
  /** Clients per pool task. */
  batch: number;
}

/** How the loop went. */
export interface DriveResult {
  /** From the first start to the last outcome (ms). */
  elapsedMs: number;
  /** Most clients alive at once. */
  peakAlive: number;
  stoppedBy: StopReason;
}

/** Runs one batch (the pool; a fake in tests). */
export type BatchRunner = (task: BatchTask) => Promise<BatchResult>;

/** Options of drive(). */
export interface DriveOptions {
  /** Milliseconds on a monotonic clock (default performance.now). */
  now?: () => number;
  /** Aborted: start no more clients (those alive finish). */
  signal?: AbortSignal;
}

/** Runs the plan to its caps; see the file header. */
export async function drive(plan: LoadPlan, run: BatchRunner, agg: Aggregate, opts: DriveOptions = {}): Promise<DriveResult> {
  const now = opts.now ?? (() => performance.now());
  const picker = new MixPicker(plan.mix);
  const t0 = now();
  const end = t0 + plan.durationMs;
  const inFlight = new Set<Promise<void>>();
  let alive = 0;
  let started = 0;
  let peakAlive = 0;
  let stoppedBy: StopReason = 'total';
  for (;;) {
    if (started >= plan.total) break;
    if (opts.signal?.aborted === true) {
      stoppedBy = 'signal';
      break;
    }
    if (now() >= end) {
      stoppedBy = 'duration';
      break;
    }
    const k = Math.min(plan.batch, plan.clients - alive, plan.total - started);
    if (k <= 0) {
      await Promise.race(inFlight); // at the concurrency cap: wait for a batch to end
      continue;
    }
    const kinds: Kind[] = [];
    for (let i = 0; i < k; i++) {
      const kind = picker.next();
      kinds.push(kind);
      agg.start(kind);
    }
    alive += k;
    started += k;
    if (alive > peakAlive) peakAlive = alive;
    const p: Promise<void> = run({ mode: plan.mode, kinds, spec: plan.spec })
      .then(
        (r) => {
          for (const o of r.outcomes) agg.add(o);
        },
        (e: unknown) => {
          agg.lose(kinds, 'batch-lost', e instanceof Error ? e.message : String(e));
        },
      )
      .finally(() => {
        alive -= k;
        inFlight.delete(p);
      });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return { elapsedMs: now() - t0, peakAlive, stoppedBy };
}
