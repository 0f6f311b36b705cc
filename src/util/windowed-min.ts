/**
 * The minimum of a series of samples over a sliding time window, in constant space: the
 * best, second-best and third-best samples of the window's sub-intervals (Kathleen
 * Nichols' windowed min/max filter, as BBR and Linux's `min_rtt` use it). RACK's
 * RACK.min_RTT (RFC 8985 6.2) is kept this way, so a path whose RTT rose is not judged by
 * a minimum from long ago.
 *
 * No allocation: six numbers. Times are non-decreasing numbers (ms here; BBR's BtlBw uses
 * round counts), values any numbers: BBR keeps negated rates to track their maximum.
 */

/** Running windowed minimum. */
export class WindowedMin {
  private t0 = 0;
  private v0 = Infinity;
  private t1 = 0;
  private v1 = Infinity;
  private t2 = 0;
  private v2 = Infinity;

  /** @param windowMs how long a sample may stay the minimum */
  constructor(private readonly windowMs: number) {}

  /** The current minimum (Infinity before the first sample). */
  get value(): number {
    return this.v0;
  }

  /** Takes sample `v` at time `t` (non-decreasing); returns the minimum over the window ending at `t`. */
  update(t: number, v: number): number {
    const win = this.windowMs;
    if (v <= this.v0 || t - this.t2 > win) {
      // A new minimum, or nothing in the window any more: it is all three.
      this.t0 = this.t1 = this.t2 = t;
      this.v0 = this.v1 = this.v2 = v;
      return v;
    }
    if (v <= this.v1) {
      this.t1 = this.t2 = t;
      this.v1 = this.v2 = v;
    } else if (v <= this.v2) {
      this.t2 = t;
      this.v2 = v;
    }
    const age = t - this.t0;
    if (age > win) {
      // The best sample left the window: the second takes its place, and the third the second's.
      this.shift(t, v);
      if (t - this.t0 > win) this.shift(t, v);
    } else if (this.t1 === this.t0 && age > win / 4) {
      // A quarter of the window without a second choice: take this sample as the second and third.
      this.t1 = this.t2 = t;
      this.v1 = this.v2 = v;
    } else if (this.t2 === this.t1 && age > win / 2) {
      this.t2 = t;
      this.v2 = v;
    }
    return this.v0;
  }

  private shift(t: number, v: number): void {
    this.t0 = this.t1;
    this.v0 = this.v1;
    this.t1 = this.t2;
    this.v1 = this.v2;
    this.t2 = t;
    this.v2 = v;
  }
}
