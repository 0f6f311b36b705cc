/**
 * Two protocol cores on a virtual link with a virtual clock, for deterministic TCP tests:
 * host A (10.0.0.1) and host B (10.0.0.2), each with its own VirtualWire. `run()` moves
 * frames across (through an optional fault function: drop, duplicate, reorder) and
 * advances the clock to the next timer when the link is idle.
 */
import { Host, type HostLimits } from '../../src/iface/host.js';
import { newCounters, type Counters } from '../../src/base/counters.js';
import type { TcpConnectionEvents, TcpConnectionHandle, TcpErrorCode } from '../../src/tcp/connection-handle.js';
import { parseIpv4, parseMac } from '../../src/wire/addresses.js';
import { VirtualWire } from './virtual-wire.js';
import { arpFrame } from './frames.js';

export const IP_A = parseIpv4('10.0.0.1');
export const IP_B = parseIpv4('10.0.0.2');
export const MAC_A = parseMac('02:00:00:00:0a:01');
export const MAC_B = parseMac('02:00:00:00:0b:02');

/** A frame in flight: from which side, bytes, and when it arrives. */
export interface Flight {
  from: 'A' | 'B';
  frame: Uint8Array;
  at: number;
}

/** Decides the fate of each frame: return [] to drop, [f] to deliver, [f, f] to duplicate; may change `at`. */
export type Fault = (f: Flight, index: number) => Flight[];

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

/** The pair. */
export class TcpPair {
  now = 1000;
  readonly wireA = new VirtualWire();
  readonly wireB = new VirtualWire();
  readonly countersA: Counters = newCounters();
  readonly countersB: Counters = newCounters();
  readonly a: Host;
  readonly b: Host;
  /** Delay of the link (ms). */
  delay = 1;
  fault: Fault | null = null;
  private inFlight: Flight[] = [];
  private index = 0;
  /** Every frame that went over the link (for assertions). */
  readonly log: Flight[] = [];

  constructor(limits: HostLimits = {}, limitsB: HostLimits = limits) {
    const secret = new Uint8Array(32).fill(7);
    const base = { prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 };
    this.a = new Host({ ...base, mac: MAC_A, ip: IP_A }, this.wireA, this.countersA, () => {}, { tcpSecret: secret, ...limits });
    this.b = new Host({ ...base, mac: MAC_B, ip: IP_B }, this.wireB, this.countersB, () => {}, { tcpSecret: secret, ...limitsB });
    this.a.tcp.clock = () => this.now;
    this.b.tcp.clock = () => this.now;
    // Teach each side the other's MAC.
    const reqFromB = arpFrame(MAC_A, 1, MAC_B, IP_B, 0, IP_A);
    this.a.receive(reqFromB, 0, reqFromB.length, this.now);
    const reqFromA = arpFrame(MAC_B, 1, MAC_A, IP_A, 0, IP_B);
    this.b.receive(reqFromA, 0, reqFromA.length, this.now);
    this.wireA.take();
    this.wireB.take();
  }

  /** Moves frames and timers until nothing happens or `until` (ms) is reached. */
  run(untilMs = this.now + 60_000, maxSteps = 1_000_000): void {
    for (let step = 0; step < maxSteps; step++) {
      this.a.tcp.flushDirty(this.now);
      this.b.tcp.flushDirty(this.now);
      this.collect();
      if (this.inFlight.length > 0) {
        this.inFlight.sort((x, y) => x.at - y.at);
        const next = this.inFlight[0]!;
        const timer = Math.min(this.a.nextDeadline(), this.b.nextDeadline());
        if (timer < next.at) {
          this.now = Math.max(this.now, timer);
          this.a.poll(this.now);
          this.b.poll(this.now);
          continue;
        }
        this.inFlight.shift();
        this.now = Math.max(this.now, next.at);
        const to = next.from === 'A' ? this.b : this.a;
        to.receive(next.frame, 0, next.frame.length, this.now);
        continue;
      }
      const timer = Math.min(this.a.nextDeadline(), this.b.nextDeadline());
      if (timer === Infinity || timer > untilMs) {
        this.now = Math.max(this.now, Math.min(untilMs, this.now));
        return;
      }
      this.now = Math.max(this.now, timer);
      this.a.poll(this.now);
      this.b.poll(this.now);
    }
    throw new Error('TcpPair.run: too many steps');
  }

  private collect(): void {
    for (const [from, wire] of [['A', this.wireA], ['B', this.wireB]] as const) {
      for (const frame of wire.take()) {
        const f: Flight = { from, frame, at: this.now + this.delay };
        this.log.push(f);
        const out = this.fault ? this.fault(f, this.index++) : [f];
        this.inFlight.push(...out);
      }
    }
  }

  /** Opens a connection A → B:port (B listens); returns both ends with recorders. */
  connect(port = 80): { client: TcpConnectionHandle; server: TcpConnectionHandle; c: Recorder; s: Recorder } {
    let server: TcpConnectionHandle | null = null;
    const s = new Recorder();
    this.b.tcp.listen(port, 128, (conn) => {
      server = conn;
      s.conn = conn;
      conn.events = s;
    });
    const client = this.a.tcp.connect(IP_B, port)!;
    const c = new Recorder(client);
    client.events = c;
    this.run(this.now + 5000);
    if (!server) throw new Error('no connection accepted');
    return { client, server, c, s };
  }
}
