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
import { countersToObject } from '../base/counters.js';
import type { Host } from '../iface/host.js';
import { LISTEN_BOTH, LISTEN_IPV4, LISTEN_IPV6, type TcpConnectionHandle, type TcpEndpointApi } from '../tcp/connection-handle.js';
import { IPV4_ONLY, NO_IPV6, NOT_AN_ADDRESS, SocketAddresses, type SocketFamily } from './socket-addresses.js';
import { TcpSocket, socketError, type SocketError, type SocketOwner } from './tcp-socket.js';
import { UdpSocket } from './udp-socket.js';
import { ERR_OFFLOAD_UNAVAILABLE, codedError, type OffloadClient, type OffloadOptions, type OffloadTask } from './offload.js';

/** Options of net.createServer(). */
export interface TcpServerOptions {
  /** Keep accepted sockets' write side open after the peer's FIN (default false). */
  allowHalfOpen?: boolean;
}

/**
 * Options of server.listen({ ... }), as net's: no host (or '::') listens on both families
 * when the worker has IPv6 (IPv4 peers then read `::ffff:a.b.c.d`, family 'IPv6', as
 * Node's); host '0.0.0.0' takes IPv4 only; `ipv6Only` IPv6 only.
 */
export interface TcpListenOptions {
  port: number;
  host?: string;
  ipv6Only?: boolean;
  backlog?: number;
}

/** Options of net.connect(). */
export interface TcpConnectOptions {
  /**
   * A literal address (there is no name resolution): dotted-quad IPv4, or IPv6 text
   * (`::ffff:a.b.c.d` connects over IPv4).
   */
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
  dgram: { createSocket(type: 'udp4' | 'udp6'): UdpSocket };
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
  /** Families taken (LISTEN_*) and the wildcard address that stands for them in errors. */
  private families = LISTEN_IPV4;
  private boundTo = '0.0.0.0';

  /**
   * @param tcp the worker's TCP endpoint
   * @param notify the coalesced output hook
   * @param opts server options (allowHalfOpen for accepted sockets)
   * @param addresses the worker's socket addresses (IPv4 only by default)
   */
  constructor(
    private readonly tcp: TcpEndpointApi,
    private readonly notify: () => void,
    private readonly opts: TcpServerOptions = {},
    private readonly addresses: SocketAddresses = IPV4_ONLY,
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
   * Listens on `port` (1..65535) in this worker, or as `TcpListenOptions` say; emits
   * 'listening' (cb is added as a one-time listener) or 'error' with code EADDRINUSE, on
   * the next tick.
   */
  listen(portOrOptions: number | TcpListenOptions, backlog?: number | (() => void), cb?: () => void): this {
    if (typeof backlog === 'function') {
      cb = backlog;
      backlog = undefined;
    }
    const o = typeof portOrOptions === 'number' ? { port: portOrOptions } : portOrOptions;
    const port = o.port;
    backlog ??= o.backlog;
    this.chooseFamilies(o);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`Port should be > 0 and < 65536. Received ${port}.`);
    if (this.port !== 0) {
      const e = new Error('Listen method has been called more than once without closing.') as Error & { code: string };
      e.code = 'ERR_SERVER_ALREADY_LISTEN';
      throw e;
    }
    if (cb) this.once('listening', cb);
    const ok = this.tcp.listen(port, backlog ?? DEFAULT_BACKLOG, (conn) => this.accept(conn), this.families);
    this.notify();
    if (!ok) {
      const e = socketError('EADDRINUSE', 'listen', this.boundTo, port);
      e.message = `listen EADDRINUSE: address already in use ${this.boundTo.includes(':') ? `[${this.boundTo}]` : this.boundTo}:${port}`;
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

  /** `{ address, family, port }` while listening (`::` for a dual-stack server, as Node's), else null. */
  address(): { address: string; family: SocketFamily; port: number } | null {
    if (!this.listening) return null;
    if (this.families === LISTEN_IPV4) return { address: this.addresses.format(this.tcp.localIp), family: 'IPv4', port: this.port };
    return { address: '::', family: 'IPv6', port: this.port };
  }

  /** Which families listen() takes, and the address it reports, from the options and whether the worker has IPv6. */
  private chooseFamilies(o: TcpListenOptions): void {
    if (o.host === '0.0.0.0' || !this.addresses.ipv6) {
      this.families = LISTEN_IPV4;
      this.boundTo = '0.0.0.0';
    } else {
      this.families = o.ipv6Only === true ? LISTEN_IPV6 : LISTEN_BOTH;
      this.boundTo = '::';
    }
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
    const s = new TcpSocket(conn, {
      allowHalfOpen: this.opts.allowHalfOpen ?? false, notify: this.notify, addresses: this.addresses, dualStack: this.families === LISTEN_BOTH,
      owner: this,
    });
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
export function serveHttp(
  server: http.Server, tcp: TcpEndpointApi, notify: () => void, port: number, addresses: SocketAddresses = IPV4_ONLY,
): http.Server {
  // Node's http.Server itself creates net.Server with allowHalfOpen: true and ends the
  // socket when the request stream ends (httpAllowHalfOpen = false).
  const tcpServer = new TcpServer(tcp, notify, { allowHalfOpen: true }, addresses);
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
  const addresses = new SocketAddresses(host.interner);
  return {
    net: {
      createServer(opts, onConnection) {
        if (typeof opts === 'function') {
          onConnection = opts;
          opts = undefined;
        }
        const server = new TcpServer(tcp, notify, opts ?? {}, addresses);
        if (onConnection) server.on('connection', onConnection);
        return server;
      },
      connect(opts, onConnect) {
        if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
          throw new RangeError(`Port should be > 0 and < 65536. Received ${opts.port}.`);
        }
        const ip = addresses.acquire(opts.host);
        const base = { allowHalfOpen: opts.allowHalfOpen ?? false, notify, addresses };
        const conn = ip < 0 ? null : tcp.connect(ip, opts.port);
        if (ip >= 0) addresses.release(ip); // the connection holds its own reference
        const s = new TcpSocket(conn, { ...base, connecting: conn !== null, remoteAddress: opts.host, remotePort: opts.port });
        if (onConnect) s.once('connect', onConnect);
        if (opts.timeout !== undefined) s.setTimeout(opts.timeout);
        if (conn === null) {
          const code = ip === NOT_AN_ADDRESS ? 'EINVAL' : ip === NO_IPV6 ? 'ENETUNREACH' : 'EADDRNOTAVAIL';
          process.nextTick(() => s.destroy(socketError(code, 'connect', opts.host, opts.port)));
        } else {
          notify();
        }
        return s;
      },
    },
    dgram: {
      createSocket(type: string) { // applications in JavaScript can pass anything
        if (type !== 'udp4' && type !== 'udp6') throw new TypeError(`Bad socket type specified. Valid types are: udp4, udp6`);
        return new UdpSocket(host, notify, type, addresses);
      },
    },
    http: {
      createServer(handler, port) {
        return serveHttp(http.createServer(handler), tcp, notify, port, addresses);
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
