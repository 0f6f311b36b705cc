/**
 * CPU placement of the data-plane threads (control/cpu-plan.ts, decision 0053): one CPU
 * each for the worker threads (all: and the I/O thread) from the process's mask when it has
 * enough, none bound otherwise or when off; and
 * the binding itself, against a fake addon and against the real calling thread.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatCpuList, parseCpuList, planCpus } from '../../../src/control/cpu-plan.js';
import { bindThisThread } from '../../../src/dataplane/thread-scheduling.js';
import { loadTapAddon } from '../../../src/phy/tap.js';

describe('cpu plan', () => {
  it('workers (the default): binds worker thread t to the t-th allowed CPU and leaves the I/O thread free', () => {
    expect(planCpus('workers', [0, 1], 1)).toEqual({ io: null, workerThreads: [0], unboundBecause: null });
    expect(planCpus('workers', [0, 1, 2, 3], 3)).toEqual({ io: null, workerThreads: [0, 1, 2], unboundBecause: null });
    // A mask from taskset -c 2,5-7: its CPUs, not 0..n-1.
    expect(planCpus('workers', [2, 5, 6, 7], 2)).toEqual({ io: null, workerThreads: [2, 5], unboundBecause: null });
  });

  it('all: the I/O thread too, on the last allowed CPU', () => {
    expect(planCpus('all', [0, 1], 1)).toEqual({ io: 1, workerThreads: [0], unboundBecause: null });
    expect(planCpus('all', [2, 5, 6, 7], 3)).toEqual({ io: 7, workerThreads: [2, 5, 6], unboundBecause: null });
  });

  it('binds nothing with fewer CPUs than data-plane threads, or when off, and says why', () => {
    expect(planCpus('workers', [0, 1], 4)).toEqual({ io: null, workerThreads: [null, null, null, null], unboundBecause: '5 data-plane threads (4 worker threads and the I/O thread) and 2 CPUs' });
    expect(planCpus('all', [3], 1).unboundBecause).toBe('2 data-plane threads (1 worker thread and the I/O thread) and 1 CPU');
    expect(planCpus('workers', [0, 1], 2).unboundBecause).toBe('3 data-plane threads (2 worker threads and the I/O thread) and 2 CPUs');
    expect(planCpus('off', [0, 1, 2, 3], 1)).toEqual({ io: null, workerThreads: [null], unboundBecause: '--cpu-affinity off' });
  });

  it('never gives two threads one CPU', () => {
    for (let cpus = 1; cpus <= 9; cpus++) {
      const allowed = Array.from({ length: cpus }, (_, i) => 2 * i);
      for (let threads = 1; threads <= 9; threads++) {
        for (const mode of ['workers', 'all'] as const) {
          const p = planCpus(mode, allowed, threads);
          const used = [p.io, ...p.workerThreads].filter((c) => c !== null);
          expect(new Set(used).size).toBe(used.length);
          expect(used.every((c) => allowed.includes(c))).toBe(true);
          expect(used.length === 0 || used.length === threads + (mode === 'all' ? 1 : 0)).toBe(true);
        }
      }
    }
  });

  it('writes and reads the CPU list notation of taskset and /proc', () => {
    expect(formatCpuList([0, 1, 2, 3, 6])).toBe('0-3,6');
    expect(formatCpuList([1])).toBe('1');
    expect(formatCpuList([0, 2, 3, 5, 7, 8])).toBe('0,2-3,5,7-8');
    expect(parseCpuList('0-3,6\n')).toEqual([0, 1, 2, 3, 6]);
    expect(parseCpuList('5')).toEqual([5]);
    expect(() => parseCpuList('3-1')).toThrow(/descending/);
    expect(() => parseCpuList('a')).toThrow(/not a CPU list/);
  });

  it('binds the calling thread and reports where it may run; a refusal is reported, not thrown', () => {
    const calls: Array<[number, number[]]> = [];
    const mask = [0, 1, 2];
    const fake = {
      setThreadAffinity(tid: number, cpus: number[]) {
        calls.push([tid, cpus]);
        if (!mask.includes(cpus[0])) throw Object.assign(new Error('sched_setaffinity failed'), { code: 'EINVAL' });
        mask.splice(0, mask.length, ...cpus);
      },
      threadAffinity: () => [...mask],
    };
    expect(bindThisThread(fake, null)).toEqual({ cpus: [0, 1, 2], error: null });
    expect(bindThisThread(fake, 9)).toEqual({ cpus: [0, 1, 2], error: 'EINVAL' });
    expect(bindThisThread(fake, 1)).toEqual({ cpus: [1], error: null });
    expect(calls).toEqual([[0, [9]], [0, [1]]]);
  });

  it('the addon binds a real thread: sched_setaffinity and back (restored after)', () => {
    const addon = loadTapAddon();
    const before = addon.threadAffinity(0);
    expect(before.length).toBeGreaterThan(0);
    try {
      const cpu = before[before.length - 1];
      expect(bindThisThread(addon, cpu)).toEqual({ cpus: [cpu], error: null });
      expect(parseCpuList(/Cpus_allowed_list:\s*(\S+)/.exec(readStatus())![1])).toEqual([cpu]);
      expect(() => addon.setThreadAffinity(0, [])).toThrow(RangeError);
      expect(() => addon.setThreadAffinity(0, [8192])).toThrow(RangeError);
    } finally {
      addon.setThreadAffinity(0, before);
    }
    expect(addon.threadAffinity(0)).toEqual(before);
  });
});

/** /proc/thread-self/status of the calling thread. */
function readStatus(): string {
  return readFileSync('/proc/thread-self/status', 'utf8');
}
