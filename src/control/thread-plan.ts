/**
 * How the shard workers are laid out on threads (issue 8 item 2). A shard — a "worker" in
 * the CLI — owns the connections and flows that hash to it, with its own rings, Host,
 * services and applications; a thread runs one or more shards on its event loop, each
 * woken through its own eventfd (decision 0026). With more shards than CPUs, extra threads
 * only take turns on the CPUs (each frame then waits for its thread to be scheduled, and
 * every switch costs caches), so by default shards share threads: one per CPU, minus one
 * for the I/O thread. Decision 0029.
 */

/** Threads for `workers` shards: `requested` when given (> 0), else min(workers, max(1, cpus − 1)). */
export function threadsFor(workers: number, requested: number, cpus: number): number {
  if (requested > 0) return Math.min(requested, workers);
  return Math.max(1, Math.min(workers, cpus - 1));
}

/** The shards thread `t` of `threads` runs, for `workers` shards: t, t + threads, t + 2·threads, … */
export function shardsOfThread(t: number, threads: number, workers: number): number[] {
  const out: number[] = [];
  for (let s = t; s < workers; s += threads) out.push(s);
  return out;
}
