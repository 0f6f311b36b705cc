/**
 * Two-thread throughput of the SPSC record ring (src/dataplane/ring.ts).
 *
 * Run: `npm run build && node dist/perf/ring-throughput.js [--quick]`.
 *
 * A producer worker (this same file, in a worker thread) sends N records of a fixed size
 * to a consumer on the main thread through a 1 MiB ring. Two producer modes:
 * - copy: push() copies a prebuilt frame into the ring (like a thread forwarding frames
 *   it holds elsewhere); push() counts each full-ring failure as a drop, the bench
 *   retries it, so "full-retries" = ringStats().fullDrops there;
 * - in-place: reserve() + write an 8-byte stamp + commit() (like the I/O thread reading
 *   TAP straight into the ring, or a shard building a frame in place).
 * The producer publishes every 32 records (and wakes the consumer only when publish()
 * says it sleeps); on a full ring it publishes and retries, so nothing is dropped. The
 * consumer takes records with next(), reads the stamp, releases every 32 records and,
 * when empty, waits in spin-then-park mode (waitSync with the default ~2000 polls).
 * Time runs from the consumer's first record to its last; each row is the median of 3
 * runs. Figures, not assertions: they depend on the machine and its load.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createRingBuffer, ringStats, RingConsumer, RingProducer } from '../src/dataplane/ring.js';

const RING_BYTES = 1 << 20;
const BATCH = 32;
const END_KIND = 2;

/** What one producer run is told to do. */
interface Job {
  sab: SharedArrayBuffer;
  size: number;
  count: number;
  mode: 'copy' | 'in-place';
}

/** Producer side: runs in the worker thread. */
function produce(job: Job): void {
  const ring = new RingProducer(job.sab);
  const frame = new Uint8Array(job.size).fill(0xab);
  const buf = ring.buf;
  const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >> 2);
  let fullRetries = 0;
  let inBatch = 0;
  for (let i = 0; i < job.count; i++) {
    if (job.mode === 'copy') {
      // A failed push counts a full drop in the stats; here it is retried instead.
      frame[0] = i;
      while (!ring.push(frame, 0, job.size, 1, 0, 0)) {
        fullRetries++;
        if (ring.publish()) ring.wake();
      }
    } else {
      let off;
      while ((off = ring.reserve(job.size)) < 0) {
        fullRetries++;
        if (ring.publish()) ring.wake();
      }
      words[off >> 2] = i;
      ring.commit(job.size, 1, 0, 0);
    }
    if (++inBatch === BATCH) {
      inBatch = 0;
      if (ring.publish()) ring.wake();
    }
  }
  while (ring.reserve(0) < 0) if (ring.publish()) ring.wake();
  ring.commit(0, END_KIND, 0, 0);
  if (ring.publish()) ring.wake();
  parentPort?.postMessage(fullRetries);
}

/** One run: returns seconds from the first record to the last, and side counters. */
async function runOnce(size: number, count: number, mode: Job['mode']): Promise<{ s: number; retries: number; wakeups: number }> {
  const sab = createRingBuffer(RING_BYTES);
  const c = new RingConsumer(sab);
  const words = new Uint32Array(c.buf.buffer, c.buf.byteOffset, c.buf.length >> 2);
  const worker = new Worker(new URL(import.meta.url), { workerData: { sab, size, count, mode } satisfies Job });
  const retries = new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  let start = 0n;
  let got = 0;
  let sinceRelease = 0;
  let check = 0;
  for (;;) {
    const off = c.next();
    if (off < 0) {
      c.release();
      sinceRelease = 0;
      if (!c.waitSync(10_000)) throw new Error('producer stalled');
      continue;
    }
    if (got === 0) start = process.hrtime.bigint();
    if (c.kind === END_KIND) break;
    check ^= mode === 'copy' ? c.buf[off] : words[off >> 2];
    got++;
    if (++sinceRelease === BATCH) {
      sinceRelease = 0;
      c.release();
    }
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  c.release();
  if (got !== count) throw new Error(`got ${got} of ${count} (${check})`);
  const r = await retries;
  await worker.terminate();
  return { s, retries: r, wakeups: ringStats(sab).wakeups };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const cases: Array<[number, number]> = [
    [64, 6_000_000],
    [1514, 2_000_000],
    [65536, 40_000],
  ];
  console.log(`ring throughput: ${RING_BYTES >> 10} KiB ring, publish every ${BATCH}, consumer spin-then-park, median of 3`);
  console.log('size(B)  mode       frames/s      GB/s   full-retries  wakeups');
  for (const mode of ['copy', 'in-place'] as const) {
    for (const [size, n] of cases) {
      const count = quick ? Math.ceil(n / 10) : n;
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await runOnce(size, count, mode));
      const s = median(runs.map((r) => r.s));
      const mid = runs.find((r) => r.s === s) ?? runs[0];
      console.log(
        `${String(size).padStart(7)}  ${mode.padEnd(9)} ${(count / s / 1e6).toFixed(2).padStart(8)} M  ${((count * size) / s / 1e9)
          .toFixed(2)
          .padStart(7)}  ${String(mid.retries).padStart(13)}  ${String(mid.wakeups).padStart(7)}`,
      );
    }
  }
  console.log('in-place writes an 8-byte stamp per record, so its GB/s is nominal (ring capacity, not copying).');
}

if (isMainThread && (process.argv.includes('--help') || process.argv.includes('-h'))) {
  console.log('usage: node dist/perf/ring-throughput.js [--quick]   (--quick: a tenth of the records)');
} else if (isMainThread) {
  await main();
}
else produce(workerData as Job);
