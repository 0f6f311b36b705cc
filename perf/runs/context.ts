/**
 * What perf/tcp-bench.ts hands to its long runs (perf/runs/sustained.ts, memory.ts,
 * soak.ts): the lab's namespaces and addresses, a fresh stackd per run (stopped by the
 * benchmark's clean-up too), the results store and the notes.
 */
import type { StackdProcess } from '../lab-bench.js';
import type { BenchResults, Target } from './results.js';

/** stackd's address in the lab (tap0 in <lab>-host). */
export const STACKD_IP = '10.10.0.4';
/** The kernel peer's address (<lab>-c2). */
export const KERNEL_IP = '10.10.0.5';

/** The address serving side `t`. */
export function hostOf(t: Target): string {
  return t === 'stackd' ? STACKD_IP : KERNEL_IP;
}

/** The benchmark as a run sees it. */
export interface RunContext {
  lab: string;
  /** The load's namespace (10.10.0.3). */
  c1: string;
  /** The kernel peer's namespace (10.10.0.5). */
  c2: string;
  /** Client namespaces besides c1 for loads that need several addresses (10.10.0.6, .7, ...). */
  extraClients: readonly string[];
  /** Stops the running stackd (if any) and starts a new one with `workers` workers. */
  freshStackd(workers: number): Promise<StackdProcess>;
  results: BenchResults;
  /** Prints `s` flagged with '!' and repeats it under "notes" at the end. */
  note(s: string): void;
}
