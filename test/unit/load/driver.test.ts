/**
 * stackd-load's caps (load/driver.ts) with a fake pool and a virtual clock: never more
 * clients alive than --clients (and that many once the run is under way), exactly
 * --total started, no start after --duration, an abort stops new starts, a lost batch
 * counts each of its clients as failed. The outcomes reach the aggregate by kind.
 */
import { describe, expect, it } from 'vitest';
import type { BatchResult, BatchTask } from '../../../load/batch-worker.js';
import { drive, type LoadPlan } from '../../../load/driver.js';
import { parseMix } from '../../../load/mix.js';
import { Aggregate } from '../../../load/report.js';

const SPEC = { target: '10.10.0.4', echoPort: 7, httpPort: 80, bytes: 1, postBytes: 1, echoBytes: 1, timeoutMs: 1000 };

function plan(over: Partial<LoadPlan>): LoadPlan {
  return { mode: 'socket', mix: parseMix('nc-echo:1,curl-bytes:1,curl-post:1'), spec: SPEC, clients: 5, total: 23, durationMs: 60_000, batch: 2, ...over };
}

/**
 * A fake pool: every batch "takes" `costMs` of the virtual clock and succeeds, ending
 * after a macrotask turn (so that batches overlap as on a real pool). It checks the cap
 * itself: clients of batches begun and not yet ended.
 */
function fakePool(costMs = 0) {
  const s = { t: 0, outstanding: 0, maxOutstanding: 0, batches: [] as number[] };
  const run = (task: BatchTask): Promise<BatchResult> => {
    s.outstanding += task.kinds.length;
    s.maxOutstanding = Math.max(s.maxOutstanding, s.outstanding);
    s.batches.push(task.kinds.length);
    return new Promise((resolve) => {
      setImmediate(() => {
        s.t += costMs;
        s.outstanding -= task.kinds.length;
        resolve({ outcomes: task.kinds.map((kind) => ({ kind, cause: null, latencyUs: 1000, bytes: 10 })) });
      });
    });
  };
  return { s, run, now: () => s.t };
}

describe('drive', () => {
  it('starts exactly --total clients, never more than --clients alive, batches of at most --batch', async () => {
    const pool = fakePool();
    const agg = new Aggregate();
    const r = await drive(plan({}), pool.run, agg, { now: pool.now });
    expect(r.stoppedBy).toBe('total');
    expect(pool.s.batches.reduce((a, b) => a + b, 0)).toBe(23);
    expect(Math.max(...pool.s.batches)).toBe(2);
    expect(pool.s.maxOutstanding).toBe(5);
    expect(r.peakAlive).toBe(5);
    const sum = agg.summary();
    expect(sum).toMatchObject({ started: 23, completed: 23, ok: 23, failed: 0 });
    // 23 picks of a 1:1:1 mix: 8, 8, 7.
    expect([sum.kinds['nc-echo']?.started, sum.kinds['curl-bytes']?.started, sum.kinds['curl-post']?.started]).toEqual([8, 8, 7]);
  });

  it('fills the cap with a partial batch when fewer slots are free than --batch', async () => {
    const pool = fakePool();
    await drive(plan({ clients: 5, batch: 4, total: 40 }), pool.run, new Aggregate(), { now: pool.now });
    expect(pool.s.batches.slice(0, 2)).toEqual([4, 1]);
    expect(pool.s.maxOutstanding).toBe(5);
  });

  it('starts no client once --duration has passed; those alive finish', async () => {
    const pool = fakePool(10); // each batch ends 10 ms (virtual) later
    const agg = new Aggregate();
    const r = await drive(plan({ clients: 4, batch: 2, total: 1_000_000, durationMs: 100 }), pool.run, agg, { now: pool.now });
    expect(r.stoppedBy).toBe('duration');
    // Batches start while the clock is below 100 ms: 10 completions bring it there.
    expect(agg.summary().started).toBeLessThan(30);
    expect(agg.summary().completed).toBe(agg.summary().started);
    expect(r.elapsedMs).toBeGreaterThanOrEqual(100);
    expect(pool.s.outstanding).toBe(0);
  });

  it('an aborted signal stops new starts', async () => {
    const pool = fakePool();
    const ac = new AbortController();
    const agg = new Aggregate();
    const run = (t: BatchTask) => {
      if (pool.s.batches.length === 3) ac.abort();
      return pool.run(t);
    };
    const r = await drive(plan({ total: 1000 }), run, agg, { now: pool.now, signal: ac.signal });
    expect(r.stoppedBy).toBe('signal');
    // Batches of 2, 2, 1 (the cap of 5 alive), then the one being started when the abort came.
    expect(pool.s.batches).toEqual([2, 2, 1, 2]);
    expect(agg.summary().started).toBe(7);
  });

  it('a batch whose task fails counts each of its clients as failed (batch-lost)', async () => {
    const agg = new Aggregate();
    let n = 0;
    const run = (t: BatchTask): Promise<BatchResult> =>
      ++n === 2 ? Promise.reject(new Error('worker died')) : Promise.resolve({ outcomes: t.kinds.map((kind) => ({ kind, cause: null, latencyUs: 5, bytes: 0 })) });
    await drive(plan({ total: 6 }), run, agg);
    const sum = agg.summary();
    expect(sum).toMatchObject({ started: 6, ok: 4, failed: 2, failures: { 'batch-lost': 2 } });
    expect(sum.examples[0]).toMatchObject({ cause: 'batch-lost', detail: 'worker died' });
  });
});
