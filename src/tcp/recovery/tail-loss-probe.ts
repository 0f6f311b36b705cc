/**
 * Tail loss probes, RFC 8985 section 7, with SACK only (7.2: the SACKs tell what the probe
 * repaired). When the ACKs stop while data is outstanding, a probe timeout (PTO) shorter
 * than the RTO sends one segment to draw an ACK that shows whether the tail was lost.
 *
 * - 7.2: PTO = 2·SRTT, plus WCDelAckT (the peer's worst-case delayed ACK) when only one
 *   segment is in flight, at least PTO_MIN_MS, and only when it comes before the RTO. It
 *   is armed in the sender's T_RTO slot when the retransmission timer starts and again on
 *   each ACK of new data (sending more new data does not push it back; see decision
 *   0012). An ACK that leaves one segment in flight would get WCDelAckT and so no probe;
 *   when the output that follows it sends more, the probe is armed for that flight. Not in recovery, not after an RTO, not before an RTT sample, and one probe per
 *   episode (until an ACK covers what was outstanding when it went out).
 * - 7.3: when the PTO fires, new data if the windows allow (two full-sized segments when
 *   that much waits, so that a delayed-ACK receiver answers at once: PROBE_NEW_SEGMENTS),
 *   else the last segment again; then the real RTO. Not an RTO: no backoff, cwnd and the retry count unchanged.
 * - 7.4 with 6.2's rule: when the peer SACKs the probe while data below it is still
 *   missing, that data was sent at least a PTO (≥ 2·SRTT) before a segment that arrived:
 *   it is lost. It is marked so on the scoreboard and SACK recovery starts at once.
 */
import { C, type Counters } from '../../base/counters.js';
import type { SenderTransmit } from '../sender.js';
import { seqAdd, seqGeq, seqLt, seqMax, seqSub } from '../seq.js';
import type { RecoverySender } from './loss-recovery.js';

/** RFC 8985 7.2: PTO floor (Linux TCP_TIMEOUT_MIN for TLP, 10 ms). */
export const PTO_MIN_MS = 10;
/** RFC 8985 7.2 WCDelAckT: the peer's worst-case delayed ACK when one segment is in flight. */
export const WC_DEL_ACK_MS = 200;
/**
 * Full-sized segments of new data a probe carries when that much waits. One segment is
 * what 7.3 says; but when the flight was delivered and only its ACK lost, the probe is the
 * one segment the receiver got since its last ACK, which it holds for its delayed ACK (40 ms
 * at Linux: the very WCDelAckT 7.2 adds for one segment in flight). Two are ACKed at once
 * (RFC 1122 4.2.3.2, RFC 5681 4.2: an ACK at least every second full-sized segment).
 * They leave as two frames, also under TSO: a link that drops a super-frame drops all of
 * it (a qdisc or bridge drops a GSO packet whole), and a probe that is one frame shares the
 * fate of one segment; two frames must both be lost for the probe to go unanswered
 * (decision 0037, class C: the flight's ACK lost and the probe with it, then an RTO).
 */
export const PROBE_NEW_SEGMENTS = 2;
/** No probe outstanding (not a valid u32 sequence number). */
const NO_PROBE = -1;

/** What a probe needs to know of the SACK scoreboard (the SACK recovery strategy answers). */
export interface ProbeSacks {
  /** True if the peer SACKed byte `seq`. */
  isSacked(seq: number): boolean;
  /** RFC 8985 6.2: every unSACKed byte below `seq` is lost. */
  markLostBefore(seq: number): void;
}

/**
 * The tail loss probe of one sender. The sender makes it when it first arms a probe, on
 * connections where probes may be sent (TcpConfig.tailLossProbe on and SACK negotiated).
 */
export class TailLossProbe {
  /** The sender's T_RTO slot holds this probe's timeout (PTO), not an RTO; the sender keeps it with the slot. */
  armed = false;
  /**
   * The sender armed the RTO instead of a probe only because one segment was in flight
   * (7.2's WCDelAckT made the PTO later than the RTO): once its output has sent more, it
   * arms the probe after all.
   */
  recheckAfterSend = false;
  /** The outstanding probe: its first sequence number and SND.MAX after it (NO_PROBE: none). */
  private probeSeq = 0;
  private probeHigh = NO_PROBE;

  constructor(
    private readonly snd: RecoverySender,
    private readonly sacks: ProbeSacks,
    private readonly counters: Counters,
  ) {}

  /** RFC 8985 7.2: the PTO (ms) if a probe may be scheduled now, else -1. */
  timeout(): number {
    const snd = this.snd;
    if (snd.inRecovery || this.probeHigh !== NO_PROBE || snd.retries !== 0 || !(snd.rtt.srtt > 0)) return -1;
    let pto = 2 * snd.rtt.srtt;
    if (snd.flight() <= snd.mss) pto += WC_DEL_ACK_MS;
    return pto < PTO_MIN_MS ? PTO_MIN_MS : pto;
  }

  /** RFC 8985 7.3: the PTO fired; sends the probe (the caller then arms the RTO). */
  send(now: number, out: SenderTransmit): void {
    const snd = this.snd;
    this.armed = false;
    const before = snd.sndMax;
    const seq = snd.sndNxt;
    let sent = 0;
    if (snd.unsent() > 0 && seqSub(seqAdd(snd.sndUna, snd.sndWnd), snd.sndNxt) > 0) {
      // One frame per segment, also under TSO: PROBE_NEW_SEGMENTS.
      for (let n = 0; n < PROBE_NEW_SEGMENTS; n++) {
        const len = snd.sendNew(now, out, snd.mss);
        if (len <= 0) break;
        sent += len;
      }
    }
    if (sent > 0) {
      this.probeSeq = seq;
    } else {
      // The highest-sequence segment: the last MSS of data (with the FIN if it rode on it).
      const held = snd.buf.length;
      const off = held > snd.mss ? held - snd.mss : 0;
      this.probeSeq = seqAdd(snd.sndUna, off);
      if (held === 0 && snd.finSent) this.probeSeq = snd.finSeq;
      snd.retransmitAt(this.probeSeq, now, out);
    }
    this.probeHigh = seqMax(before, snd.sndMax);
    this.counters[C.tcp_loss_probes]++;
  }

  /** The cumulative ACK reached `ack`: the episode is over once it covers what the probe followed. */
  onCumulativeAck(ack: number): void {
    if (this.probeHigh !== NO_PROBE && seqGeq(ack, this.probeHigh)) this.probeHigh = NO_PROBE;
  }

  /**
   * RFC 8985 7.4 + 6.2: true when the probe was SACKed while data below it is missing;
   * that data is then marked lost and the caller starts recovery.
   */
  lossRevealed(): boolean {
    const snd = this.snd;
    if (this.probeHigh === NO_PROBE || snd.inRecovery) return false;
    if (!this.sacks.isSacked(this.probeSeq) || !seqLt(snd.sndUna, this.probeSeq)) return false;
    this.probeHigh = NO_PROBE;
    this.sacks.markLostBefore(this.probeSeq);
    this.counters[C.tcp_loss_probe_recoveries]++;
    return true;
  }

  /** The RTO fired: the episode ends with it. */
  onRetransmitTimeout(): void {
    this.probeHigh = NO_PROBE;
  }
}
