/**
 * UdpSocket: a UDP port of our stack as an EventEmitter modelled on Node's `dgram.Socket`
 * ('udp4' and 'udp6', a subset: bind, connect, disconnect, send, 'message', 'listening',
 * 'connect', 'close', 'error', close, address, remoteAddress). Built on the worker's UdpLayer (RFC 768): datagrams are delivered
 * synchronously from the protocol core, copied into a Buffer per message.
 *
 * Errors follow dgram: `bind EADDRINUSE 0.0.0.0:7`, `send EMSGSIZE …`; send callbacks get
 * (err, bytes). A connected socket (connect()) only hears its peer, and an ICMP port or
 * protocol unreachable about its datagrams is emitted as 'error' `recvmsg ECONNREFUSED`
 * (RFC 1122 4.1.3.3; what Linux reports on a connected socket without IP_RECVERR;
 * unconnected sockets hear no ICMP errors). Every worker has its own port table: an application loaded in every
 * worker binds the port in each, and each answers the flows steered to it.
 *
 * A 'udp6' socket is dual-stack, as Node's bound to `::` (decision 0030): it hears IPv4
 * peers as `::ffff:a.b.c.d` (family 'IPv6') and may send to IPv4, IPv4-mapped and IPv6
 * addresses; a 'udp4' socket hears and sends IPv4 only. An IPv6 peer the socket keeps
 * (the connected peer, the last destination) holds a reference on its interned address.
 */
import { EventEmitter } from 'node:events';
import { monoMs } from '../util/clock.js';
import { shardOf } from '../base/flow-hash.js';
import { IPV6_ID_BASE } from '../base/ipv6-interner.js';
import { IPV4_ONLY, NOT_AN_ADDRESS, SocketAddresses, type SocketFamily } from './socket-addresses.js';
import { IPPROTO_UDP } from '../wire/ipv4.js';
import type { Host } from '../iface/host.js';
import { socketError, type SocketError } from './tcp-socket.js';
import { copyToBuffer } from '../util/copy-bytes.js';

/** Sender information of a received datagram, as dgram's `rinfo`. */
export interface RemoteInfo {
  address: string;
  family: SocketFamily;
  port: number;
  size: number;
}

/** Largest UDP payload in one IPv4 datagram (65535 - 20 - 8). */
const MAX_UDP_PAYLOAD = 65507;
/** Ephemeral port range for bind() without a port (RFC 6335 dynamic ports). */
const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;

/** The events of a UdpSocket and their arguments, as dgram.Socket's. */
export interface UdpSocketEvents {
  listening: [];
  connect: [];
  message: [msg: Buffer, rinfo: RemoteInfo];
  error: [err: SocketError];
  close: [];
}

/** A dgram-like UDP socket on one worker's stack. */
export class UdpSocket extends EventEmitter<UdpSocketEvents> {
  private port = 0;
  private closed = false;
  private nextEphemeral: number;
  /** Last destination string and its parsed form (a service usually answers one peer at a time). */
  private lastAddr = '';
  private lastIp = 0;
  /** The peer of a connected socket (port 0: not connected). */
  private peerIp = 0;
  private peerPort = 0;

  /** A 'udp6' (dual-stack) socket. */
  private readonly udp6: boolean;
  private readonly addresses: SocketAddresses;

  /**
   * @param host the worker's protocol core (its `udp` layer and configuration)
   * @param notify called after a datagram was queued for sending
   * @param type 'udp4' or 'udp6' (dual-stack; IPv6 itself only where the worker has it)
   * @param addresses the worker's socket addresses (for 'udp6')
   */
  constructor(
    private readonly host: Host, private readonly notify: () => void = () => {}, type: 'udp4' | 'udp6' = 'udp4',
    addresses: SocketAddresses = new SocketAddresses(host.interner),
  ) {
    super();
    this.udp6 = type === 'udp6';
    this.addresses = this.udp6 ? addresses : IPV4_ONLY;
    this.nextEphemeral = EPHEMERAL_FIRST + ((host.config.shardIndex * 997) % EPHEMERAL_COUNT);
  }

  /**
   * Binds `port` (0 or omitted: a free ephemeral port; replies reach it only when their
   * flow is steered to this worker). Emits 'listening', or 'error' (EADDRINUSE).
   */
  bind(port = 0, cb?: () => void): this {
    return this.bindTo(port, -1, 0, cb);
  }

  /**
   * bind(): with `peerPort` > 0 an ephemeral port is one whose flow to peerIp:peerPort
   * hashes to this worker (as TCP's active opens choose theirs), so that the peer's
   * answers and the ICMP errors about the flow are steered here.
   */
  private bindTo(port: number, peerIp: number, peerPort: number, cb?: () => void): this {
    if (this.closed) throw notRunning();
    if (this.port !== 0) {
      throw dgramError('ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound');
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`Port should be >= 0 and < 65536. Received ${port}.`);
    if (cb) this.once('listening', cb);
    const handler = this.onDatagram;
    const onError = this.onRefused;
    const { shardIndex, shardCount } = this.host.config;
    if (port === 0) {
      for (let i = 0; i < EPHEMERAL_COUNT && this.port === 0; i++) {
        const p = this.nextEphemeral;
        this.nextEphemeral = p === 65535 ? EPHEMERAL_FIRST : p + 1;
        if (peerPort > 0 && shardOf(this.host.flowHashTo(peerIp, p, peerPort, IPPROTO_UDP), shardCount) !== shardIndex) continue;
        if (this.host.udp.bind(p, handler, onError)) this.port = p;
      }
    } else if (this.host.udp.bind(port, handler, onError)) {
      this.port = port;
    }
    if (this.port === 0) {
      process.nextTick(() => this.emit('error', socketError('EADDRINUSE', 'bind', '0.0.0.0', port)));
      return this;
    }
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  /**
   * Associates the socket with address:port (dgram's connect): send() then needs no
   * address, only that peer's datagrams are delivered, and refusals (ICMP port
   * unreachable) come back as 'error' ECONNREFUSED. Binds an ephemeral port if unbound,
   * one whose flow to the peer is steered to this worker; emits 'connect' on the next tick.
   */
  connect(port: number, address: string, cb?: () => void): this {
    if (this.closed) throw notRunning();
    if (this.peerPort !== 0) throw dgramError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`Port should be > 0 and < 65536. Received ${port}.`);
    const ip = this.addresses.acquire(address);
    if (ip < 0) throw new TypeError(`Invalid ${this.udp6 ? 'IP' : 'IPv4'} address: ${address}`);
    if (this.port === 0) this.bindTo(0, ip, port);
    this.peerIp = ip;
    this.peerPort = port;
    if (cb) this.once('connect', cb);
    process.nextTick(() => this.emit('connect'));
    return this;
  }

  /** Ends the association made by connect(). */
  disconnect(): void {
    if (this.closed) throw notRunning();
    if (this.peerPort === 0) throw dgramError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    this.addresses.release(this.peerIp);
    this.peerIp = 0;
    this.peerPort = 0;
  }

  /** The connected peer `{ address, family, port }`; throws when not connected (like dgram). */
  remoteAddress(): { address: string; family: SocketFamily; port: number } {
    if (this.closed) throw notRunning();
    if (this.peerPort === 0) throw dgramError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
    return { address: this.addresses.format(this.peerIp, this.udp6), family: this.addresses.family(this.peerIp, this.udp6), port: this.peerPort };
  }

  /**
   * Sends one datagram to address:port, or to the connected peer when both are omitted
   * (binding an ephemeral port first if unbound). `cb(err, bytes)` runs on the next tick;
   * without a callback errors are emitted.
   */
  send(msg: Uint8Array | string, cb?: (err: Error | null, bytes: number) => void): void;
  send(msg: Uint8Array | string, port: number, address: string, cb?: (err: Error | null, bytes: number) => void): void;
  send(
    msg: Uint8Array | string, portOrCb?: number | ((err: Error | null, bytes: number) => void), addressArg?: string,
    cbArg?: (err: Error | null, bytes: number) => void,
  ): void {
    if (this.closed) throw notRunning();
    let port: number;
    let address: string;
    let cb = cbArg;
    if (typeof portOrCb === 'number') {
      if (this.peerPort !== 0) throw dgramError('ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected');
      port = portOrCb;
      address = addressArg ?? '';
    } else {
      if (this.peerPort === 0) throw dgramError('ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected');
      port = this.peerPort;
      address = this.addresses.format(this.peerIp, this.udp6);
      cb = portOrCb;
    }
    const data = typeof msg === 'string' ? Buffer.from(msg) : msg;
    const fail = (e: SocketError): void => {
      if (cb) process.nextTick(cb, e, 0);
      else process.nextTick(() => this.emit('error', e));
    };
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`Port should be > 0 and < 65536. Received ${port}.`);
    let ip: number;
    if (address === this.lastAddr) ip = this.lastIp;
    else if (this.peerPort !== 0 && typeof portOrCb !== 'number') ip = this.peerIp;
    else {
      ip = this.addresses.acquire(address);
      if (ip < 0) {
        fail(socketError(ip === NOT_AN_ADDRESS || !this.udp6 ? 'EINVAL' : 'ENETUNREACH', 'send', address, port));
        return;
      }
      this.addresses.release(this.lastIp); // the cached destination keeps the new reference
      this.lastAddr = address;
      this.lastIp = ip;
    }
    if (data.length > MAX_UDP_PAYLOAD) {
      fail(socketError('EMSGSIZE', 'send', address, port));
      return;
    }
    if (this.port === 0) this.bind(0);
    if (this.port === 0) {
      fail(socketError('EADDRINUSE', 'send', address, port));
      return;
    }
    const ok = this.host.udp.send(ip, port, this.port, data, 0, data.length, monoMs());
    this.notify();
    const unreachable = ip >= IPV6_ID_BASE ? this.host.ip6Out === null : this.host.ipOut.nextHop(ip) < 0;
    if (!ok) fail(socketError(unreachable ? 'ENETUNREACH' : 'ENOBUFS', 'send', address, port));
    else if (cb) process.nextTick(cb, null, data.length);
  }

  /** Releases the port and emits 'close' (next tick). */
  close(cb?: () => void): this {
    if (this.closed) throw notRunning();
    this.closed = true;
    if (this.port !== 0) this.host.udp.unbind(this.port);
    this.addresses.release(this.lastIp);
    this.addresses.release(this.peerIp);
    this.lastIp = 0;
    this.lastAddr = '';
    this.peerIp = 0;
    if (cb) this.once('close', cb);
    process.nextTick(() => this.emit('close'));
    return this;
  }

  /** The bound address `{ address, family, port }`; throws when not bound (like dgram). */
  address(): { address: string; family: SocketFamily; port: number } {
    if (this.port === 0 || this.closed) throw notRunning();
    if (this.udp6) return { address: '::', family: 'IPv6', port: this.port };
    return { address: this.addresses.format(this.host.config.ip), family: 'IPv4', port: this.port };
  }

  /** Kept for API compatibility: our sockets never hold the event loop open. */
  ref(): this {
    return this;
  }

  /** Kept for API compatibility: our sockets never hold the event loop open. */
  unref(): this {
    return this;
  }

  private readonly onDatagram = (b: Uint8Array, off: number, len: number, srcIp: number, srcPort: number): void => {
    if (this.closed) return;
    if (this.peerPort !== 0 && (srcIp !== this.peerIp || srcPort !== this.peerPort)) return; // connected: its peer only
    if (!this.udp6 && srcIp >= IPV6_ID_BASE) return; // a 'udp4' socket hears IPv4 only
    const rinfo: RemoteInfo = { address: this.addresses.format(srcIp, this.udp6), family: this.addresses.family(srcIp, this.udp6), port: srcPort, size: len };
    this.emit('message', copyToBuffer(b, off, len), rinfo);
  };

  /** The core heard that a datagram to remoteIp:remotePort was refused: an error for a socket connected to it. */
  private readonly onRefused = (code: 'ECONNREFUSED', remoteIp: number, remotePort: number): void => {
    if (this.closed || this.peerPort === 0 || remoteIp !== this.peerIp || remotePort !== this.peerPort) return;
    // Called from inside the core's receive path: the application hears it on the next tick.
    process.nextTick(() => this.emit('error', socketError(code, 'recvmsg')));
  };
}

function dgramError(code: string, message: string): Error {
  const e = new Error(message) as Error & { code: string };
  e.code = code;
  return e;
}

function notRunning(): Error {
  return dgramError('ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running');
}
