/**
 * The layout of shard workers on threads (control/thread-plan.ts): by default one thread
 * per CPU less the I/O thread's, never more than the shards; --threads overrides; every
 * shard runs on exactly one thread.
 */
import { describe, expect, it } from 'vitest';
import { shardsOfThread, threadsFor } from '../../../src/control/thread-plan.js';

describe('thread plan', () => {
  it('defaults to min(workers, CPUs − 1), at least 1', () => {
    expect(threadsFor(4, 0, 2)).toBe(1); // the 2-vCPU lab machine: four shards on one thread
    expect(threadsFor(4, 0, 1)).toBe(1);
    expect(threadsFor(4, 0, 8)).toBe(4);
    expect(threadsFor(8, 0, 4)).toBe(3);
    expect(threadsFor(1, 0, 16)).toBe(1);
  });

  it('takes --threads as given, never above the workers', () => {
    expect(threadsFor(4, 4, 2)).toBe(4);
    expect(threadsFor(4, 2, 2)).toBe(2);
    expect(threadsFor(2, 5, 8)).toBe(2);
  });

  it('puts every shard on exactly one thread, round robin', () => {
    expect(shardsOfThread(0, 1, 4)).toEqual([0, 1, 2, 3]);
    expect(shardsOfThread(0, 3, 8)).toEqual([0, 3, 6]);
    expect(shardsOfThread(2, 3, 8)).toEqual([2, 5]);
    for (const [threads, workers] of [[1, 1], [2, 4], [3, 8], [4, 4], [5, 7]]) {
      const all = Array.from({ length: threads }, (_, t) => shardsOfThread(t, threads, workers)).flat().sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: workers }, (_, i) => i));
    }
  });
});
