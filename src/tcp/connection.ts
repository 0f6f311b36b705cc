/**
 * One TCP connection (one TCB): its state and the face it shows the socket
 * (TcpConnectionHandle) and the TCP layer (open, input, timers, flush, terminate).
 * The work is split by concern over four files, each a set of functions or an object
 * over this state:
 *
 * - ./connection-input.ts: a segment arrives (RFC 9293 3.10.7, the checks in order);
 * - ./connection-output.ts: what the connection sends (SYN, data, ACKs within their
 *   limits, probes, RST) and its timestamp clock;
 * - ./connection-timers.ts: timers, keepalive, orphans, TIME_WAIT;
 * - ./sender.ts and ./receiver.ts: the two halves of the sequence space.
 *
 * What happens to it (segments in and out, state changes, timers, RTOs, recovery) is
 * recorded in its ring of the layer's trace (./trace.ts) when it has one: trace(), moveTo().
 *
 * Here: RFC 9293 3.5 (opening: active, passive; simultaneous open goes through
 * ./connection-input.ts), RFC 4987 3.6 (a connection made from a SYN cookie starts in
 * ESTABLISHED), RFC 9293 3.6 (closing: half-close with shutdownWrite, close(), abort with
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>), 3.8.6.2.2 and RFC 1122 4.2.3.3 (a window
 * update when the application's reads open the window by two segments or half the buffer),
 * RFC 1122 4.2.3.4 (Nagle on or off), 4.2.3.6 (keepalive on or off; at least 1 s idle,
 * 2 h by default).
 */
import type { BlackHoleSuspect } from './connection-mss.js';
import { C, type Counters } from '../base/counters.js';
import { addressFromField, addressToField } from '../base/ipv6-interner.js';
import { TCP_RST } from '../wire/tcp.js';
import { armKeepalive, becomeOrphan, runDueTimers, uncountOrphan } from './connection-timers.js';
import type { TcpConnectionEvents, TcpConnectionHandle, TcpErrorCode } from './connection-handle.js';
import { segmentArrives, takeSynOptions } from './connection-input.js';
import { pathMss } from './connection-mss.js';
import { TcpEcn } from './ecn.js';
import type { TcpRepr } from '../wire/tcp-repr.js';
import { ConnectionOutput } from './connection-output.js';
import { TcpReceiver } from './receiver.js';
import type { InSegment } from './segment.js';
import type { SegmentWriter } from './segment-writer.js';
import { TcpSender } from './sender.js';
import { seqSub } from './seq.js';
import { State, STATE_NAMES } from './tcp-state.js';
import type { PathMtuCache } from '../l3/path-mtu.js';
import { T_KEEPALIVE, T_RTO, TcpTimers } from './timers.js';
import { windowScaleFor, type TcpConfig } from './tcp-config.js';
import { TE_SEG_IN, TE_STATE, TRACE_FROM_LISTEN, TRACE_MARK_RST, type ConnectionTracer } from './trace.js';
import type { TxFlow } from '../base/link.js';

export { State, STATE_NAMES } from './tcp-state.js';

/** What the connection needs from the TCP layer. */
export interface ConnectionHost {
  readonly writer: SegmentWriter;
  readonly counters: Counters;
  readonly config: TcpConfig;
  /** Our MTU-derived MSS towards `remoteIp` (RFC 6691: MTU − 40 over IPv4, MTU − 60 over IPv6). */
  mssFor(remoteIp: number): number;
  /** Path MTU estimates per destination (RFC 1191; ./connection-mss.ts follows them). */
  readonly pathMtu: PathMtuCache;
  /** The one header every connection of the layer fills to send a segment (built and sent one at a time). */
  readonly outSegment: TcpRepr;
  /** Timestamp clock offset for this address pair (RFC 7323 5.4). */
  tsOffset(localIp: number, remoteIp: number): number;
  /** The connection reached ESTABLISHED from SYN_RECEIVED (passive open): hand it to the listener. */
  onEstablished(c: TcpConnection): void;
  /** The connection is gone from every state: remove it from the tables. */
  onClosed(c: TcpConnection): void;
  /** The connection entered TIME_WAIT at `now`: the layer keeps its record (./time-wait.ts) and lets go of it. */
  onTimeWait(c: TcpConnection, now: number): void;
  /** True while the TIME_WAIT record (slot, generation) of a connection is held. */
  timeWaitHeld(slot: number, generation: number): boolean;
  /** One more (+1) or one fewer (−1) orphan (close() called, not yet in TIME_WAIT or CLOSED). */
  orphanCountChanged(delta: number): void;
  /** Orphans in the shard now (for maxOrphans). */
  readonly orphans: number;
  /**
   * RFC 5961 7: takes one challenge ACK from the shard's per-second budget
   * (challengeAckLimit); false when it is spent.
   */
  challengeAckAllowed(now: number): boolean;
  /** The layer's connection traces (./trace.ts). */
  readonly tracer: ConnectionTracer;
  /** A serial number for a new connection (unique in the layer; /connections shows it in the id). */
  newSerial(): number;
  /** The current time (ms), for calls from the application (they carry none). */
  clock(): number;
  /** The application changed something (data queued, window opened, close): flush soon. */
  markDirty(c: TcpConnection): void;
  /**
   * A segment of the connection was refused because the TX sink had no room (not lost on
   * the way): the connection sends again as soon as there is room (retryBlocked), instead
   * of waiting for a timer.
   */
  txRefused(c: TcpConnection): void;
  /**
   * More input is waiting right behind the segment being handled (the caller's receive
   * batch): an ESTABLISHED connection with nothing out of order may leave its output to
   * the caller's flushDirty() at the end of the batch (./tcp-layer.ts).
   */
  readonly deferOutput: boolean;
}

/** A connection's place in the layer's timer heap: its way back to the connection (null once the connection left the tables) and the deadline of its live entry (Infinity: none). */
export interface TimerRef {
  conn: TcpConnection | null;
  at: number;
}

const noEvents: TcpConnectionEvents = {
  onConnect() {}, onData() {}, onEnd() {}, onWritable() {}, onClose() {},
};

/** A TCP connection (one TCB). */
export class TcpConnection implements TcpConnectionHandle, TxFlow {
  state: State = State.CLOSED;
  readonly timers = new TcpTimers();
  readonly snd: TcpSender;
  readonly rcv: TcpReceiver;
  /** What the connection sends (the sender's SenderTransmit). */
  readonly out: ConnectionOutput;
  events: TcpConnectionEvents = noEvents;
  /** Negotiated options. */
  tsEnabled = false;
  sackEnabled = false;
  /** ECN (RFC 3168, ./ecn.ts): negotiated or not, and its per-connection signals. */
  readonly ecn = new TcpEcn();
  /** Bytes received/sent as application data (for /connections). */
  bytesIn = 0;
  bytesOut = 0;
  /** Listener port for passive opens (0: active open). */
  listenerPort = 0;
  /** Counted in its listener's SYN queue (until ESTABLISHED or closed). */
  countedInSynQueue = false;
  /**
   * What the layer's timer heap holds for it (./tcp-layer.ts; null until a timer is first
   * scheduled): cut loose when the connection leaves the tables, so that the heap's stale
   * entries, left until their deadlines (lazy deletion), keep a few bytes alive instead of
   * the whole connection.
   */
  timerRef: TimerRef | null = null;
  /** Its TIME_WAIT record (./time-wait.ts): slot and generation (slot -1: none). */
  timeWaitSlot = -1;
  timeWaitGeneration = 0;
  /** Counted in the layer's orphan gauge (./connection-timers.ts keeps it). */
  countedOrphan = false;
  /** The socket was told about the peer's FIN (onEnd). */
  peerFinNotified = false;
  /** send() accepted less than asked: onWritable is owed when space frees up. */
  writableWanted = false;
  /** Keepalive: idle time before the first probe (0: off), and probes unanswered. */
  keepaliveIdle = 0;
  keepaliveSent = 0;
  /** The time of the latest event, for calls from the socket that carry no time. */
  lastNow = 0;
  /** TxFlow: where the TX sink queued this connection's latest frame (the sink's; -1: nowhere), and its bytes queued there. */
  txQueuedAt = -1;
  txQueuedBytes = 0;
  /** The handshake's MSS less options: snd.mss never exceeds it (./connection-mss.ts). */
  mssCap = 0;
  /** When the path MTU estimate behind snd.mss expires (Infinity: none; ./connection-mss.ts). */
  pmtuCheckAt = Infinity;
  /** The path MTU cache's generation when snd.mss was last brought in line with it. */
  pmtuGeneration = 0;
  /** A black-hole reduction not yet confirmed or undone (./connection-mss.ts), or null. */
  blackHole: BlackHoleSuspect | null = null;
  /** The latest soft error an ICMP message reported (./connection-icmp.ts): ends the connection instead of ETIMEDOUT. */
  softError: TcpErrorCode | undefined = undefined;
  /** Unique in the layer: the id /connections and the trace show (`<worker>.<serial>`). */
  readonly serial: number;
  /** Its ring in the layer's tracer (./trace.ts), or -1: not traced (none was free, or it closed). */
  traceSlot: number;
  /** Set when the socket layer was told about the end (onClose called). */
  private closedNotified = false;
  /** close() was called: the application is gone (see ./connection-timers.ts). */
  private orphan = false;

  /** The addresses as ipv6-interner.ts addressToField holds them (small integers for IPv4). */
  readonly #localIpField: number;
  readonly #remoteIpField: number;

  constructor(
    readonly host: ConnectionHost,
    localIp: number,
    readonly localPort: number,
    remoteIp: number,
    readonly remotePort: number,
    now: number,
  ) {
    this.#localIpField = addressToField(localIp);
    this.#remoteIpField = addressToField(remoteIp);
    const cfg = host.config;
    this.snd = new TcpSender(cfg.sendBuffer, cfg.congestionControl, cfg.tailLossProbe, this.timers, host.counters, cfg.sendBufferMax);
    const wscale = cfg.windowScaling ? windowScaleFor(cfg.recvBuffer) : 0;
    this.rcv = new TcpReceiver(cfg.recvBuffer, cfg.maxOooSegments, wscale, this.snd); // the sender's MSS, read when needed (no closure per connection)
    this.out = new ConnectionOutput(this, host);
    this.lastNow = now;
    this.serial = host.newSerial();
    this.traceSlot = host.tracer.acquire(this.serial);
  }

  /** Our address (IPv4, or an interned IPv6 id: base/ipv6-interner.ts). */
  get localIp(): number {
    return addressFromField(this.#localIpField);
  }

  /** The peer's address (IPv4, or an interned IPv6 id). */
  get remoteIp(): number {
    return addressFromField(this.#remoteIpField);
  }

  /**
   * Records an event in the connection's trace (./trace.ts), with the current cwnd; nothing
   * when it is not traced.
   */
  trace(kind: number, flags: number, aux: number, seq: number, ack: number, win: number, len: number, now: number): void {
    const r = this.traceSlot;
    if (r < 0) return;
    this.host.tracer.record(r, kind, flags, aux, now, seq, ack, win, len, this.snd.cc.cwnd);
    if (flags & TCP_RST) this.host.tracer.mark(r, TRACE_MARK_RST);
  }

  /** Moves to state `to` (traced, at the time of the latest event). */
  moveTo(to: State): void {
    const from = this.state;
    this.state = to;
    if (this.traceSlot >= 0) {
      const f = from === State.CLOSED && this.listenerPort !== 0 ? TRACE_FROM_LISTEN : from;
      this.trace(TE_STATE, 0, f | (to << 4), this.snd.sndNxt, this.rcv.rcvNxt, 0, 0, this.lastNow);
    }
  }

  /** RFC 9293 state name. */
  get stateName(): string {
    // In TIME_WAIT the layer keeps only a record: the connection is CLOSED once it ends.
    if (this.state === State.TIME_WAIT && !this.host.timeWaitHeld(this.timeWaitSlot, this.timeWaitGeneration)) return 'CLOSED';
    return STATE_NAMES[this.state];
  }

  /** Earliest timer deadline. */
  nextDeadline(): number {
    return this.timers.next();
  }

  // ---------------------------------------------------------------- opening

  /** Active open: send SYN (RFC 9293 3.5). */
  connect(iss: number, now: number): void {
    this.lastNow = now;
    this.snd.start(iss);
    this.mssCap = this.host.mssFor(this.remoteIp);
    this.snd.setMss(Math.max(64, pathMss(this, now)));
    this.moveTo(State.SYN_SENT);
    this.out.sendSyn(false, now);
    this.timers.set(T_RTO, now + this.snd.rtt.rto);
  }

  /** Passive open: a SYN arrived at a listener (seg); answer with SYN-ACK in SYN_RECEIVED. */
  accept(seg: InSegment, iss: number, now: number): void {
    this.lastNow = now;
    this.traceIn(seg, now);
    this.rcv.synchronize(seg.seq);
    takeSynOptions(this, seg, now);
    this.ecn.takeSyn(this.host.config.ecn, seg.flags);
    if (this.ecn.enabled) this.host.counters[C.tcp_ecn_negotiated]++;
    this.snd.start(iss);
    this.snd.setWindow(seg.seq, iss, seg.window, true);
    this.moveTo(State.SYN_RECEIVED);
    if (this.tsEnabled) this.rcv.updateTsRecent(seg.seq, seg.opts.tsVal);
    this.out.sendSyn(true, now);
    this.timers.set(T_RTO, now + this.snd.rtt.rto);
  }

  /**
   * A connection created from a valid SYN cookie: straight to ESTABLISHED (RFC 4987 3.6).
   * The segment is the handshake's final ACK.
   */
  acceptFromCookie(seg: InSegment, iss: number, mss: number, wscale: number, sackOk: boolean, now: number): void {
    this.lastNow = now;
    this.traceIn(seg, now);
    this.rcv.synchronize(seqSub(seg.seq, 1) >>> 0);
    this.snd.start(iss);
    this.tsEnabled = seg.opts.hasTimestamp && this.host.config.timestamps;
    this.sackEnabled = sackOk && this.host.config.sack;
    const scaling = wscale >= 0 && this.host.config.windowScaling;
    this.mssCap = Math.min(mss, this.host.mssFor(this.remoteIp)) - (seg.opts.hasTimestamp ? 12 : 0);
    this.snd.negotiated(Math.max(64, pathMss(this, now)), scaling ? wscale : 0, this.sackEnabled, this.host.config.recovery);
    if (!scaling) this.rcv.noWindowScaling();
    this.snd.synAcknowledged(seg.seq, seg.ack, seg.window, false);
    this.rcv.assumeWindowAdvertised();
    this.moveTo(State.ESTABLISHED);
    this.host.counters[C.tcp_established_total]++;
    armKeepalive(this, now);
  }

  // ---------------------------------------------------------------- from the TCP layer

  /** Processes a segment for this connection (RFC 9293 3.10.7), then sends what is due. */
  input(seg: InSegment, now: number): void {
    this.lastNow = now;
    this.host.counters[C.tcp_segments_rx]++;
    this.traceIn(seg, now);
    segmentArrives(this, seg, now);
    // In a receive batch, the ACKs and data this segment calls for can wait for the
    // batch's end: one ACK then covers every segment of the batch (as GRO's one ACK per
    // aggregate does), and the data the batch's ACKs release goes out in one burst. Not
    // outside ESTABLISHED (a closing connection's last ACK must leave before it goes).
    // While data is out of order (RFC 5681 4.2: a duplicate ACK at once) only when SACK
    // reports it and the sender has had its DupThresh ACKs (TcpReceiver.compressOooAck).
    if (this.host.deferOutput && this.state === State.ESTABLISHED && (this.rcv.oooSegments === 0 || this.compressOooAck(now))) this.host.markDirty(this);
    else this.flush(now);
  }

  /** Whether this out-of-order segment's ACK may be folded into the batch's last (counted). */
  private compressOooAck(now: number): boolean {
    if (!this.sackEnabled || !this.rcv.compressOooAck(now, this.snd.rtt.srtt)) return false;
    this.host.counters[C.tcp_sack_compressed]++;
    return true;
  }

  /** Records an arriving segment in the trace. */
  private traceIn(seg: InSegment, now: number): void {
    if (this.traceSlot >= 0) this.trace(TE_SEG_IN, seg.flags, 0, seg.seq, seg.ack, seg.window, seg.dataLen, now);
  }

  /** Runs the timers due at `now`. */
  onTimers(now: number): void {
    this.lastNow = now;
    runDueTimers(this, now);
  }

  /** Sends what is due: data/FIN from the sender, then a pure ACK if one is still owed. */
  flush(now: number): void {
    this.out.flush(now);
  }

  /** Ends the connection: CLOSED, timers off, tables updated, socket told (once). */
  terminate(err: TcpErrorCode | undefined, _byRst = false): void {
    if (this.state === State.CLOSED) return;
    uncountOrphan(this);
    this.moveTo(State.CLOSED);
    this.timers.clearAll();
    this.notifyClosed(err);
    this.snd.buf.dispose();
    this.host.onClosed(this);
  }

  /** Tells the socket the connection is gone (once; not after close() or abort()). */
  notifyClosed(err: TcpErrorCode | undefined): void {
    if (this.closedNotified) return;
    this.closedNotified = true;
    this.events.onClose(err);
  }

  // ---------------------------------------------------------------- TcpConnectionHandle

  send(chunk: Uint8Array): number {
    if (this.snd.finQueued || this.state === State.CLOSED || this.state === State.TIME_WAIT) return 0;
    const n = this.snd.buf.write(chunk);
    if (n < chunk.length) this.writableWanted = true;
    if (n > 0) this.host.markDirty(this);
    return n;
  }

  sendSpace(): number {
    return this.snd.buf.space;
  }

  sendQueued(): number {
    return this.snd.buf.length;
  }

  shutdownWrite(): void {
    if (this.snd.finQueued) return;
    this.lastNow = this.host.clock();
    this.host.markDirty(this);
    switch (this.state) {
      case State.ESTABLISHED:
        this.snd.queueFin();
        this.moveTo(State.FIN_WAIT_1);
        break;
      case State.CLOSE_WAIT:
        this.snd.queueFin();
        this.moveTo(State.LAST_ACK);
        break;
      case State.SYN_SENT:
        this.terminate(undefined);
        break;
      case State.SYN_RECEIVED:
        this.snd.queueFin();
        this.moveTo(State.FIN_WAIT_1);
        break;
      default:
        break;
    }
  }

  close(): void {
    const st = this.state;
    if (this.orphan || st === State.CLOSED || st === State.TIME_WAIT) return;
    this.orphan = true;
    this.events = noEvents;
    this.closedNotified = true; // the application let go: it hears nothing more
    this.shutdownWrite(); // FIN after the queued data (SYN_SENT: gone at once)
    if (this.state === State.CLOSED) return;
    becomeOrphan(this, this.host.clock());
  }

  /** True once close() was called (for /connections and tests). */
  get orphaned(): boolean {
    return this.orphan;
  }

  abort(): void {
    const st = this.state;
    if (st === State.CLOSED || st === State.TIME_WAIT) return;
    this.lastNow = this.host.clock();
    if (st !== State.SYN_SENT) this.out.sendRst(this.snd.sndNxt, this.rcv.rcvNxt, true, this.lastNow);
    this.closedNotified = true; // the socket initiated it
    this.terminate(undefined);
    this.host.markDirty(this);
  }

  consumed(n: number): void {
    const r = this.rcv;
    const before = r.windowField(false);
    r.consumed(n);
    // Window update (RFC 9293 3.8.6.2.2 / RFC 1122 4.2.3.3): tell the peer when the window
    // opens by at least two segments or half the buffer from what it last saw.
    const after = r.windowField(false);
    const opened = (after - before) * (1 << r.wscale);
    if (opened >= Math.min(2 * this.snd.mss, r.capacity >>> 1) || (before === 0 && after > 0)) {
      this.out.ackNow();
      this.host.markDirty(this);
    }
  }

  setNoDelay(noDelay: boolean): void {
    this.snd.setNoDelay(noDelay);
    if (noDelay) this.host.markDirty(this);
  }

  setKeepAlive(enable: boolean, idleMs: number): void {
    this.keepaliveIdle = enable ? Math.max(1000, idleMs || 7_200_000) : 0;
    if (enable && (this.state === State.ESTABLISHED || this.state === State.CLOSE_WAIT)) armKeepalive(this, this.lastNow);
    else if (!enable) this.timers.clear(T_KEEPALIVE);
    this.host.markDirty(this);
  }

  /** Delivers in-order data to the socket (the receiver's DataSink). */
  deliverData(b: Uint8Array, off: number, len: number): void {
    this.host.counters[C.tcp_rx_bytes] += len;
    this.events.onData(b, off, len);
  }
}
