/**
 * Runs the built stackd (dist/) inside a lab's host namespace for integration tests, and
 * talks to its control API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../../src/control/control-client.js';
import { parseCpuList } from '../../src/control/cpu-plan.js';
import type { StatsSnapshot } from '../../src/control/types.js';
import { waitFor } from './wait-for.js';

/** Absolute path of the built CLI. */
export const STACKD_BIN = fileURLToPath(new URL('../../dist/src/cli/stackd.js', import.meta.url));

/** A stackd child process. */
export interface StackdHandle {
  proc: ChildProcess;
  control: string;
  output: () => string;
  stats: () => Promise<StatsSnapshot>;
  /** SIGTERM, then waits for the exit; returns the exit code and how long it took (ms). */
  stop: () => Promise<{ code: number | null; ms: number }>;
}

/** A spawned process that answers /health on `control`, with its output and a stop(). */
export interface HealthyProcess {
  proc: ChildProcess;
  output: () => string;
  /** SIGTERM (SIGKILL after 10 s), then waits for the exit; returns the exit code and how long it took (ms). */
  stop: () => Promise<{ code: number | null; ms: number }>;
}

/**
 * Spawns `cmd args` (stdout and stderr collected) and waits up to 20 s until /health on
 * `control` answers 200. Throws with the output if the process exits or stays unhealthy
 * (`what` names it in the message).
 */
export async function spawnHealthy(
  what: string, cmd: string, args: string[], control: string, env?: NodeJS.ProcessEnv,
): Promise<HealthyProcess> {
  const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = (): boolean => proc.exitCode !== null || proc.signalCode !== null;
  try {
    await waitFor(async () => {
      if (exited()) throw new Error(`${what} exited during start:\n${out}`);
      return controlRequest(control, '/health').then((r) => r.status === 200, () => false);
    }, { what: `${what} to answer /health`, timeoutMs: 20_000, intervalMs: 100, detail: () => `output:\n${out}` });
  } catch (e) {
    if (!exited()) proc.kill('SIGKILL');
    throw e;
  }
  return {
    proc,
    output: () => out,
    stop: () =>
      new Promise((resolve) => {
        const t0 = Date.now();
        if (exited()) {
          resolve({ code: proc.exitCode, ms: 0 });
          return;
        }
        const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        proc.once('exit', (code) => {
          clearTimeout(killer);
          resolve({ code, ms: Date.now() - t0 });
        });
        proc.kill('SIGTERM');
      }),
  };
}

/** Starts stackd in namespace `ns` with `args` and waits until /health answers ok (up to 20 s). */
export async function startStackd(ns: string, args: string[]): Promise<StackdHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'stackd-it-'));
  const control = join(dir, 'control.sock');
  const p = await spawnHealthy('stackd', 'ip', ['netns', 'exec', ns, process.execPath, STACKD_BIN, '--control', control, '--log-level', 'warn', ...args], control);
  return {
    proc: p.proc,
    control,
    output: p.output,
    stats: async () => JSON.parse((await controlRequest(control, '/stats')).body) as StatsSnapshot,
    stop: async () => {
      const r = await p.stop();
      rmSync(dir, { recursive: true, force: true });
      return r;
    },
  };
}

/**
 * For afterAll: stops `h` unless beforeAll failed before it was assigned (the variable is
 * declared as a StackdHandle for the tests, but is unset then).
 */
export async function stopIfStarted(h: StackdHandle | undefined): Promise<void> {
  await h?.stop();
}

/** The CPUs thread `tid` of process `pid` may run on (Cpus_allowed_list of its /proc status). */
export function threadCpus(pid: number, tid: number): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
  if (m === null) throw new Error(`no Cpus_allowed_list for thread ${tid} of ${pid}`);
  return parseCpuList(m[1]);
}

/** Each thread of process `pid`: its scheduling policy (field 41 of /proc/PID/task/TID/stat; 0 SCHED_OTHER, 3 SCHED_BATCH). */
export function threadPolicies(pid: number): Map<number, number> {
  const m = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      m.set(Number(tid), Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[41 - 3]));
    } catch {
      // The thread exited meanwhile.
    }
  }
  return m;
}
