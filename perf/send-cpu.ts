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
 *
 * Each download also prints the machine's budget over its wall time (decision 0040):
 * /proc/stat's ticks of both CPUs by kind (user, system, softirq, irq, idle, steal), the
 * serving process's and the client's (curl's, read from its shell's cutime + cstime) CPU
 * and the rest (other processes, softirq work not charged to either); and stackd's data
 * plane counters over the download. `--server kernel` runs the same downloads from the
 * kernel peer (perf/kernel-peer.ts in <lab>-c2, Node's http on the kernel's TCP).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/phy/package-root.js';
import {
  benchLabDown, benchLabUp, CLK_TCK, formatTable, installCleanup, loadAverage, median, nsSysctl, runBench, runIn, stackdStats, startKernelPeer,
  startStackd, statTicks, total, type KernelPeerProcess, type StackdProcess,
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
    server: { type: 'string', default: 'stackd' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(`usage: node dist/perf/send-cpu.js [--bytes 2147483648] [--runs 3] [--workers 1]
         [--warmup 33554432] [--warmup-conns 16]  (downloads first, not measured: until V8's code is stable)
         [--threads 1]  (worker threads stackd starts for --workers: 1 on 2 CPUs)
         [--builds ROOT_A,ROOT_B]  (package roots to alternate; default: this one)
         [--stackd-args='--no-offload'] [--client-timestamps on|off]  (off: the client's
         net.ipv4.tcp_timestamps=0, an MSS of 1460, not a multiple of 8)
         [--server stackd|kernel|stackd,kernel]  (kernel: perf/kernel-peer.js in <lab>-c2, the
         same download from the kernel's TCP; its process CPU is printed as 'total')
  Every download also prints the machine's budget over its wall time (/proc/stat: user,
  system, softirq, idle, steal of both CPUs) and the client's (curl's) CPU, µs per 64 KiB.`);
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
const servers = values.server.split(',');
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

/** Nanoseconds thread `tid` of `pid` spent runnable but waiting for a CPU, and its time slices (/proc/.../schedstat; NaN if gone). */
function schedWait(pid: number, tid: number): [number, number] {
  try {
    const f = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return [f[1], f[2]];
  } catch {
    return [NaN, NaN];
  }
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

/** The machine's CPU ticks by kind, both CPUs summed (/proc/stat's `cpu` line). */
interface MachineTicks {
  user: number;
  system: number;
  softirq: number;
  irq: number;
  idle: number;
  steal: number;
}

function machineTicks(): MachineTicks {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice
  return { user: f[0] + f[1], system: f[2], idle: f[3] + f[4], irq: f[5], softirq: f[6], steal: f[7] };
}

/**
 * One download from the client: `curl` run under `sh`, which prints curl's CPU after it
 * (its cutime + cstime in ticks, /proc/<sh>/stat fields 16-17: the child it waited for).
 */
async function download(url: string, n: number, timeoutMs: number): Promise<{ ms: number; clientTicks: number }> {
  const script = `curl -s -o /dev/null --max-time ${Math.ceil(timeoutMs / 1000) - 5} -w '%{size_download}' '${url}'; read -r s < /proc/$$/stat; echo " \${s##*) }"`;
  const res = await runIn(`${lab}-c1`, 'sh', ['-c', script], timeoutMs);
  const [got, ...stat] = res.stdout.trim().split(/\s+/);
  if (Number(got) !== n) throw new Error(`download of ${url} got ${got} of ${n} bytes (status ${res.status}): ${res.stderr}`);
  // stat starts at field 3 (state): cutime is field 16, cstime 17.
  return { ms: res.ms, clientTicks: Number(stat[13]) + Number(stat[14]) };
}

/** Prints where the wall time of a download went, µs per 64 KiB: both CPUs by kind, the server's and the client's process. */
function printBudget(label: string, m0: MachineTicks, m1: MachineTicks, serverTicks: number, clientTicks: number, seconds: number): void {
  const per = (ticks: number): string => (((ticks / CLK_TCK) * 1e6) / (bytes / CHUNK)).toFixed(1);
  const d = (k: keyof MachineTicks): number => m1[k] - m0[k];
  const all = d('user') + d('system') + d('softirq') + d('irq') + d('idle') + d('steal');
  console.log(`  budget ${label}: wall ${seconds.toFixed(2)} s = ${per(seconds * CLK_TCK)} µs/64KiB; both CPUs ${per(all)}: ` +
    `user ${per(d('user'))}, system ${per(d('system'))}, softirq ${per(d('softirq'))}, irq ${per(d('irq'))}, idle ${per(d('idle'))}, steal ${per(d('steal'))}; ` +
    `server process ${per(serverTicks)}, client curl ${per(clientTicks)}, rest ${per(all - d('idle') - d('steal') - serverTicks - clientTicks)}`);
}

/** stackd counters whose deltas over a download say how the data plane ran. */
const FLOW_COUNTERS = ['tap_tx_frames', 'tap_write_batches', 'tap_rx_frames', 'tap_read_batches', 'tx_direct_frames', 'tx_ring_frames', 'io_sleeps', 'worker_wakeups', 'worker_busy_polls'];

let stackd: StackdProcess | null = null;
let peer: KernelPeerProcess | null = null;
const cleanup = installCleanup(async () => {
  await stackd?.stop();
  await peer?.stop();
  benchLabDown(lab);
});

async function main(): Promise<void> {
  benchLabUp(lab, servers.includes('kernel') ? 2 : 1);
  if (values['client-timestamps'] === 'off') {
    const err = await nsSysctl(`${lab}-c1`, 'net.ipv4.tcp_timestamps', '0');
    if (err !== null) throw new Error(`sysctl tcp_timestamps=0 in ${lab}-c1: ${err}`);
  }
  if (servers.includes('kernel')) {
    peer = await startKernelPeer(`${lab}-c2`);
    console.log(`kernel peer: congestion control ${peer.congestionControl} (the namespace's default)`);
  }
  const samples: Sample[] = [];
  console.log(`send-cpu: ${runs} run(s) per build of GET /bytes/${bytes} after ${warmupConns} × ${warmup} B, workers ${workers}, client timestamps ${values['client-timestamps']}, servers ${servers.join(',')}, builds ${builds.join(' | ')}; load ${loadAverage()}`);
  for (let r = 0; r < runs; r++) {
    for (const server of servers) {
      for (const build of server === 'kernel' ? ['kernel'] : builds) {
        const url = server === 'kernel' ? 'http://10.10.0.5' : 'http://10.10.0.4';
        if (server !== 'kernel') stackd = await startStackd(lab, ['--workers', String(workers), '--tap', 'tap0', ...stackdArgs], build);
        const pid = stackd?.pid ?? peer?.pid ?? -1;
        const tids = server === 'kernel' ? [] : dataThreadTids(pid);
        // Warm-up, not measured: the ARP entry, the pools, and V8. Until about the eighth
        // connection V8 keeps re-optimizing the send path for each new one (its objects get new
        // maps while in-object slack tracking runs): after one warm-up download the measured
        // 2 GiB carried 0.9-1.2 s of TurboFan compilation on the helper threads, after 14 of
        // them 0.1 s (node --trace-opt --trace-deopt).
        for (let k = 0; k < warmupConns; k++) await download(`${url}/bytes/${warmup}`, warmup, 35_000);
        // And three downloads of the measured size when it passes 2^30 bytes, V8's small integer
        // range: a download that passes it turns byte offsets and counts into doubles and sets
        // off a wave of "wrong map" deoptimizations and recompilation. The second 2 GiB
        // download still had 29 of them and 83 functions compiled again, the fourth none and
        // 11 (node --trace-opt --trace-deopt; perf/tcp-bench.ts warms up the same way).
        if (bytes > 2 ** 30) for (let k = 0; k < 3; k++) await download(`${url}/bytes/${bytes}`, bytes, 125_000);
        const c0 = stackd ? await stackdStats(stackd.control) : null;
        const before = threadTicks(pid);
        const w0 = tids.map((t) => schedWait(pid, t));
        const m0 = machineTicks();
        const res = await download(`${url}/bytes/${bytes}`, bytes, 125_000);
        const m1 = machineTicks();
        const after = threadTicks(pid);
        const w1 = tids.map((t) => schedWait(pid, t));
        const c1 = stackd ? await stackdStats(stackd.control) : null;
        const s = sample(build, pid, before, after, tids, res.ms / 1000);
        samples.push(s);
        console.log(`run ${r + 1} ${build}: total ${s.total.toFixed(1)} µs/64KiB (main ${s.main.toFixed(1)}, io ${s.io.toFixed(1)}, worker ${s.worker.toFixed(1)}, other ${s.other.toFixed(1)}), ${((bytes * 8) / s.seconds / 1e9).toFixed(2)} Gbit/s`);
        let serverTicks = 0;
        for (const [tid, t] of after) serverTicks += t - (before.get(tid) ?? 0);
        printBudget(build, m0, m1, serverTicks, res.clientTicks, s.seconds);
        if (c0 && c1) console.log(`  stackd counters: ${FLOW_COUNTERS.map((k) => `${k}=${total(c1, k) - total(c0, k)}`).join(' ')}`);
        if (tids.length > 0) {
          // Runnable but not running: a thread woken (an ACK for the I/O thread) waits here while both CPUs are taken.
          const waits = tids.map((_, i) => `${i === 0 ? 'io' : `worker ${i}`} ${(((w1[i][0] - w0[i][0]) / 1000) / (bytes / CHUNK)).toFixed(1)} µs/64KiB in ${w1[i][1] - w0[i][1]} slices`);
          console.log(`  waiting for a CPU (schedstat): ${waits.join(', ')}`);
        }
        await stackd?.stop();
        stackd = null;
      }
    }
  }
  const rows = [...new Set(samples.map((s) => s.build))].map((b) => {
    const of = samples.filter((s) => s.build === b);
    const m = (k: keyof Omit<Sample, 'build'>): string => median(of.map((s) => s[k])).toFixed(1);
    return [b, m('total'), m('main'), m('io'), m('worker'), m('other'), ((bytes * 8) / median(of.map((s) => s.seconds)) / 1e9).toFixed(2)];
  });
  console.log(`\nmedians, µs of CPU per 64 KiB sent:\n${formatTable(['build', 'total', 'main', 'io', 'worker', 'other', 'Gbit/s'], rows)}`);
  console.log(`load average at end ${loadAverage()}`);
}

await runBench('send-cpu', main, cleanup);
