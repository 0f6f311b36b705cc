/**
 * The latency probes the benchmarks share (perf/tcp-bench.ts, perf/peer-latency.ts), run
 * from a client namespace against any address:
 *   ping       `ping -c N -i 0.01 -W 1` (the kernel's ICMP socket): every reply's RTT
 *   UDP echo   one 64-byte datagram in flight to port 7 for S seconds
 *              (perf/udp-echo-client.ts --window 1 --flows 1): its p50 and p99
 * and the warm-up before them: 2 000 pings at 1 ms. A fresh stackd's echo path runs in
 * V8's lower tiers for its first few thousand requests, and at 10 ms intervals that is
 * the first seconds of a run: after 50 pings at 10 ms its p99 was 275–315 µs, after
 * 2 000 at 1 ms 188–227 (docs/benchmarks.md, twentieth session). The kernel and gVisor get
 * the same warm-up.
 */
import { join } from 'node:path';
import { packageRoot } from '../../src/phy/package-root.js';
import { runIn } from '../lab-bench.js';

/** The RTTs (µs) of `count` pings every 10 ms from `ns` to `address`, one per reply. */
export async function pingTimes(ns: string, address: string, count: number): Promise<number[]> {
  const r = await runIn(ns, 'ping', ['-c', String(count), '-i', '0.01', '-W', '1', address], count * 20 + 20_000);
  return [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
}

/** Pings of the warm-up before measured ones. */
const WARM_UP_PINGS = 2000;

/** Pings from `ns` to `address` until its echo path is warm: WARM_UP_PINGS, 1 ms apart (root may ping that often). */
export async function warmUpPings(ns: string, address: string): Promise<void> {
  await runIn(ns, 'ping', ['-c', String(WARM_UP_PINGS), '-i', '0.001', '-W', '1', '-q', address], 30_000);
}

/** What the UDP echo client reports (its last stdout line). */
export interface UdpEchoResult {
  echoesPerSecond: number;
  sent: number;
  lost: number;
  rttP50us: number;
  rttP99us: number;
}

/** UDP echo with one 64-byte datagram in flight from `ns` to `address`:7 for `seconds`; an error text if the client failed. */
export async function udpEchoOneInFlight(ns: string, address: string, seconds: number): Promise<UdpEchoResult | string> {
  const client = join(packageRoot(), 'dist/perf/udp-echo-client.js');
  const r = await runIn(ns, process.execPath, [client, '--host', address, '--window', '1', '--flows', '1', '--size', '64', '--seconds', String(seconds)], seconds * 1000 + 20_000);
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as UdpEchoResult;
  } catch {
    return `status ${r.status} ${r.stderr.trim()}`;
  }
}
