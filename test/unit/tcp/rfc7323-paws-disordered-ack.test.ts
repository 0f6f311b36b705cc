/**
 * RFC 7323 5.3 (PAWS) with Linux's exemption for reordered duplicate ACKs
 * (`tcp_disordered_ack()`, called from `tcp_paws_discard()` in net/ipv4/tcp_input.c): a
 * segment whose TSval is older than TS.Recent is still taken when it is a pure ACK at
 * RCV.NXT that acknowledges exactly SND.UNA, would not update the send window
 * (`tcp_may_update_window()`), and whose TSval lies within one RTO of TS.Recent; it does not
 * move TS.Recent back. Every other PAWS failure is dropped and counted as before.
 * Scripted Linux-like peer (test/helpers/tcp-peer.ts), virtual clock; RTO 200 ms.
 */
import { describe, expect, it } from 'vitest';
import type { SackRecovery } from '../../../src/tcp/recovery/sack-recovery.js';
import { TCP_ACK, TCP_PSH, TcpPeer } from '../../helpers/tcp-peer.js';

const MSS = 1460;
const SEG = MSS - 12;
const SACK_TS = { mss: MSS, wscale: 7, sackPermitted: true, timestamps: true, rtt: 10 };

function established() {
  const p = new TcpPeer({ tcp: { recovery: 'rfc6675', tailLossProbe: false } });
  const { conn, rec } = p.passiveOpen(SACK_TS);
  const sack = (conn.snd as unknown as { sackRecovery: SackRecovery }).sackRecovery;
  return { p, conn, rec, sack };
}

/** Sends `n` full segments (cwnd opened to them) and returns their sequence numbers (taken from the wire). */
function burst(p: TcpPeer, conn: ReturnType<typeof established>['conn'], n: number): number[] {
  if (conn.snd.cc.cwnd < n * SEG) conn.snd.cc.cwnd = n * SEG;
  conn.send(new Uint8Array(n * SEG));
  p.flush();
  return p.takeAll().map((s) => s.seq);
}

/**
 * 10 segments out, segment 0 lost; 10 ms later the peer's first duplicate ACK (SACK of 2,
 * TSval t) arrives, then its third (SACK of 4 and 2, TSval t + 1): TS.Recent is t + 1.
 * Returns the sequence numbers and t; the second ACK (t) is the test's to send.
 */
function thirdAckFirst(p: TcpPeer, conn: ReturnType<typeof established>['conn']) {
  const s = burst(p, conn, 10);
  p.advance(10);
  const t = p.tsVal();
  p.sendAck({ ack: s[0], options: { ts: [t, p.lastOurTsVal], sack: [[s[2], s[3]]] } });
  p.sendAck({ ack: s[0], options: { ts: [t + 1, p.lastOurTsVal], sack: [[s[4], s[5]], [s[2], s[3]]] } });
  expect(conn.rcv.tsRecent >>> 0).toBe((t + 1) >>> 0);
  expect(conn.snd.dupAcks).toBe(2);
  expect(p.takeAll()).toEqual([]);
  return { s, t };
}

describe('RFC 7323 5.3 PAWS and Linux tcp_disordered_ack(): reordered duplicate ACKs', () => {
  it('Linux tcp_disordered_ack: a reordered pure duplicate ACK with SACK blocks and an older TSval is processed: the scoreboard takes its block, it is the third duplicate ACK (fast retransmit), TS.Recent does not move back', () => {
    const { p, conn, sack } = established();
    const { s, t } = thirdAckFirst(p, conn);
    expect(sack.isSacked(s[3])).toBe(false);
    // The peer's second duplicate ACK, overtaken on the path by its third.
    p.sendAck({ ack: s[0], options: { ts: [t, p.lastOurTsVal], sack: [[s[2], s[4]]] } });
    expect(sack.isSacked(s[3])).toBe(true);
    expect(sack.deliveredAboveUna()).toBe(3 * SEG);
    expect(p.counter('drop_tcp_paws')).toBe(0);
    expect(p.counter('tcp_paws_disordered_acks')).toBe(1);
    // RFC 6675 5 (a): DupThresh duplicate ACKs: SND.UNA is retransmitted, echoing TS.Recent (t + 1, not t).
    const rtx = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: s[0], payloadLen: SEG, options: { tsEcr: (t + 1) >>> 0 } });
    expect(rtx.seq).toBe(s[0]);
    expect(p.counter('tcp_fast_retransmits')).toBe(1);
    expect(conn.rcv.tsRecent >>> 0).toBe((t + 1) >>> 0);
  });

  it('Linux tcp_disordered_ack: the exempt ACK\'s window is not taken (it would not update it: tcp_may_update_window), a smaller one does not shrink SND.WND', () => {
    const { p, conn } = established();
    const { s, t } = thirdAckFirst(p, conn);
    const wnd = conn.snd.sndWnd;
    p.sendAck({ ack: s[0], window: p.window - 1, options: { ts: [t, p.lastOurTsVal], sack: [[s[2], s[4]]] } });
    expect(p.counter('tcp_paws_disordered_acks')).toBe(1);
    expect(conn.snd.sndWnd).toBe(wnd);
    expect(conn.snd.dupAcks).toBe(3);
  });

  it('RFC 7323 5.3: a data segment with an older TSval is still dropped and counted (Linux exempts pure ACKs only), and answered with an ACK echoing TS.Recent', () => {
    const { p, conn, rec } = established();
    const { s, t } = thirdAckFirst(p, conn);
    p.sendData('old', { ack: s[0], options: { ts: [t, p.lastOurTsVal] } });
    expect(rec.bytes().length).toBe(0);
    expect(p.counter('drop_tcp_paws')).toBe(1);
    expect(p.counter('tcp_paws_disordered_acks')).toBe(0);
    expect(conn.rcv.tsRecent >>> 0).toBe((t + 1) >>> 0);
    p.expectSegment({ flags: TCP_ACK, payloadLen: 0, options: { tsEcr: (t + 1) >>> 0 } });
  });

  it('Linux tcp_disordered_ack condition 2: an older-TSval ACK that acknowledges new data is dropped; SND.UNA stays', () => {
    const { p, conn } = established();
    const { s, t } = thirdAckFirst(p, conn);
    p.sendAck({ ack: s[1], options: { ts: [t, p.lastOurTsVal], sack: [[s[2], s[4]]] } });
    expect(conn.snd.sndUna >>> 0).toBe(s[0] >>> 0);
    expect(p.counter('drop_tcp_paws')).toBe(1);
    expect(p.counter('tcp_paws_disordered_acks')).toBe(0);
    expect(conn.snd.dupAcks).toBe(2);
  });

  it('Linux tcp_disordered_ack condition 3 (tcp_may_update_window): an older-TSval duplicate ACK that opens the window is dropped; SND.WND stays', () => {
    const { p, conn } = established();
    const { s, t } = thirdAckFirst(p, conn);
    const wnd = conn.snd.sndWnd;
    p.sendAck({ ack: s[0], window: p.window + 1, options: { ts: [t, p.lastOurTsVal], sack: [[s[2], s[4]]] } });
    expect(conn.snd.sndWnd).toBe(wnd);
    expect(p.counter('drop_tcp_paws')).toBe(1);
    expect(conn.snd.dupAcks).toBe(2);
  });

  it('Linux tcp_disordered_ack condition 4: a duplicate ACK whose TSval is more than one RTO of the peer\'s clock older than TS.Recent is dropped', () => {
    const { p, conn, sack } = established();
    const { s, t } = thirdAckFirst(p, conn);
    expect(conn.snd.rtt.rto).toBe(200);
    // Linux's replay window: RTO × 1.2 ticks (tcp_tsval_replay(): peers ticking up to 1200 Hz).
    p.sendAck({ ack: s[0], options: { ts: [t + 1 - 241, p.lastOurTsVal], sack: [[s[2], s[4]]] } });
    expect(p.counter('drop_tcp_paws')).toBe(1);
    expect(sack.isSacked(s[3])).toBe(false);
    p.sendAck({ ack: s[0], options: { ts: [t + 1 - 240, p.lastOurTsVal], sack: [[s[2], s[4]]] } });
    expect(p.counter('tcp_paws_disordered_acks')).toBe(1);
    expect(sack.isSacked(s[3])).toBe(true);
  });

  it('Linux tcp_disordered_ack condition 1: an older-TSval ACK at a sequence number other than RCV.NXT is dropped', () => {
    const { p, conn } = established();
    const { s, t } = thirdAckFirst(p, conn);
    p.sendAck({ seq: (p.seq - 1) >>> 0, ack: s[0], options: { ts: [t, p.lastOurTsVal], sack: [[s[2], s[4]]] } });
    expect(p.counter('drop_tcp_paws')).toBe(1);
    expect(conn.snd.dupAcks).toBe(2);
  });
});
