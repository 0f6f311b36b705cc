/**
 * A thread of workers that dies is restarted and serves again (control/supervisor.ts):
 * 4 workers on 2 threads (--threads 2, decision 0029); an application
 * (fixtures/crash-app.mjs) throws an uncaught exception in the worker that owns a given
 * connection, which ends its thread and the other worker on it; the supervisor starts a
 * new thread with both on the same rings and wake-up eventfds (decision 0026), and they
 * are woken by the I/O thread like the old ones: connections that hash to any of the 4
 * workers are served, ping is answered, and /health reports all workers up again.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_ADDR, inNs, labDown, labUp, nsName, requireNetOrSkip } from '../helpers/lab.js';
import { startStackd, stopIfStarted, threadPolicies, type StackdHandle } from '../helpers/stackd-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { controlRequest } from '../../src/control/control-client.js';
import { PORT } from './fixtures/crash-app.mjs';

const LAB = `rs${process.pid % 10000}`;
const HOST = nsName(LAB, 'host');
const C1 = nsName(LAB, 'c1');
const APP = fileURLToPath(new URL('./fixtures/crash-app.mjs', import.meta.url));

/** Sends one line to the app from the client; its answer (empty when the connection died). */
function ask(line: string): string {
  return inNs(C1, 'bash', ['-c', `printf '%s\\n' '${line}' | nc -w 3 ${LAB_ADDR.stack} ${PORT}`], { timeoutMs: 10_000 }).stdout.trim();
}

/** Answers from 40 fresh connections (different source ports, so spread over the workers). */
function askMany(): string[] {
  const script = `for i in $(seq 40); do printf 'hi\\n' | nc -w 3 ${LAB_ADDR.stack} ${PORT}; done`;
  return inNs(C1, 'bash', ['-c', script], { timeoutMs: 60_000 }).stdout.trim().split('\n');
}

describe.skipIf(requireNetOrSkip())('a crashed thread of workers is restarted and woken like the old one', () => {
  let stackd: StackdHandle;

  beforeAll(async () => {
    labUp(LAB, { clients: 1 });
    stackd = await startStackd(HOST, ['--workers', '4', '--threads', '2', '--tap', 'tap0', '--app', APP]);
  });

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB);
  });

  it('serves on every worker before and after one of them crashed', async () => {
    const before = askMany();
    expect(before.every((l) => /^alive [0-3]$/.test(l))).toBe(true);
    expect(new Set(before).size).toBe(4); // every worker answered
    ask('crash'); // the thread of the worker owning this connection dies, with the other worker it runs
    await waitFor(() => stackd.output().includes('worker restarted'), { what: 'the supervisor to restart the worker', timeoutMs: 20_000, detail: () => stackd.output().slice(-2000) });
    await waitFor(async () => {
      const h = JSON.parse((await controlRequest(stackd.control, '/health')).body) as { ok: boolean; workersAlive: number };
      return h.ok && h.workersAlive === 4;
    }, { what: '/health: every worker up', timeoutMs: 20_000 });
    const after = askMany();
    expect(after.every((l) => /^alive [0-3]$/.test(l))).toBe(true);
    expect(new Set(after).size).toBe(4); // the restarted workers answer too
    expect((await stackd.stats()).workerThreads).toBe(2);
    // The new thread was born SCHED_BATCH, like every thread the main one starts, and made
    // itself SCHED_OTHER (decision 0049): the I/O thread and two worker threads, no more.
    expect([...threadPolicies(stackd.proc.pid!).values()].filter((p) => p === 0)).toHaveLength(3);
    // /stats lists the data-plane threads now running (decision 0053): the new one in place
    // of the crashed one, each a live thread of the process.
    const placed = (await stackd.stats()).dataPlaneThreads;
    expect(placed.map((t) => t.thread).sort()).toEqual(['io', 'workers-0-2', 'workers-1-3']);
    const live = threadPolicies(stackd.proc.pid!);
    expect(placed.every((t) => live.has(t.tid))).toBe(true);
    const r = inNs(C1, 'ping', ['-c', '20', '-i', '0.01', '-W', '1', '-q', LAB_ADDR.stack], { timeoutMs: 20_000 });
    expect(r.stdout).toMatch(/20 packets transmitted, 20 received/);
  });
});
