/**
 * Keeps the I/O thread off the CPUs of worker threads busy sending bulk data
 * (`--cpu-affinity workers`, decision 0054).
 *
 * With the worker threads bound (control/cpu-plan.ts, decision 0053) the I/O thread stays
 * free, so that the scheduler can wake it on an idle CPU or on the CPU of the client that
 * woke it (a ping is answered sooner that way). But a frame for the I/O thread is often
 * sent from a worker's CPU: a client's ACK, produced by the kernel inside the worker's own
 * TAP write, wakes the I/O thread synchronously from there, and when the other CPUs are
 * busy the scheduler puts it on the worker's CPU and keeps it there. Each later wake-up
 * then preempts the worker (measured: 6 270 times in one 2 GiB download, the worker's CPU
 * time tripled, 10 Gbit/s instead of 30), most often right after a burst of connections.
 *
 * So while a worker thread is busy and sends far more than it receives (the ACK clock of a
 * bulk transfer), the I/O thread narrows its own affinity to the other CPUs of the
 * process, and widens it again when the worker rests or stops sending: during a download
 * it runs beside the worker, otherwise it is free as before. Request/response traffic
 * leaves it free: there the frames come from the clients' CPUs, and a free I/O thread
 * handed them over sooner (measured: keep-alive 5 % faster free).
 *
 * The decision is taken at most once per window from each shard's counters, with
 * hysteresis, so the affinity changes at the edges of a transfer, not per frame:
 * - loop_busy_us, the time the thread's event loop was not waiting for events. Not
 *   busy_us: a download's transmits run in the application's writes, outside the worker's
 *   turns, and busy_us put a worker thread that used its whole CPU at 15–50 %;
 * - tx_bytes and rx_bytes, the frames the shard sent and received.
 *
 * Pure: the caller passes the time, the counters and the call that applies a CPU set.
 */
import { C, type Counters } from '../base/counters.js';

/** Shortest interval over which a worker's busy share is measured (ms). */
export const PLACEMENT_WINDOW_MS = 20;
/** A worker thread busier than this share of a window makes the I/O thread leave its CPU. */
export const BUSY_ENTER = 0.5;
/** …and one that was busy counts as busy until its share falls below this. */
export const BUSY_LEAVE = 0.2;
/** A worker thread sends bulk data when it sends this many times the bytes it receives… */
export const BULK_TX_RATIO = 8;
/** …and at least this many bytes per ms (64 MB/s, about 0.5 Gbit/s). */
export const BULK_TX_BYTES_PER_MS = 64_000;

/** What the placement needs of the I/O thread's surroundings. */
export interface IoPlacementDeps {
  /** The CPUs the process may run on (the I/O thread's own mask at start), ascending. */
  allowed: readonly number[];
  /** The CPU of the worker thread that runs shard i, or null if that thread is not bound. */
  shardCpus: readonly (number | null)[];
  /** Shard i's loop_busy_us counter (µs, monotonic). */
  busyUs: (shard: number) => number;
  /** Shard i's tx_bytes and rx_bytes counters (monotonic). */
  txBytes: (shard: number) => number;
  rxBytes: (shard: number) => number;
  /** Restricts the calling thread to `cpus`; throws if the kernel refuses. */
  apply: (cpus: number[]) => void;
  /** The I/O thread's counters (io_cpu_moves). */
  counters: Counters;
}

/** The I/O thread's CPU set, narrowed while worker threads are busy sending. */
export class IoThreadPlacement {
  /** The distinct CPUs of bound worker threads, and for each the shards it runs. */
  private readonly workerCpus: number[] = [];
  private readonly shardsOn: number[][] = [];
  private readonly busy: boolean[] = [];
  private readonly lastBusyUs: number[];
  private readonly lastTx: number[];
  private readonly lastRx: number[];
  private lastAt = -Infinity;
  private current: number[];
  private enabled: boolean;

  constructor(private readonly deps: IoPlacementDeps) {
    const allowed = new Set(deps.allowed);
    deps.shardCpus.forEach((cpu, shard) => {
      if (cpu === null || !allowed.has(cpu)) return;
      let k = this.workerCpus.indexOf(cpu);
      if (k < 0) {
        k = this.workerCpus.push(cpu) - 1;
        this.shardsOn.push([]);
        this.busy.push(false);
      }
      this.shardsOn[k].push(shard);
    });
    this.lastBusyUs = deps.shardCpus.map(() => 0);
    this.lastTx = deps.shardCpus.map(() => 0);
    this.lastRx = deps.shardCpus.map(() => 0);
    this.current = [...deps.allowed];
    // Only when some CPU is left for the I/O thread with every worker thread busy.
    this.enabled = this.workerCpus.length > 0 && deps.allowed.length > this.workerCpus.length;
  }

  /** The CPUs the I/O thread may run on now. */
  get cpus(): readonly number[] {
    return this.current;
  }

  /** Whether the placement acts at all (bound worker threads and a CPU to spare). */
  get active(): boolean {
    return this.enabled;
  }

  /** Measures the workers' busy shares once a window has passed, and moves the I/O thread if they changed its set. */
  update(now: number): void {
    if (!this.enabled) return;
    const dt = now - this.lastAt;
    if (dt < PLACEMENT_WINDOW_MS) return;
    const first = this.lastAt === -Infinity;
    this.lastAt = now;
    for (let k = 0; k < this.workerCpus.length; k++) {
      let share = 0;
      let tx = 0;
      let rx = 0;
      for (const s of this.shardsOn[k]) {
        const b = this.deps.busyUs(s);
        const t = this.deps.txBytes(s);
        const r = this.deps.rxBytes(s);
        if (!first) {
          // Shards that share a thread each count the thread's loop: take the busiest. Their
          // frames add up.
          share = Math.max(share, (b - this.lastBusyUs[s]) / (dt * 1000));
          tx += t - this.lastTx[s];
          rx += r - this.lastRx[s];
        }
        this.lastBusyUs[s] = b;
        this.lastTx[s] = t;
        this.lastRx[s] = r;
      }
      const sending = tx >= BULK_TX_BYTES_PER_MS * dt && tx >= BULK_TX_RATIO * rx;
      if (share >= BUSY_ENTER && sending) this.busy[k] = true;
      else if (share < BUSY_LEAVE || !sending) this.busy[k] = false;
    }
    const want = this.deps.allowed.filter((c) => {
      const k = this.workerCpus.indexOf(c);
      return k < 0 || !this.busy[k];
    });
    if (sameCpus(want, this.current)) return;
    try {
      this.deps.apply(want);
    } catch {
      // A cpuset changed under us, or the kernel refuses: stay where we are, and stop trying.
      this.enabled = false;
      return;
    }
    this.current = want;
    this.deps.counters[C.io_cpu_moves]++;
  }
}

function sameCpus(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}
