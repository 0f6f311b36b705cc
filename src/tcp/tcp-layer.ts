/**
 * TCP for one shard: demultiplexing segments to connections, listeners with a bounded
 * SYN queue and SYN cookies beyond it, active opens on local ports that hash back to this
 * shard, RST for segments nobody wants, TIME_WAIT bookkeeping, and the timer heap.
 *
 * RFC 9293 3.10.7.1 (segments to a CLOSED port get RST: <SEQ=SEG.ACK><CTL=RST> when ACK is
 * set, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>), 3.10.7.2 (LISTEN), RFC 6528 (ISN),
 * RFC 4987 3.6 (SYN cookies), RFC 6335 / Linux ip_local_port_range (ephemeral ports
 * 32768–60999), RFC 1122 4.2.3.10 (validate the checksum; drop broadcast/multicast),
 * RFC 5961 7 (one challenge-ACK budget per shard, Linux tcp_challenge_ack_limit: at most
 * challengeAckLimit per second, a window starting at the first challenge ACK after the
 * previous window ended; no randomization, unlike Linux; each connection limits itself first,
 * ./connection-output.ts), Linux tcp_max_orphans (the
 * orphan count the connections check on close()).
 *
 * One core for both families (decision 0030): an address is a number, an IPv4 address
 * below 2^32 and an IPv6 one interned as 2^32 + id (base/ipv6-interner.ts). Segments over
 * IPv6 come in through input6() with the RFC 8200 8.1 pseudo-header in their checksum;
 * every packet being handled, every connection and every TIME_WAIT record holds a
 * reference on its interned addresses. ISNs, timestamp offsets and SYN cookies take a
 * keyed digest of each IPv6 address (./isn.ts addressDigest). A listener takes both
 * families. Our MSS over IPv6 is the MTU less 60 (RFC 8200 8.3).
 */
import { C, type Counters } from '../base/counters.js';
import { foldIpv6Words, hashFourTuple, shardOf } from '../base/flow-hash.js';
import type { Ipv4Output } from '../l3/ipv4-output.js';
import type { TransportInput } from '../l3/ipv4-input.js';
import type { TransportErrorInput } from '../l3/icmp-layer.js';
import type { PathMtuCache } from '../l3/path-mtu.js';
import { ipDst, ipEcn, ipHeaderLength, ipTotalLength } from '../wire/ipv4.js';
import { IPV6_DST_OFFSET, IPV6_HEADER_LEN, IPV6_MIN_MTU, IPV6_SRC_OFFSET, ipv6Ecn, ipv6PayloadLength } from '../wire/ipv6.js';
import { formatIpv6, ipv6IsUnspecified, type Ipv6Address } from '../wire/ipv6-address.js';
import { IPV6_ID_BASE, type Ipv6Interner } from '../base/ipv6-interner.js';
import { localKey } from './demux-key.js';
import type { Ipv6Output } from '../l3/ipv6-output.js';
import { rxChecksumTrusted } from '../base/rx-flags.js';
import type { LinkCapabilities } from '../base/link.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, tcpChecksumValid, tcpChecksumValid6, tcpDstPort, tcpSeq, tcpSrcPort } from '../wire/tcp.js';
import { icmpErrorArrives, icmpv6AsIcmp } from './connection-icmp.js';
import { DeadlineHeap } from '../util/deadline-heap.js';
import { LISTEN_BOTH, LISTEN_IPV4, LISTEN_IPV6, type TcpConnectionHandle, type TcpEndpointApi } from './connection-handle.js';
import { State, STATE_NAMES, TcpConnection, type ConnectionHost, type TimerRef } from './connection.js';
import { IsnGenerator } from './isn.js';
import { InSegment } from './segment.js';
import { SegmentWriter } from './segment-writer.js';
import { TcpParse, TcpRepr } from '../wire/tcp-repr.js';
import { NO_ADDRESS_REFS, NO_RECORD, TimeWaitTable } from './time-wait.js';
import { seqAdd, seqSub } from './seq.js';
import { SynCookies, cookieTsSackOk, cookieTsWscale, decodeCookieTs, encodeCookieTs } from './syn-cookie.js';
import { DEFAULT_TCP_CONFIG, windowScaleFor, type TcpConfig } from './tcp-config.js';
import { ConnectionTracer, type ArchivedConnection, type TraceEvent } from './trace.js';

/** A listening port. */
interface Listener {
  port: number;
  backlog: number;
  onAccept: (c: TcpConnectionHandle) => void;
  /** The families it takes (LISTEN_IPV4 | LISTEN_IPV6). */
  families: number;
  /** Connections in SYN_RECEIVED for this port. */
  synQueue: number;
  /** When SYN cookies were last sent (a final ACK may then carry one). */
  cookiesUntil: number;
}

/** First and last ephemeral port (Linux's default ip_local_port_range). */
export const EPHEMERAL_FIRST = 32768, EPHEMERAL_LAST = 60999;

/** The TCP layer of one shard. */
export class TcpLayer implements ConnectionHost, TcpEndpointApi, TransportInput, TransportErrorInput {
  readonly writer: SegmentWriter;
  readonly pathMtu: PathMtuCache;
  readonly config: TcpConfig;
  readonly ourMss: number;
  /** Our MSS towards IPv6 peers: the MTU less the 40-byte IPv6 and 20-byte TCP headers. */
  readonly ourMss6: number;
  /** Where the source address of an active open over IPv6 comes from (null: no IPv6). */
  private sourceFor6: ((dst: Readonly<Ipv6Address>) => Readonly<Ipv6Address>) | null = null;
  private readonly dst6 = new Uint32Array(4);
  /** localPort → (remoteIp·65536 + remotePort) → connection. */
  private readonly conns = new Map<number, Map<number, TcpConnection>>();
  private readonly listeners = new Map<number, Listener>();
  /**
   * Connections' earliest deadlines, with lazy deletion: an entry whose deadline is not its
   * TimerRef's `at` is stale and skipped when it comes up. Entries refer to the TimerRef, which
   * a connection leaving the tables cuts loose (releaseTimers): under load, closed
   * connections' stale entries (an RTO seconds ahead) would otherwise keep tens of
   * thousands of them alive.
   */
  private readonly heap = new DeadlineHeap<TimerRef>();
  private readonly dirty = new Set<TcpConnection>();
  /**
   * Connections whose segments the TX sink refused for room, in the order they were
   * refused (retryBlocked). One entry per connection at most, so bounded by the table.
   */
  private readonly blocked = new Set<TcpConnection>();
  /** The connection retryBlocked() is flushing, and how often the sink refused it again. */
  private retrying: TcpConnection | null = null;
  private retryRefusals = 0;
  private readonly seg = new InSegment();
  /** The header of every segment sent (connections fill it through ConnectionHost.outSegment; SYN cookies, RSTs, TIME_WAIT ACKs). */
  private readonly out = new TcpRepr();

  get outSegment(): TcpRepr {
    return this.out;
  }
  private readonly isnGen: IsnGenerator;
  private readonly cookies: SynCookies;
  private connCount = 0;
  /** TIME_WAIT records (the connections themselves are gone from `conns`). */
  private readonly timeWait: TimeWaitTable;
  private orphanCount = 0;
  /** Connection traces (./trace.ts) and the serial of the next connection. */
  readonly tracer: ConnectionTracer;
  private serials = 0;
  /** RFC 5961 7: start (ms) of the current one-second challenge-ACK window, and what is left of its budget. */
  private challengeWindowStart = -Infinity;
  private challengeAcksLeft = 0;
  private nextEphemeral: number;
  /** Called when app-side changes need the worker to flush (coalesced by the caller). */
  onDirty: () => void = () => {};

  constructor(
    readonly localIp: number,
    mtu: number,
    private readonly shardIndex: number,
    private readonly shardCount: number,
    ip: Ipv4Output,
    readonly counters: Counters,
    config: Partial<TcpConfig> = {},
    secret?: Uint8Array,
    device?: LinkCapabilities,
    /** The Host's interned IPv6 addresses (null: IPv4 only). */
    readonly interner: Ipv6Interner | null = null,
  ) {
    this.config = { ...DEFAULT_TCP_CONFIG, ...config };
    this.ourMss = mtu - 40;
    this.ourMss6 = mtu - 60;
    this.writer = new SegmentWriter(ip, counters, localIp, device);
    this.pathMtu = ip.pathMtu;
    this.timeWait = new TimeWaitTable(this.config.maxTimeWait, interner ?? NO_ADDRESS_REFS);
    this.tracer = new ConnectionTracer(this.config.traceSlots, this.config.traceArchive, counters);
    this.isnGen = new IsnGenerator(secret);
    this.cookies = new SynCookies(secret);
    this.nextEphemeral = EPHEMERAL_FIRST + ((shardIndex * 7919) % (EPHEMERAL_LAST - EPHEMERAL_FIRST));
  }

  /**
   * TCP over IPv6: segments go out through `out`; an active open takes its source address
   * from `sourceFor` (RFC 6724 selection, l2/ipv6-address-table.ts).
   */
  enableIpv6(out: Ipv6Output, sourceFor: (dst: Readonly<Ipv6Address>) => Readonly<Ipv6Address>): void {
    if (this.interner === null) throw new Error('TCP over IPv6 needs the address interner');
    this.writer.enableIpv6(out, this.interner);
    this.sourceFor6 = sourceFor;
  }

  /** True when this layer carries TCP over IPv6. */
  get ipv6(): boolean {
    return this.sourceFor6 !== null;
  }

  /** RFC 5952 text of an interned IPv6 address; null for IPv4. */
  private text6(ip: number): string | null {
    const n = this.interner;
    return ip < IPV6_ID_BASE || n === null ? null : formatIpv6(n.copyInto(ip, this.dst6));
  }

  /** An address as the 32-bit value the keyed hashes take: itself (IPv4) or a keyed digest (IPv6). */
  private hashKey(ip: number): number {
    const n = this.interner;
    if (ip < IPV6_ID_BASE || n === null) return ip;
    return this.isnGen.addressDigest(n.word(ip, 0), n.word(ip, 1), n.word(ip, 2), n.word(ip, 3));
  }

  private isn(localIp: number, localPort: number, remoteIp: number, remotePort: number, now: number): number {
    return this.isnGen.isn(this.hashKey(localIp), localPort, this.hashKey(remoteIp), remotePort, now);
  }

  // ------------------------------------------------------------ ConnectionHost

  tsOffset(localIp: number, remoteIp: number): number {
    return this.isnGen.tsOffset(this.hashKey(localIp), this.hashKey(remoteIp));
  }

  mssFor(remoteIp: number): number {
    return remoteIp >= IPV6_ID_BASE ? this.ourMss6 : this.ourMss;
  }

  onEstablished(c: TcpConnection): void {
    const l = this.listeners.get(c.listenerPort);
    if (l) l.synQueue = Math.max(0, l.synQueue - 1);
    this.counters[C.tcp_syn_queue] = this.synQueueTotal();
    if (!l) {
      c.abort();
      return;
    }
    l.onAccept(c);
  }

  newSerial(): number {
    return ++this.serials;
  }

  /** The connection gives its trace ring back (to the archive too when it had an RTO or a reset). */
  private releaseTrace(c: TcpConnection, now: number): void {
    const r = c.traceSlot;
    if (r < 0) return;
    c.traceSlot = -1;
    const info = this.tracer.marksOf(r) === 0 ? null : {
      localPort: c.localPort, remoteIp: c.remoteIp, remotePort: c.remotePort, iss: c.snd.iss, irs: c.rcv.irs,
      local6: this.text6(c.localIp), remote6: this.text6(c.remoteIp),
      rcvWscale: c.rcv.wscale, sndWscale: c.snd.wscale, state: STATE_NAMES[c.state], closedAt: now,
    };
    this.tracer.release(r, info);
  }

  onClosed(c: TcpConnection): void {
    this.releaseTrace(c, c.lastNow);
    this.releaseTimers(c);
    const m = this.conns.get(localKey(c.localIp, c.localPort));
    const key = c.remoteIp * 65536 + c.remotePort;
    if (m?.get(key) === c) {
      m.delete(key);
      if (m.size === 0) this.conns.delete(localKey(c.localIp, c.localPort));
      this.connCount--;
      this.releaseAddresses(c);
    }
    if (c.listenerPort !== 0 && c.countedInSynQueue) {
      const l = this.listeners.get(c.listenerPort);
      if (l) l.synQueue = Math.max(0, l.synQueue - 1);
      c.countedInSynQueue = false;
    }
    this.updateGauges();
  }

  onTimeWait(c: TcpConnection, now: number): void {
    const tw = this.timeWait;
    if (tw.capacity <= 0) {
      // No TIME_WAIT at all: like Linux over tcp_max_tw_buckets, still ACK the peer's FIN.
      this.counters[C.drop_tcp_time_wait_limit]++;
      c.flush(now);
      c.terminate(undefined);
      return;
    }
    const slot = tw.add(
      c.localIp, c.localPort, c.remoteIp, c.remotePort, c.snd.sndMax, c.rcv.rcvNxt, c.rcv.windowField(false),
      c.tsEnabled, c.rcv.tsRecent, this.tsOffset(c.localIp, c.remoteIp), now + 2 * this.config.mslMs,
    );
    // A full table made room by ending its oldest record early (serving new connections
    // matters more than the last seconds of an old one's TIME_WAIT).
    if (tw.evicted > 0) this.counters[C.drop_tcp_time_wait_limit]++;
    c.timeWaitSlot = slot;
    c.timeWaitGeneration = tw.generationOf(slot);
    this.releaseTrace(c, now);
    // The record answers for the 4-tuple from now on: the connection leaves the tables (it
    // still sends the ACK this segment owes, then nothing refers to it).
    this.detach(c);
    this.releaseTimers(c);
    this.updateGauges();
  }

  timeWaitHeld(slot: number, generation: number): boolean {
    return this.timeWait.alive(slot, generation);
  }

  orphanCountChanged(delta: number): void {
    this.orphanCount += delta;
    this.counters[C.tcp_orphans] = this.orphanCount;
  }

  get orphans(): number {
    return this.orphanCount;
  }

  challengeAckAllowed(now: number): boolean {
    if (now - this.challengeWindowStart >= 1000) {
      this.challengeWindowStart = now;
      this.challengeAcksLeft = this.config.challengeAckLimit;
    }
    if (this.challengeAcksLeft <= 0) return false;
    this.challengeAcksLeft--;
    return true;
  }

  markDirty(c: TcpConnection): void {
    if (this.dirty.size === 0) this.onDirty();
    this.dirty.add(c);
  }

  txRefused(c: TcpConnection): void {
    if (c === this.retrying) {
      this.retryRefusals++; // keeps its place at the front
      return;
    }
    if (this.blocked.has(c)) return;
    this.blocked.add(c);
    this.counters[C.tcp_tx_ring_waits]++;
  }

  /** Connections waiting for room in the TX sink (retryBlocked). */
  get txBlocked(): number {
    return this.blocked.size;
  }

  /**
   * The TX sink has room again (the caller knows: a shard worker's TX ring was drained
   * enough for the largest frame): the connections it refused send what they hold, in
   * the order they were refused, until the sink refuses one again; that one and those
   * after it wait for the next call. Without it they would wait for a timer: with nothing
   * in flight, the persist timer (200 ms or more). Linux's TCP Small Queues resume a
   * socket the same way when the device frees its packets (tcp_tsq_handler).
   */
  retryBlocked(now: number): void {
    this.now = now;
    for (const c of this.blocked) {
      if (c.state !== State.CLOSED) {
        this.retrying = c;
        const refusals = this.retryRefusals;
        this.flushOne(c, now);
        this.retrying = null;
        if (this.retryRefusals !== refusals) return;
      }
      this.blocked.delete(c);
    }
  }

  // ------------------------------------------------------------ TcpEndpointApi

  listen(port: number, backlog: number, onAccept: (conn: TcpConnectionHandle) => void, families = LISTEN_BOTH): boolean {
    if (this.listeners.has(port)) return false;
    this.listeners.set(port, {
      port, families, backlog: Math.max(1, Math.min(backlog || this.config.synQueue, 65535)), onAccept, synQueue: 0, cookiesUntil: -Infinity,
    });
    return true;
  }

  unlisten(port: number): void {
    this.listeners.delete(port);
  }

  /**
   * Active open to `remoteIp` (IPv4, or an IPv6 address interned by the caller, who keeps
   * its own reference) from an ephemeral port whose flow hashes to this shard; null when
   * no port is free, the table is full or there is no usable IPv6 source address (none
   * on the destination's scope, or still tentative).
   */
  connect(remoteIp: number, remotePort: number): TcpConnectionHandle | null {
    if (remoteIp < IPV6_ID_BASE) return this.connectFrom(this.localIp, remoteIp, remotePort);
    const n = this.interner;
    if (n === null || this.sourceFor6 === null) return null;
    const from = this.sourceFor6(n.copyInto(remoteIp, this.dst6));
    if (ipv6IsUnspecified(from)) return null; // no usable source address (yet: DAD)
    const local = n.intern(from);
    if (local < 0) return null;
    const c = this.connectFrom(local, remoteIp, remotePort);
    n.release(local); // the connection holds its own reference
    return c;
  }

  private connectFrom(localIp: number, remoteIp: number, remotePort: number): TcpConnectionHandle | null {
    const now = this.clock();
    this.now = now;
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    const lk = this.flowKey(localIp);
    const rk = this.flowKey(remoteIp);
    for (let i = 0; i < span; i++) {
      const port = EPHEMERAL_FIRST + ((this.nextEphemeral - EPHEMERAL_FIRST + i) % span);
      if (this.listeners.has(port)) continue;
      if (shardOf(hashFourTuple(lk, port, rk, remotePort, 6), this.shardCount) !== this.shardIndex) continue;
      if (this.lookup(localIp, port, remoteIp, remotePort) !== undefined) continue;
      if (this.timeWait.lookup(localIp, port, remoteIp, remotePort) !== NO_RECORD) continue; // still in TIME_WAIT
      this.nextEphemeral = port + 1;
      if (this.connCount >= this.config.maxConnections) {
        this.counters[C.drop_tcp_conn_limit]++;
        return null;
      }
      const c = new TcpConnection(this, localIp, port, remoteIp, remotePort, now);
      this.insert(c);
      this.counters[C.tcp_active_opens]++;
      c.connect(this.isn(localIp, port, remoteIp, remotePort, now), now);
      this.schedule(c);
      this.markDirty(c);
      return c;
    }
    return null;
  }

  /** The address as the flow hash takes it (base/flow-hash.ts): itself, or an IPv6 address folded to 32 bits. */
  private flowKey(ip: number): number {
    const n = this.interner;
    if (ip < IPV6_ID_BASE || n === null) return ip;
    return foldIpv6Words(n.word(ip, 0), n.word(ip, 1), n.word(ip, 2), n.word(ip, 3));
  }

  // ------------------------------------------------------------ input

  /**
   * Set by the caller while more received frames wait behind the one it hands in (its
   * receive batch); it then calls flushDirty() at the end of the batch (ConnectionHost).
   */
  deferOutput = false;

  /** The time of the latest input or poll. */
  now = 0;
  /** The clock for application-initiated calls (connect); the worker sets it to its monotonic clock. */
  clock: () => number = () => this.now;

  /**
   * Handles a TCP segment whose IPv4 header starts at b[ipOff] (header `hlen`, total
   * `ipLen`). The checksum is not verified when `rxFlags` says the device vouches for it.
   * (`_toBroadcast` is always false: IPv4 input drops TCP to broadcast addresses.)
   */
  input(
    b: Uint8Array, ipOff: number, hlen: number, ipLen: number, src: number, dst: number,
    _toBroadcast: boolean, rxFlags: number, now: number,
  ): void {
    this.now = now;
    const o = ipOff + hlen;
    const len = ipLen - hlen;
    const s = this.seg;
    const r = s.parse(b, o, len);
    if (r === TcpParse.Truncated || r === TcpParse.BadDataOffset) {
      this.counters[r === TcpParse.Truncated ? C.drop_tcp_truncated : C.drop_tcp_bad_offset]++;
      return;
    }
    if (!rxChecksumTrusted(rxFlags) && !tcpChecksumValid(b, o, len, src, dst)) {
      this.counters[C.drop_tcp_checksum]++;
      return;
    }
    if (r === TcpParse.BadOptions) {
      // Malformed options: Linux ignores what it cannot parse; so do we (counted), keeping
      // what parsed. A SYN with broken options is refused rather than half-negotiated.
      this.counters[C.drop_tcp_bad_options]++;
      if (s.flags & TCP_SYN) return;
    }
    s.b = b;
    s.src = src;
    s.dst = dst;
    s.ipEcn = ipEcn(b, ipOff);
    this.demux(s, now);
  }

  /**
   * Handles a TCP segment carried in the IPv6 packet at b[ipOff] (RFC 8200 8.1 checksum,
   * not verified when `rxFlags` says the device vouches for it), at b[o..o+len);
   * `toMulticast`: its destination is a multicast group (dropped, RFC 1122 4.2.3.10). Its
   * addresses are interned for as long as it is handled.
   */
  input6(b: Uint8Array, ipOff: number, o: number, len: number, toMulticast: boolean, rxFlags: number, now: number): void {
    this.now = now;
    const n = this.interner;
    if (n === null) return;
    if (toMulticast) {
      this.counters[C.drop_tcp6_multicast]++;
      return;
    }
    const s = this.seg;
    const r = s.parse(b, o, len);
    if (r === TcpParse.Truncated || r === TcpParse.BadDataOffset) {
      this.counters[r === TcpParse.Truncated ? C.drop_tcp_truncated : C.drop_tcp_bad_offset]++;
      return;
    }
    if (!rxChecksumTrusted(rxFlags) && !tcpChecksumValid6(b, o, len, ipOff)) {
      this.counters[C.drop_tcp_checksum]++;
      return;
    }
    this.counters[C.tcp6_segments_rx]++;
    if (r === TcpParse.BadOptions) {
      this.counters[C.drop_tcp_bad_options]++;
      if (s.flags & TCP_SYN) return;
    }
    const src = n.internAt(b, ipOff + IPV6_SRC_OFFSET);
    const dst = src < 0 ? -1 : n.internAt(b, ipOff + IPV6_DST_OFFSET);
    if (dst < 0) {
      if (src >= 0) n.release(src);
      return;
    }
    s.b = b;
    s.src = src;
    s.dst = dst;
    s.ipEcn = ipv6Ecn(b, ipOff);
    try {
      this.demux(s, now);
    } finally {
      n.release(src);
      n.release(dst);
    }
  }

  /** Hands a parsed, checked segment to its connection, TIME_WAIT record or listener. */
  private demux(s: InSegment, now: number): void {
    const src = s.src;
    const c = this.lookup(s.dst, s.dstPort, src, s.srcPort);
    if (c === undefined && this.timeWait.size > 0) {
      const tw = this.timeWait.lookup(s.dst, s.dstPort, src, s.srcPort);
      if (tw !== NO_RECORD) {
        const f = s.flags;
        if (!(f & TCP_SYN && !(f & (TCP_ACK | TCP_RST)) && this.timeWait.acceptsSyn(tw, s.seq, s.opts.hasTimestamp, s.opts.tsVal))) {
          this.counters[C.tcp_segments_rx]++;
          this.timeWaitInput(tw, s, now);
          return;
        }
        // A new incarnation (Linux-like TIME_WAIT reuse): forget the old one, open anew.
        this.counters[C.tcp_time_wait_reused]++;
        this.timeWait.remove(tw);
        this.updateGauges();
      }
    }
    if (c !== undefined) {
      c.input(s, now);
      this.schedule(c);
      return;
    }
    this.counters[C.tcp_segments_rx]++;
    this.noConnection(s, now);
  }

  /**
   * An ICMP error quoting one of our segments (b[q..]: its IPv4 header, checked by
   * l3/icmp-layer.ts): the connection it belongs to judges it (./connection-icmp.ts).
   * TIME_WAIT records and unknown 4-tuples ignore it (drop_icmp_error_no_flow).
   */
  icmpError(type: number, code: number, nextHopMtu: number, b: Uint8Array, q: number, _qLen: number, now: number): void {
    const l4 = q + ipHeaderLength(b, q);
    const c = this.lookup(this.localIp, tcpSrcPort(b, l4), ipDst(b, q), tcpDstPort(b, l4));
    if (c === undefined) {
      this.counters[C.drop_icmp_error_no_flow]++;
      return;
    }
    this.now = now;
    c.lastNow = now;
    icmpErrorArrives(c, type, code, nextHopMtu, tcpSeq(b, l4), ipTotalLength(b, q), now);
    if (c.state === State.CLOSED) return;
    c.flush(now);
    this.schedule(c);
  }

  /**
   * An ICMPv6 error quoting one of our segments over IPv6 (b[q..]: its IPv6 header, from
   * one of our addresses, checked by l3/icmpv6-layer.ts): read as its ICMP counterpart by
   * the connection (./connection-icmp.ts); a Packet Too Big reports at least 1280 (RFC 8200 5).
   */
  icmpError6(type: number, code: number, word: number, b: Uint8Array, q: number, _qLen: number, now: number): void {
    const l4 = q + IPV6_HEADER_LEN;
    const remote = this.interner?.findAt(b, q + IPV6_DST_OFFSET) ?? -1;
    const local = this.interner?.findAt(b, q + IPV6_SRC_OFFSET) ?? -1;
    const c = remote < 0 || local < 0 ? undefined : this.lookup(local, tcpSrcPort(b, l4), remote, tcpDstPort(b, l4));
    if (c === undefined) {
      this.counters[C.drop_icmp_error_no_flow]++;
      return;
    }
    this.now = now;
    c.lastNow = now;
    const as = icmpv6AsIcmp(type, code);
    const mtu = Math.max(IPV6_MIN_MTU, Math.min(word, 65535));
    icmpErrorArrives(c, as >>> 8, as & 0xff, mtu, tcpSeq(b, l4), IPV6_HEADER_LEN + ipv6PayloadLength(b, q), now);
    if (c.state === State.CLOSED) return;
    c.flush(now);
    this.schedule(c);
  }

  /**
   * A segment for a 4-tuple in TIME_WAIT (RFC 9293 3.10.7.4): a retransmitted FIN is ACKed
   * again and restarts 2·MSL; RST is ignored (RFC 1337); a bare ACK is dropped; anything
   * else gets an ACK.
   */
  private timeWaitInput(tw: number, s: InSegment, now: number): void {
    const f = s.flags;
    if (f & TCP_RST) return;
    if (f & TCP_FIN) {
      this.timeWait.restart(tw, now + 2 * this.config.mslMs);
    } else if (f & TCP_ACK && s.dataLen === 0) {
      return;
    }
    const t = this.timeWait;
    const r = this.replyTo(s, t.seqOf(tw), t.ackOf(tw), TCP_ACK, t.windowOf(tw));
    if (t.timestampsOf(tw)) {
      r.opts.hasTimestamp = true;
      r.opts.tsVal = (Math.floor(now) + t.tsOffsetOf(tw)) >>> 0;
      r.opts.tsEcr = t.tsRecentOf(tw);
    }
    this.writer.send(s.dst, s.src, r, null, 0, now);
  }

  private noConnection(s: InSegment, now: number): void {
    const f = s.flags;
    if (f & TCP_RST) return;
    const l = this.listeners.get(s.dstPort);
    if (l !== undefined && (l.families & (s.src >= IPV6_ID_BASE ? LISTEN_IPV6 : LISTEN_IPV4)) !== 0) {
      if (f & TCP_ACK) {
        if (!(f & TCP_SYN) && now <= l.cookiesUntil && this.acceptCookie(l, s, now)) return;
        this.counters[C.drop_tcp_no_listener]++;
        this.sendRst(s, now);
        return;
      }
      if (f & TCP_SYN) {
        this.passiveOpen(l, s, now);
        return;
      }
      return; // neither SYN nor ACK: drop (RFC 9293 3.10.7.2)
    }
    this.counters[C.drop_tcp_no_listener]++;
    this.sendRst(s, now);
  }

  private passiveOpen(l: Listener, s: InSegment, now: number): void {
    if (this.connCount >= this.config.maxConnections) {
      // The connection table is full: refuse at once (the client sees ECONNREFUSED) rather
      // than drop the SYN and leave it retrying for a minute.
      this.counters[C.drop_tcp_conn_limit]++;
      this.sendRst(s, now);
      return;
    }
    if (l.synQueue >= l.backlog) {
      this.sendCookie(l, s, now);
      return;
    }
    const c = new TcpConnection(this, s.dst, s.dstPort, s.src, s.srcPort, now);
    c.listenerPort = l.port;
    c.countedInSynQueue = true;
    l.synQueue++;
    this.insert(c);
    this.counters[C.tcp_passive_opens]++;
    c.accept(s, this.isn(s.dst, s.dstPort, s.src, s.srcPort, now), now);
    this.schedule(c);
    this.updateGauges();
  }

  /** SYN queue full: answer with a SYN cookie and keep no state (RFC 4987 3.6). */
  private sendCookie(l: Listener, s: InSegment, now: number): void {
    const peerMss = s.opts.mss > 0 ? s.opts.mss : 536;
    const isn = this.cookies.make(this.hashKey(s.dst), s.dstPort, this.hashKey(s.src), s.srcPort, s.seq, Math.min(peerMss, this.mssFor(s.src)), now);
    l.cookiesUntil = now + 128_000;
    const r = this.replyTo(s, isn, seqAdd(s.seq, 1), TCP_SYN | TCP_ACK, Math.min(65535, this.config.recvBuffer));
    const o = r.opts;
    o.mss = this.mssFor(s.src);
    const ws = this.config.windowScaling && s.opts.wscale >= 0;
    const sackOk = this.config.sack && s.opts.sackPermitted;
    o.wscale = ws ? windowScaleFor(this.config.recvBuffer) : -1;
    o.sackPermitted = sackOk;
    if (this.config.timestamps && s.opts.hasTimestamp) {
      o.hasTimestamp = true;
      // Linux's trick: the peer's window scale and SACK-ok ride in the low bits of our tsVal.
      o.tsVal = encodeCookieTs((Math.floor(now) + this.tsOffset(s.dst, s.src)) >>> 0, ws ? s.opts.wscale : -1, sackOk);
      o.tsEcr = s.opts.tsVal;
    }
    this.writer.send(s.dst, s.src, r, null, 0, now);
    this.counters[C.tcp_syn_cookies_tx]++;
  }

  private acceptCookie(l: Listener, s: InSegment, now: number): boolean {
    const iss = seqSub(s.ack, 1) >>> 0;
    const mss = this.cookies.check(this.hashKey(s.dst), s.dstPort, this.hashKey(s.src), s.srcPort, seqSub(s.seq, 1) >>> 0, iss, now);
    if (mss < 0) {
      this.counters[C.tcp_syn_cookies_bad]++;
      return false;
    }
    if (this.connCount >= this.config.maxConnections) {
      this.counters[C.drop_tcp_conn_limit]++;
      this.sendRst(s, now);
      return true;
    }
    let wscale = -1;
    let sackOk = false;
    if (s.opts.hasTimestamp) {
      const bits = decodeCookieTs(s.opts.tsEcr);
      wscale = cookieTsWscale(bits);
      sackOk = cookieTsSackOk(bits);
    }
    const c = new TcpConnection(this, s.dst, s.dstPort, s.src, s.srcPort, now);
    c.listenerPort = l.port;
    this.insert(c);
    this.counters[C.tcp_syn_cookies_ok]++;
    this.counters[C.tcp_passive_opens]++;
    c.acceptFromCookie(s, iss, mss, wscale, sackOk, now);
    l.onAccept(c);
    if (s.dataLen > 0 || s.flags & TCP_FIN) c.input(s, now);
    this.schedule(c);
    this.updateGauges();
    return true;
  }

  /** RST for a segment that belongs to no connection (RFC 9293 3.10.7.1). */
  private sendRst(s: InSegment, now: number): void {
    const r = s.flags & TCP_ACK
      ? this.replyTo(s, s.ack, 0, TCP_RST, 0)
      : this.replyTo(s, 0, seqAdd(s.seq, s.segLen), TCP_RST | TCP_ACK, 0);
    this.writer.send(s.dst, s.src, r, null, 0, now);
    this.counters[C.tcp_resets_tx]++;
  }

  /** The reused header of a segment answering `s` with no connection: ports swapped, no options yet. */
  private replyTo(s: InSegment, seq: number, ack: number, flags: number, window: number): TcpRepr {
    const r = this.out;
    r.opts.reset();
    r.srcPort = s.dstPort;
    r.dstPort = s.srcPort;
    r.seq = seq;
    r.ack = ack;
    r.flags = flags;
    r.window = window;
    r.dataLen = 0;
    return r;
  }

  // ------------------------------------------------------------ timers and flushing

  /** Runs connection timers due at `now`, and ends the TIME_WAIT records due. */
  poll(now: number): void {
    this.now = now;
    if (this.timeWait.expire(now) > 0) this.updateGauges();
    let guard = 0;
    while (this.heap.peekDeadline() <= now && guard++ < 100_000) {
      const ref = this.heap.pop();
      if (ref === undefined) break;
      const c = ref.conn;
      const when = this.heap.lastDeadline;
      if (c === null || ref.at !== when) continue; // stale entry
      ref.at = Infinity;
      if (c.state === State.CLOSED) continue;
      if (c.nextDeadline() <= now) c.onTimers(now); // else its timer moved later: only re-queued
      this.schedule(c);
    }
  }

  /** Earliest timer deadline of any connection: a timer that is really armed then. */
  nextDeadline(): number {
    this.settleTop();
    return Math.min(this.heap.peekDeadline(), this.timeWait.nextEnd());
  }

  /**
   * Makes the heap's top a real deadline: drops stale entries and entries of closed
   * connections from the top, and moves a connection whose earliest timer moved (later,
   * as the RTO does on every ACK) to its new deadline. Entries below the top are fixed
   * when they reach it.
   */
  private settleTop(): void {
    const heap = this.heap;
    for (let guard = 0; heap.size > 0 && guard < 100_000; guard++) {
      const ref = heap.peek();
      if (ref === undefined) return;
      const c = ref.conn;
      const when = heap.peekDeadline();
      if (c !== null && ref.at === when) {
        if (c.state !== State.CLOSED && c.nextDeadline() === when) return;
        ref.at = Infinity;
      }
      heap.pop();
      if (c !== null) this.schedule(c);
    }
  }

  /** Flushes connections the application touched since the last call. */
  flushDirty(now: number): void {
    this.now = now;
    if (this.dirty.size === 0) return;
    for (const c of this.dirty) {
      if (c.state !== State.CLOSED) this.flushOne(c, now);
    }
    this.dirty.clear();
  }

  /** Sends what `c` has due and re-arms its timers. */
  private flushOne(c: TcpConnection, now: number): void {
    c.lastNow = now;
    c.flush(now);
    this.schedule(c);
  }

  /** Makes sure the heap holds an entry at the connection's earliest deadline. */
  private schedule(c: TcpConnection): void {
    const d = c.nextDeadline();
    if (d === Infinity || c.state === State.CLOSED) return;
    const ref = (c.timerRef ??= { conn: c, at: Infinity });
    if (ref.at <= d) return;
    ref.at = d;
    this.heap.push(d, ref);
  }

  /** `c` left the tables (closed, or a TIME_WAIT record took its place): its heap entries no longer lead to it. */
  private releaseTimers(c: TcpConnection): void {
    const ref = c.timerRef;
    if (ref === null) return;
    ref.conn = null;
    c.timerRef = null;
  }

  /** Connections the timer heap's entries lead to, each once (tests: one that left the tables is not among them). */
  timerHeapConnections(): Set<TcpConnection> {
    const out = new Set<TcpConnection>();
    for (const ref of this.heap.items()) if (ref.conn !== null) out.add(ref.conn);
    return out;
  }

  // ------------------------------------------------------------ tables

  private lookup(localIp: number, localPort: number, remoteIp: number, remotePort: number): TcpConnection | undefined {
    return this.conns.get(localKey(localIp, localPort))?.get(remoteIp * 65536 + remotePort);
  }

  /** Takes `c` out of the connection table without ending it (it moved to TIME_WAIT). */
  private detach(c: TcpConnection): void {
    const m = this.conns.get(localKey(c.localIp, c.localPort));
    const key = c.remoteIp * 65536 + c.remotePort;
    if (m?.get(key) !== c) return;
    m.delete(key);
    if (m.size === 0) this.conns.delete(localKey(c.localIp, c.localPort));
    this.connCount--;
    this.releaseAddresses(c);
  }

  /** A connection in the table holds a reference on each interned address of its 4-tuple. */
  private releaseAddresses(c: TcpConnection): void {
    const n = this.interner;
    if (n === null || c.remoteIp < IPV6_ID_BASE) return;
    n.release(c.remoteIp);
    n.release(c.localIp);
  }

  private insert(c: TcpConnection): void {
    if (this.interner !== null && c.remoteIp >= IPV6_ID_BASE) {
      this.interner.acquire(c.remoteIp);
      this.interner.acquire(c.localIp);
    }
    let m = this.conns.get(localKey(c.localIp, c.localPort));
    if (!m) {
      m = new Map();
      this.conns.set(localKey(c.localIp, c.localPort), m);
    }
    m.set(c.remoteIp * 65536 + c.remotePort, c);
    this.connCount++;
    this.updateGauges();
  }

  private synQueueTotal(): number {
    let n = 0;
    for (const l of this.listeners.values()) n += l.synQueue;
    return n;
  }

  private updateGauges(): void {
    this.counters[C.tcp_connections] = this.connCount;
    this.counters[C.tcp_time_wait] = this.timeWait.size;
    this.counters[C.tcp_syn_queue] = this.synQueueTotal();
  }

  /** Every connection (for /connections and tests); TIME_WAIT ones are in timeWaitRecords(). */
  *connections(): IterableIterator<TcpConnection> {
    for (const m of this.conns.values()) yield* m.values();
  }

  /**
   * The trace of connection `serial`: a live connection's ring (its events empty when it is
   * not traced), else its archived trace; null when neither is known.
   */
  traceOf(serial: number): { conn: TcpConnection; events: TraceEvent[]; traced: boolean } | { archived: ArchivedConnection; events: TraceEvent[] } | null {
    for (const c of this.connections()) {
      if (c.serial !== serial) continue;
      return { conn: c, events: c.traceSlot >= 0 ? this.tracer.events(c.traceSlot) : [], traced: c.traceSlot >= 0 };
    }
    const a = this.tracer.archivedTrace(serial);
    return a === null ? null : { archived: a.info, events: a.events };
  }

  /** The TIME_WAIT records, oldest first: 4-tuple and when each ends (ms). */
  *timeWaitRecords(): IterableIterator<{ localIp: number; localPort: number; remoteIp: number; remotePort: number; endsAt: number }> {
    const t = this.timeWait;
    for (const s of t.records()) {
      yield { localIp: t.localIpOf(s), localPort: t.localPortOf(s), remoteIp: t.remoteIpOf(s), remotePort: t.remotePortOf(s), endsAt: t.endOf(s) };
    }
  }
}
