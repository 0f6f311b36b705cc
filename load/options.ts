/**
 * The command line of stackd-load (node:util parseArgs): the caps, the mix, the sizes,
 * where to run. Every bad value is one line naming the flag (exit 2). Durations take
 * ms/s/m suffixes (a bare number is seconds); sizes take K/M/G (binary, as curl and dd:
 * 1M = 1048576; a bare number is bytes).
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { intFlag as int, parseArgsUsageError, UsageError } from '../src/cli/args.js';
import type { LoadMode } from './batch-worker.js';
import { MixError, parseMix, type MixEntry } from './mix.js';

export { UsageError };

/** Parsed options. */
export interface LoadOptions {
  target: string;
  httpPort: number;
  echoPort: number;
  clients: number;
  total: number;
  durationMs: number;
  timeoutMs: number;
  mix: MixEntry[];
  bytes: number;
  postBytes: number;
  echoBytes: number;
  netns: string | null;
  mode: LoadMode;
  threads: number;
  batch: number;
  /** stackd's control socket for /stats deltas (null: none). */
  control: string | null;
  json: boolean;
  help: boolean;
}

/** Upper bounds of the caps (a run is always bounded). */
export const LIMITS = {
  clients: 4096,
  total: 10_000_000,
  durationMs: 3_600_000,
  timeoutMs: 600_000,
  bytes: 2 ** 40,
  postBytes: 1 << 30,
  echoBytes: 1 << 30,
  threads: 64,
  batch: 256,
} as const;

/** Defaults (the docs quote them). */
export const DEFAULTS = {
  target: '10.10.0.4',
  clients: 20,
  total: 1000,
  duration: '30s',
  timeout: '10s',
  mix: 'nc-echo:40,curl-bytes:40,curl-post:20',
  bytes: '1M',
  postBytes: '64K',
  echoBytes: '16K',
  batch: 8,
} as const;

export const HELP = `stackd-load: many concurrent clients against stackd, every byte checked

Usage: stackd-load [options]        (npm run load -- [options])

Caps (the run stops at the first one reached; clients alive finish):
  --clients N        clients alive at once (1..${LIMITS.clients})               [default: ${DEFAULTS.clients}]
  --total N          clients started in all (1..${LIMITS.total})          [default: ${DEFAULTS.total}]
  --duration T       start no client after T (e.g. 30s, 500ms, 2m; ..1h)  [default: ${DEFAULTS.duration}]
  --timeout T        a client still running after T fails as 'timeout' [default: ${DEFAULTS.timeout}]
What clients do:
  --mix LIST         kind:weight,... of nc-echo (nc -N to the echo port, echo compared),
                     curl-bytes (curl GET /bytes/N, sha256 compared with the pattern's),
                     curl-post (curl POST /sink, the answer's bytes and sha256 compared)
                                       [default: ${DEFAULTS.mix}]
  --bytes N          N of GET /bytes/N (K, M, G suffixes: 1M = 1048576)  [default: ${DEFAULTS.bytes}]
  --post-bytes N     body of POST /sink                                [default: ${DEFAULTS.postBytes}]
  --echo-bytes N     bytes sent through the echo service               [default: ${DEFAULTS.echoBytes}]
Where:
  --target ADDR      stackd's IPv4 address                             [default: ${DEFAULTS.target}]
  --port-http P      the HTTP service's port                           [default: 80]
  --port-echo P      the TCP echo service's port                       [default: 7]
  --netns NAME       run inside network namespace NAME (the tool runs itself again
                     under ip netns exec NAME; needs root)
How:
  --mode M           process: real nc and curl processes; socket: Node sockets in the
                     pool threads, for rates spawning cannot reach      [default: process]
  --threads N        pool threads running client batches (1..${LIMITS.threads})  [default: min(2, CPUs)]
  --batch N          clients per pool task (1..${LIMITS.batch})                  [default: ${DEFAULTS.batch}]
  --control PATH     stackd's control socket: report its /stats counters over the run
                     [default: $STACKD_CONTROL if set, else none]
  --json             print the report as JSON
  -h, --help         show this help

Exit: 0 every client succeeded, 1 some failed (or none ran), 2 bad command line.
Example: stackd-load --netns stackd-c1 --target 10.10.0.4 --clients 50 --total 500 --duration 30s
`;

const OPTIONS = {
  target: { type: 'string' },
  'port-http': { type: 'string' },
  'port-echo': { type: 'string' },
  clients: { type: 'string' },
  total: { type: 'string' },
  duration: { type: 'string' },
  timeout: { type: 'string' },
  mix: { type: 'string' },
  bytes: { type: 'string' },
  'post-bytes': { type: 'string' },
  'echo-bytes': { type: 'string' },
  netns: { type: 'string' },
  mode: { type: 'string' },
  threads: { type: 'string' },
  batch: { type: 'string' },
  control: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** "30s", "500ms", "2m", "1h", "10" (seconds) → milliseconds. */
export function parseDuration(flag: string, v: string, max: number): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v);
  if (!m) throw new UsageError(`--${flag}: '${v}' is not a duration (like 30s, 500ms, 2m)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] || 's') as 'ms' | 's' | 'm' | 'h']; // undefined when absent
  const ms = Math.round(Number(m[1]) * unit);
  if (ms < 1 || ms > max) throw new UsageError(`--${flag}: ${v} is out of range (1ms..${max / 1000}s)`);
  return ms;
}

/** "1M" → 1048576, "64K", "2G", "1500" (bytes). */
export function parseSize(flag: string, v: string, min: number, max: number): number {
  const m = /^(\d+)([KMG])?(?:i?B)?$/i.exec(v);
  if (!m) throw new UsageError(`--${flag}: '${v}' is not a size (like 1500, 64K, 1M)`);
  const n = Number(m[1]) * { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(m[2] || '').toUpperCase() as '' | 'K' | 'M' | 'G']; // undefined when absent
  if (n < min || n > max) throw new UsageError(`--${flag}: ${v} is out of range (${min}..${max} bytes)`);
  return n;
}

/** Parses argv (without node and the script). Throws UsageError with one line. */
export function parseLoadArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): LoadOptions {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: OPTIONS }));
  } catch (e) {
    throw parseArgsUsageError(e as Error & { code?: string }, 'stackd-load');
  }
  const target = values.target ?? DEFAULTS.target;
  if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(target) || target.split('.').some((o) => Number(o) > 255)) {
    throw new UsageError(`--target: '${target}' is not an IPv4 address`);
  }
  let mix: MixEntry[];
  try {
    mix = parseMix(values.mix ?? DEFAULTS.mix);
  } catch (e) {
    if (e instanceof MixError) throw new UsageError(`--mix: ${e.message}`);
    throw e;
  }
  const mode = values.mode ?? 'process';
  if (mode !== 'process' && mode !== 'socket') throw new UsageError(`--mode: '${mode}' is not one of process|socket`);
  const netns = values.netns ?? null;
  if (netns !== null && !/^[A-Za-z0-9_.-]{1,64}$/.test(netns)) throw new UsageError(`--netns: '${netns}' is not a namespace name`);
  const control = values.control ?? (env.STACKD_CONTROL !== undefined && env.STACKD_CONTROL !== '' ? env.STACKD_CONTROL : null);
  return {
    target,
    httpPort: int('port-http', values['port-http'], 80, 1, 65535),
    echoPort: int('port-echo', values['port-echo'], 7, 1, 65535),
    clients: int('clients', values.clients, DEFAULTS.clients, 1, LIMITS.clients),
    total: int('total', values.total, DEFAULTS.total, 1, LIMITS.total),
    durationMs: parseDuration('duration', values.duration ?? DEFAULTS.duration, LIMITS.durationMs),
    timeoutMs: parseDuration('timeout', values.timeout ?? DEFAULTS.timeout, LIMITS.timeoutMs),
    mix,
    bytes: parseSize('bytes', values.bytes ?? DEFAULTS.bytes, 0, LIMITS.bytes),
    postBytes: parseSize('post-bytes', values['post-bytes'] ?? DEFAULTS.postBytes, 0, LIMITS.postBytes),
    echoBytes: parseSize('echo-bytes', values['echo-bytes'] ?? DEFAULTS.echoBytes, 1, LIMITS.echoBytes),
    netns,
    mode,
    threads: int('threads', values.threads, Math.min(2, availableParallelism()), 1, LIMITS.threads),
    batch: int('batch', values.batch, DEFAULTS.batch, 1, LIMITS.batch),
    control,
    json: values.json ?? false,
    help: values.help ?? false,
  };
}

/** The argv for running the tool again inside the namespace: the same options without --netns. */
export function argvWithoutNetns(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--netns') {
      i++;
      continue;
    }
    if (a.startsWith('--netns=')) continue;
    out.push(a);
  }
  return out;
}
