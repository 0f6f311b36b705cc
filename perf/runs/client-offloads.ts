/**
 * perf/tcp-bench.ts --client-offloads off: the client c1 as a host on a real wire, where
 * segments travel one by one. GRO, GSO and TSO go off on every interface of c1 (its data
 * leaves as single segments and nothing is merged on arrival), and TSO and GSO go off on
 * its bridge port veth-c1 in <lab>-host, so that an aggregate a server hands to br0 (stackd's
 * TSO frames through its vnet_hdr tap, the kernel peer's GSO through veth-c2) is cut into
 * segments in software when br0 transmits it to veth-c1 (Linux validate_xmit_skb), and c1
 * receives single segments from both servers. GRO goes off on veth-c1 as well, so nothing
 * merges c1's segments on their way into the bridge. The servers keep their offloads:
 * each sends as it runs. perf/runs/path-loss.ts (`segments` model) drops after that point.
 */
import { runIn } from '../lab-bench.js';
import { CLIENT_PORT } from './path-loss.js';

/** ethtool -K for every interface of c1 but lo. */
const CLIENT_COMMAND = 'for i in $(ls /sys/class/net); do [ "$i" = lo ] || ethtool -K "$i" gro off gso off tso off || exit 1; done';

/** The `ethtool -k` features that must read "off" on veth-c1 for the kernel to cut aggregates towards c1. */
export const PORT_FEATURES_OFF = ['tcp-segmentation-offload', 'generic-segmentation-offload', 'generic-receive-offload'] as const;

/** The features of `ethtool -k` output (`name: on|off [fixed]`) among `names` that are not off. */
export function featuresNotOff(ethtoolK: string, names: readonly string[]): string[] {
  const state = new Map<string, string>();
  for (const line of ethtoolK.split('\n')) {
    const m = /^\s*([a-z0-9-]+):\s+(on|off)\b/.exec(line);
    if (m !== null) state.set(m[1], m[2]);
  }
  return names.filter((n) => state.get(n) !== 'off');
}

/** Turns the offloads off in c1 and on its bridge port in `hostNs`, and checks the port; throws on failure. */
export async function clientOffloadsOff(clientNs: string, hostNs: string): Promise<void> {
  const c = await runIn(clientNs, 'bash', ['-c', CLIENT_COMMAND], 10_000);
  if (c.status !== 0) throw new Error(`ethtool -K in ${clientNs} failed: ${c.stderr.trim()}`);
  const p = await runIn(hostNs, 'ethtool', ['-K', CLIENT_PORT, 'gro', 'off', 'gso', 'off', 'tso', 'off'], 10_000);
  if (p.status !== 0) throw new Error(`ethtool -K ${CLIENT_PORT} in ${hostNs} failed: ${p.stderr.trim()}`);
  const k = await runIn(hostNs, 'ethtool', ['-k', CLIENT_PORT], 10_000);
  const on = featuresNotOff(k.stdout, PORT_FEATURES_OFF);
  if (k.status !== 0 || on.length > 0) throw new Error(`${CLIENT_PORT} in ${hostNs}: ${on.join(', ') || k.stderr.trim()} still on`);
}
