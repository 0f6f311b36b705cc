/**
 * Ping and UDP echo latency of three stacks in the same run, on the same bridge: stackd,
 * the Linux kernel, and gVisor's netstack (issue 8 item 4: "never worse than gVisor").
 * The VM's wake-up latency drifts by several times from one hour to the next (the kernel's
 * own ping p50 has been 13 µs and 67 µs), so a figure of another stack is only comparable
 * when it is measured beside ours.
 *
 *   node dist/perf/peer-latency.js [--workers 1,4] [--runs 3] [--pings 500] [--seconds 5]
 *                                  [--gvisor perf/peers/gvisor-echo/gvisor-echo] [--stackd-args='...']
 *
 * One lab (`pl<pid>`, two clients): stackd on tap0 answers 10.10.0.4; the kernel peer
 * (perf/kernel-peer.ts) listens in <lab>-c2 = 10.10.0.5; gVisor's netstack
 * (perf/peers/gvisor-echo, built by its build.sh: Debian's gVisor 2022-12 with its fdbased
 * TAP endpoint) owns 10.10.0.200 on tap1, a second TAP on the lab's bridge
 * (perf/runs/gvisor-peer.ts). Every probe comes from <lab>-c1 (10.10.0.3):
 *   ping       `ping -c N -i 0.01` (the kernel's ICMP socket), p50 and p99 of the replies
 *   UDP echo   one 64-byte datagram in flight to port 7 for --seconds
 *              (perf/udp-echo-client.ts --window 1 --flows 1), its p50 and p99
 * Each run measures the three in a rotated order; the tables give the medians over runs
 * and each stack's ratio to the kernel. stackd is restarted per worker count; the kernel
 * peer and gVisor run for the whole benchmark.
 *
 * Needs root. Removes its lab afterwards, also on failure or Ctrl-C.
 */
import type { ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import {
  benchLabDown, benchLabUp, formatTable, installCleanup, loadAverage, median, percentile, printNotesAndTotal, runBench,
  startKernelPeer, startStackd, stopChild, type KernelPeerProcess, type StackdProcess,
} from './lab-bench.js';
import { KERNEL_IP, STACKD_IP } from './runs/context.js';
import { pingTimes, udpEchoOneInFlight, warmUpPings } from './runs/echo-probes.js';
import { defaultGvisorPath, GVISOR_IP, gvisorMissing, startGvisorPeer } from './runs/gvisor-peer.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,4' },
    runs: { type: 'string', default: '3' },
    pings: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '5' },
    gvisor: { type: 'string', default: defaultGvisorPath() },
    'stackd-args': { type: 'string', default: '' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(`usage: node dist/perf/peer-latency.js [--workers 1,4] [--runs 3] [--pings 500] [--seconds 5]
         [--gvisor PATH]  (the gVisor responder; build it with perf/peers/gvisor-echo/build.sh)
         [--stackd-args='--busy-poll 20000']`);
  process.exit(0);
}
const workerCounts = values.workers.split(',').map(Number);
const runs = Number(values.runs);
const pings = Number(values.pings);
const seconds = Number(values.seconds);
const stackdArgs = values['stackd-args'].split(/\s+/).filter(Boolean);
if (workerCounts.some((w) => !(Number.isInteger(w) && w >= 1 && w <= 64)) || !(Number.isInteger(runs) && runs >= 1 && runs <= 20) ||
  !(Number.isInteger(pings) && pings >= 10 && pings <= 10_000) || !(seconds >= 1 && seconds <= 60)) {
  console.error('bad flags: --workers 1..64 each, --runs 1..20, --pings 10..10000, --seconds 1..60');
  process.exit(2);
}
const missing = gvisorMissing(values.gvisor);
if (missing !== null) {
  console.error(missing);
  process.exit(2);
}

type Peer = 'stackd' | 'kernel' | 'gvisor';
const PEERS: readonly Peer[] = ['stackd', 'kernel', 'gvisor'];
const ADDRESS: Record<Peer, string> = { stackd: STACKD_IP, kernel: KERNEL_IP, gvisor: GVISOR_IP };
const FIGURES = ['ping p50', 'ping p99', 'udp p50', 'udp p99'] as const;
type Figure = (typeof FIGURES)[number];
const TITLES: Record<Figure, string> = { 'ping p50': 'ping RTT p50', 'ping p99': 'ping RTT p99', 'udp p50': 'UDP echo RTT p50', 'udp p99': 'UDP echo RTT p99' };

const lab = `pl${process.pid}`.slice(0, 24);
const c1 = `${lab}-c1`;
const notes: string[] = [];
/** figure → workers → peer → one value per run (µs). */
const results = new Map<Figure, Map<number, Map<Peer, number[]>>>();

function put(f: Figure, w: number, p: Peer, v: number): void {
  let byW = results.get(f);
  if (!byW) results.set(f, (byW = new Map<number, Map<Peer, number[]>>()));
  let byPeer = byW.get(w);
  if (!byPeer) byW.set(w, (byPeer = new Map<Peer, number[]>()));
  let list = byPeer.get(p);
  if (!list) byPeer.set(p, (list = []));
  list.push(v);
}

async function ping(p: Peer, w: number): Promise<void> {
  const times = await pingTimes(c1, ADDRESS[p], pings);
  if (times.length < pings) notes.push(`ping ${p} (workers ${w}): ${times.length} replies of ${pings}`);
  put('ping p50', w, p, percentile(times, 50));
  put('ping p99', w, p, percentile(times, 99));
  console.log(`  ping     ${p.padEnd(6)} p50 ${percentile(times, 50).toFixed(0)} µs, p99 ${percentile(times, 99).toFixed(0)} µs (${times.length} replies)`);
}

async function udpEcho(p: Peer, w: number): Promise<void> {
  const res = await udpEchoOneInFlight(c1, ADDRESS[p], seconds);
  if (typeof res === 'string') {
    notes.push(`udp echo ${p} (workers ${w}) failed: ${res}`);
    put('udp p50', w, p, NaN);
    put('udp p99', w, p, NaN);
    return;
  }
  put('udp p50', w, p, res.rttP50us);
  put('udp p99', w, p, res.rttP99us);
  console.log(`  udp echo ${p.padEnd(6)} p50 ${res.rttP50us.toFixed(0)} µs, p99 ${res.rttP99us.toFixed(0)} µs (${res.echoesPerSecond.toFixed(0)} echoes/s, ${res.lost} lost of ${res.sent})`);
}

let stackd: StackdProcess | undefined;
let kernel: KernelPeerProcess | undefined;
let gvisor: ChildProcess | undefined;

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log(`peer-latency: lab ${lab}, load average at start ${loadAverage()}`);
  console.log(`workers ${workerCounts.join(',')}; ${runs} run(s); ${pings} pings at 10 ms; UDP echo ${seconds} s, one 64-byte datagram in flight; stackd flags: ${stackdArgs.join(' ') || '(defaults)'}`);
  benchLabUp(lab, 2);
  kernel = await startKernelPeer(`${lab}-c2`);
  gvisor = await startGvisorPeer(lab, c1, values.gvisor);
  for (const w of workerCounts) {
    stackd = await startStackd(lab, ['--workers', String(w), '--tap', 'tap0', ...stackdArgs]);
    console.log(`\n== stackd --workers ${w} (pid ${stackd.pid}), load average ${loadAverage()}`);
    // Warm-up: ARP, the JIT of stackd's echo paths (and of the kernel peer's UDP handler).
    for (const p of PEERS) {
      await warmUpPings(c1, ADDRESS[p]);
      await udpEchoOneInFlight(c1, ADDRESS[p], 1);
    }
    for (let run = 0; run < runs; run++) {
      const order = PEERS.map((_, i) => PEERS[(i + run) % PEERS.length]);
      console.log(` run ${run + 1}/${runs} (load ${loadAverage()})`);
      for (const p of order) await ping(p, w);
      for (const p of order) await udpEcho(p, w);
    }
    await stackd.stop();
    stackd = undefined;
  }
  console.log(`\n==== results: medians of ${runs} run(s), µs (lower is better); load average now ${loadAverage()} ====`);
  for (const f of FIGURES) {
    const rows = workerCounts.map((w) => {
      const m = (p: Peer): number => median((results.get(f)?.get(w)?.get(p) ?? []).filter(Number.isFinite));
      const k = m('kernel');
      return [String(w), m('stackd').toFixed(0), m('kernel').toFixed(0), m('gvisor').toFixed(0),
        (m('stackd') / k).toFixed(2), (m('gvisor') / k).toFixed(2), (m('stackd') / m('gvisor')).toFixed(2)];
    });
    console.log(`\n${TITLES[f]}`);
    console.log(formatTable(['workers', 'stackd', 'kernel', 'gvisor', 'stackd/kernel', 'gvisor/kernel', 'stackd/gvisor'], rows));
  }
  printNotesAndTotal(notes, t0);
}

const cleanup = installCleanup(async () => {
  await stackd?.stop();
  if (gvisor) await stopChild(gvisor);
  await kernel?.stop();
  benchLabDown(lab);
});
await runBench('peer-latency', main, cleanup);
