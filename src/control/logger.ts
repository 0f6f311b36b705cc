/**
 * stackd's logger: pino writing JSON lines to stdout through an asynchronous
 * SonicBoom, or human-readable lines via pino-pretty when stdout is a terminal.
 *
 * pino-pretty is a dev dependency, so it is loaded on demand and its absence falls back
 * to JSON. It runs in this thread (its formatter in front of our own destination), not
 * as a transport worker: stackd already has enough threads and a synchronous path
 * means flushLogger() really flushes everything at shutdown.
 */
import { createRequire } from 'node:module';
import pino from 'pino';
import type { PrettyOptions } from 'pino-pretty';

/** Valid `--log-level` values, most to least severe, then 'silent'. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Whether stdout is a terminal: Node leaves isTTY undefined, not false, on a pipe or a file. */
function stdoutIsTty(): boolean {
  return (process.stdout.isTTY as boolean | undefined) === true;
}

/**
 * Creates the process logger. `level` must be one of LOG_LEVELS (else throws);
 * `pretty` defaults to whether stdout is a TTY.
 */
export function createLogger(opts: { level: string; name?: string; pretty?: boolean }): pino.Logger {
  if (!(LOG_LEVELS as readonly string[]).includes(opts.level)) {
    throw new Error(`unknown log level '${opts.level}' (expected one of: ${LOG_LEVELS.join(' ')})`);
  }
  const options: pino.LoggerOptions = { level: opts.level, ...(opts.name ? { name: opts.name } : {}) };
  const pretty = (opts.pretty ?? stdoutIsTty()) ? loadPrettyFactory() : undefined;
  if (!pretty) return pino(options, pino.destination({ dest: 1, sync: false }));
  // Pretty output is for people at a terminal: format in this thread, write synchronously.
  const sink = pino.destination({ dest: 1, sync: true });
  const format = pretty({ colorize: stdoutIsTty(), ignore: 'pid,hostname' });
  return pino(options, {
    write: (line: string) => void sink.write(format(line)),
    flushSync: () => sink.flushSync(),
  } as pino.DestinationStream);
}

/**
 * Writes out everything `log` (or the logger it is a child of) has buffered, synchronously,
 * so it is safe in shutdown paths and 'exit' handlers. Never throws.
 */
export function flushLogger(log: pino.Logger): void {
  try {
    const stream = (log as unknown as Record<symbol, { flushSync?: () => void } | undefined>)[pino.symbols.streamSym];
    if (typeof stream?.flushSync === 'function') stream.flushSync();
    else log.flush();
  } catch {
    /* stdout closed or not ready: nothing more we can do */
  }
}

/** pino-pretty's line formatter, or undefined when pino-pretty is not installed. */
function loadPrettyFactory(): ((opts: PrettyOptions) => (line: string) => string) | undefined {
  try {
    const require = createRequire(import.meta.url);
    return (require('pino-pretty') as typeof import('pino-pretty')).prettyFactory;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}
