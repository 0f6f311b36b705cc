/**
 * No lost wake-up with the workers of one thread on one eventfd (decision 0055): a
 * producer thread plays the I/O thread (one signal per publish round, however many of
 * the rings it woke), three consumers here sleep as shard workers do (park on a
 * SharedLoopWaker member with a long deadline; the waker raises the rings' sleeping flags
 * when the last one parks). Every record
 * arrives in order, and the consumers were woken by the eventfd, never by their
 * deadlines: a lost wake-up would leave a ring waiting for its consumer's 10 s deadline.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RingConsumer, createRingBuffer, RING_MIN_DATA_BYTES } from '../../../src/dataplane/ring.js';
import { SharedLoopWaker } from '../../../src/dataplane/shared-loop-waker.js';
import { EventfdLoopWaker } from '../../../src/phy/loop-waker.js';
import { loadTapAddon } from '../../../src/phy/tap.js';
import { packageRoot } from '../../../src/phy/package-root.js';
import { monoMs } from '../../../src/util/clock.js';

let tmp = '';
let ringUrl = '';

beforeAll(() => {
  const source = readFileSync(new URL('../../../src/dataplane/ring.ts', import.meta.url), 'utf8');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  tmp = mkdtempSync(join(tmpdir(), 'stackd-shared-wake-'));
  writeFileSync(join(tmp, 'ring.mjs'), js);
  ringUrl = pathToFileURL(join(tmp, 'ring.mjs')).href;
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Deadline of a parked consumer (ms): only a lost wake-up would reach it. */
const PARK_MS = 10_000;

describe('shared loop waker: two threads', () => {
  it('loses no wake-up: 3 consumers on one eventfd receive 300 k records in order, woken by the eventfd only', async () => {
    const SHARDS = 3;
    const COUNT = 300_000;
    const addon = loadTapAddon();
    const fd = addon.eventfd();
    const sabs = Array.from({ length: SHARDS }, () => createRingBuffer(RING_MIN_DATA_BYTES));
    const shared = new SharedLoopWaker(new EventfdLoopWaker(addon, fd), monoMs);
    const received = new Array<number>(SHARDS).fill(0);
    let outOfOrder = 0;
    let sleeps = 0;
    let deadlineWakes = 0;
    let finish: () => void = () => {};
    const allIn = new Promise<void>((resolve) => (finish = resolve));
    const members = sabs.map((sab, s) => {
      const c = new RingConsumer(sab);
      const m = shared.member();
      let parkedUntil = Infinity;
      const turn = (): void => {
        if (monoMs() >= parkedUntil) deadlineWakes++;
        c.clearSleeping();
        for (;;) {
          let n = 0;
          while (n < 64 && c.next() >= 0) {
            if (c.t0 !== received[s]) outOfOrder++;
            received[s]++;
            n++;
          }
          c.release();
          if (received.reduce((a, b) => a + b, 0) === COUNT) {
            finish();
            return;
          }
          if (n === 64) {
            m.yielding!(); // busy: yield to the loop, as a shard worker does
            setImmediate(turn);
            return;
          }
          if (!c.isEmpty()) continue;
          // Park: the shared waker raises the flag when the last consumer parks.
          sleeps++;
          parkedUntil = monoMs() + PARK_MS;
          m.arm(PARK_MS);
          return;
        }
      };
      m.open(turn, { workSince: () => c.peekT1(), raise: () => c.setSleeping(), lower: () => c.clearSleeping() });
      turn();
      return m;
    });
    const worker = new Worker(new URL('../fixtures/shared-wake-producer.mjs', import.meta.url), {
      workerData: { ringUrl, sabs, count: COUNT, seed: 0x5eed, addonPath: join(packageRoot(), 'build/Release/stackd_tap.node'), fd },
    });
    try {
      const produced = new Promise<{ sent: number[]; signals: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      let watchdog: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        watchdog = setTimeout(() => reject(new Error(`stalled: received ${received.join('/')} of ${COUNT}, ${deadlineWakes} deadline wake-ups`)), 30_000);
      });
      const [{ sent, signals }] = await Promise.race([Promise.all([produced, allIn]), stalled]);
      clearTimeout(watchdog);
      expect(received).toEqual(sent);
      expect(outOfOrder).toBe(0);
      expect(deadlineWakes).toBe(0);
      expect(sleeps).toBeGreaterThan(100); // the consumers did park...
      expect(signals).toBeGreaterThan(100); // ...and the producer did wake them
      expect(shared.calls).toBeGreaterThan(0);
    } finally {
      members.forEach((m) => m.close());
      await worker.terminate();
      addon.close(fd);
    }
  }, 60_000);
});
