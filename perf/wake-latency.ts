/**
 * How long it takes to hand work to a sleeping thread in Node on Linux: the candidates
 * for the I/O thread → shard worker hop (issue 8 item 1, decision 0026), side by side.
 *
 *   node dist/perf/wake-latency.js [--samples 400] [--gaps 10,1,0.2] [--runs 3]
 *
 * A "producer" worker stands for the I/O thread (a synchronous loop that sleeps between
 * frames); a "consumer" worker stands for a shard worker. Each sample: the producer sleeps
 * `gap` ms, stamps the time (process.hrtime, one clock for all threads), publishes a
 * sequence number, and wakes the consumer if its sleeping flag is up (the ring's Dekker
 * protocol); the consumer records stamp → the moment its JavaScript runs, acknowledges,
 * and goes back to sleep. Mechanisms:
 * - waitasync: the consumer keeps its event loop and parks with Atomics.waitAsync; the
 *   producer calls Atomics.notify (V8 posts a task to the consumer's loop).
 * - eventfd: the consumer keeps its event loop, which watches an eventfd with a uv_poll
 *   handle (the addon's waker); the producer writes the eventfd; the callback runs
 *   straight from epoll_wait.
 * - wait: the consumer blocks in Atomics.wait (no event loop while it sleeps).
 * - spin: the consumer never sleeps (a lower bound, not a candidate: it burns a CPU).
 * Each figure is the median over runs of that run's percentile, in µs. Figures, not
 * assertions: they depend on the machine and its load.
 */
import { parseArgs } from 'node:util';
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { loadTapAddon, type Waker } from '../src/phy/tap.js';

type Mechanism = 'waitasync' | 'eventfd' | 'wait' | 'spin';
const MECHANISMS: Mechanism[] = ['waitasync', 'eventfd', 'wait', 'spin'];

// Int32 indices of the shared control words, each on its own 64-byte line.
const SEQ = 0; // producer's sample number
const SLEEP = 16; // consumer's sleeping flag (the wait word)
const ACK = 32; // consumer's last handled sample
const DONE = 48; // producer finished
// Float64 indices.
const STAMP = 32; // byte 256: producer's hrtime stamp (µs)
const SAMPLES = 64; // byte 512...: the consumer's measured latencies (µs)

interface Job {
  role: 'producer' | 'consumer';
  mech: Mechanism;
  sab: SharedArrayBuffer;
  samples: number;
  gapMs: number;
  fd: number;
}

const nowUs = (): number => Number(process.hrtime.bigint()) / 1000;

function producer(job: Job): void {
  const ctl = new Int32Array(job.sab);
  const f64 = new Float64Array(job.sab);
  const addon = job.mech === 'eventfd' ? loadTapAddon() : null;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (let k = 1; k <= job.samples; k++) {
    Atomics.wait(nap, 0, 0, job.gapMs); // the I/O thread asleep in poll()
    f64[STAMP] = nowUs();
    Atomics.store(ctl, SEQ, k);
    if (Atomics.compareExchange(ctl, SLEEP, 1, 0) === 1) {
      if (addon !== null) addon.eventfdSignal(job.fd);
      else Atomics.notify(ctl, SLEEP);
    }
    while (Atomics.load(ctl, ACK) !== k) Atomics.wait(ctl, ACK, k - 1, 1000);
  }
  Atomics.store(ctl, DONE, 1);
  Atomics.store(ctl, SEQ, job.samples + 1);
  if (Atomics.compareExchange(ctl, SLEEP, 1, 0) === 1) {
    if (addon !== null) addon.eventfdSignal(job.fd);
    else Atomics.notify(ctl, SLEEP);
  }
}

/** Handles every new sample; true once the producer is done. */
function take(ctl: Int32Array, f64: Float64Array, seen: { k: number }): boolean {
  const k = Atomics.load(ctl, SEQ);
  if (k !== seen.k) {
    if (Atomics.load(ctl, DONE) === 1) return true;
    f64[SAMPLES + k - 1] = nowUs() - f64[STAMP];
    seen.k = k;
    Atomics.store(ctl, ACK, k);
    Atomics.notify(ctl, ACK);
  }
  return Atomics.load(ctl, DONE) === 1;
}

/** Raises the sleeping flag; false (flag lowered) if a sample arrived meanwhile. */
function trySleep(ctl: Int32Array, seen: { k: number }): boolean {
  Atomics.store(ctl, SLEEP, 1);
  if (Atomics.load(ctl, SEQ) !== seen.k) {
    Atomics.store(ctl, SLEEP, 0);
    return false;
  }
  return true;
}

async function consumer(job: Job): Promise<void> {
  const ctl = new Int32Array(job.sab);
  const f64 = new Float64Array(job.sab);
  const seen = { k: 0 };
  const keepAlive = setInterval(() => {}, 1 << 30);
  try {
    switch (job.mech) {
      case 'spin':
        while (!take(ctl, f64, seen));
        return;
      case 'wait':
        while (!take(ctl, f64, seen)) if (trySleep(ctl, seen)) Atomics.wait(ctl, SLEEP, 1, 1000);
        return;
      case 'waitasync':
        while (!take(ctl, f64, seen)) {
          if (trySleep(ctl, seen)) {
            const r = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): { async: boolean; value: unknown } })
              .waitAsync(ctl, SLEEP, 1, 1000);
            if (r.async) await r.value;
          }
        }
        return;
      case 'eventfd': {
        const addon = loadTapAddon();
        await new Promise<void>((resolve) => {
          let waker: Waker | null = null;
          const onWake = (): void => {
            for (;;) {
              if (take(ctl, f64, seen)) {
                if (waker !== null) addon.wakerClose(waker);
                resolve();
                return;
              }
              if (trySleep(ctl, seen)) return; // back to the event loop: epoll_wait
            }
          };
          waker = addon.wakerOpen(job.fd, onWake);
          onWake();
        });
        return;
      }
    }
  } finally {
    clearInterval(keepAlive);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function measure(mech: Mechanism, samples: number, gapMs: number, fd: number): Promise<number[]> {
  const sab = new SharedArrayBuffer(8 * (SAMPLES + samples + 1));
  const run = (role: Job['role']): Promise<void> =>
    new Promise((resolve, reject) => {
      const job: Job = { role, mech, sab, samples, gapMs, fd };
      const w = new Worker(new URL(import.meta.url), { workerData: job });
      w.once('error', reject);
      w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${role} exited with ${code}`))));
    });
  const c = run('consumer');
  // Let the consumer start and fall asleep before the first sample.
  await new Promise((r) => setTimeout(r, 50));
  await Promise.all([run('producer'), c]);
  const f64 = new Float64Array(sab);
  return Array.from(f64.subarray(SAMPLES + 5, SAMPLES + samples)).sort((a, b) => a - b); // skip warm-up samples
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      samples: { type: 'string', default: '400' },
      gaps: { type: 'string', default: '10,1,0.2' },
      runs: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: node dist/perf/wake-latency.js [--samples 400] [--gaps 10,1,0.2] [--runs 3]');
    return;
  }
  const addon = loadTapAddon();
  const fd = addon.eventfd();
  const samples = Number(values.samples);
  const runs = Number(values.runs);
  console.log(`wake-up latency, producer thread → sleeping consumer thread, ${samples} samples × ${runs} runs (µs, median of runs)`);
  console.log('gap ms  mechanism    p50     p90     p99');
  for (const gap of values.gaps.split(',').map(Number)) {
    const rows = new Map(MECHANISMS.map((m) => [m, { p50: [] as number[], p90: [] as number[], p99: [] as number[] }]));
    for (let r = 0; r < runs; r++) {
      for (const m of MECHANISMS) { // alternate mechanisms within a run: the machine's noise hits all alike
        const s = await measure(m, samples, gap, fd);
        const row = rows.get(m) ?? { p50: [], p90: [], p99: [] };
        row.p50.push(percentile(s, 50));
        row.p90.push(percentile(s, 90));
        row.p99.push(percentile(s, 99));
      }
    }
    for (const [m, row] of rows) {
      console.log(`${String(gap).padStart(6)}  ${m.padEnd(10)} ${median(row.p50).toFixed(1).padStart(6)}  ${median(row.p90).toFixed(1).padStart(6)}  ${median(row.p99).toFixed(1).padStart(6)}`);
    }
  }
  addon.close(fd);
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const job = workerData as Job;
  if (job.role === 'producer') producer(job);
  else await consumer(job);
}
