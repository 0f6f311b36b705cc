/**
 * Proportional Rate Reduction: how much a sender in fast recovery may send on each ACK
 * (RFC 6937 3, as revised by draft-ietf-tcpm-prr-rfc6937bis and as Linux's
 * tcp_cwnd_reduction does it).
 *
 * - At the start of recovery: RecoverFS = pipe (6937bis; RFC 6937 used snd.nxt − snd.una),
 *   prr_delivered = prr_out = 0. ssthresh is the congestion controller's.
 * - On every ACK in recovery: prr_delivered += DeliveredData (bytes newly acknowledged
 *   cumulatively or newly SACKed, less SACKed bytes the cumulative ACK now covers). Then
 *   - pipe > ssthresh (the proportional part): sndcnt = CEIL(prr_delivered × ssthresh /
 *     RecoverFS) − prr_out, so that when everything is delivered about ssthresh was sent;
 *   - pipe ≤ ssthresh (losses went past the reduction): sndcnt = MIN(ssthresh − pipe,
 *     limit) with the slow start reduction bound (PRR-SSRB) limit = MAX(prr_delivered −
 *     prr_out, DeliveredData) + SMSS when the caller calls the ACK safe, else the
 *     conservative bound (PRR-CRB, without the + SMSS). RFC 6937 applies SSRB to every
 *     ACK; 6937bis and Linux only to an ACK that advances SND.UNA and shows no new loss.
 *     The sender (../sender.ts) calls every ACK safe, as RFC 6937 does, until loss
 *     marking (RACK) can say which ACKs showed new losses.
 *   The sender makes its retransmissions of an ACK (the fast retransmit, a partial ACK's
 *   hole, a lost retransmission) while processing it, before sndcnt is known; they count
 *   against this ACK's sndcnt as Linux's sends after tcp_cwnd_reduction would, so the
 *   bound is taken less the bytes already sent on this ACK.
 *   sndcnt is never negative, and counted in whole segments (Linux counts packets): the
 *   byte figure is rounded up to a multiple of SMSS, so an ACK that earns part of a
 *   segment lets one go and prr_out takes it back on the next ACKs.
 * - The sender turns sndcnt into cwnd = pipe + sndcnt for its output (the way Linux sets
 *   snd_cwnd), and every byte it sends in recovery adds to prr_out. ACKs of one receive
 *   batch (decision 0033) all come before the output: what an ACK allowed and was not
 *   sent yet counts as sent (in pipe and prr_out) for the next ACK, whose sndcnt adds to
 *   it, so the batch sends what the ACKs one by one would (Linux sends after each ACK).
 * - Recovery ends with cwnd = ssthresh (the controller's onRecoveryEnd).
 *
 * The caller supplies pipe and DeliveredData, so a time-based loss detector (RACK, RFC
 * 8985) or an undo (RFC 5682, DSACK) only changes what it passes in or when recovery ends.
 */

/** PRR state of one connection: RecoverFS, prr_delivered, prr_out (bytes). */
export class ProportionalRateReduction {
  /** pipe when recovery started. */
  recoverFs = 0;
  /** Bytes delivered to the receiver since recovery started. */
  prrDelivered = 0;
  /** Bytes sent since recovery started. */
  prrOut = 0;
  /** Bytes sent since the current ACK arrived (part of prrOut). */
  private sentThisAck = 0;
  /** The last sndcnt came from the slow start reduction bound (pipe ≤ ssthresh). */
  boundBySsrb = false;
  /**
   * Bytes earlier ACKs allowed and the sender has not sent yet: ACKs of one receive batch
   * are all processed before the sender's output (decision 0033). They count as sent for
   * the next ACK's sndcnt (in pipe and prr_out), which then adds to them: the batch sends
   * what the ACKs one by one would have.
   */
  private unsent = 0;

  /** Recovery starts with `pipe` bytes in the network. */
  start(pipe: number): void {
    this.recoverFs = pipe;
    this.prrDelivered = 0;
    this.prrOut = 0;
    this.boundBySsrb = false;
    this.unsent = 0;
  }

  /** An ACK arrived: what is sent from now on counts against its sndcnt. */
  beginAck(): void {
    this.sentThisAck = 0;
  }

  /** The sender sent `bytes` (new data or retransmission) during recovery. */
  onSent(bytes: number): void {
    this.prrOut += bytes;
    this.sentThisAck += bytes;
    this.unsent = this.unsent > bytes ? this.unsent - bytes : 0;
  }

  /** The sender's output ran: an allowance it did not use then is not carried to later ACKs. */
  outputDone(): void {
    this.unsent = 0;
  }

  /**
   * An ACK in recovery delivered `delivered` bytes; `pipe` is the estimate after it.
   * Returns the bytes that may be sent now: sndcnt (whole segments of `mss`) plus what
   * earlier ACKs since the last output allowed.
   */
  sendCount(delivered: number, safeAck: boolean, pipe: number, ssthresh: number, mss: number): number {
    if (delivered > 0) this.prrDelivered += delivered;
    // What earlier ACKs allowed and was not sent yet counts as sent (prr_out, and pipe for
    // the ssthresh bound; which rule applies is decided on pipe as it is).
    const unsent = this.unsent;
    const out = this.prrOut + unsent;
    let sndcnt: number;
    if (pipe > ssthresh) {
      this.boundBySsrb = false;
      sndcnt = this.recoverFs > 0 ? Math.ceil((this.prrDelivered * ssthresh) / this.recoverFs) - out : 0;
    } else {
      this.boundBySsrb = true;
      // MAX(prr_delivered − prr_out, DeliveredData) with prr_out as it was when the ACK
      // arrived, less what was sent since; never past ssthresh with what is unsent.
      const limit = Math.max(this.prrDelivered - out, delivered - this.sentThisAck) + (safeAck ? mss : 0);
      sndcnt = Math.min(ssthresh - pipe - unsent, limit);
    }
    sndcnt = sndcnt <= 0 ? 0 : Math.ceil(sndcnt / mss) * mss;
    this.unsent = unsent + sndcnt;
    return this.unsent;
  }
}
