/**
 * test/helpers/wait-for.ts: resolves with the probe's first ready value (0 counts),
 * fails with the awaited thing named after the deadline, passes a probe's error
 * through, and keeps a real deadline under vitest's fake timers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('waitFor', () => {
  it('resolves with the first value that is not undefined, null or false; 0 is a value', async () => {
    const seen: number[] = [];
    let n = 0;
    const v = await waitFor(() => {
      seen.push(n);
      const r = [undefined, null, false, 0][n++];
      return r;
    }, { what: 'the fourth poll' });
    expect(v).toBe(0);
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('waits for a state another macrotask sets, and awaits async probes', async () => {
    let flag = false;
    setImmediate(() => setImmediate(() => (flag = true)));
    await waitFor(() => flag, { what: 'the flag' });
    expect(flag).toBe(true);
    expect(await waitFor(() => Promise.resolve('async value'), { what: 'an async probe' })).toBe('async value');
  });

  it('fails after the deadline naming what it waited for, with the detail', async () => {
    let polls = 0;
    const err = await waitFor(() => { polls++; return false; }, {
      what: 'a state that never comes', timeoutMs: 50, intervalMs: 5, detail: () => 'last value false',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('timed out after 50 ms waiting for a state that never comes: last value false');
    expect(polls).toBeGreaterThan(1);
  });

  it("passes a probe's error through at once", async () => {
    await expect(waitFor(() => { throw new Error('child exited'); }, { what: 'x' })).rejects.toThrow('child exited');
  });

  it('keeps a real deadline when the test fakes timers and Date', async () => {
    vi.useFakeTimers();
    const err = await waitFor(() => false, { what: 'nothing', timeoutMs: 30, intervalMs: 5 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^timed out after 30 ms waiting for nothing$/);
  });
});
