/**
 * Ping RTT through stackd and, in the same run, to the Linux kernel on the same bridge
 * (the lab host's br0 address, 10.10.0.1): p50/p99 in µs and the ratio. `--ipv6`: ping -6
 * to stackd's fd00:10:10::4 (stackd started with --ip6) and to br0's link-local address.
 *
 *   node dist/perf/ping-rtt.js [--count 500] [--interval 0.01] [--workers 4] [--size 56] [--runs 3] [--warmup 20] [--ipv6]
 *                              [--stackd-args='--busy-poll 20000']
 *
 * `--warmup N` pings each target N times (every 1 ms) before measuring, so that the
 * measured pings meet code the JIT has already optimized.
 *
 * Needs root. Builds its own lab (name `pr<pid>`), removes it afterwards, also on failure
 * or Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { controlRequest, waitForIpv6Addresses } from '../src/control/control-client.js';
import { formatLatencyTable } from '../src/control/latency-table.js';
import type { LatencyReport } from '../src/control/types.js';
import { benchLabDown, installCleanup, median, nsRun, percentile, runBench, startBenchLab, type BenchLab } from './lab-bench.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '500' },
    interval: { type: 'string', default: '0.01' },
    workers: { type: 'string', default: '4' },
    size: { type: 'string', default: '56' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '20' },
    ipv6: { type: 'boolean', default: false },
    'stackd-args': { type: 'string', default: '' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log("usage: node dist/perf/ping-rtt.js [--count 500] [--interval 0.01] [--workers 4] [--size 56] [--runs 3] [--warmup 20] [--ipv6] [--stackd-args='--busy-poll 20000']");
  process.exit(0);
}

/** Targets: stackd and the kernel (br0 in the lab host namespace; over IPv6 its link-local address, from its MAC 02:42:0a:0a:00:01). */
const STACK = values.ipv6 ? 'fd00:10:10::4' : '10.10.0.4';
const KERNEL = values.ipv6 ? 'fe80::42:aff:fe0a:1%eth0' : '10.10.0.1';
const family = values.ipv6 ? ['-6'] : [];

function pingTimes(ns: string, target: string): number[] {
  const out = nsRun(ns, 'ping', [...family, '-c', values.count, '-i', values.interval, '-s', values.size, '-W', '1', target], 300_000);
  return [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
}

const labName = `pr${process.pid % 10000}`;
let lab: BenchLab | undefined;
const cleanup = installCleanup(async () => {
  await lab?.close();
  benchLabDown(labName); // also when stackd did not start (the lab was up already)
});

async function main(): Promise<void> {
  const extra = values['stackd-args'].split(' ').filter((a) => a !== '');
  lab = await startBenchLab(labName, ['--workers', values.workers, '--tap', 'tap0', ...(values.ipv6 ? ['--ip6', `${STACK}/64`] : []), ...extra]);
  if (values.ipv6) await waitForIpv6Addresses(lab.control);
  for (const target of [STACK, KERNEL]) {
    nsRun(lab.client, 'ping', [...family, '-c', values.warmup, '-i', '0.001', '-q', target], 300_000); // warm-up (ARP or ND, JIT)
  }
  await controlRequest(lab.control, '/latency/reset', 'POST');
  const rows: string[] = [];
  const s50: number[] = [], s99: number[] = [], k50: number[] = [], k99: number[] = [];
  for (let r = 0; r < Number(values.runs); r++) {
    const st = pingTimes(lab.client, STACK);
    const k = pingTimes(lab.client, KERNEL);
    s50.push(percentile(st, 50)); s99.push(percentile(st, 99));
    k50.push(percentile(k, 50)); k99.push(percentile(k, 99));
    rows.push(`run ${r + 1}: stackd p50 ${percentile(st, 50).toFixed(0)} µs p99 ${percentile(st, 99).toFixed(0)} µs (${st.length} replies) | kernel p50 ${percentile(k, 50).toFixed(0)} µs p99 ${percentile(k, 99).toFixed(0)} µs (${k.length} replies)`);
  }
  console.log(`ping${values.ipv6 ? ' -6' : ''} RTT, ${values.count} × ${values.size} B every ${values.interval} s, --workers ${values.workers} ${extra.join(' ')}`);
  for (const r of rows) console.log('  ' + r);
  const [a, b, c, d] = [median(s50), median(s99), median(k50), median(k99)];
  console.log(`median of runs: stackd p50 ${a.toFixed(0)} µs, p99 ${b.toFixed(0)} µs; kernel p50 ${c.toFixed(0)} µs, p99 ${d.toFixed(0)} µs`);
  console.log(`ratio stackd/kernel: p50 ${(a / c).toFixed(2)}×, p99 ${(b / d).toFixed(2)}×`);
  const lat = JSON.parse((await controlRequest(lab.control, '/latency')).body) as LatencyReport;
  console.log('\nper-stage latency inside stackd during the runs:');
  console.log(formatLatencyTable(lat));
}

await runBench('ping-rtt', main, cleanup);
