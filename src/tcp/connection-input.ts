/**
 * A segment arriving on a connection, RFC 9293 3.10.7: the checks in the order the RFC
 * gives them, and what each state does with what passes them.
 *
 * - 3.10.7.3 SYN-SENT: the ACK check (RST for an unacceptable one), RST (ECONNREFUSED),
 *   then SYN: a SYN-ACK completes the open; a bare SYN is a simultaneous open (3.5,
 *   figure 8) and goes to SYN-RECEIVED.
 * - 3.10.7.4 every later state: PAWS first (RFC 7323 5.3, with Linux's exemption for
 *   reordered duplicate ACKs, tcp_disordered_ack); first, sequence number
 *   acceptability (an unacceptable segment is ACKed, within the invalid-ACK rate limit;
 *   a retransmitted SYN in SYN-RECEIVED gets the SYN-ACK again); second, RST (RFC 5961
 *   3.2: reset only at exactly RCV.NXT, else a challenge ACK); fourth, SYN (RFC 5961 4.2:
 *   challenge ACK); fifth, ACK (SYN-RECEIVED → ESTABLISHED; the sender's checks, RFC 5961
 *   5.2; FIN_WAIT_1 → FIN_WAIT_2, CLOSING → TIME_WAIT, LAST_ACK → CLOSED when our FIN is
 *   acknowledged); seventh, the text; eighth, FIN (ESTABLISHED → CLOSE_WAIT, FIN_WAIT_1 →
 *   CLOSING, FIN_WAIT_2 → TIME_WAIT). The third (security) and sixth (URG) checks have
 *   nothing to do here.
 * - Simultaneous open in SYN-RECEIVED (3.5 figure 8, line 6): the peer's SYN-ACK at IRS is
 *   taken as the ACK of our SYN, as Linux's tcp_validate_incoming does.
 * - RFC 1122 4.2.2.13 / Linux tcp_rcv_state_process: new data for an orphan in FIN_WAIT_1
 *   or FIN_WAIT_2 is answered with <SEQ=SEG.ACK><CTL=RST> and the connection is dropped.
 * - TIME_WAIT: a retransmitted FIN is ACKed again and restarts 2MSL; RST is ignored
 *   (RFC 1337); a new SYN may reuse the 4-tuple (Linux tcp_timewait_state_process).
 * - RFC 7323 4.3 (TS.Recent from segments covering Last.ACK.sent); RFC 6691 / RFC 9293
 *   3.7.1, RFC 7323 2.2, RFC 2018 2: the SYN's options (MSS, 536 when absent; window
 *   scale only when both offered it; SACK-permitted; timestamps).
 * - RFC 3168 6.1.1 (ECN from the SYN-ACK or, in a simultaneous open, the SYN), 6.1.2 and
 *   6.1.3 (ECE, CWR and CE of an acceptable segment, after its ACK: ./ecn.ts).
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../wire/tcp.js';
import { C } from '../base/counters.js';
import type { TcpConnection } from './connection.js';
import { armKeepalive, enterTimeWait, touchKeepalive } from './connection-timers.js';
import { confirmBlackHole, pathMss } from './connection-mss.js';
import { ecnSegmentArrives } from './ecn.js';
import { ACK_DELAYED, ACK_NOW } from './receiver.js';
import type { InSegment } from './segment.js';
import { ACK_TOO_OLD, ACK_UNSENT } from './sender.js';
import { seqAdd, seqGt, seqLeq, seqLt, seqSub } from './seq.js';
import { State } from './tcp-state.js';
import { T_FINWAIT2, T_RTO } from './timers.js';

/** Peer timestamp ticks per millisecond of our RTO in PAWS's replay window (Linux tcp_tsval_replay: 1200 Hz). */
const PAWS_REPLAY_TICKS_PER_MS = 1.2;

/** Processes a segment for this connection (RFC 9293 3.10.7). */
export function segmentArrives(c: TcpConnection, seg: InSegment, now: number): void {
  switch (c.state) {
    case State.SYN_SENT:
      inputSynSent(c, seg, now);
      break;
    case State.CLOSED:
      break;
    default:
      inputSynchronized(c, seg, now);
  }
}

/** Takes MSS, window scale, SACK-permitted and timestamps from the peer's SYN (the MSS within the path MTU, ./connection-mss.ts). */
export function takeSynOptions(c: TcpConnection, seg: InSegment, now: number): void {
  const o = seg.opts;
  const cfg = c.host.config;
  const peerMss = o.mss > 0 ? o.mss : 536; // RFC 9293 3.7.1: 536 when absent
  c.tsEnabled = cfg.timestamps && o.hasTimestamp;
  c.sackEnabled = cfg.sack && o.sackPermitted;
  const scaling = cfg.windowScaling && o.wscale >= 0;
  if (!scaling) c.rcv.noWindowScaling(); // RFC 7323 2.2: scaling only if both sides offered it
  c.mssCap = Math.min(peerMss, c.host.mssFor(c.remoteIp)) - (c.tsEnabled ? 12 : 0);
  c.snd.negotiated(Math.max(64, pathMss(c, now)), scaling ? o.wscale : 0, c.sackEnabled, cfg.recovery);
}

/** RFC 9293 3.10.7.3: SYN-SENT. */
function inputSynSent(c: TcpConnection, seg: InSegment, now: number): void {
  const f = seg.flags;
  if (f & TCP_ACK) {
    if (seqLeq(seg.ack, c.snd.iss) || seqGt(seg.ack, c.snd.sndMax)) {
      if (!(f & TCP_RST)) c.out.sendRst(seg.ack, 0, false, now);
      return;
    }
  }
  if (f & TCP_RST) {
    if (f & TCP_ACK) {
      c.host.counters[C.tcp_resets_rx]++;
      c.terminate('ECONNREFUSED');
    }
    return;
  }
  if (!(f & TCP_SYN)) return;
  c.rcv.synchronize(seg.seq);
  takeSynOptions(c, seg, now);
  c.ecn.takeSynReply(f, (f & TCP_ACK) !== 0);
  if (c.ecn.enabled) c.host.counters[C.tcp_ecn_negotiated]++;
  if (c.tsEnabled) c.rcv.updateTsRecent(seg.seq, seg.opts.tsVal);
  if (f & TCP_ACK) {
    // SYN-ACK: ESTABLISHED.
    c.snd.acceptSynAck(seg.seq, seg.ack, seg.window, c.out.tsEcrMs(seg), now, c.out);
    c.moveTo(State.ESTABLISHED);
    c.timers.clear(T_RTO);
    c.host.counters[C.tcp_established_total]++;
    armKeepalive(c, now);
    c.out.ackNow();
    c.events.onConnect();
    return;
  }
  // Simultaneous open (RFC 9293 3.5, figure 8): SYN-RECEIVED, send SYN-ACK.
  c.snd.setWindow(seg.seq, 0, seg.window, true);
  c.moveTo(State.SYN_RECEIVED);
  c.out.sendSyn(true, now);
}

/** RFC 9293 3.10.7.4: every state after SYN-SENT. */
function inputSynchronized(c: TcpConnection, seg: InSegment, now: number): void {
  const f = seg.flags;
  const counters = c.host.counters;
  // Simultaneous open (RFC 9293 3.5 figure 8, line 6): in SYN_RECEIVED after an active
  // open, the peer's SYN-ACK repeats its SYN at IRS, which the acceptability test below
  // would reject (it lies before RCV.NXT). Like Linux (tcp_validate_incoming), take it
  // as the ACK of our SYN when it acknowledges exactly what we sent.
  if (
    c.state === State.SYN_RECEIVED && c.listenerPort === 0 && (f & (TCP_SYN | TCP_ACK | TCP_RST)) === (TCP_SYN | TCP_ACK) &&
    seg.seq === c.rcv.irs && seg.ack === c.snd.sndMax
  ) {
    c.moveTo(State.ESTABLISHED);
    c.timers.clear(T_RTO);
    c.snd.synAcknowledged(seg.seq, seg.ack, seg.window, true);
    if (c.tsEnabled && seg.opts.hasTimestamp) c.rcv.updateTsRecent(seg.seq, seg.opts.tsVal);
    counters[C.tcp_established_total]++;
    armKeepalive(c, now);
    c.events.onConnect();
    return;
  }
  // PAWS (RFC 7323 5.3), before the sequence check; a reordered duplicate ACK passes
  // (Linux tcp_disordered_ack), without its window and without moving TS.Recent.
  let disordered = false;
  if (c.tsEnabled && seg.opts.hasTimestamp && !(f & TCP_RST) && c.rcv.pawsReject(seg.opts.tsVal)) {
    if (!disorderedAck(c, seg)) {
      counters[C.drop_tcp_paws]++;
      c.out.invalidAck(seg.segLen > 0 && !(f & TCP_SYN), now);
      return;
    }
    counters[C.tcp_paws_disordered_acks]++;
    disordered = true;
  }
  // First: sequence number acceptability.
  if (!c.rcv.acceptable(seg.seq, seg.segLen)) {
    if (f & TCP_RST) return;
    if (c.state === State.SYN_RECEIVED && (f & TCP_SYN) && !(f & TCP_ACK) && seqSub(seg.seq, c.rcv.irs) === 0) {
      // Retransmitted SYN: our SYN-ACK was lost; send it again.
      c.out.sendSyn(true, now);
      return;
    }
    // A retransmission of data we have (entirely below RCV.NXT) lands here too: it is
    // always ACKed at once, as the peer did not get our ACK, with a D-SACK block (RFC
    // 2883 4) when it lies within the last receive buffer's worth. It is counted as a
    // duplicate, not as an out-of-window drop: nothing was lost or refused. So is a peer's
    // keepalive or zero-window probe, <SEQ=RCV.NXT−1> with no data and nothing new
    // acknowledged (RFC 1122 4.2.3.6; Linux tcp_xmit_probe_skb): it exists to draw this ACK.
    // Any other segment with no data before RCV.NXT is an old one (Linux's
    // TCP_OLD_SEQUENCE), mostly an ACK overtaken by the peer's next segment: a Linux
    // client's handshake ACK and its application's first write leave from two CPUs, and
    // veth queues each CPU's packets apart.
    const behind = seqSub(c.rcv.rcvNxt, seg.seq);
    if (seg.segLen > 0 && behind >= seg.segLen) counters[C.tcp_duplicate_segments_rx]++;
    else if (seg.segLen === 0 && behind === 1 && seg.ack === c.snd.sndUna) counters[C.tcp_probes_rx]++;
    else if (seg.segLen === 0 && behind > 0 && behind <= c.rcv.capacity) counters[C.drop_tcp_old_sequence]++;
    else counters[C.drop_tcp_out_of_window]++;
    if (seg.dataLen > 0 && behind >= seg.dataLen && behind <= c.rcv.capacity) c.rcv.noteDuplicate(seg.seq, seqAdd(seg.seq, seg.dataLen));
    c.out.invalidAck(seg.segLen > 0 && !(f & TCP_SYN), now);
    return;
  }
  // Second: RST (RFC 5961 3.2).
  if (f & TCP_RST) {
    if (seg.seq === c.rcv.rcvNxt) {
      counters[C.tcp_resets_rx]++;
      c.terminate(c.state === State.SYN_RECEIVED && c.listenerPort !== 0 ? undefined : 'ECONNRESET', true);
    } else {
      c.out.challengeAck(now);
    }
    return;
  }
  // Fourth: SYN in a synchronized state (RFC 5961 4.2): challenge ACK.
  if (f & TCP_SYN) {
    c.out.challengeAck(now);
    return;
  }
  // Fifth: ACK.
  if (!(f & TCP_ACK)) {
    counters[C.drop_tcp_no_ack]++;
    return;
  }
  if (c.state === State.SYN_RECEIVED) {
    if (seqLt(c.snd.sndUna, seg.ack) && seqLeq(seg.ack, c.snd.sndMax)) {
      c.moveTo(State.ESTABLISHED);
      c.timers.clear(T_RTO);
      c.snd.setWindow(seg.seq, seg.ack, seg.window, false);
      counters[C.tcp_established_total]++;
      armKeepalive(c, now);
      c.countedInSynQueue = false;
      // A passive open goes to its listener; an active open that went through
      // SYN_RECEIVED (simultaneous open, RFC 9293 3.5 figure 8) has no listener: it
      // completes its connect() instead.
      if (c.listenerPort !== 0) c.host.onEstablished(c);
      else c.events.onConnect();
    } else {
      c.out.sendRst(seg.ack, 0, false, now);
      return;
    }
  }
  if (c.tsEnabled && seg.opts.hasTimestamp && !disordered) c.rcv.updateTsRecent(seg.seq, seg.opts.tsVal);
  if (c.blackHole !== null) confirmBlackHole(c, seg.ack, now);
  const flightBefore = c.ecn.enabled ? c.snd.flight() : 0; // RFC 3168 6.1.2's FlightSize, for an ECE
  const cwndBefore = c.ecn.enabled ? c.snd.cc.cwnd : 0; // and cwnd before this ACK grew it
  const r = c.snd.onAck(
    seg.seq, seg.ack, disordered ? -1 : seg.window, seg.dataLen, (f & (TCP_SYN | TCP_FIN)) === 0,
    seg.opts.sackBlocks, c.sackEnabled ? seg.opts.sackCount : 0, c.out.tsEcrMs(seg), now, c.out,
  );
  if (r === ACK_UNSENT) {
    counters[C.drop_tcp_ack_unsent]++;
    c.out.ackNow();
    return;
  }
  if (r === ACK_TOO_OLD) {
    counters[C.drop_tcp_old_ack]++;
    // Rate-limited even with data (Linux sends it as a challenge ACK, through the
    // per-socket limit and without tcp_oow_rate_limited's exemption for data).
    c.out.invalidAck(false, now);
    return;
  }
  ecnSegmentArrives(c, seg, flightBefore, cwndBefore, now); // RFC 3168 6.1.2, 6.1.3: CWR, CE, ECE
  c.softError = undefined; // the peer answers: what an ICMP said is past (Linux tcp_ack)
  if (c.writableWanted) {
    c.snd.expandSendBuffer(); // Linux tcp_check_space → tcp_new_space: the writer waits for room
    if (c.snd.buf.space > 0) {
      c.writableWanted = false;
      c.events.onWritable();
    }
  }
  if (c.snd.finAcked()) {
    switch (c.state) {
      case State.FIN_WAIT_1:
        c.moveTo(State.FIN_WAIT_2);
        // Linux tcp_fin_timeout: only an orphan waits for the peer's FIN with a deadline.
        if (c.orphaned) c.timers.set(T_FINWAIT2, now + c.host.config.finWait2Ms);
        break;
      case State.CLOSING:
        enterTimeWait(c, now);
        return;
      case State.LAST_ACK:
        c.terminate(undefined);
        return;
      default:
        break;
    }
  }
  touchKeepalive(c, now);
  // Seventh: segment text; eighth: FIN.
  const hasFin = (f & TCP_FIN) !== 0;
  if (
    c.orphaned && seg.dataLen > 0 && (c.state === State.FIN_WAIT_1 || c.state === State.FIN_WAIT_2) &&
    seqGt(seqAdd(seg.seq, seg.dataLen), c.rcv.rcvNxt)
  ) {
    // New data after close(): nobody will read it (RFC 1122 4.2.2.13; Linux
    // tcp_rcv_state_process answers with tcp_v4_send_reset: <SEQ=SEG.ACK><CTL=RST>).
    counters[C.tcp_orphan_data_resets]++;
    c.out.sendRst(seg.ack, 0, false, now);
    c.terminate(undefined);
    return;
  }
  if (seg.dataLen > 0 || hasFin) {
    if (c.state === State.ESTABLISHED || c.state === State.FIN_WAIT_1 || c.state === State.FIN_WAIT_2) {
      receiveText(c, seg, hasFin, now);
    } else {
      // CLOSE_WAIT, CLOSING, LAST_ACK: the peer already sent FIN; ACK a retransmission.
      c.out.ackNow();
    }
  }
}

/**
 * Linux tcp_disordered_ack() (net/ipv4/tcp_input.c, from tcp_paws_discard): a segment PAWS
 * rejects is still taken when it is (1) a pure ACK (no data, SYN or FIN) at RCV.NXT, (2) a
 * duplicate ACK (SEG.ACK = SND.UNA), (3) one that would not update the send window, and
 * (4) its TSval lies at most one RTO of the peer's clock behind TS.Recent (Linux
 * tcp_tsval_replay(): RTO × 1.2 ticks, for peers whose clock ticks up to 1200 Hz). Such a
 * segment carries nothing PAWS protects (no data; it acknowledges nothing new) and only
 * feeds duplicate-ACK counting and SACK: ACKs reordered on the path, or overtaken by a
 * later data segment, keep their SACK blocks.
 */
function disorderedAck(c: TcpConnection, seg: InSegment): boolean {
  return (
    (seg.flags & TCP_ACK) !== 0 && seg.segLen === 0 && seqSub(seg.seq, c.rcv.rcvNxt) === 0 &&
    c.snd.isDisorderedAck(seg.seq, seg.ack, seg.window) &&
    c.rcv.tsBehindRecent(seg.opts.tsVal) <= c.snd.rtt.rto * PAWS_REPLAY_TICKS_PER_MS
  );
}

/** Seventh and eighth checks: the segment's text and FIN, then the ACK it calls for. */
function receiveText(c: TcpConnection, seg: InSegment, fin: boolean, now: number): void {
  const rcv = c.rcv;
  const before = rcv.rcvNxt;
  const how = rcv.receive(seg.seq, seg.b, seg.dataOff, seg.dataLen, fin, Math.max(1, c.snd.mss), c);
  if (rcv.wasOutOfOrder) c.host.counters[C.tcp_ooo_segments]++;
  if (rcv.oooDropped) c.host.counters[C.drop_tcp_ooo_full]++;
  c.bytesIn += Math.max(0, seqSub(rcv.rcvNxt, before) - (rcv.finReceived && !c.peerFinNotified ? 1 : 0));
  if (rcv.finReceived && !c.peerFinNotified) {
    c.peerFinNotified = true;
    switch (c.state) {
      case State.ESTABLISHED:
        c.moveTo(State.CLOSE_WAIT);
        break;
      case State.FIN_WAIT_1:
        // Our FIN not yet acked: simultaneous close.
        c.moveTo(State.CLOSING);
        break;
      case State.FIN_WAIT_2:
        c.out.ackNow();
        c.events.onEnd();
        enterTimeWait(c, now);
        return;
      default:
        break;
    }
    c.out.ackNow();
    c.events.onEnd();
    return;
  }
  if (how === ACK_NOW) c.out.ackNow();
  else if (how === ACK_DELAYED) c.out.ackLater(now);
}
