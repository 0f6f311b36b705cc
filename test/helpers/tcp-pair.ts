/**
 * Two protocol cores on an in-memory link with a virtual clock, for deterministic TCP
 * tests: host A (10.0.0.1, and fd00::a with `ipv6`) and host B (10.0.0.2, fd00::b), each a Host driven over one end of a
 * MemoryLink (src/phy/memory-link.ts) by a LinkDriver (src/iface/link-driver.ts), the
 * same device interface the TAP implements. `run()` delivers frames one at a time in
 * arrival order (through an optional fault function: drop, duplicate, reorder) and
 * advances the clock to the next timer when the link is idle.
 */
import type { HostLimits } from '../../src/iface/host.js';
import { LinkDriver } from '../../src/iface/link-driver.js';
import { newCounters, type Counters } from '../../src/base/counters.js';
import type { LinkCapabilities } from '../../src/base/link.js';
import { MemoryLink, type LinkFault, type LinkFrame } from '../../src/phy/memory-link.js';
import type { TcpConnectionEvents, TcpConnectionHandle, TcpErrorCode } from '../../src/tcp/connection-handle.js';
import { parseIpv4, parseMac } from '../../src/wire/addresses.js';
import { arpFrame } from './frames.js';
import { type Ipv6Address, parseIpv6 } from '../../src/wire/ipv6-address.js';

export const IP6_A = parseIpv6('fd00::a') as Ipv6Address;
export const IP6_B = parseIpv6('fd00::b') as Ipv6Address;

export const IP_A = parseIpv4('10.0.0.1');
export const IP_B = parseIpv4('10.0.0.2');
export const MAC_A = parseMac('02:00:00:00:0a:01');
export const MAC_B = parseMac('02:00:00:00:0b:02');

/** A frame in flight: from which side, bytes, and when it arrives. */
export type Flight = LinkFrame;

/** Decides the fate of each frame: return [] to drop, [f] to deliver, [f, f] to duplicate; may change `at`. */
export type Fault = LinkFault;

/** A recording of one side of a connection's events. */
export class Recorder implements TcpConnectionEvents {
  data: number[] = [];
  chunks: Uint8Array[] = [];
  connected = false;
  ended = false;
  closed = false;
  closeErr: TcpErrorCode | undefined;
  writable = 0;
  /** When true, the recorder calls consumed() at once (an application that keeps reading). */
  autoConsume = true;
  constructor(public conn: TcpConnectionHandle | null = null) {}
  onConnect(): void {
    this.connected = true;
  }
  onData(b: Uint8Array, off: number, len: number): void {
    this.chunks.push(b.slice(off, off + len));
    if (this.autoConsume) this.conn?.consumed(len);
  }
  onEnd(): void {
    this.ended = true;
  }
  onWritable(): void {
    this.writable++;
  }
  onClose(err?: TcpErrorCode): void {
    this.closed = true;
    this.closeErr = err;
  }
  /** All bytes received so far. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Options of the pair's link. */
export interface TcpPairLinkOptions {
  /** What the devices offload (default none) and how offload is delivered (default 'wire'). */
  capabilities?: Partial<LinkCapabilities>;
  deliver?: 'wire' | 'local';
  /** Both hosts also run IPv6 (fd00::a and fd00::b on fd00::/64), past duplicate address detection. */
  ipv6?: boolean;
}

/** The pair. */
export class TcpPair {
  now = 1000;
  readonly countersA: Counters = newCounters();
  readonly countersB: Counters = newCounters();
  readonly link: MemoryLink;
  readonly drvA: LinkDriver;
  readonly drvB: LinkDriver;
  private readonly drivers: Record<'A' | 'B', LinkDriver>;

  constructor(limits: HostLimits = {}, limitsB: HostLimits = limits, linkOpts: TcpPairLinkOptions = {}) {
    const secret = new Uint8Array(32).fill(7);
    const base = { prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 };
    this.link = new MemoryLink({ ...linkOpts, clock: () => this.now, delay: 1, log: true });
    const v6 = (a: Ipv6Address) => (linkOpts.ipv6 === true ? { ipv6: { addresses: [{ address: a, prefixLength: 64 }], gateway: null } } : {});
    this.drvA = new LinkDriver(this.link.a, { ...base, mac: MAC_A, ip: IP_A, ...v6(IP6_A) }, this.countersA, () => {}, { tcpSecret: secret, ...limits });
    this.drvB = new LinkDriver(this.link.b, { ...base, mac: MAC_B, ip: IP_B, ...v6(IP6_B) }, this.countersB, () => {}, { tcpSecret: secret, ...limitsB });
    this.drivers = { A: this.drvA, B: this.drvB };
    this.a.tcp.clock = () => this.now;
    this.b.tcp.clock = () => this.now;
    // Teach each side the other's MAC.
    const reqFromB = arpFrame(MAC_A, 1, MAC_B, IP_B, 0, IP_A);
    this.a.receive(reqFromB, 0, reqFromB.length, this.now);
    const reqFromA = arpFrame(MAC_B, 1, MAC_A, IP_A, 0, IP_B);
    this.b.receive(reqFromA, 0, reqFromA.length, this.now);
    this.drvA.tx.clear();
    this.drvB.tx.clear();
    if (linkOpts.ipv6 === true) {
      // Duplicate address detection (1 s) and the first router solicitations, then a clean log.
      this.a.startIpv6(this.now);
      this.b.startIpv6(this.now);
      this.run(this.now + 1500);
      this.link.log.length = 0;
    }
  }

  /** Host A and host B. */
  get a() {
    return this.drvA.host;
  }
  get b() {
    return this.drvB.host;
  }

  /** Delay of the link (ms). */
  get delay(): number {
    return this.link.delay;
  }
  set delay(ms: number) {
    this.link.delay = ms;
  }

  /** The fault function applied to every frame sent (null: none). */
  get fault(): Fault | null {
    return this.link.fault;
  }
  set fault(f: Fault | null) {
    this.link.fault = f;
  }

  /** Every frame that went over the link, before faults (for assertions). */
  get log(): Flight[] {
    return this.link.log;
  }

  /** Moves frames and timers until nothing happens or `until` (ms) is reached. */
  run(untilMs = this.now + 60_000, maxSteps = 1_000_000): void {
    for (let step = 0; step < maxSteps; step++) {
      // What applications changed, then everything either side produced, onto the link.
      this.a.tcp.flushDirty(this.now);
      this.drvA.flush();
      this.b.tcp.flushDirty(this.now);
      this.drvB.flush();
      const next = this.link.peek();
      const timer = Math.min(this.a.nextDeadline(), this.b.nextDeadline());
      if (next !== null && next.at <= timer) {
        this.now = Math.max(this.now, next.at);
        this.drivers[next.to].receive(this.now, 1);
        continue;
      }
      if (timer === Infinity || (next === null && timer > untilMs)) {
        return;
      }
      this.now = Math.max(this.now, timer);
      this.a.poll(this.now);
      this.b.poll(this.now);
    }
    throw new Error('TcpPair.run: too many steps');
  }

  /** Opens a connection A → B:port (B listens; over IPv6 with `v6`); returns both ends with recorders. */
  connect(port = 80, v6 = false): { client: TcpConnectionHandle; server: TcpConnectionHandle; c: Recorder; s: Recorder } {
    const accepted: TcpConnectionHandle[] = [];
    const s = new Recorder();
    this.b.tcp.listen(port, 128, (conn) => {
      accepted.push(conn);
      s.conn = conn;
      conn.events = s;
    });
    const client = v6 ? this.connect6To(port) : this.a.tcp.connect(IP_B, port)!;
    const c = new Recorder(client);
    client.events = c;
    this.run(this.now + 5000);
    const server = accepted.at(0);
    if (!server) throw new Error('no connection accepted');
    return { client, server, c, s };
  }

  /** A's active open to B's IPv6 address (interned for the call). */
  private connect6To(port: number): TcpConnectionHandle {
    const n = this.a.interner;
    if (n === null) throw new Error('the pair runs without IPv6');
    const id = n.intern(IP6_B);
    const c = this.a.tcp.connect(id, port);
    n.release(id);
    if (c === null) throw new Error('connect over IPv6 failed');
    return c;
  }
}

/** Writes all of `data` on `conn`, running the pair between writes while the send buffer is full. */
export function sendAll(conn: { send(b: Uint8Array): number }, data: Uint8Array, pair: TcpPair): void {
  let off = 0;
  let guard = 0;
  while (off < data.length && guard++ < 100_000) {
    off += conn.send(data.subarray(off));
    pair.run(pair.now + 50);
  }
}
