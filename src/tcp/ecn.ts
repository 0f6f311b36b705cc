/**
 * Explicit Congestion Notification for one connection (RFC 3168), with Linux's defaults
 * (tcp_ecn=2: accept ECN when the peer asks; 'on': ask on active opens too).
 *
 * - 6.1.1 negotiation: an ECN-setup SYN carries ECE and CWR, an ECN-setup SYN-ACK ECE
 *   only; anything else (one of the two on a SYN, ECE+CWR on a SYN-ACK, ECE on a SYN-ACK
 *   to a SYN that did not ask) leaves ECN off. A simultaneous open uses it when both SYNs
 *   asked (Linux tcp_ecn_rcv_syn).
 * - 6.1.1.1: a retransmitted SYN no longer asks (a middlebox may drop ECN-setup SYNs;
 *   Linux tcp_ecn_fallback), though an ECN-setup SYN-ACK to it is still taken.
 * - 6.1.2 sender: ECT(0) on new data only; on an ACK with ECE, ssthresh and cwnd are
 *   reduced as for a loss (the controller's onCongestionEvent), at most once per window
 *   of data: not while in loss recovery, nor before SND.UNA is past SND.MAX of the last
 *   reduction (a loss recovery or an RTO counts as a reduction too). After any reduction
 *   the next new data segment carries CWR. When cwnd was one segment, which cannot be
 *   reduced, the sender resets the retransmit timer and sends its next new segment only
 *   when it expires (the section's last rule; the sender's waitAfterEcnEcho).
 * - 6.1.3 receiver: after a CE-marked segment every ACK carries ECE until a segment with
 *   CWR arrives (CWR is taken before CE: a segment with both keeps ECE going); the ACK of
 *   the CE segment is not delayed (Linux enters quick-ACK mode).
 * - 6.1.4, 6.1.5, 6.1.6: no ECT on SYN, SYN-ACK, pure ACKs, window or keepalive probes,
 *   RST, a lone FIN, or retransmitted data (anything below SND.MAX).
 * - A connection accepted from a SYN cookie has ECN off (its SYN-ACK did not offer it:
 *   the cookie keeps no room for it, unlike Linux's timestamp bits).
 *
 * The IP ECN field of each arriving segment reaches TCP as InSegment.ipEcn (./segment.ts);
 * ECT goes out through SegmentWriter.send's `ecn` argument (../l3/ipv4-output.ts writes it).
 */
import { C } from '../base/counters.js';
import { ECN_CE, ECN_ECT0, ECN_NOT_ECT } from '../wire/ipv4.js';
import { TCP_CWR, TCP_ECE } from '../wire/tcp.js';
import type { TcpConnection } from './connection.js';
import type { InSegment } from './segment.js';
import { seqLeq } from './seq.js';

/** ECN policy of a stack (TcpConfig.ecn): never, only when the peer asks (Linux default), or ask too. */
export type EcnMode = 'off' | 'accept' | 'on';

/** Both ECN flags: an ECN-setup SYN has them both, an ECN-setup SYN-ACK only ECE. */
const ECE_CWR = TCP_ECE | TCP_CWR;

/** ECN state of one connection. */
export class TcpEcn {
  /** ECN is in use: the handshake negotiated it. */
  enabled = false;
  /** Our SYN asked for ECN (active open with mode 'on'). */
  requested = false;
  /** Receiver: a CE mark arrived; ECE goes on every ACK until the peer's CWR (6.1.3). */
  demandCwr = false;
  /** Sender: cwnd was reduced; CWR goes on the next new data segment (6.1.2). */
  cwrPending = false;
  /** Sender: a reduction is in force until SND.UNA reaches `reducedUntil` (SND.MAX when it began). */
  private reducing = false;
  private reducedUntil = 0;

  /** The ECN flags of our SYN (`retransmission`: not the first, 6.1.1.1) or SYN-ACK. */
  synFlags(mode: EcnMode, synAck: boolean, retransmission: boolean): number {
    if (synAck) return this.enabled ? TCP_ECE : 0;
    this.requested ||= mode === 'on' && !retransmission;
    return mode === 'on' && !retransmission ? ECE_CWR : 0;
  }

  /** A SYN arrived at a listener (passive open): ECN is used when it is an ECN-setup SYN and we accept. */
  takeSyn(mode: EcnMode, flags: number): void {
    this.enabled = mode !== 'off' && (flags & ECE_CWR) === ECE_CWR;
  }

  /**
   * The answer to our SYN: a SYN-ACK (ECN-setup: ECE without CWR) or, in a simultaneous
   * open, the peer's SYN (ECN-setup: ECE and CWR).
   */
  takeSynReply(flags: number, isSynAck: boolean): void {
    const f = flags & ECE_CWR;
    this.enabled = this.requested && (isSynAck ? f === TCP_ECE : f === ECE_CWR);
  }

  /**
   * A reduction of cwnd for any reason (ECE, entering loss recovery, an RTO): CWR on the
   * next new data, and no ECE response until SND.UNA passes `sndMax` (one per window).
   */
  reduced(sndMax: number): void {
    if (!this.enabled) return;
    this.cwrPending = true;
    this.reducing = true;
    this.reducedUntil = sndMax;
  }

  /**
   * True while a reduction (for an ECE, a loss or an RTO) holds for the current window,
   * SND.UNA not yet past `reducedUntil` (see mayReduce). The sender asks before answering a
   * loss: one response per window of data (RFC 3168 6.1.2).
   */
  reductionInForce(sndUna: number): boolean {
    return this.enabled && this.reducing && seqLeq(sndUna, this.reducedUntil);
  }

  /**
   * True when an ECE may reduce cwnd now: no reduction within the current window. The
   * window ends once SND.UNA is past `reducedUntil`, not at it: the first new data after
   * the reduction (with CWR) starts there, and ACKs up to it still carry ECE for the CE
   * mark already answered (Linux keeps TCP_CA_CWR until snd_una != high_seq).
   */
  mayReduce(sndUna: number): boolean {
    if (this.reducing && seqLeq(sndUna, this.reducedUntil)) return false;
    this.reducing = false;
    return true;
  }

  /**
   * The IP ECN codepoint and extra TCP flags of a segment we send: ECT(0) and a pending
   * CWR on new data (`newData`: payload at or above SND.MAX); ECE on every segment with ACK
   * while the peer owes us a CWR. Returns ecn | flags << 8 (flags: TCP_ECE, TCP_CWR).
   */
  outgoing(newData: boolean, hasAck: boolean): number {
    if (!this.enabled) return ECN_NOT_ECT;
    let flags = hasAck && this.demandCwr ? TCP_ECE : 0;
    if (!newData) return flags << 8;
    if (this.cwrPending) flags |= TCP_CWR;
    return ECN_ECT0 | (flags << 8);
  }
}

/**
 * RFC 3168 6.1.2 / 6.1.3 for an acceptable segment whose ACK was processed, before its
 * text: CWR ends our ECE, a CE mark starts it (ACKed at once), an ECE reduces cwnd once
 * per window, from the bytes in flight before this ACK (`flightBefore`, RFC 5681's
 * FlightSize); when cwnd was one segment before this ACK (`cwndBefore`) the sender waits
 * for the retransmit timer instead. Nothing when ECN is not in use (ECE and CWR then mean
 * nothing).
 */
export function ecnSegmentArrives(c: TcpConnection, seg: InSegment, flightBefore: number, cwndBefore: number, now: number): void {
  const e = c.ecn;
  if (!e.enabled) return;
  const counters = c.host.counters;
  const f = seg.flags;
  if (f & TCP_CWR) {
    counters[C.tcp_ecn_cwr_rx]++;
    e.demandCwr = false;
  }
  if (seg.ipEcn === ECN_CE) {
    counters[C.tcp_ecn_ce_rx]++;
    if (!e.demandCwr) {
      e.demandCwr = true;
      c.out.ackNow();
    }
  }
  if (f & TCP_ECE) {
    counters[C.tcp_ecn_ece_rx]++;
    const snd = c.snd;
    if (!snd.inRecovery && e.mayReduce(snd.sndUna)) {
      if (cwndBefore <= snd.mss) {
        // cwnd cannot go below one segment: the next new segment waits for the retransmit timer.
        snd.waitAfterEcnEcho(now, flightBefore);
        counters[C.tcp_ecn_one_segment_waits]++;
      } else {
        snd.cc.onCongestionEvent(now, flightBefore);
      }
      e.reduced(snd.sndMax);
      counters[C.tcp_ecn_cwnd_reductions]++;
    }
  }
}
