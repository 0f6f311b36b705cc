/**
 * Loss recovery against a scripted peer: RFC 2018 (SACK blocks we generate), RFC 6675
 * (SACK-based recovery: retransmit holes only), RFC 5681 3.2 (fast retransmit on the
 * third duplicate ACK), RFC 6582 (NewReno partial ACKs, peer without SACK).
 */
import { describe, expect, it } from 'vitest';
import { LINUX_SYN, TCP_ACK, TCP_PSH, TcpPeer } from '../../helpers/tcp-peer.js';

describe('RFC 2018 SACK blocks we send', () => {
  it('RFC 2018 4: out-of-order data is ACKed at once with SACK blocks, the block of the most recent segment first', () => {
    const p = new TcpPeer();
    const { rec } = p.passiveOpen();
    const s = p.seq;
    const d = (n: number) => new Uint8Array(n).fill(0x41);
    p.send({ flags: TCP_ACK, seq: s + 1000, payload: d(100) });
    p.expectSegment({ flags: TCP_ACK, ack: s, options: { sack: [[s + 1000, s + 1100]] } });
    p.send({ flags: TCP_ACK, seq: s + 2000, payload: d(100) });
    p.expectSegment({ flags: TCP_ACK, ack: s, options: { sack: [[s + 2000, s + 2100], [s + 1000, s + 1100]] } });
    p.send({ flags: TCP_ACK, seq: s + 1100, payload: d(100) }); // extends the first block
    p.expectSegment({ flags: TCP_ACK, ack: s, options: { sack: [[s + 1000, s + 1200], [s + 2000, s + 2100]] } });
    p.send({ flags: TCP_ACK, seq: s + 3000, payload: d(100) });
    p.send({ flags: TCP_ACK, seq: s + 4000, payload: d(100) });
    p.takeAll();
    p.send({ flags: TCP_ACK, seq: s + 5000, payload: d(100) });
    // With timestamps at most 3 blocks fit (RFC 2018 3): the newest three.
    const a = p.expectSegment({ flags: TCP_ACK, ack: s, options: { sack: [[s + 5000, s + 5100], [s + 4000, s + 4100], [s + 3000, s + 3100]] } });
    expect(a.headerLen).toBe(20 + 12 + 4 + 24);
    // Filling the first hole: ACKed at once; the delivered block leaves the SACK list and
    // (the segment advanced the ACK) the most recently received blocks are reported.
    p.send({ flags: TCP_ACK | TCP_PSH, seq: s, payload: d(1000) });
    p.expectSegment({ flags: TCP_ACK, ack: s + 1200, options: { sack: [[s + 5000, s + 5100], [s + 4000, s + 4100], [s + 3000, s + 3100]] } });
    expect(rec.bytes().length).toBe(1200);
    expect(p.counter('tcp_ooo_segments')).toBe(6);
  });

  it('RFC 2883 4 (1): a duplicate below RCV.NXT is reported as the first block of the next ACK (D-SACK), once', () => {
    const p = new TcpPeer();
    const { rec } = p.passiveOpen();
    const s = p.seq;
    const d = (n: number) => new Uint8Array(n).fill(0x41);
    p.send({ flags: TCP_ACK | TCP_PSH, seq: s, payload: d(1000) });
    p.takeAll();
    p.send({ flags: TCP_ACK | TCP_PSH, seq: s, payload: d(1000) }); // again: a spurious retransmission
    p.expectSegment({ flags: TCP_ACK, ack: s + 1000, options: { sack: [[s, s + 1000]] } });
    // A partial duplicate reports only its duplicate part.
    p.send({ flags: TCP_ACK | TCP_PSH, seq: s + 500, payload: d(1000) });
    const a = p.expectSegment({ flags: TCP_ACK, ack: s + 1500, options: { sack: [[s + 500, s + 1000]] } });
    expect(a.sack).toHaveLength(1);
    // The next ACK carries no D-SACK.
    p.send({ flags: TCP_ACK | TCP_PSH, seq: s + 1500, payload: d(1000) });
    p.send({ flags: TCP_ACK | TCP_PSH, seq: s + 2500, payload: d(1000) });
    expect(p.expectSegment({ flags: TCP_ACK, ack: s + 3500 }).sack).toEqual([]);
    expect(rec.bytes().length).toBe(3500);
    expect(p.counter('tcp_dsacks_tx')).toBe(2);
  });

  it('RFC 2883 4 (2): a duplicate of out-of-order data: the D-SACK block first, then the block holding it', () => {
    const p = new TcpPeer();
    p.passiveOpen();
    const s = p.seq;
    const d = (n: number) => new Uint8Array(n).fill(0x41);
    p.send({ flags: TCP_ACK, seq: s + 1000, payload: d(100) });
    p.send({ flags: TCP_ACK, seq: s + 1100, payload: d(100) });
    p.send({ flags: TCP_ACK, seq: s + 3000, payload: d(100) });
    p.takeAll();
    p.send({ flags: TCP_ACK, seq: s + 1100, payload: d(100) });
    p.expectSegment({ flags: TCP_ACK, ack: s, options: { sack: [[s + 1100, s + 1200], [s + 1000, s + 1200], [s + 3000, s + 3100]] } });
  });

  it('RFC 2883: no D-SACK without SACK-permitted', () => {
    const p = new TcpPeer();
    p.passiveOpen({ mss: 1460, wscale: 7, timestamps: true });
    const s = p.seq;
    p.send({ flags: TCP_ACK | TCP_PSH, seq: s, payload: 'x' });
    p.takeAll();
    p.send({ flags: TCP_ACK | TCP_PSH, seq: s, payload: 'x' });
    expect(p.expectSegment({ flags: TCP_ACK }).sack).toEqual([]);
  });

  it('RFC 2018 1: without SACK-permitted in the SYN we never send SACK blocks', () => {
    const p = new TcpPeer();
    p.passiveOpen({ mss: 1460, wscale: 7, timestamps: true });
    p.send({ flags: TCP_ACK, seq: p.seq + 1000, payload: 'x' });
    const a = p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(a.sack).toEqual([]);
    expect(a.headerLen).toBe(32);
  });
});

/** An established connection (SACK + timestamps, MSS 1448) with `n` full segments in flight. */
function inFlight(n: number, h = LINUX_SYN) {
  // RFC 6675's rules are what these tests check (TcpConfig.recovery; RACK is the default:
  // rfc8985-rack.test.ts). The scripted peer answers in the instant the data went out, so
  // RACK would see an RTT of 0 and mark the hole lost at the first SACK.
  const p = new TcpPeer({ tcp: { recovery: 'rfc6675' } });
  const { conn } = p.passiveOpen({ ...h, rtt: 10 });
  const mss = conn.snd.mss;
  conn.send(new Uint8Array(n * mss).fill(0x42));
  p.flush();
  const segs = p.takeAll();
  expect(segs.length).toBe(n);
  const una = p.ourIsn + 1;
  const at = (k: number) => (una + k * mss) >>> 0; // start of segment k (0-based)
  return { p, conn, mss, una, at };
}

describe('RFC 6675 SACK-based loss recovery', () => {
  it('RFC 6675 5 / RFC 5681 3.2: after 3 duplicate ACKs with SACK the first hole is retransmitted, and nothing SACKed is', () => {
    const { p, conn, mss, una, at } = inFlight(10);
    p.sendAck({ ack: una, options: { sack: [[at(1), at(2)]] } });
    p.sendAck({ ack: una, options: { sack: [[at(1), at(3)]] } });
    p.expectNothing();
    p.sendAck({ ack: una, options: { sack: [[at(1), at(4)]] } });
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: una, payloadLen: mss });
    p.expectNothing();
    expect(conn.snd.inRecovery).toBe(true);
    expect(p.counter('tcp_fast_retransmits')).toBe(1);
    expect(p.counter('tcp_sack_recoveries')).toBe(1);
    expect(p.counter('tcp_retransmits')).toBe(1);
    // RFC 6675 3 / RFC 5681 3.2: ssthresh = cwnd = FlightSize / 2.
    expect(conn.snd.cc.ssthresh).toBe(5 * mss);
  });

  it('RFC 6675 4 NextSeg: a second hole is retransmitted once IsLost() holds for it and pipe < cwnd; SACKed segments never are', () => {
    const { p, conn, mss, una, at } = inFlight(10);
    // Segments 0 and 2 are lost; 1 and 3.. arrive.
    p.sendAck({ ack: una, options: { sack: [[at(1), at(2)]] } });
    p.sendAck({ ack: una, options: { sack: [[at(3), at(4)], [at(1), at(2)]] } });
    p.sendAck({ ack: una, options: { sack: [[at(3), at(5)], [at(1), at(2)]] } });
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: at(0), payloadLen: mss });
    p.expectNothing();
    p.sendAck({ ack: una, options: { sack: [[at(3), at(6)], [at(1), at(2)]] } });
    p.sendAck({ ack: una, options: { sack: [[at(3), at(7)], [at(1), at(2)]] } });
    const rx = p.takeAll();
    // Segment 2 is lost now (3+ segments SACKed above it) and pipe fell below cwnd.
    expect(rx.map((s) => (s.seq - una) / mss)).toEqual([2]);
    p.sendAck({ ack: una, options: { sack: [[at(3), at(10)], [at(1), at(2)]] } });
    p.expectNothing();
    // The retransmission of 0 arrives: a partial ACK up to the next hole.
    p.sendAck({ ack: at(2), options: { sack: [[at(3), at(10)]] } });
    expect(conn.snd.inRecovery).toBe(true);
    p.sendAck({ ack: at(10) });
    expect(conn.snd.inRecovery).toBe(false);
    expect(conn.snd.cc.cwnd).toBe(conn.snd.cc.ssthresh);
    expect(p.counter('tcp_retransmits')).toBe(2);
    p.expectNothing(p.now + 5000); // no RTO: everything is acknowledged
  });

  it('RFC 6675 5.1: after an RTO, no new recovery until the cumulative ACK reaches the RTO\'s RecoveryPoint (duplicate ACKs with SACK blocks included)', () => {
    const { p, conn, mss, una, at } = inFlight(8);
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: at(7), payloadLen: mss }, 5000); // the tail loss probe
    p.expectSegment({ flags: TCP_ACK, seq: una, payloadLen: mss }, 5000);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
    // The old flight's segments 1..4 arrive late behind a lost segment 0.
    for (let k = 2; k <= 5; k++) p.sendAck({ ack: una, options: { sack: [[at(1), at(k)]] } });
    expect(p.counter('tcp_fast_retransmits')).toBe(0);
    expect(p.counter('tcp_sack_recoveries')).toBe(0);
    expect(conn.snd.inRecovery).toBe(false);
    p.sendAck({ ack: at(8) });
    expect(conn.snd.inRtoRecovery).toBe(false);
  });
});

describe('RFC 5681 / RFC 6582 without SACK', () => {
  const NO_SACK = { mss: 1460, wscale: 7, timestamps: false };

  it('RFC 5681 3.2: the third duplicate ACK (not the first two) triggers a fast retransmit of SND.UNA', () => {
    const { p, mss, una } = inFlight(6, NO_SACK);
    expect(mss).toBe(1460);
    p.sendAck({ ack: una });
    p.expectNothing();
    p.sendAck({ ack: una });
    p.expectNothing();
    p.sendAck({ ack: una });
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: una, payloadLen: mss });
    p.expectNothing();
    expect(p.counter('tcp_fast_retransmits')).toBe(1);
  });

  it('RFC 5681 2: ACKs that carry data or change the window are not duplicate ACKs', () => {
    const { p, una } = inFlight(6, NO_SACK);
    p.sendData('a', { ack: una });
    p.sendAck({ ack: una, window: p.window - 1 });
    p.sendAck({ ack: una, window: p.window - 2 });
    p.takeAll();
    p.sendAck({ ack: una, window: p.window - 2 });
    p.sendAck({ ack: una, window: p.window - 2 });
    expect(p.takeAll().filter((s) => s.payload.length > 0)).toEqual([]);
    expect(p.counter('tcp_fast_retransmits')).toBe(0);
  });

  it('RFC 6582 3.2 step 1 / 4.1: after an RTO, duplicate ACKs for data sent before it start no fast retransmit until SND.UNA passes `recover`', () => {
    const { p, conn, mss, una, at } = inFlight(8, NO_SACK);
    // Every ACK of the flight is lost: the RTO resends segment 0 (cwnd one segment).
    p.expectSegment({ flags: TCP_ACK, seq: una, payloadLen: mss }, 5000);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
    expect(conn.snd.inRtoRecovery).toBe(true);
    // Segments 1..3 of the old flight arrive late behind a lost segment 0: three duplicate ACKs.
    for (let i = 0; i < 3; i++) p.sendAck({ ack: una });
    expect(p.counter('tcp_fast_retransmits')).toBe(0);
    expect(conn.snd.inRecovery).toBe(false);
    expect(p.takeAll().filter((x) => x.payload.length > 0 && x.seq === una)).toEqual([]);
    // The resent segment 0 arrives: the ACK covers the old flight up to segment 4, not
    // `recover` (SND.MAX at the RTO); go-back-N goes on by slow start.
    p.sendAck({ ack: at(4) });
    expect(conn.snd.inRtoRecovery).toBe(true);
    // Everything ACKed: the RTO's recovery is over, and a new loss may start a fast retransmit.
    p.sendAck({ ack: at(8) });
    expect(conn.snd.inRtoRecovery).toBe(false);
    p.takeAll();
    conn.send(new Uint8Array(6 * mss).fill(0x43));
    p.flush();
    expect(p.takeAll().filter((x) => x.payload.length > 0).length).toBeGreaterThan(3);
    for (let i = 0; i < 3; i++) p.sendAck({ ack: at(8) });
    expect(p.takeAll().filter((x) => x.seq === at(8)).map((x) => x.payload.length)).toEqual([mss]);
    expect(p.counter('tcp_fast_retransmits')).toBe(1);
  });

  it('RFC 6582 3.2 step 5: a partial ACK in NewReno recovery retransmits the next hole at once (counted tcp_partial_acks)', () => {
    const { p, conn, mss, una, at } = inFlight(8, NO_SACK);
    // Segments 0 and 3 are lost.
    for (let i = 0; i < 3; i++) p.sendAck({ ack: una });
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: at(0), payloadLen: mss });
    for (let i = 0; i < 3; i++) p.sendAck({ ack: una });
    p.expectNothing();
    // The retransmitted segment 0 fills the first hole: partial ACK up to segment 3.
    p.sendAck({ ack: at(3) });
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: at(3), payloadLen: mss });
    p.expectNothing();
    expect(p.counter('tcp_partial_acks')).toBe(1);
    expect(conn.snd.inRecovery).toBe(true);
    // Full ACK: recovery ends, cwnd deflates to ssthresh (RFC 6582 3.2 step 6).
    p.sendAck({ ack: at(8) });
    expect(conn.snd.inRecovery).toBe(false);
    expect(conn.snd.cc.cwnd).toBe(conn.snd.cc.ssthresh);
    expect(p.counter('tcp_retransmits')).toBe(2);
    expect(p.counter('tcp_fast_retransmits')).toBe(1);
  });
});
