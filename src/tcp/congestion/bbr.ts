/**
 * BBR congestion control, version 1 (draft-cardwell-iccrg-bbr-congestion-control-00, as
 * Linux's tcp_bbr.c), without pacing: the window is set from a model of the path instead of
 * being cut on every loss.
 *
 * - Model (section 4.1): BtlBw, the windowed maximum of the delivery-rate samples
 *   (./delivery-rate.ts) over the last BTLBW_ROUNDS round trips, an application-limited
 *   sample counting only when it raises it; RTprop, the minimum RTT seen over
 *   RTPROP_WINDOW_MS. BDP = BtlBw × RTprop.
 * - Rounds (4.1.1.3): a round ends when a sample's data was sent after the previous round
 *   began (its prior delivered count reaches the round's mark).
 * - States (4.3):
 *   - Startup: cwnd grows by what each ACK delivers (doubling per round trip) until BtlBw
 *     has grown by less than 25 % for three rounds ("full pipe", 4.3.2.2);
 *   - Drain: until the data in flight is down to one BDP;
 *   - ProbeBW: cwnd = 2 × BDP;
 *   - ProbeRTT (4.3.4): after RTPROP_WINDOW_MS without a new minimum, cwnd = 4 segments
 *     for 200 ms and a round trip, then the earlier cwnd back.
 * - cwnd (4.2.3): min(cwnd + delivered, gain × BDP + 3 send quanta + the ACK aggregation
 *   allowance) once the pipe is full, never below 4 segments. A send quantum is what the
 *   sender puts in one frame at the estimated rate: BtlBw × 1 ms, at least 2 segments, at
 *   most 64 KiB (Linux's bbr_quantization_budget with tcp_tso_autosize; at a few Gbit/s
 *   this adds three 64 KiB TSO frames, so the flight is not held to a window the frames
 *   cannot fill).
 * - ACK aggregation (Linux's extra_acked, since 4.20; BBRv2's draft, "BBR.extra_acked"):
 *   ACKs that come late and together deliver more than BtlBw × the time since an epoch
 *   began. The largest such excess of the last 5–10 rounds, at most cwnd and BtlBw ×
 *   100 ms, is added to the window in ProbeBW, so that the flight covers the time the ACKs
 *   were held.
 *   On this machine the ACKs of a bulk download come in bursts 0.15–0.35 ms after the
 *   data, while RTprop is the quiet round trip (decision 0040); without the allowance the
 *   window held the flight below what the path carries (decision 0044).
 * - Loss (4.2.3.4): BBR does not reduce its model on loss. The sender's recovery sets cwnd
 *   by PRR (RFC 6937) towards an ssthresh that BBR keeps infinite, which is packet
 *   conservation plus one segment per ACK. The cwnd before recovery (or before an RTO) comes
 *   back when recovery ends, as Linux's bbr_set_cwnd_to_recover_or_restore does.
 *
 * Not implemented:
 * - Pacing (the pacing gains 2.89 / 0.35 / 1.25–0.75 cycle): the worker has no timer finer
 *   than a millisecond (decision 0039). ProbeBW probes for more bandwidth through its
 *   pacing gain, so it is left out with pacing; cwnd alone bounds the flight, and on a path
 *   whose round trip grows with the flight the estimate stays below what a loss-based
 *   window reaches. The ACK-aggregation allowance closed most of that here (decision
 *   0044's amendment: lossless downloads 12–17.5 Gbit/s against NewReno's 15–19).
 * - BBR's long-term bandwidth (policer) mode.
 */
import type { CongestionControl } from './congestion-control.js';
import type { RateSample } from './delivery-rate.js';
import { rfc6928InitialWindow } from './newreno.js';
import { WindowedMin } from '../../util/windowed-min.js';

/** Round trips the bandwidth filter spans. */
export const BTLBW_ROUNDS = 10;
/** How long an RTprop sample holds before ProbeRTT measures again, ms. */
export const RTPROP_WINDOW_MS = 10_000;
/** ProbeRTT's least duration, ms. */
export const PROBE_RTT_MS = 200;
/** Startup's and Drain's cwnd gain (2/ln 2). */
export const HIGH_GAIN = 2.885;
/** ProbeBW's cwnd gain. */
export const CWND_GAIN = 2;
/** Largest send quantum (one TSO frame), bytes. */
export const MAX_SEND_QUANTUM = 65536;
/** Rounds each of the two ACK-aggregation maxima spans (the allowance remembers 5–10 rounds). */
export const EXTRA_ACKED_ROUNDS = 5;
/** The allowance is at most BtlBw × this, ms. */
export const EXTRA_ACKED_MAX_MS = 100;
/** An aggregation epoch that has counted this many segments starts again (it is stale). */
const ACK_EPOCH_RESET_SEGMENTS = 1 << 20;

export const BBR_STARTUP = 0;
export const BBR_DRAIN = 1;
export const BBR_PROBE_BW = 2;
export const BBR_PROBE_RTT = 3;
const STATE_NAMES = ['startup', 'drain', 'probe_bw', 'probe_rtt'] as const;

/** The per-connection BBR state. */
export class Bbr implements CongestionControl {
  readonly name = 'bbr' as const;
  cwnd: number;
  mss: number;
  /** BBR_STARTUP .. BBR_PROBE_RTT. */
  state = BBR_STARTUP;
  /** Round trips counted (4.1.1.3). */
  rounds = 0;
  /** RTprop (ms), Infinity before the first sample. */
  rtProp = Infinity;
  /** The pipe was found full (Startup ended). */
  filledPipe = false;

  /**
   * BtlBw's filter over round counts: the windowed minimum of the negated rates (bytes/ms)
   * is their maximum, kept as Linux's minmax_running_max keeps it. Samples age only as new
   * ones are taken.
   */
  private readonly bwFilter = new WindowedMin(BTLBW_ROUNDS);
  private nextRoundDelivered = 0;
  private rtPropStamp = 0;
  private fullBw = 0;
  private fullBwRounds = 0;
  /** cwnd to restore after recovery, a loss episode or ProbeRTT (0: none). */
  private priorCwnd = 0;
  private probeRttDone = -1;
  private probeRttRoundDone = false;
  private lastRounds = 0;
  /** ACK aggregation: two maxima of the excess delivered, the current one, rounds into it. */
  private extraAcked0 = 0;
  private extraAcked1 = 0;
  private extraAckedIdx = 0;
  private extraAckedRounds = 0;
  /** The aggregation epoch: when it began (ms; -1: none yet) and what it has delivered since. */
  private ackEpochStart = -1;
  private ackEpochAcked = 0;

  constructor(mss: number) {
    this.mss = mss;
    this.cwnd = rfc6928InitialWindow(mss);
  }

  /** BBR does not use a slow start threshold: Infinity, so that PRR in recovery conserves packets instead of reducing. */
  get ssthresh(): number {
    return Infinity;
  }

  set ssthresh(_v: number) {
    // Recovery's undo restores a threshold; BBR has none to restore.
  }

  /** The state's name (for /connections and traces). */
  get stateName(): string {
    return STATE_NAMES[this.state];
  }

  /**
   * BtlBw, bytes per ms (0 before the first sample): the highest sample of the BTLBW_ROUNDS
   * rounds up to the latest one taken. Application-limited samples below it are not taken,
   * so they neither lower it nor age it (Linux's minmax_running_max).
   */
  get btlBw(): number {
    const v = this.bwFilter.value;
    return v === Infinity ? 0 : -v;
  }

  /** What one frame carries at the estimated rate: BtlBw × 1 ms within [2 segments, MAX_SEND_QUANTUM]. */
  sendQuantum(bw = this.btlBw): number {
    return Math.min(MAX_SEND_QUANTUM, Math.max(2 * this.mss, Math.floor(bw)));
  }

  /** The window BBR aims for with `gain`: gain × BDP + 3 send quanta (the initial window before a model exists). */
  targetCwnd(gain: number): number {
    const bw = this.btlBw;
    if (bw === 0 || this.rtProp === Infinity) return rfc6928InitialWindow(this.mss);
    return Math.max(4 * this.mss, Math.ceil(gain * bw * this.rtProp) + 3 * this.sendQuantum(bw));
  }

  /** The excess delivery of the last 5–10 rounds (bytes): the larger of the two maxima. */
  get extraAcked(): number {
    return this.extraAcked0 > this.extraAcked1 ? this.extraAcked0 : this.extraAcked1;
  }

  /**
   * What ACK aggregation adds to the window in ProbeBW (bytes): extraAcked, at most BtlBw ×
   * EXTRA_ACKED_MAX_MS. Linux adds it from Drain on; without pacing, Drain empties the
   * queue only through cwnd, and a window above BDP + quanta would never let it end.
   */
  aggregationCwnd(): number {
    if (this.state !== BBR_PROBE_BW) return 0;
    // Whole bytes: cwnd, and the send buffer sized from it (tcp/send-buffer-tuning.ts), count bytes.
    const cap = Math.floor(this.btlBw * EXTRA_ACKED_MAX_MS);
    const e = Math.floor(this.extraAcked);
    return e < cap ? e : cap;
  }

  /**
   * An ACK that delivered data, in or out of recovery, with its delivery-rate sample
   * (rs.valid false when it gave none, e.g. data resent after an RTO): the model and the
   * state from a valid sample, and, unless `inRecovery` (PRR sets cwnd then), cwnd from
   * `acked` in any case. `acked`: bytes this ACK newly delivered; `inflight`: bytes in
   * flight after it.
   */
  onRateSample(rs: RateSample, acked: number, inflight: number, inRecovery: boolean, now: number): void {
    const rounds = this.rounds;
    this.updateModel(rs, now);
    this.updateAckAggregation(rs, acked, this.rounds !== rounds, now);
    this.updateState(rs, inflight, now);
    if (!inRecovery) this.setCwnd(acked);
  }

  /** Model-based: ACKs out of recovery act through onRateSample. */
  onAck(): void {
    // Nothing: the window follows the model (onRateSample), not each ACK.
  }

  /** Entering fast recovery: remember cwnd; packet conservation from the bytes in flight. */
  onCongestionEvent(_now: number, flightSize: number): void {
    this.saveCwnd();
    this.cwnd = Math.max(flightSize, 4 * this.mss);
  }

  /** Recovery over: the cwnd from before it, unless the window has grown past it since. */
  onRecoveryEnd(_now: number): void {
    this.restoreCwnd();
  }

  /** RTO: one segment, the earlier cwnd remembered (the model stays: loss does not reduce it). */
  onRetransmitTimeout(_now: number, _flightSize: number): void {
    this.saveCwnd();
    this.cwnd = this.mss;
  }

  /** Restart after idle: BBR keeps its window (it would pace at BtlBw). */
  onIdleRestart(): void {
    // Nothing.
  }

  private saveCwnd(): void {
    if (this.state === BBR_PROBE_RTT) this.priorCwnd = Math.max(this.priorCwnd, this.cwnd);
    else this.priorCwnd = this.cwnd;
  }

  private restoreCwnd(): void {
    if (this.priorCwnd > this.cwnd) this.cwnd = this.priorCwnd;
  }

  private updateModel(rs: RateSample, now: number): void {
    if (!rs.valid) return;
    if (rs.priorDelivered >= this.nextRoundDelivered) {
      this.nextRoundDelivered = rs.priorDelivered + rs.delivered;
      this.rounds++;
    }
    const bw = rs.delivered / rs.interval;
    if (!rs.isAppLimited || bw >= this.btlBw) this.bwFilter.update(this.rounds, -bw);
    if (rs.rtt >= 0 && (rs.rtt <= this.rtProp || now - this.rtPropStamp > RTPROP_WINDOW_MS)) {
      if (now - this.rtPropStamp > RTPROP_WINDOW_MS && this.state !== BBR_PROBE_RTT && this.rtProp !== Infinity && rs.rtt > this.rtProp) {
        this.enterProbeRtt(now);
      }
      this.rtProp = rs.rtt;
      this.rtPropStamp = now;
    }
  }

  /**
   * The excess of what ACKs delivered over what BtlBw would have delivered since the epoch
   * began. The epoch starts again when the ACKs fall behind BtlBw (no aggregation then);
   * the maximum is kept per EXTRA_ACKED_ROUNDS rounds, in two halves, so a burst is
   * remembered for 5–10 rounds.
   */
  private updateAckAggregation(rs: RateSample, acked: number, roundStart: boolean, now: number): void {
    if (!rs.valid || acked <= 0) return;
    if (roundStart && ++this.extraAckedRounds >= EXTRA_ACKED_ROUNDS) {
      this.extraAckedRounds = 0;
      this.extraAckedIdx ^= 1;
      if (this.extraAckedIdx === 0) this.extraAcked0 = 0;
      else this.extraAcked1 = 0;
    }
    let expected = this.ackEpochStart < 0 ? 0 : this.btlBw * (now - this.ackEpochStart);
    if (this.ackEpochStart < 0 || this.ackEpochAcked <= expected || this.ackEpochAcked + acked >= ACK_EPOCH_RESET_SEGMENTS * this.mss) {
      this.ackEpochStart = now;
      this.ackEpochAcked = 0;
      expected = 0;
    }
    this.ackEpochAcked += acked;
    let extra = this.ackEpochAcked - expected;
    if (extra > this.cwnd) extra = this.cwnd;
    if (this.extraAckedIdx === 0) {
      if (extra > this.extraAcked0) this.extraAcked0 = extra;
    } else if (extra > this.extraAcked1) this.extraAcked1 = extra;
  }

  private updateState(rs: RateSample, inflight: number, now: number): void {
    const roundStart = this.rounds !== this.lastRounds;
    this.lastRounds = this.rounds;
    if (!this.filledPipe && roundStart && rs.valid && !rs.isAppLimited) {
      const bw = this.btlBw;
      if (bw >= this.fullBw * 1.25) {
        this.fullBw = bw;
        this.fullBwRounds = 0;
      } else if (++this.fullBwRounds >= 3) {
        this.filledPipe = true;
      }
    }
    if (this.state === BBR_STARTUP && this.filledPipe) this.state = BBR_DRAIN;
    if (this.state === BBR_DRAIN && inflight <= this.targetCwnd(1)) this.state = BBR_PROBE_BW;
    if (this.state === BBR_PROBE_RTT) {
      if (this.probeRttDone < 0 && inflight <= 4 * this.mss && rs.valid) {
        this.probeRttDone = now + PROBE_RTT_MS;
        this.probeRttRoundDone = false;
        this.nextRoundDelivered = rs.priorDelivered + rs.delivered;
      } else if (this.probeRttDone >= 0) {
        if (roundStart) this.probeRttRoundDone = true;
        if (this.probeRttRoundDone && now >= this.probeRttDone) {
          this.rtPropStamp = now;
          this.state = this.filledPipe ? BBR_PROBE_BW : BBR_STARTUP;
          this.restoreCwnd();
        }
      }
    }
  }

  private enterProbeRtt(now: number): void {
    this.saveCwnd();
    this.state = BBR_PROBE_RTT;
    this.probeRttDone = -1;
    this.rtPropStamp = now;
  }

  private setCwnd(acked: number): void {
    const min = 4 * this.mss;
    if (this.state === BBR_PROBE_RTT) {
      if (this.cwnd > min) this.cwnd = min;
      return;
    }
    const target = this.targetCwnd(this.filledPipe ? CWND_GAIN : HIGH_GAIN) + this.aggregationCwnd();
    if (this.filledPipe) this.cwnd = Math.min(this.cwnd + acked, target);
    else if (this.cwnd < target || this.rounds < 1) this.cwnd += acked;
    if (this.cwnd < min) this.cwnd = min;
  }
}
