/**
 * What a connection sends: SYN and SYN-ACK with their options, data and FIN segments for
 * the sender (with the current ACK, window, timestamps and SACK blocks), pure ACKs (at
 * once, delayed, challenge ACKs and ACKs to invalid segments, within their limits),
 * window probes, keepalive probes and RSTs; and the timestamp clock they carry.
 *
 * RFC 9293 3.8.6.2.2 (window updates), 3.10.7.1 (RST forms); RFC 1122 4.2.3.2 (delayed
 * ACK); RFC 7323 3.2 (timestamps on every segment once negotiated), 4.3 (TSecr = TS.Recent),
 * 5.4 (a per-address-pair clock offset); RFC 2018 4 (SACK blocks, up to 3 with timestamps);
 * RFC 5961 7 (challenge ACKs at most once per invalidAckIntervalMs per connection, then
 * within the shard's per-second budget, Linux tcp_challenge_ack_limit); Linux
 * tcp_invalid_ratelimit (ACKs for out-of-window, PAWS-rejected and too-old-ACK segments
 * at most once per invalidAckIntervalMs per connection, the same interval as challenge
 * ACKs; segments carrying data or FIN without SYN are always answered, as Linux
 * tcp_oow_rate_limited does); RFC 3168 6.1.1 (ECN flags of SYN and SYN-ACK), 6.1.2–6.1.5
 * (ECT(0) on new data only, CWR on the first new data after a reduction, ECE while a CWR
 * is owed to us: ./ecn.ts).
 */
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_RST, TCP_SYN } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp-repr.js';
import type { SendBuffer } from './send-buffer.js';
import { C } from '../base/counters.js';
import type { ConnectionHost, TcpConnection } from './connection.js';
import type { TcpReceiver } from './receiver.js';
import type { InSegment } from './segment.js';
import type { SenderTransmit, TcpSender } from './sender.js';
import { followPathMtu } from './connection-mss.js';
import { seqLt, seqSub } from './seq.js';
import { State } from './tcp-state.js';
import { T_DELACK, type TcpTimers } from './timers.js';
import { TE_RECOVERY_ENTER, TE_RTO, TE_SEG_OUT, TRACE_MARK_RTO } from './trace.js';

/** The segments one connection sends. */
export class ConnectionOutput implements SenderTransmit {
  private readonly host: ConnectionHost;
  private readonly snd: TcpSender;
  private readonly rcv: TcpReceiver;
  private readonly timers: TcpTimers;
  /** Timestamp clock offset for this address pair (RFC 7323 5.4), as int32 (see seq.ts). */
  private readonly tsOff: number;
  /** An ACK is to go out now: with data if flush() sends any, else alone. */
  private ackOwed = false;
  /** When the last rate-limited ACK for an invalid segment went out (Linux last_oow_ack_time). */
  private lastInvalidAckAt = -Infinity;

  constructor(private readonly c: TcpConnection, host: ConnectionHost) {
    this.host = host;
    this.snd = c.snd;
    this.rcv = c.rcv;
    this.timers = c.timers;
    this.tsOff = host.tsOffset(c.localIp, c.remoteIp) | 0;
  }

  /** Sends our SYN (active open) or SYN-ACK, offering or answering the options (RFC 9293 3.5). */
  sendSyn(ack: boolean, now: number): void {
    const cfg = this.host.config;
    const r = this.header();
    const o = r.opts;
    o.mss = this.host.mssFor(this.c.remoteIp);
    const offerWs = ack ? this.rcv.wscale > 0 || this.snd.wscale > 0 : cfg.windowScaling;
    o.wscale = offerWs && cfg.windowScaling ? this.rcv.wscale : -1;
    o.sackPermitted = ack ? this.c.sackEnabled : cfg.sack;
    o.hasTimestamp = ack ? this.c.tsEnabled : cfg.timestamps;
    o.tsVal = this.tsNow(now);
    o.tsEcr = ack && this.c.tsEnabled ? this.rcv.tsRecent : 0;
    r.seq = this.snd.iss;
    r.ack = ack ? this.rcv.rcvNxt : 0;
    // RFC 3168 6.1.1: ECE+CWR on an ECN-setup SYN, ECE on an ECN-setup SYN-ACK (./ecn.ts).
    r.flags = TCP_SYN | (ack ? TCP_ACK : 0) | this.c.ecn.synFlags(cfg.ecn, ack, this.snd.retries > 0);
    r.window = this.rcv.windowField(true);
    r.dataLen = 0;
    this.sendUnkept(r, now);
    if (ack) this.rcv.noteAckSent(r.window);
  }

  /** SenderTransmit: one data/FIN segment with ACK, window and options. */
  transmitData(seq: number, flags: number, dataOffset: number, len: number, now: number): boolean {
    const ok = this.emit(seq, TCP_ACK | flags, len > 0 ? dataOffset : 0, len, now);
    if (ok && len > 0) {
      this.c.bytesOut += len;
      this.host.counters[C.tcp_tx_bytes] += len;
    }
    return ok;
  }

  /** SenderTransmit: largest payload per segment (TSO super-segments when offloaded). */
  maxPayload(now: number): number {
    return this.host.writer.maxPayload(this.c.remoteIp, this.snd.mss, now);
  }

  /** SenderTransmit: zero-window probe. */
  transmitProbe(now: number): void {
    this.emit(seqSub(this.snd.sndUna, 1) >>> 0, TCP_ACK, 0, 0, now);
  }

  /** RFC 1122 4.2.3.6 keepalive probe: SEG.SEQ = SND.NXT − 1, no data. */
  sendKeepaliveProbe(now: number): void {
    this.emit(seqSub(this.snd.sndNxt, 1) >>> 0, TCP_ACK, 0, 0, now);
  }

  /**
   * Sends a segment with the current ACK, window, timestamps and SACK blocks, and what ECN
   * adds (./ecn.ts: ECT(0) and a pending CWR on new data, ECE while a CWR is owed to us).
   */
  private emit(seq: number, flags: number, dataOffset: number, len: number, now: number): boolean {
    const ecn = this.c.ecn;
    const e = ecn.enabled ? ecn.outgoing(len > 0 && !seqLt(seq, this.snd.sndMax), (flags & TCP_ACK) !== 0) : 0;
    flags |= e >>> 8;
    const r = this.header();
    const o = r.opts;
    if (this.c.tsEnabled) {
      o.hasTimestamp = true;
      o.tsVal = this.tsNow(now);
      o.tsEcr = this.rcv.tsRecent;
    }
    if (this.c.sackEnabled && (this.rcv.oooSegments > 0 || this.rcv.dsackPending)) {
      if (this.rcv.dsackPending) this.host.counters[C.tcp_dsacks_tx]++;
      o.sackCount = this.rcv.sackBlocks(o.sackBlocks, this.c.tsEnabled ? 3 : 4);
    }
    const window = this.rcv.windowField(false);
    r.seq = seq;
    r.ack = this.rcv.rcvNxt;
    r.flags = flags;
    r.window = window;
    r.dataLen = len;
    const refusals = this.host.writer.txRefusals;
    const ok = this.send(r, len > 0 ? this.snd.buf : null, dataOffset, now, this.snd.mss, e & 3);
    if (ok) this.traceOut(r, now);
    else if (this.host.writer.txRefusals !== refusals) this.host.txRefused(this.c);
    if (ok && e !== 0) this.countEcn(e);
    if (ok && flags & TCP_ACK) {
      this.rcv.noteAckSent(window * (1 << this.rcv.wscale));
      this.timers.clear(T_DELACK);
      this.ackOwed = false;
    }
    return ok;
  }

  /** Counts what ECN put on a segment sent (`e` from TcpEcn.outgoing); a CWR sent is no longer pending. */
  private countEcn(e: number): void {
    const counters = this.host.counters;
    if (e & 3) counters[C.tcp_ecn_ect_tx]++;
    if ((e >>> 8) & TCP_ECE) counters[C.tcp_ecn_ece_tx]++;
    if ((e >>> 8) & TCP_CWR) {
      counters[C.tcp_ecn_cwr_tx]++;
      this.c.ecn.cwrPending = false;
    }
  }

  /** An ACK goes out on the next flush (a pure ACK unless data goes out anyway). */
  ackNow(): void {
    this.ackOwed = true;
  }

  /** An ACK is owed but may wait for the delayed-ACK timer (RFC 1122 4.2.3.2). */
  ackLater(now: number): void {
    this.rcv.delayAck();
    if (!this.timers.armed(T_DELACK)) this.timers.set(T_DELACK, now + this.host.config.delayedAckMs);
  }

  /**
   * RFC 5961 3.2 / 4.2 challenge ACK, within two limits (RFC 5961 7): first this
   * connection's, one per invalidAckIntervalMs shared with the ACKs for invalid segments
   * (Linux tcp_send_challenge_ack → __tcp_oow_rate_limited on last_oow_ack_time;
   * tcp_challenge_acks_conn_limited), then the shard's per-second budget
   * (tcp_challenge_acks_suppressed).
   */
  challengeAck(now: number): void {
    const counters = this.host.counters;
    if (this.invalidAckLimited(now)) {
      counters[C.tcp_challenge_acks_conn_limited]++;
      return;
    }
    if (this.host.challengeAckAllowed(now)) {
      counters[C.tcp_challenge_acks]++;
      this.ackNow();
    } else {
      counters[C.tcp_challenge_acks_suppressed]++;
    }
  }

  /**
   * True when this connection sent an ACK for an invalid segment or a challenge ACK less
   * than invalidAckIntervalMs ago; otherwise now becomes the time of the latest one.
   */
  private invalidAckLimited(now: number): boolean {
    const elapsed = now - this.lastInvalidAckAt;
    if (elapsed >= 0 && elapsed < this.host.config.invalidAckIntervalMs) return true;
    this.lastInvalidAckAt = now;
    return false;
  }

  /**
   * The ACK owed to an invalid segment (out of window, PAWS, ACK too old), at most once per
   * invalidAckIntervalMs per connection (Linux tcp_invalid_ratelimit, __tcp_oow_rate_limited).
   * `always`: the segment is exempt (data or FIN without SYN) and does not restart the interval.
   */
  invalidAck(always: boolean, now: number): void {
    if (!always && this.invalidAckLimited(now)) {
      this.host.counters[C.tcp_invalid_acks_suppressed]++;
      return;
    }
    this.ackNow();
  }

  /** Sends RST (RFC 9293 3.10.7.1 forms). */
  sendRst(seq: number, ack: number, withAck: boolean, now: number): void {
    const r = this.header();
    r.seq = seq;
    r.ack = ack;
    r.flags = TCP_RST | (withAck ? TCP_ACK : 0);
    r.window = 0;
    r.dataLen = 0;
    this.sendUnkept(r, now);
    this.host.counters[C.tcp_resets_tx]++;
  }

  /** Records a segment sent in the connection's trace. */
  private traceOut(r: TcpRepr, now: number): void {
    if (this.c.traceSlot >= 0) this.c.trace(TE_SEG_OUT, r.flags, 0, r.seq, r.ack, r.window, r.dataLen, now);
  }

  /** SenderTransmit: an ECN reduction (or another) holds for the window in flight (./ecn.ts). */
  reductionInForce(sndUna: number): boolean {
    return this.c.ecn.reductionInForce(sndUna);
  }

  /**
   * SenderTransmit: records a sender event (RTO, recovery, loss probe) in the connection's
   * trace. Entering loss recovery and an RTO reduce cwnd: ECN sends CWR next and takes no
   * ECE response in the same window (RFC 3168 6.1.2, ./ecn.ts).
   */
  traceEvent(kind: number, aux: number, seq: number, ack: number, now: number): void {
    const c = this.c;
    if (kind === TE_RECOVERY_ENTER || kind === TE_RTO) c.ecn.reduced(this.snd.sndMax);
    if (c.traceSlot < 0) return;
    c.trace(kind, 0, aux, seq, ack, 0, 0, now);
    if (kind === TE_RTO) c.host.tracer.mark(c.traceSlot, TRACE_MARK_RTO);
  }

  /**
   * Sends what is due: data/FIN from the sender, then a pure ACK if one is still owed. A
   * pure ACK is numbered SND.MAX, not SND.NXT (BSD tcp_output): after a retransmission
   * timeout SND.NXT is back at SND.UNA while the peer may hold everything up to SND.MAX,
   * and a segment below its RCV.NXT is not acceptable (RFC 9293 3.10.7.4), so its ACK
   * field would never be read.
   */
  flush(now: number): void {
    followPathMtu(this.c, now); // the path MTU estimate expired or changed (./connection-mss.ts)
    const st = this.c.state;
    if (st === State.ESTABLISHED || st === State.CLOSE_WAIT || st === State.FIN_WAIT_1 || st === State.CLOSING || st === State.LAST_ACK) {
      this.snd.output(now, this);
    }
    if (this.ackOwed) {
      this.ackOwed = false;
      if (st !== State.CLOSED && st !== State.SYN_SENT) this.emit(this.snd.sndMax, TCP_ACK, 0, 0, now);
    }
  }

  /**
   * Sends a segment that is not kept when the sink has no room (a SYN, a SYN-ACK, a RST:
   * the SYN timer sends the first two again, a RST is not repeated); such a refusal is a
   * drop (drop_tx_ring_full), which FrameOutput leaves to the connection.
   */
  private sendUnkept(r: TcpRepr, now: number): void {
    const refusals = this.host.writer.txRefusals;
    if (this.send(r, null, 0, now, 0, 0)) this.traceOut(r, now);
    else if (this.host.writer.txRefusals !== refusals) this.host.counters[C.drop_tx_ring_full]++;
  }

  /** Sends `r` through the layer's writer as a frame of this connection's flow (TxFlow: the TX sink keeps its frames in order). */
  private send(r: TcpRepr, data: SendBuffer | null, dataOffset: number, now: number, segSize: number, ecn: number): boolean {
    const w = this.host.writer;
    w.txFlow = this.c;
    const ok = w.send(this.c.localIp, this.c.remoteIp, r, data, dataOffset, now, segSize, ecn);
    w.txFlow = null;
    return ok;
  }

  /**
   * The header to fill for our next segment: the layer's one TcpRepr (segments are built
   * and sent one at a time), with this connection's ports and no options yet.
   */
  private header(): TcpRepr {
    const r = this.host.outSegment;
    r.srcPort = this.c.localPort;
    r.dstPort = this.c.remotePort;
    r.opts.reset();
    return r;
  }

  /** Our TSval now (RFC 7323 5.4: the ms clock plus this address pair's offset). */
  tsNow(now: number): number {
    return (Math.floor(now) + this.tsOff) >>> 0;
  }

  /** The segment's echoed timestamp converted back to our ms clock, or -1 (none, or zero echo). */
  tsEcrMs(seg: InSegment): number {
    if (!this.c.tsEnabled || !seg.opts.hasTimestamp || seg.opts.tsEcr === 0) return -1;
    return ((seg.opts.tsEcr - this.tsOff) >>> 0) + Math.floor(this.c.lastNow / 2 ** 32) * 2 ** 32;
  }
}
