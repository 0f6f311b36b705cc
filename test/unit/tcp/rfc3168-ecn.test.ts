/**
 * RFC 3168 Explicit Congestion Notification (src/tcp/ecn.ts) against a scripted peer:
 * negotiation (6.1.1, 6.1.1.1), ECT(0) on new data only (6.1.2, 6.1.4, 6.1.5), the
 * sender's response to ECE once per window and CWR on the next new data (6.1.2), the
 * receiver's ECE from a CE mark until CWR (6.1.3), flags that mean nothing without ECN,
 * and a transfer between two cores over a link that marks CE.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import { ECN_CE, ECN_ECT0, ECN_NOT_ECT, fillIpv4Checksum } from '../../../src/wire/ipv4.js';
import { ETH_HEADER_LEN } from '../../../src/wire/ethernet.js';
import { T_RTO } from '../../../src/tcp/timers.js';
import { patternBytes } from '../../helpers/frames.js';
import { type Recorder, TcpPair } from '../../helpers/tcp-pair.js';
import type { TcpConnectionHandle } from '../../../src/tcp/connection-handle.js';
import {
  LINUX_SYN, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TcpPeer, type OutSegment,
} from '../../helpers/tcp-peer.js';

const ECN_SYN: typeof LINUX_SYN = { ...LINUX_SYN, ecn: true };
/** Payload per segment with timestamps (1460 − 12). */
const MSS = 1448;

/** An established ECN connection (passive open) with `n` bytes of our data sent and taken from the wire. */
function ecnSender(n: number, tcp = {}): { p: TcpPeer; conn: ReturnType<TcpPeer['passiveOpen']>['conn']; segs: OutSegment[] } {
  const p = new TcpPeer({ tcp });
  const { conn } = p.passiveOpen(ECN_SYN);
  conn.send(patternBytes(n, 3));
  p.flush();
  return { p, conn, segs: p.takeAll() };
}

describe('RFC 3168 6.1.1 ECN negotiation', () => {
  it('6.1.1: an ECN-setup SYN (ECE+CWR) gets an ECN-setup SYN-ACK (ECE, no CWR), neither ECT; the final ACK settles it', () => {
    const p = new TcpPeer();
    const { conn, synAck } = p.passiveOpen(ECN_SYN);
    expect(synAck.flags).toBe(TCP_SYN | TCP_ACK | TCP_ECE);
    expect(synAck.ipEcn).toBe(ECN_NOT_ECT);
    expect(conn.ecn.enabled).toBe(true);
    expect(p.counter('tcp_ecn_negotiated')).toBe(1);
  });

  it('6.1.1: a SYN with only ECE or only CWR is not an ECN-setup SYN: the SYN-ACK carries neither flag', () => {
    for (const extra of [TCP_ECE, TCP_CWR]) {
      const p = new TcpPeer();
      p.listen(80, 16, () => {});
      p.send({ flags: TCP_SYN | extra, seq: 100, ack: 0, options: { mss: 1460 } });
      p.expectSegment({ flags: TCP_SYN | TCP_ACK, ack: 101 });
      expect(p.connection()!.ecn.enabled).toBe(false);
      expect(p.counter('tcp_ecn_negotiated')).toBe(0);
    }
  });

  it('6.1.1 with ecn off: an ECN-setup SYN gets a plain SYN-ACK and ECN stays off', () => {
    const p = new TcpPeer({ tcp: { ecn: 'off' } });
    p.listen(80, 16, () => {});
    p.send({ flags: TCP_SYN | TCP_ECE | TCP_CWR, seq: 100, ack: 0, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_SYN | TCP_ACK, ack: 101 });
    expect(p.connection()!.ecn.enabled).toBe(false);
  });

  it('6.1.1 active open with ecn on: our SYN is ECN-setup (no ECT); an ECN-setup SYN-ACK turns ECN on, the ACK carries no ECN flag', () => {
    const p = new TcpPeer({ tcp: { ecn: 'on' } });
    const { conn, syn } = p.activeOpen(ECN_SYN);
    expect(syn.flags).toBe(TCP_SYN | TCP_ECE | TCP_CWR);
    expect(syn.ipEcn).toBe(ECN_NOT_ECT);
    expect(conn.ecn.enabled).toBe(true);
    expect(p.counter('tcp_ecn_negotiated')).toBe(1);
    conn.send(new Uint8Array(100));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 100 });
    expect(d.ipEcn).toBe(ECN_ECT0);
  });

  it('6.1.1: a SYN-ACK with ECE and CWR, or without ECE, to our ECN-setup SYN is not ECN-setup: ECN stays off', () => {
    for (const synAckFlags of [TCP_ECE | TCP_CWR, 0, TCP_CWR]) {
      const p = new TcpPeer({ tcp: { ecn: 'on' } });
      const { conn, syn } = p.startConnect(8080, TCP_SYN | TCP_ECE | TCP_CWR);
      p.send({ flags: TCP_SYN | TCP_ACK | synAckFlags, seq: 5000, ack: syn.seq + 1, options: { mss: 1460 } });
      p.seq = 5001;
      const ack = p.expectSegment({ flags: TCP_ACK, ack: 5001 });
      expect(ack.ipEcn).toBe(ECN_NOT_ECT);
      expect(conn.ecn.enabled).toBe(false);
      conn.send(new Uint8Array(100));
      p.flush();
      expect(p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 100 }).ipEcn).toBe(ECN_NOT_ECT);
    }
  });

  it('6.1.1: with ecn accept our SYN does not ask, and an ECE on the SYN-ACK (an ECT-less setup) does not turn ECN on', () => {
    const p = new TcpPeer();
    const { conn, syn } = p.activeOpen({ ...LINUX_SYN, ecn: false });
    expect(syn.flags).toBe(TCP_SYN);
    expect(conn.ecn.enabled).toBe(false);
    const q = new TcpPeer();
    const { conn: c2, syn: s2 } = q.startConnect(8080);
    q.send({ flags: TCP_SYN | TCP_ACK | TCP_ECE, seq: 5000, ack: s2.seq + 1, options: { mss: 1460 } });
    q.expectSegment({ flags: TCP_ACK, ack: 5001 });
    expect(c2.ecn.enabled).toBe(false);
    expect(q.counter('tcp_ecn_negotiated')).toBe(0);
  });

  it('6.1.1.1: a retransmitted SYN no longer asks for ECN; an ECN-setup SYN-ACK to it is still taken (Linux)', () => {
    const p = new TcpPeer({ tcp: { ecn: 'on' } });
    const { conn, syn } = p.startConnect(8080, TCP_SYN | TCP_ECE | TCP_CWR);
    const again = p.expectSegment({ flags: TCP_SYN, seq: syn.seq }, 1000);
    expect(again.at - syn.at).toBe(1000);
    p.send({ flags: TCP_SYN | TCP_ACK | TCP_ECE, seq: 5000, ack: syn.seq + 1, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_ACK, ack: 5001 });
    expect(conn.ecn.enabled).toBe(true);
  });

  it('6.1.1 simultaneous open: both SYNs ECN-setup → our SYN-ACK carries ECE and ECN is on', () => {
    const p = new TcpPeer({ tcp: { ecn: 'on' } });
    const { conn, syn } = p.startConnect(8080, TCP_SYN | TCP_ECE | TCP_CWR);
    p.send({ flags: TCP_SYN | TCP_ECE | TCP_CWR, seq: 7000, ack: 0, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_SYN | TCP_ACK | TCP_ECE, seq: syn.seq, ack: 7001 });
    expect(conn.ecn.enabled).toBe(true);
  });

  it('a connection accepted from a SYN cookie has ECN off: the cookie SYN-ACK does not offer it', () => {
    const p = new TcpPeer({ tcp: { synQueue: 1 } });
    p.listen(80, 1, () => {});
    p.send({ flags: TCP_SYN | TCP_ECE | TCP_CWR, seq: 100, ack: 0, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_SYN | TCP_ACK | TCP_ECE, ack: 101 });
    p.send({ flags: TCP_SYN | TCP_ECE | TCP_CWR, seq: 900, ack: 0, srcPort: 40001, options: { mss: 1460 } });
    const cookie = p.expectSegment({ flags: TCP_SYN | TCP_ACK, ack: 901, dstPort: 40001 });
    expect(p.counter('tcp_syn_cookies_tx')).toBe(1);
    p.send({ flags: TCP_ACK, seq: 901, ack: cookie.seq + 1, srcPort: 40001 });
    expect(p.counter('tcp_syn_cookies_ok')).toBe(1);
    expect(p.connection(40001)!.ecn.enabled).toBe(false);
  });
});

describe('RFC 3168 6.1.2, 6.1.4, 6.1.5 ECT on what we send', () => {
  it('6.1.2: new data goes out ECT(0); 6.1.4: pure ACKs, a lone FIN and RST do not', () => {
    const { p, conn, segs } = ecnSender(3000);
    expect(segs.map((s) => [s.payload.length, s.ipEcn])).toEqual([[MSS, ECN_ECT0], [MSS, ECN_ECT0], [104, ECN_ECT0]]);
    expect(p.counter('tcp_ecn_ect_tx')).toBe(3);
    p.sendAck();
    p.sendData('hello');
    const ack = p.expectSegment({ flags: TCP_ACK, ack: p.seq }, 100);
    expect(ack.ipEcn).toBe(ECN_NOT_ECT);
    conn.shutdownWrite();
    p.flush();
    expect(p.expectSegment({ flags: TCP_FIN | TCP_ACK, payloadLen: 0 }).ipEcn).toBe(ECN_NOT_ECT);
    conn.abort();
    p.flush();
    expect(p.expectSegment({ flags: TCP_RST | TCP_ACK }).ipEcn).toBe(ECN_NOT_ECT);
  });

  it('6.1.5: a retransmission (after an RTO) goes out without ECT; new data after it is ECT(0) again', () => {
    const { p, segs } = ecnSender(2 * MSS);
    expect(segs.every((s) => s.ipEcn === ECN_ECT0)).toBe(true);
    const rtx = p.expectSegment({ flags: TCP_ACK, seq: segs[0].seq, payloadLen: MSS }, 1500);
    expect(rtx.ipEcn).toBe(ECN_NOT_ECT);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
  });

  it('6.1.6: a zero-window probe carries no ECT', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen(ECN_SYN);
    p.sendAck({ window: 0 });
    conn.send(new Uint8Array(100));
    p.flush();
    const probe = p.nextSegment(2000);
    expect(probe.payload.length).toBe(0);
    expect(probe.ipEcn).toBe(ECN_NOT_ECT);
    expect(p.counter('tcp_window_probes')).toBe(1);
  });
});

describe('RFC 3168 6.1.2 the sender’s response to ECE', () => {
  it('6.1.2: ECE halves cwnd (ssthresh = FlightSize/2) and the next new data segment carries CWR (and ECT(0)), once', () => {
    const { p, conn, segs } = ecnSender(20 * MSS);
    expect(segs.length).toBe(10); // the initial window
    const cwnd0 = conn.snd.cc.cwnd;
    expect(cwnd0).toBe(10 * MSS);
    // The peer ACKs the first segment with ECE: flight before it was 10 segments.
    p.sendAck({ flags: TCP_ACK | TCP_ECE, ack: segs[0].seq + MSS });
    expect(conn.snd.cc.ssthresh).toBe(5 * MSS);
    expect(conn.snd.cc.cwnd).toBe(5 * MSS);
    expect(p.counter('tcp_ecn_ece_rx')).toBe(1);
    expect(p.counter('tcp_ecn_cwnd_reductions')).toBe(1);
    // 9 segments still in flight > cwnd: nothing may go yet.
    expect(p.takeAll()).toEqual([]);
    // An ACK without ECE brings flight (3 segments) below cwnd: the first new segment carries CWR.
    p.sendAck({ ack: segs[7].seq });
    const next = p.takeAll();
    expect(next.length).toBeGreaterThan(0);
    expect(next[0].seq).toBe(segs[9].seq + MSS);
    expect(next[0].flags & TCP_CWR).toBe(TCP_CWR);
    expect(next[0].ipEcn).toBe(ECN_ECT0);
    expect(next.slice(1).every((s) => (s.flags & TCP_CWR) === 0)).toBe(true);
    expect(p.counter('tcp_ecn_cwr_tx')).toBe(1);
  });

  it('6.1.2: further ECEs within the same window of data do not reduce cwnd again; one after SND.UNA passes the window does', () => {
    const { p, conn, segs } = ecnSender(40 * MSS);
    p.sendAck({ flags: TCP_ACK | TCP_ECE, ack: segs[0].seq + MSS });
    const afterFirst = conn.snd.cc.cwnd;
    const windowEnd = segs[9].seq + MSS; // SND.MAX at the reduction
    for (let k = 2; k <= 9; k++) p.sendAck({ flags: TCP_ACK | TCP_ECE, ack: segs[0].seq + k * MSS });
    expect(p.counter('tcp_ecn_ece_rx')).toBe(9);
    expect(p.counter('tcp_ecn_cwnd_reductions')).toBe(1);
    expect(conn.snd.cc.ssthresh).toBe(afterFirst);
    // New data went out since, the first (at the end of the window) with CWR.
    const sent = p.takeAll();
    expect(sent[0].seq).toBe(windowEnd);
    expect(sent[0].flags & TCP_CWR).toBe(TCP_CWR);
    // An ACK of exactly the window with ECE still belongs to it (the CWR has not been ACKed).
    p.sendAck({ flags: TCP_ACK | TCP_ECE, ack: windowEnd });
    expect(p.counter('tcp_ecn_cwnd_reductions')).toBe(1);
    // An ACK past it with ECE is a new congestion signal: a new reduction, from the flight before it.
    const flight = conn.snd.sndNxt - windowEnd;
    p.sendAck({ flags: TCP_ACK | TCP_ECE, ack: windowEnd + MSS });
    expect(p.counter('tcp_ecn_cwnd_reductions')).toBe(2);
    expect(conn.snd.cc.ssthresh).toBe(Math.max(Math.floor(flight / 2), 2 * MSS));
  });

  it('6.1.2: entering loss recovery is the window’s reduction: CWR on the next new data, and an ECE in recovery reduces nothing more', () => {
    // Recovery on the third duplicate ACK is RFC 6675's rule (RACK, the default, would
    // start it at the first SACK here: the scripted peer answers with an RTT of 0).
    const { p, conn, segs } = ecnSender(20 * MSS, { recovery: 'rfc6675' });
    // Segment 0 lost: SACKs of 1.., three duplicate ACKs. The first two send new data
    // (limited transmit, RFC 3042) before any reduction: no CWR on them.
    const una = segs[0].seq;
    const before: OutSegment[] = [];
    for (let k = 2; k <= 3; k++) {
      p.sendAck({ ack: una, options: { sack: [[segs[1].seq, segs[k].seq]] } });
      before.push(...p.takeAll());
    }
    expect(before.map((s) => [s.seq - una, s.flags & TCP_CWR, s.ipEcn])).toEqual([[10 * MSS, 0, ECN_ECT0], [11 * MSS, 0, ECN_ECT0]]);
    p.sendAck({ ack: una, options: { sack: [[segs[1].seq, segs[4].seq]] } });
    expect(conn.snd.inRecovery).toBe(true);
    // The fast retransmit: no ECT, no CWR (it is not new data).
    const rtx = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: una, payloadLen: MSS });
    expect(rtx.ipEcn).toBe(ECN_NOT_ECT);
    const ssthresh = conn.snd.cc.ssthresh;
    p.sendAck({ flags: TCP_ACK | TCP_ECE, ack: una, options: { sack: [[segs[1].seq, segs[5].seq]] } });
    expect(p.counter('tcp_ecn_ece_rx')).toBe(1);
    expect(p.counter('tcp_ecn_cwnd_reductions')).toBe(0);
    expect(conn.snd.cc.ssthresh).toBe(ssthresh);
    // New data sent in recovery on that ACK: the first carries CWR, ECT(0).
    const next = p.expectSegment({ flags: TCP_ACK | TCP_CWR, seq: una + 12 * MSS, payloadLen: MSS });
    expect(next.ipEcn).toBe(ECN_ECT0);
    p.sendAck({ ack: una, options: { sack: [[segs[1].seq, segs[7].seq]] } });
    expect(p.takeAll().every((s) => (s.flags & TCP_CWR) === 0)).toBe(true);
    expect(p.counter('tcp_ecn_cwr_tx')).toBe(1);
  });

  it('6.1.2: a loss found in the window an ECE already reduced cwnd for is recovered without a second reduction', () => {
    const { p, conn, segs } = ecnSender(20 * MSS, { recovery: 'rfc6675' });
    // ECE on the ACK of segment 0: ssthresh = FlightSize/2 = 5 segments, for the window up to segment 9.
    p.sendAck({ flags: TCP_ACK | TCP_ECE, ack: segs[0].seq + MSS });
    expect(conn.snd.cc.ssthresh).toBe(5 * MSS);
    const una = segs[1].seq;
    // Segment 1 was lost too: three duplicate ACKs with SACKs of 2.. (same window).
    for (let k = 3; k <= 5; k++) p.sendAck({ ack: una, options: { sack: [[segs[2].seq, segs[k].seq]] } });
    expect(conn.snd.inRecovery).toBe(true);
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: una, payloadLen: MSS }); // the fast retransmit
    expect(p.counter('tcp_fast_retransmits')).toBe(1);
    expect(conn.snd.cc.ssthresh).toBe(5 * MSS); // not halved again
    expect(p.counter('tcp_ecn_cwnd_reductions')).toBe(1);
    expect(p.counter('tcp_ecn_loss_in_reduced_window')).toBe(1);
  });

  it('6.1.2: with cwnd at one segment an ECE cannot reduce it: the retransmit timer is reset and the next new segment (with CWR) goes only when it expires', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen(ECN_SYN);
    conn.snd.cc.cwnd = MSS;
    conn.snd.cc.ssthresh = 4 * MSS;
    conn.send(patternBytes(10 * MSS, 3));
    p.flush();
    const first = p.takeAll();
    expect(first.map((s) => s.payload.length)).toEqual([MSS]);
    p.advance(5);
    p.sendAck({ flags: TCP_ACK | TCP_ECE, ack: first[0].seq + MSS });
    const at = p.now;
    const rto = conn.snd.rtt.rto;
    // Nothing goes on the ACK (slow start would have sent two), cwnd stays one segment,
    // ssthresh is reduced (RFC 5681's floor of two segments), and T_RTO holds the wait.
    expect(p.takeAll()).toEqual([]);
    expect(conn.snd.cc.cwnd).toBe(MSS);
    expect(conn.snd.cc.ssthresh).toBe(2 * MSS);
    expect(conn.timers.deadline(T_RTO)).toBe(at + rto);
    expect(p.counter('tcp_ecn_cwnd_reductions')).toBe(1);
    expect(p.counter('tcp_ecn_one_segment_waits')).toBe(1);
    p.expectNothing(at + rto - 0.5);
    const next = p.expectSegment({ flags: TCP_ACK | TCP_CWR, seq: first[0].seq + MSS, payloadLen: MSS }, 1);
    expect(next.at).toBe(at + rto);
    expect(next.ipEcn).toBe(ECN_ECT0);
    expect(p.takeAll()).toEqual([]); // one segment: cwnd is one
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
    expect(p.counter('tcp_retransmits')).toBe(0);
    // Its ACK (no ECE) opens cwnd again by slow start: two new segments.
    p.sendAck({ ack: next.seq + MSS });
    expect(p.takeAll().map((s) => s.payload.length)).toEqual([MSS, MSS]);
  });

  it('6.1.2: the wait after an ECE at one segment outlasts the ACK of the segment still in flight: the timer, not that ACK, sends the next', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen(ECN_SYN);
    conn.snd.cc.cwnd = MSS;
    conn.send(patternBytes(10 * MSS, 3));
    p.flush();
    const first = p.takeAll();
    p.advance(5);
    // An ECE on an ACK that acknowledges nothing new (a window update): one segment still out.
    p.sendAck({ flags: TCP_ACK | TCP_ECE, ack: first[0].seq, window: p.window - 1 });
    const at = p.now;
    const rto = conn.snd.rtt.rto;
    expect(p.counter('tcp_ecn_one_segment_waits')).toBe(1);
    p.advance(5);
    p.sendAck({ ack: first[0].seq + MSS });
    expect(p.takeAll()).toEqual([]);
    expect(conn.timers.deadline(T_RTO)).toBe(at + rto);
    const next = p.expectSegment({ flags: TCP_ACK | TCP_CWR, seq: first[0].seq + MSS, payloadLen: MSS }, rto);
    expect(next.at).toBe(at + rto);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
  });

  it('ECE means nothing when ECN was not negotiated: cwnd stays, nothing is counted, no CWR', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen(LINUX_SYN);
    conn.send(patternBytes(20 * MSS, 1));
    p.flush();
    const segs = p.takeAll();
    expect(segs.every((s) => s.ipEcn === ECN_NOT_ECT)).toBe(true);
    const cwnd = conn.snd.cc.cwnd;
    p.sendAck({ flags: TCP_ACK | TCP_ECE, ack: segs[0].seq + MSS });
    expect(conn.snd.cc.ssthresh).toBe(Infinity);
    expect(conn.snd.cc.cwnd).toBeGreaterThanOrEqual(cwnd);
    expect(p.counter('tcp_ecn_ece_rx')).toBe(0);
    expect(p.counter('tcp_ecn_cwnd_reductions')).toBe(0);
    expect(p.takeAll().every((s) => (s.flags & (TCP_CWR | TCP_ECE)) === 0)).toBe(true);
  });
});

describe('RFC 3168 6.1.3 the receiver’s ECE', () => {
  it('6.1.3: after a CE-marked segment every ACK carries ECE (the first at once) until a segment with CWR arrives', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen(ECN_SYN);
    p.sendData('a', { ipEcn: ECN_CE });
    expect(p.counter('tcp_ecn_ce_rx')).toBe(1);
    p.expectSegment({ flags: TCP_ACK | TCP_ECE, ack: p.seq }); // not delayed
    p.sendData('b', { ipEcn: ECN_ECT0 });
    p.expectSegment({ flags: TCP_ACK | TCP_ECE, ack: p.seq }, 100);
    // Our own data carries ECE too (it carries an ACK), besides ECT(0).
    conn.send(new Uint8Array(10));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH | TCP_ECE, payloadLen: 10 });
    expect(d.ipEcn).toBe(ECN_ECT0);
    // The peer's CWR ends it.
    p.sendData('c', { flags: TCP_ACK | TCP_PSH | TCP_CWR, ipEcn: ECN_ECT0 });
    expect(p.counter('tcp_ecn_cwr_rx')).toBe(1);
    p.expectSegment({ flags: TCP_ACK, ack: p.seq }, 100);
    expect(p.counter('tcp_ecn_ece_tx')).toBe(3);
  });

  it('6.1.3: a segment with both CWR and CE keeps ECE going', () => {
    const p = new TcpPeer();
    p.passiveOpen(ECN_SYN);
    p.sendData('a', { ipEcn: ECN_CE });
    p.expectSegment({ flags: TCP_ACK | TCP_ECE, ack: p.seq });
    p.sendData('b', { flags: TCP_ACK | TCP_PSH | TCP_CWR, ipEcn: ECN_CE });
    p.expectSegment({ flags: TCP_ACK | TCP_ECE, ack: p.seq });
    expect(p.counter('tcp_ecn_ce_rx')).toBe(2);
  });

  it('CE without ECN negotiated is not acted on: the ACK is delayed as usual and carries no ECE', () => {
    const p = new TcpPeer();
    p.passiveOpen(LINUX_SYN);
    p.sendData('a', { ipEcn: ECN_CE });
    p.expectNothing();
    const ack = p.expectSegment({ flags: TCP_ACK, ack: p.seq }, 100);
    expect(ack.at - p.now).toBeLessThanOrEqual(0);
    expect(p.counter('tcp_ecn_ce_rx')).toBe(0);
  });
});

describe('RFC 3168 odd flag combinations', () => {
  it('RST with ECE+CWR resets an ECN connection like any RST; to a listener it is ignored', () => {
    const p = new TcpPeer();
    const { rec } = p.passiveOpen(ECN_SYN);
    p.send({ flags: TCP_RST | TCP_ECE | TCP_CWR, seq: p.seq });
    expect(rec.closed).toBe(true);
    expect(rec.closeErr).toBe('ECONNRESET');
    p.send({ flags: TCP_RST | TCP_ECE | TCP_CWR, seq: 1, ack: 0, srcPort: 40009 });
    p.expectNothing();
  });

  it('SYN with ECE+CWR on an established connection: a challenge ACK without ECN flags, ECN unchanged', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen(ECN_SYN);
    p.send({ flags: TCP_SYN | TCP_ECE | TCP_CWR, seq: p.seq + 1000, ack: 0 });
    const ch = p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(ch.ipEcn).toBe(ECN_NOT_ECT);
    expect(conn.ecn.enabled).toBe(true);
    expect(p.counter('tcp_challenge_acks')).toBe(1);
  });

  it('SYN-ACK with ECE but without ACK-able sequence (bad ACK) in SYN-SENT: RST, ECN stays off', () => {
    const p = new TcpPeer({ tcp: { ecn: 'on' } });
    const { conn, syn } = p.startConnect(8080, TCP_SYN | TCP_ECE | TCP_CWR);
    p.send({ flags: TCP_SYN | TCP_ACK | TCP_ECE, seq: 5000, ack: syn.seq + 99, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_RST, seq: syn.seq + 99 });
    expect(conn.ecn.enabled).toBe(false);
  });
});

/**
 * Sends `data` from `client` over the pair, moving the clock 20 ms per write and then
 * 100 ms at a time until the receiver `s` holds all of it (bounded).
 */
function transfer(p: TcpPair, client: TcpConnectionHandle, s: Recorder, data: Uint8Array): void {
  let off = 0;
  for (let guard = 0; off < data.length && guard < 100_000; guard++) {
    off += client.send(data.subarray(off));
    const until = p.now + 20;
    p.run(until);
    p.now = Math.max(p.now, until);
  }
  for (let guard = 0; s.bytes().length < data.length && guard < 1000; guard++) {
    const until = p.now + 100;
    p.run(until);
    p.now = Math.max(p.now, until);
  }
}

describe('RFC 3168 between two cores, CE marked on the link', () => {
  /** Sets CE on an ECT frame (as an AQM router would), fixing the IPv4 header checksum. */
  function markCe(f: Uint8Array): boolean {
    const ip = ETH_HEADER_LEN;
    if ((f[ip + 1] & 3) === ECN_NOT_ECT) return false;
    f[ip + 1] |= ECN_CE;
    fillIpv4Checksum(f, ip);
    return true;
  }

  for (const [cc, tso] of [['newreno', false], ['cubic', true]] as const) {
    it(`a 2 MB transfer (${cc}${tso ? ', TSO' : ''}) with CE on 2 % of data frames arrives byte for byte with cwnd reductions and no retransmission`, () => {
      const caps = tso ? { capabilities: { txChecksum: true, tsoMaxPayload: 65000 } } : {};
      const p = new TcpPair({ tcp: { ecn: 'on', congestionControl: cc } }, { tcp: { ecn: 'accept', congestionControl: cc } }, caps);
      p.delay = 5;
      const { client, s } = p.connect();
      let x = 99;
      let marked = 0;
      let nonEctData = 0;
      p.fault = (lf) => {
        const f = lf.frame;
        if (lf.from === 'A' && f.length > 200) {
          if ((f[ETH_HEADER_LEN + 1] & 3) === ECN_NOT_ECT) nonEctData++;
          x = (Math.imul(x, 1103515245) + 12345) >>> 0;
          if ((x >>> 16) % 100 < 2 && markCe(f)) marked++;
        }
        return [lf];
      };
      const data = patternBytes(2_000_000, 5);
      transfer(p, client, s, data);
      expect(s.bytes().equals(Buffer.from(data))).toBe(true);
      // With TSO, A sent super-frames; the link cut them (every segment ECT, CWR on the first only).
      if (tso) expect(p.countersA[C.tcp_tx_bytes] / p.countersA[C.tcp_segments_tx]).toBeGreaterThan(MSS);
      expect(marked).toBeGreaterThan(5);
      expect(nonEctData).toBe(0);
      const A = p.countersA, B = p.countersB;
      expect(A[C.tcp_ecn_negotiated]).toBe(1);
      expect(B[C.tcp_ecn_negotiated]).toBe(1);
      expect(B[C.tcp_ecn_ce_rx]).toBe(marked);
      expect(B[C.tcp_ecn_ece_tx]).toBeGreaterThan(0);
      expect(A[C.tcp_ecn_ece_rx]).toBeGreaterThan(0);
      expect(A[C.tcp_ecn_cwnd_reductions]).toBeGreaterThan(0);
      expect(A[C.tcp_ecn_cwnd_reductions]).toBeLessThanOrEqual(B[C.tcp_ecn_ce_rx]);
      expect(A[C.tcp_ecn_cwr_tx]).toBe(A[C.tcp_ecn_cwnd_reductions]);
      expect(B[C.tcp_ecn_cwr_rx]).toBe(A[C.tcp_ecn_cwr_tx]);
      expect(A[C.tcp_retransmits]).toBe(0);
      expect(A[C.tcp_rto_timeouts]).toBe(0);
    });
  }
});

describe('RFC 3168 5 over IPv6: the ECN field of the Traffic Class', () => {
  it('data to an IPv6 peer goes out ECT(0), and a CE mark in the Traffic Class is echoed (ECE), answered with CWR and one reduction, 1 MB intact', () => {
    const p = new TcpPair({ tcp: { ecn: 'on' } }, { tcp: { ecn: 'accept' } }, { ipv6: true, capabilities: { txChecksum: true, tsoMaxPayload: 65000 } });
    p.delay = 5;
    const { client, s } = p.connect(80, true);
    let ect = 0;
    let marked = 0;
    let v6data = 0;
    p.fault = (lf) => {
      const f = lf.frame;
      const tc = ETH_HEADER_LEN + 1; // version and Traffic Class: the ECN field is bits 5..4 of this byte
      if (lf.from === 'A' && f.length > 200 && ((f[ETH_HEADER_LEN] >>> 4) === 6)) {
        v6data++;
        if (((f[tc] >>> 4) & 3) === 2) ect++;
        if (v6data % 40 === 7) {
          f[tc] |= 0x30; // CE (no header checksum in IPv6)
          marked++;
        }
      }
      return [lf];
    };
    const data = patternBytes(1_000_000, 9);
    transfer(p, client, s, data);
    expect(s.bytes().equals(Buffer.from(data))).toBe(true);
    expect(v6data).toBeGreaterThan(10);
    expect(ect).toBe(v6data); // every data frame ECT(0)
    expect(marked).toBeGreaterThan(0);
    const A = p.countersA, B = p.countersB;
    expect([A[C.tcp_ecn_negotiated], B[C.tcp_ecn_negotiated]]).toEqual([1, 1]);
    expect(B[C.tcp_ecn_ce_rx]).toBe(marked);
    expect(A[C.tcp_ecn_ece_rx]).toBeGreaterThan(0);
    expect(A[C.tcp_ecn_cwnd_reductions]).toBeGreaterThan(0);
    expect(B[C.tcp_ecn_cwr_rx]).toBe(A[C.tcp_ecn_cwr_tx]);
    expect(A[C.tcp_retransmits]).toBe(0);
  });
});
