/**
 * waitFor: the one way tests wait for a state they cannot reach synchronously (a child
 * process's output, a counter in another thread, bytes crossing an asynchronous fake).
 * It polls a probe until the probe returns a value (anything but undefined, null or
 * false), with a deadline; on timeout it fails naming what it waited for. Never a sleep
 * and never a count of event-loop turns: the wait ends on the state itself.
 *
 * Polling uses the timers captured when this module loads, so a test that installs
 * vitest's fake timers afterwards still gets a real deadline and real polling.
 */

const realSetTimeout = globalThis.setTimeout;
const realSetImmediate = globalThis.setImmediate;
const realNow = Date.now;

/** How to wait. */
export interface WaitOptions {
  /** What is awaited, for the timeout message ("the peer's 'ready' line"). */
  what: string;
  /** Deadline in ms (default 10 s). */
  timeoutMs?: number;
  /** Pause between polls in ms; 0 (the default) polls once per macrotask turn. */
  intervalMs?: number;
  /** Extra context for the timeout message (output so far, the last value seen). */
  detail?: () => string;
}

/** A probe's result with "not yet" (undefined, null, false) taken out. */
export type Ready<T> = Exclude<T, undefined | null | false>;

/**
 * Polls `probe` until it returns a value other than undefined, null or false, and
 * resolves with that value (0 and '' count as values). A probe that throws (or rejects)
 * ends the wait with that error. Rejects after `timeoutMs` with "timed out after N ms
 * waiting for <what>".
 */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: WaitOptions): Promise<Ready<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = realNow() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v as Ready<T>;
    if (realNow() >= deadline) {
      const detail = opts.detail ? `: ${opts.detail()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what}${detail}`);
    }
    await new Promise<void>((r) => (opts.intervalMs ? realSetTimeout(r, opts.intervalMs) : realSetImmediate(r)));
  }
}
