/**
 * gVisor's netstack as a peer in a benchmark lab (decision 0052): the Go responder of
 * perf/peers/gvisor-echo (built by its build.sh) on tap1, a second TAP on the lab's
 * bridge in <lab>-host, owning GVISOR_IP. Netstack answers ARP and ICMP echo itself; the
 * responder echoes UDP port 7. It runs until the benchmark stops it or removes the lab.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/phy/package-root.js';
import { runIn, spawnIn } from '../lab-bench.js';

/** gVisor's address: outside the lab's client range (.3, .5, .6, ...; tcp-bench's memory run takes up to .54). */
export const GVISOR_IP = '10.10.0.200';

/** Where build.sh leaves the responder. */
export function defaultGvisorPath(): string {
  return join(packageRoot(), 'perf/peers/gvisor-echo/gvisor-echo');
}

/** A usage error for a missing responder, or null when `path` exists. */
export function gvisorMissing(path: string): string | null {
  return existsSync(path) ? null : `no gVisor responder at ${path}: build it with perf/peers/gvisor-echo/build.sh (or pass --gvisor PATH)`;
}

/** Adds tap1 to the bridge of `lab`, starts the responder `path` on it, and waits (≤ 10 s) until it answers a ping from `clientNs`. */
export async function startGvisorPeer(lab: string, clientNs: string, path: string): Promise<ChildProcess> {
  const hostNs = `${lab}-host`;
  for (const args of [['tuntap', 'add', 'dev', 'tap1', 'mode', 'tap'], ['link', 'set', 'tap1', 'master', 'br0'], ['link', 'set', 'tap1', 'up']]) {
    const r = await runIn(hostNs, 'ip', args, 10_000);
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')} in ${hostNs}: ${r.stderr.trim()}`);
  }
  const child = spawnIn(hostNs, path, ['-tap', 'tap1', '-addr', `${GVISOR_IP}/24`]);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ((await runIn(clientNs, 'ping', ['-c', '1', '-W', '1', GVISOR_IP], 5000)).status === 0) return child;
    if (child.exitCode !== null) break;
  }
  throw new Error(`gVisor's responder (${path}) does not answer pings`);
}
