/**
 * Spurious fast retransmits found and undone (src/tcp/recovery/retransmit-undo.ts): RFC
 * 3708 3 (every retransmission of the episode D-SACKed) and RFC 3522 (Eifel: the ACK of
 * the first retransmission echoes the original's timestamp), with RFC 4015 2's response
 * as Linux makes it: cwnd = max(cwnd, prior_cwnd), ssthresh = max(ssthresh,
 * prior_ssthresh), and fast recovery ends. For both SACK strategies (RACK and RFC 6675),
 * against a scripted Linux-like peer on a virtual clock.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import { patternBytes } from '../../helpers/frames.js';
import { LINUX_SYN, TCP_ACK, TCP_PSH, TcpPeer, type OutSegment } from '../../helpers/tcp-peer.js';
import { TcpPair } from '../../helpers/tcp-pair.js';

/**
 * An established connection (SACK; timestamps as asked), cwnd 10 segments and ssthresh 8
 * (congestion avoidance), 10 segments sent at t0; 10 ms later the peer SACKs segments 1–3
 * and the third ACK makes the fast retransmit of segment 0 (both strategies: RACK's
 * reo_wnd is 0 before any reordering was seen).
 */
function fastRetransmit(recovery: 'rack' | 'rfc6675', timestamps: boolean) {
  const p = new TcpPeer({ tcp: { recovery } });
  const { conn } = p.passiveOpen({ ...LINUX_SYN, timestamps, rtt: 10 });
  const seg = conn.snd.mss;
  conn.snd.cc.cwnd = 10 * seg;
  conn.snd.cc.ssthresh = 8 * seg;
  const cwnd = conn.snd.cc.cwnd;
  const ssthresh = conn.snd.cc.ssthresh;
  conn.send(new Uint8Array(10 * seg));
  p.flush();
  const sent = p.takeAll();
  expect(sent).toHaveLength(10);
  const una = sent[0].seq;
  const at = (k: number) => (una + k * seg) >>> 0;
  p.advance(10);
  for (let k = 2; k <= 4; k++) p.sendAck({ ack: una, options: { sack: [[at(1), at(k)]] } });
  const rtx = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: una, payloadLen: seg });
  expect(conn.snd.inRecovery).toBe(true);
  expect(p.counter('tcp_fast_retransmits')).toBe(1);
  expect(conn.snd.cc.ssthresh).toBeLessThan(ssthresh);
  expect(conn.snd.cc.cwnd).toBeLessThan(cwnd);
  return { p, conn, seg, at, cwnd, ssthresh, sent, rtx };
}

/** The peer's ACK echoing the TSval of `s` (a segment of ours), as RFC 7323 3.4 has it for the segment that filled the hole. */
function echoing(p: TcpPeer, s: OutSegment): { ts: [number, number] } {
  return { ts: [p.tsVal(), s.options.tsVal] };
}

/** The fast recovery was undone by D-SACK (`eifel` 0) or Eifel (1): counted, recovery over, cwnd and ssthresh back. */
function expectUndone(f: ReturnType<typeof fastRetransmit>, dsacks: number, eifel: number): void {
  const { p, conn, cwnd, ssthresh } = f;
  expect(p.counter('tcp_dsacks_rx')).toBe(dsacks);
  expect(p.counter('tcp_fast_retransmit_undos')).toBe(1);
  expect(p.counter('tcp_eifel_undos')).toBe(eifel);
  expect(p.counter('tcp_rto_undos')).toBe(0);
  expect(conn.snd.inRecovery).toBe(false);
  expect(conn.snd.cc.cwnd).toBeGreaterThanOrEqual(cwnd);
  expect(conn.snd.cc.ssthresh).toBe(ssthresh);
}

for (const recovery of ['rack', 'rfc6675'] as const) {
  describe(`RFC 3708 3 / RFC 4015 2: a spurious fast retransmit undone by D-SACK (recovery: ${recovery})`, () => {
    it('RFC 3708 3: segment 0 was only reordered: its original fills the hole, the D-SACK of the retransmission restores cwnd and ssthresh and ends recovery', () => {
      const f = fastRetransmit(recovery, false);
      const { p, conn, at, ssthresh } = f;
      // The original of segment 0 arrives late: a partial ACK up to the SACKed data.
      p.sendAck({ ack: at(4) });
      expect(conn.snd.inRecovery).toBe(true);
      expect(p.counter('tcp_fast_retransmit_undos')).toBe(0);
      // Then the retransmission: the receiver reports it as a duplicate (RFC 2883 4).
      p.sendAck({ ack: at(4), options: { sack: [[at(0), at(1)]] } });
      expectUndone(f, 1, 0);
      // The rest is ACKed outside recovery: nothing more is retransmitted.
      p.takeAll();
      p.sendAck({ ack: at(10) });
      expect(p.counter('tcp_retransmits')).toBe(1);
      expect(conn.snd.cc.ssthresh).toBe(ssthresh);
    });

    it('RFC 3708 3: the D-SACK that comes after the ACK ending recovery still undoes (Linux tcp_try_undo_dsack in Open)', () => {
      const { p, conn, at, cwnd, ssthresh } = fastRetransmit(recovery, false);
      p.sendAck({ ack: at(10) });
      expect(conn.snd.inRecovery).toBe(false);
      expect(conn.snd.cc.cwnd).toBeLessThan(cwnd);
      p.sendAck({ ack: at(10), options: { sack: [[at(0), at(1)]] } });
      expect(p.counter('tcp_fast_retransmit_undos')).toBe(1);
      expect(conn.snd.cc.cwnd).toBe(cwnd);
      expect(conn.snd.cc.ssthresh).toBe(ssthresh);
    });

    it('RFC 3708 3: a real loss (the retransmission filled the hole, no D-SACK) is not undone', () => {
      const { p, conn, at, ssthresh } = fastRetransmit(recovery, false);
      p.sendAck({ ack: at(10) });
      p.expectNothing(p.now + 1000);
      expect(p.counter('tcp_fast_retransmit_undos')).toBe(0);
      expect(conn.snd.inRecovery).toBe(false);
      expect(conn.snd.cc.ssthresh).toBeLessThan(ssthresh);
      expect(conn.snd.cc.cwnd).toBe(conn.snd.cc.ssthresh);
    });

    it('RFC 3708 3: an episode with two retransmissions of which one is D-SACKed is not undone', () => {
      const { p, conn, at, ssthresh } = fastRetransmit(recovery, false);
      // Segment 4 is lost for real: 5–8 arrive and are SACKed, 4 goes again.
      p.sendAck({ ack: at(0), options: { sack: [[at(5), at(9)], [at(1), at(4)]] } });
      const again = p.takeAll().filter((s) => s.payload.length > 0 && s.seq === at(4));
      expect(again).toHaveLength(1);
      // Segment 0's original arrives late, then its retransmission (D-SACKed), then 4's.
      p.sendAck({ ack: at(4), options: { sack: [[at(5), at(9)]] } });
      p.sendAck({ ack: at(4), options: { sack: [[at(0), at(1)], [at(5), at(9)]] } });
      expect(p.counter('tcp_dsacks_rx')).toBe(1);
      p.sendAck({ ack: at(10) });
      expect(p.counter('tcp_fast_retransmit_undos')).toBe(0);
      expect(conn.snd.cc.ssthresh).toBeLessThan(ssthresh);
    });
  });

  describe(`RFC 3522 Eifel detection with timestamps (recovery: ${recovery})`, () => {
    it('RFC 3522 3.2: the ACK of the fast retransmit echoes the original\'s TSval (older than the retransmission): undone at once, without a D-SACK', () => {
      const f = fastRetransmit(recovery, true);
      const { p, at, sent, rtx } = f;
      expect(rtx.options.tsVal).toBeGreaterThan(sent[0].options.tsVal);
      p.sendAck({ ack: at(4), options: echoing(p, sent[0]) });
      expectUndone(f, 0, 1);
    });

    it('RFC 3522 3.2: the ACK echoes the retransmission\'s TSval (it filled the hole): not undone', () => {
      const { p, conn, at, ssthresh, rtx } = fastRetransmit(recovery, true);
      p.sendAck({ ack: at(10), options: echoing(p, rtx) });
      expect(p.counter('tcp_fast_retransmit_undos')).toBe(0);
      expect(p.counter('tcp_eifel_undos')).toBe(0);
      expect(conn.snd.cc.ssthresh).toBeLessThan(ssthresh);
    });

    it('RFC 3522: Eifel judges only the first retransmission; a second one, not D-SACKed, keeps the reduction', () => {
      const { p, conn, at, ssthresh, sent } = fastRetransmit(recovery, true);
      p.sendAck({ ack: at(0), options: { ...echoing(p, sent[9]), sack: [[at(5), at(9)], [at(1), at(4)]] } });
      expect(p.takeAll().filter((s) => s.payload.length > 0 && s.seq === at(4))).toHaveLength(1);
      p.sendAck({ ack: at(4), options: { ...echoing(p, sent[0]), sack: [[at(5), at(9)]] } });
      expect(p.counter('tcp_fast_retransmit_undos')).toBe(0);
      expect(conn.snd.inRecovery).toBe(true);
      expect(conn.snd.cc.ssthresh).toBeLessThan(ssthresh);
    });
  });
}

describe('RFC 3522 without SACK (NewReno recovery): Eifel alone', () => {
  it('RFC 3522 3.2: three duplicate ACKs make the fast retransmit; the ACK echoing the original\'s TSval undoes it', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ mss: 1460, wscale: 7, timestamps: true, rtt: 10 });
    const seg = conn.snd.mss;
    conn.snd.cc.cwnd = 10 * seg;
    conn.snd.cc.ssthresh = 8 * seg;
    conn.send(new Uint8Array(10 * seg));
    p.flush();
    const sent = p.takeAll();
    const una = sent[0].seq;
    p.advance(10);
    for (let i = 0; i < 3; i++) p.sendAck({ ack: una, options: echoing(p, sent[i + 1]) });
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: una, payloadLen: seg });
    expect(conn.snd.inRecovery).toBe(true);
    p.sendAck({ ack: (una + 4 * seg) >>> 0, options: echoing(p, sent[0]) });
    expect(p.counter('tcp_fast_retransmit_undos')).toBe(1);
    expect(p.counter('tcp_eifel_undos')).toBe(1);
    expect(conn.snd.inRecovery).toBe(false);
    expect(conn.snd.cc.ssthresh).toBe(8 * seg);
    expect(conn.snd.cc.cwnd).toBeGreaterThanOrEqual(10 * seg);
  });
});

describe('RFC 3708 / RFC 3522 between two cores: reordering without loss', () => {
  /** A 2 MB transfer A → B, 10 ms each way, 2 % of A's data frames held back 4 ms (reordered, never lost). */
  function reorderedTransfer(recovery: 'rack' | 'rfc6675', timestamps: boolean) {
    const p = new TcpPair({ tcp: { recovery, timestamps } });
    p.delay = 10;
    const { client, s } = p.connect();
    let x = 31;
    let held = 0;
    p.fault = (lf) => {
      if (lf.from === 'A' && lf.frame.length > 200) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        if ((x >>> 16) % 100 < 2) {
          lf.at += 4;
          held++;
        }
      }
      return [lf];
    };
    const data = patternBytes(2_000_000, 3);
    let off = 0;
    const step = (ms: number) => {
      const until = p.now + ms;
      p.run(until);
      p.now = Math.max(p.now, until);
    };
    for (let guard = 0; off < data.length && guard < 100_000; guard++) {
      off += client.send(data.subarray(off));
      step(20);
    }
    for (let guard = 0; s.bytes().length < data.length && guard < 1000; guard++) step(100);
    expect(s.bytes().equals(Buffer.from(data))).toBe(true);
    expect(held).toBeGreaterThan(10);
    return p.countersA;
  }

  for (const recovery of ['rack', 'rfc6675'] as const) {
    for (const timestamps of [false, true]) {
      it(`${recovery}, timestamps ${timestamps ? 'on (Eifel and D-SACK)' : 'off (D-SACK only)'}: every fast recovery the reordering caused is undone, with PRR, and no RTO`, () => {
        const A = reorderedTransfer(recovery, timestamps);
        expect(A[C.tcp_fast_retransmits]).toBeGreaterThan(0);
        expect(A[C.tcp_fast_retransmit_undos]).toBe(A[C.tcp_fast_retransmits]);
        expect(A[C.tcp_eifel_undos]).toBe(timestamps ? A[C.tcp_fast_retransmit_undos] : 0);
        expect(A[C.tcp_rto_timeouts]).toBe(0);
      });
    }
  }
});
