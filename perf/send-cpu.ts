/**
 * CPU per byte of stackd's bulk send path, per thread: one lab, `curl
 * http://10.10.0.4/bytes/N` from the client, and stackd's per-thread CPU ticks
 * (/proc/<pid>/task/<tid>/stat, utime + stime) read before and after each download.
 * Prints µs of CPU per 64 KiB sent for the whole process and per thread: the main
 * thread, the I/O thread, the shard worker(s) and the rest (V8 helper threads, libuv).
 *
 * `--builds A,B` alternates package roots (folders holding package.json, dist/ and
 * build/Release), one stackd per run in the order A B A B ..., so that two builds are
 * compared under the same machine noise. On Node 20 every thread is named "node", so
 * threads are told apart by id: the main thread has tid = pid; the supervisor starts the
 * I/O thread, then the worker threads, after Node's own helper threads, so right after
 * start-up the last `1 + threads` tids are the I/O thread and the worker threads.
 * `other` is the rest (V8 platform threads: GC and compiler; libuv).
 */
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/phy/package-root.js';
import {
  benchLabDown, benchLabUp, CLK_TCK, formatTable, installCleanup, loadAverage, median, nsSysctl, runBench, runIn, startStackd, statTicks,
  type StackdProcess,
} from './lab-bench.js';

const { values } = parseArgs({
  options: {
    bytes: { type: 'string', default: String(2 ** 31) },
    warmup: { type: 'string', default: String(2 ** 25) },
    'warmup-conns': { type: 'string', default: '16' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    builds: { type: 'string', default: '' },
    'stackd-args': { type: 'string', default: '' },
    'client-timestamps': { type: 'string', default: 'on' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(`usage: node dist/perf/send-cpu.js [--bytes 2147483648] [--runs 3] [--workers 1]
         [--warmup 33554432] [--warmup-conns 16]  (downloads first, not measured: until V8's code is stable)
         [--threads 1]  (worker threads stackd starts for --workers: 1 on 2 CPUs)
         [--builds ROOT_A,ROOT_B]  (package roots to alternate; default: this one)
         [--stackd-args='--no-offload'] [--client-timestamps on|off]  (off: the client's
         net.ipv4.tcp_timestamps=0, an MSS of 1460, not a multiple of 8)`);
  process.exit(0);
}
const bytes = Number(values.bytes);
const warmup = Number(values.warmup);
const warmupConns = Number(values['warmup-conns']);
const runs = Number(values.runs);
const workers = Number(values.workers);
const threads = Number(values.threads);
const builds = values.builds === '' ? [packageRoot()] : values.builds.split(',');
const stackdArgs = values['stackd-args'].split(/\s+/).filter(Boolean);
const lab = `sc${process.pid % 100000}`;
const CHUNK = 65536;

/** CPU ticks (utime + stime) per thread of `pid`, keyed by tid (threads that ended are left out). */
function threadTicks(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const ticks = statTicks(`/proc/${pid}/task/${t}/stat`);
    if (!Number.isNaN(ticks)) out.set(Number(t), ticks);
  }
  return out;
}

/** One download's CPU per 64 KiB (µs) by thread group. */
interface Sample {
  build: string;
  total: number;
  main: number;
  io: number;
  worker: number;
  other: number;
  seconds: number;
}

/** CPU per 64 KiB by group from tick counts before and after: `dataTids` are the I/O thread then the worker threads. */
function sample(build: string, pid: number, before: Map<number, number>, after: Map<number, number>, dataTids: number[], seconds: number): Sample {
  const per = (ticks: number): number => ((ticks / CLK_TCK) * 1e6) / (bytes / CHUNK);
  const d = (tid: number): number => (after.get(tid) ?? 0) - (before.get(tid) ?? 0);
  let total = 0;
  for (const tid of after.keys()) total += d(tid);
  const main = d(pid);
  const io = dataTids.length > 0 ? d(dataTids[0]) : 0;
  let worker = 0;
  for (const tid of dataTids.slice(1)) worker += d(tid);
  return { build, total: per(total), main: per(main), io: per(io), worker: per(worker), other: per(total - main - io - worker), seconds };
}

/** The tids of the I/O thread and the worker threads, read right after start-up: the last `1 + threads` (see the file header). */
function dataThreadTids(pid: number): number[] {
  return [...threadTicks(pid).keys()].sort((a, b) => a - b).slice(-(1 + threads));
}

let stackd: StackdProcess | null = null;
const cleanup = installCleanup(async () => {
  await stackd?.stop();
  benchLabDown(lab);
});

async function main(): Promise<void> {
  benchLabUp(lab);
  if (values['client-timestamps'] === 'off') {
    const err = await nsSysctl(`${lab}-c1`, 'net.ipv4.tcp_timestamps', '0');
    if (err !== null) throw new Error(`sysctl tcp_timestamps=0 in ${lab}-c1: ${err}`);
  }
  const samples: Sample[] = [];
  console.log(`send-cpu: ${runs} run(s) per build of GET /bytes/${bytes} after ${warmupConns} × ${warmup} B, workers ${workers}, client timestamps ${values['client-timestamps']}, builds ${builds.join(' | ')}; load ${loadAverage()}`);
  for (let r = 0; r < runs; r++) {
    for (const build of builds) {
      stackd = await startStackd(lab, ['--workers', String(workers), '--tap', 'tap0', ...stackdArgs], build);
      const tids = dataThreadTids(stackd.pid);
      // Warm-up, not measured: the ARP entry, the pools, and V8. Until about the eighth
      // connection V8 keeps re-optimizing the send path for each new one (its objects get new
      // maps while in-object slack tracking runs): after one warm-up download the measured
      // 2 GiB carried 0.9-1.2 s of TurboFan compilation on the helper threads, after 14 of
      // them 0.1 s (node --trace-opt --trace-deopt).
      for (let k = 0; k < warmupConns; k++) {
        await runIn(`${lab}-c1`, 'curl', ['-s', '-o', '/dev/null', '--max-time', '30', `http://10.10.0.4/bytes/${warmup}`], 35_000);
      }
      const before = threadTicks(stackd.pid);
      const res = await runIn(`${lab}-c1`, 'curl', ['-s', '-o', '/dev/null', '--max-time', '120', '-w', '%{size_download}', `http://10.10.0.4/bytes/${bytes}`], 125_000);
      const after = threadTicks(stackd.pid);
      if (Number(res.stdout) !== bytes) throw new Error(`download got ${res.stdout} of ${bytes} bytes (curl status ${res.status})`);
      const s = sample(build, stackd.pid, before, after, tids, res.ms / 1000);
      samples.push(s);
      console.log(`run ${r + 1} ${build}: total ${s.total.toFixed(1)} µs/64KiB (main ${s.main.toFixed(1)}, io ${s.io.toFixed(1)}, worker ${s.worker.toFixed(1)}, other ${s.other.toFixed(1)}), ${((bytes * 8) / s.seconds / 1e9).toFixed(2)} Gbit/s`);
      await stackd.stop();
      stackd = null;
    }
  }
  const rows = builds.map((b) => {
    const of = samples.filter((s) => s.build === b);
    const m = (k: keyof Omit<Sample, 'build'>): string => median(of.map((s) => s[k])).toFixed(1);
    return [b, m('total'), m('main'), m('io'), m('worker'), m('other'), ((bytes * 8) / median(of.map((s) => s.seconds)) / 1e9).toFixed(2)];
  });
  console.log(`\nmedians, µs of CPU per 64 KiB sent:\n${formatTable(['build', 'total', 'main', 'io', 'worker', 'other', 'Gbit/s'], rows)}`);
  console.log(`load average at end ${loadAverage()}`);
}

await runBench('send-cpu', main, cleanup);
