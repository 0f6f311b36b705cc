/**
 * Delivery rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02, as Linux's
 * tcp_rate.c): on each ACK that delivers data, a sample of the rate at which the network
 * delivered it, for a model-based congestion controller (./bbr.ts).
 *
 * - Section 3.2 (on transmission): each original transmission of new data (a segment or a
 *   TSO chunk) records the connection's delivered count, the time it last changed, the
 *   first send time of the current flight and whether the sender was application-limited.
 *   Retransmissions are not recorded: a sample is taken only from an original that
 *   arrived (as RACK does for RTTs, RFC 8985 6.2 step 2), so no sample mixes two sends.
 * - Section 3.3 (on ACK): of what an ACK newly delivers, the most recently sent original
 *   gives the sample: delivered = C.delivered − P.delivered over
 *   interval = max(send_elapsed, ack_elapsed). The larger of the two keeps ACK compression
 *   and send bursts from inflating the rate. Originals leave in sequence order, so the most
 *   recently sent is the one holding the highest byte newly delivered: the cumulative ACK
 *   or the top of a SACK block beyond everything delivered before.
 * - Section 3.4 (application-limited): markAppLimited() when the sender has nothing to
 *   send and room in cwnd. Samples from data sent before the bytes in flight at that
 *   moment are delivered carry isAppLimited.
 *
 * Sans-I/O, times in ms. One entry per transmission in a ring of Float64s (no object per
 * segment): up to MAX_ENTRIES entries; beyond that the oldest are forgotten (no sample
 * comes from them).
 */
import { seqGt, seqLeq, seqLt, seqSub } from '../seq.js';

/** Entries at first, and the most kept (8192 segments or TSO chunks in flight). */
const FIRST_ENTRIES = 32;
export const MAX_ENTRIES = 8192;
/** Numbers per entry: start, end, send time, delivered, delivered time, first send time, app-limited. */
const STRIDE = 7;

/** One rate sample (section 3.3); `valid` false when the ACK gave none. */
export interface RateSample {
  valid: boolean;
  /** Bytes delivered over the interval. */
  delivered: number;
  /** The interval, ms (> 0 when valid). */
  interval: number;
  /** Round-trip time of the sampled transmission, ms. */
  rtt: number;
  /** C.delivered when the sampled transmission was sent (BBR's round counting). */
  priorDelivered: number;
  /** The sampled data was sent while the application limited the sender. */
  isAppLimited: boolean;
}

/** The per-connection delivery-rate state (section 3.1) and its transmission log. */
export class DeliveryRateSampler {
  /** C.delivered: bytes delivered (cumulatively ACKed or SACKed) since the start. */
  delivered = 0;
  /** C.delivered_time: when `delivered` last changed (ms). */
  deliveredTime = 0;
  /** C.first_sent_time: send time of the transmission most recently sampled (ms). */
  firstSentTime = 0;
  /** C.app_limited: 0, or the delivered count beyond which samples are no longer app-limited. */
  appLimited = 0;
  /** The last sample (rewritten by onAck). */
  readonly sample: RateSample = { valid: false, delivered: 0, interval: 0, rtt: 0, priorDelivered: 0, isAppLimited: false };

  private log = new Float64Array(STRIDE * FIRST_ENTRIES);
  private cap = FIRST_ENTRIES;
  private head = 0;
  private count = 0;
  /** The highest sequence number known delivered (the next sample must go beyond it). */
  private deliveredTop = 0;
  private started = false;

  /** Section 3.2: an original transmission of [seq, end) at `now`; `idle`: nothing was in flight before it. */
  onSent(seq: number, end: number, now: number, idle: boolean): void {
    if (idle || !this.started) {
      this.firstSentTime = now;
      this.deliveredTime = now;
    }
    if (!this.started) {
      this.started = true;
      this.deliveredTop = seq >>> 0;
    }
    if (this.count === this.cap) {
      if (this.cap < MAX_ENTRIES) this.grow();
      else {
        this.head = (this.head + 1) % this.cap;
        this.count--;
      }
    }
    const o = STRIDE * ((this.head + this.count) % this.cap);
    const l = this.log;
    l[o] = seq >>> 0;
    l[o + 1] = end >>> 0;
    l[o + 2] = now;
    l[o + 3] = this.delivered;
    l[o + 4] = this.deliveredTime;
    l[o + 5] = this.firstSentTime;
    l[o + 6] = this.appLimited !== 0 ? 1 : 0;
    this.count++;
  }

  /** Section 3.4: the sender has no data to send and room in cwnd, with `inflight` bytes outstanding. */
  markAppLimited(inflight: number): void {
    this.appLimited = Math.max(this.delivered + inflight, 1);
  }

  /**
   * Section 3.3 for an ACK that newly delivered `newlyDelivered` bytes, up to `top` at the
   * highest (SND.UNA after the ACK, or a higher SACK block's end). Fills `sample`; returns
   * sample.valid. Entries wholly below `una` are dropped afterwards.
   */
  onAck(una: number, top: number, newlyDelivered: number, now: number): boolean {
    const rs = this.sample;
    rs.valid = false;
    if (newlyDelivered > 0) {
      this.delivered += newlyDelivered;
      this.deliveredTime = now;
    }
    if (this.started && seqGt(top, this.deliveredTop)) {
      this.deliveredTop = top >>> 0;
      const k = this.find((top - 1) >>> 0);
      if (k >= 0) {
        const o = STRIDE * ((this.head + k) % this.cap);
        const l = this.log;
        const sendTime = l[o + 2];
        const sendElapsed = sendTime - l[o + 5];
        const ackElapsed = this.deliveredTime - l[o + 4];
        this.firstSentTime = sendTime;
        rs.priorDelivered = l[o + 3];
        rs.isAppLimited = l[o + 6] !== 0;
        rs.delivered = this.delivered - rs.priorDelivered;
        rs.interval = sendElapsed > ackElapsed ? sendElapsed : ackElapsed;
        rs.rtt = now - sendTime;
        rs.valid = rs.delivered > 0 && rs.interval > 0;
      }
    }
    if (this.appLimited !== 0 && this.delivered > this.appLimited) this.appLimited = 0;
    this.advance(una);
    return rs.valid;
  }

  /** Entries logged (for tests). */
  get entries(): number {
    return this.count;
  }

  /** Drops the entries wholly at or below `una`. */
  private advance(una: number): void {
    const l = this.log;
    while (this.count > 0 && seqLeq(l[STRIDE * this.head + 1], una)) {
      this.head = (this.head + 1) % this.cap;
      this.count--;
    }
  }

  /** Index (0 = oldest) of the entry holding byte `seq`, or -1. */
  private find(seq: number): number {
    const l = this.log;
    // Newest first: the byte sampled is usually in one of the last entries.
    for (let k = this.count - 1; k >= 0; k--) {
      const o = STRIDE * ((this.head + k) % this.cap);
      if (seqLt(seq, l[o])) continue;
      return seqSub(seq, l[o]) < seqSub(l[o + 1], l[o]) ? k : -1;
    }
    return -1;
  }

  private grow(): void {
    const next = new Float64Array(this.log.length * 2);
    for (let k = 0; k < this.count; k++) {
      const from = STRIDE * ((this.head + k) % this.cap);
      next.set(this.log.subarray(from, from + STRIDE), STRIDE * k);
    }
    this.log = next;
    this.cap *= 2;
    this.head = 0;
  }
}
