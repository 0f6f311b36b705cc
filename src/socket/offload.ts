/**
 * Application offload, a worker's side: `api.offload(task, data)` runs `task` (an exported
 * function of a module) on the process-wide pool of the main thread (src/control/app-pool.ts,
 * a fixed-size piscina pool) and resolves with what it returns, or rejects with what it
 * throws. The request goes over this worker's MessagePort; ArrayBuffers listed in
 * `transfer` are moved, not copied. A full pool queue rejects at once with
 * ERR_OFFLOAD_QUEUE_FULL: the caller decides (do it inline, answer 503, retry later).
 * Decision 0021.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MessagePort, Transferable } from 'node:worker_threads';

/** What to run: the module (a path, relative to the current directory, or a file: URL) and its export. */
export interface OffloadTask {
  module: string | URL;
  /** Name of the exported function (default: the default export). */
  name?: string;
}

/** Options of one offloaded call. */
export interface OffloadOptions {
  /** Objects moved to the pool thread instead of copied (ArrayBuffers, MessagePorts). */
  transfer?: Transferable[];
}

/** A request on the offload port (worker → main thread). */
export interface OffloadRequest {
  id: number;
  /** Absolute path of the task module. */
  module: string;
  name: string;
  data: unknown;
  /** The objects of `data` to move on to the pool thread. */
  transfer: Transferable[];
}

/** An error as it crosses threads. */
export interface OffloadErrorInfo {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** The answer to a request (main thread → worker). */
export type OffloadReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: OffloadErrorInfo };

/** What a pool thread is asked to run (workers/offload-task.ts). */
export interface TaskCall {
  module: string;
  name: string;
  data: unknown;
}

/** What a pool thread answers: the result, or the error the task threw, as plain fields. */
export type TaskOutcome = { ok: true; result: unknown } | { ok: false; error: OffloadErrorInfo };

/** Code of the error when the pool's queue is full. */
export const ERR_OFFLOAD_QUEUE_FULL = 'ERR_OFFLOAD_QUEUE_FULL';
/** Code of the error when there is no pool (closed, or none configured). */
export const ERR_OFFLOAD_UNAVAILABLE = 'ERR_OFFLOAD_UNAVAILABLE';

/** An Error with a code, as Node's own errors have. */
export function codedError(code: string, message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code });
}

/** Plain fields of a thrown value, for the trip between threads (structured clone keeps no `code`). */
export function errorInfo(e: unknown): OffloadErrorInfo {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}), ...(e.stack !== undefined ? { stack: e.stack } : {}) };
}

/** The error an offloaded task threw, rebuilt in the calling thread (name, message, code, stack). */
export function rebuildError(info: OffloadErrorInfo): Error {
  const e = new Error(info.message) as Error & { code?: string };
  e.name = info.name;
  if (info.code !== undefined) e.code = info.code;
  if (info.stack !== undefined) e.stack = info.stack;
  return e;
}

/** Absolute path of a task module (what piscina imports). */
export function taskModulePath(module: string | URL): string {
  if (module instanceof URL || module.startsWith('file:')) return fileURLToPath(module);
  return isAbsolute(module) ? module : resolve(module);
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * The worker's end of the offload port: numbers requests, matches replies. The port keeps
 * the thread alive only while answers are awaited.
 */
export class OffloadClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly port: MessagePort) {
    port.on('message', (m: OffloadReply) => {
      this.settle(m);
    });
    port.on('close', () => {
      this.close();
    });
    port.unref();
  }

  /** Requests awaiting an answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends `task(data)` to the pool; see the file header. */
  run<R>(task: OffloadTask, data: unknown, opts: OffloadOptions = {}): Promise<R> {
    if (this.closed) return Promise.reject(codedError(ERR_OFFLOAD_UNAVAILABLE, 'offload: the pool is closed'));
    let module: string;
    try {
      module = taskModulePath(task.module);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const id = this.nextId++;
    const transfer = opts.transfer ?? [];
    const req: OffloadRequest = { id, module, name: task.name ?? 'default', data, transfer };
    return new Promise<R>((resolveRun, rejectRun) => {
      try {
        this.port.postMessage(req, transfer);
      } catch (e) {
        rejectRun(e instanceof Error ? e : new Error(String(e))); // e.g. DataCloneError
        return;
      }
      if (this.pending.size === 0) this.port.ref();
      this.pending.set(id, { resolve: resolveRun as (v: unknown) => void, reject: rejectRun });
    });
  }

  /** Rejects everything pending and refuses new tasks (the port closed or the worker stops). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = codedError(ERR_OFFLOAD_UNAVAILABLE, 'offload: the pool went away before answering');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.port.close();
  }

  private settle(m: OffloadReply): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.port.unref();
    if (m.ok) p.resolve(m.result);
    else p.reject(rebuildError(m.error));
  }
}
