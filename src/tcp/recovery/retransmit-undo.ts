/**
 * Spurious retransmissions found, and the congestion response they caused undone, for
 * both kinds of episode: a fast recovery and a retransmission timeout.
 *
 * - Detection by D-SACK (RFC 3708 3): every byte retransmitted in the episode came back
 *   D-SACKed, so the receiver already had the originals (reordering, a delayed segment,
 *   or lost ACKs), as Linux's undo_retrans counts them (tcp_try_undo_dsack, _loss).
 * - Detection by timestamps (RFC 3522 Eifel, as Linux's tcp_packet_delayed): the first
 *   ACK that covers the first retransmission of the episode echoes a TSecr older than
 *   that retransmission, so it acknowledges the original. Only the first retransmission
 *   is judged this way; the episode's others still need their D-SACKs.
 * - Response (RFC 4015 2, Linux tcp_undo_cwnd_reduction): cwnd = max(cwnd, prior_cwnd),
 *   ssthresh = max(ssthresh, prior_ssthresh); the sender leaves fast recovery when the
 *   episode is one. A controller's own state (CUBIC's W_max, epoch) is not restored.
 *
 * An episode begins when fast recovery starts or at the first RTO of a series (a later RTO
 * of the series keeps the state from before the first and extends the episode). Only
 * retransmissions and D-SACKs within the episode's range [SND.UNA, SND.MAX) at its start
 * count. An RTO episode ends without undo when the cumulative ACK passes its SND.MAX; a
 * fast recovery episode stays open after recovery ends (the D-SACK of the last
 * retransmission often comes after the ACK that ends it) until the next episode begins.
 * A D-SACK caused by a duplicated original (not a retransmission) is not told apart.
 *
 * Made at the first episode (most connections have none); nothing allocated per ACK.
 */
import { seqGeq, seqGt, seqLt, seqMax, seqSub } from '../seq.js';

/** What kind of episode is watched (UNDO_NONE: none). */
export const UNDO_NONE = 0, UNDO_FAST = 1, UNDO_RTO = 2;

/** Undo state of one sender. */
export class RetransmitUndo {
  /** The episode watched: UNDO_NONE, UNDO_FAST or UNDO_RTO. */
  kind = UNDO_NONE;
  /** cwnd and ssthresh before the episode's first reduction. */
  priorCwnd = 0;
  priorSsthresh = 0;
  /** The episode's range: SND.UNA and SND.MAX when it began (SND.MAX grows with later RTOs). */
  private low = 0;
  private high = 0;
  /** Bytes retransmitted in the range, and D-SACKed: of the first retransmission and of the rest. */
  private retransmitted = 0;
  private dsackedFirst = 0;
  private dsackedOther = 0;
  /** The first retransmission of the episode: its range and TSval time (ms); -1: none yet. */
  private firstSeq = 0;
  private firstEnd = 0;
  private firstStampMs = -1;
  /** Eifel's verdict is still to come (the first retransmission is not yet covered). */
  private eifelPending = false;
  /** Eifel found the first retransmission spurious. */
  private firstSpurious = false;
  /** When the episode's last retransmission was sent (ms). */
  private lastRetransmitAt = 0;
  /** Fast recoveries (or RTO series) the episode covers: what an undo undoes. */
  recoveries = 0;

  /** An episode is being watched. */
  get armed(): boolean {
    return this.kind !== UNDO_NONE;
  }

  /**
   * Fast recovery starts at `now` with `cwnd`/`ssthresh` before its reduction, data
   * [sndUna, sndMax) outstanding. It joins the previous fast recovery's episode when that
   * one still waits for D-SACKs of retransmissions sent less than `joinMs` (an SRTT) ago:
   * they are on their way, and a new episode would lose them (reordering often causes
   * recoveries closer together than a round trip).
   */
  onFastRecovery(cwnd: number, ssthresh: number, sndUna: number, sndMax: number, now: number, joinMs: number): void {
    if (this.kind === UNDO_FAST && this.proven() < this.retransmitted && now - this.lastRetransmitAt < joinMs) {
      this.high = seqMax(this.high, sndMax);
      this.recoveries++;
      return;
    }
    this.begin(UNDO_FAST, cwnd, ssthresh, sndUna, sndMax);
  }

  /**
   * An RTO fired with `cwnd`/`ssthresh` before its response. The first of a series begins
   * an episode (also during fast recovery: what is undone then is the RTO's reduction, not
   * the recovery's); a later one extends it.
   */
  onRto(cwnd: number, ssthresh: number, sndUna: number, sndMax: number): void {
    if (this.kind === UNDO_RTO) {
      this.high = seqMax(this.high, sndMax);
      return;
    }
    this.begin(UNDO_RTO, cwnd, ssthresh, sndUna, sndMax);
  }

  private begin(kind: number, cwnd: number, ssthresh: number, sndUna: number, sndMax: number): void {
    this.kind = kind;
    this.priorCwnd = cwnd;
    this.priorSsthresh = ssthresh;
    this.low = sndUna;
    this.high = sndMax;
    this.retransmitted = 0;
    this.dsackedFirst = 0;
    this.dsackedOther = 0;
    this.firstStampMs = -1;
    this.eifelPending = false;
    this.firstSpurious = false;
    this.recoveries = 1;
  }

  /** Ends the episode without undo. */
  disarm(): void {
    this.kind = UNDO_NONE;
  }

  /** `len` bytes at `seq` were retransmitted at `now` (ms; the TSval it carried is floor(now)). */
  onRetransmit(seq: number, len: number, now: number): void {
    if (this.kind === UNDO_NONE) return;
    const n = this.inRange(seq, len);
    if (n <= 0) return;
    this.retransmitted += n;
    this.lastRetransmitAt = now;
    if (this.firstStampMs < 0) {
      this.firstSeq = seq;
      this.firstEnd = (seq + len) >>> 0;
      this.firstStampMs = Math.floor(now);
      this.eifelPending = true;
    }
  }

  /**
   * An ACK with cumulative ACK `ack`, echoing `tsEcrMs` (our ms clock; -1: no timestamp),
   * that D-SACKed [dsackLeft, dsackRight) (equal: no D-SACK). Returns the kind of the
   * episode when it is now known spurious (undo; the episode ends), else UNDO_NONE.
   */
  onAck(dsackLeft: number, dsackRight: number, ack: number, tsEcrMs: number): number {
    const kind = this.kind;
    if (kind === UNDO_NONE) return UNDO_NONE;
    if (dsackLeft !== dsackRight) {
      const inFirst = this.firstStampMs >= 0 ? overlap(dsackLeft, dsackRight, this.firstSeq, this.firstEnd) : 0;
      this.dsackedFirst += inFirst;
      this.dsackedOther += this.inRange(dsackLeft, seqSub(dsackRight, dsackLeft)) - inFirst;
    }
    if (this.eifelPending && seqGeq(ack, this.firstEnd)) {
      // RFC 3522 3.2: the ACK of the first retransmission echoes the time of what it acknowledges.
      this.eifelPending = false;
      this.firstSpurious = tsEcrMs >= 0 && tsEcrMs < this.firstStampMs;
    }
    if (this.retransmitted > 0 && this.proven() >= this.retransmitted) {
      this.kind = UNDO_NONE;
      return kind;
    }
    if (kind === UNDO_RTO && seqGeq(ack, this.high)) this.kind = UNDO_NONE;
    return UNDO_NONE;
  }

  /** Retransmitted bytes known spurious: D-SACKed, or the first retransmission by Eifel. */
  private proven(): number {
    const first = this.firstSpurious ? Math.max(this.dsackedFirst, seqSub(this.firstEnd, this.firstSeq)) : this.dsackedFirst;
    return first + this.dsackedOther;
  }

  /** Eifel (not D-SACK alone) found the first retransmission of the episode spurious. */
  get eifelDetected(): boolean {
    return this.firstSpurious;
  }

  /** Bytes of [seq, seq + len) within the episode's range. */
  private inRange(seq: number, len: number): number {
    return overlap(seq, (seq + len) >>> 0, this.low, this.high);
  }
}

/** Bytes common to [l1, r1) and [l2, r2) in sequence space. */
function overlap(l1: number, r1: number, l2: number, r2: number): number {
  const l = seqGt(l1, l2) ? l1 : l2;
  const r = seqLt(r1, r2) ? r1 : r2;
  return seqGt(r, l) ? seqSub(r, l) : 0;
}
