/**
 * The addon's waker (phy/loop-waker.ts over native/tap.c wakerOpen/wakerArm/wakerClose):
 * a signal on the eventfd runs the callback from the event loop, the armed deadline runs
 * it with timedOut = true, re-arming replaces the deadline, microtasks queued by the
 * callback run before the loop goes on, and nothing runs after close.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadTapAddon } from '../../../src/phy/tap.js';
import { EventfdLoopWaker } from '../../../src/phy/loop-waker.js';
import { waitFor } from '../../helpers/wait-for.js';

const addon = loadTapAddon();
const open: Array<() => void> = [];

afterEach(() => {
  while (open.length > 0) open.pop()!();
});

/** A waker on a fresh eventfd that records its calls (raw addon, to see timedOut). */
function recordingWaker(): { fd: number; calls: boolean[]; waker: ReturnType<typeof addon.wakerOpen> } {
  const fd = addon.eventfd();
  const calls: boolean[] = [];
  const waker = addon.wakerOpen(fd, (timedOut) => calls.push(timedOut));
  open.push(() => {
    addon.wakerClose(waker);
    addon.close(fd);
  });
  return { fd, calls, waker };
}

describe('loop waker', () => {
  it('calls back (timedOut false) when another party signals the eventfd, once per signal burst', async () => {
    const w = recordingWaker();
    addon.eventfdSignal(w.fd);
    addon.eventfdSignal(w.fd); // two signals before the loop runs: one readable event
    await waitFor(() => w.calls.length >= 1, { what: 'the waker callback' });
    await new Promise((r) => setImmediate(r));
    expect(w.calls).toEqual([false]);
    expect(addon.eventfdDrain(w.fd)).toBe(0); // the waker drained the counter
  });

  it('calls back (timedOut true) when the armed deadline passes; re-arming replaces the deadline', async () => {
    const w = recordingWaker();
    addon.wakerArm(w.waker, 10_000);
    addon.wakerArm(w.waker, 5); // replaces the 10 s deadline
    await waitFor(() => w.calls.length >= 1, { what: 'the deadline callback' });
    expect(w.calls).toEqual([true]);
    addon.wakerArm(w.waker, 5);
    addon.wakerArm(w.waker, -1); // disarmed: no call
    await new Promise((r) => setTimeout(r, 30));
    expect(w.calls).toEqual([true]);
  });

  it('runs microtasks queued by the callback before other callbacks of the loop', async () => {
    const fd = addon.eventfd();
    const order: string[] = [];
    const waker = new EventfdLoopWaker(addon, fd);
    open.push(() => {
      waker.close();
      addon.close(fd);
    });
    waker.open(() => {
      order.push('wake');
      queueMicrotask(() => order.push('microtask'));
      process.nextTick(() => order.push('tick'));
      setImmediate(() => order.push('immediate'));
    });
    addon.eventfdSignal(fd);
    await waitFor(() => order.length === 4, { what: 'the callback and what it queued' });
    expect(order).toEqual(['wake', 'tick', 'microtask', 'immediate']);
  });

  it('calls nothing after close, and close is idempotent', async () => {
    const fd = addon.eventfd();
    let calls = 0;
    const waker = new EventfdLoopWaker(addon, fd);
    waker.open(() => calls++);
    waker.arm(1);
    waker.close();
    waker.close();
    addon.eventfdSignal(fd);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(0);
    addon.close(fd);
  });
});
