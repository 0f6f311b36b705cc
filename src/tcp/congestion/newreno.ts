/**
 * NewReno congestion control, window part (sans-I/O; bytes and ms).
 *
 * Implements:
 * - RFC 5681 3.1: slow start while cwnd < ssthresh, congestion avoidance otherwise;
 *   ssthresh = max(FlightSize/2, 2*SMSS) on loss (eq. 4); cwnd = LW = 1*SMSS after an
 *   RTO; ssthresh held on a repeated RTO (no new data acked since the previous one).
 * - RFC 3465 2.1 appropriate byte counting: slow start grows by the bytes acked; unlike
 *   RFC 3465 2.2 there is no limit L per ACK (as in Linux: GRO'd receivers send stretch
 *   ACKs for 20–45 segments, and L = 2*SMSS turned slow start linear); congestion avoidance counts bytes_acked and adds one SMSS each time
 *   bytes_acked reaches cwnd (≈ 1 SMSS per RTT). When an ACK takes cwnd past ssthresh
 *   in slow start, cwnd stops at ssthresh and the remaining acked bytes go to the
 *   congestion avoidance count (as Linux's tcp_slow_start does).
 * - RFC 5681 3.2 steps 2/3 and RFC 6582 3.2 step 3: entering recovery sets
 *   cwnd = ssthresh (no +3*SMSS inflation: the sender counts pipe per RFC 6675); leaving
 *   it sets cwnd = ssthresh again (the "deflate").
 * - RFC 5681 4.1: after an idle period longer than the RTO, cwnd = min(cwnd, RW) with
 *   RW = min(IW, cwnd); ssthresh is unchanged (Linux also lowers ssthresh; RFC 5681 does not).
 * - RFC 6928: IW = min(10*SMSS, max(2*SMSS, 14600)).
 * - RFC 7661 4.3: no cwnd growth while the sender is not cwnd-limited, judged as
 *   FlightSize before the ACK < cwnd/2 (the same test Linux's tcp_is_cwnd_limited uses
 *   in slow start). This keeps an application-limited sender from growing cwnd without
 *   bound.
 *
 * Windows are integral byte counts; ssthresh is Infinity until the first loss.
 */
import type { CongestionControl } from './congestion-control.js';

/** RFC 6928 initial window in bytes: min(10*mss, max(2*mss, 14600)). */
export function rfc6928InitialWindow(mss: number): number {
  const hi = 10 * mss;
  const lo = Math.max(2 * mss, 14600);
  return hi < lo ? hi : lo;
}

/** RFC 5681 / RFC 6582 NewReno window management with RFC 3465 ABC. */
export class NewReno implements CongestionControl {
  /** Algorithm name (for /connections). */
  readonly name: 'newreno' | 'cubic' | 'bbr' = 'newreno';
  /** Congestion window, bytes. */
  cwnd: number;
  /**
   * Slow start threshold in bytes, Infinity until the first loss. Held as an int32 with -1
   * for Infinity: a field that holds Infinity is a boxed double in every connection.
   */
  #ssthreshI32 = -1;
  /** Sender maximum segment size, bytes (the sender changes it when the path MTU does). */
  mss: number;
  /** RFC 3465 bytes_acked: bytes acked in congestion avoidance not yet turned into cwnd. */
  bytesAcked = 0;
  /** Times cwnd was cut back by an idle restart (for /connections and tests). */
  idleRestarts = 0;
  /** ACKs that did not grow cwnd because the sender was not cwnd-limited (RFC 7661). */
  appLimitedAcks = 0;

  /** True after an RTO until new data is acked: a further RTO keeps ssthresh (RFC 5681 3.1). */
  protected rtoPending = false;
  /** Time of the last call into the controller (ms), NaN before the first. */
  protected lastActivity = NaN;

  /** @param mss sender maximum segment size, bytes (> 0) */
  constructor(mss: number) {
    this.mss = mss;
    this.cwnd = rfc6928InitialWindow(mss);
  }

  get ssthresh(): number {
    return this.#ssthreshI32 < 0 ? Infinity : this.#ssthreshI32;
  }

  set ssthresh(v: number) {
    this.#ssthreshI32 = v === Infinity ? -1 : v | 0;
  }

  /** See CongestionControl.onAck: slow start or congestion avoidance for `acked` new bytes. */
  onAck(acked: number, now: number, srttMs: number, flightBefore: number): void {
    this.lastActivity = now;
    if (!(acked > 0)) return;
    this.rtoPending = false;
    if (2 * flightBefore < this.cwnd) {
      this.appLimitedAcks++;
      this.onAppLimited(now);
      return;
    }
    let rest = acked;
    if (this.cwnd < this.ssthresh) {
      this.onSlowStartAck(now);
      // Every acked byte counts, also from a stretch ACK (Linux tcp_slow_start). RFC 3465's
      // L = 2*SMSS per ACK made slow start linear against Linux receivers behind GRO,
      // which ACK 20–45 segments at once: +2 segments per round trip instead of doubling.
      const inc = acked;
      const room = this.ssthresh - this.cwnd;
      if (inc < room) {
        this.cwnd += inc;
        return;
      }
      this.cwnd = this.ssthresh;
      rest = acked - room;
      if (rest <= 0) return;
    }
    this.congestionAvoidance(rest, now, srttMs);
  }

  /** See CongestionControl.onCongestionEvent: ssthresh = max(flight/2, 2*mss), cwnd = ssthresh. */
  onCongestionEvent(now: number, flightSize: number): void {
    this.lastActivity = now;
    this.ssthresh = this.lossThreshold(flightSize);
    this.cwnd = this.ssthresh;
    this.bytesAcked = 0;
  }

  /** See CongestionControl.onRecoveryEnd: cwnd = ssthresh. */
  onRecoveryEnd(now: number): void {
    this.lastActivity = now;
    if (this.ssthresh !== Infinity) this.cwnd = this.ssthresh;
    this.bytesAcked = 0;
  }

  /** See CongestionControl.onRetransmitTimeout: ssthresh (unless repeated), cwnd = 1*mss. */
  onRetransmitTimeout(now: number, flightSize: number): void {
    this.lastActivity = now;
    if (!this.rtoPending) this.ssthresh = this.lossThreshold(flightSize);
    this.rtoPending = true;
    this.cwnd = this.mss;
    this.bytesAcked = 0;
  }

  /** See CongestionControl.onIdleRestart: cwnd = min(cwnd, IW) after more than `rto` idle. */
  onIdleRestart(now: number, rto: number): void {
    const last = this.lastActivity;
    this.lastActivity = now;
    if (!(now - last > rto)) return;
    const rw = rfc6928InitialWindow(this.mss);
    if (this.cwnd > rw) {
      this.cwnd = rw;
      this.idleRestarts++;
    }
    this.bytesAcked = 0;
    this.onIdle(now);
  }

  /** RFC 5681 eq. 4 (NewReno): max(FlightSize/2, 2*SMSS), whole bytes. */
  protected lossThreshold(flightSize: number): number {
    const half = Math.floor(flightSize / 2);
    const min = 2 * this.mss;
    return half > min ? half : min;
  }

  /** RFC 3465 2.1 congestion avoidance: +1 SMSS each time bytes_acked reaches cwnd. */
  protected congestionAvoidance(acked: number, _now: number, _srttMs: number): void {
    this.bytesAcked += acked;
    if (this.bytesAcked >= this.cwnd) {
      this.bytesAcked -= this.cwnd;
      this.cwnd += this.mss;
    }
  }

  /** Hook: an ACK is handled in slow start (CUBIC ends its epoch). */
  protected onSlowStartAck(_now: number): void {}

  /** Hook: an ACK did not grow cwnd because the sender was application-limited. */
  protected onAppLimited(_now: number): void {}

  /** Hook: cwnd was restarted after idle. */
  protected onIdle(_now: number): void {}
}
