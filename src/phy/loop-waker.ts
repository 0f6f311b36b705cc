/**
 * A thread's event loop as the place where it sleeps: woken when another thread signals an
 * eventfd, or when a deadline passes, with the callback running straight from the loop's
 * epoll_wait (the addon's waker: a libuv poll handle and timer; decision 0026). Used by the
 * shard workers, which keep their event loop for applications, timers and RPC and are
 * woken by the I/O thread when frames arrive.
 */
import type { TapAddon, Waker } from './tap.js';

/** Where a thread with an event loop sleeps between bursts of work. */
export interface LoopWaker {
  /**
   * True when the waker raises the sleeper's ring flag itself, when its thread goes to
   * sleep (a waker shared by the workers of a thread, dataplane/shared-loop-waker.ts); the
   * sleeper then parks with arm() alone. False: the sleeper raises it before arm().
   */
  readonly raisesFlag: boolean;
  /**
   * Starts calling `onWake` when signalled or when the armed deadline passes. Keeps the
   * loop alive until close(). `hooks` let a shared waker see the sleeper's work and flag.
   */
  open(onWake: () => void, hooks?: SleeperHooks): void;
  /** The sleeper, busy, yields to its event loop (a shared waker looks for its other sleepers' work). */
  yielding?(): void;
  /** Sets the deadline `ms` from now, replacing the last one. */
  arm(ms: number): void;
  /** Stops; no call follows. */
  close(): void;
}

/** What a sleeper shows a waker shared with others (dataplane/shared-loop-waker.ts). */
export interface SleeperHooks {
  /** Since when it has had work waiting (ms on the waker's clock), Infinity when none. */
  workSince(): number;
  /** Raises its ring's sleeping flag; false (the flag lowered again) when frames came meanwhile. */
  raise(): boolean;
  /** Lowers its ring's sleeping flag. */
  lower(): void;
}

/** The waker on an eventfd that other threads signal with `eventfdSignal(fd)`. */
export class EventfdLoopWaker implements LoopWaker {
  readonly raisesFlag = false;
  private waker: Waker | null = null;

  constructor(private readonly addon: TapAddon, private readonly fd: number) {}

  open(onWake: () => void): void {
    this.waker = this.addon.wakerOpen(this.fd, onWake);
  }

  arm(ms: number): void {
    if (this.waker !== null) this.addon.wakerArm(this.waker, ms);
  }

  close(): void {
    if (this.waker !== null) this.addon.wakerClose(this.waker);
    this.waker = null;
  }
}
