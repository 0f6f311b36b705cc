/**
 * RFC 8985 section 6 (RACK): losses marked by time with a reordering window, the reorder
 * timer, the window's growth on D-SACK and decay, TSO chunks. Scripted Linux-like peer
 * (test/helpers/tcp-peer.ts) and two cores (test/helpers/tcp-pair.ts), virtual clock.
 *
 * The handshakes take 10 ms: SRTT = 10 ms; the first ACK of data 10 ms after it was sent
 * gives RACK.min_RTT = 10 ms, so reo_wnd = min_RTT / 4 = 2.5 ms.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import type { RackRecovery } from '../../../src/tcp/recovery/rack.js';
import { MIN_RTT_WINDOW_MS, REO_WND_MIN_MS, REO_WND_PERSIST } from '../../../src/tcp/recovery/rack.js';
import { T_REORDER, T_RTO } from '../../../src/tcp/timers.js';
import { TCP_ACK, TCP_PSH, TcpPeer } from '../../helpers/tcp-peer.js';
import { TcpPair } from '../../helpers/tcp-pair.js';
import { patternBytes } from '../../helpers/frames.js';

const MSS = 1460;
const SEG = MSS - 12;
const SACK_TS = { mss: MSS, wscale: 7, sackPermitted: true, timestamps: true, rtt: 10 };

function established(recovery: 'rack' | 'rfc6675' = 'rack') {
  const p = new TcpPeer({ tcp: { recovery } });
  const { conn } = p.passiveOpen(SACK_TS);
  const rack = (conn.snd as unknown as { recovery: RackRecovery }).recovery;
  return { p, conn, rack };
}

/** Sends `n` full segments (cwnd opened to them) and returns their sequence numbers (taken from the wire). */
function burst(p: TcpPeer, conn: ReturnType<typeof established>['conn'], n: number): number[] {
  if (conn.snd.cc.cwnd < n * SEG) conn.snd.cc.cwnd = n * SEG;
  conn.send(new Uint8Array(n * SEG));
  p.flush();
  return p.takeAll().map((s) => s.seq);
}

describe('RFC 8985 6.2: losses marked by time', () => {
  it('6.2 step 5: one SACK above a hole marks it lost only once reo_wnd (min_RTT/4) has passed: the reorder timer, not three duplicate ACKs', () => {
    const { p, conn, rack } = established();
    const t0 = p.now;
    const seqs = burst(p, conn, 10);
    p.advance(10);
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[2]]] } });
    expect(rack.minRtt).toBeCloseTo(10, 3);
    expect(rack.reoWnd()).toBeCloseTo(2.5, 3);
    expect(conn.timers.deadline(T_REORDER)).toBeCloseTo(t0 + 12.5, 3);
    p.expectNothing(t0 + 12);
    expect(conn.snd.inRecovery).toBe(false);
    const rtx = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: seqs[0], payloadLen: SEG }, 1);
    expect(rtx.seq).toBe(seqs[0]);
    expect(p.now).toBeCloseTo(t0 + 12.5, 3);
    expect(conn.snd.inRecovery).toBe(true);
    expect(p.counter('tcp_rack_reorder_timeouts')).toBe(1);
    expect(p.counter('tcp_fast_retransmits')).toBe(1);
    expect(p.counter('tcp_retransmits')).toBe(1);
  });

  it('the same ACKs under RFC 6675 (recovery: rfc6675): one SACK is one duplicate ACK, nothing is sent at reo_wnd', () => {
    const { p, conn } = established('rfc6675');
    const t0 = p.now;
    const seqs = burst(p, conn, 10);
    p.advance(10);
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[2]]] } });
    p.expectNothing(t0 + 15);
    expect(conn.snd.inRecovery).toBe(false);
    expect(conn.timers.armed(T_REORDER)).toBe(false);
  });

  it('6.2 step 4: with DupThresh segments SACKed and no reordering seen, reo_wnd is 0: the hole is lost on that ACK', () => {
    const { p, conn, rack } = established();
    const seqs = burst(p, conn, 10);
    p.advance(10);
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[2]]] } });
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[3]]] } });
    p.expectNothing();
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[4]]] } });
    expect(rack.reoWnd()).toBe(0);
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: seqs[0], payloadLen: SEG });
    expect(p.counter('tcp_rack_reorder_timeouts')).toBe(0);
  });

  it('RFC 6675 4 (3): the fast retransmit of a hole shorter than SMSS (the tail of a TSO chunk) resends the hole alone, not the SACKed bytes after it', () => {
    // Found in the lab (2 % reordering, pcap): the peer held 376 bytes back and SACKed the
    // rest; the retransmission of SND.UNA carried SMSS bytes, 1072 of them SACKed, and the
    // peer answered those with a D-SACK that said nothing of the hole.
    const { p, conn } = established();
    const seqs = burst(p, conn, 10);
    const hole = 376;
    p.advance(10);
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[0] + hole, seqs[4]]] } });
    const rtx = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: seqs[0], payloadLen: hole });
    expect(rtx.seq).toBe(seqs[0]);
    expect(conn.snd.inRecovery).toBe(true);
    expect(p.counter('tcp_retransmits')).toBe(1);
  });

  it('reordering: a segment delayed less than reo_wnd is not retransmitted; once reordering is seen, three SACKed segments wait reo_wnd too', () => {
    const { p, conn, rack } = established();
    const t0 = p.now;
    const seqs = burst(p, conn, 10);
    p.advance(10);
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[2]]] } });
    p.advance(1); // segment 0 arrives 1 ms late (< 2.5 ms)
    p.sendAck({ ack: seqs[2] });
    expect(conn.timers.armed(T_REORDER)).toBe(false);
    p.expectNothing(t0 + 15);
    expect(p.counter('tcp_retransmits')).toBe(0);
    expect(p.counter('tcp_rack_reordering_seen')).toBe(1);
    // Segment 2 missing, 3..5 SACKed: with reordering seen the window stays min_RTT/4.
    p.sendAck({ ack: seqs[2], options: { sack: [[seqs[3], seqs[6]]] } });
    expect(rack.reoWnd()).toBeCloseTo(2.5, 3);
    p.expectNothing();
    const rtx = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: seqs[2], payloadLen: SEG }, 3);
    expect(rtx.seq).toBe(seqs[2]);
    expect(p.counter('tcp_rack_reorder_timeouts')).toBe(1);
  });
});

describe('RFC 8985 6.2 steps 2 and 3: which delivery is which', () => {
  it('6.2 step 3: a cumulative ACK over originals never retransmitted shows reordering, also when the first segment of the hole was retransmitted', () => {
    // A TSO chunk held back behind the next one (the lab's reordering): segments 0..3
    // arrive after 4..6 were SACKed. With DupThresh SACKed and no reordering seen yet the
    // hole is lost at once and segment 0 goes again; 1..3 are then delivered by their
    // original transmissions, below RACK.fack: that is reordering, whatever filled 0.
    const { p, conn, rack } = established();
    const seqs = burst(p, conn, 10);
    p.advance(10);
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[4], seqs[7]]] } });
    const rtx = p.takeAll();
    expect(rtx.length).toBeGreaterThanOrEqual(1);
    expect(rtx.length).toBeLessThan(4);
    expect(rtx[0].seq).toBe(seqs[0]);
    expect(p.counter('tcp_rack_reordering_seen')).toBe(0);
    p.advance(1);
    p.sendAck({ ack: seqs[7] });
    expect(p.counter('tcp_rack_reordering_seen')).toBe(1);
    // Reordering seen: the next hole with DupThresh segments SACKed above waits reo_wnd.
    p.sendAck({ ack: seqs[7], options: { sack: [[seqs[8], (seqs[9] + SEG) >>> 0]] } });
    expect(rack.reoWnd()).toBeGreaterThan(0);
    expect(conn.timers.armed(T_REORDER)).toBe(true);
  });

  it('6.2 step 2: a cumulative ACK whose TSecr is older than the retransmission was for the original: RACK.xmit_ts stays, nothing sent after is marked lost', () => {
    const { p, conn } = established();
    if (conn.snd.cc.cwnd < 10 * SEG) conn.snd.cc.cwnd = 10 * SEG;
    conn.send(new Uint8Array(10 * SEG));
    p.flush();
    const sent = p.takeAll();
    const seqs = sent.map((s) => s.seq);
    const originalTsVal = sent[0].options.tsVal;
    p.advance(10);
    // Segments 1..4 SACKed: segment 0 lost at once (reo_wnd 0) and retransmitted.
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[5]]] } });
    const rtx = p.takeAll();
    expect(rtx.map((s) => s.seq)).toEqual([seqs[0]]);
    expect(rtx[0].options.tsVal).not.toBe(originalTsVal);
    const marked = p.counter('tcp_rack_marked_lost');
    // 12 ms later (more than min_RTT after the retransmission) the original arrives: the
    // peer's ACK echoes the original's TSval (RFC 7323 TS.Recent: the segment that filled
    // the hole). Taken for the retransmission's, RACK.xmit_ts would jump past segments
    // 5..9 (sent at the original's time, 22 ms ago) and mark them lost.
    p.advance(12);
    p.sendAck({ ack: seqs[5], options: { ts: [p.tsVal(), originalTsVal] } });
    expect(p.counter('tcp_rack_marked_lost')).toBe(marked);
    p.expectNothing(p.now + 1);
    expect(p.counter('tcp_retransmits')).toBe(1);
  });
});

describe('RFC 8985 6.2: retransmissions delivered', () => {
  it('6.2 step 2: a retransmission SACKed before it was sent again is not delivered anew on every later ACK (its resend would be marked lost again at once)', () => {
    const { p, conn } = established();
    const seqs = burst(p, conn, 10);
    p.advance(10);
    // 4..8 SACKed: 0..3 lost at once (reo_wnd 0); retransmitted back to back, one run.
    conn.snd.cc.cwnd = 20 * SEG;
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[4], seqs[9]]] } });
    const first = p.takeAll().map((s) => s.seq);
    expect(first).toEqual(seqs.slice(0, 4));
    p.advance(10);
    // The retransmissions of 1..3 arrive, that of 0 does not: 0 is lost again and resent once.
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[9]]] } });
    expect(p.takeAll().map((s) => s.seq)).toEqual([seqs[0]]);
    const retransmits = p.counter('tcp_retransmits') + p.counter('tcp_lost_retransmits');
    // 10.5 ms on, segment 9 (an original) is SACKed: nothing new of the run was delivered,
    // so RACK.xmit_ts does not move to the resend's time and the resend is not judged.
    p.advance(10.5);
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], (seqs[9] + SEG) >>> 0]] } });
    expect(p.takeAll().filter((s) => s.seq === seqs[0])).toHaveLength(0);
    expect(p.counter('tcp_retransmits') + p.counter('tcp_lost_retransmits')).toBe(retransmits);
  });
  it('6.2 step 5: a segment inside a retransmission run is lost again while the run\'s first and last segments arrived: it is resent, not left to the RTO', () => {
    const { p, conn } = established();
    const seqs = burst(p, conn, 12);
    p.advance(10);
    // 1 and 6..11 SACKed: 0 and 2..5 lost at once (reo_wnd 0); 2..5 go back to back, one run.
    conn.snd.cc.cwnd = 20 * SEG;
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[2]], [seqs[6], (seqs[11] + SEG) >>> 0]] } });
    expect(p.takeAll().map((s) => s.seq)).toEqual([seqs[0], seqs[2], seqs[3], seqs[4], seqs[5]]);
    p.advance(10);
    // The resends of 2, 3 and 5 arrive; those of 0 and 4 (inside the run 2..5) do not.
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[4]], [seqs[5], (seqs[11] + SEG) >>> 0]] } });
    const again = p.takeAll().map((s) => s.seq);
    expect(again).toContain(seqs[4]);
    expect(again).toContain(seqs[0]);
    expect(again.filter((q) => q === seqs[2] || q === seqs[3] || q === seqs[5])).toEqual([]);
  });
});

describe('RFC 8985 6.2 step 5 on a sub-millisecond path', () => {
  /**
   * RACK.min_RTT 0 (an ACK in the same millisecond as the data, as on the lab's 0.1 ms
   * path); 12 segments out, 1 ms later 6..11 SACKed: 0..5 lost at once (reo_wnd 0) and
   * resent back to back, one run. In the same millisecond `sack` arrives (with 6..11); then
   * the ACKs stop. Segment 0's resend, lost again, must go once more 1 ms later, not at the RTO.
   */
  function runLostInItsMillisecond(sack: (seqs: number[]) => [number, number][]): void {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ ...SACK_TS, rtt: 1 });
    const first = burst(p, conn, 2);
    p.sendAck({ ack: (first[1] + SEG) >>> 0 });
    const seqs = burst(p, conn, 12);
    p.advance(1);
    conn.snd.cc.cwnd = 30 * SEG;
    const end = (seqs[11] + SEG) >>> 0;
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[6], end]] } });
    expect(p.takeAll().map((s) => s.seq)).toEqual(seqs.slice(0, 6));
    p.sendAck({ ack: seqs[0], options: { sack: [...sack(seqs), [seqs[6], end]] } });
    expect(p.takeAll().filter((s) => s.seq === seqs[0])).toEqual([]);
    const t = p.now;
    const again = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: seqs[0] }, 5);
    expect(again.at - t).toBeLessThanOrEqual(1);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
  }

  it('a retransmission found lost in the millisecond it was sent (not judged then) gets the reorder timer: resent 1 ms later, no RTO', () => {
    // The resends of 1..5 arrive, not that of 0.
    runLostInItsMillisecond((seqs) => [[seqs[1], seqs[6]]]);
  });

  it('a run SACKed only in its middle counts as delivered there: the segment before it in the run, lost again, is resent 1 ms later, no RTO', () => {
    // Of the run 0..5 only the resend of 1 is SACKed.
    runLostInItsMillisecond((seqs) => [[seqs[1], seqs[2]]]);
  });
});

describe('RFC 8985 6.2 step 4: reo_wnd adapted by D-SACK', () => {
  it('6.2 step 4 on a sub-millisecond path: reo_wnd is at least REO_WND_MIN_MS, not min_RTT/4 of a 0.2 ms RTT', () => {
    // The lab's reordering holds a frame 0.1–1 ms (a TSO chunk behind the next one); a
    // 0.05 ms window (min_RTT 0.2 ms / 4) marks it lost before it comes.
    const p = new TcpPeer({ tcp: { recovery: 'rack' } });
    const { conn } = p.passiveOpen({ ...SACK_TS, rtt: 0.2 });
    const rack = (conn.snd as unknown as { recovery: RackRecovery }).recovery;
    const seqs = burst(p, conn, 10);
    p.advance(0.2);
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[2]]] } });
    expect(rack.minRtt).toBeCloseTo(0.2, 3);
    expect(rack.reoWnd()).toBe(REO_WND_MIN_MS);
    p.advance(0.5); // segment 0 arrives 0.5 ms late
    p.sendAck({ ack: seqs[2] });
    expect(p.counter('tcp_retransmits')).toBe(0);
    expect(conn.timers.armed(T_REORDER)).toBe(false);
  });

  it('a D-SACK doubles the window (reo_wnd_mult 2); it returns to min_RTT/4 after 16 recoveries without one', () => {
    const { p, conn, rack } = established();
    let seqs = burst(p, conn, 4);
    p.advance(10);
    const end = (seqs[3] + SEG) >>> 0;
    p.sendAck({ ack: end });
    expect(rack.reoWnd()).toBeCloseTo(2.5, 3);
    // The peer reports a duplicate of segment 0 (RFC 2883: a block below the ACK).
    p.sendAck({ ack: end, options: { sack: [[seqs[0], seqs[1]]] } });
    expect(p.counter('tcp_dsacks_rx')).toBe(1);
    expect(rack.reoWndMult).toBe(2);
    expect(rack.reoWnd()).toBeCloseTo(5, 3);
    for (let round = 1; round <= REO_WND_PERSIST; round++) {
      seqs = burst(p, conn, 4);
      expect(seqs).toHaveLength(4);
      p.advance(10);
      p.sendAck({ ack: seqs[0], options: { sack: [[seqs[1], seqs[2]]] } });
      p.advance(5); // the reorder timer (reo_wnd: 5 ms, 2.5 ms once back to 1)
      expect(conn.snd.inRecovery).toBe(true);
      p.takeAll();
      p.sendAck({ ack: (seqs[3] + SEG) >>> 0 });
      expect(conn.snd.inRecovery).toBe(false);
      expect(rack.reoWndMult).toBe(round < REO_WND_PERSIST ? 2 : 1);
    }
    expect(rack.reoWnd()).toBeCloseTo(2.5, 3);
    expect(p.counter('tcp_rack_reorder_timeouts')).toBe(REO_WND_PERSIST);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
  });
});

describe('RFC 8985 6.3: upon RTO expiration', () => {
  /** Established with tail loss probes off (the T_RTO slot holds the RTO itself); RACK.rtt 10 ms. */
  function rtoReady(recovery: 'rack' | 'rfc6675' = 'rack') {
    const p = new TcpPeer({ tcp: { recovery, tailLossProbe: false } });
    const { conn } = p.passiveOpen(SACK_TS);
    const rack = (conn.snd as unknown as { recovery: RackRecovery }).recovery;
    return { p, conn, rack };
  }

  /**
   * 10 segments out; 10 ms later 0..4 are ACKed (RACK.rtt 10 ms), 5..9 stay outstanding.
   * With `late` > 0 the application writes `late` more segments 3 ms before the RTO, sent
   * at once (cwnd has room). Returns at the RTO's deadline, with nothing taken after it.
   */
  function flightThenRto(p: TcpPeer, conn: ReturnType<typeof rtoReady>['conn'], late: number) {
    const seqs = burst(p, conn, 10);
    p.advance(10);
    p.sendAck({ ack: seqs[5] });
    const rtoAt = conn.timers.deadline(T_RTO);
    let lateSeqs: number[] = [];
    if (late > 0) {
      p.advance(rtoAt - p.now - 3);
      conn.send(new Uint8Array(late * SEG));
      p.flush();
      lateSeqs = p.takeAll().map((s) => s.seq);
      expect(lateSeqs).toHaveLength(late);
      expect(conn.timers.deadline(T_RTO)).toBe(rtoAt);
    }
    p.advance(rtoAt - p.now);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
    return { seqs, lateSeqs, end: (seqs[9] + SEG) >>> 0 };
  }

  /** ACKs each round of data segments cumulatively, 10 ms after it; the sequence numbers sent. */
  function ackRounds(p: TcpPeer, sack: (ack: number) => Array<[number, number]> = () => []): number[] {
    const sent: number[] = [];
    for (let round = 0; round < 20; round++) {
      const out = p.takeAll().filter((s) => s.payload.length > 0);
      if (out.length === 0) break;
      sent.push(...out.map((s) => s.seq));
      p.advance(10);
      const last = out[out.length - 1];
      const ack = (last.seq + last.payload.length) >>> 0;
      const blocks = sack(ack);
      p.sendAck(blocks.length > 0 ? { ack, options: { sack: blocks } } : { ack });
    }
    return sent;
  }

  it('6.3: segments sent less than RACK.rtt + reo_wnd before the RTO are not marked lost: only the old ones are resent, the recent ones SACKed later are not', () => {
    const { p, conn, rack } = rtoReady();
    const { seqs, lateSeqs, end } = flightThenRto(p, conn, 3);
    const lateEnd = (lateSeqs[2] + SEG) >>> 0;
    expect(rack.rtoResendLimit()).toBe(end);
    // The recent segments were in flight on a slow path: they arrive after the RTO and are
    // SACKed on the ACKs of the resends.
    const resent = ackRounds(p, (ack) => (ack === lateSeqs[0] ? [] : [[lateSeqs[0], lateEnd]]));
    expect(resent).toEqual(seqs.slice(5, 10));
    expect(conn.snd.sndUna).toBe(lateSeqs[0]);
    p.sendAck({ ack: lateEnd });
    expect(conn.snd.sndUna).toBe(lateEnd);
    expect(p.takeAll().filter((s) => s.payload.length > 0)).toEqual([]);
    expect(p.counter('tcp_retransmits')).toBe(5);
    expect(p.counter('tcp_fast_retransmits')).toBe(0);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
  });

  it('6.3: the path was only slow: the flight\'s ACK comes after the RTO\'s resend of the first segment; the recent segments are not resent while in flight', () => {
    const { p, conn } = rtoReady();
    const { seqs, lateSeqs } = flightThenRto(p, conn, 3);
    expect(p.takeAll().map((s) => s.seq)).toEqual([seqs[5]]);
    p.advance(2);
    p.sendAck({ ack: lateSeqs[0] }); // 5..9's originals arrived
    expect(p.takeAll().filter((s) => s.payload.length > 0)).toEqual([]);
    p.advance(8);
    // The recent segments' ACK, with the D-SACK of the one resend: the RTO was spurious
    // and its reduction is undone (decision 0035), which go-back-N's resends of them prevent.
    p.sendAck({ ack: (lateSeqs[2] + SEG) >>> 0, options: { sack: [[seqs[5], seqs[6]]] } });
    expect(p.counter('tcp_retransmits')).toBe(1);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
    expect(p.counter('tcp_rto_undos')).toBe(1);
  });

  it('RFC 6675 (recovery: rfc6675) keeps go-back-N: the same RTO resends the recent segments too', () => {
    const { p, conn } = rtoReady('rfc6675');
    const { seqs, lateSeqs } = flightThenRto(p, conn, 3);
    expect(ackRounds(p)).toEqual([...seqs.slice(5, 10), ...lateSeqs]);
  });

  it('6.3: a recent segment lost too is marked by step 5 once a resend sent after it is delivered, and resent without a fast recovery or a second RTO', () => {
    const { p, conn } = rtoReady();
    const { seqs, lateSeqs } = flightThenRto(p, conn, 3);
    const resent = ackRounds(p);
    expect(resent).toEqual([...seqs.slice(5, 10), ...lateSeqs]);
    expect(conn.snd.sndUna).toBe((lateSeqs[2] + SEG) >>> 0);
    expect(p.counter('tcp_fast_retransmits')).toBe(0);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
  });

  it('6.3: an RTO where everything outstanding was sent long ago marks it all lost: resent in order as before (go-back-N)', () => {
    const { p, conn, rack } = rtoReady();
    const { seqs, end } = flightThenRto(p, conn, 0);
    expect(rack.rtoResendLimit()).toBe(-1);
    const resent = ackRounds(p);
    expect(resent).toEqual(seqs.slice(5, 10));
    expect(conn.snd.sndUna).toBe(end);
    expect(p.counter('tcp_retransmits')).toBe(5);
    expect(p.counter('tcp_fast_retransmits')).toBe(0);
  });

  it('6.3: a second RTO after a go-back-N one: the bytes sent before the log was emptied are old, all lost, not only the first segment', () => {
    const { p, conn, rack } = rtoReady();
    const { seqs, end } = flightThenRto(p, conn, 0);
    expect(p.takeAll().map((s) => s.seq)).toEqual([seqs[5]]); // lost again
    p.advance(conn.timers.deadline(T_RTO) - p.now);
    expect(p.counter('tcp_rto_timeouts')).toBe(2);
    expect(rack.rtoResendLimit()).toBe(-1);
    expect(ackRounds(p)).toEqual(seqs.slice(5, 10));
    expect(conn.snd.sndUna).toBe(end);
    expect(p.counter('tcp_rto_timeouts')).toBe(2);
  });

  it('6.2 step 4: reo_wnd_persist counts RTO recoveries too: the window multiplier returns to 1 after 16 RTO recoveries without a D-SACK', () => {
    const { p, conn, rack } = rtoReady();
    let seqs = burst(p, conn, 4);
    p.advance(10);
    const end = (seqs[3] + SEG) >>> 0;
    p.sendAck({ ack: end });
    p.sendAck({ ack: end, options: { sack: [[seqs[0], seqs[1]]] } });
    expect(rack.reoWndMult).toBe(2);
    for (let round = 1; round <= REO_WND_PERSIST; round++) {
      seqs = burst(p, conn, 2);
      p.advance(conn.timers.deadline(T_RTO) - p.now);
      expect(p.counter('tcp_rto_timeouts')).toBe(round);
      p.takeAll();
      p.advance(10);
      p.sendAck({ ack: (seqs[1] + SEG) >>> 0 });
      expect(conn.snd.sndUna).toBe((seqs[1] + SEG) >>> 0);
      expect(rack.reoWndMult).toBe(round < REO_WND_PERSIST ? 2 : 1);
    }
  });
});

describe('RFC 8985 6 between two cores', () => {
  it('TSO chunks: one segment of a 65 000-byte chunk lost is marked by time (the chunk is one log entry) and resent alone, no RTO', () => {
    const pair = new TcpPair({ tcp: { recovery: 'rack' } }, { tcp: { recovery: 'rack' } }, { capabilities: { txChecksum: true, tsoMaxPayload: 65_000 }, deliver: 'wire' });
    pair.delay = 5;
    const { client, s } = pair.connect(80);
    let dataFrames = 0;
    pair.fault = (f) => (f.from === 'A' && f.frame.length > 1000 && ++dataFrames === 3 ? [] : [f]);
    const data = patternBytes(40 * SEG, 5);
    client.send(data);
    pair.run();
    expect(s.bytes().equals(Buffer.from(data))).toBe(true);
    expect(pair.countersA[C.tcp_rack_marked_lost]).toBeGreaterThanOrEqual(1);
    expect(pair.countersA[C.tcp_fast_retransmits]).toBe(1);
    expect(pair.countersA[C.tcp_retransmits]).toBe(1);
    expect(pair.countersA[C.tcp_rto_timeouts]).toBe(0);
  });
});

describe('RFC 8985 6.2: RACK.min_RTT over a window (Linux tcp_min_rtt_wlen, 5 minutes)', () => {
  /** One segment sent now and ACKed `rtt` ms later. */
  function exchange(p: TcpPeer, conn: ReturnType<typeof established>['conn'], rtt: number): void {
    const [seq] = burst(p, conn, 1);
    p.advance(rtt);
    p.sendAck({ ack: (seq + SEG) >>> 0 });
    p.takeAll();
  }

  it('a higher RTT does not raise min_RTT inside the window; once the low sample is older than the window, min_RTT follows the path', () => {
    const { p, conn, rack } = established();
    exchange(p, conn, 10);
    expect(rack.minRtt).toBeCloseTo(10, 3);
    p.advance(100_000);
    exchange(p, conn, 40);
    expect(rack.minRtt).toBeCloseTo(10, 3); // 100 s later: still the window's minimum
    p.advance(MIN_RTT_WINDOW_MS);
    exchange(p, conn, 40);
    expect(rack.minRtt).toBeCloseTo(40, 3); // the 10 ms sample left the window
    expect(rack.reoWnd()).toBeCloseTo(10, 3); // min_RTT / 4 of the path as it is now (2.5 before)
  });
});

describe('RFC 8985 6.2: lost retransmissions across a run and across recoveries', () => {
  /** `n` segments out with cwnd opened to them and `more` segments of data queued behind; returns segment i's sequence number. */
  function sent(p: TcpPeer, conn: ReturnType<typeof established>['conn'], n: number, more: number): (i: number) => number {
    conn.snd.cc.cwnd = n * SEG;
    conn.send(new Uint8Array((n + more) * SEG));
    p.flush();
    const s0 = p.takeAll()[0].seq;
    return (i) => (s0 + i * SEG) >>> 0;
  }
  /** Segment numbers of what was sent since the last call. */
  const out = (p: TcpPeer, at: (i: number) => number) => p.takeAll().map((s) => seqIndex(s.seq, at));
  const seqIndex = (seq: number, at: (i: number) => number) => ((seq - at(0)) >>> 0) / SEG;

  it('6.2 step 5: a run of retransmissions that RACK\'s segment cuts keeps its part after that segment, which is resent once a later one is delivered', () => {
    // Found with a 10 % two-core transfer: segments 3 and 4 resent together (one run), 3's
    // copy delivered and 4's lost; judging the run up to 3 found nothing left to send there
    // and dropped the whole run, so 4 waited for the RTO.
    const { p, conn } = established();
    const at = sent(p, conn, 10, 10);
    p.advance(10);
    p.sendAck({ ack: at(0), options: { sack: [[at(5), at(10)], [at(1), at(3)]] } }); // 0, 3, 4 lost
    expect(out(p, at)).toEqual([0, 3, 4, 10, 11]); // 3 and 4 in one run
    p.advance(10);
    p.sendAck({ ack: at(0), options: { sack: [[at(1), at(4)], [at(5), at(10)]] } }); // 3's copy arrived, 4's did not
    expect(out(p, at)).not.toContain(4);
    // New data sent after the run is delivered: 4's copy is lost by time, sent again now.
    p.sendAck({ ack: at(0), options: { sack: [[at(10), at(11)], [at(1), at(4)], [at(5), at(10)]] } });
    expect(out(p, at)).toContain(4);
    expect(p.counter('tcp_lost_retransmits')).toBeGreaterThanOrEqual(1);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
  });

  it('RFC 6675 5 and 6.2: a recovery that starts while the last one\'s retransmissions are in flight does not send them again (as Linux skips SACKED_RETRANS)', () => {
    // 10 % two-core transfers with BBR: a fifth to a third of all retransmissions were of
    // segments whose earlier copy had arrived (D-SACKed), sent when a recovery began right
    // after one ended with HighRxt moved back to SND.UNA.
    const { p, conn } = established();
    const at = sent(p, conn, 10, 20);
    p.advance(10);
    p.sendAck({ ack: at(0), options: { sack: [[at(1), at(10)]] } }); // 0 lost: recovery, point 10
    expect(out(p, at)).toEqual([0, 10, 11, 12, 13]);
    p.advance(10);
    p.sendAck({ ack: at(0), options: { sack: [[at(11), at(12)], [at(1), at(10)]] } }); // 10 lost (sent past the point)
    expect(out(p, at)).toContain(10);
    expect(conn.snd.inRecovery).toBe(true);
    p.advance(10);
    p.sendAck({ ack: at(10), options: { sack: [[at(11), at(13)]] } }); // 0's copy arrived: recovery over
    expect(conn.snd.inRecovery).toBe(false);
    p.takeAll();
    // 10's second copy is still in flight and still marked lost: the next ACK starts a
    // recovery, which sends new data and not 10 again.
    p.sendAck({ ack: at(10), options: { sack: [[at(11), at(14)]] } });
    expect(conn.snd.inRecovery).toBe(true);
    expect(p.counter('tcp_fast_retransmits')).toBe(2);
    const sentNow = out(p, at);
    expect(sentNow).not.toContain(10);
    expect(sentNow.length).toBeGreaterThan(0);
    // It is still judged: a later segment delivered with 10 missing sends it again.
    p.advance(10);
    p.sendAck({ ack: at(10), options: { sack: [[at(11), at(18)]] } });
    expect(out(p, at)).toContain(10);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
  });

  it('RFC 6675 alone (recovery: rfc6675, whose lost-retransmission runs end with each recovery) follows no retransmission past HighRxt: a recovery resends SND.UNA', () => {
    const { p, conn } = established('rfc6675');
    const at = sent(p, conn, 10, 20);
    const rfc6675 = (conn.snd as unknown as { recovery: { inFlightRetransmissionEnd(seq: number): number } }).recovery;
    p.advance(10);
    p.sendAck({ ack: at(0), options: { sack: [[at(1), at(4)]] } });
    expect(conn.snd.inRecovery).toBe(true);
    expect(out(p, at)).toContain(0);
    expect(rfc6675.inFlightRetransmissionEnd(at(0))).toBe(at(0));
  });
});
