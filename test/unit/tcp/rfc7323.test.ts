/**
 * RFC 7323: window scale (2.2, 2.3), timestamps (3.2, 4.3 TS.Recent), PAWS (5.3), RTT
 * measurement from timestamps (4.1), against a scripted peer.
 */
import { describe, expect, it } from 'vitest';
import { LINUX_SYN, TCP_ACK, TCP_PSH, TCP_SYN, TcpPeer } from '../../helpers/tcp-peer.js';

describe('RFC 7323 2 window scale', () => {
  it('RFC 7323 2.2: the window of a SYN is never scaled; later windows are shifted by the peer’s scale', () => {
    const p = new TcpPeer();
    p.listen(80, 128, () => {});
    p.send({ flags: TCP_SYN, seq: 1, ack: 0, window: 1000, options: { mss: 1460, wscale: 7 } });
    const c = p.connection()!;
    expect(c.snd.sndWnd).toBe(1000);
    const sa = p.expectSegment({ flags: TCP_SYN | TCP_ACK });
    p.send({ flags: TCP_ACK, seq: 2, ack: sa.seq + 1, window: 1000 });
    expect(c.snd.sndWnd).toBe(1000 << 7);
  });

  it('RFC 7323 2.2: a SYN-ACK window is not scaled either: we send no more than it allows, then follow scaled updates', () => {
    const p = new TcpPeer();
    const { conn } = p.activeOpen({ mss: 1460, wscale: 7, window: 1000 });
    expect(conn.snd.sndWnd).toBe(1000);
    conn.send(new Uint8Array(5000));
    p.flush();
    p.expectSegment({ flags: TCP_ACK, seq: p.ourIsn + 1, payloadLen: 1000 });
    p.expectNothing();
    p.sendAck({ window: 16 }); // 16 << 7 = 2048 bytes
    expect(conn.snd.sndWnd).toBe(2048);
    p.expectSegment({ flags: TCP_ACK, payloadLen: 1460 });
    // The 588 bytes left in the window are less than half the largest window: sender
    // SWS avoidance (RFC 9293 3.8.6.2.1) holds them while data is in flight.
    p.expectNothing();
  });

  it('RFC 7323 2.3: a window scale above 14 is taken as 14', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ mss: 1460, wscale: 20 });
    expect(conn.snd.wscale).toBe(14);
  });

  it('RFC 7323 2.2: without the peer’s window scale option neither side scales (our SYN-ACK carries none)', () => {
    const p = new TcpPeer();
    const { conn, synAck } = p.passiveOpen({ mss: 1460, sackPermitted: true, timestamps: true });
    expect(synAck.options.wscale).toBe(-1);
    expect(conn.rcv.wscale).toBe(0);
    expect(conn.snd.wscale).toBe(0);
    p.sendAck({ window: 3000 });
    expect(conn.snd.sndWnd).toBe(3000);
  });

  it('RFC 7323 2.3: our advertised window is the free receive space shifted right by our scale (5 for a 1 MiB buffer)', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen();
    expect(p.ourWscale).toBe(5);
    p.sendData('x');
    p.advance(40);
    p.expectSegment({ flags: TCP_ACK, ack: p.seq, window: (1 << 20) >> 5 });
    expect(conn.rcv.unconsumed).toBe(0);
  });
});

describe('RFC 7323 3-5 timestamps, PAWS, RTTM', () => {
  it('RFC 7323 3.2 / 4.3: every segment carries timestamps once negotiated; TSecr echoes TS.Recent, TSval follows our ms clock', () => {
    const p = new TcpPeer();
    const { conn, synAck } = p.passiveOpen();
    p.advance(100);
    const tsv = p.tsVal();
    p.sendData('abc');
    const a1 = p.expectSegment({ flags: TCP_ACK, options: { hasTimestamp: true, tsEcr: tsv } }, 100);
    expect(a1.options.tsVal - synAck.options.tsVal).toBe(a1.at - synAck.at);
    conn.send(new TextEncoder().encode('reply'));
    p.flush();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 5, options: { hasTimestamp: true, tsEcr: tsv } });
    expect(Array.from(a1.rawOptions.slice(0, 4))).toEqual([1, 1, 8, 10]); // NOP NOP TS
  });

  it('RFC 7323 4.3: TS.Recent is not updated from an out-of-order segment (SEG.SEQ > Last.ACK.sent)', () => {
    const p = new TcpPeer();
    p.passiveOpen();
    const old = p.tsVal();
    p.sendData('a');
    p.advance(40);
    p.expectSegment({ flags: TCP_ACK, options: { tsEcr: old } });
    p.advance(50);
    p.send({ flags: TCP_ACK | TCP_PSH, seq: p.seq + 100, payload: 'later' });
    p.expectSegment({ flags: TCP_ACK, ack: p.seq, options: { tsEcr: old } });
  });

  it('RFC 7323 5.3: PAWS drops a segment whose TSval is older than TS.Recent, sends an ACK and counts drop_tcp_paws', () => {
    const p = new TcpPeer();
    const { rec } = p.passiveOpen();
    const recent = p.tsVal();
    p.sendData('a');
    p.advance(40);
    p.takeAll();
    p.send({ flags: TCP_ACK | TCP_PSH, payload: 'old!', options: { ts: [recent - 1, p.lastOurTsVal] } });
    p.expectSegment({ flags: TCP_ACK, ack: p.seq, options: { tsEcr: recent } });
    expect(rec.bytes().toString()).toBe('a');
    expect(p.counter('drop_tcp_paws')).toBe(1);
  });

  it('RFC 7323 5.3: PAWS compares modulo 2^32 (a TSval that wrapped past 0 is newer)', () => {
    const p = new TcpPeer();
    p.tsBase = 0xffffff00 - 1000;
    const { rec } = p.passiveOpen();
    p.advance(1000); // the peer's clock wraps
    expect(p.tsVal()).toBeLessThan(0x1000);
    p.sendData('wrapped');
    expect(rec.bytes().toString()).toBe('wrapped');
    expect(p.counter('drop_tcp_paws')).toBe(0);
  });

  it('RFC 7323 4.1 / RFC 6298 2.2-2.3: the RTT is measured from the echoed timestamp (handshake 50 ms, then data 80 ms)', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ ...LINUX_SYN, rtt: 50 });
    // The handshake's final ACK echoes the SYN-ACK's TSval: first sample 50 ms.
    expect(conn.snd.rtt.srtt).toBe(50);
    expect(conn.snd.rtt.rttvar).toBe(25);
    conn.send(new Uint8Array(100));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 100 });
    p.advance(80);
    p.sendAck({ options: { ts: [p.tsVal(), d.options.tsVal] } });
    expect(conn.snd.rtt.rttvar).toBe(0.75 * 25 + 0.25 * 30);
    expect(conn.snd.rtt.srtt).toBe(0.875 * 50 + 0.125 * 80);
    expect(conn.snd.rtt.rto).toBe(200); // 53.75 + 4 × 26.25 = 158.75, below the 200 ms floor
  });

  it('RFC 7323 4.1 (RTTM): an ACK of a retransmission echoing the original TSval gives the true RTT (no Karn ambiguity)', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ ...LINUX_SYN, rtt: 30 });
    conn.send(new Uint8Array(100));
    p.flush();
    const first = p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 100 });
    const rx = p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 100 }, 2000);
    expect(rx.at - first.at).toBe(200); // RTO = max(200, 30 + 4 × 15)
    p.advance(30);
    p.sendAck({ options: { ts: [p.tsVal(), rx.options.tsVal] } });
    // A 30 ms sample (not 230 ms from the first transmission): SRTT stays 30.
    expect(conn.snd.rtt.srtt).toBe(30);
    expect(conn.snd.rtt.backoffCount).toBe(0);
  });
});

describe('RFC 9293 3.8.6.2.1 sender SWS avoidance', () => {
  it('RFC 9293 3.8.6.2.1: a small usable window held back by sender SWS avoidance is used when the override (persist) timer fires', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ ...LINUX_SYN, rtt: 10 });
    p.sendAck({ window: 1 }); // 128 bytes, far below half the largest window seen
    conn.send(new Uint8Array(3000));
    p.flush();
    p.expectNothing();
    const s = p.expectSegment({ flags: TCP_ACK, payloadLen: 128 }, 1000);
    expect(s.at - 1010).toBe(200); // one RTO (the 200 ms floor) later
  });
});
