/**
 * TCP benchmarks (issue 3, item 8; issue 8, item 7): stackd against the Linux kernel
 * serving the same services in the same run, alternating the two, medians of --runs, the
 * ratio printed. The bulk transfers also print the median of each run's own ratio (the two
 * sides measured back to back): the VM's slow periods of several seconds move single
 * transfers of both sides by 2×, and a median per side mixes a slow run of one with a fast
 * one of the other.
 *
 *   node dist/perf/tcp-bench.js [--workers 1,2] [--seconds 5] [--runs 3] [--bulk-runs N] [--bytes 2147483648]
 *                               [--only bulk,http,ping,udp,sustained,memory,soak]
 *                               [--pings 500] [--ping-busy-poll USEC] [--connections 32] [--threads 2]
 *                               [--stackd-args='--no-offload --cc cubic'] [--loss 3]
 *                               [--reorder 2] [--client-offloads on|off]
 *                               [--kernel-cc system|cubic|reno|bbr[,...]]
 *                               [--sustained-seconds 60] [--conns 20000] [--memory-clients N]
 *                               [--soak-minutes 3] [--svg FILE] [--gvisor] [--gvisor-path PATH]
 *
 * One lab (`pb<pid>`, two clients): stackd on tap0 answers 10.10.0.4; the kernel peer
 * (perf/kernel-peer.ts: Node's net/http on the kernel, the same contract) listens in
 * <lab>-c2 = 10.10.0.5; every load comes from <lab>-c1 (10.10.0.3) across the same bridge.
 * stackd is restarted for each worker count; the kernel peer starts once, with the
 * congestion control of --kernel-cc (default: its namespace's, which is the machine's; bbr
 * here, decision 0043), printed in the header. With several names, the whole set of runs
 * (stackd alternated with the kernel peer) is repeated once per name, switching the peer's
 * routes between them, and the results come as one set of tables per name.
 *
 *   bulk   upload:   head -c BYTES /dev/zero | nc -N HOST 9    (discard; timed to nc's exit)
 *          download: curl http://HOST/bytes/BYTES -o /dev/null (size checked)
 *          + CPU time of the serving process (stackd: all its threads; kernel peer: the
 *          Node process only; the kernel's softirq work is not in it) as % of one core
 *   http   keep-alive requests/s:   wrk -tT -cC -dSs http://HOST/
 *          connections/s:           wrk ... -H 'Connection: close' http://HOST/
 *          (c1 gets net.ipv4.tcp_tw_reuse=1 and ip_local_port_range 1024 65535)
 *          stackd's per-stage latency (POST /latency/reset before the keep-alive run,
 *          GET /latency after it) printed once per worker count
 *   ping   ICMP echo RTT p50/p99 (ping -i 0.01, per-packet times); with --ping-busy-poll
 *          again against a second stackd started with --busy-poll (decision 0026)
 *   udp    UDP echo RTT p50/p99, one 64-byte datagram in flight (perf/udp-echo-client.ts
 *          --window 1 --flows 1 for --seconds)
 * The long runs, each on a fresh stackd per worker count, not in the default --only:
 *   sustained  wrk -t1 -c1 'Connection: close' from one address for --sustained-seconds,
 *              10 s slices, TIME_WAIT and its overflow per slice (perf/runs/sustained.ts)
 *   memory     --conns idle connections held from several addresses, stackd RSS per
 *              connection (perf/runs/memory.ts, perf/hold-conns.ts)
 *   soak       --soak-minutes of mixed load, RSS every 30 s and after (perf/runs/soak.ts)
 * --svg FILE writes the results (medians) as grouped bars, stackd vs kernel per metric.
 * --gvisor also pings and UDP-echoes gVisor's netstack (perf/runs/gvisor-peer.ts, decision
 * 0052) in every run, after the two sides: the rows '... against gVisor' set stackd's
 * values of the run beside gVisor's.
 *
 * --loss P drops P % of the IPv4/IPv6 packets at random in each direction between c1 and the
 * servers, for the whole run: the same path loss between c1 and either server, data and
 * ACKs alike (perf/runs/path-loss.ts). Two models, by --client-offloads:
 *   on  (`frames`, a virtual link as it is): both directions on the lab bridge at c1's port
 *       (an nftables bridge table in <lab>-host); a GSO/TSO aggregate crosses the bridge
 *       whole and is dropped whole, so P is a rate of frames, not of segments;
 *   off (`segments`, a real wire): GRO, GSO and TSO off on c1's interfaces and TSO, GSO and
 *       GRO off on its bridge port veth-c1 (perf/runs/client-offloads.ts), so the kernel cuts
 *       the servers' aggregates into segments when br0 transmits them to c1; the direction
 *       from c1 is dropped on the bridge, the direction towards c1 at c1's eth0 (an nftables
 *       netdev ingress table in <lab>-c1), after the cut: every segment meets the rule alone.
 * Each transfer prints what crossed c1's port by size (aggregates, single segments, small
 * frames) and how many were dropped; with offloads off also what br0 forwarded towards c1
 * before the cut.
 * --reorder P holds back P % of the frames stackd transmits until its next frame has gone
 * (stackd's own fault injector, `--fault tx.reorder=P%` appended to the stackd flags), so
 * the data of stackd's downloads reaches the client out of order; the kernel peer's
 * transfers are not reordered. The unit is stackd's frame, before any cut: with stackd's
 * TSO on (its default) a reordered frame is usually an aggregate, a run of segments arriving
 * late together, whatever --client-offloads says.
 * Each bulk transfer prints what its two ends did, from counters read around it
 * (perf/runs/transfer-figures.ts): the sender's RTOs, fast recoveries entered,
 * retransmissions, D-SACKs received and the reductions it undid as spurious (fast recovery /
 * RTO), and the receiver's out-of-order arrivals. The sender is stackd for its downloads
 * (/stats), c1's kernel for both uploads and c2's kernel for the kernel peer's downloads
 * (/proc/net of that namespace); the receiver is the other end. With --loss or --reorder
 * the results also give the seconds per transfer (median; the ratio is issue 11's "within 2×
 * of the kernel's time") and the sender's RTOs per transfer (mean) of each bulk direction.
 *
 * Needs root. Removes its lab and processes on exit, also on failure or Ctrl-C.
 * Figures, not tests: nothing is asserted.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { controlRequest } from '../src/control/control-client.js';
import { formatLatencyTable } from '../src/control/latency-table.js';
import type { LatencyReport } from '../src/control/types.js';
import { formatPlacement } from '../src/cli/stackctl-format.js';
import {
  benchLabDown, benchLabUp, cpuSeconds, installCleanup, loadAverage, nsKernelCounters, nsSysctl, percentile, runIn,
  stackdStats, startKernelPeer, startStackd, type KernelPeerProcess, type StackdProcess,
  printNotesAndTotal, runBench, setKernelCongestionControl, stopChild,
} from './lab-bench.js';
import { hostOf, type RunContext } from './runs/context.js';
import { CONNS_PER_CLIENT, runMemory } from './runs/memory.js';
import { BenchResults, type MetricSpec, type Target } from './runs/results.js';
import { runSoak } from './runs/soak.js';
import { runSustained } from './runs/sustained.js';
import { clientOffloadsOff } from './runs/client-offloads.js';
import { CLIENT_IF, CLIENT_PORT, installPathLoss, pathLine, readPathCounts, type LossPlaces, type PathCounts } from './runs/path-loss.js';
import { transferDelta, transferDeltaLine, type CounterReading } from './runs/transfer-figures.js';
import { pingTimes, udpEchoOneInFlight, warmUpPings, type UdpEchoResult } from './runs/echo-probes.js';
import { defaultGvisorPath, GVISOR_IP, gvisorMissing, startGvisorPeer } from './runs/gvisor-peer.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2' },
    seconds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    'bulk-runs': { type: 'string' },
    bytes: { type: 'string', default: String(2 * 1024 * 1024 * 1024) },
    only: { type: 'string', default: 'bulk,http,ping,udp' },
    pings: { type: 'string', default: '500' },
    'ping-busy-poll': { type: 'string', default: '0' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
    'stackd-args': { type: 'string', default: '' },
    loss: { type: 'string', default: '0' },
    reorder: { type: 'string', default: '0' },
    'client-offloads': { type: 'string', default: 'on' },
    'kernel-cc': { type: 'string', default: 'system' },
    'sustained-seconds': { type: 'string', default: '60' },
    conns: { type: 'string', default: '20000' },
    'memory-clients': { type: 'string' },
    'soak-minutes': { type: 'string', default: '3' },
    svg: { type: 'string' },
    gvisor: { type: 'boolean', default: false },
    'gvisor-path': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
/** One pass of the measurements against one kernel congestion control. */
interface Pass {
  cc: string;
  results: BenchResults;
  latencyTables: Map<number, string>;
  stackdCounters: Map<number, Record<string, number>>;
  kernelBefore: Record<string, number>;
  kernelAfter: Record<string, number>;
}

/** stackd's congestion control as its flags set it (--cc; default newreno). */
function stackdCongestionControl(): string {
  const i = stackdArgs.lastIndexOf('--cc');
  return i >= 0 && i + 1 < stackdArgs.length ? `${stackdArgs[i + 1]} (--cc)` : 'newreno (its default)';
}
if (values.help) {
  console.log(`usage: node dist/perf/tcp-bench.js [--workers 1,2] [--seconds 5] [--runs 3] [--bytes 2147483648]
         [--bulk-runs N]  (bulk pairs per worker count, default --runs: the VM's slow periods of
                     several seconds halve single transfers, and more pairs keep them off the medians)
         [--only bulk,http,ping,udp,sustained,memory,soak]  (default bulk,http,ping,udp)
         [--pings 500] [--connections 32] [--threads 2] [--stackd-args='--no-offload']
         [--ping-busy-poll USEC]  (ping again with a stackd started with --busy-poll USEC: the
                     latency mode; rows 'ping RTT p50/p99, stackd --busy-poll')
         [--loss 3]  (% dropped each way between c1 and the servers; with client offloads on, of the
                     frames br0 forwards: an aggregate is dropped whole; with them off, of single segments)
         [--reorder 2]  (% of stackd's transmitted frames reordered: --fault tx.reorder=P% for stackd)
         [--client-offloads on|off]  (off: GRO/GSO/TSO off in c1 and on its bridge port veth-c1, so c1
                     sends and receives single segments from both servers, as on a real wire)
         [--kernel-cc system|cubic|reno|bbr[,...]]  (the kernel peer's congestion control; system: its
                     namespace's default, which is the machine's: bbr here, cubic in Linux's own build;
                     several: every measurement again against each, one table set per name)
         [--sustained-seconds 60] [--conns 20000] [--memory-clients N] [--soak-minutes 3] [--svg FILE]
         [--gvisor] [--gvisor-path PATH]  (ping and UDP echo also against gVisor's netstack on tap1,
                     10.10.0.200, in every run: rows '... against gVisor'; the responder is built by
                     perf/peers/gvisor-echo/build.sh, which leaves it where PATH defaults to)`);
  process.exit(0);
}
const workerCounts = values.workers.split(',').map(Number);
/** Extra stackd flags, e.g. --stackd-args='--no-offload' or --stackd-args='--cc cubic'. */
const stackdArgs = values['stackd-args'].split(/\s+/).filter(Boolean);
const seconds = Number(values.seconds);
const runs = Number(values.runs);
/** Bulk transfer pairs per worker count: the first --runs rounds carry them with the rest, any more follow alone. */
const bulkRuns = values['bulk-runs'] === undefined ? runs : Number(values['bulk-runs']);
const bytes = Number(values.bytes);
const only = new Set(values.only.split(','));
const pings = Number(values.pings);
/** --ping-busy-poll: µs of --busy-poll for a second stackd that only answers pings (0: none). */
const pingBusyPollUs = Number(values['ping-busy-poll']);
const loss = Number(values.loss);
const reorder = Number(values.reorder);
if (reorder > 0) stackdArgs.push('--fault', `tx.reorder=${reorder}%`);
const clientOffloads = values['client-offloads'];
/** The kernel peer's congestion controls, one pass of the measurements each. */
const kernelCcs = values['kernel-cc'].split(',');
const sustainedSeconds = Number(values['sustained-seconds']);
const conns = Number(values.conns);
const memoryClients = values['memory-clients'] === undefined ? Math.max(4, Math.ceil(conns / CONNS_PER_CLIENT)) : Number(values['memory-clients']);
const soakMinutes = Number(values['soak-minutes']);
/** --gvisor: the gVisor responder (decision 0052), or undefined. */
const gvisorPath = values.gvisor ? (values['gvisor-path'] ?? defaultGvisorPath()) : undefined;
if (gvisorPath !== undefined) {
  const missing = gvisorMissing(gvisorPath);
  if (missing !== null) {
    console.error(missing);
    process.exit(2);
  }
}
const RUNS = ['bulk', 'http', 'ping', 'udp', 'sustained', 'memory', 'soak'];
for (const o of only) {
  if (!RUNS.includes(o)) {
    console.error(`--only: unknown '${o}' (${RUNS.join(', ')})`);
    process.exit(2);
  }
}
if (workerCounts.some((w) => !(w >= 1 && w <= 64)) || !(seconds > 0 && seconds <= 60) || !(runs >= 1 && runs <= 20) ||
  !(Number.isInteger(bulkRuns) && bulkRuns >= 1 && bulkRuns <= 20) ||
  !['on', 'off'].includes(clientOffloads) ||
  !kernelCcs.every((c) => /^[a-z0-9_]{1,15}$/.test(c)) || new Set(kernelCcs).size !== kernelCcs.length ||
  !(bytes >= 1 && bytes <= 2 ** 34) || !(pings >= 10 && pings <= 10_000) ||
  !(Number.isInteger(pingBusyPollUs) && pingBusyPollUs >= 0 && pingBusyPollUs <= 1_000_000) || !(Number.isInteger(loss) && loss >= 0 && loss <= 50) ||
  !(reorder >= 0 && reorder <= 50) ||
  !(sustainedSeconds >= 1 && sustainedSeconds <= 600) || !(Number.isInteger(conns) && conns >= 1 && conns <= 200_000) ||
  !(Number.isInteger(memoryClients) && memoryClients >= Math.ceil(conns / CONNS_PER_CLIENT) && memoryClients <= 50) ||
  !(soakMinutes >= 0.5 && soakMinutes <= 15) || values.svg === '') {
  console.error(`bad flags: --workers 1..64 each, --seconds 1..60, --runs 1..20, --bulk-runs 1..20, --bytes ≤ 16 GiB, --pings 10..10000, --ping-busy-poll 0..1000000, --loss 0..50 (integer %), --reorder 0..50 (%), --client-offloads on|off, --kernel-cc NAME[,NAME...] (distinct), ` +
    `--sustained-seconds 1..600, --conns 1..200000, --memory-clients ${Math.ceil(conns / CONNS_PER_CLIENT)}..50 (≤ ${CONNS_PER_CLIENT} connections each), ` +
    '--soak-minutes 0.5..15, --svg FILE');
  process.exit(2);
}

const lab = `pb${process.pid}`.slice(0, 24);
const c1 = `${lab}-c1`;
const c2 = `${lab}-c2`;
/** The lab's bridge namespace, where --loss drops frames (and, with --client-offloads off, c1 those towards it). */
const hostNs = `${lab}-host`;
const lossPlaces: LossPlaces = { hostNs, clientNs: c1, model: clientOffloads === 'off' ? 'segments' : 'frames' };
/** Client namespaces for the memory run besides c1: c3, c4, ... (c2 is the kernel peer). */
const extraClients = only.has('memory') ? Array.from({ length: memoryClients - 1 }, (_, i) => `${lab}-c${i + 3}`) : [];

let stackd: StackdProcess | undefined;
let peer: KernelPeerProcess | undefined;
/** --gvisor: the running responder (perf/runs/gvisor-peer.ts). */
let gvisor: ChildProcess | undefined;
const cleanup = installCleanup(async () => {
  await stackd?.stop();
  await peer?.stop();
  if (gvisor) await stopChild(gvisor);
  benchLabDown(lab);
});

/** The results of the pass running now (one pass per --kernel-cc name). */
let results = new BenchResults();
const notes: string[] = [];
function note(s: string): void {
  notes.push(s);
  console.log(`  ! ${s}`);
}

const host = hostOf;
function servingPid(t: Target): number {
  const p = t === 'stackd' ? stackd : peer;
  if (p === undefined) throw new Error(`no ${t} process is running`);
  return p.pid;
}

/** A reading of every counter source (stackd's /stats if it runs, the kernels of c1 and c2) and, with --loss, the bridge's loss counters. */
interface Reading {
  counters: CounterReading;
  path?: PathCounts;
}

async function readCounters(): Promise<Reading> {
  const [s, k1, k2, path] = await Promise.all([
    stackd === undefined ? Promise.resolve({}) : stackdStats(stackd.control).then((x) => x.totals),
    nsKernelCounters(c1), nsKernelCounters(c2),
    loss > 0 ? readPathCounts(lossPlaces) : Promise.resolve(undefined),
  ]);
  const counters: CounterReading = { stackd: s, c1: k1, c2: k2 };
  return path === undefined ? { counters } : { counters, path };
}

/** The lines printed under a transfer (what its ends did and, with --loss, what crossed the client's bridge port), its sender's RTOs and the reading after it. */
async function transferReport(t: Target, direction: 'upload' | 'download', before: Reading): Promise<{ text: string; rtos: number; after: Reading }> {
  const after = await readCounters();
  const delta = transferDelta(t, direction, before.counters, after.counters);
  const ends = transferDeltaLine(t, direction, delta);
  const text = before.path !== undefined && after.path !== undefined ? `${ends}\n           ${pathLine(before.path, after.path, lossPlaces.model)}` : ends;
  return { text, rtos: delta.rtos, after };
}

/** Under --loss or --reorder: a bulk transfer's seconds and its sender's RTOs (NaN, NaN: it failed). */
function putTransfer(direction: 'upload' | 'download', w: number, t: Target, secs: number, rtos: number): void {
  if (loss === 0 && reorder === 0) return;
  results.put(`${direction} s`, w, t, secs);
  results.put(`${direction} RTOs`, w, t, rtos);
}

/** A bulk transfer slower than this is a stall: 5 MB/s, 0.5 MB/s under --loss (where a slow transfer is the figure sought). */
function transferTimeoutMs(): number {
  return 30_000 + (bytes / (loss > 0 ? 5e5 : 5e6)) * 1000;
}

async function upload(t: Target, w: number): Promise<void> {
  const before = await readCounters();
  const c0 = cpuSeconds(servingPid(t));
  const timeout = transferTimeoutMs();
  const r = await runIn(c1, 'bash', ['-c', `head -c ${bytes} /dev/zero | nc -N ${host(t)} 9`], timeout);
  const dcpu = cpuSeconds(servingPid(t)) - c0;
  const { text: sent, rtos, after } = await transferReport(t, 'upload', before);
  // nc exits 0 once the server has closed after reading its FIN, i.e. after the whole stream;
  // stackd's in-order delivered bytes (tcp_rx_bytes) must also come to exactly `bytes`.
  const rxBytes = (x: Reading): number => (Object.hasOwn(x.counters.stackd, 'tcp_rx_bytes') ? x.counters.stackd.tcp_rx_bytes : NaN);
  const delivered = t === 'stackd' ? rxBytes(after) - rxBytes(before) : bytes;
  if (r.status !== 0 || r.timedOut || delivered !== bytes) {
    note(`upload to ${t} (workers ${w}) failed: status ${r.status}${r.timedOut ? ' (timed out)' : ''}, ${delivered} of ${bytes} bytes delivered ${r.stderr.trim()}`);
    results.put('upload', w, t, NaN);
    putTransfer('upload', w, t, NaN, NaN);
    return;
  }
  const gbps = (bytes * 8) / (r.ms / 1000) / 1e9;
  results.put('upload', w, t, gbps);
  putTransfer('upload', w, t, r.ms / 1000, rtos);
  results.putCpu('upload', w, t, (dcpu / (r.ms / 1000)) * 100);
  console.log(`  upload   ${t.padEnd(6)} ${gbps.toFixed(3)} Gbit/s in ${(r.ms / 1000).toFixed(2)} s, serving process CPU ${((dcpu / (r.ms / 1000)) * 100).toFixed(0)} % of a core, ${sent}`);
}

async function download(t: Target, w: number): Promise<void> {
  const before = await readCounters();
  const c0 = cpuSeconds(servingPid(t));
  const timeout = transferTimeoutMs();
  const r = await runIn(c1, 'curl', ['-s', '-o', '/dev/null', '--max-time', String(Math.ceil(timeout / 1000) - 5),
    '-w', '%{http_code} %{size_download} %{time_total}', `http://${host(t)}/bytes/${bytes}`], timeout);
  const [code, size, total] = r.stdout.trim().split(' ');
  const dcpu = cpuSeconds(servingPid(t)) - c0;
  const { text: sent, rtos } = await transferReport(t, 'download', before);
  if (r.status !== 0 || code !== '200' || Number(size) !== bytes) {
    note(`download from ${t} (workers ${w}) failed: curl status ${r.status}, HTTP ${code}, ${size} of ${bytes} bytes in ${total} s`);
    results.put('download', w, t, NaN);
    putTransfer('download', w, t, NaN, NaN);
    return;
  }
  const secs = Number(total);
  const gbps = (bytes * 8) / secs / 1e9;
  results.put('download', w, t, gbps);
  putTransfer('download', w, t, secs, rtos);
  results.putCpu('download', w, t, (dcpu / (r.ms / 1000)) * 100);
  console.log(`  download ${t.padEnd(6)} ${gbps.toFixed(3)} Gbit/s in ${secs.toFixed(2)} s, serving process CPU ${((dcpu / (r.ms / 1000)) * 100).toFixed(0)} % of a core, ${sent}`);
}

/** Parses wrk's summary; notes socket errors and non-2xx answers. */
async function wrk(t: Target, w: number, close: boolean): Promise<void> {
  const metric = close ? 'conn/s' : 'req/s';
  const args = [`-t${values.threads}`, `-c${values.connections}`, `-d${seconds}s`, '--timeout', '2s'];
  if (close) args.push('-H', 'Connection: close');
  args.push(`http://${host(t)}/`);
  const r = await runIn(c1, 'wrk', args, seconds * 1000 + 20_000);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  if (r.status !== 0 || !rps) {
    note(`wrk ${metric} ${t} (workers ${w}) failed: status ${r.status} ${r.stderr.trim()}`);
    results.put(metric, w, t, NaN);
    return;
  }
  const v = Number(rps[1]);
  results.put(metric, w, t, v);
  const errs = /Socket errors: (.*)/.exec(r.stdout)?.[1];
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1];
  const lat = /Latency\s+(\S+)\s+(\S+)\s+(\S+)/.exec(r.stdout);
  console.log(`  ${metric.padEnd(8)} ${t.padEnd(6)} ${v.toFixed(0)}/s, latency avg ${lat?.[1]} max ${lat?.[3]}${errs ? `, socket errors: ${errs}` : ''}${non2xx ? `, non-2xx: ${non2xx}` : ''}`);
  if (errs) note(`wrk ${close ? "'Connection: close'" : 'keep-alive'} against ${t} (workers ${w}): socket errors ${errs}`);
  if (non2xx) note(`wrk ${metric} against ${t} (workers ${w}): ${non2xx} non-2xx answers`);
}

/**
 * Stores one run's pings under the rows 'ping p50' + `suffix` and 'ping p99' + `suffix`
 * (suffix '', ' busy-poll' or ' gvisor') as side `t`, and prints them for `name` (a suffix
 * that is the name itself is not printed twice).
 */
function recordPings(suffix: string, w: number, t: Target, name: string, times: number[]): void {
  const p50 = percentile(times, 50); // NaN without replies
  const p99 = percentile(times, 99);
  results.put(`ping p50${suffix}`, w, t, p50);
  results.put(`ping p99${suffix}`, w, t, p99);
  const head = `ping${suffix === ` ${name}` ? '' : suffix}`;
  if (times.length < pings) note(`${head} ${name} (workers ${w}): ${times.length} replies of ${pings}`);
  if (times.length > 0) console.log(`  ${head.padEnd(8)} ${name.padEnd(6)} p50 ${p50.toFixed(0)} µs, p99 ${p99.toFixed(0)} µs (${times.length} replies)`);
}

/** Stores one run's UDP echo (or its failure, `res` a text) under 'udp p50' + `suffix` and 'udp p99' + `suffix` as side `t`. */
function recordUdpEcho(suffix: string, w: number, t: Target, label: string, res: UdpEchoResult | string): void {
  if (typeof res === 'string') {
    note(`udp echo ${label} (workers ${w}) failed: ${res}`);
    results.put(`udp p50${suffix}`, w, t, NaN);
    results.put(`udp p99${suffix}`, w, t, NaN);
    return;
  }
  results.put(`udp p50${suffix}`, w, t, res.rttP50us);
  results.put(`udp p99${suffix}`, w, t, res.rttP99us);
  console.log(`  udp echo ${label.padEnd(6)} p50 ${res.rttP50us.toFixed(0)} µs, p99 ${res.rttP99us.toFixed(0)} µs (${res.echoesPerSecond.toFixed(0)} echoes/s, ${res.lost} lost of ${res.sent})`);
  if (res.lost > 0) note(`udp echo ${label} (workers ${w}): ${res.lost} of ${res.sent} datagrams lost (each waits 200 ms before it is replaced)`);
}

/** Pings `t` --pings times at 10 ms; `mode` '' (stackd as started) or ' busy-poll' (--ping-busy-poll's stackd) names the rows. */
async function ping(t: Target, w: number, mode: '' | ' busy-poll' = ''): Promise<void> {
  const times = await pingTimes(c1, host(t), pings);
  recordPings(mode, w, t, t, times);
  // --gvisor: stackd's side of the rows against gVisor is this run's figure.
  if (gvisor !== undefined && mode === '' && t === 'stackd') {
    results.put('ping p50 gvisor', w, 'stackd', percentile(times, 50));
    results.put('ping p99 gvisor', w, 'stackd', percentile(times, 99));
  }
}

/** --gvisor: the pings and the UDP echo of a run against gVisor's netstack, stored as the other side of the '... gvisor' rows. */
async function gvisorProbes(w: number, kind: 'ping' | 'udp'): Promise<void> {
  if (kind === 'ping') recordPings(' gvisor', w, 'kernel', 'gvisor', await pingTimes(c1, GVISOR_IP, pings));
  else recordUdpEcho(' gvisor', w, 'kernel', 'gvisor', await udpEchoOneInFlight(c1, GVISOR_IP, seconds));
}

/** UDP echo RTT with one 64-byte datagram in flight (ping-pong), p50/p99 over --seconds. */
async function udpEcho(t: Target, w: number): Promise<void> {
  const res = await udpEchoOneInFlight(c1, host(t), seconds);
  recordUdpEcho('', w, t, t, res);
  // --gvisor: stackd's side of the rows against gVisor is this run's figure.
  if (gvisor !== undefined && t === 'stackd' && typeof res !== 'string') {
    results.put('udp p50 gvisor', w, 'stackd', res.rttP50us);
    results.put('udp p99 gvisor', w, 'stackd', res.rttP99us);
  }
}

const STACKD_COUNTERS = ['tcp_passive_opens', 'tcp_retransmits', 'tcp_fast_retransmits', 'tcp_rto_timeouts', 'tcp_sack_recoveries',
  'tcp_loss_probes', 'tcp_loss_probe_recoveries', 'tcp_lost_retransmits', 'tcp_dsacks_rx', 'tcp_dsacks_tx', 'tcp_rto_undos', 'tcp_fast_retransmit_undos', 'tcp_eifel_undos', 'tcp_resets_tx', 'tcp_resets_rx',
  'tcp_syn_cookies_tx', 'tcp_time_wait_reused', 'tcp_ooo_segments', 'tcp_timeouts',
  'tcp_rack_reorder_timeouts', 'tcp_rack_marked_lost', 'tcp_rack_reordering_seen', 'fault_tx_reordered',
  'drop_tcp_paws', 'tcp_paws_disordered_acks', 'tcp_sack_renegings'];

/** The metrics in report order: text tables and the --svg panels. */
const METRICS: MetricSpec[] = [
  { key: 'upload', title: 'bulk upload c1 → discard :9 (nc), Gbit/s', short: 'bulk upload (nc → :9)', unit: 'Gbit/s', digits: 3, withCpu: true },
  { key: 'download', title: 'bulk download GET /bytes/N → c1 (curl), Gbit/s', short: 'bulk download (GET /bytes)', unit: 'Gbit/s', digits: 3, withCpu: true },
  { key: 'upload s', title: 'bulk upload under --loss/--reorder, seconds per transfer (median; lower is better)', short: 'upload time', unit: 's', digits: 2 },
  { key: 'upload RTOs', title: 'bulk upload under --loss/--reorder, RTOs of the sender (c1) per transfer (mean)', short: 'upload RTOs', unit: 'RTOs', digits: 1, summary: 'mean' },
  { key: 'download s', title: 'bulk download under --loss/--reorder, seconds per transfer (median; lower is better)', short: 'download time', unit: 's', digits: 2 },
  { key: 'download RTOs', title: 'bulk download under --loss/--reorder, RTOs of the sender (stackd or c2) per transfer (mean)', short: 'download RTOs', unit: 'RTOs', digits: 1, summary: 'mean' },
  { key: 'req/s', title: `HTTP keep-alive GET /, requests/s (wrk -c${values.connections})`, short: `HTTP keep-alive (wrk -c${values.connections})`, unit: 'requests/s', digits: 0 },
  { key: 'conn/s', title: `HTTP one request per connection (Connection: close), connections/s (wrk -c${values.connections})`, short: `HTTP Connection: close (wrk -c${values.connections})`, unit: 'connections/s', digits: 0 },
  { key: 'ping p50', title: 'ping RTT p50, µs (lower is better)', short: 'ping RTT p50', unit: 'µs', digits: 0, log: true },
  { key: 'ping p99', title: 'ping RTT p99, µs (lower is better)', short: 'ping RTT p99', unit: 'µs', digits: 0, log: true },
  { key: 'ping p50 busy-poll', title: 'ping RTT p50, stackd --busy-poll (--ping-busy-poll), µs (lower is better)', short: 'ping p50 busy-poll', unit: 'µs', digits: 0, log: true },
  { key: 'ping p99 busy-poll', title: 'ping RTT p99, stackd --busy-poll (--ping-busy-poll), µs (lower is better)', short: 'ping p99 busy-poll', unit: 'µs', digits: 0, log: true },
  { key: 'udp p50', title: 'UDP echo RTT p50, one 64-byte datagram in flight, µs (lower is better)', short: 'UDP echo RTT p50', unit: 'µs', digits: 0, log: true },
  { key: 'udp p99', title: 'UDP echo RTT p99, one 64-byte datagram in flight, µs (lower is better)', short: 'UDP echo RTT p99', unit: 'µs', digits: 0, log: true },
  { key: 'ping p50 gvisor', title: 'ping RTT p50 against gVisor\'s netstack (--gvisor), µs (lower is better)', short: 'ping p50 vs gVisor', unit: 'µs', digits: 0, against: 'gvisor' },
  { key: 'ping p99 gvisor', title: 'ping RTT p99 against gVisor\'s netstack (--gvisor), µs (lower is better)', short: 'ping p99 vs gVisor', unit: 'µs', digits: 0, against: 'gvisor' },
  { key: 'udp p50 gvisor', title: 'UDP echo RTT p50 against gVisor\'s netstack (--gvisor), µs (lower is better)', short: 'UDP p50 vs gVisor', unit: 'µs', digits: 0, against: 'gvisor' },
  { key: 'udp p99 gvisor', title: 'UDP echo RTT p99 against gVisor\'s netstack (--gvisor), µs (lower is better)', short: 'UDP p99 vs gVisor', unit: 'µs', digits: 0, against: 'gvisor' },
  { key: 'sustained first', title: `sustained Connection: close from one address (wrk -t1 -c1), first 10 s, connections/s`, short: 'sustained -c1, first 10 s', unit: 'connections/s', digits: 0 },
  { key: 'sustained last', title: `sustained Connection: close from one address (wrk -t1 -c1), last 10 s of ${sustainedSeconds} s, connections/s`, short: `sustained -c1, last 10 s of ${sustainedSeconds} s`, unit: 'connections/s', digits: 0 },
  { key: 'memory KiB/conn', title: `stackd RSS per idle established connection (${conns} held, idle 30 s), KiB`, short: 'RSS per idle connection', unit: 'KiB', digits: 2, stackdOnly: true },
  { key: 'memory KiB/conn 2 s', title: `stackd RSS per established connection 2 s after the last connect (${conns} held), KiB`, short: 'RSS per connection, 2 s after', unit: 'KiB', digits: 2, stackdOnly: true },
  { key: 'memory RSS held', title: `stackd RSS holding ${conns} idle connections, MiB`, short: `RSS holding ${conns} connections`, unit: 'MiB', digits: 1, stackdOnly: true },
  { key: 'soak peak RSS', title: `stackd peak RSS (VmHWM) in a ${soakMinutes}-minute soak, MiB`, short: `soak peak RSS (${soakMinutes} min)`, unit: 'MiB', digits: 1, stackdOnly: true },
  { key: 'soak RSS after', title: 'stackd RSS a minute after the soak load stopped, MiB', short: 'RSS a minute after the soak', unit: 'MiB', digits: 1, stackdOnly: true },
];

/** Stops the running stackd, if any. */
async function stopStackd(): Promise<void> {
  await stackd?.stop();
  stackd = undefined;
}

/**
 * Bulk transfers each way, per server, before the measured ones (JIT warm-up), and their
 * size at most. Decision 0038: V8 rebuilds the send path's code for each of a process's
 * first ~14 connections. With 8 of 16 MiB each way, a fresh stackd's first 1 GiB
 * download still ran 10 % of its JavaScript samples in baseline code, with V8's helper
 * threads busy, at 0.6–0.8 of its later rate, while the kernel peer, started once, was
 * warm from the previous worker count.
 */
const BULK_WARMUP_CONNECTIONS = 16;
const BULK_WARMUP_BYTES = 64 << 20;
/** Warm-up transfers of the measured size each way when it passes 2^30 bytes (see comparisons()). */
const BULK_SETTLE_TRANSFERS = 3;

/** Where stackd's data-plane threads run, as `stackctl stats` prints it (decision 0053). */
async function placement(control: string): Promise<string> {
  return `cpus: ${formatPlacement(await stackdStats(control))}`;
}

/** bulk, http, ping, udp for `w` workers: --runs rounds alternating the sides; returns the latency table and counters. */
async function comparisons(w: number): Promise<{ latency?: string; counters: Record<string, number> }> {
  await stopStackd();
  const s = (stackd = await startStackd(lab, ['--workers', String(w), '--tap', 'tap0', ...stackdArgs]));
  console.log(`\n== stackd --workers ${w} (pid ${s.pid}), ${await placement(s.control)}, load average ${loadAverage()}`);
  // Warm-up: ARP, JIT of both servers' hot paths.
  if (gvisor !== undefined) await warmUpPings(c1, GVISOR_IP);
  for (const t of ['stackd', 'kernel'] as const) {
    await warmUpPings(c1, host(t));
    await runIn(c1, 'wrk', ['-t1', '-c4', '-d1s', `http://${host(t)}/`], 15_000);
    if (!only.has('bulk')) continue;
    // Several bulk connections each way: V8 keeps re-optimizing the send and receive paths
    // over a process's first ~14 connections (~1 s of TurboFan on 2 vCPUs, "wrong map"
    // deoptimizations at each new connection; decision 0038), which one warm-up transfer
    // left inside the measured ones. The kernel has no such start-up.
    const warm = Math.min(bytes, loss > 0 ? 2 << 20 : BULK_WARMUP_BYTES); // under loss: short, not slow
    for (let i = 0; i < BULK_WARMUP_CONNECTIONS; i++) {
      await runIn(c1, 'curl', ['-s', '-o', '/dev/null', '--max-time', '20', `http://${host(t)}/bytes/${warm}`], 25_000);
      await runIn(c1, 'bash', ['-c', `head -c ${warm} /dev/zero | timeout 20 nc -N ${host(t)} 9`], 25_000);
    }
    // Then transfers each way of the measured size when it passes 2^30 bytes, V8's small
    // integer range: the byte offsets and counts of a transfer that passes it become
    // doubles, and every function that had them as small integers is deoptimized and
    // compiled again. After 16 short downloads and one of 2 GiB, the next 2 GiB download
    // of stackd still had 29 "wrong map" deoptimizations and 83 functions compiled again
    // (node --trace-opt --trace-deopt), the one after it 1 and 15, the third 0 and 11.
    // The kernel peer's http handler has the same start-up, once per benchmark.
    if (loss === 0 && bytes > 2 ** 30) {
      for (let i = 0; i < BULK_SETTLE_TRANSFERS; i++) {
        await runIn(c1, 'curl', ['-s', '-o', '/dev/null', '--max-time', '60', `http://${host(t)}/bytes/${bytes}`], 65_000);
        await runIn(c1, 'bash', ['-c', `head -c ${bytes} /dev/zero | timeout 60 nc -N ${host(t)} 9`], 65_000);
      }
    }
  }
  let latency: string | undefined;
  const rounds = only.has('bulk') ? Math.max(runs, bulkRuns) : runs;
  for (let run = 0; run < rounds; run++) {
    // Alternate which side goes first, so a drift in the machine's load hits both.
    const order: Target[] = run % 2 === 0 ? ['stackd', 'kernel'] : ['kernel', 'stackd'];
    console.log(` run ${run + 1}/${rounds}${run >= runs ? ' (bulk only)' : ''} (load ${loadAverage()})`);
    if (only.has('bulk') && run < bulkRuns) {
      for (const t of order) await upload(t, w);
      for (const t of order) await download(t, w);
    }
    if (run >= runs) continue;
    if (only.has('http')) {
      for (const t of order) {
        if (t === 'stackd') await controlRequest(s.control, '/latency/reset', 'POST');
        await wrk(t, w, false);
        if (t === 'stackd') latency = formatLatencyTable(JSON.parse((await controlRequest(s.control, '/latency')).body) as LatencyReport);
      }
      for (const t of order) await wrk(t, w, true);
    }
    if (only.has('ping')) {
      for (const t of order) await ping(t, w);
      if (gvisor !== undefined) await gvisorProbes(w, 'ping');
    }
    if (only.has('udp')) {
      for (const t of order) await udpEcho(t, w);
      if (gvisor !== undefined) await gvisorProbes(w, 'udp');
    }
  }
  const stats = await stackdStats(s.control);
  const counters = { ...Object.fromEntries(STACKD_COUNTERS.map((k) => [k, stats.totals[k] ?? 0])), ...Object.fromEntries(Object.entries(stats.drops).map(([k, v]) => [`drop_${k}`, v])) };
  await stopStackd();
  if (only.has('ping') && pingBusyPollUs > 0) await pingsBusyPolling(w);
  return latency === undefined ? { counters } : { latency, counters };
}

/** --ping-busy-poll: the pings again, against a stackd started with --busy-poll (decision 0026), the kernel alternated as before. */
async function pingsBusyPolling(w: number): Promise<void> {
  stackd = await startStackd(lab, ['--workers', String(w), '--tap', 'tap0', ...stackdArgs, '--busy-poll', String(pingBusyPollUs)]);
  console.log(` stackd --workers ${w} --busy-poll ${pingBusyPollUs} (pid ${stackd.pid}), pings only, load average ${loadAverage()}`);
  await warmUpPings(c1, host('stackd'));
  for (let run = 0; run < runs; run++) {
    const order: Target[] = run % 2 === 0 ? ['stackd', 'kernel'] : ['kernel', 'stackd'];
    for (const t of order) await ping(t, w, ' busy-poll');
  }
  await stopStackd();
}

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log(`tcp-bench: lab ${lab}, load average at start ${loadAverage()} (${cpus().length} CPUs)`);
  console.log(`workers ${workerCounts.join(',')}; ${runs} run(s); bulk ${bytes} B, ${bulkRuns} pair(s) each way; wrk -t${values.threads} -c${values.connections} -d${seconds}s; ${pings} pings at 10 ms; only ${[...only].join(',')}; stackd flags: ${stackdArgs.join(' ') || '(defaults)'}`);
  if (only.has('sustained')) console.log(`sustained: ${sustainedSeconds} s per side`);
  if (only.has('memory')) console.log(`memory: ${conns} connections from ${1 + extraClients.length} client addresses`);
  if (only.has('soak')) console.log(`soak: ${soakMinutes} min of load + 1 min idle`);
  benchLabUp(lab, 2 + extraClients.length);
  // Only inside the client namespaces: reuse TIME_WAIT ports and a wide ephemeral range for
  // the connections/s runs (one connection per request) and the memory run.
  for (const ns of [c1, ...extraClients]) {
    for (const [k, v] of [['net.ipv4.tcp_tw_reuse', '1'], ['net.ipv4.ip_local_port_range', '1024 65535']] as const) {
      const err = await nsSysctl(ns, k, v);
      if (err !== null) note(`sysctl ${k} in ${ns} failed: ${err}`);
    }
  }
  if (clientOffloads === 'off') {
    await clientOffloadsOff({ clientNs: c1, serverNs: c2, hostNs }, cpus().length);
    console.log(`client offloads (GRO, GSO, TSO) off in ${c1} and on its bridge port ${CLIENT_PORT} in ${hostNs}: c1 sends and receives single segments; veth ends steered by flow (RPS), so none are reordered`);
  }
  if (loss > 0) {
    await installPathLoss(lossPlaces, loss);
    console.log(lossPlaces.model === 'frames'
      ? `loss: ${loss} % each way on br0 in ${hostNs}, frames through ${CLIENT_PORT} (c1's port; nftables bridge forward, numgen): an aggregate is dropped whole`
      : `loss: ${loss} % each way, segment by segment: from c1 on br0 in ${hostNs} (nftables bridge forward at ${CLIENT_PORT}), towards c1 at ${c1}'s ${CLIENT_IF} (nftables netdev ingress), numgen`);
  }
  if (reorder > 0) console.log(`reorder: ${reorder} % of stackd's transmitted frames (--fault tx.reorder=${reorder}%)`);
  // The kernel peer serves the comparisons and the sustained run; memory and soak measure stackd alone.
  if (['bulk', 'http', 'ping', 'udp', 'sustained'].some((o) => only.has(o))) {
    peer = await startKernelPeer(c2, kernelCcs[0]);
    console.log(`kernel peer in ${c2}: congestion control ${peer.congestionControl}${kernelCcs[0] === 'system' ? ' (the namespace\'s default; --kernel-cc)' : ' (--kernel-cc, on its routes)'}; ` +
      `stackd: ${stackdCongestionControl()}`);
  }
  if (gvisorPath !== undefined && ['ping', 'udp'].some((o) => only.has(o))) {
    gvisor = await startGvisorPeer(lab, c1, gvisorPath);
    console.log(`gVisor's netstack (${gvisorPath}) on tap1 in ${hostNs}: ${GVISOR_IP}, pinged and UDP-echoed after the two sides in every run`);
  }
  const ctx: RunContext = {
    lab, c1, c2, extraClients, note,
    get results() {
      return results;
    },
    freshStackd: async (w) => {
      await stopStackd();
      stackd = await startStackd(lab, ['--workers', String(w), '--tap', 'tap0', ...stackdArgs]);
      return stackd;
    },
  };

  // One pass per kernel congestion control (only the first when the kernel peer is not run).
  const passes: Pass[] = [];
  for (const [i, want] of (peer ? kernelCcs : kernelCcs.slice(0, 1)).entries()) {
    const cc = peer === undefined ? 'n/a (no kernel peer)' : i === 0 ? peer.congestionControl : await setKernelCongestionControl(c2, want);
    if (kernelCcs.length > 1) console.log(`\n#### kernel peer's congestion control: ${cc} (--kernel-cc ${want}) ####`);
    results = new BenchResults();
    const pass: Pass = { cc, results, latencyTables: new Map(), stackdCounters: new Map(), kernelBefore: await nsKernelCounters(c2), kernelAfter: {} };
    passes.push(pass);
    for (const w of workerCounts) {
      if (['bulk', 'http', 'ping', 'udp'].some((o) => only.has(o))) {
        const { latency, counters } = await comparisons(w);
        if (latency !== undefined) pass.latencyTables.set(w, latency);
        pass.stackdCounters.set(w, counters);
      }
      if (only.has('sustained')) await runSustained(ctx, w, sustainedSeconds);
      if (only.has('memory')) await runMemory(ctx, w, conns, [c1, ...extraClients]);
      if (only.has('soak')) await runSoak(ctx, w, soakMinutes);
      await stopStackd();
    }
    pass.kernelAfter = await nsKernelCounters(c2);
  }

  // ----- report -----
  for (const pass of passes) {
    const against = peer ? `; kernel peer's congestion control ${pass.cc}` : '';
    console.log(`\n==== results: medians of ${runs} run(s), bulk of ${bulkRuns} (sustained, memory, soak: one run each)${against}; load average at start was printed above, now ${loadAverage()} ====`);
    process.stdout.write(pass.results.tables(METRICS));
    for (const [w, table] of pass.latencyTables) {
      console.log(`\nstackd per-stage latency under HTTP keep-alive load, --workers ${w} (last run):\n${table}`);
    }
    if (pass.stackdCounters.size > 0) {
      console.log('\nstackd counters over each worker count (bulk, http, ping, udp; totals; non-zero drops included):');
      for (const [w, c] of pass.stackdCounters) {
        console.log(`  workers ${w}: ${Object.entries(c).map(([k, v]) => `${k}=${v}`).join(' ')}`);
      }
    }
    const kd = (k: string): number => (pass.kernelAfter[`Tcp.${k}`] ?? 0) - (pass.kernelBefore[`Tcp.${k}`] ?? 0);
    if (peer) console.log(`kernel peer (namespace ${c2}, congestion control ${pass.cc}) over the pass: PassiveOpens=${kd('PassiveOpens')} RetransSegs=${kd('RetransSegs')} OutRsts=${kd('OutRsts')} AttemptFails=${kd('AttemptFails')} EstabResets=${kd('EstabResets')}`);
  }
  if (values.svg !== undefined) {
    const first = passes[0];
    const subtitle = `workers ${workerCounts.join(',')}, ${runs} run(s), only ${[...only].join(',')}, kernel congestion control ${first.cc}, ${new Date().toISOString()}, load average at end ${loadAverage()}`;
    writeFileSync(values.svg, first.results.chart(METRICS, 'tcp-bench: stackd vs the Linux kernel (medians)', subtitle));
    console.log(`\nchart written to ${values.svg}${passes.length > 1 ? ` (the first pass: kernel ${first.cc})` : ''}`);
  }
  printNotesAndTotal(notes, t0);
}

await runBench('tcp-bench', main, cleanup);
