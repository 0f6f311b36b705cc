/**
 * TcpSocket: a TCP connection of our stack as a Node.js Duplex stream, modelled on
 * `net.Socket` (properties, methods, events and error shapes) so that code written for
 * Node's `net` — including Node's own `http` server and client — runs over it.
 *
 * Conventions followed:
 *  - Node's net.Socket: 'connect'/'ready', 'data', 'end' on the peer's FIN after all data,
 *    'finish' when our FIN is queued, 'close' (hadError), 'error' with `code`, `errno`,
 *    `syscall` (`read ECONNRESET`, `connect ECONNREFUSED 10.0.0.1:80`), 'timeout';
 *    `allowHalfOpen` defaults to false (ending our side when the peer ends), autoDestroy.
 *  - Back-pressure both ways. Writes: `_write` hands the chunk to conn.send(); what it
 *    does not accept stays with the stream until onWritable, so nothing is buffered
 *    beyond the stream's own highWaterMark. conn.send() copies what it accepts (the send
 *    buffer never reads the chunk again), so the write's callback runs as soon as the
 *    whole chunk is accepted and the application may then reuse its buffer, as with
 *    Node's net (docs/decisions/0013-write-semantics.md). Reads: conn.consumed(n) is reported only for
 *    bytes the stream has passed to the consumer (summed per microtask turn), so a
 *    consumer that stops reading closes the TCP receive window (RFC 9293 3.8.6).
 *  - destroy() is close(2) (RFC 1122 4.2.2.13): FIN when nothing received is left unread
 *    (conn.close(): the connection lives on as an orphan, answers later data with RST and
 *    gives up FIN_WAIT_2 after tcp_fin_timeout), RST when unread data is discarded;
 *    resetAndDestroy() and any destroy of a connection not yet established always abort
 *    (RST). autoDestroy makes a socket that finished both directions (end() after 'end')
 *    a destroy() too. end() alone is shutdown(SHUT_WR): the socket still reads, and the
 *    connection stays in FIN_WAIT_2 for as long as the peer sends.
 *
 * Every call that can make the connection emit segments (send, shutdownWrite, abort,
 * consumed, options) is followed by `notify()`, the worker's "output pending" hook.
 */
import { Duplex } from 'node:stream';
import { constants as osConstants } from 'node:os';
import { IPV4_ONLY, type SocketAddresses, type SocketFamily } from './socket-addresses.js';
import type { TcpConnectionEvents, TcpConnectionHandle } from '../tcp/connection-handle.js';
import { copyToBuffer } from '../util/copy-bytes.js';

/** Node's `socket.readyState` values. */
export type TcpReadyState = 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed';

/** A Node-style system error (`err.code`, `err.errno`, `err.syscall`, `err.address`, `err.port`). */
export interface SocketError extends Error {
  code: string;
  errno?: number;
  syscall: string;
  address?: string;
  port?: number;
}

/**
 * Builds an error shaped like Node's libuv exceptions: message `${syscall} ${code}` plus
 * ` ${address}:${port}` when an address is given; errno is the negative errno number.
 */
export function socketError(code: string, syscall: string, address?: string, port?: number): SocketError {
  const n = (osConstants.errno as Record<string, number | undefined>)[code];
  const where = address !== undefined ? ` ${address}${port !== undefined ? `:${port}` : ''}` : '';
  const e = new Error(`${syscall} ${code}${where}`) as SocketError;
  e.code = code;
  if (n !== undefined) e.errno = -n;
  e.syscall = syscall;
  if (address !== undefined) e.address = address;
  if (port !== undefined) e.port = port;
  return e;
}

/** Options of a TcpSocket (sockets are created by the stack API, not by applications). */
export interface TcpSocketOptions {
  /** Keep our side open after the peer's FIN (default false, like net). */
  allowHalfOpen?: boolean;
  /** The socket is an active open that has not completed yet (waits for onConnect). */
  connecting?: boolean;
  /** Called after anything that may produce segments; the API coalesces it per tick. */
  notify?: () => void;
  /** Stream buffer limits (bytes); defaults are Node's (16 KiB each). */
  readableHighWaterMark?: number;
  writableHighWaterMark?: number;
  /** Told once when the socket closes, before its 'close' event (the server that accepted it). */
  owner?: SocketOwner;
  /** How addresses read (default: IPv4 only) and whether IPv4 peers show as `::ffff:a.b.c.d` (a dual-stack server's sockets). */
  addresses?: SocketAddresses;
  dualStack?: boolean;
  /** Remote address to report when there is no connection handle (failed active open). */
  remoteAddress?: string;
  remotePort?: number;
}

/** What accepted a socket and counts it while it is open (a server). */
export interface SocketOwner {
  socketClosed(s: TcpSocket): void;
}

/** Events handed to the connection once the socket let go of it. */
const DETACHED: TcpConnectionEvents = {
  onConnect() {},
  onData() {},
  onEnd() {},
  onWritable() {},
  onClose() {},
};

/** Node's error for a write cut short by destroy(). */
function destroyedError(): Error {
  const e = new Error('Cannot call write after a stream was destroyed') as Error & { code: string };
  e.code = 'ERR_STREAM_DESTROYED';
  return e;
}

/** Keepalive idle time when setKeepAlive() gets 0: RFC 1122 4.2.3.6, at least two hours. */
const DEFAULT_KEEPALIVE_MS = 7_200_000;

/** Clock for the idle timer (read at call time so that test fake timers apply). */
function now(): number {
  return globalThis.performance.now();
}

/**
 * A TCP connection as a Node Duplex stream (see the file header). The socket is its
 * connection's event sink itself (`conn.events = this`): an idle connection then costs
 * no closures (issue 8 item 3). The TcpConnectionEvents methods (onConnect, onData,
 * onEnd, onWritable, onClose) are called by the connection, not by applications.
 */
export class TcpSocket extends Duplex implements TcpConnectionEvents {
  /** Remote address (dotted quad, or RFC 5952 IPv6 text). */
  readonly remoteAddress: string | undefined;
  /** Remote port. */
  readonly remotePort: number | undefined;
  /** 'IPv4' or 'IPv6' (an IPv4 peer of a dual-stack server is 'IPv6', as Node reports it). */
  readonly remoteFamily: SocketFamily | undefined;
  /** Our address on this connection. */
  readonly localAddress: string | undefined;
  /** The family of localAddress. */
  private readonly localFamily: SocketFamily;
  /** Our port on this connection. */
  readonly localPort: number | undefined;
  /** Bytes received from the peer (delivered by the connection). */
  bytesRead = 0;
  /** Bytes handed to (and accepted by) the connection for sending. */
  bytesWritten = 0;
  /** True while the active open is in progress. */
  connecting: boolean;
  /** Current idle timeout in ms (0: none), as set by setTimeout(). */
  timeout = 0;
  /** Set by Node's http client/server; kept so they can mark the socket. */
  _hadError = false;

  private conn: TcpConnectionHandle | null;
  private readonly notify: () => void;
  private readonly owner: SocketOwner | null;
  /** The connection is gone (onClose seen): never call into it again. */
  private connClosed = false;
  /** Bytes pushed into the readable side, and bytes reported to conn.consumed(). */
  private pushedTotal = 0;
  private consumedTotal = 0;
  /** Consumed bytes not yet reported (reported once per microtask turn). */
  private consumedPending = 0;
  private consumedScheduled = false;
  /** The write in progress: chunks not yet accepted by the connection and its callback. */
  private wq: Uint8Array[] = [];
  private wcb: ((err?: Error | null) => void) | null = null;
  /** pump() is running (guards against a re-entrant onWritable from inside send()). */
  private pumping = false;
  /** _final waiting for the active open to complete. */
  private finalCb: ((err?: Error | null) => void) | null = null;
  /** Idle timer: one timer, re-armed lazily from the time of the last activity. */
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastActivity = 0;

  /**
   * @param conn the connection (null: a failed active open, destroyed right away by the caller)
   * @param opts see TcpSocketOptions
   */
  constructor(conn: TcpConnectionHandle | null, opts: TcpSocketOptions = {}) {
    super({
      allowHalfOpen: opts.allowHalfOpen ?? false,
      emitClose: false, // like net.Socket: we emit 'close' ourselves, with hadError
      autoDestroy: true,
      ...(opts.readableHighWaterMark !== undefined ? { readableHighWaterMark: opts.readableHighWaterMark } : {}),
      ...(opts.writableHighWaterMark !== undefined ? { writableHighWaterMark: opts.writableHighWaterMark } : {}),
    });
    this.conn = conn;
    this.notify = opts.notify ?? (() => {});
    this.owner = opts.owner ?? null;
    this.connecting = opts.connecting ?? false;
    const names = opts.addresses ?? IPV4_ONLY;
    const dual = opts.dualStack ?? false;
    if (conn !== null) {
      this.remoteAddress = names.format(conn.remoteIp, dual);
      this.remotePort = conn.remotePort;
      this.remoteFamily = names.family(conn.remoteIp, dual);
      this.localFamily = this.remoteFamily;
      this.localAddress = names.format(conn.localIp, dual);
      this.localPort = conn.localPort;
      conn.events = this;
    } else {
      this.remoteAddress = opts.remoteAddress;
      this.remotePort = opts.remotePort;
      this.remoteFamily = opts.remoteAddress === undefined ? undefined : opts.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
      this.localFamily = this.remoteFamily ?? 'IPv4';
      this.localAddress = undefined;
      this.localPort = undefined;
    }
  }

  /** Node's readyState: 'opening', 'open', 'readOnly', 'writeOnly' or 'closed'. */
  get readyState(): TcpReadyState {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  /** True until connected, and again once the connection is let go (like net). */
  get pending(): boolean {
    return this.conn === null || this.connecting;
  }

  /** Our end of the connection: `{ address, family, port }`, or `{}` when there is none. */
  address(): { address: string; family: SocketFamily; port: number } | Record<string, never> {
    if (this.localAddress === undefined || this.localPort === undefined) return {};
    return { address: this.localAddress, family: this.localFamily, port: this.localPort };
  }

  /** Disables (true, the default) or enables Nagle's algorithm. */
  setNoDelay(noDelay = true): this {
    const conn = this.liveConn();
    if (conn !== null) {
      conn.setNoDelay(noDelay);
      this.notify();
    }
    return this;
  }

  /**
   * Enables or disables keepalive probes after `initialDelay` ms idle (0: the RFC 1122
   * 4.2.3.6 default of two hours).
   */
  setKeepAlive(enable = false, initialDelay = 0): this {
    const conn = this.liveConn();
    if (conn !== null) {
      conn.setKeepAlive(enable, initialDelay > 0 ? initialDelay : DEFAULT_KEEPALIVE_MS);
      this.notify();
    }
    return this;
  }

  /**
   * Emits 'timeout' after `ms` of inactivity (no data read or written); 0 disables it.
   * The socket stays open: the listener decides (usually end() or destroy()). `cb` is
   * added as a one-time 'timeout' listener (removed when ms is 0), as in net.
   */
  setTimeout(ms: number, cb?: () => void): this {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`The value of "msecs" is out of range: ${ms}`);
    this.timeout = ms;
    this.clearTimer();
    if (ms === 0) {
      if (cb) this.removeListener('timeout', cb);
      return this;
    }
    if (cb) this.once('timeout', cb);
    this.lastActivity = now();
    if (!this.destroyed) this.armTimer(ms);
    return this;
  }

  /** Kept for API compatibility: our sockets never hold the event loop open. */
  ref(): this {
    return this;
  }

  /** Kept for API compatibility: our sockets never hold the event loop open. */
  unref(): this {
    return this;
  }

  /** Ends our side and destroys the socket once the FIN is queued (net's destroySoon). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Sends RST and destroys the socket, whatever is unread or unsent (net's resetAndDestroy). */
  resetAndDestroy(): this {
    this.abortConn();
    return this.destroy();
  }

  /** Activity for the idle timer (Node's http server calls this name). */
  _unrefTimer(): void {
    this.touch();
  }

  // ---- Readable side ----

  override _read(): void {
    this.reportConsumed();
  }

  /** Reads from the buffer, then tells the connection how much the consumer has taken. */
  override read(size?: number): Buffer | string | null {
    const r = super.read(size) as Buffer | string | null; // a byte stream: a string once an encoding is set
    this.reportConsumed();
    return r;
  }

  /** Data from the connection, in order (TcpConnectionEvents). */
  onData(b: Uint8Array, off: number, len: number): void {
    if (len <= 0 || this.destroyed) return;
    this.bytesRead += len;
    this.touch();
    this.pushedTotal += len;
    this.push(copyToBuffer(b, off, len));
    this.reportConsumed();
  }

  /** The peer's FIN after all its data (TcpConnectionEvents). */
  onEnd(): void {
    this.push(null);
  }

  /**
   * Notes the bytes that have left the readable buffer since the last report and tells
   * the connection once per microtask turn (a consumer drains its buffer chunk by chunk:
   * one report for the whole turn lets the window reopen in one visible step instead of
   * many small ones). `readableLength` counts bytes (characters when an encoding is set:
   * then the figure is approximate, and exact again once the buffer is empty).
   */
  private reportConsumed(): void {
    if (this.liveConn() === null) return;
    const outstanding = this.pushedTotal - this.consumedTotal;
    const buffered = Math.min(outstanding, this.readableLength);
    const n = outstanding - buffered;
    if (n > 0) {
      this.consumedTotal += n;
      this.consumedPending += n;
      if (!this.consumedScheduled) {
        this.consumedScheduled = true;
        queueMicrotask((this.flushConsumedTask ??= () => this.flushConsumed()));
      }
    }
  }

  /** flushConsumed as a microtask, made the first time data is read (an idle socket holds no closure). */
  private flushConsumedTask: (() => void) | null = null;

  private flushConsumed(): void {
    this.consumedScheduled = false;
    const n = this.consumedPending;
    this.consumedPending = 0;
    const conn = this.liveConn();
    if (n > 0 && conn !== null) {
      conn.consumed(n);
      this.notify();
    }
  }

  // ---- Writable side ----

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.wq.push(chunk);
    this.wcb = cb;
    this.pump();
  }

  override _writev(chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, cb: (err?: Error | null) => void): void {
    for (const c of chunks) this.wq.push(c.chunk as Buffer);
    this.wcb = cb;
    this.pump();
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.connecting) {
      this.finalCb = cb;
      return;
    }
    const conn = this.liveConn();
    if (conn === null) {
      cb(this.connClosed ? socketError('EPIPE', 'write') : null);
      return;
    }
    conn.shutdownWrite();
    this.notify();
    cb();
  }

  /** Hands queued chunks to the connection; completes the write when all were accepted (copied). */
  private pump(): void {
    if (this.wcb === null || this.connecting || this.pumping) return;
    const conn = this.liveConn();
    if (conn === null) {
      const cb = this.wcb;
      this.wcb = null;
      this.wq = [];
      cb(socketError('EPIPE', 'write'));
      return;
    }
    const wq = this.wq;
    let sent = 0;
    this.pumping = true;
    try {
      while (wq.length > 0) {
        const head = wq[0];
        const n = head.length === 0 ? 0 : conn.send(head);
        sent += n;
        if (n < head.length) {
          wq[0] = head.subarray(n);
          break;
        }
        wq.shift();
      }
    } finally {
      this.pumping = false;
    }
    if (sent > 0) {
      this.bytesWritten += sent;
      this.touch();
      this.notify();
    }
    if (wq.length === 0) {
      const cb = this.wcb;
      this.wcb = null;
      cb();
    }
  }

  // ---- Connection events ----

  /** The active open completed (TcpConnectionEvents). */
  onConnect(): void {
    if (!this.connecting) return;
    this.connecting = false;
    this.touch();
    this.emit('connect');
    this.emit('ready');
    this.pump();
    if (this.finalCb !== null) {
      const cb = this.finalCb;
      this.finalCb = null;
      this._final(cb);
    }
  }

  /** The send buffer has room again (TcpConnectionEvents). */
  onWritable(): void {
    this.pump();
  }

  /** The connection is gone: closed normally, or with an error code (TcpConnectionEvents). */
  onClose(err?: string): void {
    this.connClosed = true;
    if (err !== undefined) {
      const syscall = this.connecting ? 'connect' : err === 'EPIPE' ? 'write' : 'read';
      const e = this.connecting
        ? socketError(err, syscall, this.remoteAddress, this.remotePort)
        : socketError(err, syscall);
      this.destroy(e);
      return;
    }
    // A normal close: both FINs are through. Anything still buffered stays readable.
    if (this.wcb !== null) this.pump();
  }

  // ---- Teardown ----

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.clearTimer();
    this.flushConsumed(); // what the application did read is reported before we let go
    const conn = this.conn;
    if (conn !== null) {
      this.conn = null;
      if (!this.connClosed) {
        if (this.connecting || this.readableLength > 0) {
          // Not established yet, or received data thrown away unread: RST (RFC 1122 4.2.2.13).
          conn.events = DETACHED;
          conn.abort();
        } else {
          // close(2): the connection sends what it holds, then FIN, as an orphan: data
          // arriving later is answered with RST, and FIN_WAIT_2 ends after finWait2Ms
          // (TcpConnectionHandle.close). The connection stays in the core until then.
          conn.events = DETACHED;
          conn.close();
        }
        this.notify();
      }
    }
    this.connecting = false;
    const wcb = this.wcb;
    this.wcb = null;
    this.wq = [];
    if (this.finalCb !== null) this.finalCb = null;
    if (wcb !== null) wcb(err ?? destroyedError());
    cb(err);
    process.nextTick(() => {
      this.owner?.socketClosed(this);
      this.emit('close', err != null);
    });
  }

  /** Aborts the connection (RST) if it is still ours and open. */
  private abortConn(): void {
    const conn = this.conn;
    if (conn === null || this.connClosed) return;
    this.conn = null;
    conn.events = DETACHED;
    conn.abort();
    this.notify();
  }

  /** The connection while it is open (neither closed nor reset), else null. */
  private liveConn(): TcpConnectionHandle | null {
    return this.connClosed ? null : this.conn;
  }

  // ---- Idle timer ----

  private touch(): void {
    if (this.timeout === 0) return;
    this.lastActivity = now();
    if (this.timer === null && !this.destroyed) this.armTimer(this.timeout);
  }

  private armTimer(ms: number): void {
    const t = setTimeout(() => this.onTimer(), ms);
    t.unref();
    this.timer = t;
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private onTimer(): void {
    this.timer = null;
    if (this.timeout === 0 || this.destroyed) return;
    const idle = now() - this.lastActivity;
    if (idle + 0.5 < this.timeout) {
      this.armTimer(this.timeout - idle);
      return;
    }
    // Fired: the next activity re-arms it (as a refreshed Node timer would).
    this.emit('timeout');
  }
}
