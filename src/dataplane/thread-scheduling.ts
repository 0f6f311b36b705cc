/**
 * Scheduling classes of stackd's threads (sched(7); decision 0049), and the binding of a
 * data-plane thread to the CPU the plan gave it (control/cpu-plan.ts; decision 0053).
 *
 * A thread that wakes may preempt the one running on its CPU (EEVDF wake-up preemption).
 * V8's helper threads wake whenever an isolate posts them work: a TurboFan compile, a GC
 * job. So a data-plane thread that queues a compile is preempted, on its own CPU, by the
 * helper it has just woken, for the 1–4 ms of the compile, while it holds a frame to answer
 * (measured: the I/O thread's ping replies, decision 0049). A SCHED_BATCH thread never
 * preempts on wake-up: it runs on a free CPU or when the running thread's slice ends, and
 * keeps its fair share of CPU time (unlike SCHED_IDLE, which would starve V8's concurrent
 * GC marking and compiles under load).
 *
 * So the main thread makes every thread of the process SCHED_BATCH before it starts the
 * data plane (threads it starts later inherit the class: the data-plane threads, libuv's
 * pool, the application offload pool), and each data-plane thread (the I/O thread, a
 * thread of shard workers) puts itself back to SCHED_OTHER as it starts. Nice values are
 * left as they are. `stackd --no-batch-helpers` does neither.
 */
import { readdirSync } from 'node:fs';

/** sched(7) policy numbers. */
export const SCHED_OTHER = 0;
export const SCHED_BATCH = 3;

/** What this module needs of the addon (phy/tap.ts). */
export interface ThreadSchedulingAddon {
  setThreadPolicy(tid: number, policy: number): void;
}

/** What batchProcessThreads did. */
export interface BatchResult {
  /** Threads made SCHED_BATCH. */
  batched: number;
  /** Threads that refused (the first error's code), other than those gone meanwhile. */
  failed: number;
  firstError: string | null;
}

/**
 * Makes every thread of this process SCHED_BATCH (`tids`: the ids in /proc/self/task).
 * A thread that exits meanwhile (ESRCH) is skipped; any other refusal is counted and the
 * rest go on.
 */
export function batchProcessThreads(addon: ThreadSchedulingAddon, tids: readonly number[] = processThreadIds()): BatchResult {
  const r: BatchResult = { batched: 0, failed: 0, firstError: null };
  for (const tid of tids) {
    try {
      addon.setThreadPolicy(tid, SCHED_BATCH);
      r.batched++;
    } catch (e) {
      const code = errorCode(e);
      if (code === 'ESRCH') continue;
      r.failed++;
      r.firstError ??= code;
    }
  }
  return r;
}

/** Makes the calling thread SCHED_OTHER (a data-plane thread, as it starts); the error's code, or null. */
export function runAsDataPlaneThread(addon: ThreadSchedulingAddon): string | null {
  try {
    addon.setThreadPolicy(0, SCHED_OTHER);
    return null;
  } catch (e) {
    return errorCode(e);
  }
}

/** What binding a thread to a CPU needs of the addon (phy/tap.ts). */
export interface AffinityAddon {
  setThreadAffinity(tid: number, cpus: number[]): void;
  threadAffinity(tid: number): number[];
}

/**
 * Binds the calling thread (a data-plane thread, as it starts) to `cpu` (no-op for null;
 * control/cpu-plan.ts, decision 0053); the CPUs it may then run on, and the error's code if
 * the kernel refused (the thread then stays where it was).
 */
export function bindThisThread(addon: AffinityAddon, cpu: number | null): { cpus: number[]; error: string | null } {
  let error: string | null = null;
  if (cpu !== null) {
    try {
      addon.setThreadAffinity(0, [cpu]);
    } catch (e) {
      error = errorCode(e);
    }
  }
  return { cpus: addon.threadAffinity(0), error };
}

/** The errno name an addon error carries (its `code`), or the error as text. */
function errorCode(e: unknown): string {
  return (e as { code?: string }).code ?? String(e);
}

/** The kernel ids of this process's threads. */
export function processThreadIds(tasksDir = '/proc/self/task'): number[] {
  return readdirSync(tasksDir).map(Number).filter((n) => Number.isInteger(n) && n > 0);
}
