/**
 * A token bucket on a virtual clock: `rate` tokens per second, at most `burst` saved.
 * Used to rate-limit ICMP errors (RFC 1812 4.3.2.8, RFC 1122 3.2.2).
 */

/** Token bucket rate limiter; time is passed in (ms). */
export class TokenBucket {
  private tokens: number;
  private last = -Infinity;

  constructor(private readonly ratePerSecond: number, private readonly burst: number) {
    this.tokens = burst;
  }

  /** Takes one token at time `now`; false when none is left. */
  take(now: number): boolean {
    if (this.last !== -Infinity) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
    }
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
