/**
 * Threads' scheduling classes (dataplane/thread-scheduling.ts over native/tap.c's
 * threadId / setThreadPolicy / threadPolicy; decision 0049): every thread of the process
 * made SCHED_BATCH except one that is gone meanwhile, refusals counted; a thread made
 * SCHED_BATCH passes it on to the threads it starts (what the supervisor relies on for the
 * data-plane threads it starts next), and a data-plane thread puts itself back to
 * SCHED_OTHER. The real addon runs in threads of their own, so vitest's stay as they were.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { loadTapAddon } from '../../../src/phy/tap.js';
import { packageRoot } from '../../../src/phy/package-root.js';
import {
  SCHED_BATCH, SCHED_OTHER, batchProcessThreads, processThreadIds, runAsDataPlaneThread, type ThreadSchedulingAddon,
} from '../../../src/dataplane/thread-scheduling.js';

const addonPath = join(packageRoot(), 'build/Release/stackd_tap.node');

interface Report { tid: number; born: number; now: number; stat: number; byTid: number; child: Report | null }

function runThread(opts: { batchSelf?: boolean; nested?: boolean; otherSelf?: boolean }): Promise<Report> {
  const w = new Worker(new URL('../fixtures/sched-thread.mjs', import.meta.url), {
    workerData: { addonPath, batchSelf: opts.batchSelf ?? false, nested: opts.nested ?? false, otherSelf: opts.otherSelf ?? false },
  });
  return new Promise<Report>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  }).finally(() => void w.terminate());
}

/** A fake addon: records each call; `fail` maps a tid to the errno code it throws. */
function fakeAddon(fail: Partial<Record<number, string>> = {}): ThreadSchedulingAddon & { calls: Array<[number, number]> } {
  const calls: Array<[number, number]> = [];
  return {
    calls,
    setThreadPolicy(tid, policy) {
      calls.push([tid, policy]);
      const code = fail[tid];
      if (code !== undefined) throw Object.assign(new Error(`sched_setscheduler: ${code}`), { code });
    },
  };
}

describe('batchProcessThreads / runAsDataPlaneThread (fake addon)', () => {
  it('asks SCHED_BATCH of every thread, skips one gone meanwhile (ESRCH), counts a refusal and goes on', () => {
    const a = fakeAddon({ 11: 'ESRCH', 12: 'EPERM', 14: 'EACCES' });
    expect(batchProcessThreads(a, [10, 11, 12, 13, 14])).toEqual({ batched: 2, failed: 2, firstError: 'EPERM' });
    expect(a.calls).toEqual([[10, SCHED_BATCH], [11, SCHED_BATCH], [12, SCHED_BATCH], [13, SCHED_BATCH], [14, SCHED_BATCH]]);
    expect(batchProcessThreads(fakeAddon(), [])).toEqual({ batched: 0, failed: 0, firstError: null });
  });

  it('a data-plane thread asks SCHED_OTHER for itself (tid 0) and reports a refusal by its code, without throwing', () => {
    const ok = fakeAddon();
    expect(runAsDataPlaneThread(ok)).toBeNull();
    expect(ok.calls).toEqual([[0, SCHED_OTHER]]);
    expect(runAsDataPlaneThread(fakeAddon({ 0: 'EPERM' }))).toBe('EPERM');
  });
});

describe('thread scheduling through the addon (threads of their own)', () => {
  it("threadId is the calling thread's kernel id: this process's, listed in /proc/self/task, not the process id in a worker thread", async () => {
    const r = await runThread({});
    expect(r.tid).not.toBe(process.pid);
    expect(r.tid).not.toBe(loadTapAddon().threadId());
    expect(processThreadIds()).toContain(loadTapAddon().threadId());
    expect(r.born).toBe(SCHED_OTHER);
    expect(r.stat).toBe(SCHED_OTHER);
  });

  it('SCHED_BATCH set on a thread shows in /proc and by tid, passes to the thread it starts, and that one goes back to SCHED_OTHER', async () => {
    const r = await runThread({ batchSelf: true, nested: true });
    expect([r.born, r.now, r.stat, r.byTid]).toEqual([SCHED_OTHER, SCHED_BATCH, SCHED_BATCH, SCHED_BATCH]);
    expect(r.child).not.toBeNull();
    expect(r.child!.born).toBe(SCHED_BATCH); // inherited from its creator
    expect([r.child!.now, r.child!.stat]).toEqual([SCHED_OTHER, SCHED_OTHER]);
  });

  it('refuses other policies (RangeError) and names the errno of a thread that does not exist', () => {
    const addon = loadTapAddon();
    expect(() => addon.setThreadPolicy(0, 1)).toThrow(RangeError); // SCHED_FIFO is not ours to set
    expect(() => addon.setThreadPolicy(-1, SCHED_BATCH)).toThrow(RangeError);
    // pid_max is at most 2^22: no thread has this id.
    expect(() => addon.setThreadPolicy(0x7fff_fff0, SCHED_BATCH)).toThrow(expect.objectContaining({ code: 'ESRCH', syscall: 'sched_setscheduler' }) as Error);
    expect(() => addon.threadPolicy(0x7fff_fff0)).toThrow(expect.objectContaining({ code: 'ESRCH' }) as Error);
  });
});
