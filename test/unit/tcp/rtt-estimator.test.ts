/**
 * RFC 6298 RTO computation (src/tcp/rtt-estimator.ts): 2.1 initial RTO, 2.2 first sample,
 * 2.3 later samples (alpha 1/8, beta 1/4, K 4, G), 2.4/2.5 clamps, 5.5 backoff, 5.7 reset
 * of the backoff by a new sample. Expected values are worked out by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import { RTO_INITIAL_MS, RTO_MAX_MS, RTO_MIN_MS, RttEstimator } from '../../../src/tcp/rtt-estimator.js';

describe('RttEstimator (RFC 6298)', () => {
  it('2.1: RTO is 1 s before any sample, SRTT 0, no sample', () => {
    const r = new RttEstimator();
    expect(RTO_INITIAL_MS).toBe(1000);
    expect(RTO_MIN_MS).toBe(200);
    expect(RTO_MAX_MS).toBe(120_000);
    expect(r.rto).toBe(1000);
    expect(r.srtt).toBe(0);
    expect(r.rttvar).toBe(0);
    expect(r.hasSample).toBe(false);
    expect(r.backoffCount).toBe(0);
  });

  it('2.2: first sample R gives SRTT = R, RTTVAR = R/2, RTO = SRTT + 4*RTTVAR', () => {
    const r = new RttEstimator();
    r.sample(100);
    expect(r.hasSample).toBe(true);
    expect(r.srtt).toBe(100);
    expect(r.rttvar).toBe(50);
    expect(r.rto).toBe(300); // 100 + 4*50
  });

  it('2.3: RTTVAR uses the old SRTT, then SRTT = 7/8 SRTT + 1/8 R', () => {
    const r = new RttEstimator();
    r.sample(100);
    r.sample(200);
    expect(r.rttvar).toBe(62.5); // 0.75*50 + 0.25*|100-200|
    expect(r.srtt).toBe(112.5); // 0.875*100 + 0.125*200
    expect(r.rto).toBe(362.5); // 112.5 + 4*62.5
    r.sample(80);
    expect(r.rttvar).toBe(55); // 0.75*62.5 + 0.25*32.5 = 46.875 + 8.125
    expect(r.srtt).toBe(108.4375); // 0.875*112.5 + 10
    expect(r.rto).toBe(328.4375); // 108.4375 + 220
  });

  it('2.2/2.3: the clock granularity G bounds the variance term from below', () => {
    const r = new RttEstimator(0, RTO_MAX_MS, 1000, 10);
    r.sample(100);
    expect(r.rto).toBe(300);
    // Eleven more identical samples: RTTVAR = 50 * 0.75^11 = 2.11..., 4*RTTVAR = 8.45 < G.
    for (let i = 0; i < 11; i++) r.sample(100);
    expect(r.srtt).toBe(100);
    expect(r.rttvar).toBeCloseTo(50 * 0.75 ** 11, 12);
    expect(r.rto).toBe(110); // 100 + max(10, 8.45)
  });

  it('2.4: the RTO is never below the minimum (200 ms default, Linux TCP_RTO_MIN)', () => {
    const r = new RttEstimator();
    r.sample(10); // 10 + 4*5 = 30
    expect(r.rto).toBe(200);
    const s = new RttEstimator(1000);
    s.sample(10);
    expect(s.rto).toBe(1000); // RFC 6298's own 1 s floor when configured
  });

  it('2.5: the RTO is capped at the maximum (120 s)', () => {
    const r = new RttEstimator();
    r.sample(50_000); // 50000 + 4*25000 = 150000
    expect(r.rto).toBe(120_000);
  });

  it('5.5: each expiry doubles the RTO up to the maximum and counts the backoff', () => {
    const r = new RttEstimator();
    const seen: number[] = [];
    for (let i = 0; i < 9; i++) {
      r.backoff();
      seen.push(r.rto);
    }
    expect(seen).toEqual([2000, 4000, 8000, 16000, 32000, 64000, 120000, 120000, 120000]);
    expect(r.backoffCount).toBe(9);
  });

  it('5.7: a new sample after backing off recomputes the RTO from SRTT/RTTVAR', () => {
    const r = new RttEstimator();
    r.sample(100); // RTO 300
    r.backoff();
    r.backoff();
    r.backoff();
    expect(r.rto).toBe(2400);
    expect(r.backoffCount).toBe(3);
    r.sample(100); // RTTVAR 0.75*50 = 37.5, SRTT 100
    expect(r.rto).toBe(250);
    expect(r.backoffCount).toBe(0);
  });

  it('samples of 0 ms count (hasSample), negative ones count as 0, non-finite ones are ignored', () => {
    const r = new RttEstimator();
    r.sample(Number.NaN);
    expect(r.hasSample).toBe(false);
    expect(r.rto).toBe(1000);
    r.sample(0);
    expect(r.hasSample).toBe(true);
    expect(r.srtt).toBe(0);
    expect(r.rto).toBe(200); // 0 + max(G = 1, 0), clamped to the minimum
    r.sample(-5);
    expect(r.srtt).toBe(0);
    r.sample(Number.POSITIVE_INFINITY);
    expect(r.srtt).toBe(0);
  });

  it('the initial RTO is clamped into [minRto, maxRto] (e.g. 3 s after a SYN timeout, RFC 6298 5.7)', () => {
    expect(new RttEstimator(RTO_MIN_MS, RTO_MAX_MS, 3000).rto).toBe(3000);
    expect(new RttEstimator(500, 2000, 3000).rto).toBe(2000);
    expect(new RttEstimator(500, 2000, 100).rto).toBe(500);
  });
});
