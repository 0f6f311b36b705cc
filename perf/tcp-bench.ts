/**
 * TCP benchmarks (issue 3, item 8): stackd against the Linux kernel serving the same
 * services in the same run, alternating the two, medians of --runs, the ratio printed.
 *
 *   node dist/perf/tcp-bench.js [--workers 1,2] [--seconds 5] [--runs 3] [--bytes 536870912]
 *                               [--only bulk,http,ping] [--pings 500] [--connections 32]
 *                               [--threads 2] [--stackd-args='--no-offload --cc cubic']
 *                               [--loss 3]
 *
 * One lab (`pb<pid>`, two clients): stackd on tap0 answers 10.10.0.4; the kernel peer
 * (perf/kernel-peer.ts: Node's net/http on the kernel, the same contract) listens in
 * <lab>-c2 = 10.10.0.5; every load comes from <lab>-c1 (10.10.0.3) across the same bridge.
 * stackd is restarted for each worker count; the kernel peer starts once.
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
 *   ping   ICMP echo RTT p50/p99 (ping -i 0.01, per-packet times)
 *
 * --loss P drops P % of packets at random in each direction in the client namespace
 * (nftables numgen, kernel-side, the same for stackd and the kernel peer) for the whole run.
 *
 * Needs root. Removes its lab and processes on exit, also on failure or Ctrl-C.
 * Figures, not tests: nothing is asserted.
 */
import { parseArgs } from 'node:util';
import { controlRequest } from '../src/control/control-client.js';
import { formatLatencyTable } from '../src/control/latency-table.js';
import type { LatencyReport, StatsSnapshot } from '../src/control/types.js';
import {
  benchLabDown, benchLabUp, cpuSeconds, formatTable, installCleanup, loadAverage, median, percentile, runIn,
  startKernelPeer, startStackd, type KernelPeerProcess, type StackdProcess,
  printNotesAndTotal, runBench,
} from './lab-bench.js';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2' },
    seconds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    bytes: { type: 'string', default: String(512 * 1024 * 1024) },
    only: { type: 'string', default: 'bulk,http,ping' },
    pings: { type: 'string', default: '500' },
    connections: { type: 'string', default: '32' },
    threads: { type: 'string', default: '2' },
    'stackd-args': { type: 'string', default: '' },
    loss: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node dist/perf/tcp-bench.js [--workers 1,2] [--seconds 5] [--runs 3] [--bytes 536870912] [--only bulk,http,ping] [--pings 500] [--connections 32] [--threads 2] [--stackd-args=\'--no-offload\'] [--loss 3]');
  process.exit(0);
}
const workerCounts = values.workers!.split(',').map(Number);
/** Extra stackd flags, e.g. --stackd-args='--no-offload' or --stackd-args='--cc cubic'. */
const stackdArgs = values['stackd-args']!.split(/\s+/).filter(Boolean);
const seconds = Number(values.seconds);
const runs = Number(values.runs);
const bytes = Number(values.bytes);
const only = new Set(values.only!.split(','));
const pings = Number(values.pings);
const loss = Number(values.loss);
for (const o of only) if (!['bulk', 'http', 'ping'].includes(o)) throw new Error(`--only: unknown '${o}' (bulk, http, ping)`);
if (workerCounts.some((w) => !(w >= 1 && w <= 64)) || !(seconds > 0 && seconds <= 60) || !(runs >= 1 && runs <= 20) ||
  !(bytes >= 1 && bytes <= 2 ** 34) || !(pings >= 10 && pings <= 10_000) || !(Number.isInteger(loss) && loss >= 0 && loss <= 50)) {
  console.error('bad flags: --workers 1..64 each, --seconds 1..60, --runs 1..20, --bytes ≤ 16 GiB, --pings 10..10000, --loss 0..50 (integer %)');
  process.exit(2);
}

const STACKD = '10.10.0.4';
const KERNEL = '10.10.0.5';
type Target = 'stackd' | 'kernel';
const lab = `pb${process.pid}`.slice(0, 24);
const c1 = `${lab}-c1`;
const c2 = `${lab}-c2`;

let stackd: StackdProcess | undefined;
let peer: KernelPeerProcess | undefined;
const cleanup = installCleanup(async () => {
  await stackd?.stop();
  await peer?.stop();
  benchLabDown(lab);
});

/** results[metric][workers][target] = one value per run. */
const results = new Map<string, Map<number, Record<Target, number[]>>>();
const cpu = new Map<string, Map<number, Record<Target, number[]>>>();
function put(store: typeof results, metric: string, w: number, t: Target, v: number): void {
  let m = store.get(metric);
  if (!m) store.set(metric, (m = new Map()));
  let r = m.get(w);
  if (!r) m.set(w, (r = { stackd: [], kernel: [] }));
  r[t].push(v);
}
const notes: string[] = [];
function note(s: string): void {
  notes.push(s);
  console.log(`  ! ${s}`);
}

function host(t: Target): string {
  return t === 'stackd' ? STACKD : KERNEL;
}
function servingPid(t: Target): number {
  return t === 'stackd' ? stackd!.pid : peer!.pid;
}

async function upload(t: Target, w: number): Promise<void> {
  const c0 = cpuSeconds(servingPid(t));
  const timeout = 30_000 + (bytes / 5e6) * 1000; // ≥ 5 MB/s or it counts as a stall
  const r = await runIn(c1, 'bash', ['-c', `head -c ${bytes} /dev/zero | nc -N ${host(t)} 9`], timeout);
  const dcpu = cpuSeconds(servingPid(t)) - c0;
  if (r.status !== 0 || r.timedOut) {
    note(`upload to ${t} (workers ${w}) failed: status ${r.status}${r.timedOut ? ' (timed out)' : ''} ${r.stderr.trim()}`);
    put(results, 'upload', w, t, NaN);
    return;
  }
  const gbps = (bytes * 8) / (r.ms / 1000) / 1e9;
  put(results, 'upload', w, t, gbps);
  put(cpu, 'upload', w, t, (dcpu / (r.ms / 1000)) * 100);
  console.log(`  upload   ${t.padEnd(6)} ${gbps.toFixed(3)} Gbit/s in ${(r.ms / 1000).toFixed(2)} s, serving process CPU ${((dcpu / (r.ms / 1000)) * 100).toFixed(0)} % of a core`);
}

async function download(t: Target, w: number): Promise<void> {
  const c0 = cpuSeconds(servingPid(t));
  const timeout = 30_000 + (bytes / 5e6) * 1000;
  const r = await runIn(c1, 'curl', ['-s', '-o', '/dev/null', '--max-time', String(Math.ceil(timeout / 1000) - 5),
    '-w', '%{http_code} %{size_download} %{time_total}', `http://${host(t)}/bytes/${bytes}`], timeout);
  const [code, size, total] = r.stdout.trim().split(' ');
  const dcpu = cpuSeconds(servingPid(t)) - c0;
  if (r.status !== 0 || code !== '200' || Number(size) !== bytes) {
    note(`download from ${t} (workers ${w}) failed: curl status ${r.status}, HTTP ${code}, ${size} of ${bytes} bytes in ${total} s`);
    put(results, 'download', w, t, NaN);
    return;
  }
  const secs = Number(total);
  const gbps = (bytes * 8) / secs / 1e9;
  put(results, 'download', w, t, gbps);
  put(cpu, 'download', w, t, (dcpu / (r.ms / 1000)) * 100);
  console.log(`  download ${t.padEnd(6)} ${gbps.toFixed(3)} Gbit/s in ${secs.toFixed(2)} s, serving process CPU ${((dcpu / (r.ms / 1000)) * 100).toFixed(0)} % of a core`);
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
    put(results, metric, w, t, NaN);
    return;
  }
  const v = Number(rps[1]);
  put(results, metric, w, t, v);
  const errs = /Socket errors: (.*)/.exec(r.stdout)?.[1];
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1];
  const lat = /Latency\s+(\S+)\s+(\S+)\s+(\S+)/.exec(r.stdout);
  console.log(`  ${metric.padEnd(8)} ${t.padEnd(6)} ${v.toFixed(0)}/s, latency avg ${lat?.[1]} max ${lat?.[3]}${errs ? `, socket errors: ${errs}` : ''}${non2xx ? `, non-2xx: ${non2xx}` : ''}`);
  if (errs) note(`wrk ${close ? "'Connection: close'" : 'keep-alive'} against ${t} (workers ${w}): socket errors ${errs}`);
  if (non2xx) note(`wrk ${metric} against ${t} (workers ${w}): ${non2xx} non-2xx answers`);
}

async function ping(t: Target, w: number): Promise<void> {
  const r = await runIn(c1, 'ping', ['-c', String(pings), '-i', '0.01', '-W', '1', host(t)], pings * 20 + 20_000);
  const times = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  if (times.length < pings) note(`ping ${t} (workers ${w}): ${times.length} replies of ${pings}`);
  if (times.length === 0) {
    put(results, 'ping p50', w, t, NaN);
    put(results, 'ping p99', w, t, NaN);
    return;
  }
  put(results, 'ping p50', w, t, percentile(times, 50));
  put(results, 'ping p99', w, t, percentile(times, 99));
  console.log(`  ping     ${t.padEnd(6)} p50 ${percentile(times, 50).toFixed(0)} µs, p99 ${percentile(times, 99).toFixed(0)} µs (${times.length} replies)`);
}

/** The kernel peer's namespace-wide TCP counters (/proc/net/snmp inside <lab>-c2). */
async function kernelTcpCounters(): Promise<Record<string, number>> {
  const r = await runIn(c2, 'cat', ['/proc/net/snmp'], 5000);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('Tcp:'));
  if (lines.length < 2) return {};
  const k = lines[0]!.split(/\s+/).slice(1);
  const v = lines[1]!.split(/\s+/).slice(1).map(Number);
  return Object.fromEntries(k.map((name, i) => [name, v[i]!]));
}

const STACKD_COUNTERS = ['tcp_passive_opens', 'tcp_retransmits', 'tcp_fast_retransmits', 'tcp_rto_timeouts', 'tcp_sack_recoveries',
  'tcp_loss_probes', 'tcp_loss_probe_recoveries', 'tcp_lost_retransmits', 'tcp_resets_tx', 'tcp_resets_rx',
  'tcp_syn_cookies_tx', 'tcp_time_wait_reused', 'tcp_ooo_segments', 'tcp_timeouts'];

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log(`tcp-bench: lab ${lab}, load average at start ${loadAverage()} (${(await import('node:os')).cpus().length} CPUs)`);
  console.log(`workers ${workerCounts.join(',')}; ${runs} run(s); bulk ${bytes} B; wrk -t${values.threads} -c${values.connections} -d${seconds}s; ${pings} pings at 10 ms; only ${[...only].join(',')}; stackd flags: ${stackdArgs.join(' ') || '(defaults)'}`);
  benchLabUp(lab, 2);
  // Only inside the client namespace: reuse TIME_WAIT ports and a wide ephemeral range for
  // the connections/s run (one connection per request).
  for (const [k, v] of [['net.ipv4.tcp_tw_reuse', '1'], ['net.ipv4.ip_local_port_range', '1024 65535']] as const) {
    const r = await runIn(c1, 'sysctl', ['-qw', `${k}=${v}`], 5000);
    if (r.status !== 0) note(`sysctl ${k} in ${c1} failed: ${r.stderr.trim()}`);
  }
  if (loss > 0) {
    const rules = `table inet benchloss {
  chain in { type filter hook input priority 0; numgen random mod 100 < ${loss} drop; }
  chain out { type filter hook output priority 0; numgen random mod 100 < ${loss} drop; }
}`;
    const r = await runIn(c1, 'bash', ['-c', `nft -f - <<'EOF'\n${rules}\nEOF`], 5000);
    if (r.status !== 0) throw new Error(`nft in ${c1} failed: ${r.stderr.trim()}`);
    console.log(`loss: ${loss} % each way in ${c1} (nftables numgen)`);
  }
  peer = await startKernelPeer(c2);
  const latencyTables = new Map<number, string>();
  const stackdCounters = new Map<number, Record<string, number>>();
  const kernelBefore = await kernelTcpCounters();

  for (const w of workerCounts) {
    stackd = await startStackd(lab, ['--workers', String(w), '--tap', 'tap0', ...stackdArgs]);
    console.log(`\n== stackd --workers ${w} (pid ${stackd.pid}), load average ${loadAverage()}`);
    // Warm-up: ARP, JIT of both servers' hot paths.
    for (const t of ['stackd', 'kernel'] as const) {
      await runIn(c1, 'ping', ['-c', '20', '-i', '0.01', '-q', host(t)], 10_000);
      await runIn(c1, 'wrk', ['-t1', '-c4', '-d1s', `http://${host(t)}/`], 15_000);
      if (only.has('bulk')) await runIn(c1, 'curl', ['-s', '-o', '/dev/null', '--max-time', '20', `http://${host(t)}/bytes/${Math.min(bytes, 16 << 20)}`], 25_000);
    }
    for (let run = 0; run < runs; run++) {
      // Alternate which side goes first, so a drift in the machine's load hits both.
      const order: Target[] = run % 2 === 0 ? ['stackd', 'kernel'] : ['kernel', 'stackd'];
      console.log(` run ${run + 1}/${runs} (load ${loadAverage()})`);
      if (only.has('bulk')) {
        for (const t of order) await upload(t, w);
        for (const t of order) await download(t, w);
      }
      if (only.has('http')) {
        for (const t of order) {
          if (t === 'stackd') await controlRequest(stackd.control, '/latency/reset', 'POST');
          await wrk(t, w, false);
          if (t === 'stackd') {
            const lat = JSON.parse((await controlRequest(stackd.control, '/latency')).body) as LatencyReport;
            latencyTables.set(w, formatLatencyTable(lat));
          }
        }
        for (const t of order) await wrk(t, w, true);
      }
      if (only.has('ping')) for (const t of order) await ping(t, w);
    }
    const stats = JSON.parse((await controlRequest(stackd.control, '/stats')).body) as StatsSnapshot;
    stackdCounters.set(w, { ...Object.fromEntries(STACKD_COUNTERS.map((k) => [k, stats.totals[k] ?? 0])), ...Object.fromEntries(Object.entries(stats.drops).map(([k, v]) => [`drop_${k}`, v])) });
    await stackd.stop();
    stackd = undefined;
  }
  const kernelAfter = await kernelTcpCounters();

  // ----- report -----
  const fmt = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
  const sections: Array<[string, string, number, boolean]> = [
    ['upload', 'bulk upload c1 → discard :9 (nc), Gbit/s', 3, true],
    ['download', 'bulk download GET /bytes/N → c1 (curl), Gbit/s', 3, true],
    ['req/s', `HTTP keep-alive GET /, requests/s (wrk -c${values.connections})`, 0, false],
    ['conn/s', `HTTP one request per connection (Connection: close), connections/s (wrk -c${values.connections})`, 0, false],
    ['ping p50', 'ping RTT p50, µs (lower is better)', 0, false],
    ['ping p99', 'ping RTT p99, µs (lower is better)', 0, false],
  ];
  console.log(`\n==== results: medians of ${runs} run(s); load average at start was printed above, now ${loadAverage()} ====`);
  for (const [metric, title, digits, withCpu] of sections) {
    const m = results.get(metric);
    if (!m) continue;
    const header = ['workers', 'stackd', 'kernel', 'stackd/kernel'];
    if (withCpu) header.push('stackd CPU %core', 'peer CPU %core');
    const rows = [...m.entries()].map(([w, r]) => {
      const s = median(r.stackd.filter(Number.isFinite));
      const k = median(r.kernel.filter(Number.isFinite));
      const row = [String(w), fmt(s, digits), fmt(k, digits), fmt(s / k, 2)];
      if (withCpu) {
        const c = cpu.get(metric)?.get(w);
        row.push(fmt(median(c?.stackd ?? []), 0), fmt(median(c?.kernel ?? []), 0));
      }
      return row;
    });
    console.log(`\n${title}\n${formatTable(header, rows)}`);
  }
  for (const [w, table] of latencyTables) {
    console.log(`\nstackd per-stage latency under HTTP keep-alive load, --workers ${w} (last run):\n${table}`);
  }
  console.log('\nstackd counters over each worker count (totals; non-zero drops included):');
  for (const [w, c] of stackdCounters) {
    console.log(`  workers ${w}: ${Object.entries(c).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  const kd = (k: string): number => (kernelAfter[k] ?? 0) - (kernelBefore[k] ?? 0);
  console.log(`kernel peer (namespace ${c2}) over the whole run: PassiveOpens=${kd('PassiveOpens')} RetransSegs=${kd('RetransSegs')} OutRsts=${kd('OutRsts')} AttemptFails=${kd('AttemptFails')} EstabResets=${kd('EstabResets')}`);
  printNotesAndTotal(notes, t0);
}

await runBench('tcp-bench', main, cleanup);
