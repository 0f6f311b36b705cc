/**
 * An in-memory fake of the TCP core behind TcpConnectionHandle / TcpEndpointApi, for
 * testing the socket API without the real core: two connections wired back to back.
 *
 * Each direction models a send buffer of `sendBuffer` bytes (send() accepts at most the
 * free space; bytes leave it when the peer's receive window lets them through) and the
 * receiver's window of `rcvWindow` bytes (delivered but not yet consumed()). Delivery
 * happens on a later macrotask (setImmediate), in segments of at most `mss` bytes,
 * through a scratch buffer at a non-zero offset that is scribbled over after every
 * onData call (a socket that keeps the view instead of copying sees garbage). FIN is
 * delivered after all data; when both FINs are through both sides get onClose(); abort()
 * drops everything and the peer gets onClose('ECONNRESET'); close() queues FIN and makes
 * the side an orphan that answers data reaching it with abort().
 *
 * Every asynchronous step of the fake goes through one FakeScheduler per endpoint (or per
 * standalone link), which counts the steps not yet run: quiet() resolves once none is
 * left, the point at which everything the fake would deliver has been delivered. Tests
 * that assert that something did NOT happen wait for that point, not for a number of
 * event-loop turns.
 */
import { waitFor } from '../../helpers/wait-for.js';
import type {
  TcpConnectionEvents, TcpConnectionHandle, TcpEndpointApi, TcpErrorCode,
} from '../../../src/tcp/connection-handle.js';

/** Sizes of a fake link. */
export interface FakeLinkOptions {
  /** Send buffer of each side (bytes). */
  sendBuffer?: number;
  /** Receive window of each side (bytes). */
  rcvWindow?: number;
  /** Largest onData delivery (bytes). */
  mss?: number;
}

/** Runs the fake's deferred steps (on later macrotasks) and counts those not yet run. */
export class FakeScheduler {
  /** Steps queued and not yet run. */
  pending = 0;

  /** Runs fn on a later macrotask. */
  defer(fn: () => void): void {
    this.pending++;
    setImmediate(() => {
      this.pending--;
      fn();
    });
  }

  /**
   * Resolves once no step is pending at the start of a macrotask, i.e. after the last
   * step's consequences (nextTick and promise reactions in the sockets) have run too and
   * queued nothing more. Before looking, it lets the caller's own synchronous calls
   * finish their nextTick/microtask reactions (a destroy() that closes on the next tick).
   */
  async quiet(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    await waitFor(() => this.pending === 0, { what: 'the fake TCP to go quiet', detail: () => `${this.pending} steps pending` });
  }
}

const NOOP_EVENTS: TcpConnectionEvents = {
  onConnect() {}, onData() {}, onEnd() {}, onWritable() {}, onClose() {},
};

/** One side of a fake connection. */
export class FakeConn implements TcpConnectionHandle {
  events: TcpConnectionEvents = NOOP_EVENTS;
  peer!: FakeConn;
  /** Bytes accepted by send() and not yet delivered to the peer. */
  readonly sendQ: Buffer[] = [];
  queued = 0;
  finQueued = false;
  finSent = false;
  /** Bytes delivered to our onData and not yet consumed. */
  unconsumed = 0;
  /** Totals for assertions. */
  accepted = 0;
  delivered = 0;
  consumedTotal = 0;
  consumedCalls = 0;
  maxUnconsumed = 0;
  wantWritable = false;
  closed = false;
  aborted = false;
  noDelay: boolean | undefined;
  keepAlive: [boolean, number] | undefined;
  /** Calls after the connection was closed, and repeated shutdownWrite() (should stay 0). */
  callsAfterClose = 0;
  /** close() was called: data that reaches this side is answered with RST (as the core does). */
  orphaned = false;

  constructor(
    readonly link: FakeLink,
    readonly localIp: number,
    readonly localPort: number,
    readonly remoteIp: number,
    readonly remotePort: number,
  ) {}

  get stateName(): string {
    if (this.closed) return 'CLOSED';
    if (this.finQueued && this.peer.finSent) return 'CLOSING';
    if (this.finQueued) return 'FIN_WAIT_1';
    if (this.peer.finSent) return 'CLOSE_WAIT';
    return 'ESTABLISHED';
  }

  send(chunk: Uint8Array): number {
    if (this.closed || this.finQueued) {
      this.callsAfterClose++;
      return 0;
    }
    const n = Math.min(chunk.length, this.sendSpace());
    if (n > 0) {
      this.sendQ.push(Buffer.from(chunk.subarray(0, n))); // copies
      this.queued += n;
      this.accepted += n;
      this.link.schedule();
    }
    if (n < chunk.length) this.wantWritable = true;
    return n;
  }

  sendSpace(): number {
    return Math.max(0, this.link.sendBuffer - this.queued);
  }

  sendQueued(): number {
    return this.queued;
  }

  shutdownWrite(): void {
    if (this.closed || this.finQueued) {
      this.callsAfterClose++;
      return;
    }
    this.finQueued = true;
    this.link.schedule();
  }

  close(): void {
    if (this.closed || this.orphaned) {
      this.callsAfterClose++;
      return;
    }
    this.orphaned = true;
    this.events = NOOP_EVENTS;
    if (!this.finQueued) {
      this.finQueued = true;
      this.link.schedule();
    }
  }

  abort(): void {
    if (this.closed) {
      this.callsAfterClose++;
      return;
    }
    this.aborted = true;
    this.closed = true;
    this.sendQ.length = 0;
    this.queued = 0;
    const peer = this.peer;
    this.link.scheduler.defer(() => {
      if (peer.closed) return;
      peer.closed = true;
      peer.events.onClose('ECONNRESET');
    });
  }

  consumed(n: number): void {
    if (this.closed) {
      this.callsAfterClose++;
      return;
    }
    if (!(n > 0) || n > this.unconsumed) throw new Error(`consumed(${n}) with ${this.unconsumed} outstanding`);
    this.unconsumed -= n;
    this.consumedTotal += n;
    this.consumedCalls++;
    this.link.schedule();
  }

  setNoDelay(noDelay: boolean): void {
    this.noDelay = noDelay;
  }

  setKeepAlive(enable: boolean, idleMs: number): void {
    this.keepAlive = [enable, idleMs];
  }

  /** Closes this side with an error (as the core would on a timeout). */
  fail(code: TcpErrorCode): void {
    if (this.closed) return;
    this.closed = true;
    this.events.onClose(code);
  }
}

/** Two FakeConns back to back and the pump that moves bytes between them. */
export class FakeLink {
  readonly sendBuffer: number;
  readonly rcvWindow: number;
  readonly mss: number;
  readonly a: FakeConn;
  readonly b: FakeConn;
  private scheduled = false;
  private readonly scratch: Buffer;

  constructor(
    aIp: number, aPort: number, bIp: number, bPort: number, opts: FakeLinkOptions = {},
    readonly scheduler: FakeScheduler = new FakeScheduler(),
  ) {
    this.sendBuffer = opts.sendBuffer ?? 64 * 1024;
    this.rcvWindow = opts.rcvWindow ?? 64 * 1024;
    this.mss = opts.mss ?? 1460;
    this.scratch = Buffer.alloc(this.mss + 16);
    this.a = new FakeConn(this, aIp, aPort, bIp, bPort);
    this.b = new FakeConn(this, bIp, bPort, aIp, aPort);
    this.a.peer = this.b;
    this.b.peer = this.a;
  }

  /** Runs the pump on a later macrotask. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.scheduler.defer(() => {
      this.scheduled = false;
      this.pump(this.a, this.b);
      this.pump(this.b, this.a);
      if (!this.a.closed && !this.b.closed && this.a.finSent && this.b.finSent
        && this.a.queued === 0 && this.b.queued === 0) {
        this.a.closed = true;
        this.b.closed = true;
        this.a.events.onClose();
        this.b.events.onClose();
      }
    });
  }

  /** Resolves once nothing is left to deliver (FakeScheduler.quiet). */
  quiet(): Promise<void> {
    return this.scheduler.quiet();
  }

  private pump(src: FakeConn, dst: FakeConn): void {
    if (!src.closed && !dst.closed && src.queued > 0 && dst.orphaned) {
      dst.abort(); // data for an orphan: RST, the sender gets ECONNRESET
      return;
    }
    while (!src.closed && !dst.closed && src.queued > 0) {
      const room = this.rcvWindow - dst.unconsumed;
      if (room <= 0) break;
      const head = src.sendQ[0];
      const n = Math.min(head.length, room, this.mss);
      const off = 7;
      head.copy(this.scratch, off, 0, n);
      if (n === head.length) src.sendQ.shift();
      else src.sendQ[0] = head.subarray(n);
      src.queued -= n;
      dst.unconsumed += n;
      dst.delivered += n;
      dst.maxUnconsumed = Math.max(dst.maxUnconsumed, dst.unconsumed);
      dst.events.onData(this.scratch, off, n);
      this.scratch.fill(0xa5);
    }
    if (!src.closed && !dst.closed && src.queued === 0 && src.finQueued && !src.finSent) {
      src.finSent = true;
      dst.events.onEnd();
    }
    if (!src.closed && src.wantWritable && src.sendSpace() > 0) {
      src.wantWritable = false;
      src.events.onWritable();
    }
    if (src.finSent && dst.finSent && !src.closed && !dst.closed) this.schedule(); // let the close check run
  }
}

/**
 * A fake TcpEndpointApi: listen/unlisten, and connect() to our own address, which pairs
 * a client FakeConn with a server one (client onConnect first, then the server's accept,
 * on a later macrotask) or reports ECONNREFUSED when nothing listens.
 */
export class FakeTcpEndpoint implements TcpEndpointApi {
  readonly listeners = new Map<number, (conn: TcpConnectionHandle) => void>();
  readonly links: FakeLink[] = [];
  /** Shared by every link of this endpoint. */
  readonly scheduler = new FakeScheduler();
  private nextPort = 49152;
  /** Make connect() return null (no local port free). */
  exhausted = false;

  constructor(readonly localIp: number, readonly linkOptions: FakeLinkOptions = {}) {}

  listen(port: number, _backlog: number, onAccept: (conn: TcpConnectionHandle) => void): boolean {
    if (this.listeners.has(port)) return false;
    this.listeners.set(port, onAccept);
    return true;
  }

  unlisten(port: number): void {
    this.listeners.delete(port);
  }

  connect(remoteIp: number, remotePort: number): FakeConn | null {
    if (this.exhausted) return null;
    const link = new FakeLink(this.localIp, this.nextPort++, remoteIp, remotePort, this.linkOptions, this.scheduler);
    this.links.push(link);
    const client = link.a;
    this.scheduler.defer(() => {
      const accept = remoteIp === this.localIp ? this.listeners.get(remotePort) : undefined;
      if (accept === undefined) {
        client.closed = true;
        client.events.onClose('ECONNREFUSED');
        return;
      }
      client.events.onConnect();
      accept(link.b);
    });
    return client;
  }

  /** Resolves once no connect, pump or reset of any link is left to run (FakeScheduler.quiet). */
  quiet(): Promise<void> {
    return this.scheduler.quiet();
  }
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function randomBytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** Deterministic PRNG in [0, 1) (mulberry32). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
