/**
 * The send half of a connection: SND.UNA/NXT/WND, the send buffer, what to send next
 * (new data under Nagle and the windows, FIN), ACK processing with RTT sampling and
 * duplicate-ACK counting, the retransmission timer and the persist timer. What counts as
 * a loss and what to retransmit in recovery is the loss recovery strategy's
 * (./recovery/: NewReno, or with SACK RACK (RFC 8985 6, the default) or RFC 6675, chosen
 * when the handshake settles SACK; tail loss probes beside it).
 *
 * RFC 9293 3.8.6.2.1 (sender SWS avoidance), 3.8.6.1 (zero-window probes), 3.10.7.4 (ACK
 * processing, SND.WL1/WL2 window update rule), RFC 5961 5.2 (ACKs too old), RFC 1122
 * 4.2.3.4 (Nagle; we use Minshall's variant as Linux does: hold a small segment only while
 * another small one is unacknowledged), RFC 6298 (RTO, Karn), RFC 7323 4 (RTT from
 * timestamps), RFC 5681 2 (duplicate ACKs), 3.2 (entering fast recovery), RFC 6582 3.2
 * (the recovery point; partial ACKs; no fast retransmit for data sent before an RTO),
 * RFC 6937 (how much is sent on each ACK in recovery: ./recovery/prr.ts sets cwnd),
 * RFC 3708 / RFC 3522 detection and RFC 4015 response for spurious fast recoveries and
 * RTOs (./recovery/retransmit-undo.ts).
 * After an RTO the sender goes back to SND.UNA (BSD's snd_max keeps the highest sequence
 * sent, so ACKs for data sent before the timeout are still acceptable) and resends the
 * holes, not what the peer SACKed (RFC 6675 5.1 with Linux's reneging test: decision 0041);
 * a cumulative ACK that stops at SACKed data brings the RTO forward (Linux
 * tcp_check_sack_reneging).
 *
 * State is private: the connection reads it through getters and changes it through the
 * methods named after what happened (negotiated, acceptSynAck, queueFin, ...). The
 * recovery strategies see it through RecoverySender.
 */
import { TCP_FIN, TCP_PSH } from '../wire/tcp.js';
import { C, type Counters } from '../base/counters.js';
import { createCongestionControl, type CongestionControl, type CongestionControlName } from './congestion/congestion-control.js';
import { DeliveryRateSampler } from './congestion/delivery-rate.js';
import type { LossRecovery, RecoverySender } from './recovery/loss-recovery.js';
import { NewRenoRecovery } from './recovery/newreno-recovery.js';
import { ProportionalRateReduction } from './recovery/prr.js';
import { RetransmitUndo, UNDO_FAST, UNDO_NONE } from './recovery/retransmit-undo.js';
import { RackRecovery } from './recovery/rack.js';
import { SackRecovery } from './recovery/sack-recovery.js';
import { TailLossProbe } from './recovery/tail-loss-probe.js';
import { RttEstimator } from './rtt-estimator.js';
import { SendBuffer } from './send-buffer.js';
import { expandedSendBuffer } from './send-buffer-tuning.js';
import { seqAdd, seqGeq, seqGt, seqLeq, seqLt, seqMax, seqSub } from './seq.js';
import { T_PERSIST, T_RTO, type TcpTimers } from './timers.js';
import { TE_RECOVERY_ENTER, TE_RECOVERY_EXIT, TE_RTO, TE_TLP } from './trace.js';

export { PTO_MIN_MS, WC_DEL_ACK_MS } from './recovery/tail-loss-probe.js';

/** Where the sender's segments go: the connection adds ACK, window and options. */
export interface SenderTransmit {
  /** Sends `len` bytes at send-buffer offset `dataOffset` with sequence `seq` and extra flags (FIN, PSH). */
  transmitData(seq: number, flags: number, dataOffset: number, len: number, now: number): boolean;
  /** Sends a zero-window probe (an ACK with SEG.SEQ = SND.UNA − 1, Linux's tcp_xmit_probe_skb). */
  transmitProbe(now: number): void;
  /** Largest payload of one segment now: a TSO super-segment when the device segments, else the MSS. */
  maxPayload(now: number): number;
  /** Records a sender event in the connection's trace (../trace.ts TE_*: RTO, recovery entry and exit, loss probe). */
  traceEvent(kind: number, aux: number, seq: number, ack: number, now: number): void;
  /**
   * True while a cwnd reduction made in answer to congestion (an ECN echo, ./ecn.ts) holds
   * for the window in flight, SND.UNA not yet past it: a loss found within that window gets
   * no second reduction (RFC 3168 6.1.2, once per window of data).
   */
  reductionInForce(sndUna: number): boolean;
}

/** Outcome of ACK processing. */
export const ACK_OK = 0, ACK_UNSENT = 1, ACK_TOO_OLD = 2;

/** SACK blocks of an ACK that carries none. */
const NO_SACK_BLOCKS = new Uint32Array(0);
/** Least wait (ms) before the RTO when the cumulative ACK stops at SACKed data (Linux tcp_check_sack_reneging: 10 ms). */
const RENEGING_RTO_MIN_MS = 10;
/** Most segments one output call sends outside SACK recovery (a bound, not a limit reached in practice). */
const MAX_SENDS_PER_OUTPUT = 10_000;
/** Least cwnd, in segments, at which new data in recovery leaves in super-segments (of at most cwnd / 8). */
export const RECOVERY_SUPER_SEGMENT_MIN = 64;

/** Send-side state of one connection. */
export class TcpSender implements RecoverySender {
  /*
   * Sequence numbers live in `…I32` fields as int32 (see seq.ts) and are read as
   * uint32 through accessors: a field that ever holds a number above 2^31 becomes a
   * boxed double in every connection (16 bytes each), an int32 field stays inside the
   * object.
   */
  #issI32 = 0;
  #sndUnaI32 = 0;
  #sndNxtI32 = 0;
  /** Highest sequence number sent plus one (snd_max). */
  #sndMaxI32 = 0;
  /** The peer's window in bytes (already scaled, ≤ 2^30), and the update bookkeeping. */
  #sndWndI32 = 0;
  #sndWl1I32 = 0;
  #sndWl2I32 = 0;
  /** The largest window the peer has offered (≤ 2^30, held as a small integer). */
  #maxSndWnd = 0;
  /** The peer's window scale shift. */
  #wscale = 0;
  /** Payload bytes per segment (after options). */
  #mss = 536;
  readonly buf: SendBuffer;
  /** The application asked to close its sending side; the FIN's sequence number once sent. */
  #finQueued = false;
  #finSent = false;
  #finSeqI32 = 0;
  private nodelay = false;
  /** End of the last small (< MSS) segment sent: Minshall's Nagle holds while it is unacked. */
  #smallEndI32 = 0;
  /** Segment-timed RTT sample when timestamps are off: the sequence number timed, while rttTiming. */
  #rttSeqI32 = 0;
  private rttTiming = false;
  private rttStart = 0;
  readonly rtt = new RttEstimator();
  #cc: CongestionControl;
  /** The loss recovery strategy: NewReno until SACK is negotiated. */
  private recovery: LossRecovery;

  /** The loss recovery strategy in use (for /connections). */
  get lossRecovery(): LossRecovery {
    return this.recovery;
  }
  /** The SACK strategy (RFC 6675, or RACK over the same scoreboard) when SACK was negotiated (the probe reads its scoreboard). */
  private sackRecovery: SackRecovery | null = null;
  /** Tail loss probes may be sent (TcpConfig.tailLossProbe and SACK). */
  private tlpOn = false;
  /** RFC 8985 7: made when a probe is first armed (idle connections have none). */
  private tlp: TailLossProbe | null = null;
  /** RFC 6937: what fast recovery may send on each ACK; made at the first recovery. */
  private prr: ProportionalRateReduction | null = null;
  /** RFC 3708 / RFC 3522: undo of a spurious fast recovery or RTO; made at the first of either. */
  private undo: RetransmitUndo | null = null;
  /** Delivery-rate samples for a model-based controller (BBR); null for the others. */
  private readonly rate: DeliveryRateSampler | null = null;
  /** In fast recovery until SND.UNA reaches the recovery point (RFC 6582 `recover`). */
  #inRecovery = false;
  /** After an RTO until SND.UNA reaches the recovery point (Linux's CA_Loss): no fast recovery then. */
  #inRtoRecovery = false;
  #recoverPointI32 = 0;
  /** RFC 6675 HighRxt. */
  #highRxtI32 = 0;
  /** Duplicate ACKs since the last ACK of new data. */
  #dupAcks = 0;
  /** Consecutive RTOs without progress. */
  #retries = 0;
  /** Zero-window probe backoff exponent. */
  #probes = 0;
  #ackTsEcr = -1;
  /** Set while the persist timer overrides sender SWS avoidance (RFC 9293 3.8.6.2.1). */
  private swsOverride = false;
  /** RFC 3168 6.1.2: after an ECN echo at a one-segment cwnd, no new data before this time (-1: none). */
  private ecnWaitUntil = -1;

  private get sndWl1(): number {
    return this.#sndWl1I32 >>> 0;
  }

  private set sndWl1(v: number) {
    this.#sndWl1I32 = v | 0;
  }

  private get sndWl2(): number {
    return this.#sndWl2I32 >>> 0;
  }

  private set sndWl2(v: number) {
    this.#sndWl2I32 = v | 0;
  }

  private get smallEnd(): number {
    return this.#smallEndI32 >>> 0;
  }

  private set smallEnd(v: number) {
    this.#smallEndI32 = v | 0;
  }

  private get rttSeq(): number {
    return this.#rttSeqI32 >>> 0;
  }

  private set rttSeq(v: number) {
    this.#rttSeqI32 = v | 0;
  }

  private get recoverPoint(): number {
    return this.#recoverPointI32 >>> 0;
  }

  private set recoverPoint(v: number) {
    this.#recoverPointI32 = v | 0;
  }

  /**
   * @param tlpEnabled RFC 8985 7 tail loss probes (TcpConfig.tailLossProbe; they need SACK too)
   */
  constructor(
    sendBuffer: number,
    private readonly ccName: CongestionControlName,
    private readonly tlpEnabled: boolean,
    readonly timers: TcpTimers,
    private readonly counters: Counters,
    /** Most the send buffer grows to (TcpConfig.sendBufferMax; at or below sendBuffer: it does not grow). */
    private readonly sendBufferMax = sendBuffer,
  ) {
    this.buf = new SendBuffer(sendBuffer);
    this.#cc = createCongestionControl(ccName, this.#mss);
    this.rate = this.#cc.onRateSample !== undefined ? new DeliveryRateSampler() : null;
    this.recovery = new NewRenoRecovery(this);
  }

  /** Our ISN. */
  get iss(): number {
    return this.#issI32 >>> 0;
  }

  private set iss(v: number) {
    this.#issI32 = v | 0;
  }

  /** SND.UNA: the oldest unacknowledged sequence number. */
  get sndUna(): number {
    return this.#sndUnaI32 >>> 0;
  }

  private set sndUna(v: number) {
    this.#sndUnaI32 = v | 0;
  }

  /** SND.NXT: the next sequence number to send (rewound to SND.UNA by an RTO). */
  get sndNxt(): number {
    return this.#sndNxtI32 >>> 0;
  }

  private set sndNxt(v: number) {
    this.#sndNxtI32 = v | 0;
  }

  /** The highest sequence number sent plus one (BSD snd_max). */
  get sndMax(): number {
    return this.#sndMaxI32 >>> 0;
  }

  private set sndMax(v: number) {
    this.#sndMaxI32 = v | 0;
  }

  /** SND.WND: the peer's window in bytes (scaled). */
  get sndWnd(): number {
    return this.#sndWndI32;
  }

  private set sndWnd(v: number) {
    this.#sndWndI32 = v | 0;
  }

  /** The peer's window scale shift (RFC 7323 2). */
  get wscale(): number {
    return this.#wscale;
  }

  /** Payload bytes per segment (the negotiated MSS less options). */
  get mss(): number {
    return this.#mss;
  }

  /** The application closed its sending side: a FIN follows the queued data. */
  get finQueued(): boolean {
    return this.#finQueued;
  }

  /** Our FIN has been sent (finSeq is its sequence number). */
  get finSent(): boolean {
    return this.#finSent;
  }

  /** Sequence number of our FIN (once finSent). */
  get finSeq(): number {
    return this.#finSeqI32 >>> 0;
  }

  private set finSeq(v: number) {
    this.#finSeqI32 = v | 0;
  }

  /** The congestion controller (replaced when the MSS is set). */
  get cc(): CongestionControl {
    return this.#cc;
  }

  /** In fast recovery (RFC 5681 3.2 / RFC 6582 / RFC 6675) until the recovery point is ACKed. */
  get inRecovery(): boolean {
    return this.#inRecovery;
  }

  /**
   * RFC 6582 3.2 step 1 / 4.1, RFC 6675 5.1: an RTO's recovery is on (SND.UNA has not reached
   * SND.MAX as it was at the RTO); duplicate ACKs for data sent before it start no fast
   * recovery.
   */
  get inRtoRecovery(): boolean {
    return this.#inRtoRecovery;
  }

  /** Consecutive retransmission timeouts without progress. */
  get retries(): number {
    return this.#retries;
  }

  /** Zero-window probes sent since the window was last open. */
  get probes(): number {
    return this.#probes;
  }

  /** Duplicate ACKs (RFC 5681 2) since the last ACK of new data. */
  get dupAcks(): number {
    return this.#dupAcks;
  }

  /** RFC 6675 HighRxt: just past the highest byte retransmitted in this recovery. */
  get highRxt(): number {
    return this.#highRxtI32 >>> 0;
  }

  private set highRxt(v: number) {
    this.#highRxtI32 = v | 0;
  }

  /** The TSecr of the ACK being processed (ms clock; -1: none): RACK tells a retransmission's ACK from the original's by it. */
  get ackTsEcr(): number {
    return this.#ackTsEcr;
  }

  /** A tail loss probe, not an RTO, is what the T_RTO slot holds now (RFC 8985 7.2). */
  get lossProbeArmed(): boolean {
    return this.tlp !== null && this.tlp.armed;
  }

  /**
   * Changes the payload size per segment and keeps the congestion state (the path changed,
   * not the load on it): cwnd stays in bytes, segments are cut at the new size.
   */
  changeMss(mss: number): void {
    this.#mss = Math.max(64, mss);
    this.#cc.mss = this.#mss;
  }

  /**
   * The path MTU went below the segments in flight (RFC 1191 6.4, Linux
   * tcp_simple_retransmit): they were dropped on the way, not by congestion. The MSS goes
   * down and everything from SND.UNA is sent again at the new size on the next output,
   * with no congestion response and no backoff; SACK state is forgotten (the segments it
   * describes are gone) and nothing sent so far is timed (Karn).
   */
  pathMtuReduced(mss: number, now: number): void {
    this.changeMss(mss);
    if (this.sndUna === this.sndMax) return;
    this.#inRecovery = false;
    this.#dupAcks = 0;
    this.recovery.onRetransmitTimeout(false);
    if (this.tlp !== null) {
      this.tlp.onRetransmitTimeout();
      this.tlp.armed = false;
    }
    this.rttTiming = false;
    this.sndNxt = this.sndUna;
    this.highRxt = this.sndUna;
    this.smallEnd = this.sndUna;
    this.recoverPoint = this.sndMax;
    this.timers.set(T_RTO, now + this.rtt.rto);
  }

  /** Sets the payload size per segment and restarts congestion control with it. */
  setMss(mss: number): void {
    this.#mss = Math.max(64, mss);
    this.#cc = createCongestionControl(this.ccName, this.#mss);
  }

  /**
   * The options of the handshake are settled: the payload per segment (RFC 6691; the
   * MSS less the timestamp option when timestamps are on), the peer's window scale shift
   * (0 without scaling, RFC 7323 2.2), whether SACK is used (RFC 2018) and, if so, the
   * loss recovery with it (TcpConfig.recovery: RACK, RFC 8985 6, or RFC 6675).
   */
  negotiated(mss: number, wscale: number, sackOk: boolean, sackRecovery: 'rack' | 'rfc6675' = 'rack'): void {
    if (!sackOk) this.sackRecovery = null;
    else if (sackRecovery === 'rack') this.sackRecovery = new RackRecovery(this, this.counters);
    else this.sackRecovery = new SackRecovery(this, this.counters);
    this.recovery = this.sackRecovery ?? new NewRenoRecovery(this);
    this.tlpOn = this.tlpEnabled && sackOk;
    this.#wscale = wscale;
    this.setMss(mss);
  }

  /** Disables (true) or enables (false) Nagle's algorithm (RFC 1122 4.2.3.4). */
  setNoDelay(noDelay: boolean): void {
    this.nodelay = noDelay;
  }

  /** The application closed its sending side: the FIN goes after the queued data. */
  queueFin(): void {
    this.#finQueued = true;
  }

  /**
   * Our SYN is acknowledged by `ack` outside onAck() (a SYN cookie's final ACK, or a
   * SYN-ACK in SYN_RECEIVED after a simultaneous open): SND.UNA moves to it and the
   * window is taken (unscaled when `windowFromSyn`).
   */
  synAcknowledged(seq: number, ack: number, rawWindow: number, windowFromSyn: boolean): void {
    this.sndUna = ack;
    this.setWindow(seq, ack, rawWindow, windowFromSyn);
  }

  /**
   * RFC 9293 3.10.7.3: the SYN-ACK of our active open (the caller checked its ACK). It
   * acknowledges our SYN like any ACK; its window is never scaled (RFC 7323 2.2), so it
   * does not count as the largest window seen either (that would hold back sender SWS).
   */
  acceptSynAck(seq: number, ack: number, rawWindow: number, tsEcrMs: number, now: number, out: SenderTransmit): void {
    this.onAck(seq, ack, rawWindow, 0, false, NO_SACK_BLOCKS, 0, tsEcrMs, now, out);
    this.#maxSndWnd = 0;
    this.setWindow(seq, ack, rawWindow, true);
  }

  /**
   * RFC 6298 5.5 for the SYN (or SYN-ACK): one more timeout. Returns false once more than
   * `maxRetries` have passed (the caller gives up), else backs off the RTO.
   */
  onSynTimeout(maxRetries: number): boolean {
    this.#retries++;
    // Counted among the RTOs (as Linux's TCPTimeouts) and apart, so that a handshake's loss
    // can be told from a data RTO.
    this.counters[C.tcp_rto_timeouts]++;
    this.counters[C.tcp_syn_timeouts]++;
    if (this.#retries > maxRetries) return false;
    this.rtt.backoff();
    return true;
  }

  /**
   * Send-buffer autotuning (./send-buffer-tuning.ts), for an ACK that came while the
   * application waited for room: the buffer grows towards 2 × cwnd when what it holds
   * (in flight and unsent) is below cwnd (Linux tcp_new_space).
   */
  expandSendBuffer(): void {
    const b = this.buf;
    b.capacity = expandedSendBuffer(b.capacity, this.#cc.cwnd, b.length, this.sendBufferMax);
  }

  /** Bytes sent and not yet acknowledged (excluding a FIN). */
  flight(): number {
    return Math.max(0, seqSub(this.sndNxt, this.sndUna) - (this.#finSent && seqGt(this.sndNxt, this.finSeq) ? 1 : 0));
  }

  /** Data bytes queued but not yet sent. */
  unsent(): number {
    return this.buf.length - Math.min(this.buf.length, Math.max(0, seqSub(this.sndNxt, this.sndUna)));
  }

  /** True when everything including our FIN (if any) is acknowledged. */
  allAcked(): boolean {
    return this.sndUna === this.sndMax;
  }

  /** True when our FIN has been sent and acknowledged. */
  finAcked(): boolean {
    return this.#finSent && seqGt(this.sndUna, this.finSeq);
  }

  /** Starts the sequence space at our ISN (the SYN is sent by the connection). */
  start(iss: number): void {
    this.iss = iss;
    this.sndUna = iss;
    this.sndNxt = seqAdd(iss, 1);
    this.sndMax = this.sndNxt;
    this.smallEnd = iss;
  }

  /** Takes the window from the SYN (never scaled) or later segments (RFC 7323 2.2). */
  setWindow(seq: number, ack: number, rawWindow: number, isSyn: boolean): void {
    this.sndWnd = isSyn ? rawWindow : rawWindow * (1 << this.#wscale);
    this.sndWl1 = seq;
    this.sndWl2 = ack;
    if (this.sndWnd > this.#maxSndWnd) this.#maxSndWnd = this.sndWnd;
  }

  /**
   * Linux tcp_disordered_ack() conditions 2 and 3 for a pure ACK PAWS would drop: it
   * acknowledges exactly SND.UNA, and would not update the send window
   * (tcp_may_update_window(): not a later SEG.SEQ than SND.WL1; at SND.WL1, neither a
   * larger window nor a zero one). `rawWindow` is the segment's window field (unscaled).
   */
  isDisorderedAck(seq: number, ack: number, rawWindow: number): boolean {
    if (seqSub(ack, this.sndUna) !== 0 || seqGt(seq, this.sndWl1)) return false;
    const wnd = rawWindow * (1 << this.wscale);
    return seqSub(seq, this.sndWl1) !== 0 || (wnd <= this.sndWnd && wnd !== 0);
  }

  /**
   * Processes the acknowledgment fields of an acceptable segment (RFC 9293 3.10.7.4,
   * fifth check). `tsEcr` is the echoed timestamp (ms clock) or -1. `rawWindow` -1: the
   * segment's window is not taken (a reordered ACK PAWS let through, isDisorderedAck()).
   * Returns ACK_OK, or ACK_UNSENT (acknowledges data never sent: the caller ACKs and
   * drops) / ACK_TOO_OLD.
   */
  onAck(
    seq: number, ack: number, rawWindow: number, segDataLen: number, isDupCandidate: boolean,
    sackBlocks: Uint32Array, sackCount: number, tsEcrMs: number, now: number,
    out: SenderTransmit,
  ): number {
    if (seqGt(ack, this.sndMax)) return ACK_UNSENT;
    if (seqLt(ack, seqSub(this.sndUna, 0) - this.#maxSndWnd) && seqLt(ack, this.sndUna) && seqSub(this.sndUna, ack) > Math.max(this.#maxSndWnd, 65535)) {
      return ACK_TOO_OLD; // RFC 5961 5.2: older than the window we could have sent
    }
    const oldWnd = this.sndWnd;
    this.#ackTsEcr = tsEcrMs;
    if (rawWindow >= 0 && (seqLt(this.sndWl1, seq) || (this.sndWl1 === seq && seqLeq(this.sndWl2, ack)))) {
      this.setWindow(seq, ack, rawWindow, false);
      if (this.sndWnd > 0) {
        this.#probes = 0;
        this.timers.clear(T_PERSIST);
      }
    }
    const deliveredBefore = this.recovery.deliveredAboveUna();
    this.prr?.beginAck();
    const dsackedBefore = this.recovery.dsackedBytes();
    const newlySacked = sackCount > 0 ? this.recovery.onSackBlocks(sackBlocks, sackCount, ack, now) : 0;
    if (this.undo !== null) {
      const dsack = this.recovery.dsackedBytes() > dsackedBefore; // the first block was a D-SACK
      const undone = this.undo.onAck(dsack ? sackBlocks[0] : 0, dsack ? sackBlocks[1] : 0, ack, tsEcrMs);
      if (undone !== UNDO_NONE) this.undoReduction(undone, ack, now, out);
    }

    if (seqGt(ack, this.sndUna)) {
      const flightBefore = this.flight();
      let acked = seqSub(ack, this.sndUna);
      if (this.sndUna === this.iss) acked--; // our SYN
      const dataAcked = Math.min(Math.max(0, acked), this.buf.length);
      this.buf.ack(dataAcked);
      this.sndUna = ack;
      if (seqLt(this.sndNxt, ack)) this.sndNxt = ack;
      if (seqLt(this.highRxt, ack)) this.highRxt = ack;
      if (this.#inRtoRecovery && seqGeq(ack, this.recoverPoint)) this.#inRtoRecovery = false;
      this.recovery.onCumulativeAck(ack, now);
      this.#retries = 0;
      // RTT: timestamps give a sample on every ACK of new data (RFC 7323 4.1); otherwise
      // one timed segment at a time, never a retransmitted one (Karn).
      if (tsEcrMs >= 0) {
        this.rtt.sample(Math.max(0, now - tsEcrMs));
      } else if (this.rttTiming && seqGt(ack, this.rttSeq)) {
        this.rtt.sample(now - this.rttStart);
        this.rttTiming = false;
      }
      if (this.#inRecovery) {
        if (seqGeq(ack, this.recoverPoint)) {
          this.#inRecovery = false;
          this.#dupAcks = 0;
          this.recovery.onExitRecovery();
          this.#cc.onRecoveryEnd(now);
          out.traceEvent(TE_RECOVERY_EXIT, 0, ack, this.recoverPoint, now);
        } else {
          // Partial ACK (RFC 6582 3.2 step 5): the next hole is lost too.
          this.counters[C.tcp_partial_acks]++;
          this.#dupAcks = 0;
          this.recovery.onPartialAck(now, out);
        }
      } else {
        this.#dupAcks = 0;
        this.#cc.onAck(dataAcked, now, this.rtt.srtt, flightBefore);
      }
      if (this.tlp !== null) {
        this.tlp.onCumulativeAck(ack);
        if (this.tlp.lossRevealed()) this.enterRecovery(now, out);
      }
      if (this.#inRecovery) {
        this.recovery.detectLoss(now, out);
        this.reduceCwnd(dataAcked + this.recovery.deliveredAboveUna() - deliveredBefore);
      } else if (this.resendingLost()) {
        this.recovery.detectLoss(now, out);
      }
      if (this.rate !== null) this.sampleRate(ack, sackBlocks, sackCount, dataAcked + this.recovery.deliveredAboveUna() - deliveredBefore, now);
      if (this.sndUna === this.sndMax) {
        // Nothing outstanding: no RTO, unless the slot holds the wait after an ECN echo.
        if (this.ecnWaitUntil >= 0) this.timers.set(T_RTO, this.ecnWaitUntil);
        else this.timers.clear(T_RTO);
        if (this.tlp !== null) this.tlp.armed = false;
      } else if (!this.#inRecovery || !this.timers.armed(T_RTO) || this.lossProbeArmed) {
        this.armRetransmit(now);
      } else {
        this.timers.set(T_RTO, now + this.rtt.rto);
      }
      if (seqSub(this.sndMax, this.sndUna) !== 0 && this.recovery.isSacked(ack)) this.renegingSuspected(now);
      return ACK_OK;
    }
    // ack == SND.UNA: a duplicate ACK (RFC 5681 2) when it carries no data, does not change
    // the window, and data is outstanding; with SACK, new SACK information also counts.
    if (
      ack === this.sndUna && segDataLen === 0 && isDupCandidate && this.flight() > 0 &&
      (this.sndWnd === oldWnd || newlySacked > 0)
    ) {
      this.#dupAcks++;
      if (!this.#inRecovery && this.recovery.lossDetected(now)) this.enterRecovery(now, out);
    }
    if (newlySacked > 0) {
      if (this.tlp !== null && this.tlp.lossRevealed()) this.enterRecovery(now, out);
      if (this.#inRecovery || this.resendingLost()) this.recovery.detectLoss(now, out);
    }
    if (this.#inRecovery) this.reduceCwnd(this.recovery.deliveredAboveUna() - deliveredBefore);
    if (this.rate !== null && newlySacked > 0) this.sampleRate(ack, sackBlocks, sackCount, this.recovery.deliveredAboveUna() - deliveredBefore, now);
    return ACK_OK;
  }

  /**
   * A delivery-rate sample (draft-cheng-iccrg-delivery-rate-estimation 3.3) for the
   * model-based controller: `delivered` bytes newly ACKed or SACKed, the highest of them at
   * the cumulative ACK or the top SACK block above it. The controller hears of every ACK
   * that delivered data, with rs.valid false when it gave no sample.
   */
  private sampleRate(ack: number, sackBlocks: Uint32Array, sackCount: number, delivered: number, now: number): void {
    const rate = this.rate;
    const cc = this.#cc;
    if (rate === null || cc.onRateSample === undefined) return;
    let top = ack;
    for (let i = 0; i < sackCount; i++) {
      const end = sackBlocks[2 * i + 1];
      if (seqGt(end, top)) top = end;
    }
    // Every ACK that delivered data reaches the controller, with a sample or without one
    // (data resent after an RTO gives none): cwnd grows by what is delivered either way,
    // as Linux's bbr_main calls bbr_set_cwnd on every ACK.
    const valid = rate.onAck(ack, top, delivered > 0 ? delivered : 0, now);
    if (valid || delivered > 0) cc.onRateSample(rate.sample, delivered > 0 ? delivered : 0, this.recovery.pipe(), this.#inRecovery, now);
  }

  /**
   * RFC 3708 / RFC 3522 detection, RFC 4015 2 response: the episode's retransmissions were
   * spurious (all D-SACKed, or Eifel judged the first one): cwnd and ssthresh as before it
   * (Linux tcp_undo_cwnd_reduction; a controller's other state, such as CUBIC's W_max, is
   * not restored). A fast recovery still on ends here (Linux tcp_try_keep_open), without
   * the controller's deflation to ssthresh.
   */
  private undoReduction(kind: number, ack: number, now: number, out: SenderTransmit): void {
    const undo = this.undo;
    if (undo === null) return;
    this.counters[kind === UNDO_FAST ? C.tcp_fast_retransmit_undos : C.tcp_rto_undos] += undo.recoveries;
    if (undo.eifelDetected) this.counters[C.tcp_eifel_undos] += undo.recoveries;
    if (this.#cc.cwnd < undo.priorCwnd) this.#cc.cwnd = undo.priorCwnd;
    if (this.#cc.ssthresh < undo.priorSsthresh) this.#cc.ssthresh = undo.priorSsthresh;
    if (kind !== UNDO_FAST) this.#inRtoRecovery = false; // the RTO was spurious: back to the open state
    if (kind === UNDO_FAST && this.#inRecovery) {
      this.#inRecovery = false;
      this.#dupAcks = 0;
      this.recovery.onExitRecovery();
      out.traceEvent(TE_RECOVERY_EXIT, 1, ack, this.recoverPoint, now);
    }
  }

  /**
   * Linux tcp_check_sack_reneging(): the cumulative ACK stopped at a byte the peer SACKed,
   * which a receiver that still held it would have acknowledged: it may have reneged (RFC
   * 2018 8). The RTO comes max(SRTT / 2, 10 ms) from now (unless sooner), a little time
   * for ACKs that would clear the doubt; at the RTO SND.UNA still SACKed clears the
   * scoreboard and everything is resent (the strategy's onRetransmitTimeout).
   */
  private renegingSuspected(now: number): void {
    const at = now + Math.max(this.rtt.srtt / 2, RENEGING_RTO_MIN_MS);
    if (this.lossProbeArmed) (this.tlp as TailLossProbe).armed = false;
    else if (this.timers.armed(T_RTO) && this.timers.deadline(T_RTO) <= at) return;
    this.timers.set(T_RTO, at);
  }

  /**
   * (Re)arms the T_RTO slot after new data was ACKed or sent: a probe timeout when a tail
   * loss probe may be sent and it comes first (RFC 8985 7.2), else the RTO (RFC 6298 5.3).
   */
  private armRetransmit(now: number): void {
    const rtoAt = now + this.rtt.rto;
    const tlp = this.tlpOn && this.sackRecovery !== null ? (this.tlp ??= new TailLossProbe(this, this.sackRecovery, this.counters)) : null;
    const pto = tlp === null ? -1 : tlp.timeout();
    if (tlp !== null && pto >= 0 && now + pto < rtoAt) {
      this.timers.set(T_RTO, now + pto);
      tlp.armed = true;
      return;
    }
    this.timers.set(T_RTO, rtoAt);
    if (tlp !== null) {
      tlp.armed = false;
      // Refused only for the worst-case delayed ACK of a lone segment: new data sent on
      // this ACK may make more than one segment outstanding (armTimers looks again).
      tlp.recheckAfterSend = pto >= 0 && this.flight() <= this.#mss;
    }
  }

  /**
   * RFC 6937 3 on an ACK in recovery that delivered `delivered` bytes: cwnd = pipe +
   * sndcnt, which output() then sends. An ACK that delivered nothing leaves cwnd as it is
   * (Linux's tcp_cwnd_reduction): what a loss marked since took out of pipe may then be
   * sent again. PRR-SSRB applies on every ACK, as RFC 6937 has it: 6937bis and Linux keep
   * the + SMSS for ACKs that advance SND.UNA without new losses, which needs the explicit
   * loss marking of RACK (RFC 8985) to tell, and without it cost RTOs in tiny windows
   * (docs/decisions/0028-prr.md).
   */
  private reduceCwnd(delivered: number): void {
    const prr = this.prr;
    if (delivered <= 0 || prr === null) return;
    const pipe = this.recovery.pipe();
    const sndcnt = prr.sendCount(delivered, true, pipe, this.#cc.ssthresh, this.#mss);
    if (prr.boundBySsrb) this.counters[C.tcp_prr_ssrb_acks]++;
    this.#cc.cwnd = pipe + sndcnt;
  }

  /**
   * RFC 5681 3.2 steps 2–4 (RFC 6675 5 with SACK): fast retransmit of SND.UNA; ssthresh
   * from the controller, and PRR (RFC 6937) starts with RecoverFS = pipe.
   */
  private enterRecovery(now: number, out: SenderTransmit): void {
    if (this.tlp !== null && this.tlp.armed) {
      this.tlp.armed = false;
      this.timers.set(T_RTO, now + this.rtt.rto);
    }
    this.#inRecovery = true;
    (this.undo ??= new RetransmitUndo()).onFastRecovery(this.#cc.cwnd, this.#cc.ssthresh, this.sndUna, this.sndMax, now, this.rtt.srtt);
    this.recovery.onEnterRecovery();
    (this.prr ??= new ProportionalRateReduction()).start(this.recovery.pipe());
    this.recoverPoint = this.sndMax;
    // RFC 3168 6.1.2: a loss in the window an ECN echo already halved cwnd for is the same
    // congestion; recovery goes on (retransmissions, PRR towards that ssthresh) without a
    // second reduction.
    if (out.reductionInForce(this.sndUna)) this.counters[C.tcp_ecn_loss_in_reduced_window]++;
    else this.#cc.onCongestionEvent(now, this.flight());
    this.counters[C.tcp_fast_retransmits]++;
    out.traceEvent(TE_RECOVERY_ENTER, this.#dupAcks, this.sndUna, this.recoverPoint, now);
    // RFC 6675 5 (2): HighRxt = SND.UNA, and (4.2) SND.UNA's segment goes again. With RACK a
    // recovery may end while its retransmissions of data sent after its recovery point are
    // still in flight (6.2 marks those lost within it), and the next one starts at once,
    // for they are still marked lost. Those are not sent again: RACK resends one only when
    // it is found lost (Linux skips its SACKED_RETRANS segments); NextSeg goes past them.
    this.highRxt = this.sndUna;
    const past = this.recovery.inFlightRetransmissionEnd(this.sndUna);
    if (past === this.sndUna) this.retransmitAt(this.sndUna, now, out);
    else this.highRxt = past;
  }

  /** RecoverySender: HighRxt moves past a retransmission still in flight. */
  passRetransmitted(end: number): void {
    if (seqGt(end, this.highRxt)) this.highRxt = end;
  }

  /** Counts `bytes` sent during recovery for PRR (RFC 6937 prr_out). */
  private prrSent(bytes: number): void {
    if (this.#inRecovery && this.prr !== null) this.prr.onSent(bytes);
  }

  /** Counts `len` bytes retransmitted at `seq` (for PRR in recovery and for the undo). */
  private retransmitted(seq: number, len: number, now: number): void {
    this.prrSent(len);
    this.undo?.onRetransmit(seq, len, now);
  }

  /**
   * Retransmits one segment starting at `seq` (data, or the FIN if that is what is there),
   * only up to the next SACKed byte: a hole shorter than SMSS (the tail of a TSO chunk) is
   * resent alone, not with SACKed data after it, which the receiver would report in a
   * D-SACK that says nothing of the hole.
   */
  retransmitAt(seq: number, now: number, out: SenderTransmit): void {
    const off = seqSub(seq, this.sndUna);
    const avail = this.buf.length - off;
    this.rttTiming = false; // Karn: never time a retransmission
    if (avail > 0) {
      const full = Math.min(this.#mss, avail);
      const len = seqSub(this.recovery.holeEnd(seq, seqAdd(seq, full)), seq);
      const fin = this.#finSent && seqAdd(seq, len) === this.finSeq && len === avail ? TCP_FIN : 0;
      if (out.transmitData(seq, fin | TCP_PSH, off, len, now)) {
        this.counters[C.tcp_retransmits]++;
        this.recovery.onRetransmit(seq, len, now);
        this.retransmitted(seq, len, now);
        const end = seqAdd(seq, len + (fin ? 1 : 0));
        if (seqGt(end, this.highRxt)) this.highRxt = end;
      }
    } else if (this.#finSent && seq === this.finSeq) {
      if (out.transmitData(seq, TCP_FIN, off, 0, now)) this.counters[C.tcp_retransmits]++;
      this.highRxt = seqAdd(seq, 1);
    }
    if (!this.timers.armed(T_RTO)) this.timers.set(T_RTO, now + this.rtt.rto);
  }

  /** tcp_retransmits counts segments, as Linux's RetransSegs: a super-segment of `len` bytes is ⌈len / MSS⌉. */
  private countRetransmitted(len: number): void {
    this.counters[C.tcp_retransmits] += len > this.#mss ? Math.ceil(len / this.#mss) : 1;
  }

  /** Retransmits `len` bytes of data at `seq` (RFC 6675 NextSeg's choice); HighRxt moves past them. */
  retransmitRange(seq: number, len: number, now: number, out: SenderTransmit): boolean {
    if (!out.transmitData(seq, TCP_PSH, seqSub(seq, this.sndUna), len, now)) return false;
    this.countRetransmitted(len);
    this.recovery.onRetransmit(seq, len, now);
    this.retransmitted(seq, len, now);
    this.highRxt = seqAdd(seq, len);
    return true;
  }

  /**
   * Sends what the windows allow: in recovery, as the strategy decides (lost segments
   * first with SACK); otherwise new data under Nagle/SWS rules, then FIN. Arms the RTO or
   * persist timer as needed.
   */
  output(now: number, out: SenderTransmit): void {
    if (this.#inRecovery) {
      const sent = this.recovery.sendInRecovery(now, out);
      this.prr?.outputDone();
      if (!sent) return;
    } else {
      this.sendNewData(now, out);
    }
    this.armTimers(now);
  }

  /** Sends new data (and FIN) while cwnd − pipe allows. */
  sendNewData(now: number, out: SenderTransmit): void {
    let guard = 0;
    while (guard++ < MAX_SENDS_PER_OUTPUT) {
      const cwndRoom = this.#cc.cwnd - this.recovery.pipe();
      if (this.sendNew(now, out, cwndRoom) <= 0) break;
    }
    // Nothing left to send with room in cwnd: what is in flight now is application-limited.
    if (this.rate !== null && this.unsent() === 0 && this.#cc.cwnd - this.recovery.pipe() >= this.#mss) this.rate.markAppLimited(this.recovery.pipe());
  }

  /** Sends one new segment within `cwndRoom`; returns bytes sent (0: nothing to send now). */
  sendNew(now: number, out: SenderTransmit, cwndRoom: number): number {
    if (this.ecnWaitUntil >= 0) {
      if (now < this.ecnWaitUntil) return 0;
      this.ecnWaitUntil = -1;
    }
    // Resending after an RTO: the holes only, SACKed data skipped (kept across the RTO,
    // or SACKed since: RFC 6675 5.1, Linux tcp_timeout_mark_lost), in order up to what the
    // strategy holds lost (RFC 8985 6.3) or to SND.MAX (go-back-N).
    let resending = seqLt(this.sndNxt, this.sndMax);
    let resendEnd = this.sndMax;
    if (resending) {
      const from = this.recovery.rtoResendStart(this.sndNxt);
      if (seqGt(from, this.sndNxt)) this.sndNxt = seqLt(from, this.sndMax) ? from : this.sndMax;
      resending = seqLt(this.sndNxt, this.sndMax);
      if (resending) resendEnd = this.recovery.rtoResendEnd(this.sndNxt);
    }
    // The resend stops short of SND.MAX: at the next SACKed byte or RFC 8985 6.3's limit.
    const bounded = resending && seqLt(resendEnd, this.sndMax);
    // 6.3's resend (a limit): what the strategy may find lost again below it was retransmitted.
    const limited = resending && this.recovery.rtoResendLimit() >= 0;
    const sentOff = Math.max(0, seqSub(this.sndNxt, this.sndUna));
    const unsent = this.buf.length - Math.min(this.buf.length, sentOff);
    const wndRoom = seqSub(seqAdd(this.sndUna, this.sndWnd), this.sndNxt);
    if (unsent > 0) {
      let room = Math.min(wndRoom, cwndRoom);
      if (bounded) room = Math.min(room, seqSub(resendEnd, this.sndNxt));
      // In recovery one SMSS per frame while the window is small: each is ACKed on its own,
      // which keeps the ACK clock going when frames or ACKs are lost (as super-segments,
      // downloads at 10 % loss had about three times the RTOs; decision 0039). A window of
      // RECOVERY_SUPER_SEGMENT_MIN segments or more (BBR keeps one through loss) leaves in
      // super-segments of at most an eighth of it: still eight frames and their ACKs per
      // flight, and a TAP write per eight segments or more instead of one per segment
      // (decision 0044's amendment).
      let maxSeg = out.maxPayload(now);
      if (this.#inRecovery) {
        const eighth = Math.floor(this.#cc.cwnd / 8 / this.#mss) * this.#mss;
        maxSeg = this.#cc.cwnd < RECOVERY_SUPER_SEGMENT_MIN * this.#mss ? this.#mss : Math.min(maxSeg, eighth);
      }
      // A super-segment is at most half the cwnd (whole segments, at least two): a flight
      // under two full super-segments leaves as two frames, which a GRO'ing receiver ACKs
      // one by one, so one lost ACK or frame leaves the other to clock the sender instead
      // of a probe timeout (decision 0037; Linux sizes them by rate, tcp_tso_autosize).
      const halfCwnd = Math.max(2 * this.#mss, Math.floor(this.#cc.cwnd / 2 / this.#mss) * this.#mss);
      if (maxSeg > halfCwnd) maxSeg = halfCwnd;
      let len = Math.min(unsent, maxSeg, room);
      if (len <= 0) return 0;
      // A super-segment ends on an MSS boundary unless it carries the last queued bytes.
      if (len > this.#mss && len < unsent) len -= len % this.#mss;
      if (len < this.#mss) {
        if (len < unsent) {
          // Window-limited small segment: SWS avoidance (RFC 9293 3.8.6.2.1); not for the
          // last piece of a hole resent after an RTO.
          if (!this.swsOverride && !bounded && (len < (this.#maxSndWnd >>> 1) || this.#maxSndWnd === 0)) return 0;
        } else if (!this.nodelay && !this.#finQueued && seqGt(this.smallEnd, this.sndUna)) {
          return 0; // Nagle (Minshall): a small segment is already outstanding
        }
      }
      len = Math.min(len, unsent);
      const seq = this.sndNxt;
      const last = len === unsent;
      // The FIN rides on the last data segment, also when resending it after an RTO
      // (one segment, as Linux does, rather than data and then a lone FIN).
      const fin = last && this.#finQueued && (!this.#finSent || seqAdd(seq, len) === this.finSeq) ? TCP_FIN : 0;
      const flags = (last ? TCP_PSH : 0) | fin;
      if (!out.transmitData(seq, flags, sentOff, len, now)) return 0;
      const wasRetransmission = seqLt(seq, this.sndMax);
      if (!wasRetransmission) this.rate?.onSent(seq, seqAdd(seq, len), now, this.sndUna === this.sndMax);
      this.recovery.onSent(seq, len, now);
      // Karn (RFC 6298 3): never time a retransmission (after an RTO, data below snd_max
      // is resent through here).
      if (!this.rttTiming && !wasRetransmission) {
        this.rttTiming = true;
        this.rttSeq = seq;
        this.rttStart = now;
      }
      if (wasRetransmission) {
        this.countRetransmitted(len);
        this.undo?.onRetransmit(seq, len, now);
        if (limited && seqGt(seqAdd(seq, len), this.highRxt)) this.highRxt = seqAdd(seq, len);
      }
      this.prrSent(len);
      this.sndNxt = seqAdd(seq, len);
      if (len < this.#mss) this.smallEnd = this.sndNxt;
      if (fin) {
        this.#finSent = true;
        this.finSeq = this.sndNxt;
        this.sndNxt = seqAdd(this.sndNxt, 1);
      }
      this.sndMax = seqMax(this.sndMax, this.sndNxt);
      return len;
    }
    if (this.#finQueued && (!this.#finSent || this.sndNxt === this.finSeq)) {
      // FIN alone (possibly again, after an RTO rewound SND.NXT).
      const seq = this.sndNxt;
      if (!out.transmitData(seq, TCP_FIN, sentOff, 0, now)) return 0;
      if (seqLt(seq, this.sndMax)) this.counters[C.tcp_retransmits]++;
      this.#finSent = true;
      this.finSeq = seq;
      this.sndNxt = seqAdd(seq, 1);
      this.sndMax = seqMax(this.sndMax, this.sndNxt);
      return 0;
    }
    return 0;
  }

  private armTimers(now: number): void {
    if (this.sndUna !== this.sndMax) {
      const tlp = this.tlp;
      if (!this.timers.armed(T_RTO)) {
        this.armRetransmit(now);
      } else if (tlp !== null && tlp.recheckAfterSend && !this.#inRecovery && this.flight() > this.#mss) {
        // RFC 8985 7.2: the ACK armed the RTO with one segment in flight; what this output
        // sent gets the probe timeout without WCDelAckT (else a lost tail waits for the RTO).
        this.armRetransmit(now);
      }
      this.timers.clear(T_PERSIST);
    } else if (this.ecnWaitUntil >= 0) {
      // RFC 3168 6.1.2: the T_RTO slot ends the wait after an ECN echo (waitAfterEcnEcho).
    } else if (this.unsent() > 0) {
      // Nothing in flight yet data waits: a zero window (probe it) or one too small for
      // SWS avoidance (the override timer of RFC 9293 3.8.6.2.1). Without a timer the
      // connection would stall until the peer happened to send a window update.
      if (!this.timers.armed(T_PERSIST)) this.timers.set(T_PERSIST, now + this.persistInterval());
    } else {
      this.timers.clear(T_PERSIST);
    }
  }

  private persistInterval(): number {
    return Math.min(60_000, Math.max(200, this.rtt.rto) * 2 ** Math.min(this.#probes, 10));
  }

  /**
   * The loss recovery strategy's timer (T_REORDER: RACK's reorder timer, RFC 8985 6.2):
   * when it marked data lost, recovery starts (or repairs it within recovery) and the
   * windows say what is sent.
   */
  onLossTimer(now: number, out: SenderTransmit): void {
    if (this.sndUna === this.sndMax || !this.recovery.onLossTimer(now)) return;
    if (this.#inRecovery || this.resendingLost()) this.recovery.detectLoss(now, out);
    else this.enterRecovery(now, out);
    this.output(now, out);
  }

  /**
   * After an RTO, resending in order only what the strategy holds lost (RFC 8985 6.3):
   * losses it finds then extend the resend (RFC 6582 4.1: no fast recovery for data sent
   * before the RTO), lost retransmissions are sent again.
   */
  private resendingLost(): boolean {
    return seqLt(this.sndNxt, this.sndMax) && this.recovery.rtoResendLimit() >= 0;
  }

  /**
   * RFC 3168 6.1.2, its last rule: an ECN echo arrived while cwnd was one segment, which
   * cannot be reduced further. ssthresh is reduced as for any congestion signal (from
   * `flightBefore`, the flight before the ACK), cwnd stays one segment (what the ACK added
   * is taken back: no increase in answer to an ECE), and the retransmit timer is reset: the
   * next new segment goes only when it expires (onRto).
   */
  waitAfterEcnEcho(now: number, flightBefore: number): void {
    this.#cc.onCongestionEvent(now, flightBefore);
    this.#cc.cwnd = this.#mss;
    this.ecnWaitUntil = now + this.rtt.rto;
    this.timers.set(T_RTO, this.ecnWaitUntil);
    if (this.tlp !== null) this.tlp.armed = false;
  }

  /** Zero-window probe timer (RFC 9293 3.8.6.1). */
  onPersist(now: number, out: SenderTransmit): void {
    if (this.unsent() === 0) return;
    if (this.sndWnd > 0) {
      // RFC 9293 3.8.6.2.1: the override timeout. Send what the small window allows.
      this.swsOverride = true;
      this.output(now, out);
      this.swsOverride = false;
      return;
    }
    out.transmitProbe(now);
    this.counters[C.tcp_window_probes]++;
    this.#probes++;
    this.timers.set(T_PERSIST, now + this.persistInterval());
  }

  /**
   * Retransmission timeout (RFC 6298 5.4–5.6, RFC 5681 3.1): back off, shrink cwnd to one
   * segment, forget what was marked lost (SACKed data stays SACKed unless the receiver
   * reneged: RFC 6675 5.1, RFC 2018 8, Linux tcp_timeout_mark_lost), go back to SND.UNA
   * and resend in order what is not SACKed, up to what the strategy holds lost (RACK, RFC
   * 8985 6.3: not what was sent too recently; the others: everything). Returns false when
   * the retry limit is reached (the connection then gives up).
   */
  onRto(now: number, maxRetries: number, out: SenderTransmit): boolean {
    if (this.ecnWaitUntil >= 0) {
      // RFC 3168 6.1.2: the timer reset by an ECN echo at one segment expired: the next new
      // segment may go (a real RTO when data is outstanding).
      this.ecnWaitUntil = -1;
      if (this.sndUna === this.sndMax) {
        this.output(now, out);
        return true;
      }
    }
    if (this.sndUna === this.sndMax) return true;
    if (this.tlp !== null && this.tlp.armed) {
      // RFC 8985 7.3: the slot held a probe timeout; the real RTO follows the probe.
      out.traceEvent(TE_TLP, 0, this.sndUna, this.sndMax, now);
      this.tlp.send(now, out);
      this.timers.set(T_RTO, now + this.rtt.rto);
      return true;
    }
    this.#retries++;
    this.counters[C.tcp_rto_timeouts]++;
    if (this.#retries > maxRetries) return false;
    (this.undo ??= new RetransmitUndo()).onRto(this.#cc.cwnd, this.#cc.ssthresh, this.sndUna, this.sndMax);
    this.#cc.onRetransmitTimeout(now, this.flight());
    this.rtt.backoff();
    out.traceEvent(TE_RTO, this.#retries, this.sndUna, this.sndMax, now);
    this.#inRecovery = false;
    this.#dupAcks = 0;
    this.recovery.markLostOnRto(now);
    this.recovery.onRetransmitTimeout(true);
    this.tlp?.onRetransmitTimeout();
    this.rttTiming = false;
    this.sndNxt = this.sndUna;
    this.highRxt = this.sndUna;
    this.smallEnd = this.sndUna;
    // RFC 6582 3.2 step 1 / RFC 6675 5.1: no new fast recovery until SND.UNA passes this
    // point (NewReno and RFC 6675 ask inRtoRecovery; RACK marks by time, RFC 8985 6.3).
    this.recoverPoint = this.sndMax;
    this.#inRtoRecovery = true;
    this.timers.set(T_RTO, now + this.rtt.rto);
    this.output(now, out);
    return true;
  }
}
