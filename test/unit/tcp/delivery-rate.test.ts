/**
 * Delivery rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02,
 * src/tcp/congestion/delivery-rate.ts): the sample's delivered bytes, interval
 * (max of send and ACK elapsed), RTT, application-limited flag, the SACK top rule and the
 * log's upkeep, on a virtual clock.
 */
import { describe, expect, it } from 'vitest';
import { DeliveryRateSampler } from '../../../src/tcp/congestion/delivery-rate.js';

const SEG = 1000;

describe('delivery rate samples (draft-cheng-iccrg-delivery-rate-estimation)', () => {
  it('3.3: a flight sent at once and ACKed at once gives its bytes over the round trip', () => {
    const r = new DeliveryRateSampler();
    for (let i = 0; i < 10; i++) r.onSent(i * SEG, (i + 1) * SEG, 0, i === 0);
    expect(r.entries).toBe(10);
    expect(r.onAck(10 * SEG, 10 * SEG, 10 * SEG, 10)).toBe(true);
    expect(r.sample).toMatchObject({ valid: true, delivered: 10 * SEG, interval: 10, rtt: 10, priorDelivered: 0, isAppLimited: false });
    expect(r.delivered).toBe(10 * SEG);
    expect(r.entries).toBe(0);
  });

  it('3.3: the interval is the longer of send_elapsed and ack_elapsed (a long send, its ACK soon after)', () => {
    const r = new DeliveryRateSampler();
    r.onSent(0, SEG, 0, true);
    r.onSent(SEG, 2 * SEG, 0.5, false);
    expect(r.onAck(SEG, SEG, SEG, 1)).toBe(true); // A sampled: the send interval starts at A's send, 0
    r.onSent(2 * SEG, 3 * SEG, 9, false);
    // C: sent 9 ms after the interval began (send_elapsed 9), ACKed 8.5 ms after the
    // delivered count it was sent with (ack_elapsed 8.5): the longer one.
    expect(r.onAck(3 * SEG, 3 * SEG, 2 * SEG, 9.5)).toBe(true);
    expect(r.sample.delivered).toBe(2 * SEG);
    expect(r.sample.interval).toBe(9);
    expect(r.sample.rtt).toBe(0.5);
    // The other way round: the same flight ACKed late, the ACK interval is the longer.
    const q = new DeliveryRateSampler();
    q.onSent(0, SEG, 0, true);
    q.onSent(SEG, 2 * SEG, 0.5, false);
    q.onAck(SEG, SEG, SEG, 1);
    q.onSent(2 * SEG, 3 * SEG, 9, false);
    expect(q.onAck(3 * SEG, 3 * SEG, 2 * SEG, 20)).toBe(true);
    expect(q.sample.interval).toBe(19);
  });

  it('3.3: a burst of ACKs cannot report more than the send rate (send_elapsed bounds it)', () => {
    const r = new DeliveryRateSampler();
    // One segment per ms for 10 ms, first ACK at 20 (all ACKs arrive within 1 ms).
    for (let i = 0; i < 10; i++) r.onSent(i * SEG, (i + 1) * SEG, i, i === 0);
    r.onAck(SEG, SEG, SEG, 20);
    // The next flight is sent from t=20 at one per ms, ACKed in one burst at 40.
    for (let i = 10; i < 20; i++) r.onSent(i * SEG, (i + 1) * SEG, 20 + (i - 10), false);
    r.onAck(10 * SEG, 10 * SEG, 9 * SEG, 20.5);
    let rates = 0;
    for (let i = 11; i <= 20; i++) {
      if (r.onAck(i * SEG, i * SEG, SEG, 40 + (i - 11) * 0.01)) rates = Math.max(rates, r.sample.delivered / r.sample.interval);
    }
    // Ten segments per ~10 ms of sending: about 1 segment per ms, not ten per 0.1 ms.
    expect(rates).toBeGreaterThan(0);
    expect(rates).toBeLessThanOrEqual(SEG * 1.1);
  });

  it('3.2/3.3: the sample comes from the highest byte newly delivered: a SACK block above a hole, then the hole filled gives none', () => {
    const r = new DeliveryRateSampler();
    for (let i = 0; i < 4; i++) r.onSent(i * SEG, (i + 1) * SEG, i, i === 0);
    // Segment 0 lost: SACK of 1..4 at t=10.
    expect(r.onAck(0, 4 * SEG, 3 * SEG, 10)).toBe(true);
    expect(r.sample.rtt).toBe(7); // segment 3, sent at 3
    expect(r.sample.delivered).toBe(3 * SEG);
    // The retransmission of 0 fills the hole: delivered counts, but nothing newer was delivered.
    expect(r.onAck(4 * SEG, 4 * SEG, SEG, 12)).toBe(false);
    expect(r.delivered).toBe(4 * SEG);
    expect(r.entries).toBe(0);
  });

  it('3.4: data sent after the sender ran out of data is application-limited until what was in flight then is delivered', () => {
    const r = new DeliveryRateSampler();
    r.onSent(0, SEG, 0, true);
    r.onSent(SEG, 2 * SEG, 0, false);
    r.markAppLimited(2 * SEG);
    r.onSent(2 * SEG, 3 * SEG, 1, false);
    expect(r.onAck(SEG, SEG, SEG, 5)).toBe(true);
    expect(r.sample.isAppLimited).toBe(false); // sent before the mark
    expect(r.onAck(3 * SEG, 3 * SEG, 2 * SEG, 6)).toBe(true);
    expect(r.sample.isAppLimited).toBe(true);
    expect(r.appLimited).toBe(0); // delivered (3000) passed the mark (2000)
    r.onSent(3 * SEG, 4 * SEG, 6, true);
    expect(r.onAck(4 * SEG, 4 * SEG, SEG, 7)).toBe(true);
    expect(r.sample.isAppLimited).toBe(false);
  });

  it('the log grows past its first size and keeps its entries in order (sequence numbers wrapping)', () => {
    const r = new DeliveryRateSampler();
    const base = 0xffff_ff00;
    for (let i = 0; i < 100; i++) r.onSent((base + i * SEG) >>> 0, (base + (i + 1) * SEG) >>> 0, i, i === 0);
    expect(r.entries).toBe(100);
    expect(r.onAck((base + 50 * SEG) >>> 0, (base + 50 * SEG) >>> 0, 50 * SEG, 200)).toBe(true);
    expect(r.sample.rtt).toBe(200 - 49);
    expect(r.entries).toBe(50);
  });
});
