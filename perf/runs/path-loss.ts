/**
 * Random loss on the lab's bridge for perf/tcp-bench.ts --loss P (issue 11 item 5): where a
 * real network loses packets, between the client and the servers, so that both directions
 * of both servers lose data and ACKs alike and a receiver meets real holes.
 *
 * An nftables `bridge` table `benchloss` in <lab>-host hooks br0's forward path. Every IPv4
 * and IPv6 frame that enters br0 from the client's port (veth-c1: c1's data of an upload,
 * its ACKs of a download) or leaves br0 through it (the servers' data of a download, their
 * ACKs of an upload) is dropped with probability P % (`numgen random mod 100 < P`), each
 * direction by its own rule; ARP and other non-IP frames pass. stackd's tap0 and the kernel
 * peer's veth-c2 are both ports of br0, so the same two rules stand between c1 and either
 * server. The earlier rules in c1's input and output hooks are gone, with no reason left to
 * keep them: a drop in the sender's own output hook is a local send failure that its TCP
 * sends again without counting a retransmission, so uploads lost only ACKs and stackd's
 * receiver never met a hole (decision 0031).
 *
 * What one drop is: the bridge sees sk_buffs, and a GSO/TSO aggregate crosses it whole
 * (veth and stackd's vnet_hdr tap pass aggregates on), so a drop takes the whole aggregate,
 * every segment in it: the loss is P % of the frames the bridge forwards, not of segments.
 * Counters by IP length in each direction (`meta length` on the bridge is the IP packet
 * without the Ethernet header, the whole IP length for an aggregate) tell the classes
 * apart: ≤ 128 B (ACKs, SYNs, FINs), 129–1500 B (one segment), > 1500 B (an aggregate).
 * What they showed in this lab, 50 MB transfers (docs/benchmarks.md, "Loss on the bridge"):
 *   - towards the client, whatever the client's offloads: the kernel peer's data is nearly
 *     all aggregates (830–1040 per download, ~36 segments each, and 120–470 single
 *     segments); stackd's new data leaves as TSO aggregates too, but its retransmissions and
 *     much of what it sends after a loss are single segments (at 10 % 800–1200 aggregates and
 *     13 000–15 000 single segments per download). One drop = a run of ~36 segments or one segment;
 *   - from the client, offloads on: c1's data leaves as TSO aggregates (860–2150 per upload,
 *     and up to 360 single segments): one drop = a run of segments; --client-offloads off:
 *     single segments only (37 300–38 700 per upload, no aggregate): one drop = one segment;
 *   - ACKs either way are single frames: one drop = one ACK.
 * So at the same P a sender that keeps its data in aggregates meets fewer, longer losses
 * than one that sends single segments.
 */
import { runIn } from '../lab-bench.js';

/** The bridge port of the client namespace c1 in <lab>-host (lab/lab.sh). */
export const CLIENT_PORT = 'veth-c1';
/** The nftables table, family bridge, in <lab>-host. */
export const PATH_LOSS_TABLE = 'benchloss';

/** The two directions through the client's port. */
export const DIRECTIONS = ['to_client', 'from_client'] as const;
export type PathDirection = (typeof DIRECTIONS)[number];
/** Size classes by IP length: control (ACK, SYN, FIN), one segment, a GSO/TSO aggregate. */
export const SIZE_CLASSES = [
  { name: 'small', match: 'meta length <= 128' },
  { name: 'mtu', match: 'meta length 129-1500' },
  { name: 'gso', match: 'meta length > 1500' },
] as const;
export type SizeClass = (typeof SIZE_CLASSES)[number]['name'];

/** Frames seen and dropped in one direction, per size class. */
export type ClassCounts = Record<SizeClass, number>;
export type PathCounts = Record<PathDirection, { seen: ClassCounts; dropped: ClassCounts }>;

/** The named counter of direction `d`, class `c`, seen or dropped. */
function counterName(d: PathDirection, c: SizeClass, dropped: boolean): string {
  return `${d}_${c}${dropped ? '_dropped' : ''}`;
}

/** One direction's chain (count every frame by class, then drop P %) and its drop chain (count what is dropped). */
function directionChains(d: PathDirection, percent: number): string {
  const count = (dropped: boolean): string =>
    SIZE_CLASSES.map((c) => `    ${c.match} counter name "${counterName(d, c.name, dropped)}"`).join('\n');
  return `  chain ${d} {
${count(false)}
    numgen random mod 100 < ${percent} jump ${d}_drop
  }
  chain ${d}_drop {
${count(true)}
    drop
  }`;
}

/** The ruleset: `percent` % loss each way on the client's bridge port, IPv4 and IPv6 only. */
export function pathLossRules(percent: number, clientPort = CLIENT_PORT): string {
  if (!(Number.isInteger(percent) && percent >= 0 && percent <= 100)) throw new RangeError(`loss ${percent} %: an integer 0..100`);
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(clientPort)) throw new RangeError(`bad interface name '${clientPort}'`);
  const counters = DIRECTIONS.flatMap((d) => SIZE_CLASSES.flatMap((c) => [false, true].map((x) => `  counter ${counterName(d, c.name, x)} { }`)));
  return `table bridge ${PATH_LOSS_TABLE} {
${counters.join('\n')}
  chain forward {
    type filter hook forward priority 0; policy accept;
    meta protocol { ip, ip6 } iifname "${clientPort}" jump from_client
    meta protocol { ip, ip6 } oifname "${clientPort}" jump to_client
  }
${DIRECTIONS.map((d) => directionChains(d, percent)).join('\n')}
}`;
}

/** All zero. */
function zeroCounts(): PathCounts {
  const z = (): ClassCounts => ({ small: 0, mtu: 0, gso: 0 });
  return { to_client: { seen: z(), dropped: z() }, from_client: { seen: z(), dropped: z() } };
}

/** The packet counts of `nft -j list counters table bridge benchloss` output. */
export function parsePathCounts(json: string): PathCounts {
  const out = zeroCounts();
  const doc = JSON.parse(json) as { nftables?: { counter?: { name: string; table: string; packets: number } }[] };
  for (const item of doc.nftables ?? []) {
    const c = item.counter;
    if (c === undefined || c.table !== PATH_LOSS_TABLE) continue;
    const m = /^(to_client|from_client)_(small|mtu|gso)(_dropped)?$/.exec(c.name);
    if (m === null) continue;
    out[m[1] as PathDirection][c.name.endsWith('_dropped') ? 'dropped' : 'seen'][m[2] as SizeClass] = c.packets;
  }
  return out;
}

/** Installs the loss rules in namespace `hostNs` (the bridge's); throws with nft's error. */
export async function installPathLoss(hostNs: string, percent: number): Promise<void> {
  const r = await runIn(hostNs, 'bash', ['-c', `nft -f - <<'EOF'\n${pathLossRules(percent)}\nEOF`], 5000);
  if (r.status !== 0) throw new Error(`nft in ${hostNs} failed: ${r.stderr.trim()}`);
}

/** The counters so far; throws when they cannot be read (the table must exist once installed). */
export async function readPathCounts(hostNs: string): Promise<PathCounts> {
  const r = await runIn(hostNs, 'nft', ['-j', 'list', 'counters', 'table', 'bridge', PATH_LOSS_TABLE], 5000);
  if (r.status !== 0) throw new Error(`nft list counters in ${hostNs} failed: ${r.stderr.trim()}`);
  return parsePathCounts(r.stdout);
}

/** What crossed the client's port between `a` and `b`, one line: per direction, frames by class and how many were dropped. */
export function pathLine(a: PathCounts, b: PathCounts): string {
  const dir = (d: PathDirection, label: string): string => {
    const cls = (k: 'seen' | 'dropped', c: SizeClass): number => b[d][k][c] - a[d][k][c];
    const part = (c: SizeClass, label: string): string => `${cls('seen', c)} ${label} (${cls('dropped', c)} dropped)`;
    return `${label} ${part('gso', 'aggregates')}, ${part('mtu', 'segments')}, ${part('small', 'small')}`;
  };
  return `path: ${dir('to_client', 'to c1')}; ${dir('from_client', 'from c1')}`;
}
