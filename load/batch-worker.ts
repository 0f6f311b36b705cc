/**
 * The task of stackd-load's piscina pool (decision 0020): run one batch of clients at
 * once — spawn or connect them, check every byte, time them — and return their outcomes.
 * Batches are interchangeable, so any pool thread takes any batch; a thread runs many
 * batches at a time (they wait on I/O, not on the CPU).
 */
import type { ClientOutcome, ClientSpec } from './client.js';
import type { Kind } from './mix.js';
import { runProcessClient } from './process-clients.js';
import { runSocketClient } from './socket-clients.js';

/** How clients are made: real nc/curl processes, or Node sockets. */
export type LoadMode = 'process' | 'socket';

/** One batch: a client per entry of `kinds`, all started at once. */
export interface BatchTask {
  mode: LoadMode;
  kinds: Kind[];
  spec: ClientSpec;
}

/** The batch's outcomes, one per client, in the order of `kinds`. */
export interface BatchResult {
  outcomes: ClientOutcome[];
}

/** piscina's handler: runs the batch (never rejects: every failure is an outcome). */
export default async function runBatch(task: BatchTask): Promise<BatchResult> {
  const run = task.mode === 'process' ? runProcessClient : runSocketClient;
  const outcomes = await Promise.all(task.kinds.map((k) => run(k, task.spec)));
  return { outcomes };
}
