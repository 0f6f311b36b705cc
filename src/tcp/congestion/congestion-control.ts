/**
 * The congestion controller interface of a TCP sender and its factory (sans-I/O: the
 * sender reports ACKs and loss with the time in ms; the controller owns cwnd/ssthresh).
 *
 * - RFC 5681 3.1 slow start and congestion avoidance, 3.2 fast retransmit/fast recovery
 *   (ssthresh/cwnd part only), 4.1 restart after idle.
 * - RFC 3465 appropriate byte counting with L = 2*SMSS.
 * - RFC 6582 3.2 step 3 (NewReno: leaving recovery deflates cwnd to ssthresh).
 * - RFC 6928 initial window; RFC 7661 4.3 (no cwnd growth while not cwnd-limited).
 * - RFC 9438 CUBIC (src/tcp/congestion/cubic.ts).
 * - BBR v1 without pacing (src/tcp/congestion/bbr.ts), fed by delivery-rate samples
 *   (src/tcp/congestion/delivery-rate.ts) through onRateSample.
 *
 * Loss recovery itself (which segment to retransmit, pipe) is the loss recovery
 * strategy's (../recovery/): pipe accounting (RFC 6675, or FlightSize less the duplicate
 * ACKs without SACK), so the controllers never inflate cwnd by dup ACKs.
 * Implementations: ./newreno.ts, ./cubic.ts, ./bbr.ts.
 */
import { Bbr } from './bbr.js';
import { Cubic } from './cubic.js';
import type { RateSample } from './delivery-rate.js';
import { NewReno } from './newreno.js';

/** The congestion controllers a connection can use (`--cc`). */
export type CongestionControlName = 'newreno' | 'cubic' | 'bbr';

/** The per-connection congestion controller; windows are in bytes, times in ms. */
export interface CongestionControl {
  readonly name: CongestionControlName;
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow start threshold, bytes (Infinity initially). */
  ssthresh: number;
  /** Sender maximum segment size, bytes: follows the connection's when the path MTU changes it. */
  mss: number;
  /**
   * New data cumulatively acked while NOT in loss recovery; acked = bytes newly acked.
   * RFC 5681 3.1 slow start / congestion avoidance with RFC 3465 ABC (L = 2*mss).
   * `flightBefore` = bytes in flight before this ACK; cwnd does not grow when it is below
   * cwnd/2 (RFC 7661 4.3: the sender was application-limited, cwnd is not validated).
   */
  onAck(acked: number, now: number, srttMs: number, flightBefore: number): void;
  /**
   * Loss detected by dup ACKs / SACK (entering fast recovery): sets ssthresh and
   * cwnd = ssthresh (RFC 5681 3.2 step 2/3 without the +3*mss inflation: the sender uses
   * pipe/RFC 6675 accounting). During recovery the sender then sets cwnd on each ACK
   * (RFC 6937 PRR, ../recovery/prr.ts) toward this ssthresh.
   */
  onCongestionEvent(now: number, flightSize: number): void;
  /** Leaving recovery (recovery point acked): cwnd = ssthresh ("deflate", RFC 6582 3.2 step 3). */
  onRecoveryEnd(now: number): void;
  /**
   * RTO fired (RFC 5681 3.1 eq. 4 and 'loss window'): ssthresh = max(flight/2, 2*mss),
   * cwnd = 1*mss. A further RTO before any new data is acked keeps ssthresh (RFC 5681 3.1).
   */
  onRetransmitTimeout(now: number, flightSize: number): void;
  /**
   * Restart after idle (RFC 5681 4.1): if idle > rto, cwnd = min(cwnd, restart window).
   * Idle is measured from the previous call of any method of the controller (normally
   * the ACK that emptied the pipe): call this before sending new data with nothing in flight.
   */
  onIdleRestart(now: number, rto: number): void;
  /**
   * Model-based controllers only (BBR): the delivery-rate sample of an ACK that delivered
   * data, in or out of recovery; `acked` = bytes it newly delivered, `inflight` = bytes in
   * flight after it. The sender keeps a DeliveryRateSampler only for a controller that
   * has this method.
   */
  onRateSample?(rs: RateSample, acked: number, inflight: number, inRecovery: boolean, now: number): void;
}

/** Creates the named controller for a connection with the given SMSS (bytes). */
export function createCongestionControl(name: CongestionControlName, mss: number): CongestionControl {
  if (name === 'bbr') return new Bbr(mss);
  return name === 'cubic' ? new Cubic(mss) : new NewReno(mss);
}

