/**
 * The process-wide pool behind `api.offload` (decision 0021): one piscina pool in the main
 * thread, fixed size (minThreads = maxThreads, no idle timeout), created on the first
 * task, with a bounded queue. Each shard worker talks to it over its own MessagePort
 * (attach()); a task that finds `threads + maxQueue` tasks already in flight is refused
 * at once with ERR_OFFLOAD_QUEUE_FULL and counted, never queued without bound.
 */
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  ERR_OFFLOAD_QUEUE_FULL, ERR_OFFLOAD_UNAVAILABLE, codedError, errorInfo, rebuildError, type OffloadReply, type OffloadRequest,
  type TaskCall, type TaskOutcome,
} from '../socket/offload.js';
import { packageRoot } from '../phy/package-root.js';

/** Size and queue bound of the pool. */
export interface AppPoolOptions {
  /** Threads, started together on the first task and kept (1..64). */
  threads: number;
  /** Tasks that may wait for a thread (0..100000); beyond that a task is refused. */
  maxQueue: number;
}

/** The pool as GET /stats shows it. */
export interface AppPoolStats {
  threads: number;
  maxQueue: number;
  /** True once the first task started the threads. */
  started: boolean;
  /** Tasks accepted and not finished (running or queued). */
  inFlight: number;
  /** Highest inFlight seen. */
  highWater: number;
  completed: number;
  /** Tasks that threw (or whose result could not be sent back). */
  failed: number;
  /** Tasks refused because the queue was full. */
  rejectedFull: number;
}

/** piscina's messages for a refused task (errors.js: TaskQueueAtLimit, NoTaskQueueAvailable). */
const PISCINA_QUEUE_FULL = /^(Task queue is at limit|No task queue available and all Workers are busy)$/;

/** Absolute path of the pool threads' entry file (built). */
export function offloadRunnerFile(): string {
  return join(packageRoot(), 'dist', 'workers', 'offload-task.js');
}

/** A thrown value as an Error (piscina hands back what a crashed thread reported, not always an Error). */
function asError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new Error(
    `offload: the task's pool thread died (${inspect(e)}); a result that structured clone cannot copy ` +
      '(a function, a symbol) does this; the pool replaced the thread',
  );
}

/** See the file header. */
export class AppPool {
  private pool: Piscina | null = null;
  private closed = false;
  private readonly ports = new Set<MessagePort>();
  private readonly counts = { inFlight: 0, highWater: 0, completed: 0, failed: 0, rejectedFull: 0 };

  /** @param runner the threads' entry file (workers/offload-task.ts, built) */
  constructor(readonly options: AppPoolOptions, private readonly runner = offloadRunnerFile()) {}

  /** Serves the requests arriving on `port` (a worker's end is an OffloadClient). */
  attach(port: MessagePort): void {
    this.ports.add(port);
    port.on('message', (req: OffloadRequest) => {
      void this.serve(port, req);
    });
    port.on('close', () => this.ports.delete(port));
  }

  /** Runs one task: the result, or the error the task threw; refuses when the queue is full. */
  async run(req: Omit<OffloadRequest, 'id'>): Promise<unknown> {
    if (this.closed) throw codedError(ERR_OFFLOAD_UNAVAILABLE, 'offload: the pool is closed');
    const { threads, maxQueue } = this.options;
    if (this.counts.inFlight >= threads + maxQueue) {
      this.counts.rejectedFull++;
      throw codedError(
        ERR_OFFLOAD_QUEUE_FULL,
        `offload queue full: ${this.counts.inFlight} tasks in flight (${threads} threads + a queue of ${maxQueue}); ` +
          'retry later, do the work inline, or raise --app-threads / --app-queue',
      );
    }
    this.pool ??= new Piscina({
      filename: this.runner, minThreads: threads, maxThreads: threads, idleTimeout: Infinity, maxQueue, concurrentTasksPerWorker: 1,
    });
    this.counts.inFlight++;
    if (this.counts.inFlight > this.counts.highWater) this.counts.highWater = this.counts.inFlight;
    try {
      const call: TaskCall = { module: req.module, name: req.name, data: req.data };
      let out: TaskOutcome;
      try {
        out = (await this.pool.run(call, { transferList: req.transfer as never })) as TaskOutcome;
      } catch (e) {
        // piscina's own bound (the same figures; only reached while its threads start up).
        if (e instanceof Error && PISCINA_QUEUE_FULL.test(e.message)) {
          this.counts.rejectedFull++;
          throw codedError(ERR_OFFLOAD_QUEUE_FULL, `offload queue full (${e.message}); retry later`);
        }
        this.counts.failed++;
        throw asError(e);
      }
      if (!out.ok) {
        this.counts.failed++;
        throw rebuildError(out.error);
      }
      this.counts.completed++;
      return out.result;
    } finally {
      this.counts.inFlight--;
    }
  }

  /** Counters and settings for /stats. */
  stats(): AppPoolStats {
    return { threads: this.options.threads, maxQueue: this.options.maxQueue, started: this.pool !== null, ...this.counts };
  }

  /** Refuses new tasks, stops the threads (tasks still running are rejected) and closes the ports. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.ports) p.close();
    this.ports.clear();
    const pool = this.pool;
    this.pool = null;
    if (pool !== null) await pool.destroy();
  }

  private async serve(port: MessagePort, req: OffloadRequest): Promise<void> {
    let reply: OffloadReply;
    try {
      reply = { id: req.id, ok: true, result: await this.run(req) };
    } catch (e) {
      reply = { id: req.id, ok: false, error: errorInfo(e) };
    }
    try {
      port.postMessage(reply);
    } catch (e) {
      // The result cannot be cloned (a function, a class instance with private state...).
      this.counts.completed--;
      this.counts.failed++;
      port.postMessage({ id: req.id, ok: false, error: errorInfo(e) } satisfies OffloadReply);
    }
  }
}
