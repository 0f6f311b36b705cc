/**
 * Random loss between the lab's client c1 and the servers for perf/tcp-bench.ts --loss P
 * (issue 11 item 5): where a real network loses packets, so that both directions of both
 * servers lose data and ACKs alike and a receiver meets real holes. stackd's tap0 and the
 * kernel peer's veth-c2 are both ports of br0 in <lab>-host, c1 is behind the port veth-c1,
 * so the same rules stand between c1 and either server. Each direction is dropped with
 * probability P % (`numgen random mod 100 < P`) by its own rule; ARP and other non-IP
 * frames pass. Two models, chosen by tcp-bench's --client-offloads:
 *
 * `frames` (client offloads on; a virtual link as it is): an nftables `bridge` table
 * `benchloss` in <lab>-host hooks br0's forward path and drops IPv4/IPv6 frames entering
 * from veth-c1 (c1's data of an upload, its ACKs of a download) and leaving through it (the
 * servers' data of a download, their ACKs of an upload). The bridge sees sk_buffs, and a
 * GSO/TSO aggregate crosses it whole (veth and stackd's vnet_hdr tap pass aggregates on),
 * so a drop takes a whole aggregate, every segment in it (~36 of the kernel peer's): the
 * loss is P % of the frames the bridge forwards, not of segments, and at the same P a
 * sender that keeps its data in aggregates meets fewer, longer losses than one that sends
 * single segments (docs/benchmarks.md, "Loss on the bridge").
 *
 * `segments` (client offloads off; a real wire, where segments are lost one by one): c1's
 * interfaces have GRO, GSO and TSO off and so has veth-c1 (perf/runs/client-offloads.ts),
 * so the kernel cuts an aggregate into segments in software when br0 transmits it to
 * veth-c1 (validate_xmit_skb, after every bridge hook). The direction towards c1 is
 * therefore dropped after that point, in an nftables `netdev` table `benchloss` in c1 on
 * the ingress hook of c1's eth0; the bridge table keeps the direction from c1 (single
 * segments and ACKs already, c1 having no TSO/GSO) and only counts what it forwards towards
 * c1 (`bridge_to_client`, never dropped), which shows the aggregates before they are cut.
 * (A netdev egress hook on veth-c1 would not do: it runs in __dev_queue_xmit before the
 * segmentation, like the bridge's own hooks.)
 *
 * Counters by IP length in each direction tell the classes apart (`meta length` is the IP
 * packet without the Ethernet header, on the bridge and at a netdev ingress alike; the whole
 * IP length for an aggregate): ≤ 128 B (ACKs, SYNs, FINs), 129–1500 B (one segment),
 * > 1500 B (an aggregate). In the `segments` model the > 1500 B class of both dropping
 * directions must stay 0: that is the proof that every data segment met the rule alone.
 * What they showed, 50 MB transfers (docs/benchmarks.md, "Loss segment by segment"):
 *   - `frames`, 3 %: the kernel peer's downloads crossed as 850–880 aggregates and 200–320
 *     single segments and lost 21–30 aggregates and 5–10 segments; stackd's as 1200–3400
 *     aggregates and 2600–8900 segments, losing 29–100 and 69–278: several times the loss
 *     events of the kernel peer's for the same P;
 *   - `segments`: every download reached c1 as 36 500–41 900 single segments and 0
 *     aggregates, every upload left c1 as single segments, and each lost P % of them
 *     (1 %: 308–409, 3 %: 1060–1210, 10 %: 3956–4245), the same for both servers; br0 had
 *     forwarded the kernel peer's data as 890–1980 aggregates and 350–4320 segments.
 */
import { runIn } from '../lab-bench.js';

/** The bridge port of the client namespace c1 in <lab>-host (lab/lab.sh). */
export const CLIENT_PORT = 'veth-c1';
/** c1's own interface, the other end of veth-c1 (lab/lab.sh CLIENT_IF). */
export const CLIENT_IF = 'eth0';
/** The nftables tables' name: family bridge in <lab>-host, family netdev in c1 (`segments` model). */
export const PATH_LOSS_TABLE = 'benchloss';

/** Where the loss rules stand (see the file header). */
export const LOSS_MODELS = ['frames', 'segments'] as const;
export type LossModel = (typeof LOSS_MODELS)[number];

/** The two dropping directions through the client's port. */
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
export type PathCounts = Record<PathDirection, { seen: ClassCounts; dropped: ClassCounts }> & {
  /** `segments` model: what br0 forwarded towards c1 before veth-c1 cut it into segments (counted, never dropped). */
  bridge_to_client: ClassCounts;
};

/** A set of counters: a dropping direction, or the bridge's count-only view towards c1. */
type CounterSet = PathDirection | 'bridge_to_client';

/** The named counter of set `d`, class `c`, seen or dropped. */
function counterName(d: CounterSet, c: SizeClass, dropped: boolean): string {
  return `${d}_${c}${dropped ? '_dropped' : ''}`;
}

/** Rules that count every frame by class into the counters of `d` (seen or dropped). */
function countRules(d: CounterSet, dropped: boolean): string {
  return SIZE_CLASSES.map((c) => `    ${c.match} counter name "${counterName(d, c.name, dropped)}"`).join('\n');
}

/** The counter declarations of `sets`, seen and, unless count-only, dropped. */
function counterDecls(sets: readonly CounterSet[]): string {
  return sets.flatMap((d) => SIZE_CLASSES.flatMap((c) => (d === 'bridge_to_client' ? [false] : [false, true])
    .map((x) => `  counter ${counterName(d, c.name, x)} { }`))).join('\n');
}

/** One direction's chain (count every frame by class, then drop P %) and its drop chain (count what is dropped). */
function directionChains(d: PathDirection, percent: number): string {
  return `  chain ${d} {
${countRules(d, false)}
    numgen random mod 100 < ${percent} jump ${d}_drop
  }
  chain ${d}_drop {
${countRules(d, true)}
    drop
  }`;
}

function checkPercent(percent: number): void {
  if (!(Number.isInteger(percent) && percent >= 0 && percent <= 100)) throw new RangeError(`loss ${percent} %: an integer 0..100`);
}

function checkIfName(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new RangeError(`bad interface name '${name}'`);
}

/**
 * The bridge table for <lab>-host: `percent` % loss from c1 on its bridge port and, in the
 * `frames` model, towards it too; in the `segments` model the frames towards c1 are only counted.
 */
export function pathLossRules(percent: number, model: LossModel = 'frames', clientPort = CLIENT_PORT): string {
  checkPercent(percent);
  checkIfName(clientPort);
  const toClient: CounterSet = model === 'frames' ? 'to_client' : 'bridge_to_client';
  const toClientChain = model === 'frames' ? directionChains('to_client', percent) : `  chain bridge_to_client {\n${countRules('bridge_to_client', false)}\n  }`;
  return `table bridge ${PATH_LOSS_TABLE} {
${counterDecls([toClient, 'from_client'])}
  chain forward {
    type filter hook forward priority 0; policy accept;
    meta protocol { ip, ip6 } iifname "${clientPort}" jump from_client
    meta protocol { ip, ip6 } oifname "${clientPort}" jump ${toClient}
  }
${toClientChain}
${directionChains('from_client', percent)}
}`;
}

/** The netdev table for c1 (`segments` model): `percent` % loss of the IPv4/IPv6 frames arriving on c1's interface. */
export function clientIngressLossRules(percent: number, clientIf = CLIENT_IF): string {
  checkPercent(percent);
  checkIfName(clientIf);
  return `table netdev ${PATH_LOSS_TABLE} {
${counterDecls(['to_client'])}
  chain ingress {
    type filter hook ingress device "${clientIf}" priority 0; policy accept;
    meta protocol { ip, ip6 } jump to_client
  }
${directionChains('to_client', percent)}
}`;
}

/** All zero. */
function zeroCounts(): PathCounts {
  const z = (): ClassCounts => ({ small: 0, mtu: 0, gso: 0 });
  return { to_client: { seen: z(), dropped: z() }, from_client: { seen: z(), dropped: z() }, bridge_to_client: z() };
}

/** The packet counts of `nft -j list counters table <family> benchloss` outputs, summed (each counter lives in one of them). */
export function parsePathCounts(...jsons: string[]): PathCounts {
  const out = zeroCounts();
  for (const json of jsons) {
    const doc = JSON.parse(json) as { nftables?: { counter?: { name: string; table: string; packets: number } }[] };
    for (const item of doc.nftables ?? []) {
      const c = item.counter;
      if (c === undefined || c.table !== PATH_LOSS_TABLE) continue;
      const m = /^(to_client|from_client|bridge_to_client)_(small|mtu|gso)(_dropped)?$/.exec(c.name);
      if (m === null) continue;
      const cls = m[2] as SizeClass;
      const dropped = c.name.endsWith('_dropped');
      if (m[1] === 'bridge_to_client') {
        if (!dropped) out.bridge_to_client[cls] += c.packets;
        continue;
      }
      out[m[1] as PathDirection][dropped ? 'dropped' : 'seen'][cls] += c.packets;
    }
  }
  return out;
}

/** The namespaces of a lab where the loss rules of `model` stand: the bridge's, and c1's in the `segments` model. */
export interface LossPlaces {
  hostNs: string;
  clientNs: string;
  model: LossModel;
}

/** Loads `rules` with nft in namespace `ns`; throws with nft's error. */
async function loadRules(ns: string, rules: string): Promise<void> {
  const r = await runIn(ns, 'bash', ['-c', `nft -f - <<'EOF'\n${rules}\nEOF`], 5000);
  if (r.status !== 0) throw new Error(`nft in ${ns} failed: ${r.stderr.trim()}`);
}

/** Installs the loss rules of `at.model`. */
export async function installPathLoss(at: LossPlaces, percent: number): Promise<void> {
  await loadRules(at.hostNs, pathLossRules(percent, at.model));
  if (at.model === 'segments') await loadRules(at.clientNs, clientIngressLossRules(percent));
}

/** `nft -j list counters` of table `family` benchloss in `ns`; throws when they cannot be read (the table must exist once installed). */
async function listCounters(ns: string, family: 'bridge' | 'netdev'): Promise<string> {
  const r = await runIn(ns, 'nft', ['-j', 'list', 'counters', 'table', family, PATH_LOSS_TABLE], 5000);
  if (r.status !== 0) throw new Error(`nft list counters in ${ns} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The counters so far, from both tables in the `segments` model. */
export async function readPathCounts(at: LossPlaces): Promise<PathCounts> {
  const host = listCounters(at.hostNs, 'bridge');
  const client = at.model === 'segments' ? listCounters(at.clientNs, 'netdev') : undefined;
  return client === undefined ? parsePathCounts(await host) : parsePathCounts(await host, await client);
}

/**
 * What crossed the client's port between `a` and `b`, one line: per direction, frames by
 * class and how many were dropped; in the `segments` model also what br0 forwarded towards c1.
 */
export function pathLine(a: PathCounts, b: PathCounts, model: LossModel = 'frames'): string {
  const classes = (get: (p: PathCounts) => ClassCounts): ClassCounts => {
    const x = get(a);
    const y = get(b);
    return { small: y.small - x.small, mtu: y.mtu - x.mtu, gso: y.gso - x.gso };
  };
  const dir = (d: PathDirection, label: string): string => {
    const seen = classes((p) => p[d].seen);
    const dropped = classes((p) => p[d].dropped);
    const part = (c: SizeClass, label: string): string => `${seen[c]} ${label} (${dropped[c]} dropped)`;
    return `${label} ${part('gso', 'aggregates')}, ${part('mtu', 'segments')}, ${part('small', 'small')}`;
  };
  const where = model === 'frames' ? 'to c1' : `to c1 (at c1's ${CLIENT_IF})`;
  const line = `path: ${dir('to_client', where)}; ${dir('from_client', 'from c1')}`;
  if (model === 'frames') return line;
  const br = classes((p) => p.bridge_to_client);
  return `${line}; br0 forwarded to c1 ${br.gso} aggregates, ${br.mtu} segments, ${br.small} small`;
}
