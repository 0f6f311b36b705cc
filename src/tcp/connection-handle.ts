/**
 * The boundary between a TCP connection (sans-I/O core, src/tcp/) and the socket API
 * (Node-style Duplex streams, src/socket/). The connection implements TcpConnectionHandle;
 * the socket sets the TcpConnectionEvents callbacks. Everything runs on the shard worker's
 * thread; calls are synchronous.
 */

/**
 * Errors a connection can end with, as Node's net module names them. The unreachable ones
 * (and EPROTO, ENOPROTOOPT) come from ICMP errors (src/tcp/connection-icmp.ts): a soft error
 * is reported instead of ETIMEDOUT when the connection times out.
 */
export type TcpErrorCode =
  | 'ECONNRESET' | 'ECONNREFUSED' | 'ETIMEDOUT' | 'EPIPE' | 'ECONNABORTED'
  | 'EHOSTUNREACH' | 'ENETUNREACH' | 'ENOPROTOOPT' | 'EPROTO';

/** Callbacks from the connection to its socket. Set by the socket once, not per segment. */
export interface TcpConnectionEvents {
  /** The active open completed (SYN-ACK received, ESTABLISHED). */
  onConnect(): void;
  /**
   * In-order data arrived: b[off..off+len) is valid only during the call (copy it). The
   * bytes count against the receive window until the socket calls consumed().
   */
  onData(b: Uint8Array, off: number, len: number): void;
  /** The peer sent FIN: no more data will arrive ('end'). */
  onEnd(): void;
  /** Send space became available again after send() accepted less than asked. */
  onWritable(): void;
  /**
   * The connection is gone: closed normally (err undefined; it may still linger in
   * TIME_WAIT inside the core, invisible to the socket), reset, refused or timed out.
   */
  onClose(err?: TcpErrorCode): void;
}

/** What a socket can ask of its connection. */
export interface TcpConnectionHandle {
  readonly localIp: number;
  readonly localPort: number;
  readonly remoteIp: number;
  readonly remotePort: number;
  /** RFC 9293 state name, e.g. 'ESTABLISHED'. */
  readonly stateName: string;
  /** Callbacks; the socket assigns them right after it gets the handle. */
  events: TcpConnectionEvents;
  /** Queues data for sending; returns bytes accepted (may be less than chunk.length, 0 when the send buffer is full). */
  send(chunk: Uint8Array): number;
  /** Bytes send() would accept now. */
  sendSpace(): number;
  /** Bytes queued and not yet acknowledged by the peer. */
  sendQueued(): number;
  /** Sends FIN after the queued data (half-close: data may still arrive). */
  shutdownWrite(): void;
  /**
   * The application is done with the connection in both directions (close(2) after
   * everything received was read; the caller aborts instead when it throws unread data
   * away). Queues FIN after the queued data if not done yet; the connection becomes an
   * orphan: no more events, data that arrives for it is answered with RST (RFC 1122
   * 4.2.2.13), and in FIN_WAIT_2 it is dropped after finWait2Ms (Linux tcp_fin_timeout).
   * A connection that is only half-closed (shutdownWrite) stays in FIN_WAIT_2 for as long
   * as the peer keeps its side open.
   */
  close(): void;
  /** Sends RST and drops the connection at once. */
  abort(): void;
  /** The application consumed n bytes delivered by onData: the receive window opens. */
  consumed(n: number): void;
  /** Disables (true) or enables (false) Nagle's algorithm (RFC 1122 4.2.3.4). */
  setNoDelay(noDelay: boolean): void;
  /** Keepalive per RFC 1122 4.2.3.6: probes after idleMs without traffic. */
  setKeepAlive(enable: boolean, idleMs: number): void;
}

/** Which families a listener takes (a bit each; both by default: dual stack, decision 0030). */
export const LISTEN_IPV4 = 1;
export const LISTEN_IPV6 = 2;
export const LISTEN_BOTH = LISTEN_IPV4 | LISTEN_IPV6;

/** The TCP layer as the socket API sees it (implemented by src/tcp/tcp-layer.ts). */
export interface TcpEndpointApi {
  /**
   * Starts listening on `port` (every shard listens) for the `families` (LISTEN_*, default
   * both); onAccept gets each new connection (ESTABLISHED). False if the port is taken.
   */
  listen(port: number, backlog: number, onAccept: (conn: TcpConnectionHandle) => void, families?: number): boolean;
  /** Stops listening on `port`. */
  unlisten(port: number): void;
  /** Active open (to an IPv4 address or an interned IPv6 one) from a local port whose 4-tuple hashes to this shard. Events arrive on the returned handle (onConnect or onClose('ECONNREFUSED'/'ETIMEDOUT')). Returns null when no local port is free. */
  connect(remoteIp: number, remotePort: number): TcpConnectionHandle | null;
  /** Our address. */
  readonly localIp: number;
}
