/**
 * A scripted TCP peer for deterministic conformance tests, in the style of gVisor's
 * tcp testing context and packetdrill.
 *
 * It owns one Host under test (our stack: 10.0.0.2, fixed tcpSecret, tcp.clock bound to
 * the virtual clock) and plays the remote host 10.0.0.1 by crafting Ethernet/IPv4/TCP
 * frames with chosen seq/ack/flags/window/options/payload (valid checksums unless asked
 * otherwise). Every frame the Host emits is parsed and queued; tests take them in order
 * with expectSegment() / nextSegment() and assert silence with expectNothing().
 *
 * The clock only moves when asked: advance(ms) / advanceTo(t) run host.poll at each
 * timer deadline on the way, so timing assertions (RTO 1 s, then 2 s ...) are exact.
 *
 * The peer keeps a little state for convenience (its next sequence number `seq`, the
 * next sequence it expects from us `ack`, its timestamp clock, the last TSval we sent),
 * updated by the handshake helpers, sendData()/sendAck() and by expectSegment() (which
 * "receives" what we sent in order). Every field can be overridden per segment.
 */
import { expect } from 'vitest';
import { Host, type HostLimits } from '../../src/iface/host.js';
import { C, newCounters, type Counters } from '../../src/base/counters.js';
import { TcpConnection } from '../../src/tcp/connection.js';
import type { TcpConnectionHandle } from '../../src/tcp/connection-handle.js';
import type { TcpConfig } from '../../src/tcp/tcp-config.js';
import { parseIpv4, parseMac, readU16, readU32, writeU32 } from '../../src/wire/addresses.js';
import { ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ethType, writeEthernetHeader } from '../../src/wire/ethernet.js';
import { IPPROTO_ICMP, IPPROTO_TCP, writeIpv4Header } from '../../src/wire/ipv4.js';
import {
  TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TcpOptions, fillTcpChecksum, parseTcpOptions, tcpChecksumValid, writeTcpHeader,
} from '../../src/wire/tcp.js';
import { arpFrame, icmpError, ipv4Frame } from './frames.js';
import { Recorder } from './tcp-pair.js';
import { VirtualWire } from './virtual-wire.js';

export { Recorder, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN };

/** Our stack (the Host under test). */
export const OUR_IP = parseIpv4('10.0.0.2');
export const OUR_MAC = parseMac('02:00:00:00:0b:02');
/** The scripted remote host. */
export const PEER_IP = parseIpv4('10.0.0.1');
export const PEER_MAC = parseMac('02:00:00:00:0a:01');
/** A router on the path to the peer: it sends the ICMP errors of sendIcmpError(). */
export const ROUTER_IP = parseIpv4('10.0.0.254');
/** The secret the Host under test uses (fixed: ISNs and cookies are reproducible). */
export const TEST_SECRET = new Uint8Array(32).fill(7);

/** Options the peer puts on a segment (laid out as Linux does), or raw option bytes. */
export interface PeerOptions {
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  /** [TSval, TSecr]. */
  ts?: [number, number];
  /** SACK blocks [left, right). */
  sack?: Array<[number, number]>;
  /** Raw option bytes (used as is, padded with zeros to a multiple of 4 unless `rawNoPad`). */
  raw?: Uint8Array | number[];
  rawNoPad?: boolean;
}

/** A segment the peer sends. Omitted fields come from the peer's state. */
export interface SegmentSpec {
  flags: number;
  seq?: number;
  ack?: number;
  window?: number;
  options?: PeerOptions;
  /** Add a timestamp option from the peer's state when timestamps were negotiated (default true). */
  autoTs?: boolean;
  payload?: Uint8Array | string;
  srcIp?: number;
  srcPort?: number;
  dstPort?: number;
  /** Corrupt the TCP checksum. */
  badChecksum?: boolean;
  /** Write this data offset (in 32-bit words) instead of the real one. */
  dataOffsetWords?: number;
  /** The IP header's ECN field (ECN_ECT0, ECN_CE, ...; default 0: Not-ECT). */
  ipEcn?: number;
}

/** A segment our stack emitted, parsed. */
export interface OutSegment {
  /** Virtual time it was emitted at. */
  at: number;
  frame: Uint8Array;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  headerLen: number;
  /** Parsed options (a copy). */
  options: TcpOptions;
  /** Option bytes as sent. */
  rawOptions: Uint8Array;
  payload: Uint8Array;
  checksumOk: boolean;
  /** SEG.LEN: payload + SYN + FIN. */
  segLen: number;
  /** SACK blocks as pairs. */
  sack: Array<[number, number]>;
  /** The IP header's ECN field (0 Not-ECT, 2 ECT(0), 3 CE). */
  ipEcn: number;
}

/** Fields expectSegment() can check; all optional except flags. */
export interface SegmentExpectation {
  flags: number;
  seq?: number;
  ack?: number;
  window?: number;
  payloadLen?: number;
  /** Compared field by field with the parsed options (sack as pairs). */
  options?: Partial<{ mss: number; wscale: number; sackPermitted: boolean; hasTimestamp: boolean; tsVal: number; tsEcr: number; sack: Array<[number, number]> }>;
  /** Exact option bytes. */
  rawOptions?: number[];
  srcPort?: number;
  dstPort?: number;
}

/** Names of flag bits, for messages. */
export function flagNames(f: number): string {
  const n: string[] = [];
  if (f & TCP_SYN) n.push('SYN');
  if (f & TCP_FIN) n.push('FIN');
  if (f & TCP_RST) n.push('RST');
  if (f & TCP_PSH) n.push('PSH');
  if (f & TCP_ACK) n.push('ACK');
  if (f & 0x20) n.push('URG');
  if (f & TCP_ECE) n.push('ECE');
  if (f & TCP_CWR) n.push('CWR');
  return n.join('|') || 'none';
}

/** Builds option bytes in Linux's layout: MSS, SACK_PERM+TS (or NOP NOP TS / NOP NOP SACK_PERM), NOP WSCALE, NOP NOP SACK. */
export function buildOptions(o: PeerOptions | undefined): Uint8Array {
  if (!o) return new Uint8Array(0);
  if (o.raw) {
    const raw = Array.from(o.raw);
    if (!o.rawNoPad) while (raw.length % 4 !== 0) raw.push(0);
    return Uint8Array.from(raw);
  }
  const b: number[] = [];
  if (o.mss !== undefined) b.push(2, 4, o.mss >> 8, o.mss & 0xff);
  if (o.ts) {
    b.push(...(o.sackPermitted ? [4, 2] : [1, 1]), 8, 10);
    for (const v of o.ts) b.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  } else if (o.sackPermitted) {
    b.push(1, 1, 4, 2);
  }
  if (o.wscale !== undefined) b.push(1, 3, 3, o.wscale);
  if (o.sack && o.sack.length > 0) {
    b.push(1, 1, 5, 2 + 8 * o.sack.length);
    for (const [l, r] of o.sack) {
      for (const v of [l >>> 0, r >>> 0]) b.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    }
  }
  return Uint8Array.from(b);
}

/** Builds an Ethernet/IPv4/TCP frame from the peer (or `srcIp`) to our stack. */
export function buildTcpFrame(
  s: Required<Pick<SegmentSpec, 'flags' | 'seq' | 'ack' | 'window' | 'srcIp' | 'srcPort' | 'dstPort'>> & SegmentSpec,
  dstIp = OUR_IP,
): Uint8Array {
  const opts = buildOptions(s.options);
  const payload = typeof s.payload === 'string' ? new TextEncoder().encode(s.payload) : (s.payload ?? new Uint8Array(0));
  const hlen = 20 + opts.length;
  const l4 = hlen + payload.length;
  const f = new Uint8Array(ETH_HEADER_LEN + 20 + l4);
  writeEthernetHeader(f, 0, OUR_MAC, PEER_MAC, ETHERTYPE_IPV4);
  writeIpv4Header(f, ETH_HEADER_LEN, 20 + l4, 0x4242, 0x4000, 64, IPPROTO_TCP, s.srcIp, dstIp, s.ipEcn ?? 0);
  const o = ETH_HEADER_LEN + 20;
  writeTcpHeader(f, o, s.srcPort, s.dstPort, s.seq >>> 0, s.ack >>> 0, hlen, s.flags, s.window);
  if (s.dataOffsetWords !== undefined) f[o + 12] = (s.dataOffsetWords & 0x0f) << 4;
  f.set(opts, o + 20);
  f.set(payload, o + hlen);
  fillTcpChecksum(f, o, l4, s.srcIp, dstIp);
  if (s.badChecksum) f[o + 17] = f[o + 17] ^ 0x5a;
  return f;
}

/** Parses a frame our stack emitted (Ethernet/IPv4/TCP); null for anything else. */
export function parseOutFrame(frame: Uint8Array, at: number): OutSegment | null {
  if (frame.length < ETH_HEADER_LEN + 40 || ethType(frame, 0) !== ETHERTYPE_IPV4) return null;
  const ip = ETH_HEADER_LEN;
  if (frame[ip + 9] !== IPPROTO_TCP) return null;
  const ihl = (frame[ip] & 0x0f) << 2;
  const total = readU16(frame, ip + 2);
  const o = ip + ihl;
  const l4 = total - ihl;
  const srcIp = readU32(frame, ip + 12);
  const dstIp = readU32(frame, ip + 16);
  const headerLen = (frame[o + 12] >>> 4) << 2;
  const options = new TcpOptions();
  parseTcpOptions(frame, o, headerLen, options);
  const flags = frame[o + 13];
  const payload = frame.slice(o + headerLen, o + l4);
  const sack: Array<[number, number]> = [];
  for (let k = 0; k < options.sackCount; k++) sack.push([options.sackBlocks[2 * k], options.sackBlocks[2 * k + 1]]);
  return {
    at, frame, srcIp, dstIp,
    srcPort: readU16(frame, o), dstPort: readU16(frame, o + 2),
    seq: readU32(frame, o + 4), ack: readU32(frame, o + 8),
    flags, window: readU16(frame, o + 14), headerLen,
    options, rawOptions: frame.slice(o + 20, o + headerLen), payload,
    checksumOk: tcpChecksumValid(frame, o, l4, srcIp, dstIp),
    segLen: payload.length + (flags & TCP_SYN ? 1 : 0) + (flags & TCP_FIN ? 1 : 0),
    sack,
    ipEcn: frame[ip + 1] & 3,
  };
}

/** Describes a segment for failure messages. */
export function describeSegment(s: OutSegment): string {
  const o = s.options;
  const parts = [`${flagNames(s.flags)} seq=${s.seq} ack=${s.ack} win=${s.window} len=${s.payload.length} @${s.at}`];
  if (o.mss >= 0) parts.push(`mss=${o.mss}`);
  if (o.wscale >= 0) parts.push(`ws=${o.wscale}`);
  if (o.sackPermitted) parts.push('sackOK');
  if (o.hasTimestamp) parts.push(`ts=${o.tsVal}/${o.tsEcr}`);
  if (s.sack.length) parts.push(`sack=${JSON.stringify(s.sack)}`);
  return parts.join(' ');
}

/** Options of the Host under test and the peer. */
export interface PeerSetup {
  tcp?: Partial<TcpConfig>;
  limits?: HostLimits;
  /** Start of the virtual clock (ms). */
  now?: number;
  /** The peer's port (default 40000). */
  peerPort?: number;
}

/** Options the peer offers in its SYN / SYN-ACK (undefined field: not offered). */
export interface HandshakeOptions {
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  timestamps?: boolean;
  /** The peer's ISN. */
  isn?: number;
  /** The peer's window field in its SYN (never scaled). */
  window?: number;
  /** Virtual time (ms) between our SYN / SYN-ACK and the peer's answer (an RTT sample). */
  rtt?: number;
  /**
   * ECN (RFC 3168 6.1.1): passive open, the peer's SYN is an ECN-setup SYN (ECE+CWR) and our
   * SYN-ACK must carry ECE; active open, our SYN must be an ECN-setup SYN and the peer's
   * SYN-ACK carries ECE.
   */
  ecn?: boolean;
}

/** Linux's usual SYN options: MSS 1460, SACK-permitted, timestamps, window scale 7. */
export const LINUX_SYN: HandshakeOptions = { mss: 1460, sackPermitted: true, timestamps: true, wscale: 7 };

/** The scripted peer. */
export class TcpPeer {
  now: number;
  readonly wire = new VirtualWire();
  readonly counters: Counters = newCounters();
  readonly host: Host;
  /** Segments our stack emitted and the test has not taken yet. */
  readonly out: OutSegment[] = [];
  /** Frames our stack emitted that were not TCP (ARP, ICMP). */
  readonly otherFrames: Uint8Array[] = [];

  // ---- the peer's connection state (defaults for sent segments)
  peerPort: number;
  ourPort = 80;
  /** The peer's next sequence number. */
  seq = 0;
  /** The next sequence number the peer expects from us (its RCV.NXT). */
  ack = 0;
  /** The peer's ISN and our ISN as seen on the wire. */
  peerIsn = 0;
  ourIsn = 0;
  /** The raw window field the peer puts on non-SYN segments. */
  window = 65535;
  /** The peer's window shift (what it offered), -1 if none. */
  peerWscale = -1;
  /** Our window shift as seen in our SYN / SYN-ACK, -1 if none. */
  ourWscale = -1;
  /** Timestamps negotiated: the peer adds TS to every segment (autoTs). */
  timestamps = false;
  /** The peer's timestamp clock = floor(now) + tsBase. */
  tsBase = 0x10000;
  /** The latest TSval our stack sent (the peer echoes it). */
  lastOurTsVal = 0;

  constructor(setup: PeerSetup = {}) {
    this.now = setup.now ?? 1000;
    this.peerPort = setup.peerPort ?? 40000;
    const limits: HostLimits = { tcpSecret: TEST_SECRET, ...setup.limits, tcp: { ...setup.limits?.tcp, ...setup.tcp } };
    this.host = new Host(
      { mac: OUR_MAC, ip: OUR_IP, prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 },
      this.wire, this.counters, () => {}, limits,
    );
    this.host.tcp.clock = () => this.now;
    // Teach our stack the peer's MAC so nothing waits for ARP.
    const req = arpFrame(OUR_MAC, 1, PEER_MAC, PEER_IP, 0, OUR_IP);
    this.host.receive(req, 0, req.length, this.now);
    this.wire.take();
  }

  /** The TCP layer under test. */
  get tcp(): Host['tcp'] {
    return this.host.tcp;
  }

  /** The peer's current TSval. */
  tsVal(): number {
    return (Math.floor(this.now) + this.tsBase) >>> 0;
  }

  /** Counter value of the Host under test. */
  counter(name: keyof typeof C): number {
    return this.counters[C[name]];
  }

  // ------------------------------------------------------------------ sending

  /** Sends a crafted segment to our stack and collects what it emits. Returns the frame. */
  send(spec: SegmentSpec): Uint8Array {
    let options = spec.options;
    if (this.timestamps && spec.autoTs !== false && !(spec.flags & TCP_RST) && !options?.raw && !options?.ts) {
      options = { ...options, ts: [this.tsVal(), this.lastOurTsVal] };
    }
    const frame = buildTcpFrame({
      ...spec,
      options,
      seq: spec.seq ?? this.seq,
      ack: spec.ack ?? this.ack,
      window: spec.window ?? this.window,
      srcIp: spec.srcIp ?? PEER_IP,
      srcPort: spec.srcPort ?? this.peerPort,
      dstPort: spec.dstPort ?? this.ourPort,
    });
    this.inject(frame);
    return frame;
  }

  /** Hands a raw frame to our stack at the current time. */
  inject(frame: Uint8Array): void {
    this.host.receive(frame, 0, frame.length, this.now);
    this.collect();
  }

  /**
   * Sends an ICMP error about `s` (a segment our stack sent) as a router on the path would:
   * `type`/`code`, the next-hop `mtu` of "fragmentation needed", the quote cut to
   * `quoteLen` bytes (default: IP header + 8); `seq` replaces the quoted sequence number (a
   * blind attacker's guess; routers quote what they got and nobody checks its checksum).
   */
  sendIcmpError(
    type: number, code: number, s: OutSegment, opts: { mtu?: number; quoteLen?: number; seq?: number; srcIp?: number } = {},
  ): void {
    const quote = s.frame.slice(ETH_HEADER_LEN);
    if (opts.seq !== undefined) writeU32(quote, ((quote[0] & 0x0f) << 2) + 4, opts.seq >>> 0);
    this.inject(ipv4Frame(OUR_MAC, PEER_MAC, opts.srcIp ?? ROUTER_IP, OUR_IP, IPPROTO_ICMP, icmpError(type, code, quote, opts)));
  }

  /** Sends in-order data from the peer (ACK|PSH, advancing `seq`). */
  sendData(payload: Uint8Array | string, extra: Partial<SegmentSpec> = {}): void {
    const p = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
    this.send({ flags: TCP_ACK | TCP_PSH, ...extra, payload: p });
    if (extra.seq === undefined) this.seq = (this.seq + p.length) >>> 0;
  }

  /** Sends a pure ACK of everything received so far (or `ack`). */
  sendAck(extra: Partial<SegmentSpec> = {}): void {
    this.send({ flags: TCP_ACK, ...extra });
  }

  /** Sends FIN|ACK (advancing `seq` by one). */
  sendFin(extra: Partial<SegmentSpec> = {}): void {
    this.send({ flags: TCP_FIN | TCP_ACK, ...extra });
    if (extra.seq === undefined) this.seq = (this.seq + 1) >>> 0;
  }

  // ------------------------------------------------------------------ clock

  /** Flushes application-initiated output (after send()/shutdownWrite()/consumed() on a handle). */
  flush(): void {
    this.host.tcp.flushDirty(this.now);
    this.collect();
  }

  /** Advances the virtual clock by `ms`, running every timer deadline on the way. */
  advance(ms: number): void {
    this.advanceTo(this.now + ms);
  }

  /** Advances the clock to `t`, running host.poll at each deadline up to `t`. */
  advanceTo(t: number): void {
    this.flush();
    for (let guard = 0; guard < 1_000_000; guard++) {
      const d = this.host.nextDeadline();
      if (d > t) break;
      this.now = Math.max(this.now, d);
      this.host.poll(this.now);
      this.flush();
    }
    this.now = Math.max(this.now, t);
  }

  /** Advances timer by timer until our stack emits something or `limit` (absolute ms). */
  advanceUntilOutput(limit: number): void {
    this.flush();
    for (let guard = 0; guard < 1_000_000 && this.out.length === 0; guard++) {
      const d = this.host.nextDeadline();
      if (d > limit) {
        this.now = Math.max(this.now, limit);
        return;
      }
      this.now = Math.max(this.now, d);
      this.host.poll(this.now);
      this.flush();
    }
  }

  /** Answer our stack's ARP requests for the peer (a live neighbour); false: stay silent. */
  answerArp = true;

  private collect(): void {
    const arpReplies: Uint8Array[] = [];
    for (const f of this.wire.take()) {
      const s = parseOutFrame(f, this.now);
      if (s) {
        this.out.push(s);
        continue;
      }
      this.otherFrames.push(f);
      // ARP request (op 1) for the peer's address: reply as the peer would.
      if (this.answerArp && f.length >= 42 && ethType(f, 0) === ETHERTYPE_ARP && readU16(f, 20) === 1 && readU32(f, 38) === PEER_IP) {
        arpReplies.push(arpFrame(OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP));
      }
    }
    for (const r of arpReplies) this.inject(r);
  }

  // ------------------------------------------------------------------ expectations

  /**
   * Takes the next segment our stack emitted; with `withinMs`, advances the clock (timer
   * by timer) up to that long waiting for one. Throws if there is none.
   */
  nextSegment(withinMs = 0): OutSegment {
    if (this.out.length === 0 && withinMs > 0) this.advanceUntilOutput(this.now + withinMs);
    const s = this.out.shift();
    if (!s) throw new Error(`expected a segment by t=${this.now}, got nothing`);
    this.note(s);
    return s;
  }

  /** Takes every segment emitted so far. */
  takeAll(): OutSegment[] {
    const all = this.out.splice(0, this.out.length);
    for (const s of all) this.note(s);
    return all;
  }

  /**
   * Takes the next segment (waiting up to `withinMs` of virtual time) and checks the given
   * fields exactly, plus a valid checksum and the 4-tuple. Returns it.
   */
  expectSegment(e: SegmentExpectation, withinMs = 0): OutSegment {
    const s = this.nextSegment(withinMs);
    const actual: Record<string, unknown> = { flags: flagNames(s.flags) };
    const wanted: Record<string, unknown> = { flags: flagNames(e.flags) };
    if (e.seq !== undefined) { actual.seq = s.seq; wanted.seq = e.seq >>> 0; }
    if (e.ack !== undefined) { actual.ack = s.ack; wanted.ack = e.ack >>> 0; }
    if (e.window !== undefined) { actual.window = s.window; wanted.window = e.window; }
    if (e.payloadLen !== undefined) { actual.payloadLen = s.payload.length; wanted.payloadLen = e.payloadLen; }
    if (e.rawOptions !== undefined) { actual.rawOptions = Array.from(s.rawOptions); wanted.rawOptions = e.rawOptions; }
    actual.srcPort = s.srcPort; wanted.srcPort = e.srcPort ?? this.ourPort;
    actual.dstPort = s.dstPort; wanted.dstPort = e.dstPort ?? s.dstPort;
    if (e.options) {
      const o = s.options as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(e.options)) {
        actual[`opt.${k}`] = k === 'sack' ? s.sack : o[k];
        wanted[`opt.${k}`] = v;
      }
    }
    actual.checksumOk = s.checksumOk; wanted.checksumOk = true;
    expect(actual, describeSegment(s)).toEqual(wanted);
    return s;
  }

  /** Asserts our stack emits nothing until `untilMs` (absolute; default: now, no time passes). */
  expectNothing(untilMs = this.now): void {
    this.advanceTo(untilMs);
    expect(this.out.map(describeSegment), `unexpected output by t=${this.now}`).toEqual([]);
  }

  /** Records what the peer learns from one of our segments (ACK point, TSval). */
  private note(s: OutSegment): void {
    if (s.options.hasTimestamp) this.lastOurTsVal = s.options.tsVal;
    if (s.flags & TCP_RST) return;
    const end = (s.seq + s.segLen) >>> 0;
    // The peer takes our data in order only (a scripted peer: tests send explicit ACKs otherwise).
    if (s.segLen > 0 && s.seq === this.ack) this.ack = end;
  }

  // ------------------------------------------------------------------ handshakes

  private synOptions(h: HandshakeOptions, tsEcr: number): PeerOptions {
    const o: PeerOptions = {};
    if (h.mss !== undefined) o.mss = h.mss;
    if (h.sackPermitted) o.sackPermitted = true;
    if (h.timestamps) o.ts = [this.tsVal(), tsEcr];
    if (h.wscale !== undefined) o.wscale = h.wscale;
    return o;
  }

  /**
   * Passive open: our stack listens on `port` (listening once), the peer sends SYN with
   * `h`'s options, checks the SYN-ACK, sends the final ACK. Returns the accepted
   * connection with a Recorder attached.
   */
  passiveOpen(h: HandshakeOptions = LINUX_SYN, port = 80): { conn: TcpConnection; rec: Recorder; synAck: OutSegment } {
    this.ourPort = port;
    const acceptedNow: TcpConnectionHandle[] = [];
    const rec = new Recorder();
    this.listen(port, 128, (c) => {
      acceptedNow.push(c);
      rec.conn = c;
      c.events = rec;
    });
    this.peerIsn = (h.isn ?? 0x1000_0000) >>> 0;
    this.timestamps = false;
    const ecn = h.ecn ? TCP_ECE | TCP_CWR : 0;
    this.send({ flags: TCP_SYN | ecn, seq: this.peerIsn, ack: 0, window: h.window ?? 64240, options: this.synOptions(h, 0) });
    const synAck = this.expectSegment({ flags: TCP_SYN | TCP_ACK | (ecn & TCP_ECE), ack: this.peerIsn + 1 });
    this.ourIsn = synAck.seq;
    this.seq = (this.peerIsn + 1) >>> 0;
    this.ack = (synAck.seq + 1) >>> 0;
    this.peerWscale = h.wscale ?? -1;
    this.ourWscale = synAck.options.wscale;
    this.timestamps = !!h.timestamps && synAck.options.hasTimestamp;
    if (h.rtt) this.advance(h.rtt);
    this.sendAck();
    const conn = this.connection(); // the accepted handle as the endpoint's TcpConnection
    if (conn === undefined || acceptedNow.at(0) !== conn) throw new Error('passiveOpen: no connection accepted');
    return { conn, rec, synAck };
  }

  /** Listens on `port` unless already listening (the accept callback of the first call stays). */
  private listenCallbacks = new Map<number, (c: TcpConnectionHandle) => void>();
  listen(port: number, backlog: number, onAccept: (c: TcpConnectionHandle) => void): void {
    if (!this.listenCallbacks.has(port)) {
      this.host.tcp.listen(port, backlog, (c) => this.listenCallbacks.get(port)!(c));
    }
    this.listenCallbacks.set(port, onAccept);
  }

  /**
   * Active open: our stack connects to the peer's `port`; the peer checks our SYN,
   * answers SYN-ACK with `h`'s options and checks our ACK. Returns the connection.
   */
  activeOpen(h: HandshakeOptions = LINUX_SYN, port = 8080): { conn: TcpConnection; rec: Recorder; syn: OutSegment } {
    const { conn, rec, syn } = this.startConnect(port, h.ecn ? TCP_SYN | TCP_ECE | TCP_CWR : TCP_SYN);
    this.ourWscale = syn.options.wscale;
    this.peerIsn = (h.isn ?? 0x2000_0000) >>> 0;
    this.seq = (this.peerIsn + 1) >>> 0;
    this.ack = (syn.seq + 1) >>> 0;
    this.timestamps = false;
    if (h.rtt) this.advance(h.rtt);
    const opts = this.synOptions(h, syn.options.tsVal);
    this.send({ flags: TCP_SYN | TCP_ACK | (h.ecn ? TCP_ECE : 0), seq: this.peerIsn, ack: this.ack, window: h.window ?? 65160, options: opts });
    this.peerWscale = h.wscale ?? -1;
    this.timestamps = !!h.timestamps && syn.options.hasTimestamp;
    this.expectSegment({ flags: TCP_ACK, seq: this.ack, ack: this.seq });
    return { conn, rec, syn };
  }

  /**
   * Starts an active open from our stack to the peer's `port` and takes our SYN (the
   * handshake is left to the test). Sets ourPort/peerPort/ourIsn/ourWscale.
   */
  startConnect(port = 8080, synFlags = TCP_SYN): { conn: TcpConnection; rec: Recorder; syn: OutSegment } {
    const conn = asTcpConnection(this.host.tcp.connect(PEER_IP, port));
    const rec = new Recorder(conn);
    conn.events = rec;
    this.ourPort = conn.localPort;
    this.peerPort = port;
    this.flush();
    const syn = this.expectSegment({ flags: synFlags, ack: 0, dstPort: port });
    this.ourIsn = syn.seq;
    this.ourWscale = syn.options.wscale;
    this.ack = (syn.seq + 1) >>> 0;
    return { conn, rec, syn };
  }

  /** Our connection for the current 4-tuple (or the given peer port), if any. */
  connection(peerPort = this.peerPort, localPort = this.ourPort): TcpConnection | undefined {
    for (const c of this.host.tcp.connections()) {
      if (c.remotePort === peerPort && c.localPort === localPort && c.remoteIp === PEER_IP) return c;
    }
    return undefined;
  }
}

/** The endpoint's TcpConnection behind a handle it gave out (tests look at its state). */
export function asTcpConnection(h: TcpConnectionHandle | null | undefined): TcpConnection {
  if (!(h instanceof TcpConnection)) throw new Error(`expected a TcpConnection, got ${h === null || h === undefined ? String(h) : 'another handle'}`);
  return h;
}

/** A 32-bit big-endian write (re-exported for tests that patch frames). */
export { writeU32 };

/** One of several connections a TcpPeer opened (its port and sequence state). */
export interface PeerSide {
  port: number;
  seq: number;
  ack: number;
  conn: TcpConnection;
}

/** Opens a connection from peer port `port` (a passive open on our side). */
export function openFromPort(p: TcpPeer, port: number): PeerSide {
  p.peerPort = port;
  const { conn } = p.passiveOpen();
  return { port, seq: p.seq, ack: p.ack, conn };
}
