/**
 * api.offload and the process-wide pool behind it (src/socket/offload.ts,
 * src/control/app-pool.ts): results and errors come back through the worker's port, a
 * transferred ArrayBuffer is moved, two workers share one pool, a full queue refuses at
 * once with ERR_OFFLOAD_QUEUE_FULL (and counts it), a closed pool rejects what waits.
 */
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { AppPool } from '../../../src/control/app-pool.js';
import { ERR_OFFLOAD_QUEUE_FULL, ERR_OFFLOAD_UNAVAILABLE, OffloadClient } from '../../../src/socket/offload.js';
import { builtFile } from '../../helpers/built.js';
import { waitFor } from '../../helpers/wait-for.js';
import { makeApi } from './api-harness.js';

const TASKS = new URL('../fixtures/offload-tasks.mjs', import.meta.url);
// The pool threads' entry file (workers/offload-task.ts) runs built.
const RUNNER = builtFile('workers/offload-task.js');

const pools: AppPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

/** A pool and one worker's api connected to it through a MessageChannel, as in stackd. */
function setup(threads = 1, maxQueue = 8) {
  const pool = new AppPool({ threads, maxQueue }, RUNNER);
  pools.push(pool);
  const connect = () => {
    const ch = new MessageChannel();
    pool.attach(ch.port1);
    const client = new OffloadClient(ch.port2);
    return { api: makeApi({}, { index: 0, count: 1 }, client).api, client };
  };
  return { pool, connect, ...connect() };
}

/** The rejection of `p` (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e as Error & { code?: string },
  );
}

describe('api.offload', () => {
  it('runs a named export in a pool thread and resolves with its result', async () => {
    const { api, pool } = setup();
    const bytes = Buffer.from('hash me off the shard');
    const hex = await api.offload<string>({ module: TASKS, name: 'sha256' }, bytes);
    expect(hex).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(pool.stats()).toMatchObject({ started: true, completed: 1, failed: 0, rejectedFull: 0, inFlight: 0, highWater: 1 });
  });

  it('takes the default export without a name; module as a path relative to the cwd, or a file: URL string', async () => {
    const { api } = setup();
    const rel = relative(process.cwd(), fileURLToPath(TASKS));
    expect(await api.offload({ module: rel }, { a: [1, 2] })).toEqual({ data: { a: [1, 2] }, pid: process.pid });
    expect(await api.offload({ module: TASKS.href }, 7)).toMatchObject({ data: 7 });
  });

  it('moves a transferred ArrayBuffer (the caller keeps a detached one)', async () => {
    const { api } = setup();
    const ab = new ArrayBuffer(1 << 20);
    new Uint8Array(ab).fill(0xab);
    const want = createHash('sha256').update(new Uint8Array(ab)).digest('hex');
    const p = api.offload<string>({ module: TASKS, name: 'sha256' }, ab, { transfer: [ab] });
    expect(ab.byteLength).toBe(0);
    expect(await p).toBe(want);
  });

  it("rejects with the task's error: name, message and code", async () => {
    const { api, pool } = setup();
    const e = await rejection(api.offload({ module: TASKS, name: 'fail' }, { message: 'bad input 42', code: 'EBADINPUT' }));
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('RangeError');
    expect(e.message).toBe('bad input 42');
    expect(e.code).toBe('EBADINPUT');
    expect(pool.stats()).toMatchObject({ completed: 0, failed: 1 });
  });

  it('rejects when the module or the export does not exist, or the result cannot be cloned', async () => {
    const { api, pool } = setup();
    expect((await rejection(api.offload({ module: '/nonexistent/task.mjs' }, 1))).message).toMatch(/nonexistent\/task\.mjs/);
    const noExport = await rejection(api.offload({ module: TASKS, name: 'nope' }, 1));
    expect(noExport.name).toBe('TypeError');
    expect(noExport.message).toBe(`offload: ${fileURLToPath(TASKS)} exports no function 'nope'`);
    // A result structured clone cannot carry fails the task (piscina replaces the thread).
    expect((await rejection(api.offload({ module: TASKS, name: 'uncloneable' }, 1))).message).toMatch(/^offload: the task's pool thread died .*structured clone/);
    expect(pool.stats().failed).toBe(3);
    expect(await api.offload({ module: TASKS }, 'after')).toMatchObject({ data: 'after' });
  });

  it('serves two workers from one pool', async () => {
    const { api, pool, connect } = setup();
    const other = connect().api;
    const [a, b] = await Promise.all([api.offload({ module: TASKS }, 'w0'), other.offload({ module: TASKS }, 'w1')]);
    expect([a, b]).toMatchObject([{ data: 'w0' }, { data: 'w1' }]);
    expect(pool.stats().completed).toBe(2);
  });

  it('refuses at once with ERR_OFFLOAD_QUEUE_FULL when threads + queue are taken, and counts it', async () => {
    const { api, pool } = setup(1, 1);
    const sab = new SharedArrayBuffer(8);
    const words = new Int32Array(sab);
    const running = api.offload({ module: TASKS, name: 'block' }, { sab, tag: 'A' });
    try {
      await waitFor(() => Atomics.load(words, 0) === 1, { what: 'task A to run in the only thread' });
      const queued = api.offload({ module: TASKS, name: 'block' }, { sab, tag: 'B' });
      await waitFor(() => pool.stats().inFlight === 2, { what: 'task B to be accepted' });
      const e = await rejection(api.offload({ module: TASKS }, 'C'));
      expect(e.code).toBe(ERR_OFFLOAD_QUEUE_FULL);
      expect(e.message).toMatch(/^offload queue full: 2 tasks in flight \(1 threads \+ a queue of 1\)/);
      expect(pool.stats()).toMatchObject({ inFlight: 2, rejectedFull: 1 });
      Atomics.store(words, 1, 1);
      Atomics.notify(words, 1);
      expect(await Promise.all([running, queued])).toEqual(['A', 'B']);
      // Room again: the next task runs.
      expect(await api.offload({ module: TASKS }, 'D')).toMatchObject({ data: 'D' });
      expect(pool.stats()).toMatchObject({ completed: 3, rejectedFull: 1, inFlight: 0, highWater: 2 });
    } finally {
      Atomics.store(words, 1, 1);
      Atomics.notify(words, 1);
    }
  });

  it('rejects with ERR_OFFLOAD_UNAVAILABLE without a pool, and when the pool closes under a waiting task', async () => {
    expect((await rejection(makeApi().api.offload({ module: TASKS }, 1))).code).toBe(ERR_OFFLOAD_UNAVAILABLE);
    const { api, pool, client } = setup();
    const sab = new SharedArrayBuffer(8);
    const words = new Int32Array(sab);
    const waiting = api.offload({ module: TASKS, name: 'block' }, { sab, tag: 'A' });
    await waitFor(() => Atomics.load(words, 0) === 1, { what: 'the task to run' });
    const rejected = rejection(waiting);
    Atomics.store(words, 1, 1); // let the thread go: close() terminates it either way
    await pool.close();
    const e = await rejected;
    expect(e.code === ERR_OFFLOAD_UNAVAILABLE || /terminat|destroy/i.test(e.message), `${e.code} ${e.message}`).toBe(true);
    expect((await rejection(api.offload({ module: TASKS }, 2))).code).toBe(ERR_OFFLOAD_UNAVAILABLE);
    expect(client.inFlight).toBe(0);
  });
});
