/**
 * Shared plumbing for the lab benchmarks: bring a lab up, run stackd in it, run commands
 * in namespaces, clean up. Benchmarks print figures; they assert nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../src/control/control-client.js';
import type { StatsSnapshot } from '../src/control/types.js';
import { packageRoot } from '../src/phy/package-root.js';

/** A lab with stackd running in it. */
export interface BenchLab {
  lab: string;
  host: string;
  client: string;
  control: string;
  stackd: ChildProcess;
  close(): Promise<void>;
}

/** Runs `cmd args` in namespace `ns`, returning stdout (throws on failure). */
export function nsRun(ns: string, cmd: string, args: string[], timeoutMs = 120_000): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${ns} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Brings lab `lab` up and starts stackd with `args` in its host namespace. */
export async function startBenchLab(lab: string, args: string[]): Promise<BenchLab> {
  const root = packageRoot();
  const script = join(root, 'lab', 'lab.sh');
  const up = spawnSync('bash', [script, '--name', lab, '--quiet', 'up'], { encoding: 'utf8' });
  if (up.status !== 0) throw new Error(`lab up failed: ${up.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'stackd-bench-'));
  const control = join(dir, 'control.sock');
  const host = `${lab}-host`;
  const stackd = spawn('ip', ['netns', 'exec', host, process.execPath, ...(process.env.STACKD_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    join(root, 'dist/src/cli/stackd.js'), '--control', control, '--log-level', 'warn', ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (await controlRequest(control, '/health').then((r) => r.status === 200, () => false)) break;
    if (Date.now() > deadline || stackd.exitCode !== null) throw new Error('stackd did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    lab, host, client: `${lab}-c1`, control, stackd,
    async close() {
      if (stackd.exitCode === null) {
        const exited = new Promise((r) => stackd.once('exit', r));
        stackd.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      }
      spawnSync('bash', [script, '--name', lab, '--quiet', 'down']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Percentile p (0..100) of numbers (nearest rank). */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Median of numbers. */
export function median(values: number[]): number {
  return percentile(values, 50);
}

// ---------------------------------------------------------------------------------------
// Building blocks for benchmarks that compare stackd with the kernel in one run
// (perf/tcp-bench.ts, perf/udp-echo-rate.ts): one lab, stackd restarted per worker count,
// a kernel peer in <lab>-c2, asynchronous commands that a signal handler can still stop.
// ---------------------------------------------------------------------------------------

/** Processes started by runIn/startStackd/startKernelPeer that are still running (by pid). */
const liveChildren = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

/** Kills every child still running (its own process group, created by us), by pid. */
export function killLiveChildren(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const c of liveChildren) {
    if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) continue;
    try {
      process.kill(-c.pid, signal); // detached: the child leads a process group of its own
    } catch {
      try {
        c.kill(signal);
      } catch {
        /* already gone */
      }
    }
  }
}

/** `bash lab/lab.sh --name lab --quiet [--clients N] up`; throws with its stderr on failure. */
export function benchLabUp(lab: string, clients = 1): void {
  const script = join(packageRoot(), 'lab', 'lab.sh');
  const up = spawnSync('bash', [script, '--name', lab, '--quiet', '--clients', String(clients), 'up'], { encoding: 'utf8', timeout: 120_000 });
  if (up.status !== 0) throw new Error(`lab up failed: ${up.stderr}`);
}

/** `bash lab/lab.sh --name lab --quiet down` (kills what still runs in its namespaces). */
export function benchLabDown(lab: string): void {
  const script = join(packageRoot(), 'lab', 'lab.sh');
  spawnSync('bash', [script, '--name', lab, '--quiet', 'down'], { encoding: 'utf8', timeout: 120_000 });
}

/** Result of runIn. */
export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/**
 * Runs `cmd args` in namespace `ns` asynchronously (its own process group, killed with
 * the group after `timeoutMs`), so the event loop, and with it a signal handler, stays
 * live while a load runs.
 */
export function runIn(ns: string, cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = track(spawn('ip', ['netns', 'exec', ns, cmd, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    child.on('error', (e) => (stderr += e.message));
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: Number(process.hrtime.bigint() - t0) / 1e6, timedOut });
    });
  });
}

/**
 * Starts `cmd args` in namespace `ns` and returns the child at once (its own process
 * group; killed by pid on clean-up), stdout and stderr piped: for loads that run while
 * the benchmark does other things (hold connections, sample counters).
 */
export function spawnIn(ns: string, cmd: string, args: string[]): ChildProcess {
  return track(spawn('ip', ['netns', 'exec', ns, cmd, ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** Resolves with the first stdout line of `child` that `match` accepts, or null at exit or after `timeoutMs`. */
export function waitForLine(child: ChildProcess, match: (line: string) => boolean, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let buf = '';
    const finish = (v: string | null): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      resolve(v);
    };
    const onData = (d: Buffer | string): void => {
      buf += String(d);
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (match(line)) {
          finish(line);
          return;
        }
      }
    };
    const onExit = (): void => {
      finish(null);
    };
    const timer = setTimeout(onExit, timeoutMs);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Sends `signal` to the process group of `child` (spawned detached by us) and waits ≤ `ms` for its exit; SIGKILL after. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', ms = 5000): Promise<void> {
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  if (!running() || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  const kill = (sig: NodeJS.Signals): void => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {
      /* already gone */
    }
  };
  kill(signal);
  await Promise.race([exited, new Promise((r) => setTimeout(r, ms))]);
  if (running()) {
    kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
  }
}

/** stackd's GET /stats. */
export async function stackdStats(control: string): Promise<StatsSnapshot> {
  const r = await controlRequest(control, '/stats');
  if (r.status !== 200) throw new Error(`GET /stats answered ${r.status}`);
  return JSON.parse(r.body) as StatsSnapshot;
}

/** A field of /proc/<pid>/status in bytes (VmRSS: resident now; VmHWM: the peak resident), NaN if unreadable. */
function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Resident set size of process `pid` now, in bytes (all threads: one address space). */
export function rssBytes(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/** The highest resident set size of process `pid` since it started, in bytes (the kernel's VmHWM). */
export function peakRssBytes(pid: number): number {
  return statusBytes(pid, 'VmHWM');
}

/** Bytes as MiB with one decimal. */
export function mib(bytes: number): string {
  return Number.isFinite(bytes) ? (bytes / 2 ** 20).toFixed(1) : 'n/a';
}

/** A running stackd (the `ip netns exec` child execs node: its pid is stackd's). */
export interface StackdProcess {
  pid: number;
  control: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts stackd in `<lab>-host` with `args` and waits (≤ 20 s) for /health; `root`: the package whose dist/ runs (default: this one). */
export async function startStackd(lab: string, args: string[], root = packageRoot()): Promise<StackdProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'stackd-bench-'));
  const control = join(dir, 'control.sock');
  const child = track(spawn('ip', ['netns', 'exec', `${lab}-host`, process.execPath, ...(process.env.STACKD_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    join(root, 'dist/src/cli/stackd.js'), '--control', control, '--log-level', 'warn', ...args], { stdio: ['ignore', 'inherit', 'inherit'], detached: true }));
  const stop = async (): Promise<void> => {
    await stopChild(child, 'SIGTERM', 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (await controlRequest(control, '/health').then((r) => r.status === 200, () => false)) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error('stackd did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid ?? -1, control, child, stop };
}

/** A running kernel peer (perf/kernel-peer.ts) in some namespace. */
export interface KernelPeerProcess {
  pid: number;
  /** The congestion control of its connections (the kernel module's name). */
  congestionControl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The kernel's default congestion control in namespace `ns` (`net.ipv4.tcp_congestion_control`), or 'unknown'. */
export async function nsDefaultCongestionControl(ns: string): Promise<string> {
  const r = await runIn(ns, 'sysctl', ['-n', 'net.ipv4.tcp_congestion_control'], 5000);
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

/**
 * The arguments of `ip route change` that give route `line` (as `ip -o route show` prints it)
 * congestion control `name`, or none (`null`: the namespace's default applies again).
 */
export function routeWithCongestionControl(line: string, name: string | null): string[] {
  const words = line.trim().replace(/\s+congctl\s+(lock\s+)?\S+/, '').split(/\s+/);
  return name === null ? words : [...words, 'congctl', name];
}

/**
 * Makes the kernel's TCP in namespace `ns` use congestion control `name` ('system': the
 * namespace's default) for connections opened from now on, and returns what they use. The
 * default comes from the machine (this one's is bbr, Linux's built-in one is cubic), and a
 * namespace other than the first may only choose among `tcp_allowed_congestion_control`, so
 * the choice is made per route instead (`ip route change ... congctl NAME`, RTAX_CC_ALGO),
 * which the kernel applies to every connection over that route, passive opens included, with
 * any algorithm it has loaded (`tcp_available_congestion_control`); 'system' takes congctl
 * off the routes again. Only routes inside `ns` change.
 */
export async function setKernelCongestionControl(ns: string, name: string): Promise<string> {
  const choice = name === 'system' ? null : name;
  if (choice !== null) {
    if (!/^[a-z0-9_]{1,15}$/.test(choice)) throw new RangeError(`congestion control '${choice}': a kernel module name`);
    const avail = await runIn(ns, 'sysctl', ['-n', 'net.ipv4.tcp_available_congestion_control'], 5000);
    if (!avail.stdout.trim().split(/\s+/).includes(choice)) {
      throw new Error(`congestion control '${choice}' is not available to the kernel here (${avail.stdout.trim() || avail.stderr.trim()})`);
    }
  }
  for (const family of ['-4', '-6']) {
    const routes = await runIn(ns, 'ip', [family, '-o', 'route', 'show'], 5000);
    for (const line of routes.stdout.split('\n').map((l) => l.trim()).filter(Boolean)) {
      if (choice === null && !/\scongctl\s/.test(line)) continue;
      const r = await runIn(ns, 'ip', [family, 'route', 'change', ...routeWithCongestionControl(line, choice)], 5000);
      if (r.status !== 0 && family === '-4') throw new Error(`ip route change ${line} (congctl ${name}) in ${ns}: ${r.stderr.trim()}`);
    }
  }
  return choice ?? nsDefaultCongestionControl(ns);
}

/**
 * Starts perf/kernel-peer.js in namespace `ns` and waits (≤ 10 s) for its ready line; its TCP
 * uses congestion control `cc` ('system': the namespace's default; setKernelCongestionControl).
 */
export async function startKernelPeer(ns: string, cc = 'system'): Promise<KernelPeerProcess> {
  const congestionControl = await setKernelCongestionControl(ns, cc);
  const script = join(packageRoot(), 'dist/perf/kernel-peer.js');
  const child = track(spawn('ip', ['netns', 'exec', ns, process.execPath, script], { stdio: ['ignore', 'pipe', 'inherit'], detached: true }));
  const stop = (): Promise<void> => stopChild(child, 'SIGTERM', 3000);
  const ready = await new Promise<boolean>((resolve) => {
    let out = '';
    const timer = setTimeout(() => resolve(false), 10_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('kernel-peer ready')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!ready) {
    await stop();
    throw new Error(`kernel peer did not start in ${ns}`);
  }
  return { pid: child.pid ?? -1, congestionControl, child, stop };
}

/** CPU time (user + system, all threads) of process `pid` in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  return statTicks(`/proc/${pid}/stat`) / CLK_TCK;
}

/** utime + stime in clock ticks from a /proc stat file (a process's or a thread's: /proc/<pid>/task/<tid>/stat), NaN if unreadable. */
export function statTicks(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after the command name in parentheses (which may contain spaces): state is
    // field 3, utime field 14, stime field 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return NaN;
  }
}

/** USER_HZ: 100 on every Linux architecture that Node runs on (sysconf(_SC_CLK_TCK)). */
export const CLK_TCK = 100;

/** The machine's load averages (1, 5, 15 min) as printed by uptime. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

/**
 * Installs the clean-up path of a benchmark: on SIGINT/SIGTERM/SIGHUP, kill our children
 * (by pid), run `cleanup` (lab down), exit 130. Returns a function that runs the same
 * clean-up once for the normal exit path.
 */
export function installCleanup(cleanup: () => Promise<void> | void): () => Promise<void> {
  let done: Promise<void> | undefined;
  const run = (): Promise<void> => {
    done ??= (async () => {
      killLiveChildren('SIGTERM');
      try {
        await cleanup();
      } finally {
        killLiveChildren('SIGKILL');
      }
    })();
    return done;
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      wasInterrupted = true;
      console.error(`\n${sig}: stopping, removing the lab`);
      void run().finally(() => process.exit(130));
    });
  }
  return run;
}

let wasInterrupted = false;

/** True once a signal made installCleanup's handler stop the benchmark (errors after it are expected). */
export function interrupted(): boolean {
  return wasInterrupted;
}

/** Prints the run's notes (if any) and the closing "total time" line of a benchmark. */
export function printNotesAndTotal(notes: string[], startedMs: number): void {
  if (notes.length > 0) {
    console.log('\nnotes:');
    for (const n of notes) console.log(`  - ${n}`);
  }
  console.log(`\ntotal time ${((Date.now() - startedMs) / 1000).toFixed(0)} s, load average at end ${loadAverage()}`);
}

/**
 * Runs a benchmark's `main`, then its clean-up whatever happened, and exits 0, or 1 after
 * printing the error (unless a signal stopped the run, which installCleanup reported).
 */
export async function runBench(name: string, main: () => Promise<void>, cleanup: () => Promise<void>): Promise<never> {
  let failed = false;
  try {
    await main();
  } catch (e) {
    failed = true;
    if (!interrupted()) console.error(`${name}: ${(e as Error).stack ?? String(e)}`);
  } finally {
    await cleanup();
  }
  process.exit(failed ? 1 : 0);
}

/** Fixed-width table: header row, a rule, then rows; first column left-aligned, others right. */
export { formatTable } from '../src/util/text-table.js';

/**
 * Counters from the text of /proc/net/snmp or /proc/net/netstat (pairs of lines: 'Tcp:
 * names...' then 'Tcp: values...'), keyed 'Tcp.PassiveOpens', 'TcpExt.TCPTimeWaitOverflow', ...
 */
export function parseProcNetCounters(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const names = lines[i].trim().split(/\s+/);
    const vals = lines[i + 1].trim().split(/\s+/);
    const head = names[0] ?? '';
    if (!head.endsWith(':') || head !== vals[0] || !Number.isNaN(Number(names[1]))) continue;
    const group = head.slice(0, -1);
    for (let k = 1; k < names.length && k < vals.length; k++) out[`${group}.${names[k]}`] = Number(vals[k]);
    i++;
  }
  return out;
}

/** The kernel's network counters inside namespace `ns` (/proc/net/snmp and /proc/net/netstat are per namespace); empty when unreadable. */
export async function nsKernelCounters(ns: string): Promise<Record<string, number>> {
  const r = await runIn(ns, 'cat', ['/proc/net/snmp', '/proc/net/netstat'], 5000);
  return parseProcNetCounters(r.stdout);
}

/** Sets sysctl `key` to `value` inside namespace `ns`; returns the error text, or null. */
export async function nsSysctl(ns: string, key: string, value: string): Promise<string | null> {
  const r = await runIn(ns, 'sysctl', ['-qw', `${key}=${value}`], 5000);
  return r.status === 0 ? null : r.stderr.trim() || `exit ${r.status}`;
}

/** Counter or gauge `name` of a /stats snapshot summed over threads, NaN if stackd has no such counter. */
export function total(s: StatsSnapshot, name: string): number {
  return Object.hasOwn(s.totals, name) ? s.totals[name] : NaN;
}
