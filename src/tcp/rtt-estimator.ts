/**
 * Retransmission timeout estimation (sans-I/O: RTT samples in ms in, RTO in ms out).
 *
 * Implements RFC 6298:
 * - 2.1: before the first sample RTO is the initial value (1 s).
 * - 2.2: first sample R: SRTT = R, RTTVAR = R/2, RTO = SRTT + max(G, K*RTTVAR), K = 4.
 * - 2.3: later samples R': RTTVAR = (1 - beta)*RTTVAR + beta*|SRTT - R'| (computed with
 *   the old SRTT), then SRTT = (1 - alpha)*SRTT + alpha*R', alpha = 1/8, beta = 1/4, and
 *   RTO again as in 2.2. G is the clock granularity (1 ms: time is passed in as ms).
 * - 2.4 / 2.5: RTO is clamped to [minRto, maxRto]. RFC 6298 2.4 asks for a 1 s minimum;
 *   we default to Linux's 200 ms (TCP_RTO_MIN), as RFC 6298 2.4 permits a smaller floor
 *   and a Linux peer expects Linux timing. The maximum (120 s, Linux TCP_RTO_MAX) obeys
 *   2.5 ("at least 60 seconds").
 * - 5.5: when the timer expires the RTO is doubled ("back off the timer"), capped at maxRto.
 * - 5.7: after backing off, the next valid sample recomputes the RTO from SRTT/RTTVAR,
 *   which discards the backoff (`backoffCount` returns to 0).
 *
 * Karn's algorithm (RFC 6298 3, RFC 6298 5 note): this class trusts every sample it gets.
 * The caller must only sample segments that were not retransmitted, or use the echoed
 * timestamp (RFC 7323 4.1), which is unambiguous for retransmissions too.
 *
 * Timestamps (RFC 7323 4.1 / appendix G): with timestamps a sample may come with every
 * ACK rather than once per RTT. RFC 7323 appendix G suggests scaling alpha and beta by the
 * number of samples per window (Linux goes further and keeps its own mdev logic). We keep
 * the plain RFC 6298 formula for every sample: it weights recent samples more heavily, so
 * SRTT follows RTT changes faster and RTTVAR decays faster over a window; the minimum RTO
 * keeps the timer from collapsing on a steady path. This is a deliberate simplification.
 *
 * RFC 6298 5.7's last paragraph (RTO back to 3 s when the SYN timed out) is the caller's
 * business: it can construct a new estimator with `initialRto = 3000` for that case.
 */

/** Lower bound of the RTO, ms (Linux TCP_RTO_MIN; RFC 6298 2.4 says 1 s, see header). */
export const RTO_MIN_MS = 200;
/** Upper bound of the RTO, ms (Linux TCP_RTO_MAX; RFC 6298 2.5: at least 60 s). */
export const RTO_MAX_MS = 120_000;
/** RTO before any sample, ms (RFC 6298 2.1). */
export const RTO_INITIAL_MS = 1000;

/** RFC 6298 SRTT/RTTVAR estimator with exponential backoff. All values are in ms. */
export class RttEstimator {
  /** Smoothed RTT, ms; 0 until the first sample. */
  srtt = 0;
  /** RTT variation, ms; 0 until the first sample. */
  rttvar = 0;
  /** Current RTO including backoff, ms. */
  rto: number;
  /** Number of backoffs (RTO doublings) since the last sample. */
  backoffCount = 0;

  private sampled = false;

  /**
   * @param minRto lower clamp of the RTO, ms
   * @param maxRto upper clamp of the RTO, ms
   * @param initialRto RTO before the first sample, ms (RFC 6298 2.1: 1 s)
   * @param clockGranularityMs G of RFC 6298 2.2/2.3, ms
   */
  constructor(
    readonly minRto = RTO_MIN_MS,
    readonly maxRto = RTO_MAX_MS,
    initialRto = RTO_INITIAL_MS,
    readonly clockGranularityMs = 1,
  ) {
    this.rto = this.clamp(initialRto);
  }

  /** True once a sample has been taken (RFC 6298 2.2 applied). */
  get hasSample(): boolean {
    return this.sampled;
  }

  /**
   * Takes an RTT measurement (RFC 6298 2.2 for the first, 2.3 afterwards) and recomputes
   * the RTO, discarding any backoff (RFC 6298 5.7). Negative samples count as 0 (a clock
   * that went back); non-finite ones are ignored. The caller applies Karn's rule.
   */
  sample(rttMs: number): void {
    if (!Number.isFinite(rttMs)) return;
    const r = rttMs < 0 ? 0 : rttMs;
    if (!this.sampled) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.sampled = true;
    } else {
      const err = this.srtt > r ? this.srtt - r : r - this.srtt;
      this.rttvar = 0.75 * this.rttvar + 0.25 * err;
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    const k = 4 * this.rttvar;
    this.rto = this.clamp(this.srtt + (k > this.clockGranularityMs ? k : this.clockGranularityMs));
    this.backoffCount = 0;
  }

  /** RFC 6298 5.5: the retransmission timer expired; doubles the RTO, capped at maxRto. */
  backoff(): void {
    this.backoffCount++;
    const d = this.rto * 2;
    this.rto = d > this.maxRto ? this.maxRto : d;
  }

  private clamp(v: number): number {
    if (v < this.minRto) return this.minRto;
    if (v > this.maxRto) return this.maxRto;
    return v;
  }
}
