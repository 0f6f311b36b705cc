/**
 * Spurious retransmission timeouts found by D-SACK, and their undo: RFC 3708 3 (every
 * retransmission of the episode D-SACKed means the originals had arrived), with RFC 4015
 * 2's response as Linux's tcp_try_undo_loss makes it: cwnd and ssthresh go back to what
 * they were before the RTO. With a GRO'd receiver the flight is often a single aggregate:
 * losing its ACK and the probe's leaves only the RTO, which then collapses cwnd to one
 * segment although nothing was lost.
 *
 * Armed at the first RTO of a series (the state before it is kept; later RTOs of the same
 * series add their retransmissions); every byte retransmitted while armed counts, every
 * D-SACKed byte counts against it. Once all of it is D-SACKed the RTO was spurious. Disarmed
 * without undo when the cumulative ACK passes SND.MAX of the RTO, or when fast recovery
 * starts. Made at the first RTO (most connections have none).
 */
import { seqGeq } from '../seq.js';

/** Undo state of one sender. */
export class RtoUndo {
  /** An RTO series is being watched. */
  armed = false;
  /** cwnd and ssthresh before the first RTO of the series. */
  priorCwnd = 0;
  priorSsthresh = 0;
  private retransmitted = 0;
  private dsacked = 0;
  /** SND.MAX at the RTO. */
  private high = 0;

  /** An RTO fired with `cwnd`/`ssthresh` before its response, and `sndMax` sent. */
  onRto(cwnd: number, ssthresh: number, sndMax: number): void {
    if (this.armed) return; // a later RTO of the same series: keep the state before the first
    this.armed = true;
    this.priorCwnd = cwnd;
    this.priorSsthresh = ssthresh;
    this.retransmitted = 0;
    this.dsacked = 0;
    this.high = sndMax;
  }

  /** `bytes` were retransmitted. */
  onRetransmit(bytes: number): void {
    if (this.armed) this.retransmitted += bytes;
  }

  /**
   * An ACK with cumulative ACK `ack` that D-SACKed `dsacked` bytes: true when everything
   * retransmitted since the RTO has now been D-SACKed (undo; disarmed).
   */
  onAck(dsacked: number, ack: number): boolean {
    if (!this.armed) return false;
    this.dsacked += dsacked;
    if (this.retransmitted > 0 && this.dsacked >= this.retransmitted) {
      this.armed = false;
      return true;
    }
    if (seqGeq(ack, this.high)) this.armed = false;
    return false;
  }
}
