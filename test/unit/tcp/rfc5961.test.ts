/**
 * RFC 5961 (blind in-window attacks): 3.2 RST, 4.2 SYN, 5.2 ACK acceptability, and
 * RFC 9293 3.10.7.4 (first check) for blind data outside the window.
 */
import { describe, expect, it } from 'vitest';
import { TCP_ACK, TCP_PSH, TCP_RST, TCP_SYN, TcpPeer } from '../../helpers/tcp-peer.js';

function established() {
  const p = new TcpPeer();
  const { conn, rec } = p.passiveOpen();
  return { p, conn, rec };
}

describe('RFC 5961 3.2 RST', () => {
  it('RFC 5961 3.2: a RST whose sequence number is exactly RCV.NXT resets the connection (onClose ECONNRESET, no reply)', () => {
    const { p, conn, rec } = established();
    p.send({ flags: TCP_RST, seq: p.seq, ack: 0 });
    expect(conn.stateName).toBe('CLOSED');
    expect(rec.closed).toBe(true);
    expect(rec.closeErr).toBe('ECONNRESET');
    expect(p.counter('tcp_resets_rx')).toBe(1);
    expect(p.counter('tcp_connections')).toBe(0);
    p.expectNothing(p.now + 5000);
  });

  it('RFC 5961 3.2: an in-window RST that is not exact gets a challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT> and the connection survives', () => {
    const { p, conn, rec } = established();
    p.send({ flags: TCP_RST | TCP_ACK, seq: p.seq + 1000, ack: p.ack });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(rec.closed).toBe(false);
    expect(p.counter('tcp_challenge_acks')).toBe(1);
    expect(p.counter('tcp_resets_rx')).toBe(0);
    // The real peer, seeing the challenge ACK, can reset with the exact sequence number.
    p.send({ flags: TCP_RST, seq: p.seq, ack: 0 });
    expect(rec.closeErr).toBe('ECONNRESET');
  });

  it('RFC 5961 3.2: a RST outside the window is dropped silently', () => {
    const { p, conn } = established();
    p.send({ flags: TCP_RST, seq: p.seq + 0x40000000, ack: 0 });
    p.send({ flags: TCP_RST, seq: p.seq - 1, ack: 0 });
    p.expectNothing(p.now + 1000);
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(p.counter('tcp_challenge_acks')).toBe(0);
  });

  it('RFC 9293 3.10.7.4: a RST in SYN_RECEIVED (passive open) removes the half-open connection without telling any application', () => {
    const p = new TcpPeer();
    let accepted = 0;
    p.listen(80, 128, () => accepted++);
    p.send({ flags: TCP_SYN, seq: 100, ack: 0, window: 64240, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_SYN | TCP_ACK });
    p.send({ flags: TCP_RST, seq: 101, ack: 0 });
    expect(p.counter('tcp_connections')).toBe(0);
    expect(p.counter('tcp_syn_queue')).toBe(0);
    expect(accepted).toBe(0);
    p.expectNothing(p.now + 5000);
  });
});

describe('RFC 5961 4.2 SYN', () => {
  it('RFC 5961 4.2: a SYN in ESTABLISHED (in window) gets a challenge ACK and the connection survives', () => {
    const { p, conn, rec } = established();
    p.send({ flags: TCP_SYN, seq: p.seq + 10, ack: 0, window: 64240, options: { mss: 1460 }, autoTs: false });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(rec.closed).toBe(false);
    expect(p.counter('tcp_challenge_acks')).toBe(1);
    expect(p.counter('tcp_resets_tx')).toBe(0);
  });

  it('RFC 5961 4.2: a SYN in ESTABLISHED at an old sequence number gets an ACK and the connection survives', () => {
    const { p, conn } = established();
    p.send({ flags: TCP_SYN, seq: p.seq - 1, ack: 0, window: 64240, options: { mss: 1460 }, autoTs: false });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(p.counter('tcp_resets_tx')).toBe(0);
  });
});

describe('RFC 5961 5.2 ACK', () => {
  it('RFC 5961 5.2 / RFC 9293 3.10.7.4: an ACK for data not yet sent gets an ACK, its data is dropped, counted drop_tcp_ack_unsent', () => {
    const { p, conn, rec } = established();
    p.sendData('evil', { ack: p.ack + 5000 });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq - 4 });
    expect(rec.bytes().length).toBe(0);
    expect(p.counter('drop_tcp_ack_unsent')).toBe(1);
    expect(conn.snd.sndUna).toBe(p.ack);
    expect(conn.stateName).toBe('ESTABLISHED');
  });

  it('RFC 5961 5.2: an ACK older than SND.UNA − MAX.SND.WND gets an ACK and is dropped, counted drop_tcp_old_ack', () => {
    const { p, rec } = established();
    // MAX.SND.WND is 65535 << 7 here (the peer's scaled window): go well below it.
    p.sendData('evil', { ack: p.ack - 0x1000000 });
    p.expectSegment({ flags: TCP_ACK, ack: p.seq - 4 });
    expect(rec.bytes().length).toBe(0);
    expect(p.counter('drop_tcp_old_ack')).toBe(1);
  });

  it('RFC 5961 5.2: a slightly old ACK (within MAX.SND.WND) is acceptable and its data delivered', () => {
    const { p, conn, rec } = established();
    conn.send(new Uint8Array(100));
    p.flush();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 100 });
    p.sendAck();
    p.sendData('ok', { ack: p.ack - 50 });
    expect(rec.bytes().toString()).toBe('ok');
    expect(p.counter('drop_tcp_old_ack')).toBe(0);
  });
});

describe('RFC 9293 3.10.7.4 / RFC 5961 blind data injection', () => {
  it('RFC 9293 3.10.7.4: data beyond the receive window is dropped and answered with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>', () => {
    const { p, rec } = established();
    p.sendData('injected', { seq: p.seq + 0x20000000 });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    expect(rec.bytes().length).toBe(0);
    expect(p.counter('drop_tcp_out_of_window')).toBe(1);
    expect(p.counter('tcp_ooo_segments')).toBe(0);
  });

  it('RFC 9293 3.10.7.4: the handshake\'s last ACK overtaken by the first data (veth reorders a flow sent from two CPUs) is an old segment: ACKed, counted drop_tcp_old_sequence, not out of window', () => {
    const p = new TcpPeer();
    const accepted: unknown[] = [];
    p.listen(80, 128, (c) => accepted.push(c));
    p.send({ flags: TCP_SYN, seq: 5000, ack: 0, window: 64240, options: { mss: 1460 } });
    const synAck = p.expectSegment({ flags: TCP_SYN | TCP_ACK, ack: 5001 });
    p.seq = 5001;
    p.ack = (synAck.seq + 1) >>> 0;
    const request = 'GET / HTTP/1.1\r\nHost: 10.10.0.4\r\nConnection: close\r\n\r\n';
    p.sendData(request);
    expect(accepted.length).toBe(1);
    expect(p.connection()?.stateName).toBe('ESTABLISHED');
    p.takeAll();
    p.send({ flags: TCP_ACK, seq: 5001 });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: 5001 + request.length, payloadLen: 0 });
    expect(p.counter('drop_tcp_old_sequence')).toBe(1);
    expect(p.counter('drop_tcp_out_of_window')).toBe(0);
    expect(p.counter('tcp_probes_rx')).toBe(0);
    expect(p.connection()?.stateName).toBe('ESTABLISHED');
  });

  it('RFC 9293 3.10.7.4: data entirely before RCV.NXT (old duplicate) is dropped and ACKed', () => {
    const { p, rec } = established();
    p.sendData('hello');
    p.sendData('hello', { seq: p.seq - 5 });
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(rec.bytes().toString()).toBe('hello');
  });
});
