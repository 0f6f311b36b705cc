/**
 * Command-line options of `stackd`, parsed with node:util parseArgs. Every bad value
 * gives one line naming the flag and what is wrong (the CLI prints it and exits 2).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { formatIpv4, ipv4InSubnet, parseIpv4, parseMac, formatMac, prefixMask } from '../wire/addresses.js';
import { formatIpv6, ipv6InPrefix, ipv6IsLinkLocal, ipv6IsMulticast, ipv6IsUnspecified, parseIpv6 } from '../wire/ipv6-address.js';
import { MAX_STATIC_ROUTES, parseIpv6Assignment, type Ipv6Settings, type StaticRoute } from '../base/host-config.js';
import { LOG_LEVELS } from '../control/logger.js';
import {
  CAPTURE_DEFAULT_MAX_FILES, CAPTURE_DEFAULT_SNAPLEN, CAPTURE_MAX_FILES, CAPTURE_MAX_MB, CAPTURE_MAX_SNAPLEN, CAPTURE_MIN_SNAPLEN,
} from '../control/capture-control.js';
import { parseFaultSpec, type FaultConfig } from '../phy/fault-spec.js';
import { DEFAULT_TCP_CONFIG } from '../tcp/tcp-config.js';
import { DEFAULT_IPV6_INTERNED } from '../iface/host.js';
import type { WorkerStackSettings } from '../dataplane/thread-data.js';
import type { CpuAffinityMode } from '../control/cpu-plan.js';

/** Parsed and validated options. */
export interface StackdOptions extends WorkerStackSettings {
  workers: number;
  /** --threads: threads that run the workers (0: as many as the CPUs allow, see threadsFor). */
  threads: number;
  tap: string;
  ip: number;
  prefixLength: number;
  gateway: number;
  /** --route DEST/PREFIX via GW, in the order given. */
  routes: StaticRoute[];
  /** --ip6 (repeatable) and --gateway6; the link-local address is always added by the stack. */
  ipv6: Ipv6Settings;
  mac: number;
  mtu: number;
  control: string;
  /** TCP connections (TIME_WAIT not included) and TIME_WAIT records, for the whole process. */
  maxConnections: number;
  maxTimeWait: number;
  vnetHdr: boolean;
  /** --batch-helpers (default) / --no-batch-helpers: threads other than the data plane's run as SCHED_BATCH (decision 0049). */
  batchHelpers: boolean;
  /** --cpu-affinity workers|all|off: bind each worker thread (all: and the I/O thread) to a CPU of its own when there are enough (decision 0053). */
  cpuAffinity: CpuAffinityMode;
  /** --pcap: capture from the start (absolute file path, snapshot length, rotation size in MB or null, files kept). */
  pcap: { file: string; snaplen: number; maxMb: number | null; maxFiles?: number } | null;
  /** --fault: fault injection, or null. */
  fault: FaultConfig | null;
  /** --app-threads, --app-queue: the process-wide pool behind api.offload. */
  appPool: { threads: number; maxQueue: number };
  help: boolean;
  version: boolean;
}

/** Longest --busy-poll (µs): one second. */
export const MAX_BUSY_POLL_US = 1_000_000;

/** Services that can be named in --services. */
export const KNOWN_SERVICES = ['echo', 'discard', 'chargen', 'http', 'udp-echo'] as const;

/** A bad command line: `message` is the one line to print. */
export class UsageError extends Error {}

/** The --help text. */
export const HELP = `stackd: a TCP/IP stack in TypeScript that owns an IPv4 address (and IPv6 ones) on a TAP device

Usage: stackd [options]

Options:
  --workers N        shard workers (1..64): each owns the TCP connections and
                     flows that hash to it, with its own services and --app
                                                                      [default: 4]
  --threads N        threads that run the workers (1..workers); several workers share
                     a thread when there are fewer      [default: workers, at most CPUs - 1]
  --tap NAME         TAP device to open or create                     [default: tap0]
  --ip ADDR/PREFIX   our IPv4 address and prefix length               [default: 10.10.0.4/24]
  --gateway ADDR     default gateway (none: only the subnet is reachable)
  --route 'DEST/PREFIX via GW'
                     a route to DEST/PREFIX through GW, a neighbour on our subnet
                     (repeatable, up to ${MAX_STATIC_ROUTES}; the longest prefix wins; unquoted
                     works too: --route 10.20.0.0/24 via 10.10.0.254)
  --ip6 ADDR/PREFIX  an IPv6 address of ours and its on-link prefix (repeatable); a
                     link-local one from the MAC is always there; TCP, UDP and
                     ping over IPv6
  --gateway6 ADDR    IPv6 default router (none: routers from router advertisements)
  --mac MAC          our MAC address         [default: locally administered, from --tap and --ip]
  --mtu BYTES        IP MTU (576..9000; IPv6 is off below 1280)       [default: 1500]
  --control ADDR     control API: a unix socket path or host:port
                                                 [default: /run/stackd/<tap>.sock]
  --services LIST    comma-separated built-in services, or 'none'
                     (echo:7 discard:9 chargen:19 http:80 udp-echo:7/udp)   [default: all]
  --app PATH         load an application module into every worker (repeatable);
                     its default export receives the socket API (see README)
  --cc NAME          TCP congestion control: newreno, cubic, or bbr (BBR v1 without
                     pacing: a path model, no window cut per loss)   [default: newreno]
  --ecn MODE         ECN (RFC 3168): accept (when the peer's SYN asks), on (ask in
                     our SYNs too) or off                             [default: accept]
  --recovery NAME    TCP loss recovery with SACK: rack (RFC 8985, losses marked by
                     time) or rfc6675 (DupThresh SACKed segments)     [default: rack]
  --max-connections N  TCP connections held at once, over all workers; beyond it a new
                     client gets RST (counted: drop_tcp_conn_limit)   [default: 262144]
  --max-time-wait N  TIME_WAIT records over all workers (compact: ~100 B each); when
                     full the oldest ends early (drop_tcp_time_wait_limit) [default: 131072]
  --max-ipv6-peers N IPv6 addresses (peers and ours) each worker's TCP and UDP refer to
                     at once (28 B each, allocated at start); a packet needing one more
                     is dropped (drop_ipv6_interner_full) (16..1048576) [default: 16384]
  --trace-slots N    connections per worker whose last 64 events are kept (2 KiB each,
                     stackctl trace); beyond it a new one is not traced
                     (tcp_trace_untraced); 0: no trace (0..1048576)    [default: 1024]
  --busy-poll USEC   after a frame, the I/O thread and a worker poll for the next one
                     this long instead of sleeping (as Linux's busy_poll): lower latency
                     for sparse traffic (here a ping's p50 fell from ~140 to ~40 µs),
                     a CPU each kept busy meanwhile and less throughput on few CPUs
                     (0..${MAX_BUSY_POLL_US})                                         [default: 0]
  --offload          IFF_VNET_HDR with TUN_F_CSUM|TUN_F_TSO4: the kernel segments our
                     64 KiB TCP super-segments and hands us GRO'd ones     [default]
  --no-offload       plain frames: no virtio-net header, no checksum/TSO/GRO offload
                     (of --offload and --no-offload, the last one given wins)
  --batch-helpers    every thread but the data plane's (the main thread, V8's compiler
                     and GC helpers, the libuv and offload pools) runs as SCHED_BATCH,
                     so none preempts the I/O thread or a worker when it wakes  [default]
  --no-batch-helpers every thread stays in the scheduling class stackd started in
  --cpu-affinity MODE workers: when the CPUs stackd may use (taskset, cpuset) outnumber
                     its worker threads, bind worker thread t to the t-th of them, and
                     keep the I/O thread off the CPU of one sending a download; all:
                     bind the I/O thread too, to the last; off: bind none
                                                                  [default: workers]
  --log-level LEVEL  fatal|error|warn|info|debug|trace|silent         [default: info]
  --pcap FILE        capture every frame received and sent, as on the wire, to FILE
                     (pcap for tcpdump/tshark); at run time: POST /pcap/start
  --pcap-snaplen N   bytes kept of each captured frame (64..262144)  [default: 262144]
  --pcap-max-mb M    rotate past M MB (10^6 bytes) into FILE.1, FILE.2, ...
                                                                     [default: never]
  --pcap-max-files N rotating, keep the last N files and delete older ones
                     (1..100000)                                      [default: 10]
  --fault SPEC       break frames on purpose, reproducibly, e.g.
                     drop=5%,corrupt=1%,duplicate=1%,reorder=2%,delay=20ms,rate=10000pps,seed=7
                     (each optional; rx.KEY or tx.KEY for one direction only)
  --app-threads N    threads of the pool that runs applications' api.offload tasks,
                     started on the first task (1..64)                [default: 1]
  --app-queue N      offload tasks that may wait for a thread; beyond that
                     api.offload refuses at once (0..100000)          [default: 256]
  -h, --help         show this help
  -V, --version      print the version

Control API (HTTP on --control): GET /health, /stats, /metrics, /latency, /connections,
/connections/<id>/trace, /traces, /ipv6; POST /latency/reset, /pcap/start, /pcap/stop,
/ipv6/addresses. stackctl talks to it.
Example: stackd --workers 4 --tap tap0 --ip6 fd00:10:10::4/64
`;

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The whole number given to --name (def when absent), within min..max; else a UsageError naming the flag. */
export function intFlag(name: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name}: expected a whole number, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name}: ${n} is out of range (${min}..${max})`);
  return n;
}

/**
 * The options parseStackdArgs accepts (node:util parseArgs configuration). HELP lists
 * every one of them; test/integration/cli.test.ts checks that the two agree.
 */
export const STACKD_OPTIONS = {
  workers: { type: 'string' },
  threads: { type: 'string' },
  tap: { type: 'string' },
  ip: { type: 'string' },
  gateway: { type: 'string' },
  route: { type: 'string', multiple: true },
  ip6: { type: 'string', multiple: true },
  gateway6: { type: 'string' },
  mac: { type: 'string' },
  mtu: { type: 'string' },
  control: { type: 'string' },
  services: { type: 'string' },
  app: { type: 'string', multiple: true },
  cc: { type: 'string' },
  ecn: { type: 'string' },
  recovery: { type: 'string' },
  'max-connections': { type: 'string' },
  'max-time-wait': { type: 'string' },
  'max-ipv6-peers': { type: 'string' },
  'trace-slots': { type: 'string' },
  'busy-poll': { type: 'string' },
  'no-offload': { type: 'boolean' },
  offload: { type: 'boolean' },
  'no-batch-helpers': { type: 'boolean' },
  'batch-helpers': { type: 'boolean' },
  'cpu-affinity': { type: 'string' },
  'log-level': { type: 'string' },
  pcap: { type: 'string' },
  'pcap-snaplen': { type: 'string' },
  'pcap-max-mb': { type: 'string' },
  'pcap-max-files': { type: 'string' },
  fault: { type: 'string' },
  'app-threads': { type: 'string' },
  'app-queue': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** parseArgs' own errors as one line that starts with the flag, like ours (`prog` names the command). */
export function parseArgsUsageError(e: Error & { code?: string }, prog = 'stackd'): UsageError {
  const first = e.message.split('\n')[0];
  const names = [...first.matchAll(/(?<=^|[\s'"])--?[A-Za-z][\w-]*/g)].map((m) => m[0]);
  const flag = names.find((n) => n.startsWith('--')) ?? names.at(0) ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`${flag}: unknown option (${prog} --help lists them)`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(first)) return new UsageError(`${flag}: takes no value`);
      if (/ambiguous/.test(first)) return new UsageError(`${flag}: its value starts with '-' (write ${flag}=VALUE)`);
      return new UsageError(`${flag}: needs a value`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const arg = /'([^']*)'/.exec(first)?.[1] ?? '';
      return new UsageError(`'${arg}': unexpected argument (${prog} takes only --options)`);
    }
    default:
      return new UsageError(first);
  }
}

/** A stable locally administered unicast MAC derived from the TAP name and address. */
export function defaultMac(tap: string, ip: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${tap}/${ip}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  // 0x02 in the first octet: locally administered, unicast.
  return 0x02_00_00_00_00_00 + 0x5d * 2 ** 32 + h;
}

/** `--route DEST/PREFIX via GW` as three words becomes one value, as if quoted. */
function joinRouteWords(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--route' && argv[i + 2] === 'via' && i + 3 < argv.length) {
      out.push('--route', `${argv[i + 1]} via ${argv[i + 3]}`);
      i += 3;
    } else {
      out.push(argv[i]);
    }
  }
  return out;
}

/** One --route value: DEST/PREFIX via GW, DEST its network's address, GW on our subnet. */
function parseRoute(v: string, ip: number, prefixLength: number): StaticRoute {
  const m = /^\s*([^/\s]+)\/(\d{1,2})\s+via\s+(\S+)\s*$/.exec(v);
  const dest = m ? parseIpv4(m[1]) : NaN;
  const gateway = m ? parseIpv4(m[3]) : NaN;
  const len = m ? Number(m[2]) : NaN;
  if (!m || Number.isNaN(dest) || Number.isNaN(gateway) || len > 32) {
    throw new UsageError(`--route: '${v}' is not DEST/PREFIX via GATEWAY (like 10.20.0.0/24 via 10.10.0.254)`);
  }
  if (((dest & prefixMask(len)) >>> 0) !== dest) {
    throw new UsageError(`--route: ${m[1]}/${len} has host bits set (the network is ${formatIpv4((dest & prefixMask(len)) >>> 0)}/${len})`);
  }
  if (!ipv4InSubnet(gateway, ip, prefixLength) || gateway === ip) {
    throw new UsageError(`--route: gateway ${m[3]} is not a neighbour on our subnet ${formatIpv4((ip & prefixMask(prefixLength)) >>> 0)}/${prefixLength}`);
  }
  return { dest, prefixLength: len, gateway };
}

/** --ip6 ADDR/PREFIX (repeatable, prefix 1..128, default 64) and --gateway6 ADDR. */
export function parseIpv6Flags(ip6: string[], gateway6: string | undefined): Ipv6Settings {
  const addresses: Ipv6Settings['addresses'] = [];
  for (const arg of ip6) {
    const a = parseIpv6Assignment(arg);
    if (typeof a === 'string') throw new UsageError(`--ip6: ${a}`);
    if (addresses.some((b) => formatIpv6(b.address) === formatIpv6(a.address))) throw new UsageError(`--ip6: ${formatIpv6(a.address)} is given twice`);
    addresses.push(a);
  }
  if (gateway6 === undefined) return { addresses, gateway: null };
  const gateway = parseIpv6(gateway6);
  if (gateway === null || ipv6IsMulticast(gateway) || ipv6IsUnspecified(gateway)) throw new UsageError(`--gateway6: '${gateway6}' is not a unicast IPv6 address`);
  if (!ipv6IsLinkLocal(gateway) && !addresses.some((a) => ipv6InPrefix(gateway, a.address, a.prefixLength))) {
    throw new UsageError(`--gateway6: ${formatIpv6(gateway)} is neither link-local nor inside an --ip6 prefix`);
  }
  return { addresses, gateway };
}

/** Parses argv (without node and script). Throws UsageError with one line on a bad value. */
export function parseStackdArgs(argv: string[]): StackdOptions {
  let values;
  let tokens;
  try {
    ({ values, tokens } = parseArgs({ args: joinRouteWords(argv), strict: true, allowPositionals: false, tokens: true, options: STACKD_OPTIONS }));
  } catch (e) {
    throw parseArgsUsageError(e as Error & { code?: string });
  }
  const workers = intFlag('workers', values.workers, 4, 1, 64);
  const threads = values.threads === undefined ? 0 : intFlag('threads', values.threads, 1, 1, workers);
  const tap = values.tap ?? 'tap0';
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(tap)) throw new UsageError(`--tap: '${tap}' is not a valid interface name (1..15 of A-Z a-z 0-9 _ . -)`);
  const ipArg = values.ip ?? '10.10.0.4/24';
  const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(ipArg);
  const ip = m ? parseIpv4(m[1]) : NaN;
  const prefixLength = m?.[2] !== undefined ? Number(m[2]) : 24;
  if (!m || Number.isNaN(ip)) throw new UsageError(`--ip: '${ipArg}' is not an IPv4 address with an optional /prefix`);
  if (prefixLength < 1 || prefixLength > 30) throw new UsageError(`--ip: prefix /${prefixLength} is out of range (1..30)`);
  let gateway = 0;
  if (values.gateway !== undefined) {
    gateway = parseIpv4(values.gateway);
    if (Number.isNaN(gateway)) throw new UsageError(`--gateway: '${values.gateway}' is not an IPv4 address`);
  }
  const routes = (values.route ?? []).map((r) => parseRoute(r, ip, prefixLength));
  if (routes.length > MAX_STATIC_ROUTES) throw new UsageError(`--route: ${routes.length} routes, at most ${MAX_STATIC_ROUTES}`);
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i];
    if (r.prefixLength === 0 && gateway !== 0) throw new UsageError('--route: 0.0.0.0/0 and --gateway both give the default route (give one)');
    if (routes.findIndex((o) => o.dest === r.dest && o.prefixLength === r.prefixLength) !== i) {
      throw new UsageError(`--route: ${formatIpv4(r.dest)}/${r.prefixLength} given twice`);
    }
  }
  const ipv6 = parseIpv6Flags(values.ip6 ?? [], values.gateway6);
  let mac = defaultMac(tap, ip);
  if (values.mac !== undefined) {
    mac = parseMac(values.mac);
    if (Number.isNaN(mac)) throw new UsageError(`--mac: '${values.mac}' is not a MAC address (like 02:00:00:00:00:04)`);
    if (Math.floor(mac / 2 ** 40) & 1) throw new UsageError(`--mac: ${formatMac(mac)} is a multicast address`);
    if (mac === 0) throw new UsageError(`--mac: ${formatMac(mac)} is not a usable address`);
  }
  const mtu = intFlag('mtu', values.mtu, 1500, 576, 9000);
  if (ipv6.addresses.length > 0 && mtu < 1280) throw new UsageError(`--ip6: IPv6 needs an MTU of 1280 or more (RFC 8200 5), --mtu is ${mtu}`);
  const control = values.control ?? `/run/stackd/${tap}.sock`;
  if (!control.includes('/') && !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(control)) {
    throw new UsageError(`--control: '${control}' is neither a socket path (with a '/') nor host:port`);
  }
  const logLevel = values['log-level'] ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new UsageError(`--log-level: '${logLevel}' is not one of ${LOG_LEVELS.join('|')}`);
  const servicesArg = values.services ?? KNOWN_SERVICES.join(',');
  const services = servicesArg === 'none' ? [] : servicesArg.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (servicesArg !== 'none' && services.length === 0) throw new UsageError(`--services: empty list (use 'none' for no services)`);
  for (const s of services) {
    if (!(KNOWN_SERVICES as readonly string[]).includes(s)) throw new UsageError(`--services: unknown service '${s}' (known: ${KNOWN_SERVICES.join(', ')})`);
  }
  const cc = values.cc ?? 'newreno';
  if (cc !== 'newreno' && cc !== 'cubic' && cc !== 'bbr') throw new UsageError(`--cc: '${cc}' is not one of newreno|cubic|bbr`);
  const ecn = values.ecn ?? DEFAULT_TCP_CONFIG.ecn;
  if (ecn !== 'accept' && ecn !== 'on' && ecn !== 'off') throw new UsageError(`--ecn: '${ecn}' is not one of accept|on|off`);
  const recovery = values.recovery ?? DEFAULT_TCP_CONFIG.recovery;
  if (recovery !== 'rack' && recovery !== 'rfc6675') throw new UsageError(`--recovery: '${recovery}' is not one of rack|rfc6675`);
  const maxConnections = intFlag('max-connections', values['max-connections'], 262_144, 16, 16_777_216);
  const maxTimeWait = intFlag('max-time-wait', values['max-time-wait'], 131_072, 0, 16_777_216);
  const maxIpv6Peers = intFlag('max-ipv6-peers', values['max-ipv6-peers'], DEFAULT_IPV6_INTERNED, 16, 1 << 20);
  const traceSlots = intFlag('trace-slots', values['trace-slots'], DEFAULT_TCP_CONFIG.traceSlots, 0, 1 << 20);
  const busyPollUs = intFlag('busy-poll', values['busy-poll'], 0, 0, MAX_BUSY_POLL_US);
  const apps = (values.app ?? []).map((a) => resolve(a));
  for (const a of apps) if (!isFile(a)) throw new UsageError(`--app: no such file '${a}'`);
  // Of --X and --no-X the last one wins (parseArgs on Node 20 has no allowNegative).
  const lastOf = (name: string, byDefault: boolean): boolean => {
    let on = byDefault;
    for (const t of tokens) if (t.kind === 'option' && (t.name === name || t.name === `no-${name}`)) on = t.name === name;
    return on;
  };
  const offload = lastOf('offload', true);
  const batchHelpers = lastOf('batch-helpers', true);
  const cpuAffinity = values['cpu-affinity'] ?? 'workers';
  if (cpuAffinity !== 'workers' && cpuAffinity !== 'all' && cpuAffinity !== 'off') throw new UsageError(`--cpu-affinity: '${cpuAffinity}' is not one of workers|all|off`);
  let pcap: StackdOptions['pcap'] = null;
  if (values.pcap !== undefined) {
    if (values.pcap === '') throw new UsageError('--pcap: needs a file name');
    pcap = {
      file: resolve(values.pcap),
      snaplen: intFlag('pcap-snaplen', values['pcap-snaplen'], CAPTURE_DEFAULT_SNAPLEN, CAPTURE_MIN_SNAPLEN, CAPTURE_MAX_SNAPLEN),
      maxMb: values['pcap-max-mb'] === undefined ? null : intFlag('pcap-max-mb', values['pcap-max-mb'], 0, 1, CAPTURE_MAX_MB),
    };
    if (values['pcap-max-files'] !== undefined) {
      if (pcap.maxMb === null) throw new UsageError('--pcap-max-files: only with --pcap-max-mb (files rotate by size)');
      pcap.maxFiles = intFlag('pcap-max-files', values['pcap-max-files'], CAPTURE_DEFAULT_MAX_FILES, 1, CAPTURE_MAX_FILES);
    }
  } else {
    for (const f of ['pcap-snaplen', 'pcap-max-mb', 'pcap-max-files'] as const) {
      if (values[f] !== undefined) throw new UsageError(`--${f}: only with --pcap FILE (at run time: stackctl pcap start)`);
    }
  }
  let fault: FaultConfig | null = null;
  if (values.fault !== undefined) {
    try {
      fault = parseFaultSpec(values.fault);
    } catch (e) {
      throw new UsageError(`--fault: ${(e as Error).message}`);
    }
  }
  return {
    workers, threads, tap, ip, prefixLength, gateway, routes, ipv6, mac, mtu, control, logLevel, services, apps, congestionControl: cc, ecn, recovery,
    maxConnections, maxTimeWait, maxIpv6Peers, traceSlots, busyPollUs,
    vnetHdr: offload,
    batchHelpers,
    cpuAffinity,
    pcap,
    fault,
    appPool: {
      threads: intFlag('app-threads', values['app-threads'], 1, 1, 64),
      maxQueue: intFlag('app-queue', values['app-queue'], 256, 0, 100_000),
    },
    help: values.help ?? false,
    version: values.version ?? false,
  };
}
