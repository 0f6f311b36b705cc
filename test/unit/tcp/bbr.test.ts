/**
 * BBR v1 without pacing (src/tcp/congestion/bbr.ts; draft-cardwell-iccrg-bbr-congestion-control
 * sections 4.1–4.3): the model (BtlBw over rounds, RTprop), Startup's growth and the full-pipe
 * test, Drain, ProbeBW's window, loss without a model cut, ProbeRTT; then between two cores,
 * 2 MB transfers under random loss against NewReno and CUBIC, byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import { BBR_DRAIN, BBR_PROBE_BW, BBR_PROBE_RTT, BBR_STARTUP, Bbr, CWND_GAIN, PROBE_RTT_MS, RTPROP_WINDOW_MS } from '../../../src/tcp/congestion/bbr.js';
import { createCongestionControl } from '../../../src/tcp/congestion/congestion-control.js';
import type { RateSample } from '../../../src/tcp/congestion/delivery-rate.js';
import { rfc6928InitialWindow } from '../../../src/tcp/congestion/newreno.js';
import { lossyTransfer } from '../../helpers/lossy-transfer.js';
import { LINUX_SYN, TcpPeer } from '../../helpers/tcp-peer.js';

const MSS = 1448;

/** Bytes delivered so far per controller (the samples' prior delivered counts go on from one drive() to the next). */
const deliveredSoFar = new WeakMap<Bbr, number>();

/** A path of `bw` bytes/ms and `rtt` ms driven round by round: every round delivers what cwnd allows, up to bw × rtt. */
function drive(b: Bbr, rounds: number, bw: number, rtt: number, t0 = 0, appLimited = false): number {
  let now = t0;
  let delivered = deliveredSoFar.get(b) ?? 0;
  for (let r = 0; r < rounds; r++) {
    const flight = Math.min(b.cwnd, bw * rtt * 4); // what the path holds before it queues much
    const got = Math.min(flight, bw * rtt);
    now += rtt;
    const rs: RateSample = { valid: true, delivered: got, interval: rtt, rtt, priorDelivered: delivered, isAppLimited: appLimited };
    delivered += got;
    b.onRateSample(rs, got, Math.max(0, flight - got), false, now);
  }
  deliveredSoFar.set(b, delivered);
  return now;
}

describe('BBR v1 without pacing', () => {
  it('is chosen by name; ssthresh stays infinite so that recovery conserves packets', () => {
    const b = createCongestionControl('bbr', MSS);
    expect(b.name).toBe('bbr');
    expect('onRateSample' in b).toBe(true);
    expect(b.cwnd).toBe(rfc6928InitialWindow(MSS));
    b.ssthresh = 10 * MSS;
    expect(b.ssthresh).toBe(Infinity);
    expect('onRateSample' in createCongestionControl('newreno', MSS)).toBe(false);
  });

  it('4.3.2: Startup grows cwnd by what each round delivers, ends when BtlBw stops growing by 25 % for three rounds, then Drain and ProbeBW at 2 × BDP + 3 quanta', () => {
    const b = new Bbr(MSS);
    const bw = 500; // bytes per ms (4 Mbit/s) × RTT 20 ms: BDP 10 000 bytes
    const rtt = 20;
    const cwnds: number[] = [];
    let now = 0;
    for (let r = 0; r < 12 && b.state === BBR_STARTUP; r++) {
      now = drive(b, 1, bw, rtt, now);
      cwnds.push(b.cwnd);
    }
    expect(b.filledPipe).toBe(true);
    expect(b.btlBw).toBe(bw);
    expect(b.rtProp).toBe(rtt);
    expect(cwnds.length).toBeGreaterThanOrEqual(3);
    now = drive(b, 3, bw, rtt, now);
    expect([BBR_DRAIN, BBR_PROBE_BW]).toContain(b.state);
    drive(b, 20, bw, rtt, now);
    expect(b.state).toBe(BBR_PROBE_BW);
    // One ACK per round trip here: each delivers a whole BDP at once, the most aggregated
    // ACK stream there is, and the allowance for it is that BDP.
    expect(b.aggregationCwnd()).toBe(bw * rtt);
    expect(b.cwnd).toBe(CWND_GAIN * bw * rtt + 3 * 2 * MSS + bw * rtt);
  });

  it('4.1: BtlBw is the highest rate of the last 10 rounds: a drop in rate is believed only after 10 rounds', () => {
    const b = new Bbr(MSS);
    let now = drive(b, 15, 1000, 10);
    expect(b.btlBw).toBe(1000);
    now = drive(b, 9, 400, 10, now);
    expect(b.btlBw).toBe(1000);
    drive(b, 3, 400, 10, now);
    expect(b.btlBw).toBe(400);
  });

  it('4.1: an application-limited sample lowers nothing, a higher one raises BtlBw', () => {
    const b = new Bbr(MSS);
    let now = drive(b, 15, 1000, 10);
    now = drive(b, 12, 100, 10, now, true);
    expect(b.btlBw).toBe(1000);
    drive(b, 1, 2000, 10, now, true);
    expect(b.btlBw).toBe(2000);
  });

  it('4.2.3.4: fast recovery sets cwnd from the flight, and its end brings back the cwnd from before; an RTO too', () => {
    const b = new Bbr(MSS);
    const now = drive(b, 30, 1000, 10);
    const before = b.cwnd;
    b.onCongestionEvent(now, 3 * MSS);
    expect(b.cwnd).toBe(4 * MSS);
    b.cwnd = 6 * MSS; // PRR's doing during recovery
    b.onRecoveryEnd(now);
    expect(b.cwnd).toBe(before);
    expect(b.btlBw).toBe(1000); // the model is not cut
    b.onRetransmitTimeout(now, before);
    expect(b.cwnd).toBe(MSS);
    drive(b, 5, 1000, 10, now);
    expect(b.cwnd).toBeGreaterThan(4 * MSS);
  });

  it('4.2.3: after an RTO, ACKs of resent data (no rate sample) grow cwnd back, up to the model\'s window', () => {
    const b = new Bbr(MSS);
    const now = drive(b, 30, 1000, 10);
    const target = b.targetCwnd(CWND_GAIN) + b.aggregationCwnd();
    b.onRetransmitTimeout(now, b.cwnd);
    expect(b.cwnd).toBe(MSS);
    const none: RateSample = { valid: false, delivered: 0, interval: 0, rtt: 0, priorDelivered: 0, isAppLimited: false };
    let acks = 0;
    while (b.cwnd < target && acks < 1000) {
      b.onRateSample(none, MSS, b.cwnd, false, now + acks);
      acks++;
    }
    expect(b.cwnd).toBe(target);
    expect(acks).toBeLessThan(target / MSS); // at least one segment per segment delivered
    expect(b.btlBw).toBe(1000); // no sample, no change to the model
  });

  it('4.3.4: without a new RTprop for 10 s, ProbeRTT holds 4 segments for 200 ms and a round, then the window comes back', () => {
    const b = new Bbr(MSS);
    let now = drive(b, 30, 1000, 10);
    const cwnd = b.cwnd;
    // The RTT rose (a queue elsewhere): no sample reaches the old minimum for 10 s.
    for (let i = 0; i < 2000 && b.state !== BBR_PROBE_RTT; i++) now = drive(b, 1, 1000, 12, now);
    expect(b.state).toBe(BBR_PROBE_RTT);
    expect(now).toBeGreaterThan(RTPROP_WINDOW_MS);
    expect(b.cwnd).toBe(4 * MSS);
    const entered = now;
    for (let i = 0; i < 100 && b.state === BBR_PROBE_RTT; i++) now = drive(b, 1, 1000, 10, now);
    expect(b.state).toBe(BBR_PROBE_BW);
    expect(now - entered).toBeGreaterThanOrEqual(PROBE_RTT_MS);
    expect(b.rtProp).toBe(10);
    expect(b.cwnd).toBeGreaterThanOrEqual(Math.min(cwnd, b.targetCwnd(CWND_GAIN)));
  });
});

/**
 * A full pipe of `bw` bytes/ms and `rtt` ms whose round trips each deliver bw × rtt in
 * `acks` ACKs: spread evenly over the round (`burst` false, an ACK clock) or all at its end
 * (`burst` true, held and released together). Every sample measures bw.
 */
function driveAcks(b: Bbr, rounds: number, bw: number, rtt: number, acks: number, burst: boolean, t0: number): number {
  let delivered = deliveredSoFar.get(b) ?? 0;
  const got = bw * rtt;
  for (let r = 0; r < rounds; r++) {
    for (let j = 1; j <= acks; j++) {
      const now = t0 + r * rtt + (burst ? rtt : (j * rtt) / acks);
      // The sampled data left one round before, when a round's worth less had been delivered.
      const prior = Math.max(0, delivered - got + got / acks);
      const rs: RateSample = { valid: true, delivered: got, interval: rtt, rtt, priorDelivered: prior, isAppLimited: false };
      delivered += got / acks;
      b.onRateSample(rs, got / acks, Math.max(0, b.cwnd - got / acks), false, now);
    }
  }
  deliveredSoFar.set(b, delivered);
  return t0 + rounds * rtt;
}

describe('BBR: ACK aggregation (Linux extra_acked)', () => {
  const bw = 1000;
  const rtt = 10;
  const bdp = bw * rtt;

  it('an even ACK clock adds one ACK\'s bytes to the window; ACKs held and released together add what they brought at once, forgotten again after 5–10 rounds of an even clock', () => {
    // An epoch goes on while the ACKs keep pace with BtlBw, so what a burst brought ahead
    // of time stays counted until they fall behind: here, a pause of one round trip.
    const b = new Bbr(MSS);
    let now = drive(b, 30, bw, rtt);
    now = driveAcks(b, 20, bw, rtt, 10, false, now + rtt);
    expect(b.state).toBe(BBR_PROBE_BW);
    expect(b.aggregationCwnd()).toBeCloseTo(bdp / 10, 6);
    expect(b.cwnd).toBeCloseTo(b.targetCwnd(CWND_GAIN) + bdp / 10, 6);
    // A round's ten ACKs all at its end: 10 000 bytes where BtlBw × ~0 ms was expected.
    now = driveAcks(b, 1, bw, rtt, 10, true, now);
    expect(b.aggregationCwnd()).toBeGreaterThanOrEqual(0.9 * bdp);
    const held = b.targetCwnd(CWND_GAIN) + b.aggregationCwnd();
    now = driveAcks(b, 3, bw, rtt, 10, false, now);
    expect(b.cwnd).toBeCloseTo(held, 6); // still remembered, and the flight may fill it
    driveAcks(b, 11, bw, rtt, 10, false, now + rtt);
    expect(b.aggregationCwnd()).toBeCloseTo(bdp / 10, 6);
    expect(b.btlBw).toBe(bw);
  });

  it('is not added before ProbeBW (Startup, Drain) and is at most BtlBw × 100 ms', () => {
    const b = new Bbr(MSS);
    driveAcks(b, 1, bw, rtt, 10, true, 0);
    expect(b.state).toBe(BBR_STARTUP);
    expect(b.extraAcked).toBeGreaterThan(0);
    expect(b.aggregationCwnd()).toBe(0);
    const slow = new Bbr(MSS);
    const now = drive(slow, 30, 10, 1) + 1000; // 10 bytes/ms: 100 ms of it is 1 000 bytes
    expect(slow.state).toBe(BBR_PROBE_BW);
    // A stretch ACK of 4 000 bytes after a pause (the epoch starts again with it).
    const rs: RateSample = { valid: true, delivered: 4000, interval: 400, rtt: 1, priorDelivered: 0, isAppLimited: false };
    slow.onRateSample(rs, 4000, 0, false, now);
    expect(slow.extraAcked).toBe(Math.min(4000, slow.cwnd));
    expect(slow.extraAcked).toBeGreaterThan(1000);
    expect(slow.aggregationCwnd()).toBe(10 * 100);
  });
});

describe('BBR counts whole bytes', () => {
  it('keeps cwnd and its ACK-aggregation allowance whole with a fractional bandwidth (the send buffer is sized from cwnd)', () => {
    const b = new Bbr(MSS);
    // Whole bytes delivered per round (as a sender's ACKs carry), at a rate that is not.
    const now = drive(b, 30, 1234.5, 8);
    driveAcks(b, 20, 1234.5, 8, 10, true, now + 8);
    expect(b.state).toBe(BBR_PROBE_BW);
    expect(b.aggregationCwnd()).toBeGreaterThan(0);
    expect(Number.isInteger(b.aggregationCwnd())).toBe(true);
    expect(Number.isInteger(b.cwnd)).toBe(true);
  });
});

describe('BBR between two cores under random loss (2 MB, 10 ms each way)', () => {
  // Virtual ms to the last byte, seed 7, RACK: NewReno 1 050 / 4 150 / 10 452, CUBIC 350 /
  // 2 760 / 7 862, BBR 250 / 250 / 550 at 1 / 3 / 10 % (measured when BBR was added; the
  // clock advances in 50 ms steps).
  for (const loss of [1, 3, 10]) {
    it(`${loss} %: arrives byte for byte, in well under NewReno's and CUBIC's time`, () => {
      const bbr = lossyTransfer('bbr', loss, 7, 'rack');
      expect(bbr.s.bytes().equals(Buffer.from(bbr.data))).toBe(true);
      expect(bbr.p.countersA[C.tcp_retransmits]).toBeGreaterThan(0);
      const reno = lossyTransfer('newreno', loss, 7, 'rack');
      const cubic = lossyTransfer('cubic', loss, 7, 'rack');
      expect(reno.s.bytes().length).toBe(reno.data.length);
      expect(cubic.s.bytes().length).toBe(cubic.data.length);
      expect(bbr.ms).toBeGreaterThan(0);
      expect(bbr.ms * 2).toBeLessThanOrEqual(reno.ms);
      expect(bbr.ms).toBeLessThan(cubic.ms);
    });
  }

  it('without loss, as fast as NewReno (the window is not held below what the receiver allows)', () => {
    const bbr = lossyTransfer('bbr', 0, 3, 'rack');
    const reno = lossyTransfer('newreno', 0, 3, 'rack');
    expect(bbr.s.bytes().equals(Buffer.from(bbr.data))).toBe(true);
    expect(bbr.ms).toBeLessThanOrEqual(reno.ms);
  });

  it('RFC 6675 recovery as well as RACK', () => {
    const bbr = lossyTransfer('bbr', 3, 11, 'rfc6675');
    expect(bbr.s.bytes().equals(Buffer.from(bbr.data))).toBe(true);
    expect(bbr.ms * 2).toBeLessThanOrEqual(lossyTransfer('newreno', 3, 11, 'rfc6675').ms);
  });
});

describe('BBR in the sender: every ACK that delivers data reaches the controller', () => {
  it('after an RTO, ACKs of resent data below what SACK had already delivered (no rate sample) still open cwnd again', () => {
    const p = new TcpPeer({ tcp: { congestionControl: 'bbr' } });
    const { conn } = p.passiveOpen({ ...LINUX_SYN, rtt: 10 });
    const mss = conn.snd.mss;
    expect(conn.snd.cc.name).toBe('bbr');
    conn.send(new Uint8Array(40 * mss).fill(0x61));
    p.flush();
    expect(p.takeAll().filter((s) => s.payload.length > 0).length).toBeGreaterThan(0);
    const una = p.ourIsn + 1;
    const at = (k: number) => (una + k * mss) >>> 0;
    // The first flight's last segments arrive (SACKed), the rest and every resend are lost
    // until the RTO: everything the cumulative ACKs deliver afterwards lies below the SACK.
    const sentTop = (conn.snd.sndMax - una) >>> 0;
    p.sendAck({ ack: una, options: { sack: [[(una + sentTop - 2 * mss) >>> 0, (una + sentTop) >>> 0]] } });
    for (let i = 0; i < 20 && p.counter('tcp_rto_timeouts') === 0; i++) {
      p.advanceUntilOutput(5_000);
      p.takeAll();
    }
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
    expect(conn.snd.cc.cwnd).toBe(mss);
    for (let k = 1; k <= 4; k++) {
      p.sendAck({ ack: at(k), options: { sack: [[(una + sentTop - 2 * mss) >>> 0, (una + sentTop) >>> 0]] } });
      p.flush();
      p.takeAll();
    }
    expect(conn.snd.cc.cwnd).toBeGreaterThanOrEqual(4 * mss);
  });
});
