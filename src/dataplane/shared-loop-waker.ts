/**
 * One wake-up, and one sleep, for all the shard workers that share a thread (decision
 * 0055).
 *
 * With more shards than threads (decision 0029: `--workers 4` on 2 vCPUs runs all four on
 * one thread), each shard sleeping on its own eventfd with its own ring flag cost, per
 * read of a burst, one eventfd write by the I/O thread per sleeping shard, even while the
 * thread was awake running a sibling (the write then woke nobody, and the thread later
 * took an epoll event, an eventfd read and a callback with its microtask checkpoint per
 * shard). Here the shards of a thread sleep on the thread's one eventfd and one deadline:
 *
 * - A shard that runs out of work parks (arm): it is not called until this waker calls
 *   it. Its ring's sleeping flag stays down while any shard of the thread still runs; when
 *   the last one parks, the thread goes to sleep: every parked shard's flag is raised
 *   (`raise`, which re-checks the ring: the Dekker pattern of dataplane/ring.ts), and a
 *   shard whose ring got frames meanwhile is run at once. So the I/O thread signals only a
 *   sleeping thread, once per read (io-loop.ts publishRx).
 * - A signal or the earliest deadline runs, in one callback, every parked shard with work
 *   (`workSince`: when its oldest waiting frame was queued, or at once for segments
 *   waiting for TX room) or past its own deadline, oldest work first (as the I/O thread
 *   woke shards with their own eventfds in the order of their first frame, decision
 *   0029's ninth-session amendment); again while a turn left a sibling with work, up to
 *   ROUNDS passes. The flags are lowered first: the thread is awake.
 * - While the thread is awake, frames for a parked shard raise no signal, so they are
 *   looked for: after each shard's turn in a wake-up, whenever a busy shard yields to the
 *   event loop (`yielding`), and when the thread goes to sleep.
 */
import type { LoopWaker, SleeperHooks } from '../phy/loop-waker.js';

/** Most passes over the members per wake-up (a turn may leave frames for a sibling). */
const ROUNDS = 4;

/** One shard's view of the shared waker. */
class Member implements LoopWaker {
  readonly raisesFlag = true;
  onWake: (() => void) | null = null;
  hooks: SleeperHooks = { workSince: () => Infinity, raise: () => true, lower: () => {} };
  /** Parked (armed and not yet called back), and until when (ms on the owner's clock). */
  parked = false;
  deadline = Infinity;
  /** Set by a wake-up for the members it runs: since when this one has waited (ms). */
  key = 0;

  constructor(private readonly owner: SharedLoopWaker) {}

  open(onWake: () => void, hooks?: SleeperHooks): void {
    this.onWake = onWake;
    if (hooks !== undefined) this.hooks = hooks;
    this.owner.opened(this);
  }

  arm(ms: number): void {
    this.deadline = this.owner.now() + Math.max(0, ms);
    this.owner.parked(this);
  }

  yielding(): void {
    this.owner.lookForWork();
  }

  close(): void {
    this.owner.closed(this);
    this.onWake = null;
    this.parked = false;
  }
}

/** The waker of a thread of shard workers: one LoopWaker underneath, one member per shard. */
export class SharedLoopWaker {
  private readonly open: Member[] = [];
  /** Open members not parked (running, or between their own turns). */
  private running = 0;
  /** The parked members' flags are raised: the thread sleeps. */
  private asleep = false;
  /** Inside a wake-up: a member that parks does not put the thread to sleep yet. */
  private waking = false;
  /** A wake-up is queued with setImmediate. */
  private queued = false;
  /** The deadline the inner waker is armed for (ms; Infinity: none; NaN: unknown). */
  private armedFor = Infinity;
  private innerOpen = false;
  /** Members a wake-up runs, oldest work first (reused: no array per wake-up). */
  private readonly due: Member[] = [];

  /** Members called back so far. */
  calls = 0;

  constructor(
    private readonly inner: LoopWaker,
    readonly now: () => number,
  ) {}

  /** A new member (one per shard). */
  member(): LoopWaker {
    return new Member(this);
  }

  /** @internal a member opened: it runs (its owner calls its turn next); the inner waker opens with the first. */
  opened(m: Member): void {
    if (this.open.includes(m)) return;
    this.open.push(m);
    this.running++;
    if (!this.innerOpen) {
      this.innerOpen = true;
      this.inner.open(this.wake);
    }
  }

  /** @internal a member closed: the inner waker closes with the last one. */
  closed(m: Member): void {
    const i = this.open.indexOf(m);
    if (i < 0) return;
    this.open.splice(i, 1);
    if (!m.parked) this.running--;
    if (this.open.length === 0 && this.innerOpen) {
      this.innerOpen = false;
      this.armedFor = Infinity;
      this.inner.close();
      return;
    }
    this.settle();
  }

  /** @internal a member parked (or, parked already, moved its deadline). */
  parked(m: Member): void {
    if (!m.parked) {
      m.parked = true;
      this.running--;
    }
    this.settle();
  }

  /** @internal a busy member yields to the loop: a parked one with frames is run soon. */
  lookForWork(): void {
    if (this.queued || this.asleep) return;
    const open = this.open;
    for (let i = 0; i < open.length; i++) {
      const m = open[i];
      if (m.parked && m.hooks.workSince() !== Infinity) {
        this.queue();
        return;
      }
    }
  }

  /** Puts the thread to sleep when no member runs (outside a wake-up), and arms the inner waker. */
  private settle(): void {
    if (this.waking) return;
    if (this.running === 0 && !this.asleep) this.sleep();
    this.rearm();
  }

  /** Raises every parked member's flag; one with frames that came meanwhile is run soon. */
  private sleep(): void {
    this.asleep = true;
    const open = this.open;
    let work = false;
    for (let i = 0; i < open.length; i++) if (!open[i].hooks.raise()) work = true;
    if (work) this.queue();
  }

  private queue(): void {
    if (this.queued) return;
    this.queued = true;
    setImmediate(this.wake);
  }

  /** Arms the inner waker for the earliest deadline of the parked members. */
  private rearm(): void {
    if (!this.innerOpen) return;
    let due = Infinity;
    const open = this.open;
    for (let i = 0; i < open.length; i++) {
      const m = open[i];
      if (m.parked && m.deadline < due) due = m.deadline;
    }
    if (due === this.armedFor) return;
    this.armedFor = due;
    this.inner.arm(due === Infinity ? -1 : Math.max(0, due - this.now()));
  }

  /**
   * A signal, the deadline or a queued wake-up: lowers the flags (the thread is awake),
   * then calls back the parked members with work or past their deadline.
   */
  private readonly wake = (): void => {
    this.queued = false;
    const open = this.open;
    if (this.asleep) {
      this.asleep = false;
      for (let i = 0; i < open.length; i++) if (open[i].parked) open[i].hooks.lower();
    }
    this.waking = true;
    const due = this.due;
    let called = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const now = this.now();
      let k = 0;
      for (let i = 0; i < open.length; i++) {
        const m = open[i];
        if (!m.parked) continue;
        const since = m.hooks.workSince();
        if (since === Infinity && m.deadline > now) continue;
        m.key = since < m.deadline ? since : m.deadline;
        // Insertion by key: a thread's workers are few.
        let j = k++;
        while (j > 0 && due[j - 1].key > m.key) {
          due[j] = due[j - 1];
          j--;
        }
        due[j] = m;
      }
      if (k === 0) break;
      for (let i = 0; i < k; i++) {
        const m = due[i];
        // Parked still, unless an earlier member's turn closed it (the stop).
        if (!m.parked || m.onWake === null) continue;
        m.parked = false;
        this.running++;
        called++;
        m.onWake();
      }
    }
    this.waking = false;
    this.calls += called;
    // The deadline armed may have been a member's that has run since.
    this.armedFor = NaN;
    this.settle();
  };
}
