/**
 * The loss recovery strategy of a sender, and the view of the sender it works through.
 * One strategy per connection, chosen when the handshake settles whether SACK is used:
 * ./newreno-recovery.ts (RFC 5681 3.2 fast retransmit on duplicate ACKs, RFC 6582 partial
 * ACKs) or ./sack-recovery.ts (RFC 6675 with the scoreboard, and lost-retransmission
 * detection). Tail loss probes (RFC 8985 7, ./tail-loss-probe.ts) work beside either when
 * SACK is on. ./rack.ts (RFC 8985 6, time-based marking over the same scoreboard) is the
 * third, and the default when SACK is negotiated (TcpConfig.recovery).
 *
 * The sender keeps the state every strategy shares (SND.UNA/NXT/MAX, the duplicate ACK
 * count of RFC 5681 2, whether recovery is on and its recovery point, RFC 6675 HighRxt)
 * and calls the strategy at each step of ACK processing and output; the strategy decides
 * what counts as a loss, what to retransmit and how much is in the network (pipe).
 * Nothing here allocates per ACK or per segment.
 */
import type { CongestionControl } from '../congestion/congestion-control.js';
import type { RttEstimator } from '../rtt-estimator.js';
import type { SenderTransmit } from '../sender.js';
import type { SendBuffer } from '../send-buffer.js';
import type { TcpTimers } from '../timers.js';

/** RFC 5681 3.2 / RFC 6675 DupThresh: duplicate ACKs (or SACKed segments) that signal a loss. */
export const DUP_THRESH = 3;

/** What a loss recovery strategy reads of its sender and asks it to send. */
export interface RecoverySender {
  readonly sndUna: number;
  readonly sndNxt: number;
  readonly sndMax: number;
  readonly sndWnd: number;
  readonly mss: number;
  readonly cc: CongestionControl;
  readonly rtt: RttEstimator;
  readonly buf: SendBuffer;
  /** The connection's timers (a strategy may own a slot: RACK's T_REORDER). */
  readonly timers: TcpTimers;
  readonly finSent: boolean;
  readonly finSeq: number;
  readonly inRecovery: boolean;
  /** An RTO's recovery is on until SND.UNA reaches SND.MAX as it was at the RTO (RFC 6582 4.1). */
  readonly inRtoRecovery: boolean;
  /** Consecutive retransmission timeouts without progress. */
  readonly retries: number;
  /** Duplicate ACKs (RFC 5681 2) since the last ACK of new data. */
  readonly dupAcks: number;
  /** RFC 6675 HighRxt: just past the highest byte retransmitted in this recovery. */
  readonly highRxt: number;
  /** The TSecr of the ACK being processed (ms clock; -1: none), for RFC 8985 6.2 step 2. */
  readonly ackTsEcr: number;
  /** Bytes sent and not yet acknowledged (FlightSize). */
  flight(): number;
  /** Bytes queued and never sent. */
  unsent(): number;
  /** Sends one new segment of at most `cwndRoom` bytes (within the peer's window); returns the bytes sent. */
  sendNew(now: number, out: SenderTransmit, cwndRoom: number): number;
  /** Sends new data while cwnd − pipe allows (the output of a sender not in recovery). */
  sendNewData(now: number, out: SenderTransmit): void;
  /** Retransmits the segment that starts at `seq`, up to the next SACKed byte (data, or the FIN if that is what is there). */
  retransmitAt(seq: number, now: number, out: SenderTransmit): void;
  /** Retransmits `len` bytes at `seq` and moves HighRxt past them; false if it could not go out. */
  retransmitRange(seq: number, len: number, now: number, out: SenderTransmit): boolean;
  /** Moves HighRxt up to `end`, past a retransmission still in flight (nothing is sent). */
  passRetransmitted(end: number): void;
}

/** A loss recovery strategy: the sender calls it at each step of ACK processing and output. */
export interface LossRecovery {
  /** Takes the SACK blocks of an ACK (count > 0) whose cumulative ACK is `ack`; returns the bytes newly SACKed (0: none, or no SACK). */
  onSackBlocks(blocks: Uint32Array, count: number, ack: number, now: number): number;
  /** Bytes reported by D-SACK blocks so far (RFC 2883; 0 without SACK). */
  dsackedBytes(): number;
  /** The cumulative ACK moved SND.UNA to `ack`. */
  onCumulativeAck(ack: number, now: number): void;
  /** Outside recovery, after a duplicate ACK was counted: is SND.UNA lost (start recovery)? */
  lossDetected(now: number): boolean;
  /** Recovery starts (before SND.UNA is retransmitted). */
  onEnterRecovery(): void;
  /**
   * The end of a retransmission covering byte `seq` that is still in flight and not found
   * lost, or `seq` when there is none. RACK judges every retransmission by time until it
   * is delivered (RFC 8985 6.2), also from one recovery to the next; such a retransmission
   * is not sent again by the start of a recovery or by NextSeg, as Linux skips its
   * SACKED_RETRANS segments. The other strategies forget retransmissions when a recovery
   * ends and always answer `seq` (RFC 6675's HighRxt alone says what was resent).
   */
  inFlightRetransmissionEnd(seq: number): number;
  /** RFC 6582 3.2 step 5: an ACK of new data below the recovery point. */
  onPartialAck(now: number, out: SenderTransmit): void;
  /** The recovery point was acknowledged: recovery is over. */
  onExitRecovery(): void;
  /** In recovery, after an ACK that acknowledged or SACKed data: repairs what it shows lost. */
  detectLoss(now: number, out: SenderTransmit): void;
  /** The sender retransmitted `len` bytes at `seq` (retransmitAt, retransmitRange). */
  onRetransmit(seq: number, len: number, now: number): void;
  /** The sender sent `len` bytes at `seq` from SND.NXT (new data, or data resent in order after an RTO). */
  onSent(seq: number, len: number, now: number): void;
  /**
   * The strategy's own timer (T_REORDER, RFC 8985 6.2's reorder timer) fired: true when it
   * marked data lost (the sender then starts recovery, or repairs within it).
   */
  onLossTimer(now: number): boolean;
  /** Bytes in the network by this strategy's estimate (RFC 6675 pipe). */
  pipe(): number;
  /**
   * Bytes above SND.UNA this strategy counts as delivered (SACKed, or one SMSS per
   * duplicate ACK without SACK): with the cumulative ACK, RFC 6937's DeliveredData.
   */
  deliveredAboveUna(): number;
  /** Sends what the windows allow during recovery; false when a segment could not go out (timers left as they are). */
  sendInRecovery(now: number, out: SenderTransmit): boolean;
  /**
   * The retransmission timer fired (`keepSacked`: an RTO; false: the path MTU dropped the
   * segments in flight): what was learned of losses is void; SACKed data stays SACKed on an
   * RTO unless the receiver reneged (SND.UNA SACKed: RFC 2018 8, Linux tcp_timeout_mark_lost).
   */
  onRetransmitTimeout(keepSacked: boolean): void;
  /**
   * After onRetransmitTimeout() for an RTO (not a path MTU drop): decides what of the
   * outstanding data is lost (RACK: RFC 8985 6.3; the others: all of it, go-back-N).
   */
  markLostOnRto(now: number): void;
  /**
   * While the sender resends from SND.NXT < SND.MAX after an RTO: the sequence number it
   * resends up to (what the strategy holds lost), or -1 when it resends everything up to
   * SND.MAX (go-back-N).
   */
  rtoResendLimit(): number;
  /** While resending after an RTO: the first byte at or after `from` to resend (SACKed bytes are skipped). */
  rtoResendStart(from: number): number;
  /** While resending after an RTO: where the resend from `from` (not SACKed) stops: the resend limit, SND.MAX, or the next SACKed byte. */
  rtoResendEnd(from: number): number;
  /** True if the peer SACKed byte `seq` (false without SACK). */
  isSacked(seq: number): boolean;
  /** Where a retransmission from `seq` (not SACKed) up to `end` stops: the next SACKed byte, or `end`. */
  holeEnd(seq: number, end: number): number;
}
