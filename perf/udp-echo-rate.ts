/**
 * UDP echo rate (issue 2 benchmark): datagrams echoed per second through stackd's UDP echo
 * (port 7) and, in the same run, through the kernel peer's (perf/kernel-peer.ts: Node's
 * dgram on the Linux kernel), alternating the two, medians of --runs, the ratio printed.
 *
 *   node dist/perf/udp-echo-rate.js [--workers 1,2] [--sizes 64,1400] [--window 32]
 *                                   [--flows 4] [--seconds 5] [--runs 3] [--stackd-args='--no-offload']
 *
 * One lab (`pb<pid>`, two clients): stackd on tap0 = 10.10.0.4, kernel peer in <lab>-c2 =
 * 10.10.0.5, the load from <lab>-c1 by perf/udp-echo-client.ts: a window of --window
 * datagrams outstanding over --flows sockets (a datagram not echoed within 200 ms counts as
 * lost and is replaced). Also reports stackd's CPU (all threads) as % of a core.
 *
 * Needs root. Removes its lab and processes on exit, also on failure or Ctrl-C.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { controlRequest } from '../src/control/control-client.js';
import type { StatsSnapshot } from '../src/control/types.js';
import { packageRoot } from '../src/phy/package-root.js';
import {
  benchLabDown, benchLabUp, cpuSeconds, formatTable, installCleanup, loadAverage, median, runIn,
  startKernelPeer, startStackd, type KernelPeerProcess, type StackdProcess,
  printNotesAndTotal, runBench,
} from './lab-bench.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2' },
    sizes: { type: 'string', default: '64,1400' },
    window: { type: 'string', default: '32' },
    flows: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    'stackd-args': { type: 'string', default: '' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node dist/perf/udp-echo-rate.js [--workers 1,2] [--sizes 64,1400] [--window 32] [--flows 4] [--seconds 5] [--runs 3] [--stackd-args=\'--no-offload\']');
  process.exit(0);
}
const workerCounts = values.workers.split(',').map(Number);
/** Extra stackd flags, e.g. --stackd-args='--no-offload' or --stackd-args='--cc cubic'. */
const stackdArgs = values['stackd-args'].split(/\s+/).filter(Boolean);
const sizes = values.sizes.split(',').map(Number);
const seconds = Number(values.seconds);
const runs = Number(values.runs);
if (workerCounts.some((w) => !(w >= 1 && w <= 64)) || sizes.some((s) => !(s >= 8 && s <= 1472)) ||
  !(seconds > 0 && seconds <= 60) || !(runs >= 1 && runs <= 20)) {
  console.error('bad flags: --workers 1..64 each, --sizes 8..1472 each, --seconds ≤ 60, --runs 1..20');
  process.exit(2);
}

type Target = 'stackd' | 'kernel';
const HOSTS: Record<Target, string> = { stackd: '10.10.0.4', kernel: '10.10.0.5' };
const lab = `pb${process.pid}`.slice(0, 24);
const c1 = `${lab}-c1`;
const client = join(packageRoot(), 'dist/perf/udp-echo-client.js');

let stackd: StackdProcess | undefined;
let peer: KernelPeerProcess | undefined;
const cleanup = installCleanup(async () => {
  await stackd?.stop();
  await peer?.stop();
  benchLabDown(lab);
});

interface Sample {
  pps: number;
  lossPct: number;
  rttP50us: number;
  rttP99us: number;
  cpuPct: number;
}
/** key `${size}/${workers}/${target}` → samples. */
const samples = new Map<string, Sample[]>();
const notes: string[] = [];

async function measure(t: Target, size: number, w: number): Promise<void> {
  const proc = t === 'stackd' ? stackd : peer;
  if (proc === undefined) throw new Error(`no ${t} process is running`);
  const pid = proc.pid;
  const c0 = cpuSeconds(pid);
  const r = await runIn(c1, process.execPath, [client, '--host', HOSTS[t], '--size', String(size), '--window', values.window,
    '--flows', values.flows, '--seconds', String(seconds)], seconds * 1000 + 20_000);
  const dcpu = cpuSeconds(pid) - c0;
  let res: { echoesPerSecond: number; sent: number; lost: number; rttP50us: number; rttP99us: number; seconds: number; late: number };
  try {
    res = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as typeof res;
  } catch {
    notes.push(`client against ${t} (size ${size}, workers ${w}) failed: status ${r.status} ${r.stderr.trim()}`);
    return;
  }
  const s: Sample = {
    pps: res.echoesPerSecond,
    lossPct: res.sent > 0 ? (100 * res.lost) / res.sent : NaN,
    rttP50us: res.rttP50us,
    rttP99us: res.rttP99us,
    cpuPct: (100 * dcpu) / (seconds + 0.7), // the client runs warm-up 0.5 s + S + drain 0.2 s
  };
  const key = `${size}/${w}/${t}`;
  samples.set(key, [...(samples.get(key) ?? []), s]);
  console.log(`  ${String(size).padStart(4)} B ${t.padEnd(6)} ${s.pps.toFixed(0)} echoes/s, lost ${res.lost} of ${res.sent} (${s.lossPct.toFixed(3)} %), RTT p50 ${s.rttP50us.toFixed(0)} µs p99 ${s.rttP99us.toFixed(0)} µs, serving process CPU ${s.cpuPct.toFixed(0)} %${res.late ? `, ${res.late} late echoes` : ''}`);
  if (res.lost > 0) notes.push(`${t}, ${size} B, workers ${w}: ${res.lost} of ${res.sent} datagrams lost`);
}

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log(`udp-echo-rate: lab ${lab}, load average at start ${loadAverage()} (${(await import('node:os')).cpus().length} CPUs)`);
  console.log(`workers ${workerCounts.join(',')}; sizes ${sizes.join(',')} B; window ${values.window} over ${values.flows} flows; ${seconds} s per measure; ${runs} run(s); stackd flags: ${stackdArgs.join(' ') || '(defaults)'}`);
  benchLabUp(lab, 2);
  peer = await startKernelPeer(`${lab}-c2`);
  const drops = new Map<number, string>();
  for (const w of workerCounts) {
    stackd = await startStackd(lab, ['--workers', String(w), '--tap', 'tap0', ...stackdArgs]);
    console.log(`\n== stackd --workers ${w} (pid ${stackd.pid}), load average ${loadAverage()}`);
    for (const t of ['stackd', 'kernel'] as const) {
      await runIn(c1, 'ping', ['-c', '5', '-i', '0.01', '-q', HOSTS[t]], 10_000); // ARP
    }
    for (let run = 0; run < runs; run++) {
      const order: Target[] = run % 2 === 0 ? ['stackd', 'kernel'] : ['kernel', 'stackd'];
      console.log(` run ${run + 1}/${runs} (load ${loadAverage()})`);
      for (const size of sizes) for (const t of order) await measure(t, size, w);
    }
    const stats = JSON.parse((await controlRequest(stackd.control, '/stats')).body) as StatsSnapshot;
    drops.set(w, Object.entries(stats.drops).map(([k, v]) => `${k}=${v}`).join(' ') || 'none');
    await stackd.stop();
    stackd = undefined;
  }

  const fmt = (v: number, d: number): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  console.log(`\n==== results: medians of ${runs} run(s), window ${values.window} over ${values.flows} flows; load average now ${loadAverage()} ====`);
  for (const size of sizes) {
    const rows = workerCounts.map((w) => {
      const s = samples.get(`${size}/${w}/stackd`) ?? [];
      const k = samples.get(`${size}/${w}/kernel`) ?? [];
      const m = (xs: Sample[], f: (x: Sample) => number): number => median(xs.map(f).filter(Number.isFinite));
      const sp = m(s, (x) => x.pps);
      const kp = m(k, (x) => x.pps);
      return [String(w), fmt(sp, 0), fmt(kp, 0), fmt(sp / kp, 2), fmt(m(s, (x) => x.lossPct), 3), fmt(m(k, (x) => x.lossPct), 3),
        fmt(m(s, (x) => x.rttP50us), 0), fmt(m(k, (x) => x.rttP50us), 0), fmt(m(s, (x) => x.cpuPct), 0)];
    });
    console.log(`\nUDP echo, ${size}-byte payloads, echoes/s`);
    console.log(formatTable(['workers', 'stackd', 'kernel', 'stackd/kernel', 'stackd loss %', 'kernel loss %', 'stackd RTT p50 µs', 'kernel RTT p50 µs', 'stackd CPU %core'], rows));
  }
  console.log('\nstackd drops by reason per worker count:');
  for (const [w, d] of drops) console.log(`  workers ${w}: ${d}`);
  printNotesAndTotal(notes, t0);
}

await runBench('udp-echo-rate', main, cleanup);
