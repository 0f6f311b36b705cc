/**
 * Which CPU each data-plane thread runs on (sched_setaffinity(2); decision 0053).
 *
 * The I/O thread wakes for every burst of frames from the TAP: during one 2 GiB download
 * about 14 000 times, each for the ACKs a worker waits on. When the scheduler puts the
 * worker that sends the download on the I/O thread's CPU, each of those wake-ups preempts
 * it (measured: 17 000–19 000 involuntary switches per download, and 15.7–18.2 Gbit/s
 * instead of 27–31). The thread plan (thread-plan.ts) already gives each worker thread a
 * CPU of its own and leaves one for the I/O thread, so `--cpu-affinity workers` (the
 * default) binds worker thread t to the t-th CPU this process may use, when there are
 * more CPUs than worker threads. The I/O thread stays free: the scheduler then wakes it
 * on an idle CPU, or on the CPU of the client that woke it, which answers a ping sooner
 * than a bound I/O thread woken across CPUs (measured: p99 about 15 % lower). It leaves
 * the CPU of a worker thread that sends bulk data by itself, while it does
 * (dataplane/io-thread-placement.ts, decision 0054). `all` binds
 * the I/O thread to the last CPU as well; `off` binds nothing; with too few CPUs
 * (`--threads` above the CPUs less one) nothing is bound either. The main thread, V8's
 * helpers and the thread pools stay free to run on any CPU.
 *
 * The CPUs are those of the process's affinity mask (sched_getaffinity, so `taskset -c`
 * and a cpuset choose them), in ascending order.
 */

/** --cpu-affinity. */
export type CpuAffinityMode = 'workers' | 'all' | 'off';

/** Where the data-plane threads go: one CPU each, or null for "not bound". */
export interface CpuPlan {
  io: number | null;
  /** Worker thread t's CPU. */
  workerThreads: Array<number | null>;
  /** Why nothing is bound (null when every thread is). */
  unboundBecause: string | null;
}

/** The plan for `threads` worker threads plus the I/O thread on the CPUs `allowed` (ascending, distinct). */
export function planCpus(mode: CpuAffinityMode, allowed: readonly number[], threads: number): CpuPlan {
  const none = (why: string): CpuPlan => ({ io: null, workerThreads: new Array<number | null>(threads).fill(null), unboundBecause: why });
  if (mode === 'off') return none('--cpu-affinity off');
  if (allowed.length < threads + 1) {
    return none(`${threads + 1} data-plane threads (${threads} worker thread${threads === 1 ? '' : 's'} and the I/O thread) and ${allowed.length} CPU${allowed.length === 1 ? '' : 's'}`);
  }
  return { io: mode === 'all' ? allowed[allowed.length - 1] : null, workerThreads: Array.from({ length: threads }, (_, t) => allowed[t]), unboundBecause: null };
}

/** "0-3,6" for [0, 1, 2, 3, 6] (the notation of taskset and /proc's Cpus_allowed_list). */
export function formatCpuList(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    parts.push(j === i ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The CPUs of a list like "0-3,6" (Cpus_allowed_list); throws on anything else. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) throw new Error(`'${text}' is not a CPU list like 0-3,6`);
    const lo = Number(m[1]);
    const hi = m.at(2) === undefined ? lo : Number(m.at(2));
    if (hi < lo) throw new Error(`'${part}' in '${text}' is a descending range`);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}
