/**
 * One TCP connection: the state machine of RFC 9293 around a sender and a receiver.
 *
 * RFC 9293 3.3.2 (states), 3.5 (opening: passive, active, simultaneous), 3.6 (closing,
 * half-close, simultaneous close), 3.10.7.3 (SYN-SENT), 3.10.7.4 (other states: the
 * eight checks in order), 3.10.8 (timeouts); RFC 5961 (3.2 RST in window but not exact →
 * challenge ACK; 4.2 SYN in a synchronized state → challenge ACK; 5.2 ACK acceptability;
 * 7 challenge ACKs within the shard's per-second budget, Linux tcp_challenge_ack_limit);
 * Linux tcp_invalid_ratelimit (ACKs for out-of-window, PAWS-rejected and too-old-ACK
 * segments at most once per invalidAckIntervalMs per connection; segments carrying data
 * or FIN without SYN are always answered, as Linux tcp_oow_rate_limited does);
 * RFC 7323 (window scale, timestamps, PAWS); RFC 2018 (SACK); RFC 6691 (MSS);
 * RFC 1122 4.2.3.6 (keepalive); RFC 1337 (ignore RST in TIME_WAIT); RFC 1122 4.2.2.13 and
 * RFC 9293 3.10.7.4 (data arriving after CLOSE: RST); Linux tcp_fin_timeout (FIN_WAIT_2
 * of orphaned connections only).
 *
 * Orphans (close()): the application is done in both directions. Like Linux (tcp_close,
 * tcp_rcv_state_process), new data for an orphan in FIN_WAIT_1/FIN_WAIT_2 is answered with
 * <SEQ=SEG.ACK><CTL=RST> and the connection is dropped (tcp_orphan_data_resets); an orphan
 * in FIN_WAIT_2 is dropped finWait2Ms after it got there (or after close(), if later),
 * silently, as Linux's FIN_WAIT_2 timewait socket expires without a segment
 * (tcp_fin_wait2_timeouts); a FIN before then moves it to TIME_WAIT as usual. Segments do
 * not restart that timer. A half-closed connection (shutdownWrite) that is not an orphan
 * has no FIN_WAIT_2 timeout: the peer may keep sending for as long as it likes.
 * Like Linux tcp_close/tcp_check_oom (tcp_max_orphans), a close() that would make more
 * than maxOrphans orphans in the shard resets the connection instead
 * (<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, tcp_orphans_overflow_resets); like Linux
 * tcp_orphan_retries, an orphan gives up after orphanRetries retransmission timeouts
 * instead of dataRetries (RST, tcp_timeouts and tcp_orphan_timeouts), and an orphan held
 * by a zero window after orphanRetries window probes (Linux tcp_probe_timer).
 */
import {
  TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN,
} from '../wire/tcp.js';
import { C, type Counters } from '../base/counters.js';
import type { TcpConnectionEvents, TcpConnectionHandle, TcpErrorCode } from './connection-handle.js';
import { ACK_DELAYED, ACK_NOW, TcpReceiver } from './receiver.js';
import type { InSegment } from './segment.js';
import { SegmentOptions, type SegmentWriter } from './segment-writer.js';
import { ACK_TOO_OLD, ACK_UNSENT, TcpSender, type SenderTransmit } from './sender.js';
import { seqAdd, seqGt, seqLeq, seqLt, seqSub } from './seq.js';
import { T_DELACK, T_FINWAIT2, T_KEEPALIVE, T_PERSIST, T_RTO, T_TIMEWAIT, TcpTimers } from './timers.js';
import { windowScaleFor, type TcpConfig } from './tcp-config.js';

/** RFC 9293 states. */
export const enum State {
  CLOSED, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK, TIME_WAIT,
}

/** State names for /connections and the socket API. */
export const STATE_NAMES = [
  'CLOSED', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT',
] as const;

/** What the connection needs from the TCP layer. */
export interface ConnectionHost {
  readonly writer: SegmentWriter;
  readonly counters: Counters;
  readonly config: TcpConfig;
  /** Our MTU-derived MSS (RFC 6691: MTU − 40). */
  readonly ourMss: number;
  /** Timestamp clock offset for this address pair (RFC 7323 5.4). */
  tsOffset(remoteIp: number): number;
  /** The connection reached ESTABLISHED from SYN_RECEIVED (passive open): hand it to the listener. */
  onEstablished(c: TcpConnection): void;
  /** The connection is gone from every state: remove it from the tables. */
  onClosed(c: TcpConnection): void;
  /** The connection entered TIME_WAIT. */
  onTimeWait(c: TcpConnection): void;
  /** One more (+1) or one fewer (−1) orphan (close() called, not yet in TIME_WAIT or CLOSED). */
  orphanCountChanged(delta: number): void;
  /** Orphans in the shard now (for maxOrphans). */
  readonly orphans: number;
  /**
   * RFC 5961 7: takes one challenge ACK from the shard's per-second budget
   * (challengeAckLimit); false when it is spent.
   */
  challengeAckAllowed(now: number): boolean;
  /** The current time (ms), for calls from the application (they carry none). */
  clock(): number;
  /** The application changed something (data queued, window opened, close): flush soon. */
  markDirty(c: TcpConnection): void;
}

const noEvents: TcpConnectionEvents = {
  onConnect() {}, onData() {}, onEnd() {}, onWritable() {}, onClose() {},
};

/** A TCP connection (one TCB). */
export class TcpConnection implements TcpConnectionHandle, SenderTransmit {
  state: State = State.CLOSED;
  readonly timers = new TcpTimers();
  readonly snd: TcpSender;
  readonly rcv: TcpReceiver;
  events: TcpConnectionEvents = noEvents;
  /** Negotiated options. */
  tsEnabled = false;
  sackEnabled = false;
  /** Bytes received/sent as application data (for /connections). */
  bytesIn = 0;
  bytesOut = 0;
  /** Listener port for passive opens (0: active open). */
  listenerPort = 0;
  /** Counted in its listener's SYN queue (until ESTABLISHED or closed). */
  countedInSynQueue = false;
  /** Entered TIME_WAIT (counted in the layer's TIME_WAIT total). */
  wasTimeWait = false;
  /** Set when the socket layer was told about the end (onClose called). */
  private closedNotified = false;
  /** close() was called: the application is gone (see the file header). */
  private orphan = false;
  /** Counted in the layer's orphan gauge. */
  private countedOrphan = false;
  private peerFinNotified = false;
  private writableWanted = false;
  private keepaliveIdle = 0;
  /** When the last rate-limited ACK for an invalid segment went out (Linux last_oow_ack_time). */
  private lastInvalidAckAt = -Infinity;
  private keepaliveSent = 0;
  private readonly opts = new SegmentOptions();
  private readonly tsOff: number;
  /** Created at (ms), for /connections. */
  readonly createdAt: number;

  constructor(
    private readonly host: ConnectionHost,
    readonly localIp: number,
    readonly localPort: number,
    readonly remoteIp: number,
    readonly remotePort: number,
    now: number,
  ) {
    const cfg = host.config;
    this.snd = new TcpSender(cfg.sendBuffer, cfg.congestionControl, cfg.tailLossProbe, this.timers, host.counters);
    const wscale = cfg.windowScaling ? windowScaleFor(cfg.recvBuffer) : 0;
    this.rcv = new TcpReceiver(cfg.recvBuffer, cfg.maxOooSegments, wscale, () => this.snd.mss);
    this.tsOff = host.tsOffset(remoteIp);
    this.createdAt = now;
  }

  /** RFC 9293 state name. */
  get stateName(): string {
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
    this.snd.setMss(this.host.ourMss);
    this.state = State.SYN_SENT;
    this.sendSyn(false, now);
    this.timers.set(T_RTO, now + this.snd.rtt.rto);
  }

  /**
   * Passive open: a SYN arrived at a listener (seg); answer with SYN-ACK in SYN_RECEIVED.
   * `peerOpts` are the SYN's options.
   */
  accept(seg: InSegment, iss: number, now: number): void {
    this.lastNow = now;
    this.rcv.synchronize(seg.seq);
    this.negotiate(seg);
    this.snd.start(iss);
    this.snd.setWindow(seg.seq, iss, seg.window, true);
    this.state = State.SYN_RECEIVED;
    if (this.tsEnabled) this.rcv.updateTsRecent(seg.seq, seg.opts.tsVal);
    this.sendSyn(true, now);
    this.timers.set(T_RTO, now + this.snd.rtt.rto);
  }

  /**
   * A connection created from a valid SYN cookie: straight to ESTABLISHED (RFC 4987 3.6).
   * The segment is the handshake's final ACK.
   */
  acceptFromCookie(seg: InSegment, iss: number, mss: number, wscale: number, sackOk: boolean, now: number): void {
    this.rcv.synchronize(seqSub(seg.seq, 1) >>> 0);
    this.snd.start(iss);
    this.tsEnabled = seg.opts.hasTimestamp && this.host.config.timestamps;
    this.sackEnabled = sackOk && this.host.config.sack;
    const scaling = wscale >= 0 && this.host.config.windowScaling;
    this.snd.negotiated(Math.min(mss, this.host.ourMss) - (seg.opts.hasTimestamp ? 12 : 0), scaling ? wscale : 0, this.sackEnabled);
    if (!scaling) this.rcv.noWindowScaling();
    this.snd.synAcknowledged(seg.seq, seg.ack, seg.window, false);
    this.rcv.assumeWindowAdvertised();
    this.state = State.ESTABLISHED;
    this.host.counters[C.tcp_established_total]++;
    this.armKeepalive(now);
  }

  /** Takes MSS, window scale, SACK-permitted and timestamps from the peer's SYN. */
  private negotiate(seg: InSegment): void {
    const o = seg.opts;
    const cfg = this.host.config;
    const peerMss = o.mss > 0 ? o.mss : 536; // RFC 9293 3.7.1: 536 when absent
    this.tsEnabled = cfg.timestamps && o.hasTimestamp;
    this.sackEnabled = cfg.sack && o.sackPermitted;
    const scaling = cfg.windowScaling && o.wscale >= 0;
    if (!scaling) this.rcv.noWindowScaling(); // RFC 7323 2.2: scaling only if both sides offered it
    const mss = Math.min(peerMss, this.host.ourMss) - (this.tsEnabled ? 12 : 0);
    this.snd.negotiated(mss, scaling ? o.wscale : 0, this.sackEnabled);
  }

  private sendSyn(ack: boolean, now: number): void {
    const cfg = this.host.config;
    const o = this.opts;
    o.reset();
    o.synMss = this.host.ourMss;
    const offerWs = ack ? this.rcv.wscale > 0 || this.snd.wscale > 0 : cfg.windowScaling;
    o.synWscale = offerWs && cfg.windowScaling ? this.rcv.wscale : -1;
    o.synSackPermitted = ack ? this.sackEnabled : cfg.sack;
    o.timestamps = ack ? this.tsEnabled : cfg.timestamps;
    o.tsVal = this.tsNow(now);
    o.tsEcr = ack && this.tsEnabled ? this.rcv.tsRecent : 0;
    const flags = TCP_SYN | (ack ? TCP_ACK : 0);
    const window = this.rcv.windowField(true);
    this.host.writer.send(
      this.remoteIp, this.localPort, this.remotePort, this.snd.iss, ack ? this.rcv.rcvNxt : 0, flags, window, o, null, 0, 0, now,
    );
    if (ack) this.rcv.noteAckSent(window);
  }

  // ---------------------------------------------------------------- input

  /** Processes a segment for this connection (RFC 9293 3.10.7). */
  input(seg: InSegment, now: number): void {
    this.lastNow = now;
    this.host.counters[C.tcp_segments_rx]++;
    switch (this.state) {
      case State.SYN_SENT:
        this.inputSynSent(seg, now);
        break;
      case State.CLOSED:
        break;
      default:
        this.inputSynchronized(seg, now);
    }
    this.flush(now);
  }

  /** RFC 9293 3.10.7.3: SYN-SENT. */
  private inputSynSent(seg: InSegment, now: number): void {
    const f = seg.flags;
    if (f & TCP_ACK) {
      if (seqLeq(seg.ack, this.snd.iss) || seqGt(seg.ack, this.snd.sndMax)) {
        if (!(f & TCP_RST)) this.sendRst(seg.ack, 0, false, now);
        return;
      }
    }
    if (f & TCP_RST) {
      if (f & TCP_ACK) {
        this.host.counters[C.tcp_resets_rx]++;
        this.terminate('ECONNREFUSED');
      }
      return;
    }
    if (!(f & TCP_SYN)) return;
    this.rcv.synchronize(seg.seq);
    this.negotiate(seg);
    if (this.tsEnabled) this.rcv.updateTsRecent(seg.seq, seg.opts.tsVal);
    if (f & TCP_ACK) {
      // SYN-ACK: ESTABLISHED.
      this.snd.acceptSynAck(seg.seq, seg.ack, seg.window, this.tsEcrMs(seg), now, this);
      this.state = State.ESTABLISHED;
      this.timers.clear(T_RTO);
      this.host.counters[C.tcp_established_total]++;
      this.armKeepalive(now);
      this.ackNow(now);
      this.events.onConnect();
      return;
    }
    // Simultaneous open (RFC 9293 3.5, figure 8): SYN-RECEIVED, send SYN-ACK.
    this.snd.setWindow(seg.seq, 0, seg.window, true);
    this.state = State.SYN_RECEIVED;
    this.sendSyn(true, now);
  }

  /** RFC 9293 3.10.7.4: every state after SYN-SENT. */
  private inputSynchronized(seg: InSegment, now: number): void {
    const f = seg.flags;
    const counters = this.host.counters;
    if (this.state === State.TIME_WAIT) {
      this.inputTimeWait(seg, now);
      return;
    }
    // Simultaneous open (RFC 9293 3.5 figure 8, line 6): in SYN_RECEIVED after an active
    // open, the peer's SYN-ACK repeats its SYN at IRS, which the acceptability test below
    // would reject (it lies before RCV.NXT). Like Linux (tcp_validate_incoming), take it
    // as the ACK of our SYN when it acknowledges exactly what we sent.
    if (
      this.state === State.SYN_RECEIVED && this.listenerPort === 0 && (f & (TCP_SYN | TCP_ACK | TCP_RST)) === (TCP_SYN | TCP_ACK) &&
      seg.seq === this.rcv.irs && seg.ack === this.snd.sndMax
    ) {
      this.state = State.ESTABLISHED;
      this.timers.clear(T_RTO);
      this.snd.synAcknowledged(seg.seq, seg.ack, seg.window, true);
      if (this.tsEnabled && seg.opts.hasTimestamp) this.rcv.updateTsRecent(seg.seq, seg.opts.tsVal);
      counters[C.tcp_established_total]++;
      this.armKeepalive(now);
      this.events.onConnect();
      return;
    }
    // PAWS (RFC 7323 5.3), before the sequence check.
    if (this.tsEnabled && seg.opts.hasTimestamp && !(f & TCP_RST) && this.rcv.pawsReject(seg.opts.tsVal)) {
      counters[C.drop_tcp_paws]++;
      this.invalidAck(seg.segLen > 0 && !(f & TCP_SYN), now);
      return;
    }
    // First: sequence number acceptability.
    if (!this.rcv.acceptable(seg.seq, seg.segLen)) {
      if (f & TCP_RST) return;
      if (this.state === State.SYN_RECEIVED && (f & TCP_SYN) && !(f & TCP_ACK) && seqSub(seg.seq, this.rcv.irs) === 0) {
        // Retransmitted SYN: our SYN-ACK was lost; send it again.
        this.sendSyn(true, now);
        return;
      }
      counters[C.drop_tcp_out_of_window]++;
      // A retransmission of data we have (entirely below RCV.NXT) lands here too: it is
      // always ACKed at once, as the peer did not get our ACK.
      this.invalidAck(seg.segLen > 0 && !(f & TCP_SYN), now);
      return;
    }
    // Second: RST (RFC 5961 3.2).
    if (f & TCP_RST) {
      if (seg.seq === this.rcv.rcvNxt) {
        counters[C.tcp_resets_rx]++;
        this.terminate(this.state === State.SYN_RECEIVED && this.listenerPort !== 0 ? undefined : 'ECONNRESET', true);
      } else {
        this.challengeAck(now);
      }
      return;
    }
    // Fourth: SYN in a synchronized state (RFC 5961 4.2): challenge ACK.
    if (f & TCP_SYN) {
      this.challengeAck(now);
      return;
    }
    // Fifth: ACK.
    if (!(f & TCP_ACK)) {
      counters[C.drop_tcp_no_ack]++;
      return;
    }
    if (this.state === State.SYN_RECEIVED) {
      if (seqLt(this.snd.sndUna, seg.ack) && seqLeq(seg.ack, this.snd.sndMax)) {
        this.state = State.ESTABLISHED;
        this.timers.clear(T_RTO);
        this.snd.setWindow(seg.seq, seg.ack, seg.window, false);
        counters[C.tcp_established_total]++;
        this.armKeepalive(now);
        this.countedInSynQueue = false;
        // A passive open goes to its listener; an active open that went through
        // SYN_RECEIVED (simultaneous open, RFC 9293 3.5 figure 8) has no listener: it
        // completes its connect() instead.
        if (this.listenerPort !== 0) this.host.onEstablished(this);
        else this.events.onConnect();
      } else {
        this.sendRst(seg.ack, 0, false, now);
        return;
      }
    }
    if (this.tsEnabled && seg.opts.hasTimestamp) this.rcv.updateTsRecent(seg.seq, seg.opts.tsVal);
    const r = this.snd.onAck(
      seg.seq, seg.ack, seg.window, seg.dataLen, (f & (TCP_SYN | TCP_FIN)) === 0,
      seg.opts.sackBlocks, this.sackEnabled ? seg.opts.sackCount : 0, this.tsEcrMs(seg), now, this,
    );
    if (r === ACK_UNSENT) {
      counters[C.drop_tcp_ack_unsent]++;
      this.ackNow(now);
      return;
    }
    if (r === ACK_TOO_OLD) {
      counters[C.drop_tcp_old_ack]++;
      // Rate-limited even with data (Linux sends it as a challenge ACK, through the
      // per-socket limit and without tcp_oow_rate_limited's exemption for data).
      this.invalidAck(false, now);
      return;
    }
    if (this.writableWanted && this.snd.buf.space > 0) {
      this.writableWanted = false;
      this.events.onWritable();
    }
    if (this.snd.finAcked()) {
      switch (this.state) {
        case State.FIN_WAIT_1:
          this.state = State.FIN_WAIT_2;
          // Linux tcp_fin_timeout: only an orphan waits for the peer's FIN with a deadline.
          if (this.orphan) this.timers.set(T_FINWAIT2, now + this.host.config.finWait2Ms);
          break;
        case State.CLOSING:
          this.enterTimeWait(now);
          return;
        case State.LAST_ACK:
          this.terminate(undefined);
          return;
        default:
          break;
      }
    }
    this.touchKeepalive(now);
    // Seventh: segment text; eighth: FIN.
    const hasFin = (f & TCP_FIN) !== 0;
    if (
      this.orphan && seg.dataLen > 0 && (this.state === State.FIN_WAIT_1 || this.state === State.FIN_WAIT_2) &&
      seqGt(seqAdd(seg.seq, seg.dataLen), this.rcv.rcvNxt)
    ) {
      // New data after close(): nobody will read it (RFC 1122 4.2.2.13; Linux
      // tcp_rcv_state_process answers with tcp_v4_send_reset: <SEQ=SEG.ACK><CTL=RST>).
      counters[C.tcp_orphan_data_resets]++;
      this.sendRst(seg.ack, 0, false, now);
      this.terminate(undefined);
      return;
    }
    if (seg.dataLen > 0 || hasFin) {
      if (this.state === State.ESTABLISHED || this.state === State.FIN_WAIT_1 || this.state === State.FIN_WAIT_2) {
        this.receiveText(seg, hasFin, now);
      } else {
        // CLOSE_WAIT, CLOSING, LAST_ACK: the peer already sent FIN; ACK a retransmission.
        this.ackNow(now);
      }
    }
  }

  private receiveText(seg: InSegment, fin: boolean, now: number): void {
    const rcv = this.rcv;
    const before = rcv.rcvNxt;
    const how = rcv.receive(seg.seq, seg.b, seg.dataOff, seg.dataLen, fin, Math.max(1, this.snd.mss), this.deliver);
    if (rcv.wasOutOfOrder) this.host.counters[C.tcp_ooo_segments]++;
    if (rcv.oooDropped) this.host.counters[C.drop_tcp_ooo_full]++;
    this.bytesIn += Math.max(0, seqSub(rcv.rcvNxt, before) - (rcv.finReceived && !this.peerFinNotified ? 1 : 0));
    if (rcv.finReceived && !this.peerFinNotified) {
      this.peerFinNotified = true;
      switch (this.state) {
        case State.ESTABLISHED:
          this.state = State.CLOSE_WAIT;
          break;
        case State.FIN_WAIT_1:
          // Our FIN not yet acked: simultaneous close.
          this.state = State.CLOSING;
          break;
        case State.FIN_WAIT_2:
          this.ackNow(now);
          this.events.onEnd();
          this.enterTimeWait(now);
          return;
        default:
          break;
      }
      this.ackNow(now);
      this.events.onEnd();
      return;
    }
    if (how === ACK_NOW) this.ackNow(now);
    else if (how === ACK_DELAYED) this.ackLater(now);
  }

  private readonly deliver = (b: Uint8Array, off: number, len: number): void => {
    this.host.counters[C.tcp_rx_bytes] += len;
    this.events.onData(b, off, len);
  };

  /** TIME_WAIT: re-ACK a retransmitted FIN and restart 2MSL; RST is ignored (RFC 1337). */
  private inputTimeWait(seg: InSegment, now: number): void {
    const f = seg.flags;
    if (f & TCP_RST) return;
    if (f & TCP_FIN) {
      this.ackNow(now);
      this.timers.set(T_TIMEWAIT, now + 2 * this.host.config.mslMs);
      return;
    }
    if (f & TCP_ACK && seg.dataLen === 0) return;
    this.ackNow(now);
  }

  /**
   * RFC 9293 3.10.7.4 / Linux tcp_timewait_state_process: may a SYN for this 4-tuple in
   * TIME_WAIT open a new connection? Yes if its sequence number is above RCV.NXT or its
   * timestamp is newer than TS.Recent.
   */
  timeWaitAcceptsSyn(seg: InSegment): boolean {
    // As Linux: PAWS rejects an older TSval outright; otherwise a higher sequence number
    // or a newer TSval will do (a SYN with the same TSval and a higher sequence is a
    // new incarnation too).
    if (this.tsEnabled && seg.opts.hasTimestamp) {
      const d = seqSub(seg.opts.tsVal, this.rcv.tsRecent);
      if (d < 0) return false;
      return d > 0 || seqGt(seg.seq, this.rcv.rcvNxt);
    }
    return seqGt(seg.seq, this.rcv.rcvNxt);
  }

  // ---------------------------------------------------------------- output

  /** SenderTransmit: one data/FIN segment with ACK, window and options. */
  transmitData(seq: number, flags: number, dataOffset: number, len: number, now: number): boolean {
    const ok = this.emit(seq, TCP_ACK | flags, len > 0 ? dataOffset : 0, len, now);
    if (ok && len > 0) {
      this.bytesOut += len;
      this.host.counters[C.tcp_tx_bytes] += len;
    }
    return ok;
  }

  /** SenderTransmit: largest payload per segment (TSO super-segments when offloaded). */
  maxPayload(now: number): number {
    return this.host.writer.maxPayload(this.remoteIp, this.snd.mss, now);
  }

  /** SenderTransmit: zero-window probe. */
  transmitProbe(now: number): void {
    this.emit(seqSub(this.snd.sndUna, 1) >>> 0, TCP_ACK, 0, 0, now);
  }

  /** Sends a segment with the current ACK, window, timestamps and SACK blocks. */
  private emit(seq: number, flags: number, dataOffset: number, len: number, now: number): boolean {
    const o = this.opts;
    o.reset();
    if (this.tsEnabled) {
      o.timestamps = true;
      o.tsVal = this.tsNow(now);
      o.tsEcr = this.rcv.tsRecent;
    }
    if (this.sackEnabled && this.rcv.ooo.segments > 0) {
      o.sackCount = this.rcv.ooo.sackBlocks(o.sack, this.tsEnabled ? 3 : 4);
    }
    const window = this.rcv.windowField(false);
    const ok = this.host.writer.send(
      this.remoteIp, this.localPort, this.remotePort, seq, this.rcv.rcvNxt, flags, window, o,
      len > 0 ? this.snd.buf : null, dataOffset, len, now, this.snd.mss,
    );
    if (ok && flags & TCP_ACK) {
      this.rcv.noteAckSent(window * 2 ** this.rcv.wscale);
      this.timers.clear(T_DELACK);
      this.ackNowPending = false;
    }
    return ok;
  }

  /** Sends an ACK now (pure ACK unless data goes out anyway in flush). */
  private ackNowPending = false;
  private ackNow(_now: number): void {
    this.ackNowPending = true;
  }

  /** RFC 5961 3.2 / 4.2 challenge ACK, if the shard's budget allows (RFC 5961 7). */
  private challengeAck(now: number): void {
    if (this.host.challengeAckAllowed(now)) {
      this.host.counters[C.tcp_challenge_acks]++;
      this.ackNow(now);
    } else {
      this.host.counters[C.tcp_challenge_acks_suppressed]++;
    }
  }

  /**
   * The ACK owed to an invalid segment (out of window, PAWS, ACK too old), at most once per
   * invalidAckIntervalMs per connection (Linux tcp_invalid_ratelimit, __tcp_oow_rate_limited).
   * `always`: the segment is exempt (data or FIN without SYN) and does not restart the interval.
   */
  private invalidAck(always: boolean, now: number): void {
    if (!always) {
      const elapsed = now - this.lastInvalidAckAt;
      if (elapsed >= 0 && elapsed < this.host.config.invalidAckIntervalMs) {
        this.host.counters[C.tcp_invalid_acks_suppressed]++;
        return;
      }
      this.lastInvalidAckAt = now;
    }
    this.ackNow(now);
  }

  private ackLater(now: number): void {
    this.rcv.delayAck();
    if (!this.timers.armed(T_DELACK)) this.timers.set(T_DELACK, now + this.host.config.delayedAckMs);
  }

  /** Sends what is due: data/FIN from the sender, then a pure ACK if one is still owed. */
  flush(now: number): void {
    const st = this.state;
    if (st === State.ESTABLISHED || st === State.CLOSE_WAIT || st === State.FIN_WAIT_1 || st === State.CLOSING || st === State.LAST_ACK) {
      this.snd.output(now, this);
    }
    if (this.ackNowPending) {
      this.ackNowPending = false;
      if (st !== State.CLOSED && st !== State.SYN_SENT) this.emit(this.snd.sndNxt, TCP_ACK, 0, 0, now);
    }
  }

  // ---------------------------------------------------------------- timers

  /** Runs the timers due at `now`. */
  onTimers(now: number): void {
    this.lastNow = now;
    let t: number;
    while ((t = this.timers.takeDue(now)) >= 0) {
      switch (t) {
        case T_RTO:
          this.onRto(now);
          break;
        case T_PERSIST:
          // Linux tcp_probe_timer: an orphan stuck behind a zero window gives up after
          // orphanRetries probes (probes restart from 0 when the window opens).
          if (this.orphan && this.snd.probes >= this.host.config.orphanRetries && this.snd.sndWnd === 0) {
            this.host.counters[C.tcp_timeouts]++;
            this.host.counters[C.tcp_orphan_timeouts]++;
            this.sendRst(this.snd.sndNxt, this.rcv.rcvNxt, true, now);
            this.terminate('ETIMEDOUT');
            return;
          }
          this.snd.onPersist(now, this);
          break;
        case T_DELACK:
          if (this.rcv.ackPending) {
            this.host.counters[C.tcp_delayed_acks]++;
            this.ackNow(now);
          }
          break;
        case T_KEEPALIVE:
          this.onKeepalive(now);
          break;
        case T_TIMEWAIT:
          this.terminate(undefined);
          return;
        case T_FINWAIT2:
          if (this.state === State.FIN_WAIT_2 && this.orphan) {
            // Linux tcp_fin_timeout: the orphan's FIN_WAIT_2 (timewait) socket expires
            // without a segment; a peer that speaks later gets RST for a closed port.
            this.host.counters[C.tcp_fin_wait2_timeouts]++;
            this.terminate(undefined);
            return;
          }
          break;
        default:
          break;
      }
      if (this.state === State.CLOSED) return;
    }
    this.flush(now);
  }

  private onRto(now: number): void {
    const cfg = this.host.config;
    if (this.state === State.SYN_SENT || this.state === State.SYN_RECEIVED) {
      if (!this.snd.onSynTimeout(cfg.synRetries)) {
        this.host.counters[C.tcp_timeouts]++;
        this.terminate('ETIMEDOUT');
        return;
      }
      this.host.counters[C.tcp_retransmits]++;
      this.sendSyn(this.state === State.SYN_RECEIVED, now);
      this.timers.set(T_RTO, now + this.snd.rtt.rto);
      return;
    }
    // Linux tcp_orphan_retries: an orphan gives up sooner than a connection someone owns.
    if (!this.snd.onRto(now, this.orphan ? cfg.orphanRetries : cfg.dataRetries, this)) {
      this.host.counters[C.tcp_timeouts]++;
      if (this.orphan) this.host.counters[C.tcp_orphan_timeouts]++;
      this.sendRst(this.snd.sndNxt, this.rcv.rcvNxt, true, now);
      this.terminate('ETIMEDOUT');
    }
  }

  private armKeepalive(now: number): void {
    if (this.keepaliveIdle > 0) this.timers.set(T_KEEPALIVE, now + this.keepaliveIdle);
  }

  private touchKeepalive(now: number): void {
    this.keepaliveSent = 0;
    if (this.keepaliveIdle > 0) this.timers.set(T_KEEPALIVE, now + this.keepaliveIdle);
  }

  private onKeepalive(now: number): void {
    if (this.keepaliveIdle <= 0 || this.state !== State.ESTABLISHED && this.state !== State.CLOSE_WAIT) return;
    if (this.keepaliveSent >= this.host.config.keepaliveProbes) {
      this.host.counters[C.tcp_timeouts]++;
      this.sendRst(this.snd.sndNxt, this.rcv.rcvNxt, true, now);
      this.terminate('ETIMEDOUT');
      return;
    }
    this.keepaliveSent++;
    this.host.counters[C.tcp_keepalive_probes]++;
    // RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT − 1, no data.
    this.emit(seqSub(this.snd.sndNxt, 1) >>> 0, TCP_ACK, 0, 0, now);
    this.timers.set(T_KEEPALIVE, now + this.host.config.keepaliveIntervalMs);
  }

  // ---------------------------------------------------------------- closing

  private enterTimeWait(now: number): void {
    this.uncountOrphan();
    this.state = State.TIME_WAIT;
    this.timers.clearAll();
    this.timers.set(T_TIMEWAIT, now + 2 * this.host.config.mslMs);
    this.notifyClosed(undefined);
    this.snd.buf.dispose(); // our FIN is ACKed: nothing left to send
    this.host.onTimeWait(this);
  }

  /** Sends RST (RFC 9293 3.10.7.1 forms). */
  private sendRst(seq: number, ack: number, withAck: boolean, now: number): void {
    const o = this.opts;
    o.reset();
    this.host.writer.send(this.remoteIp, this.localPort, this.remotePort, seq, ack, TCP_RST | (withAck ? TCP_ACK : 0), 0, o, null, 0, 0, now);
    this.host.counters[C.tcp_resets_tx]++;
  }

  /** Ends the connection: CLOSED, timers off, tables updated, socket told (once). */
  terminate(err: TcpErrorCode | undefined, _byRst = false): void {
    if (this.state === State.CLOSED) return;
    this.uncountOrphan();
    this.state = State.CLOSED;
    this.timers.clearAll();
    this.notifyClosed(err);
    this.snd.buf.dispose();
    this.host.onClosed(this);
  }

  private uncountOrphan(): void {
    if (!this.countedOrphan) return;
    this.countedOrphan = false;
    this.host.orphanCountChanged(-1);
  }

  private notifyClosed(err: TcpErrorCode | undefined): void {
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
    this.host.markDirty(this);
    switch (this.state) {
      case State.ESTABLISHED:
        this.snd.queueFin();
        this.state = State.FIN_WAIT_1;
        break;
      case State.CLOSE_WAIT:
        this.snd.queueFin();
        this.state = State.LAST_ACK;
        break;
      case State.SYN_SENT:
        this.terminate(undefined);
        break;
      case State.SYN_RECEIVED:
        this.snd.queueFin();
        this.state = State.FIN_WAIT_1;
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
    const now = this.host.clock();
    if (this.host.orphans >= this.host.config.maxOrphans) {
      // Linux tcp_close → tcp_check_oom (tcp_max_orphans): one orphan too many. Reset
      // instead of finishing: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, as abort() does.
      this.host.counters[C.tcp_orphans_overflow_resets]++;
      this.sendRst(this.snd.sndNxt, this.rcv.rcvNxt, true, now);
      this.terminate(undefined);
      return;
    }
    this.countedOrphan = true;
    this.host.orphanCountChanged(1);
    if (this.state === State.FIN_WAIT_2) this.timers.set(T_FINWAIT2, now + this.host.config.finWait2Ms);
    this.host.markDirty(this);
  }

  /** True once close() was called (for /connections and tests). */
  get orphaned(): boolean {
    return this.orphan;
  }

  abort(): void {
    const st = this.state;
    if (st === State.CLOSED || st === State.TIME_WAIT) return;
    if (st !== State.SYN_SENT) this.sendRst(this.snd.sndNxt, this.rcv.rcvNxt, true, this.lastNow);
    this.closedNotified = true; // the socket initiated it
    this.terminate(undefined);
    this.host.markDirty(this);
  }

  /** The time of the latest event, for calls from the socket that carry no time. */
  lastNow = 0;

  consumed(n: number): void {
    const r = this.rcv;
    const before = r.windowField(false);
    r.consumed(n);
    // Window update (RFC 9293 3.8.6.2.2 / RFC 1122 4.2.3.3): tell the peer when the window
    // opens by at least two segments or half the buffer from what it last saw.
    const after = r.windowField(false);
    const opened = (after - before) * 2 ** r.wscale;
    if (opened >= Math.min(2 * this.snd.mss, r.capacity >>> 1) || (before === 0 && after > 0)) {
      this.ackNowPending = true;
      this.host.markDirty(this);
    }
  }

  setNoDelay(noDelay: boolean): void {
    this.snd.setNoDelay(noDelay);
    if (noDelay) this.host.markDirty(this);
  }

  setKeepAlive(enable: boolean, idleMs: number): void {
    this.keepaliveIdle = enable ? Math.max(1000, idleMs || 7_200_000) : 0;
    if (enable && (this.state === State.ESTABLISHED || this.state === State.CLOSE_WAIT)) this.armKeepalive(this.lastNow);
    else if (!enable) this.timers.clear(T_KEEPALIVE);
    this.host.markDirty(this);
  }

  // ---------------------------------------------------------------- helpers

  private tsNow(now: number): number {
    return (Math.floor(now) + this.tsOff) >>> 0;
  }

  /** The echoed timestamp converted back to our ms clock, or -1 (none, or zero echo). */
  private tsEcrMs(seg: InSegment): number {
    if (!this.tsEnabled || !seg.opts.hasTimestamp || seg.opts.tsEcr === 0) return -1;
    return ((seg.opts.tsEcr - this.tsOff) >>> 0) + Math.floor(this.lastNow / 2 ** 32) * 2 ** 32;
  }
}

export { TCP_PSH, TCP_FIN };
