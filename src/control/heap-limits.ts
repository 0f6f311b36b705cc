/**
 * V8 heap limits of the data-plane threads (Worker resourceLimits), issue 8 item 6.
 *
 * - The young generation is capped small: V8 grows a busy isolate's new space up to
 *   48 MiB on this kind of machine, and with one isolate per thread that is most of the
 *   RSS a loaded stackd held and did not give back (docs/benchmarks.md, soak). Frames and
 *   segments allocate little that survives a scavenge, so a small new space costs more
 *   frequent, cheap scavenges.
 * - The old generation is sized from the worker's share of --max-connections, so that a
 *   full connection table fits and a runaway worker stops at a known size (the worker
 *   then exits with ERR_WORKER_OUT_OF_MEMORY and the supervisor restarts it) instead of
 *   taking the machine's memory.
 * - The old generation starts with a 64 MiB allocation limit (V8's --initial-old-space-size,
 *   a process-wide flag set before the threads' isolates are created). With V8's own
 *   start (a limit a few MiB above a small live heap), a worker moving bulk data ran an
 *   incremental mark-compact every ~17 MB received: 30–40 per 512 MB upload, their
 *   concurrent marking on V8's helper threads costing ~20 % of the process's CPU; with
 *   64 MiB, 0–2 (decision 0027). The limit is where the first full collection happens,
 *   not a reservation: an idle stackd's heap does not grow to it.
 */
import { setFlagsFromString } from 'node:v8';

/** Young generation of every data-plane thread (MiB). */
export const YOUNG_GENERATION_MB = 8;
/** Old generation of a worker before its connections are counted (MiB): code, services, applications. */
const WORKER_BASE_MB = 256;
/** Old-generation budget per connection a worker may hold (KiB): a busy connection's objects, several times an idle one's. */
const PER_CONNECTION_KIB = 6;
/** Old generation of the I/O thread (MiB): it allocates almost nothing per frame. */
const IO_OLD_GENERATION_MB = 256;

/** First old-generation allocation limit of every isolate (MiB). */
export const INITIAL_OLD_GENERATION_MB = 64;

/**
 * The V8 flag that sets it, or null when the process was started with its own
 * --initial-old-space-size (the user's choice wins).
 */
export function initialOldSpaceFlag(execArgv: readonly string[], nodeOptions = ''): string | null {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--initial[-_]old[-_]space[-_]size(=|$)/.test(a));
  return given ? null : `--initial-old-space-size=${INITIAL_OLD_GENERATION_MB}`;
}

/** Sets the flag for the isolates created from now on (the data-plane threads). */
export function configureDataPlaneIsolates(): void {
  const flag = initialOldSpaceFlag(process.execArgv, process.env.NODE_OPTIONS);
  if (flag !== null) setFlagsFromString(flag);
}

/** Worker resourceLimits, in MiB. */
export interface HeapLimits {
  maxYoungGenerationSizeMb: number;
  maxOldGenerationSizeMb: number;
}

/** The limits of a thread whose shard workers may hold `maxConnections` connections in all. */
export function workerHeapLimits(maxConnections: number): HeapLimits {
  return {
    maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
    maxOldGenerationSizeMb: WORKER_BASE_MB + Math.ceil((maxConnections * PER_CONNECTION_KIB) / 1024),
  };
}

/** The limits of the I/O thread. */
export function ioHeapLimits(): HeapLimits {
  return { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: IO_OLD_GENERATION_MB };
}
