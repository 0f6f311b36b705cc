/**
 * Congestion control (src/tcp/congestion/): RFC 6928 initial window, RFC 5681 slow start /
 * congestion avoidance with RFC 3465 byte counting (no per-ACK limit, as Linux), loss and RTO reactions, RFC 5681
 * 4.1 idle restart, RFC 7661 no growth when not cwnd-limited; RFC 9438 CUBIC: W_max, K,
 * W_cubic, the Reno-friendly region, the 1.5*cwnd target clamp, fast convergence and the
 * timeout rule. Expected CUBIC values are computed in the tests from the RFC formulas
 * with explicit numbers (MSS 1000 bytes, so segments = bytes / 1000).
 */
import { describe, expect, it } from 'vitest';
import { createCongestionControl } from '../../../src/tcp/congestion/congestion-control.js';
import { rfc6928InitialWindow as initialWindow } from '../../../src/tcp/congestion/newreno.js';
import { Cubic, CUBIC_ALPHA, CUBIC_C } from '../../../src/tcp/congestion/cubic.js';
import { NewReno } from '../../../src/tcp/congestion/newreno.js';

const MSS = 1000;

/** Acks `total` bytes in `per`-byte ACKs at time `now`, the sender cwnd-limited. */
function ackRound(cc: { cwnd: number; onAck(a: number, n: number, s: number, f: number): void }, total: number, per: number, now: number, srtt = 100): void {
  for (let done = 0; done < total; done += per) cc.onAck(per, now, srtt, cc.cwnd);
}

describe('RFC 6928 initial window', () => {
  it('IW = min(10*MSS, max(2*MSS, 14600))', () => {
    expect(initialWindow(1000)).toBe(10000);
    expect(initialWindow(1460)).toBe(14600);
    expect(initialWindow(536)).toBe(5360);
    expect(initialWindow(9000)).toBe(18000);
    expect(initialWindow(1200)).toBe(12000);
  });

  it('the factory builds the named controller with cwnd = IW, ssthresh = Infinity', () => {
    const a = createCongestionControl('newreno', 1460);
    const b = createCongestionControl('cubic', 1460);
    expect(a.name).toBe('newreno');
    expect(b.name).toBe('cubic');
    expect(a).toBeInstanceOf(NewReno);
    expect(b).toBeInstanceOf(Cubic);
    expect(a.cwnd).toBe(14600);
    expect(b.cwnd).toBe(14600);
    expect(a.ssthresh).toBe(Infinity);
  });
});

describe('NewReno (RFC 5681, RFC 3465, RFC 6582)', () => {
  it('RFC 3465 2.1 byte counting, without the per-ACK limit L (Linux tcp_slow_start): a stretch ACK counts in full', () => {
    const cc = new NewReno(MSS);
    cc.onAck(1000, 0, 100, 10000);
    expect(cc.cwnd).toBe(11000);
    cc.onAck(2000, 1, 100, 11000);
    expect(cc.cwnd).toBe(13000);
    cc.onAck(5000, 2, 100, 13000); // stretch ACK (a GRO'd receiver): all 5 segments count
    expect(cc.cwnd).toBe(18000);
    // One ACK per round trip for the whole window still doubles cwnd.
    cc.onAck(18000, 3, 100, 18000);
    expect(cc.cwnd).toBe(36000);
  });

  it('RFC 5681 3.1: slow start doubles cwnd per RTT with one ACK per segment', () => {
    const cc = new NewReno(MSS);
    ackRound(cc, 10000, 1000, 0);
    expect(cc.cwnd).toBe(20000);
    ackRound(cc, 20000, 1000, 100);
    expect(cc.cwnd).toBe(40000);
  });

  it('RFC 3465 2.1: congestion avoidance adds one SMSS per cwnd of acked bytes (~1 SMSS per RTT)', () => {
    const cc = new NewReno(MSS);
    cc.onCongestionEvent(0, 10000); // ssthresh = cwnd = 5000
    cc.onRecoveryEnd(1);
    expect(cc.cwnd).toBe(5000);
    const perRtt: number[] = [];
    for (let rtt = 0; rtt < 5; rtt++) {
      ackRound(cc, cc.cwnd, 1000, 100 * (rtt + 1));
      perRtt.push(cc.cwnd);
    }
    expect(perRtt).toEqual([6000, 7000, 8000, 9000, 10000]);
    // Partial progress is kept in bytes_acked.
    cc.onAck(1000, 700, 100, cc.cwnd);
    cc.onAck(1500, 701, 100, cc.cwnd);
    expect(cc.bytesAcked).toBe(2500);
    expect(cc.cwnd).toBe(10000);
  });

  it('RFC 5681 3.2 / eq. 4: a congestion event sets ssthresh = max(FlightSize/2, 2*SMSS) and cwnd = ssthresh (no inflation)', () => {
    const cc = new NewReno(MSS);
    cc.cwnd = 40000;
    cc.onCongestionEvent(0, 17001);
    expect(cc.ssthresh).toBe(8500);
    expect(cc.cwnd).toBe(8500);
    cc.onCongestionEvent(1, 3000);
    expect(cc.ssthresh).toBe(2000); // floor of 2*SMSS
    expect(cc.cwnd).toBe(2000);
  });

  it('RFC 6582 3.2 step 3: leaving recovery deflates cwnd to ssthresh', () => {
    const cc = new NewReno(MSS);
    cc.onCongestionEvent(0, 30000);
    cc.cwnd = 25000; // whatever the sender did meanwhile
    cc.onRecoveryEnd(10);
    expect(cc.cwnd).toBe(15000);
    expect(cc.ssthresh).toBe(15000);
  });

  it('RFC 5681 3.1: an RTO sets ssthresh = max(FlightSize/2, 2*SMSS), cwnd = LW = 1*SMSS; slow start resumes', () => {
    const cc = new NewReno(MSS);
    cc.cwnd = 30000;
    cc.onRetransmitTimeout(0, 20000);
    expect(cc.ssthresh).toBe(10000);
    expect(cc.cwnd).toBe(1000);
    for (const want of [3000, 5000, 7000, 9000]) {
      cc.onAck(2000, 1, 100, cc.cwnd);
      expect(cc.cwnd).toBe(want);
    }
    // Crossing ssthresh: cwnd stops at ssthresh, the rest counts for congestion avoidance.
    cc.onAck(2000, 2, 100, cc.cwnd);
    expect(cc.cwnd).toBe(10000);
    expect(cc.bytesAcked).toBe(1000);
  });

  it('RFC 5681 3.1: a repeated RTO (no new data acked in between) keeps ssthresh', () => {
    const cc = new NewReno(MSS);
    cc.onRetransmitTimeout(0, 20000);
    cc.onRetransmitTimeout(1000, 1000);
    expect(cc.ssthresh).toBe(10000);
    expect(cc.cwnd).toBe(1000);
    cc.onAck(1000, 2000, 100, 1000);
    cc.onRetransmitTimeout(3000, 6000);
    expect(cc.ssthresh).toBe(3000);
  });

  it('RFC 5681 4.1: after more than one RTO idle, cwnd = min(cwnd, IW); ssthresh unchanged', () => {
    const cc = new NewReno(MSS);
    ackRound(cc, 10000, 1000, 0); // cwnd 20000, last ACK at t = 0
    ackRound(cc, 20000, 2000, 50); // cwnd 40000, last ACK at t = 50
    expect(cc.cwnd).toBe(40000);
    cc.onIdleRestart(1050, 1000); // idle exactly RTO: no restart
    expect(cc.cwnd).toBe(40000);
    cc.onIdleRestart(2051, 1000); // 1001 ms since the previous call
    expect(cc.cwnd).toBe(10000);
    expect(cc.ssthresh).toBe(Infinity);
    expect(cc.idleRestarts).toBe(1);
    // A window already below IW is left alone.
    cc.cwnd = 4000;
    cc.onIdleRestart(9000, 1000);
    expect(cc.cwnd).toBe(4000);
  });

  it('RFC 7661 4.3: no growth when the flight before the ACK was below cwnd/2 (application-limited)', () => {
    const cc = new NewReno(MSS);
    cc.onAck(1000, 0, 100, 4999);
    expect(cc.cwnd).toBe(10000);
    expect(cc.appLimitedAcks).toBe(1);
    cc.onAck(1000, 1, 100, 5000);
    expect(cc.cwnd).toBe(11000);
  });
});

describe('CUBIC (RFC 9438)', () => {
  const K_OF = (wMaxSeg: number, cwndEpochSeg: number): number => Math.cbrt((wMaxSeg - cwndEpochSeg) / CUBIC_C);
  /** W_cubic(t) in bytes, RFC 9438 eq. 1 with W_max in segments. */
  const W = (t: number, k: number, wMaxSeg: number): number => (CUBIC_C * (t - k) ** 3 + wMaxSeg) * MSS;

  /** A CUBIC controller right after a first loss at cwnd = flight = `w` bytes, recovery done at t = 0. */
  function afterLoss(w: number): Cubic {
    const c = new Cubic(MSS);
    c.cwnd = w;
    c.onCongestionEvent(0, w);
    c.onRecoveryEnd(0);
    return c;
  }

  it('slow start counts acked bytes, as for NewReno', () => {
    const c = new Cubic(MSS);
    c.onAck(1000, 0, 100, 10000);
    c.onAck(4000, 1, 100, 11000);
    expect(c.cwnd).toBe(15000);
    expect(c.epochStart).toBe(-1);
  });

  it('4.6: a congestion event sets W_max = cwnd, cwnd_prior = cwnd, ssthresh = cwnd = flight*beta', () => {
    const c = new Cubic(MSS);
    c.cwnd = 100_000;
    c.onCongestionEvent(0, 100_000);
    expect(c.wMax).toBe(100_000);
    expect(c.cwndPrior).toBe(100_000);
    expect(c.ssthresh).toBe(70_000);
    expect(c.cwnd).toBe(70_000);
    const small = new Cubic(MSS);
    small.onCongestionEvent(0, 2500); // 1750 < 2*SMSS
    expect(small.ssthresh).toBe(2000);
  });

  it('4.2: the epoch starts at the first congestion avoidance ACK: K = cbrt((W_max - cwnd_epoch)/C), W_cubic(0) = cwnd_epoch, W_cubic(K) = W_max', () => {
    const c = afterLoss(100_000);
    c.onAck(1000, 1000, 100, c.cwnd);
    expect(c.epochStart).toBe(1000);
    expect(c.cwndEpoch).toBe(70_000);
    const k = K_OF(100, 70); // cbrt(75) = 4.2171633...
    expect(c.k).toBeCloseTo(k, 12);
    expect(c.k).toBeCloseTo(4.21716, 5);
    expect(c.wCubic(0)).toBeCloseTo(70_000, 6);
    expect(c.wCubic(k)).toBeCloseTo(100_000, 6);
    expect(c.wCubic(2)).toBeCloseTo(W(2, k, 100), 6);
  });

  it('4.4: in the concave region cwnd grows by (W_cubic(t+RTT) - cwnd)/cwnd per acked SMSS', () => {
    const c = afterLoss(100_000);
    // First CA ACK at t = 0: W_est = 70000 + alpha*1000*1000/70000 = 70007.56 > W_cubic(0)
    // = 70000, so the Reno-friendly rule sets cwnd = 70007.
    c.onAck(1000, 0, 100, c.cwnd);
    const west1 = 70_000 + (CUBIC_ALPHA * 1000 * 1000) / 70_000;
    expect(c.wEst).toBeCloseTo(west1, 9);
    expect(c.cwnd).toBe(70_007);
    // ACK at t = 2 s with SRTT 100 ms: W_cubic(2) = 95.64 segments > W_est, target = W_cubic(2.1).
    const k = K_OF(100, 70);
    const target = W(2.1, k, 100);
    expect(target).toBeCloseTo(96_203.6, 0);
    c.onAck(1000, 2000, 100, c.cwnd);
    expect(c.cwnd).toBe(70_007 + Math.floor(((target - 70_007) / 70_007) * 1000)); // +374
    expect(c.cwnd).toBe(70_381);
  });

  it('4.4: the target is clamped to 1.5*cwnd (at most +0.5 SMSS per acked SMSS)', () => {
    const c = afterLoss(100_000);
    c.onAck(1000, 0, 100, c.cwnd); // epoch at t = 0, cwnd 70007
    c.onAck(1000, 20_000, 100, c.cwnd); // W_cubic(20.1) = 1.7 M bytes >> 1.5*cwnd
    expect(W(20.1, K_OF(100, 70), 100)).toBeGreaterThan(1.5 * 70_007);
    expect(c.cwnd).toBe(70_007 + 500);
  });

  it('4.3: in the Reno-friendly region (small W_max, short RTT) cwnd follows W_est with alpha_cubic', () => {
    const c = afterLoss(10_000); // W_max 10 segments, cwnd 7 segments, K = cbrt(7.5) = 1.957 s
    const k = K_OF(10, 7);
    // Two ACKs 5 ms apart, SRTT 10 ms.
    c.onAck(1000, 0, 10, c.cwnd);
    expect(c.k).toBeCloseTo(k, 12);
    expect(c.k).toBeCloseTo(1.957, 3);
    let west = 7000 + (CUBIC_ALPHA * 1000 * 1000) / 7000; // 7075.63
    expect(c.cwnd).toBe(Math.floor(west));
    expect(c.cwnd).toBe(7075);
    c.onAck(1000, 5, 10, c.cwnd);
    west += (CUBIC_ALPHA * 1000 * 1000) / 7075; // 7150.46
    expect(W(0.005, k, 10)).toBeLessThan(west); // ≈ 7022: Reno-friendly region
    expect(c.wEst).toBeCloseTo(west, 9);
    expect(c.cwnd).toBe(7150);
  });

  it('4.3: alpha_cubic becomes 1 once W_est >= cwnd_prior (Reno rate, ~1 SMSS per RTT)', () => {
    const c = afterLoss(10_000);
    let t = 0;
    while (c.wEst < 10_000) ackRound(c, 1000, 1000, t++, 10);
    // Now alpha = 1: one cwnd of acked bytes adds close to one SMSS to W_est.
    const before = c.wEst;
    const w0 = c.cwnd;
    for (let acked = 0; acked < w0; acked += 1000) c.onAck(1000, t, 10, c.cwnd);
    expect(c.wEst - before).toBeGreaterThan(0.9 * MSS);
    expect(c.wEst - before).toBeLessThanOrEqual(1.0 * MSS);
  });

  it('4.7: fast convergence: an event with cwnd < W_max sets W_max = cwnd*(1+beta)/2', () => {
    const c = afterLoss(100_000); // W_max 100000
    c.cwnd = 80_000;
    c.onCongestionEvent(5000, 80_000);
    expect(c.wMax).toBeCloseTo(80_000 * 0.85, 9); // 68000
    expect(c.cwndPrior).toBe(80_000);
    expect(c.ssthresh).toBe(56_000);
    c.onRecoveryEnd(5100);
    c.onAck(1000, 6000, 100, c.cwnd);
    expect(c.k).toBeCloseTo(K_OF(68, 56), 12); // cbrt(30)
    // Without fast convergence (cwnd >= W_max): W_max = cwnd.
    c.cwnd = 120_000;
    c.onCongestionEvent(9000, 120_000);
    expect(c.wMax).toBe(120_000);
  });

  it('4.8: after an RTO: ssthresh = flight*beta, cwnd = 1 SMSS, next epoch has K = 0 and W_max = cwnd_epoch', () => {
    const c = afterLoss(100_000);
    c.onAck(1000, 0, 100, c.cwnd);
    c.onRetransmitTimeout(1000, 40_000);
    expect(c.ssthresh).toBe(28_000);
    expect(c.cwnd).toBe(1000);
    expect(c.epochStart).toBe(-1);
    // Slow start back to ssthresh, then the first CA ACK starts the epoch.
    let t = 1000;
    while (c.cwnd < c.ssthresh) c.onAck(1000, t++, 100, c.cwnd);
    expect(c.cwnd).toBe(28_000);
    c.onAck(1000, 2000, 100, c.cwnd);
    expect(c.epochStart).toBe(2000);
    expect(c.k).toBe(0);
    expect(c.wMax).toBe(28_000);
    expect(c.wEst).toBeGreaterThan(28_000);
  });

  it('first congestion avoidance without any loss: W_max = cwnd_epoch, K = 0, alpha = 1', () => {
    const c = new Cubic(MSS);
    c.ssthresh = 20_000;
    ackRound(c, 10_000, 1000, 0); // slow start to 20000 (the last ACK starts no epoch: no bytes left)
    expect(c.cwnd).toBe(20_000);
    c.onAck(1000, 50, 100, c.cwnd);
    expect(c.wMax).toBe(20_000);
    expect(c.k).toBe(0);
    expect(c.cwndPrior).toBe(20_000);
    expect(c.wEst).toBeCloseTo(20_000 + (1 * 1000 * 1000) / 20_000, 9);
  });

  it('5.8: an application-limited ACK does not grow cwnd and ends the epoch; idle restart too', () => {
    const c = afterLoss(100_000);
    c.onAck(1000, 0, 100, c.cwnd);
    expect(c.epochStart).toBe(0);
    const w = c.cwnd;
    c.onAck(1000, 500, 100, 1000);
    expect(c.cwnd).toBe(w);
    expect(c.epochStart).toBe(-1);
    c.onAck(1000, 600, 100, c.cwnd);
    expect(c.epochStart).toBe(600);
    c.onIdleRestart(5000, 1000);
    expect(c.cwnd).toBe(10_000);
    expect(c.epochStart).toBe(-1);
  });
});
