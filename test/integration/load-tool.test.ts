/**
 * stackd-load against a live stackd in the namespace lab, with a small bound: 60 clients,
 * 20 at once, a third of each kind, in process mode (real nc and curl) and in socket mode;
 * every client succeeds, the counts per kind are exact, and the stack's /stats over the
 * run show the 60 connections. POST /sink of an application that hashes with api.offload
 * (one pool for both workers) passes the same checks. Failures are named by cause
 * (refused, short, timeout), the tool exits 1 for them, and no client outlives the run.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadReport } from '../../load/report.js';
import { builtFile } from '../helpers/built.js';
import { LAB_ADDR, labDown, labUp, nsName, requireNetOrSkip } from '../helpers/lab.js';
import { startStackd, type StackdHandle } from '../helpers/stackd-process.js';

const LAB = `ld${process.pid % 10000}`;
const HOST = nsName(LAB, 'host');
const C1 = nsName(LAB, 'c1');
const APP = fileURLToPath(new URL('./fixtures/offload-sink-app.mjs', import.meta.url));

/** Runs the built tool from the root namespace into c1 (--netns); its exit status and JSON report. */
function load(control: string, args: string[]): { status: number | null; report: LoadReport; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [builtFile('load/stackd-load.js'), '--netns', C1, '--target', LAB_ADDR.stack, '--control', control, '--json', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.stdout === '') throw new Error(`stackd-load printed nothing (exit ${r.status}): ${r.stderr}`);
  return { status: r.status, report: JSON.parse(r.stdout) as LoadReport, stderr: r.stderr, ms: Date.now() - t0 };
}

/** Processes still running in namespace `ns` (ip netns pids). */
function pidsIn(ns: string): string[] {
  return spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l !== '');
}

describe.skipIf(requireNetOrSkip())('stackd-load against a live stackd', () => {
  let stackd: StackdHandle | undefined;
  /** The stack beforeAll started. */
  const sd = (): StackdHandle => {
    if (stackd === undefined) throw new Error('stackd did not start');
    return stackd;
  };

  beforeAll(async () => {
    labUp(LAB, { clients: 1 });
    stackd = await startStackd(HOST, ['--workers', '2', '--tap', 'tap0', '--app', APP, '--app-threads', '1', '--app-queue', '64']);
  });

  afterAll(async () => {
    await stackd?.stop();
    labDown(LAB);
  });

  for (const mode of ['process', 'socket'] as const) {
    it(`${mode} mode: 60 clients, 20 at once, a third of each kind, every byte checked, /stats shows 60 connections`, () => {
      const { status, report, stderr } = load(sd().control, [
        '--mode', mode, '--clients', '20', '--total', '60', '--duration', '30s', '--timeout', '20s',
        '--mix', 'nc-echo:1,curl-bytes:1,curl-post:1', '--bytes', '256K', '--post-bytes', '100K', '--echo-bytes', '20K',
      ]);
      expect(report.failures, JSON.stringify(report.examples)).toEqual({});
      expect(status, stderr).toBe(0);
      expect(report).toMatchObject({ mode, started: 60, completed: 60, ok: 60, failed: 0, stoppedBy: 'total', peakAlive: 20 });
      for (const kind of ['nc-echo', 'curl-bytes', 'curl-post'] as const) {
        expect(report.kinds[kind], kind).toMatchObject({ started: 20, ok: 20, failed: 0 });
        expect(report.kinds[kind]!.p50Ms).toBeGreaterThan(0);
        expect(report.kinds[kind]!.p99Ms).toBeGreaterThanOrEqual(report.kinds[kind]!.p50Ms);
      }
      // Payload moved: 20 × (20 KiB out + 20 KiB back), 20 × 256 KiB, 20 × 100 KiB.
      expect(report.kinds['nc-echo']!.bytes).toBe(20 * 2 * 20 * 1024);
      expect(report.kinds['curl-bytes']!.bytes).toBe(20 * 256 * 1024);
      expect(report.kinds['curl-post']!.bytes).toBe(20 * 100 * 1024);
      expect(report.connPerSec).toBeGreaterThan(0);
      const d = report.stats!.deltas;
      expect(d.tcp_passive_opens).toBe(60);
      expect(d.tcp_established_total).toBe(60);
      // At least what the clients sent and received went through the stack's TCP.
      expect(d.tcp_rx_bytes).toBeGreaterThanOrEqual(20 * 20 * 1024 + 20 * 100 * 1024);
      expect(d.tcp_tx_bytes).toBeGreaterThanOrEqual(20 * 20 * 1024 + 20 * 256 * 1024);
      expect(pidsIn(C1)).toEqual([]);
    });
  }

  it("POST /sink of an application hashing with api.offload: the same checks pass, on the process's one pool", async () => {
    const before = (await sd().stats()).appPool;
    const { status, report } = load(sd().control, [
      '--port-http', '8080', '--mix', 'curl-post', '--clients', '10', '--total', '20', '--post-bytes', '1M',
    ]);
    expect(report.failures, JSON.stringify(report.examples)).toEqual({});
    expect(status).toBe(0);
    expect(report.kinds['curl-post']).toMatchObject({ started: 20, ok: 20 });
    const after = (await sd().stats()).appPool;
    expect(after).toMatchObject({ threads: 1, maxQueue: 64, started: true, inFlight: 0, failed: 0, rejectedFull: 0 });
    expect(after.completed - before.completed).toBe(20);
  });

  it('names failures by cause and exits 1: refused (no listener), short (discard answers nothing), timeout', () => {
    const refused = load(sd().control, ['--mix', 'nc-echo', '--port-echo', '9999', '--clients', '3', '--total', '6']);
    expect(refused.status).toBe(1);
    expect(refused.report).toMatchObject({ started: 6, ok: 0, failed: 6, failures: { refused: 6 } });
    expect(refused.report.examples[0].detail).toMatch(/refused/i);
    expect(refused.report.stats!.deltas.tcp_resets_tx).toBe(6);

    const short = load(sd().control, ['--mix', 'nc-echo', '--port-echo', '9', '--mode', 'socket', '--total', '4']);
    expect(short.report).toMatchObject({ failed: 4, failures: { short: 4 } });

    // 1 GiB at the lab's pace takes far longer than 1 s: each client is stopped at its timeout.
    const slow = load(sd().control, ['--mix', 'curl-bytes', '--bytes', '1G', '--timeout', '1s', '--total', '2']);
    expect(slow.status).toBe(1);
    expect(slow.report).toMatchObject({ started: 2, failed: 2, failures: { timeout: 2 } });
    expect(slow.ms).toBeLessThan(15_000);
    expect(pidsIn(C1)).toEqual([]);
  });
});
