#!/usr/bin/env node
/**
 * `stackd-load` (`npm run load -- …`): many concurrent clients against a running stackd,
 * real nc and curl processes (or Node sockets with --mode socket), every byte checked,
 * bounded by --clients (alive at once), --total and --duration. Client batches run on a
 * piscina pool (batch-worker.ts), the caps are kept here (driver.ts); the report gives
 * conn/s, latency per kind, failures by cause and the stack's /stats over the run
 * (report.ts). With --netns the tool runs itself again under `ip netns exec`.
 * Decision 0020.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { controlRequest } from '../src/control/control-client.js';
import type { StatsSnapshot } from '../src/control/types.js';
import type { BatchResult, BatchTask } from './batch-worker.js';
import { drive, type LoadPlan } from './driver.js';
import { formatMix } from './mix.js';
import { HELP, UsageError, argvWithoutNetns, parseLoadArgs, type LoadOptions } from './options.js';
import { Aggregate, counterDeltas, formatReport, type LoadReport } from './report.js';

/** Past the last possible end (duration + timeout) by this much, the run is cut short. */
const HARD_STOP_GRACE_MS = 15_000;

/** Runs this tool again inside namespace `ns` with the same options (minus --netns); its exit code. */
function inNamespace(ns: string, argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), ...argvWithoutNetns(argv)], { stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals): void => {
      child.kill(sig);
    };
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (e) => {
      process.stderr.write(`stackd-load: cannot run ip netns exec: ${e.message}\n`);
    });
    child.on('close', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (code === 0 || code === 1 || code === 2) {
        resolve(code);
        return;
      }
      process.stderr.write(`stackd-load: ip netns exec ${ns} failed (exit ${code ?? 'by a signal'}): does the namespace exist, and are we root?\n`);
      resolve(2);
    });
  });
}

/** The stack's counter totals, or the reason they could not be read. */
async function readTotals(control: string): Promise<Record<string, number> | string> {
  try {
    const r = await controlRequest(control, '/stats');
    if (r.status !== 200) return `GET /stats answered ${r.status}`;
    return (JSON.parse(r.body) as StatsSnapshot).totals;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Runs the load; the report. */
async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const before = opts.control === null ? null : await readTotals(opts.control);
  const plan: LoadPlan = {
    mode: opts.mode, mix: opts.mix, clients: opts.clients, total: opts.total, durationMs: opts.durationMs, batch: opts.batch,
    spec: {
      target: opts.target, echoPort: opts.echoPort, httpPort: opts.httpPort,
      bytes: opts.bytes, postBytes: opts.postBytes, echoBytes: opts.echoBytes, timeoutMs: opts.timeoutMs,
    },
  };
  // Every batch that may be alive at once runs at once: the tasks wait on I/O, not the CPU.
  const batches = Math.ceil(opts.clients / opts.batch);
  const pool = new Piscina({
    filename: new URL('./batch-worker.js', import.meta.url).href,
    minThreads: opts.threads, maxThreads: opts.threads, idleTimeout: Infinity,
    concurrentTasksPerWorker: Math.ceil(batches / opts.threads), maxQueue: batches,
  });
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort();
  };
  // SIGINT/SIGTERM (again and again: a terminal's Ctrl-C also reaches a --netns parent,
  // which forwards it) stop new starts; the clients alive finish or time out.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const hardStop = setTimeout(() => {
    process.stderr.write(`stackd-load: clients still running ${HARD_STOP_GRACE_MS / 1000} s past --duration + --timeout: giving up\n`);
    process.exit(1);
  }, opts.durationMs + opts.timeoutMs + HARD_STOP_GRACE_MS);
  hardStop.unref();
  const agg = new Aggregate();
  let result;
  try {
    result = await drive(plan, (t: BatchTask) => pool.run(t) as Promise<BatchResult>, agg, { signal: stop.signal });
  } finally {
    clearTimeout(hardStop);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await pool.destroy();
  }
  const after = opts.control === null ? null : await readTotals(opts.control);
  const sum = agg.summary();
  const report: LoadReport = {
    target: opts.target, mode: opts.mode, mix: formatMix(opts.mix),
    caps: { clients: opts.clients, total: opts.total, durationMs: opts.durationMs, timeoutMs: opts.timeoutMs, batch: opts.batch },
    stoppedBy: result.stoppedBy, elapsedMs: Math.round(result.elapsedMs), peakAlive: result.peakAlive,
    connPerSec: result.elapsedMs > 0 ? Math.round((sum.completed / result.elapsedMs) * 10_000) / 10 : 0,
    ...sum,
    stats: null,
  };
  if (typeof before === 'object' && before !== null && typeof after === 'object' && after !== null) {
    report.stats = { deltas: counterDeltas(before, after) };
  } else if (typeof before === 'string' || typeof after === 'string') {
    report.statsError = typeof before === 'string' ? before : (after as string);
  }
  return report;
}

async function main(argv: string[]): Promise<number> {
  let opts: LoadOptions;
  try {
    opts = parseLoadArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`stackd-load: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts.netns !== null) return inNamespace(opts.netns, argv);
  const report = await runLoad(opts);
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.failed === 0 && report.started > 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`stackd-load: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
