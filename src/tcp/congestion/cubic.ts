/**
 * CUBIC congestion control (RFC 9438), window part (sans-I/O; bytes and ms).
 *
 * Implements RFC 9438 with the formulas in segments converted to bytes (W in bytes =
 * W in segments * SMSS):
 * - 4.1/4.2: W_cubic(t) = C*(t - K)^3 + W_max, K = cbrt((W_max - cwnd_epoch)/C), C = 0.4,
 *   t in seconds since the start of the current congestion avoidance stage (t_epoch,
 *   set by the first ACK in congestion avoidance after slow start or a reduction).
 *   If there is no W_max above cwnd_epoch (first congestion avoidance without any loss,
 *   or after an RTO: 4.8), W_max = cwnd_epoch and K = 0.
 * - 4.3 Reno-friendly region: W_est starts at cwnd_epoch and grows by
 *   alpha_cubic * acked * SMSS / cwnd per ACK, alpha_cubic = 3(1 - beta)/(1 + beta)
 *   until W_est >= cwnd_prior, then 1 (cwnd_prior = cwnd_epoch when there was no
 *   reduction yet). If W_cubic(t) < W_est, cwnd = W_est (we never
 *   lower cwnd there: cwnd = max(cwnd, W_est)).
 * - 4.4/4.5 concave and convex regions: target = W_cubic(t + RTT) (RTT = SRTT),
 *   clamped to [cwnd, 1.5*cwnd]; cwnd grows by (target - cwnd)/cwnd per acked SMSS
 *   (fractions of a byte are carried over to the next ACK).
 * - 4.6 multiplicative decrease: ssthresh = max(flight_size * beta, 2*SMSS), beta = 0.7,
 *   cwnd_prior = cwnd, cwnd = ssthresh.
 * - 4.7 fast convergence: on a congestion event with cwnd < W_max,
 *   W_max = cwnd*(1 + beta)/2, else W_max = cwnd.
 * - 4.8 timeout: ssthresh with beta as in 4.6 (held on a repeated RTO, RFC 5681),
 *   cwnd = 1*SMSS; the next congestion avoidance stage uses K = 0, W_max = cwnd_epoch.
 * - 5.8 application-limited flows: an ACK while not cwnd-limited (RFC 7661 test, see
 *   ./newreno.ts) does not grow cwnd and ends the epoch, so t does not count the time
 *   the flow was application-limited; so does an idle restart and any slow start ACK.
 * - Slow start (RFC 5681 + RFC 3465 ABC, L = 2*SMSS), idle restart and recovery exit are
 *   NewReno's (./newreno.ts). HyStart++ is not implemented.
 */
import { NewReno } from './newreno.js';

/** RFC 9438 C (aggressiveness), segments/s^3. */
export const CUBIC_C = 0.4;
/** RFC 9438 beta_cubic, multiplicative decrease factor. */
export const CUBIC_BETA = 0.7;
/** RFC 9438 4.3 alpha_cubic = 3(1 - beta)/(1 + beta). */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/** RFC 9438 CUBIC window management. */
export class Cubic extends NewReno {
  override readonly name: 'newreno' | 'cubic' = 'cubic';
  /** W_max, bytes: window before the last reduction (fast convergence applied); 0 = none yet. */
  wMax = 0;
  /** cwnd_prior, bytes: cwnd just before the last reduction; Infinity = none yet. */
  cwndPrior = Infinity;
  /** K, seconds, of the current epoch. */
  k = 0;
  /** t_epoch, ms; -1 when no congestion avoidance stage is under way. */
  epochStart = -1;
  /** cwnd_epoch, bytes: cwnd when the current epoch started. */
  cwndEpoch = 0;
  /** W_est, bytes (Reno-friendly estimate). */
  wEst = 0;

  /** The next epoch uses K = 0 and W_max = cwnd_epoch (RFC 9438 4.8). */
  private resetWMax = false;
  /** Fraction of a byte of growth carried to the next ACK. */
  private frac = 0;

  /** W_cubic(t) in bytes for t seconds after the start of the epoch (RFC 9438 eq. 1). */
  wCubic(tSec: number): number {
    const d = tSec - this.k;
    return (CUBIC_C * d * d * d) * this.mss + this.wMax;
  }

  /** RFC 9438 4.6/4.7: fast convergence, cwnd_prior, ssthresh = max(flight*beta, 2*mss). */
  override onCongestionEvent(now: number, flightSize: number): void {
    const cwnd = this.cwnd;
    this.wMax = this.wMax > 0 && cwnd < this.wMax ? (cwnd * (1 + CUBIC_BETA)) / 2 : cwnd;
    this.cwndPrior = cwnd;
    this.resetWMax = false;
    super.onCongestionEvent(now, flightSize);
    this.endEpoch();
  }

  /** RFC 9438 4.8: ssthresh with beta (held on a repeated RTO), cwnd = 1*SMSS. */
  override onRetransmitTimeout(now: number, flightSize: number): void {
    if (!this.rtoPending) this.cwndPrior = this.cwnd;
    super.onRetransmitTimeout(now, flightSize);
    this.resetWMax = true;
    this.endEpoch();
  }

  /** Leaving recovery: cwnd = ssthresh; the next ACK starts a new epoch. */
  override onRecoveryEnd(now: number): void {
    super.onRecoveryEnd(now);
    this.endEpoch();
  }

  protected override lossThreshold(flightSize: number): number {
    const t = Math.floor(flightSize * CUBIC_BETA);
    const min = 2 * this.mss;
    return t > min ? t : min;
  }

  protected override congestionAvoidance(acked: number, now: number, srttMs: number): void {
    if (this.epochStart < 0) this.startEpoch(now);
    const cwnd = this.cwnd;
    // RFC 9438 4.3: W_est += alpha_cubic * segments_acked / cwnd (in bytes).
    const alpha = this.wEst >= this.cwndPrior ? 1 : CUBIC_ALPHA;
    this.wEst += (alpha * acked * this.mss) / cwnd;
    const t = (now - this.epochStart) / 1000;
    if (this.wCubic(t) < this.wEst) {
      // Reno-friendly region.
      const w = Math.floor(this.wEst);
      if (w > cwnd) this.cwnd = w;
      return;
    }
    // RFC 9438 4.4/4.5: concave or convex region.
    let target = this.wCubic(t + (srttMs > 0 ? srttMs : 0) / 1000);
    if (target < cwnd) target = cwnd;
    else if (target > 1.5 * cwnd) target = 1.5 * cwnd;
    this.frac += ((target - cwnd) / cwnd) * acked;
    const whole = Math.floor(this.frac);
    if (whole > 0) {
      this.cwnd = cwnd + whole;
      this.frac -= whole;
    }
  }

  protected override onSlowStartAck(_now: number): void {
    this.endEpoch();
  }

  protected override onAppLimited(_now: number): void {
    this.endEpoch();
  }

  protected override onIdle(_now: number): void {
    this.endEpoch();
  }

  /** RFC 9438 4.2/4.3/4.8: t_epoch = now, cwnd_epoch = cwnd, K, W_est = cwnd_epoch. */
  private startEpoch(now: number): void {
    this.epochStart = now;
    this.cwndEpoch = this.cwnd;
    this.wEst = this.cwnd;
    this.frac = 0;
    // No reduction yet: nothing to regain, W_est grows at Reno's rate (alpha = 1).
    if (this.cwndPrior === Infinity) this.cwndPrior = this.cwnd;
    if (this.resetWMax || this.wMax <= this.cwnd) {
      this.wMax = this.cwnd;
      this.k = 0;
      this.resetWMax = false;
    } else {
      this.k = Math.cbrt((this.wMax - this.cwnd) / this.mss / CUBIC_C);
    }
  }

  private endEpoch(): void {
    this.epochStart = -1;
  }
}
