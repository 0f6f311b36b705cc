/**
 * perf/tcp-bench.ts --client-offloads off: the client c1 as a host on a real wire, where
 * segments travel one by one and in order. GRO, GSO and TSO go off on every interface of
 * c1 (its data leaves as single segments and nothing is merged on arrival), and TSO and GSO
 * go off on its bridge port veth-c1 in <lab>-host, so that an aggregate a server hands to
 * br0 (stackd's TSO frames through its vnet_hdr tap, the kernel peer's GSO through veth-c2)
 * is cut into segments in software when br0 transmits it to veth-c1 (Linux
 * validate_xmit_skb), and c1 receives single segments from both servers. GRO goes off on
 * veth-c1 as well, so nothing merges c1's segments on their way into the bridge. The
 * servers keep their offloads: each sends as it runs. perf/runs/path-loss.ts (`segments`
 * model) drops after the cut.
 *
 * In order: a veth without GRO hands each packet to the receiving end with netif_rx, onto
 * the backlog of the CPU that transmits; when the sending thread moves to the other CPU,
 * later packets of a flow can overtake earlier ones still queued on the first CPU's
 * backlog. With single segments that reordered the lab's own traffic with no loss rule at
 * all (50 MB transfers, no --loss: 6 of 24 transfers met 40–546 out-of-order segments at
 * their receiver and their sender up to 512 spurious retransmissions, mostly the kernel
 * peer's). So every veth end on the path (c1's and c2's interfaces, veth-c1 and veth-c2 in
 * <lab>-host) steers by flow hash (RPS, rps_cpus = every CPU): all packets of a flow go
 * through one backlog in the order they were sent (0 of 24 transfers out of order with it).
 * stackd's tap needs nothing: a frame written to it is received in the writer's context.
 */
import { runIn } from '../lab-bench.js';
import { CLIENT_PORT } from './path-loss.js';

/** The bridge port of the kernel peer's namespace c2 in <lab>-host (lab/lab.sh). */
export const SERVER_PORT = 'veth-c2';

/** Every interface of a namespace (lo is skipped where it is used), as a shell word list. */
const ALL_INTERFACES = '$(ls /sys/class/net)';

/** ethtool -K for every interface of c1 but lo. */
const CLIENT_COMMAND = `for i in ${ALL_INTERFACES}; do [ "$i" = lo ] || ethtool -K "$i" gro off gso off tso off || exit 1; done`;

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

/** The rps_cpus mask of every online CPU of `cpus` (hex, as sysfs reads it). */
export function allCpusMask(cpus: number): string {
  if (!(Number.isInteger(cpus) && cpus >= 1 && cpus <= 31)) throw new RangeError(`${cpus} CPUs: 1..31`);
  return (2 ** cpus - 1).toString(16);
}

/** Steers what the interfaces `ifnames` of `ns` (a shell word list; lo skipped) receive by flow hash over CPUs `mask` (RPS). */
async function steerByFlow(ns: string, mask: string, ifnames: string): Promise<void> {
  const r = await runIn(ns, 'bash', ['-c', `for i in ${ifnames}; do [ "$i" = lo ] || echo ${mask} > /sys/class/net/$i/queues/rx-0/rps_cpus || exit 1; done`], 10_000);
  if (r.status !== 0) throw new Error(`rps_cpus in ${ns} failed: ${r.stderr.trim()}`);
}

/** The lab's namespaces on the path between the client and the servers. */
export interface WirePlaces {
  /** c1, the client. */
  clientNs: string;
  /** c2, the kernel peer. */
  serverNs: string;
  /** <lab>-host, br0's. */
  hostNs: string;
}

/**
 * Turns the offloads off in c1 and on its bridge port, checks the port, and steers every
 * veth end on the path by flow over the machine's `cpus` CPUs; throws on failure.
 */
export async function clientOffloadsOff(at: WirePlaces, cpus: number): Promise<void> {
  const { clientNs, serverNs, hostNs } = at;
  const c = await runIn(clientNs, 'bash', ['-c', CLIENT_COMMAND], 10_000);
  if (c.status !== 0) throw new Error(`ethtool -K in ${clientNs} failed: ${c.stderr.trim()}`);
  const p = await runIn(hostNs, 'ethtool', ['-K', CLIENT_PORT, 'gro', 'off', 'gso', 'off', 'tso', 'off'], 10_000);
  if (p.status !== 0) throw new Error(`ethtool -K ${CLIENT_PORT} in ${hostNs} failed: ${p.stderr.trim()}`);
  const k = await runIn(hostNs, 'ethtool', ['-k', CLIENT_PORT], 10_000);
  const on = featuresNotOff(k.stdout, PORT_FEATURES_OFF);
  if (k.status !== 0 || on.length > 0) throw new Error(`${CLIENT_PORT} in ${hostNs}: ${on.join(', ') || k.stderr.trim()} still on`);
  const mask = allCpusMask(cpus);
  await steerByFlow(clientNs, mask, ALL_INTERFACES);
  await steerByFlow(serverNs, mask, ALL_INTERFACES);
  await steerByFlow(hostNs, mask, `${CLIENT_PORT} ${SERVER_PORT}`);
}
