/**
 * The latency probes the benchmarks share (perf/tcp-bench.ts, perf/peer-latency.ts), run
 * from a client namespace against any address:
 *   ping       `ping -c N -i 0.01 -W 1` (the kernel's ICMP socket): every reply's RTT
 *   UDP echo   one 64-byte datagram in flight to port 7 for S seconds
 *              (perf/udp-echo-client.ts --window 1 --flows 1): its p50 and p99
 */
import { join } from 'node:path';
import { packageRoot } from '../../src/phy/package-root.js';
import { runIn } from '../lab-bench.js';

/** The RTTs (µs) of `count` pings every 10 ms from `ns` to `address`, one per reply. */
export async function pingTimes(ns: string, address: string, count: number): Promise<number[]> {
  const r = await runIn(ns, 'ping', ['-c', String(count), '-i', '0.01', '-W', '1', address], count * 20 + 20_000);
  return [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
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
