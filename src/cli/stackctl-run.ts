/**
 * `stackctl`: the command line of a running stackd's control API (src/cli/stackctl.ts is
 * the executable). Parses the command with node:util parseArgs (decision 0005), makes
 * the requests (control/control-client.ts) and prints text (cli/stackctl-format.ts) or,
 * with --json, the API's JSON.
 *
 * Exit codes: 0 done; 1 the request failed (no stackd at the socket: one line saying
 * so; an error answer: its message) or `health` found a thread down; 2 a bad command
 * line (one line naming what is wrong).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { controlRequest, parseListen } from '../control/control-client.js';
import { latencyChartSvg } from '../control/latency-svg.js';
import { formatLatencyTable } from '../control/latency-table.js';
import type { ArchivedTraceInfo, CaptureStatus, ConnectionInfo, ConnectionTraceInfo, LatencyReport, StatsSnapshot } from '../control/types.js';
import { STATE_NAMES } from '../tcp/connection.js';
import { formatTable } from '../util/text-table.js';
import { UsageError, parseArgsUsageError } from './args.js';
import {
  WATCH_HEADER, formatArchivedTraces, formatCaptureChange, formatConnections, formatHealth, formatRatesByReason, formatStats, formatTop, formatTrace, rates, watchRow,
  type HealthReport,
} from './stackctl-format.js';

/** The --help text. */
export const STACKCTL_HELP = `stackctl: look into and steer a running stackd through its control API

Usage: stackctl [options] COMMAND

Commands:
  health                         are the I/O thread and every worker up (exit 1 if not)
  stats                          counters: identity, per thread, drops, capture, faults,
                                 the api.offload pool
  stats --watch                  rates every second: frames/s, Mbit/s, conn/s, drops/s
  top                            the same rates as a full-screen view, per thread too,
                                 with each thread's busy % (time not parked) and each
                                 worker's loop % (its thread's event loop, applications
                                 included: a download's sends run there)
  conns [--state S] [--port P]   TCP connections, like ss -tni (with each one's id and
                                 congestion control; for BBR bw, mrtt and state)
  trace ID                       the last 64 events of connection ID (from conns: segments,
                                 state changes, RTOs, recovery, cwnd); also a closed one
                                 that had an RTO or a reset (the last 32 per worker)
  trace                          those archived traces: closed connections with an RTO
                                 or a reset, newest first
  latency [--svg FILE]           per-thread, per-stage latency (µs); --svg also writes
                                 it as a chart (p50..p99.9 per stage, log scale)
  pcap start FILE [--snaplen N] [--max-mb M [--max-files K]]
                                 start capturing to FILE (pcap)
  pcap stop                      stop capturing

Options:
  --control ADDR     stackd's control socket path or host:port
                     [default: $STACKD_CONTROL, else /run/stackd/<tap>.sock]
  --tap NAME         the TAP stackd runs on, for the default socket  [default: tap0]
  --json             print the API's JSON instead of text (--watch: one line per interval;
                     trace: the events with absolute sequence numbers and the ISNs)
  --watch            stats: keep printing rates (until Ctrl-C or --count)
  --interval S       seconds between --watch / top refreshes (0.1..3600)  [default: 1]
  --count N          stop after N refreshes (--watch, top)
  --state S          conns: only this state (e.g. established, time-wait)
  --port P           conns: only connections with this local or remote port
  --snaplen N        pcap start: bytes kept of each frame                 [default: 262144]
  --max-mb M         pcap start: rotate past M MB into FILE.1, FILE.2, ...
  --max-files K      pcap start --max-mb: keep the last K files, deleting the oldest
                     (1..100000)                                         [default: 10]
  --svg FILE         latency: also write the chart to FILE (SVG, for a browser)
  -h, --help         show this help
`;

/** The options stackctl accepts (node:util parseArgs); STACKCTL_HELP lists each. */
export const STACKCTL_OPTIONS = {
  control: { type: 'string' },
  tap: { type: 'string' },
  json: { type: 'boolean' },
  watch: { type: 'boolean' },
  interval: { type: 'string' },
  count: { type: 'string' },
  state: { type: 'string' },
  port: { type: 'string' },
  snaplen: { type: 'string' },
  'max-mb': { type: 'string' },
  'max-files': { type: 'string' },
  svg: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Which commands take each command-specific option. */
const OPTION_COMMANDS: Record<string, readonly string[]> = {
  watch: ['stats'],
  interval: ['stats', 'top'],
  count: ['stats', 'top'],
  state: ['conns'],
  port: ['conns'],
  snaplen: ['pcap'],
  'max-mb': ['pcap'],
  'max-files': ['pcap'],
  svg: ['latency'],
};

/** Where stackctl writes, its environment, and how it waits (replaceable in tests). */
export interface StackctlIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** Resolves after `ms`, or early (false) when the user interrupts. */
  sleep(ms: number): Promise<boolean>;
  /** The directory relative capture paths resolve against. */
  cwd: string;
}

/** A parsed command line. */
export interface StackctlCommand {
  command: 'health' | 'stats' | 'top' | 'conns' | 'trace' | 'latency' | 'pcap-start' | 'pcap-stop' | 'help';
  control: string;
  json: boolean;
  watch: boolean;
  intervalMs: number;
  /** Refreshes before stopping (Infinity: until interrupted). */
  count: number;
  state: string | null;
  port: number | null;
  /** pcap start: the request body. */
  capture: { file: string; snaplen?: number; maxMb?: number; maxFiles?: number } | null;
  /** latency --svg: the chart's absolute path. */
  svg: string | null;
  /** trace: the connection id (`<worker>.<serial>`). */
  traceId: string | null;
}

function whole(flag: string, v: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${flag}: expected a whole number ${min}..${max}, got '${v}'`);
  return Number(v);
}

/** Parses argv (without node and script); throws UsageError with one line. */
export function parseStackctlArgs(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = '/'): StackctlCommand {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: STACKCTL_OPTIONS }));
  } catch (e) {
    throw parseArgsUsageError(e as Error & { code?: string }, 'stackctl');
  }
  const base = {
    json: values.json ?? false, watch: values.watch ?? false, intervalMs: 1000, count: Infinity,
    state: null, port: null, capture: null, svg: null, traceId: null,
  };
  if (values.help) return { ...base, command: 'help', control: '' };
  const cmd = positionals.at(0);
  const args = positionals.slice(1);
  if (cmd === undefined) throw new UsageError('no command (stackctl --help lists them)');
  let command: StackctlCommand['command'];
  let want = 0;
  if (cmd === 'pcap') {
    const sub = args.at(0);
    if (sub === 'start') {
      command = 'pcap-start';
      want = 2;
      if (args.at(1) === undefined) throw new UsageError('pcap start: which file? (stackctl pcap start FILE)');
    } else if (sub === 'stop') {
      command = 'pcap-stop';
      want = 1;
    } else {
      throw new UsageError(sub === undefined ? "pcap: expected 'start FILE' or 'stop'" : `pcap: unknown subcommand '${sub}' (start FILE, stop)`);
    }
  } else if (cmd === 'trace') {
    command = 'trace';
    want = 1;
    const id = args.at(0);
    if (id !== undefined && !/^\d{1,4}\.\d{1,15}$/.test(id)) throw new UsageError(`trace: '${id}' is not a connection id (<worker>.<serial>, e.g. 0.12, as stackctl conns shows)`);
  } else if (['health', 'stats', 'top', 'conns', 'latency'].includes(cmd)) {
    command = cmd as StackctlCommand['command'];
  } else {
    throw new UsageError(`'${cmd}': unknown command (health, stats, top, conns, trace, latency, pcap; stackctl --help)`);
  }
  if (args.length > want) throw new UsageError(`'${args[want]}': unexpected argument to ${cmd}`);
  for (const [opt, cmds] of Object.entries(OPTION_COMMANDS)) {
    if ((values as Record<string, unknown>)[opt] !== undefined && !cmds.includes(cmd)) {
      throw new UsageError(`--${opt}: only with ${cmds.join(' or ')}`);
    }
  }
  if ((values.interval !== undefined || values.count !== undefined) && cmd === 'stats' && !values.watch) {
    throw new UsageError(`--${values.interval !== undefined ? 'interval' : 'count'}: only with stats --watch or top`);
  }
  const tap = values.tap ?? 'tap0';
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(tap)) throw new UsageError(`--tap: '${tap}' is not a valid interface name`);
  const control = values.control ?? env.STACKD_CONTROL ?? `/run/stackd/${tap}.sock`;
  try {
    parseListen(control);
  } catch (e) {
    throw new UsageError(`--control: ${(e as Error).message}`);
  }
  let intervalMs = 1000;
  if (values.interval !== undefined) {
    const s = Number(values.interval);
    if (!/^\d+(\.\d+)?$/.test(values.interval) || s < 0.1 || s > 3600) throw new UsageError(`--interval: expected seconds 0.1..3600, got '${values.interval}'`);
    intervalMs = s * 1000;
  }
  let state: string | null = null;
  if (values.state !== undefined) {
    state = values.state.toUpperCase().replace(/-/g, '_');
    if (!(STATE_NAMES as readonly string[]).includes(state)) {
      throw new UsageError(`--state: '${values.state}' is not a TCP state (${STATE_NAMES.map((s) => s.toLowerCase().replace(/_/g, '-')).join(', ')})`);
    }
  }
  let capture: StackctlCommand['capture'] = null;
  if (command === 'pcap-start') {
    capture = { file: resolve(cwd, args[1]) };
    if (values.snaplen !== undefined) capture.snaplen = whole('snaplen', values.snaplen, 64, 262144);
    if (values['max-mb'] !== undefined) capture.maxMb = whole('max-mb', values['max-mb'], 1, 1_000_000);
    if (values['max-files'] !== undefined) {
      if (capture.maxMb === undefined) throw new UsageError('--max-files: only with --max-mb (files rotate by size)');
      capture.maxFiles = whole('max-files', values['max-files'], 1, 100_000);
    }
  } else {
    for (const f of ['snaplen', 'max-mb', 'max-files'] as const) if (values[f] !== undefined) throw new UsageError(`--${f}: only with pcap start`);
  }
  return {
    ...base,
    command,
    control,
    intervalMs,
    count: values.count === undefined ? Infinity : whole('count', values.count, 1, 1_000_000),
    state,
    port: values.port === undefined ? null : whole('port', values.port, 1, 65535),
    capture,
    svg: values.svg === undefined ? null : svgPath(values.svg, cwd),
    traceId: command === 'trace' ? (args.at(0) ?? null) : null,
  };
}

/** latency --svg FILE, resolved against `cwd`. */
function svgPath(file: string, cwd: string): string {
  if (file === '') throw new UsageError('--svg: which file? (stackctl latency --svg FILE)');
  return resolve(cwd, file);
}

/** A failed request: the one line to print. */
class RequestError extends Error {}

/** What each path of the control API answers (src/control/control-server.ts). */
interface Answers {
  [trace: `/connections/${string}/trace`]: ConnectionTraceInfo;
  '/health': HealthReport;
  '/stats': StatsSnapshot;
  '/connections': ConnectionInfo[];
  '/traces': ArchivedTraceInfo[];
  '/latency': LatencyReport;
  '/pcap/start': CaptureStatus;
  '/pcap/stop': CaptureStatus;
}

/** GET or POST `path`, parsed JSON; throws RequestError with the server's message for a 4xx/5xx (except 503 on /health). */
async function call<P extends keyof Answers>(
  c: StackctlCommand, path: P, method = 'GET', body?: unknown,
): Promise<{ status: number; value: Answers[P] }> {
  let r;
  try {
    r = await controlRequest(c.control, path, method, 5000, body === undefined ? undefined : JSON.stringify(body));
  } catch (e) {
    throw new RequestError((e as Error).message);
  }
  let value: unknown;
  try {
    value = JSON.parse(r.body);
  } catch {
    throw new RequestError(`${path}: the answer (HTTP ${r.status}) is not JSON`);
  }
  if (r.status >= 400 && !(path === '/health' && r.status === 503)) {
    const msg = (value as { error?: unknown }).error;
    throw new RequestError(`${path}: ${typeof msg === 'string' ? msg : `HTTP ${r.status}`}`);
  }
  return { status: r.status, value: value as Answers[P] };
}

const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

/** Local time as HH:MM:SS. */
function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}

/** `stats --watch` and `top`: a snapshot, then one refresh per interval. */
async function watch(c: StackctlCommand, io: StackctlIo): Promise<number> {
  let prev = (await call(c, '/stats')).value;
  let prevAt = Date.now();
  let header = true;
  for (let i = 0; i < c.count; i++) {
    if (!(await io.sleep(c.intervalMs))) break;
    const cur = (await call(c, '/stats')).value;
    const now = Date.now();
    const r = rates(prev, cur, (now - prevAt) / 1000);
    const time = clock();
    if (c.json) {
      io.out(JSON.stringify({ time, ...r }) + '\n');
    } else if (c.command === 'top') {
      io.out('\x1b[H\x1b[2J' + formatTop(cur, r, time));
    } else {
      const table = formatTable(WATCH_HEADER, [watchRow(time, r)], { rule: false }).split('\n');
      io.out((header ? table.join('\n') : table[1]) + '\n');
      const drops = formatRatesByReason(r.drops);
      if (drops !== 'none') io.out(`  drops: ${drops}\n`);
      if (cur.fault !== null && Object.keys(r.faults).length > 0) io.out(`  faults: ${formatRatesByReason(r.faults)}\n`);
      header = false;
    }
    prev = cur;
    prevAt = now;
  }
  return 0;
}

/** Runs one command line; returns the exit code. */
export async function runStackctl(argv: string[], io: StackctlIo): Promise<number> {
  let c: StackctlCommand;
  try {
    c = parseStackctlArgs(argv, io.env, io.cwd);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`stackctl: ${e.message}\n`);
    return 2;
  }
  try {
    switch (c.command) {
      case 'help':
        io.out(STACKCTL_HELP);
        return 0;
      case 'health': {
        const { value } = await call(c, '/health');
        io.out(c.json ? json(value) : formatHealth(value));
        return value.ok ? 0 : 1;
      }
      case 'stats':
      {
        if (c.watch) return await watch(c, io);
        const { value } = await call(c, '/stats');
        io.out(c.json ? json(value) : formatStats(value));
        return 0;
      }
      case 'top':
        return await watch(c, io);
      case 'conns': {
        const all = (await call(c, '/connections')).value;
        const port = (a: string): number => Number(a.slice(a.lastIndexOf(':') + 1));
        const shown = all.filter(
          (x) => (c.state === null || x.state === c.state) && (c.port === null || port(x.local) === c.port || port(x.remote) === c.port),
        );
        io.out(c.json ? json(shown) : formatConnections(shown));
        return 0;
      }
      case 'trace': {
        if (c.traceId === null) {
          const { value } = await call(c, '/traces');
          io.out(c.json ? json(value) : formatArchivedTraces(value));
          return 0;
        }
        const { value } = await call(c, `/connections/${c.traceId}/trace`);
        io.out(c.json ? json(value) : formatTrace(value));
        return 0;
      }
      case 'latency': {
        const { value } = await call(c, '/latency');
        io.out(c.json ? json(value) : formatLatencyTable(value));
        if (c.svg !== null) {
          try {
            writeFileSync(c.svg, latencyChartSvg(value, 'stackd per-stage latency', `${c.control}, ${new Date().toISOString()}`));
          } catch (e) {
            throw new RequestError(`--svg: cannot write ${c.svg}: ${(e as Error).message}`);
          }
          if (!c.json) io.out(`chart written to ${c.svg}\n`);
        }
        return 0;
      }
      case 'pcap-start':
      case 'pcap-stop': {
        const start = c.command === 'pcap-start';
        const { value } = await call(c, start ? '/pcap/start' : '/pcap/stop', 'POST', start ? c.capture : undefined);
        io.out(c.json ? json(value) : formatCaptureChange(value));
        return 0;
      }
    }
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    io.err(`stackctl: ${e.message}\n`);
    return 1;
  }
}
