/**
 * Loss recovery without SACK: RFC 5681 3.2 fast retransmit after DupThresh (3) duplicate
 * ACKs, and RFC 6582 NewReno: a partial ACK (new data acknowledged, the recovery point not
 * yet) shows the next hole, which is retransmitted at once. The congestion window part
 * (ssthresh, deflation at the end) is the controller's (../congestion/).
 *
 * Pipe is FlightSize less one SMSS per duplicate ACK: each says a segment left the
 * network, which lets new data out during recovery the way RFC 5681's cwnd inflation
 * would, without inflating cwnd.
 */
import type { SenderTransmit } from '../sender.js';
import { DUP_THRESH, type LossRecovery, type RecoverySender } from './loss-recovery.js';

/** RFC 5681 3.2 + RFC 6582 recovery driven by duplicate and partial ACKs. */
export class NewRenoRecovery implements LossRecovery {
  constructor(private readonly snd: RecoverySender) {}

  /** Without SACK there are no blocks to take. */
  onSackBlocks(_blocks: Uint32Array, _count: number, _ack: number): number {
    return 0;
  }

  dsackedBytes(): number {
    return 0;
  }

  onCumulativeAck(_ack: number): void {}

  /**
   * RFC 5681 3.2 step 2: the third duplicate ACK; RFC 6582 3.2 step 1: not while an RTO's
   * recovery is on (the ACK does not cover `recover`).
   */
  lossDetected(): boolean {
    return this.snd.dupAcks >= DUP_THRESH && !this.snd.inRtoRecovery;
  }

  inFlightRetransmissionEnd(seq: number): number {
    return seq;
  }

  onEnterRecovery(): void {}

  /** RFC 6582 3.2 step 5: the first unacknowledged segment is lost too; resend it now. */
  onPartialAck(now: number, out: SenderTransmit): void {
    this.snd.retransmitAt(this.snd.sndUna, now, out);
  }

  onExitRecovery(): void {}

  detectLoss(_now: number, _out: SenderTransmit): void {}

  onRetransmit(_seq: number, _len: number, _now: number): void {}

  onSent(_seq: number, _len: number, _now: number): void {}

  onLossTimer(_now: number): boolean {
    return false;
  }

  pipe(): number {
    return this.snd.flight() - this.deliveredAboveUna();
  }

  /**
   * RFC 6937 3 without SACK: each duplicate ACK delivered one SMSS (at most FlightSize, so
   * that split ACKs cannot clock out more than was sent); a partial ACK's share is what it
   * acknowledges less what the duplicate ACKs already counted.
   */
  deliveredAboveUna(): number {
    const snd = this.snd;
    return Math.min(snd.dupAcks * snd.mss, snd.flight());
  }

  /** New data as pipe allows: the retransmissions were made on the ACKs that showed the holes. */
  sendInRecovery(now: number, out: SenderTransmit): boolean {
    this.snd.sendNewData(now, out);
    return true;
  }

  onRetransmitTimeout(_keepSacked: boolean): void {}

  /** Go-back-N: everything outstanding is resent. */
  markLostOnRto(_now: number): void {}

  rtoResendLimit(): number {
    return -1;
  }

  rtoResendStart(from: number): number {
    return from;
  }

  rtoResendEnd(_from: number): number {
    return this.snd.sndMax;
  }

  holeEnd(_seq: number, end: number): number {
    return end;
  }

  isSacked(_seq: number): boolean {
    return false;
  }
}
