/**
 * Throttling the ACKs that invalid segments ask for, against a scripted peer:
 * RFC 5961 7 (challenge ACKs for 3.2 RST and 4.2 SYN: at most one per 500 ms per
 * connection, Linux tcp_send_challenge_ack's per-socket limit, then within one per-shard
 * budget per second, Linux tcp_challenge_ack_limit, default 1000) and Linux tcp_invalid_ratelimit
 * (per connection, at most one ACK per 500 ms for segments that fail the acceptability
 * test of RFC 9293 3.10.7.4, PAWS rejects of RFC 7323 5.3 and too-old ACKs of RFC 5961
 * 5.2; like Linux tcp_oow_rate_limited, segments carrying data or FIN are always ACKed).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TCP_CONFIG, type TcpConfig } from '../../../src/tcp/tcp-config.js';
import { TCP_ACK, TCP_RST, TCP_SYN, TcpPeer, openFromPort, type PeerSide } from '../../helpers/tcp-peer.js';

function established(tcp: Partial<TcpConfig> = {}) {
  const p = new TcpPeer({ tcp });
  const { conn, rec } = p.passiveOpen();
  return { p, conn, rec };
}

const open = openFromPort;
type Side = PeerSide;

/** Makes the peer speak on `s` (pure ACKs, RSTs and SYNs do not move its state). */
function use(p: TcpPeer, s: Side): void {
  p.peerPort = s.port;
  p.seq = s.seq;
  p.ack = s.ack;
}

/** An in-window RST that is not exact (RFC 5961 3.2): asks for a challenge ACK. */
function blindRst(p: TcpPeer): void {
  p.send({ flags: TCP_RST | TCP_ACK, seq: p.seq + 1000, ack: p.ack });
}

/** A SYN in a synchronized state, in window (RFC 5961 4.2): asks for a challenge ACK. */
function blindSyn(p: TcpPeer): void {
  p.send({ flags: TCP_SYN, seq: p.seq + 10, ack: 0, window: 64240, options: { mss: 1460 }, autoTs: false });
}

/** A pure ACK far outside the receive window (fails RFC 9293 3.10.7.4's first check). */
function outOfWindowAck(p: TcpPeer): void {
  p.sendAck({ seq: p.seq + 0x20000000 });
}

describe('RFC 5961 7 challenge ACK throttling (Linux tcp_challenge_ack_limit)', () => {
  it('RFC 5961 7: the default budget is 1000 challenge ACKs per second per shard; the 1001st in that second is not sent (tcp_challenge_acks_suppressed)', () => {
    expect(DEFAULT_TCP_CONFIG.challengeAckLimit).toBe(1000);
    const { p, conn } = established({ invalidAckIntervalMs: 0 }); // the shard's budget alone
    for (let i = 0; i < 1001; i++) blindRst(p);
    const acks = p.takeAll();
    expect(acks.length).toBe(1000);
    expect(acks.every((s) => s.flags === TCP_ACK && s.seq === p.ack && s.ack === p.seq && s.payload.length === 0)).toBe(true);
    expect(p.counter('tcp_challenge_acks')).toBe(1000);
    expect(p.counter('tcp_challenge_acks_suppressed')).toBe(1);
    expect(conn.stateName).toBe('ESTABLISHED');
  });

  it('RFC 5961 7: over the limit neither an in-window RST (3.2) nor a SYN (4.2) gets a challenge ACK; the budget refills 1 s after its window opened', () => {
    const { p, conn, rec } = established({ challengeAckLimit: 3, invalidAckIntervalMs: 0 });
    const t0 = p.now;
    blindRst(p);
    blindSyn(p);
    blindRst(p);
    for (let i = 0; i < 3; i++) p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    expect(p.counter('tcp_challenge_acks')).toBe(3);
    p.advanceTo(t0 + 500);
    blindRst(p);
    blindSyn(p);
    p.expectNothing(t0 + 999);
    blindRst(p);
    p.expectNothing();
    expect(p.counter('tcp_challenge_acks_suppressed')).toBe(3);
    expect(p.counter('tcp_challenge_acks')).toBe(3);
    p.advanceTo(t0 + 1000);
    blindSyn(p);
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    expect(p.counter('tcp_challenge_acks')).toBe(4);
    expect(p.counter('tcp_challenge_acks_suppressed')).toBe(3);
    // Throttled challenges change nothing else: no reset, no RST sent, no invalid-ACK limit.
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(rec.closed).toBe(false);
    expect(p.counter('tcp_resets_rx')).toBe(0);
    expect(p.counter('tcp_resets_tx')).toBe(0);
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(0);
  });

  it('RFC 5961 7: one budget per shard, shared by all its connections (besides each connection\'s own interval)', () => {
    const p = new TcpPeer({ tcp: { challengeAckLimit: 2, invalidAckIntervalMs: 0 } });
    const a = open(p, 40001);
    const b = open(p, 40002);
    use(p, a);
    blindRst(p);
    p.expectSegment({ flags: TCP_ACK, seq: a.ack, ack: a.seq, dstPort: a.port });
    use(p, b);
    blindSyn(p);
    p.expectSegment({ flags: TCP_ACK, seq: b.ack, ack: b.seq, dstPort: b.port });
    use(p, a);
    blindRst(p);
    use(p, b);
    blindRst(p);
    p.expectNothing();
    expect(p.counter('tcp_challenge_acks')).toBe(2);
    expect(p.counter('tcp_challenge_acks_suppressed')).toBe(2);
    expect(a.conn.stateName).toBe('ESTABLISHED');
    expect(b.conn.stateName).toBe('ESTABLISHED');
  });

  it('RFC 5961 3.2 / 7: with the budget spent, a RST at exactly RCV.NXT still resets the connection', () => {
    const { p, conn, rec } = established({ challengeAckLimit: 1, invalidAckIntervalMs: 0 });
    blindRst(p);
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    blindRst(p);
    p.expectNothing();
    expect(p.counter('tcp_challenge_acks_suppressed')).toBe(1);
    p.send({ flags: TCP_RST, seq: p.seq, ack: 0 });
    expect(conn.stateName).toBe('CLOSED');
    expect(rec.closeErr).toBe('ECONNRESET');
    expect(p.counter('tcp_resets_rx')).toBe(1);
    p.expectNothing(p.now + 5000);
  });

  it('RFC 5961 7: challengeAckLimit 0 sends no challenge ACK at all; Infinity never throttles', () => {
    const off = established({ challengeAckLimit: 0, invalidAckIntervalMs: 0 });
    blindRst(off.p);
    blindSyn(off.p);
    off.p.expectNothing(off.p.now + 5000);
    expect(off.p.counter('tcp_challenge_acks')).toBe(0);
    expect(off.p.counter('tcp_challenge_acks_suppressed')).toBe(2);
    const on = established({ challengeAckLimit: Infinity, invalidAckIntervalMs: 0 });
    for (let i = 0; i < 1500; i++) blindRst(on.p);
    expect(on.p.takeAll().length).toBe(1500);
    expect(on.p.counter('tcp_challenge_acks_suppressed')).toBe(0);
  });
});

describe('RFC 5961 7 + Linux tcp_send_challenge_ack: challenge ACKs per connection', () => {
  it('RFC 5961 7: at most one challenge ACK per 500 ms per connection, before the shard budget (tcp_challenge_acks_conn_limited)', () => {
    const { p, conn } = established();
    const t0 = p.now;
    blindRst(p);
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    blindSyn(p);
    p.advanceTo(t0 + 499);
    blindRst(p);
    p.expectNothing();
    expect(p.counter('tcp_challenge_acks')).toBe(1);
    expect(p.counter('tcp_challenge_acks_conn_limited')).toBe(2);
    expect(p.counter('tcp_challenge_acks_suppressed')).toBe(0);
    p.advanceTo(t0 + 500);
    blindSyn(p);
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    expect(p.counter('tcp_challenge_acks')).toBe(2);
    expect(conn.stateName).toBe('ESTABLISHED');
  });

  it('RFC 5961 7: the limit is per connection: another connection still gets its challenge ACK at once', () => {
    const p = new TcpPeer();
    const a = open(p, 40001);
    const b = open(p, 40002);
    use(p, a);
    blindRst(p);
    blindRst(p);
    p.expectSegment({ flags: TCP_ACK, seq: a.ack, ack: a.seq, dstPort: a.port });
    p.expectNothing();
    use(p, b);
    blindRst(p);
    p.expectSegment({ flags: TCP_ACK, seq: b.ack, ack: b.seq, dstPort: b.port });
    expect(p.counter('tcp_challenge_acks')).toBe(2);
    expect(p.counter('tcp_challenge_acks_conn_limited')).toBe(1);
  });

  it('Linux last_oow_ack_time: an ACK for an out-of-window segment and a challenge ACK share the connection\'s interval', () => {
    const { p } = established();
    const t0 = p.now;
    outOfWindowAck(p);
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    blindRst(p);
    p.expectNothing();
    expect(p.counter('tcp_challenge_acks_conn_limited')).toBe(1);
    p.advanceTo(t0 + 500);
    blindRst(p);
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    outOfWindowAck(p);
    p.expectNothing();
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(1);
  });
});

describe('Linux tcp_invalid_ratelimit: ACKs for invalid segments, per connection', () => {
  it('RFC 9293 3.10.7.4 + Linux tcp_invalid_ratelimit: a pure ACK outside the window is answered at most once per 500 ms per connection (tcp_invalid_acks_suppressed)', () => {
    expect(DEFAULT_TCP_CONFIG.invalidAckIntervalMs).toBe(500);
    const { p, conn } = established();
    const t0 = p.now;
    outOfWindowAck(p);
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    p.advanceTo(t0 + 1);
    outOfWindowAck(p);
    p.advanceTo(t0 + 499);
    outOfWindowAck(p);
    p.expectNothing();
    expect(p.counter('drop_tcp_out_of_window')).toBe(3);
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(2);
    p.advanceTo(t0 + 500);
    outOfWindowAck(p);
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(2);
    expect(conn.stateName).toBe('ESTABLISHED');
  });

  it('RFC 7323 5.3 + Linux tcp_invalid_ratelimit: PAWS-rejected pure ACKs are answered at most once per 500 ms', () => {
    const { p } = established();
    const recent = p.tsVal();
    p.sendData('a');
    p.advance(40);
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    const t0 = p.now;
    p.sendAck({ options: { ts: [recent - 1, p.lastOurTsVal] } });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, options: { tsEcr: recent } });
    p.advanceTo(t0 + 250);
    p.sendAck({ options: { ts: [recent - 1, p.lastOurTsVal] } });
    p.expectNothing();
    expect(p.counter('drop_tcp_paws')).toBe(2);
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(1);
    p.advanceTo(t0 + 500);
    p.sendAck({ options: { ts: [recent - 1, p.lastOurTsVal] } });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    expect(p.counter('drop_tcp_paws')).toBe(3);
  });

  it('RFC 5961 5.2 + Linux: ACKs for too-old ACK values are rate-limited too, with data or without (Linux sends them as challenge ACKs)', () => {
    const { p, rec } = established();
    p.sendData('evil', { ack: p.ack - 0x1000000 });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq - 4 });
    p.advance(100);
    p.sendData('evil', { ack: p.ack - 0x1000000, seq: p.seq - 4 });
    p.sendAck({ ack: p.ack - 0x1000000, seq: p.seq - 4 });
    p.expectNothing();
    expect(rec.bytes().length).toBe(0);
    expect(p.counter('drop_tcp_old_ack')).toBe(3);
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(2);
    expect(p.counter('tcp_challenge_acks')).toBe(0);
  });

  it('Linux tcp_invalid_ratelimit: one interval per connection covers all three kinds (out of window, PAWS, old ACK)', () => {
    const { p } = established();
    const recent = p.tsVal();
    p.sendData('a');
    p.advance(40);
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    const t0 = p.now;
    outOfWindowAck(p);
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    p.sendAck({ options: { ts: [recent - 1, p.lastOurTsVal] } });
    p.sendAck({ ack: p.ack - 0x1000000 });
    p.expectNothing(t0 + 499);
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(2);
    expect(p.counter('drop_tcp_out_of_window') + p.counter('drop_tcp_paws') + p.counter('drop_tcp_old_ack')).toBe(3);
    p.advanceTo(t0 + 500);
    p.sendAck({ ack: p.ack - 0x1000000 });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
  });

  it('Linux tcp_invalid_ratelimit: the limit is per connection; a second connection’s invalid segment is still answered', () => {
    const p = new TcpPeer();
    const a = open(p, 40001);
    const b = open(p, 40002);
    use(p, a);
    outOfWindowAck(p);
    p.expectSegment({ flags: TCP_ACK, seq: a.ack, ack: a.seq, dstPort: a.port });
    use(p, b);
    outOfWindowAck(p);
    p.expectSegment({ flags: TCP_ACK, seq: b.ack, ack: b.seq, dstPort: b.port });
    use(p, a);
    outOfWindowAck(p);
    use(p, b);
    outOfWindowAck(p);
    p.expectNothing();
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(2);
  });

  it('RFC 9293 3.10.7.4 + Linux tcp_oow_rate_limited: retransmitted data entirely below RCV.NXT and a retransmitted FIN are ACKed every time, never throttled', () => {
    const { p, conn, rec } = established();
    p.sendData('hello');
    p.advance(40);
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    const t0 = p.now;
    outOfWindowAck(p); // starts the interval: data must still get through it
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    for (let i = 0; i < 3; i++) {
      // The peer's ACK was lost, as far as it knows: it retransmits (RTO floor 200 ms).
      p.advance(i === 0 ? 0 : 200);
      p.sendData('hello', { seq: p.seq - 5 });
      p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    }
    p.sendFin();
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(conn.stateName).toBe('CLOSE_WAIT');
    for (let i = 0; i < 3; i++) {
      p.sendFin({ seq: p.seq - 1 });
      p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    }
    expect(rec.bytes().toString()).toBe('hello');
    // The ACK beyond the window is a drop; the 3 retransmitted data segments and 3 FINs
    // entirely below RCV.NXT are duplicates the peer resent, not drops.
    expect(p.counter('drop_tcp_out_of_window')).toBe(1);
    expect(p.counter('tcp_duplicate_segments_rx')).toBe(6);
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(0);
    // The exempt segments neither used up nor restarted the interval: a pure ACK out of
    // window 400 ms after the first is still throttled, one at 500 ms is answered.
    expect(p.now - t0).toBe(400);
    outOfWindowAck(p);
    p.expectNothing(t0 + 499);
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(1);
    p.advanceTo(t0 + 500);
    outOfWindowAck(p);
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
  });

  it('Linux tcp_invalid_ratelimit: a SYN outside the window is throttled like a pure ACK (it carries no data)', () => {
    const { p, conn } = established();
    const syn = () => p.send({ flags: TCP_SYN, seq: p.seq - 1, ack: 0, window: 64240, options: { mss: 1460 }, autoTs: false });
    syn();
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    syn();
    p.expectNothing();
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(1);
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(p.counter('tcp_resets_tx')).toBe(0);
  });

  it('Linux tcp_invalid_ratelimit: a confused peer that answers every ACK with an out-of-window ACK gets 4 ACKs in 2 s, not an ACK storm', () => {
    const { p } = established();
    const t0 = p.now;
    let ours = 0;
    for (let i = 0; i < 200; i++) {
      p.advanceTo(t0 + 10 * i);
      outOfWindowAck(p);
      ours += p.takeAll().length;
    }
    expect(ours).toBe(4); // at t0, t0 + 500, t0 + 1000, t0 + 1500
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(196);
  });

  it('Linux tcp_invalid_ratelimit: invalidAckIntervalMs 0 answers every invalid segment', () => {
    const { p } = established({ invalidAckIntervalMs: 0 });
    for (let i = 0; i < 5; i++) outOfWindowAck(p);
    expect(p.takeAll().filter((s) => s.flags === TCP_ACK).length).toBe(5);
    expect(p.counter('tcp_invalid_acks_suppressed')).toBe(0);
  });
});
