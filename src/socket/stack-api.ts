/**
 * The API applications get in each shard worker, modelled on Node's `net`, `dgram` and
 * `http` modules: `net.createServer`/`net.connect` give TcpServer/TcpSocket, `dgram`
 * gives UdpSocket, and `http.createServer(handler, port)` runs Node's own http.Server
 * over our TCP (each accepted TcpSocket is handed to it with `emit('connection')`, as
 * net.Server does; docs/decisions/0008-http-over-our-sockets.md).
 *
 * An application (StackApp) is loaded into every worker; every worker listens on the
 * same ports and serves the connections steered to it. After anything an application
 * does that may produce segments, the worker's `notifyOutput()` hook runs — at most once
 * per microtask turn — so the worker flushes its TX ring and re-arms its timers.
 * `api.offload` sends CPU-heavy work to the process-wide pool (offload.ts, decision 0021).
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { Logger } from 'pino';
import { formatIpv4, parseIpv4 } from '../wire/addresses.js';
import { countersToObject } from '../base/counters.js';
import type { Host } from '../iface/host.js';
import type { TcpConnectionHandle, TcpEndpointApi } from '../tcp/connection-handle.js';
import { TcpSocket, socketError, type SocketError, type SocketOwner } from './tcp-socket.js';
import { UdpSocket } from './udp-socket.js';
import { ERR_OFFLOAD_UNAVAILABLE, codedError, type OffloadClient, type OffloadOptions, type OffloadTask } from './offload.js';

/** Options of net.createServer(). */
export interface TcpServerOptions {
  /** Keep accepted sockets' write side open after the peer's FIN (default false). */
  allowHalfOpen?: boolean;
}

/** Options of net.connect(). */
export interface TcpConnectOptions {
  /** Dotted-quad IPv4 address (there is no name resolution). */
  host: string;
  port: number;
  /** Idle timeout (ms) set on the socket with setTimeout(): emits 'timeout' only. */
  timeout?: number;
  allowHalfOpen?: boolean;
}

/** What applications get (see the file header). */
export interface StackApi {
  /** net-like TCP. */
  net: {
    /** A TCP server; `onConnection` is added as a 'connection' listener. */
    createServer(opts: TcpServerOptions | undefined, onConnection?: (s: TcpSocket) => void): TcpServer;
    /** Active open to host:port; `onConnect` is added as a one-time 'connect' listener. */
    connect(opts: TcpConnectOptions, onConnect?: () => void): TcpSocket;
  };
  /** dgram-like UDP. */
  dgram: { createSocket(type: 'udp4'): UdpSocket };
  /** Node's http.Server over our TCP, already listening on `port` (see decision 0008). */
  http: { createServer(handler: http.RequestListener, port: number): http.Server };
  /** This worker's index and the worker count. */
  worker: { index: number; count: number };
  /** A pino logger for the application. */
  log: Logger;
  /** This worker's counters (name → value), as in /stats. */
  counters(): Record<string, number>;
  /**
   * Runs `task` (an exported function of a module: `{ module: path or file: URL, name? }`)
   * with `data` on the process-wide pool of stackd (--app-threads, --app-queue) and
   * resolves with its result, so that CPU-heavy work does not stall this worker. Rejects
   * with the task's error, or at once with code ERR_OFFLOAD_QUEUE_FULL when the pool's
   * queue is full. `opts.transfer` moves ArrayBuffers instead of copying them (offload.ts).
   */
  offload<R = unknown>(task: OffloadTask, data?: unknown, opts?: OffloadOptions): Promise<R>;
}

/** An application: a module whose default export is this; it is loaded into EVERY worker. */
export type StackApp = (api: StackApi) => void | Promise<void>;

/** Dependencies of createStackApi(), wired by the shard worker. */
export interface StackApiDeps {
  host: Host;
  tcp: TcpEndpointApi;
  /** The worker's "output pending" hook (flush TX, re-arm timers). Called coalesced. */
  notifyOutput: () => void;
  log: Logger;
  workerIndex: number;
  workerCount: number;
  /** The worker's end of the process-wide offload pool (none: api.offload rejects). */
  offload?: OffloadClient;
}

/**
 * Makes a notify function that calls `fn` once per microtask turn however often it is
 * called in between.
 */
export function coalesce(fn: () => void): () => void {
  let pending = false;
  const run = (): void => {
    pending = false;
    fn();
  };
  return () => {
    if (pending) return;
    pending = true;
    queueMicrotask(run);
  };
}

/** Default accept backlog, as Node's. */
const DEFAULT_BACKLOG = 511;

/** The events of a TcpServer and their arguments, as net.Server's. */
export interface TcpServerEvents {
  listening: [];
  connection: [socket: TcpSocket];
  error: [err: SocketError];
  close: [];
}

/**
 * A TCP listening port, like net.Server: 'listening', 'connection' (TcpSocket), 'error'
 * (EADDRINUSE), 'close' (after close(), once every accepted connection has closed).
 */
export class TcpServer extends EventEmitter<TcpServerEvents> implements SocketOwner {
  private port = 0;
  private closing = false;
  /** Accepted sockets not yet closed (each tells socketClosed: no closure or set entry per connection). */
  private open = 0;

  /**
   * @param tcp the worker's TCP endpoint
   * @param notify the coalesced output hook
   * @param opts server options (allowHalfOpen for accepted sockets)
   */
  constructor(
    private readonly tcp: TcpEndpointApi,
    private readonly notify: () => void,
    private readonly opts: TcpServerOptions = {},
  ) {
    super();
  }

  /** True between a successful listen() and close(). */
  get listening(): boolean {
    return this.port !== 0 && !this.closing;
  }

  /** Accepted connections still open. */
  get connections(): number {
    return this.open;
  }

  /**
   * Listens on `port` (1..65535) in this worker; emits 'listening' (cb is added as a
   * one-time listener) or 'error' with code EADDRINUSE, on the next tick.
   */
  listen(port: number, backlog?: number | (() => void), cb?: () => void): this {
    if (typeof backlog === 'function') {
      cb = backlog;
      backlog = undefined;
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`Port should be > 0 and < 65536. Received ${port}.`);
    if (this.port !== 0) {
      const e = new Error('Listen method has been called more than once without closing.') as Error & { code: string };
      e.code = 'ERR_SERVER_ALREADY_LISTEN';
      throw e;
    }
    if (cb) this.once('listening', cb);
    const ok = this.tcp.listen(port, backlog ?? DEFAULT_BACKLOG, (conn) => this.accept(conn));
    this.notify();
    if (!ok) {
      const e = socketError('EADDRINUSE', 'listen', '0.0.0.0', port);
      e.message = `listen EADDRINUSE: address already in use 0.0.0.0:${port}`;
      process.nextTick(() => this.emit('error', e));
      return this;
    }
    this.port = port;
    this.closing = false;
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  /**
   * Stops accepting; 'close' follows once every accepted connection has closed. `cb` gets
   * ERR_SERVER_NOT_RUNNING if the server was not listening (as net).
   */
  close(cb?: (err?: Error) => void): this {
    const wasListening = this.listening;
    if (wasListening) {
      this.tcp.unlisten(this.port);
      this.notify();
    }
    this.closing = true;
    if (cb) {
      if (wasListening) this.once('close', () => cb());
      else {
        const e = new Error('Server is not running.') as Error & { code: string };
        e.code = 'ERR_SERVER_NOT_RUNNING';
        this.once('close', () => cb(e));
      }
    }
    this.emitCloseIfDrained();
    return this;
  }

  /** `{ address, family, port }` while listening, else null. */
  address(): { address: string; family: 'IPv4'; port: number } | null {
    if (!this.listening) return null;
    return { address: formatIpv4(this.tcp.localIp), family: 'IPv4', port: this.port };
  }

  /** net's getConnections(cb). */
  getConnections(cb: (err: Error | null, count: number) => void): this {
    process.nextTick(cb, null, this.open);
    return this;
  }

  /** Kept for API compatibility. */
  ref(): this {
    return this;
  }

  /** Kept for API compatibility. */
  unref(): this {
    return this;
  }

  private accept(conn: TcpConnectionHandle): void {
    const s = new TcpSocket(conn, { allowHalfOpen: this.opts.allowHalfOpen ?? false, notify: this.notify, owner: this });
    this.open++;
    this.emit('connection', s);
  }

  /** An accepted socket closed (SocketOwner). */
  socketClosed(): void {
    this.open--;
    if (this.closing) this.emitCloseIfDrained();
  }

  private emitCloseIfDrained(): void {
    if (!this.closing || this.open > 0) return;
    if (this.port === -1) return; // 'close' already emitted
    this.port = -1;
    process.nextTick(() => this.emit('close'));
  }
}

/**
 * Runs Node's http.Server over a TcpServer on `port`: accepted sockets are given to it
 * with emit('connection'); 'listening' is emitted on it (which starts its header and
 * request timeout checks); address(), close() and `listening` are those of our server.
 * Node's own listen() would open a kernel socket, so it throws here.
 */
export function serveHttp(server: http.Server, tcp: TcpEndpointApi, notify: () => void, port: number): http.Server {
  // Node's http.Server itself creates net.Server with allowHalfOpen: true and ends the
  // socket when the request stream ends (httpAllowHalfOpen = false).
  const tcpServer = new TcpServer(tcp, notify, { allowHalfOpen: true });
  tcpServer.on('connection', (s: TcpSocket) => {
    s.setNoDelay(true); // http.Server's default (noDelay: true), which net.Server applies to the handle
    server.emit('connection', s);
  });
  tcpServer.on('error', (e) => server.emit('error', e));
  tcpServer.on('close', () => server.emit('close'));
  Object.defineProperty(server, 'listening', { configurable: true, get: () => tcpServer.listening });
  server.address = () => tcpServer.address();
  server.close = function close(cb?: (err?: Error) => void) {
    if (tcpServer.listening) server.closeIdleConnections();
    stopConnectionsCheck(server);
    tcpServer.close(cb);
    return server;
  };
  server.listen = (() => {
    throw new Error(`this http.Server already listens on our TCP port ${port}; its listen() would open a kernel socket`);
  }) as typeof server.listen;
  tcpServer.listen(port, () => server.emit('listening'));
  return server;
}

/** Clears http.Server's connection-checking interval (what Node's close() does internally). */
function stopConnectionsCheck(server: http.Server): void {
  for (const sym of Object.getOwnPropertySymbols(server)) {
    if (sym.description === 'http.server.connectionsCheckingInterval') {
      clearInterval((server as unknown as Record<symbol, ReturnType<typeof setInterval>>)[sym]);
    }
  }
}

/** Builds the StackApi of one worker. */
export function createStackApi(deps: StackApiDeps): StackApi {
  const notify = coalesce(deps.notifyOutput);
  const { tcp, host } = deps;
  return {
    net: {
      createServer(opts, onConnection) {
        if (typeof opts === 'function') {
          onConnection = opts;
          opts = undefined;
        }
        const server = new TcpServer(tcp, notify, opts ?? {});
        if (onConnection) server.on('connection', onConnection);
        return server;
      },
      connect(opts, onConnect) {
        const ip = parseIpv4(opts.host);
        if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
          throw new RangeError(`Port should be > 0 and < 65536. Received ${opts.port}.`);
        }
        const base = { allowHalfOpen: opts.allowHalfOpen ?? false, notify };
        const conn = Number.isNaN(ip) ? null : tcp.connect(ip, opts.port);
        const s = new TcpSocket(conn, { ...base, connecting: conn !== null, remoteAddress: opts.host, remotePort: opts.port });
        if (onConnect) s.once('connect', onConnect);
        if (opts.timeout !== undefined) s.setTimeout(opts.timeout);
        if (conn === null) {
          const code = Number.isNaN(ip) ? 'EINVAL' : 'EADDRNOTAVAIL';
          process.nextTick(() => s.destroy(socketError(code, 'connect', opts.host, opts.port)));
        } else {
          notify();
        }
        return s;
      },
    },
    dgram: {
      createSocket(type: string) { // applications in JavaScript can pass anything
        if (type !== 'udp4') throw new TypeError(`Bad socket type specified. Valid types are: udp4`);
        return new UdpSocket(host, notify);
      },
    },
    http: {
      createServer(handler, port) {
        return serveHttp(http.createServer(handler), tcp, notify, port);
      },
    },
    worker: { index: deps.workerIndex, count: deps.workerCount },
    log: deps.log,
    counters: () => countersToObject(host.counters),
    offload<R>(task: OffloadTask, data?: unknown, opts?: OffloadOptions): Promise<R> {
      if (deps.offload === undefined) return Promise.reject(codedError(ERR_OFFLOAD_UNAVAILABLE, 'offload: no pool in this process'));
      return deps.offload.run<R>(task, data, opts);
    },
  };
}
