/**
 * Shared plumbing for the lab benchmarks: bring a lab up, run stackd in it, run commands
 * in namespaces, clean up. Benchmarks print figures; they assert nothing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../src/control/control-client.js';
import { packageRoot } from '../src/util/package-root.js';

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
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Median of numbers. */
export function median(values: number[]): number {
  return percentile(values, 50);
}
