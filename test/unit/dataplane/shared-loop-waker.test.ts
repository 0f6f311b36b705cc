/**
 * The waker the shard workers of one thread share (dataplane/shared-loop-waker.ts,
 * decision 0055), over a scripted inner waker and a virtual clock: one signal runs every
 * parked member with work and no other, oldest work first; the inner deadline is the earliest of the parked
 * members'; a member past its deadline runs without work; a member that is running is
 * never called; work a turn leaves for a sibling runs in the same wake-up; the ring flags
 * are up only while the whole thread sleeps, and frames that raise no signal (the thread
 * awake) are still found; the inner waker closes with the last member.
 */
import { describe, expect, it } from 'vitest';
import { SharedLoopWaker } from '../../../src/dataplane/shared-loop-waker.js';
import type { LoopWaker } from '../../../src/phy/loop-waker.js';

/** An inner waker that records arm/close and lets the test fire it. */
class ScriptedWaker implements LoopWaker {
  readonly raisesFlag = false;
  onWake: (() => void) | null = null;
  arms: number[] = [];
  closed = false;
  open(onWake: () => void): void {
    this.onWake = onWake;
  }
  arm(ms: number): void {
    this.arms.push(ms);
  }
  close(): void {
    this.closed = true;
  }
  fire(): void {
    this.onWake!();
  }
}

/** A shared waker over `n` members, each with a work flag and a record of its calls. */
function setup(n: number) {
  let t = 1000;
  const inner = new ScriptedWaker();
  const shared = new SharedLoopWaker(inner, () => t);
  const work = new Array<boolean>(n).fill(false);
  /** When each member's work came (ms), for the order of the calls. */
  const since = new Array<number>(n).fill(0);
  /** Each member's ring flag as the waker left it. */
  const flags = new Array<boolean>(n).fill(false);
  const calls: number[] = [];
  const onWake: Array<() => void> = [];
  const members = Array.from({ length: n }, (_, i) => {
    const m = shared.member();
    onWake[i] = () => {
      calls.push(i);
      work[i] = false;
    };
    m.open(() => onWake[i](), {
      workSince: () => (work[i] ? since[i] : Infinity),
      raise: () => {
        flags[i] = !work[i];
        return flags[i];
      },
      lower: () => {
        flags[i] = false;
      },
    });
    return m;
  });
  return { inner, shared, members, work, since, flags, calls, onWake, advance: (ms: number) => (t += ms) };
}

describe('shared loop waker: one wake-up for the shards of a thread', () => {
  it('opens the inner waker once and runs, on one signal, every parked member with work and no other', () => {
    const { inner, members, work, calls } = setup(4);
    expect(inner.onWake).not.toBeNull();
    members.forEach((m) => m.arm(100));
    work[1] = true;
    work[3] = true;
    inner.fire();
    expect(calls).toEqual([1, 3]);
    calls.length = 0;
    inner.fire(); // 1 and 3 are not parked any more; 0 and 2 have no work
    expect(calls).toEqual([]);
  });

  it('arms the inner waker for the earliest deadline of the parked members, and re-arms when it changes', () => {
    const { inner, members } = setup(3);
    members[0].arm(50);
    members[1].arm(20);
    members[2].arm(80);
    expect(inner.arms).toEqual([50, 20]); // the third deadline is later: no new arm
    members[1].arm(5); // a sooner deadline (a flush while parked)
    expect(inner.arms.at(-1)).toBe(5);
  });

  it('runs the members with work oldest work first, whatever their order on the thread', () => {
    const { inner, members, work, since, calls } = setup(4);
    members.forEach((m) => m.arm(100));
    [work[0], work[2], work[3]] = [true, true, true];
    [since[0], since[2], since[3]] = [990, 970, 980];
    inner.fire();
    expect(calls).toEqual([2, 3, 0]);
  });

  it('runs a member whose deadline has passed without work, and only it; then arms for the rest', () => {
    const { inner, members, calls, advance } = setup(3);
    members[0].arm(10);
    members[1].arm(30);
    members[2].arm(60);
    advance(12);
    inner.fire();
    expect(calls).toEqual([0]);
    expect(inner.arms.at(-1)).toBe(18); // member 1's deadline, 30 − 12 ms from now
  });

  it('never calls a member that is running (not parked), whatever its work or deadline', () => {
    const { inner, members, work, calls, advance } = setup(2);
    members[0].arm(5);
    inner.fire(); // nothing due, no work
    work[1] = true; // member 1 never parked: it runs by itself (its own setImmediate)
    advance(10);
    inner.fire();
    expect(calls).toEqual([0]);
  });

  it('runs in the same wake-up a parked sibling that a turn left with work, after the pass had gone by it', () => {
    const { inner, members, work, calls, onWake } = setup(2);
    members.forEach((m) => m.arm(100));
    const second = onWake[1];
    onWake[1] = () => {
      second();
      work[0] = true; // e.g. frames for member 0 arrived while member 1 ran
    };
    work[1] = true;
    inner.fire(); // the first pass finds work for member 1 only; a second runs member 0
    expect(calls).toEqual([1, 0]);
  });

  it('raises the flags only when the last member parks (the thread sleeps) and lowers them when it wakes', () => {
    const { inner, members, work, flags } = setup(3);
    members[0].arm(100);
    members[1].arm(100);
    expect(flags).toEqual([false, false, false]); // member 2 still runs: the thread is awake
    members[2].arm(100);
    expect(flags).toEqual([true, true, true]);
    work[1] = true;
    inner.fire(); // runs member 1; the others stay parked, their flags down while it runs
    expect(flags).toEqual([false, false, false]);
    members[1].arm(100); // the last to park again: the thread sleeps
    expect(flags).toEqual([true, true, true]);
  });

  it('runs soon a member whose frames came as the thread went to sleep (its flag refused: no signal will come)', async () => {
    const { members, work, calls, flags } = setup(2);
    members[0].arm(100);
    work[0] = true;
    members[1].arm(100);
    expect(flags).toEqual([false, true]);
    expect(calls).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([0]);
  });

  it('runs soon a parked member with frames that a busy sibling finds as it yields (the thread awake: no signal)', async () => {
    const { members, work, calls } = setup(2);
    members[0].arm(100); // member 1 runs on
    work[0] = true;
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([]); // nothing looked yet
    members[1].yielding!();
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([0]);
  });

  it('disarms when no member is parked and closes the inner waker with the last member', () => {
    const { inner, members, work } = setup(2);
    members[0].arm(10);
    work[0] = true;
    inner.fire();
    expect(inner.arms.at(-1)).toBe(-1);
    members[0].close();
    expect(inner.closed).toBe(false);
    members[1].close();
    expect(inner.closed).toBe(true);
  });
});
