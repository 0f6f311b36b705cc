/**
 * SACK-based loss recovery: RFC 6675 with the scoreboard of ../sack-scoreboard.ts.
 *
 * - Section 5 (a)/(b): recovery starts on the DupThresh-th duplicate ACK (RFC 5681 3.2), or
 *   as soon as IsLost(SND.UNA) holds (DupThresh segments' worth SACKed above it).
 * - Section 4 SetPipe(): pipe counts every unSACKed byte that is not lost, once more if it
 *   was retransmitted (below HighRxt); it limits new data outside recovery too.
 * - Section 5 (C): during recovery, while pipe < cwnd (cwnd set on each ACK by RFC 6937
 *   PRR, ./prr.ts), NextSeg() rule 1 (the first lost
 *   unSACKed range at or above HighRxt, at most one SMSS) goes first, then new data of at
 *   most one SMSS; each transmission adds to pipe. Partial ACKs need nothing more: NextSeg
 *   finds the holes they leave.
 * - Section 5.1: an RTO keeps the scoreboard's SACKed ranges and the resend skips them, as
 *   Linux does (tcp_timeout_mark_lost); RFC 2018 8 lets the receiver renege, so when it did
 *   (SND.UNA itself SACKed at the RTO) the scoreboard is cleared and everything resent.
 * - Lost retransmissions (./lost-retransmit.ts), which RFC 6675 cannot see, are repaired
 *   without waiting for the RTO.
 */
import { C, type Counters } from '../../base/counters.js';
import { SackScoreboard, unsackedPipe } from '../sack-scoreboard.js';
import type { SenderTransmit } from '../sender.js';
import { DUP_THRESH, type LossRecovery, type RecoverySender } from './loss-recovery.js';
import { LostRetransmits } from './lost-retransmit.js';

/** Most NextSeg() transmissions per output call (a bound, not a limit reached in practice). */
const MAX_SENDS_PER_OUTPUT = 1000;

/** NextSeg()'s answer: [first sequence number, length] (shared by the thread's connections: read at once). */
const NEXT_SEG = new Float64Array(2);

/**
 * RFC 6675 recovery over a SACK scoreboard. The scoreboard is made at the first SACK block
 * (or the first loss a probe reveals) and the list of retransmissions at the first
 * retransmission in recovery: an idle connection, or one that never lost anything, holds
 * neither.
 */
export class SackRecovery implements LossRecovery {
  protected board: SackScoreboard | null = null;
  private lostRetransmits: LostRetransmits | null = null;

  constructor(
    protected readonly snd: RecoverySender,
    protected readonly counters: Counters,
  ) {}

  /** The scoreboard, made on first use. */
  protected scoreboard(): SackScoreboard {
    const board = (this.board ??= this.newScoreboard());
    board.mss = this.snd.mss;
    return board;
  }

  /** Makes the scoreboard (RFC 6675's IsLost() rule on). */
  protected newScoreboard(): SackScoreboard {
    return new SackScoreboard(this.snd.mss);
  }

  /** RFC 2018 3: records the blocks (within SND.UNA..SND.MAX); counts D-SACKs (RFC 3708 2). */
  onSackBlocks(blocks: Uint32Array, count: number, ack: number, _now: number): number {
    const board = this.scoreboard();
    const dsacks = board.dsackBlocks;
    const overflows = board.overflowDrops;
    const newly = board.update(this.snd.sndUna, this.snd.sndMax, blocks, count, ack);
    this.counters[C.tcp_dsacks_rx] += board.dsackBlocks - dsacks;
    this.counters[C.tcp_sack_scoreboard_overflows] += board.overflowDrops - overflows;
    return newly;
  }

  dsackedBytes(): number {
    return this.board === null ? 0 : this.board.dsackBytes;
  }

  onCumulativeAck(ack: number, _now: number): void {
    this.board?.advance(ack);
  }

  /**
   * RFC 6675 5 (a)/(b): DupThresh duplicate ACKs, or IsLost(SND.UNA); 5.1: no new recovery
   * while an RTO's recovery is on (HighACK below RecoveryPoint).
   */
  lossDetected(_now: number): boolean {
    if (this.snd.inRtoRecovery) return false;
    return this.snd.dupAcks >= DUP_THRESH || (this.board !== null && this.board.isLost(this.snd.sndUna));
  }

  /** No retransmission is followed beyond HighRxt (the lost-retransmission runs end with each recovery). */
  inFlightRetransmissionEnd(seq: number): number {
    return seq;
  }

  onEnterRecovery(): void {
    this.lostRetransmits?.clear();
    this.counters[C.tcp_sack_recoveries]++;
  }

  /** NextSeg() finds the hole a partial ACK leaves on the next output. */
  onPartialAck(_now: number, _out: SenderTransmit): void {}

  onExitRecovery(): void {
    this.lostRetransmits?.clear();
  }

  detectLoss(now: number, out: SenderTransmit): void {
    this.lostRetransmits?.detect(now, out);
  }

  onSent(_seq: number, _len: number, _now: number): void {}

  onLossTimer(_now: number): boolean {
    return false;
  }

  onRetransmit(seq: number, len: number, _now: number): void {
    if (!this.snd.inRecovery) return;
    (this.lostRetransmits ??= new LostRetransmits(this.snd, this.scoreboard(), this.counters)).note(seq, len);
  }

  /** RFC 6675 4 SetPipe(). */
  pipe(): number {
    const snd = this.snd;
    return this.board === null ? unsackedPipe(snd.sndUna, snd.sndNxt, snd.highRxt) : this.board.pipe(snd.sndUna, snd.sndNxt, snd.highRxt);
  }

  /** RFC 6937 3 DeliveredData's SACK part: the SACKed bytes. */
  deliveredAboveUna(): number {
    return this.board === null ? 0 : this.board.sackedBytes;
  }

  /** RFC 6675 5 (C): lost segments first (NextSeg rule 1), then new data, while pipe < cwnd. */
  sendInRecovery(now: number, out: SenderTransmit): boolean {
    const snd = this.snd;
    const next = NEXT_SEG;
    const board = this.board;
    let pipe = this.pipe();
    let guard = 0;
    while (pipe < snd.cc.cwnd && guard++ < MAX_SENDS_PER_OUTPUT) {
      if (board !== null && board.nextLost(snd.highRxt, snd.sndNxt, snd.mss, next)) {
        const seq = next[0];
        const len = next[1];
        // Already resent and still in flight (an earlier recovery's, RACK): go past it.
        const past = this.inFlightRetransmissionEnd(seq);
        if (past !== seq) {
          snd.passRetransmitted(past);
          continue;
        }
        if (!snd.retransmitRange(seq, len, now, out)) return false;
        pipe += len;
        continue;
      }
      const sent = snd.sendNew(now, out, snd.cc.cwnd - pipe);
      if (sent <= 0) break;
      pipe += sent;
    }
    return true;
  }

  /**
   * RFC 6675 5.1 / RFC 2018 8 as Linux tcp_timeout_mark_lost(): on an RTO the SACKed ranges
   * stay (the resend skips them) and only the lost marks go, unless SND.UNA is SACKed — the
   * receiver reneged: then the scoreboard is cleared and everything is resent. A path MTU
   * drop clears it too (`keepSacked` false).
   */
  onRetransmitTimeout(keepSacked: boolean): void {
    const board = this.board;
    if (board !== null) {
      if (!keepSacked) board.clear();
      else if (this.reneged()) {
        this.counters[C.tcp_sack_renegings]++;
        board.clear();
      } else board.forgetLost();
    }
    this.lostRetransmits?.clear();
  }

  /** The receiver reneged (RFC 2018 8): the byte at SND.UNA is SACKed, yet not cumulatively ACKed (Linux tcp_timeout_mark_lost's test). */
  protected reneged(): boolean {
    return this.board !== null && this.board.isSacked(this.snd.sndUna);
  }

  /** Go-back-N after an RTO (RACK overrides it with RFC 8985 6.3). */
  markLostOnRto(_now: number): void {}

  rtoResendLimit(): number {
    return -1;
  }

  /** The resend after an RTO skips what the peer SACKed (kept across the RTO, or SACKed since). */
  rtoResendStart(from: number): number {
    return this.board === null ? from : this.board.sackedEnd(from);
  }

  rtoResendEnd(from: number): number {
    const limit = this.rtoResendLimit();
    const end = limit < 0 ? this.snd.sndMax : limit;
    return this.board === null ? end : this.board.holeEnd(from, end);
  }

  /** Where a retransmission from `seq` stops: the next SACKed byte, or `end`. */
  holeEnd(seq: number, end: number): number {
    return this.board === null ? end : this.board.holeEnd(seq, end);
  }

  /** True if the peer SACKed byte `seq` (for the tail loss probe). */
  isSacked(seq: number): boolean {
    return this.board !== null && this.board.isSacked(seq);
  }

  /** RFC 8985 6.2 for a delivered probe: every unSACKed byte below `seq` is lost. */
  markLostBefore(seq: number): void {
    this.scoreboard().markLostBefore(seq);
  }
}
