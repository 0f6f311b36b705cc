/**
 * RFC 9293 3.6 (closing: active, passive, simultaneous, half-close), 3.4.2 / 3.6
 * (TIME_WAIT 2×MSL), RFC 1337 (TIME_WAIT assassination), Linux TIME_WAIT reuse, against
 * a scripted peer. FIN_WAIT_2 timeouts (orphans only, Linux tcp_fin_timeout): rfc-orphan.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TcpPeer } from '../../helpers/tcp-peer.js';

const MSL = 1000;

function established(opts: { timestamps?: boolean } = {}) {
  const p = new TcpPeer({ tcp: { mslMs: MSL, finWait2Ms: 5000 } });
  const h = opts.timestamps === false ? { mss: 1460, sackPermitted: true, wscale: 7 } : undefined;
  const { conn, rec } = p.passiveOpen(h);
  return { p, conn, rec };
}

describe('RFC 9293 3.6 closing a connection', () => {
  it('RFC 9293 3.6 active close: FIN_WAIT_1 → FIN_WAIT_2 → TIME_WAIT for 2×MSL (configurable) → CLOSED', () => {
    const { p, conn, rec } = established();
    conn.shutdownWrite();
    expect(conn.stateName).toBe('FIN_WAIT_1');
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    p.sendAck();
    expect(conn.stateName).toBe('FIN_WAIT_2');
    p.expectNothing();
    p.sendFin();
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    expect(conn.stateName).toBe('TIME_WAIT');
    expect(rec.ended).toBe(true);
    expect(rec.closed).toBe(true);
    expect(rec.closeErr).toBeUndefined();
    expect(p.counter('tcp_time_wait')).toBe(1);
    const t = p.now;
    p.expectNothing(t + 2 * MSL - 1);
    expect(conn.stateName).toBe('TIME_WAIT');
    p.advance(1);
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_time_wait')).toBe(0);
    expect(p.counter('tcp_connections')).toBe(0);
  });

  it('RFC 9293 3.6 passive close: FIN → ACK at once, CLOSE_WAIT and onEnd; our FIN → LAST_ACK; its ACK → CLOSED', () => {
    const { p, conn, rec } = established();
    p.sendFin();
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(conn.stateName).toBe('CLOSE_WAIT');
    expect(rec.ended).toBe(true);
    expect(rec.closed).toBe(false);
    conn.shutdownWrite();
    expect(conn.stateName).toBe('LAST_ACK');
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: p.ack, ack: p.seq });
    p.sendAck();
    expect(conn.stateName).toBe('CLOSED');
    expect(rec.closed).toBe(true);
    expect(rec.closeErr).toBeUndefined();
    expect(p.counter('tcp_connections')).toBe(0);
    expect(p.counter('tcp_time_wait')).toBe(0);
  });

  it('RFC 9293 3.6 / RFC 6298: in LAST_ACK an unacknowledged FIN is retransmitted after the RTO', () => {
    const { p, conn } = established();
    p.sendFin();
    p.takeAll();
    conn.shutdownWrite();
    p.flush();
    const fin = p.expectSegment({ flags: TCP_FIN | TCP_ACK });
    const rto = conn.snd.rtt.rto;
    const again = p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: fin.seq, ack: p.seq }, 10_000);
    expect(again.at - fin.at).toBe(rto);
  });

  it('RFC 9293 3.6 simultaneous close: FIN in FIN_WAIT_1 → CLOSING (ACKed), the ACK of our FIN → TIME_WAIT', () => {
    const { p, conn, rec } = established();
    conn.shutdownWrite();
    p.flush();
    const fin = p.expectSegment({ flags: TCP_FIN | TCP_ACK });
    // The peer's FIN crosses ours: it does not acknowledge our FIN.
    p.sendFin({ ack: fin.seq });
    expect(conn.stateName).toBe('CLOSING');
    p.expectSegment({ flags: TCP_ACK, seq: fin.seq + 1, ack: p.seq });
    expect(rec.ended).toBe(true);
    p.sendAck({ ack: fin.seq + 1 });
    expect(conn.stateName).toBe('TIME_WAIT');
    p.expectNothing(p.now + 2 * MSL - 1);
    p.advance(1);
    expect(conn.stateName).toBe('CLOSED');
  });

  it('RFC 9293 3.6 simultaneous close: the peer\'s ACK of our FIN overtaken by its FIN is an old segment (drop_tcp_old_sequence, not a probe); our FIN\'s retransmission draws a new one', () => {
    const { p, conn } = established({ timestamps: false });
    conn.shutdownWrite();
    p.flush();
    const fin = p.expectSegment({ flags: TCP_FIN | TCP_ACK });
    // On the wire the peer sent <SEQ=X><ACK=FIN+1> and then its FIN <SEQ=X>: the FIN came first.
    const x = p.seq;
    p.sendFin({ ack: fin.seq });
    expect(conn.stateName).toBe('CLOSING');
    p.takeAll();
    p.sendAck({ seq: x, ack: fin.seq + 1 });
    p.expectSegment({ flags: TCP_ACK, seq: fin.seq + 1, ack: x + 1, payloadLen: 0 });
    expect(conn.stateName).toBe('CLOSING');
    expect(p.counter('drop_tcp_old_sequence')).toBe(1);
    expect(p.counter('tcp_probes_rx')).toBe(0);
    expect(p.counter('drop_tcp_out_of_window')).toBe(0);
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: fin.seq }, 5000);
    p.sendAck({ ack: fin.seq + 1 });
    expect(conn.stateName).toBe('TIME_WAIT');
  });

  it('RFC 9293 3.6 half-close: after our FIN is ACKed, data from the peer is still delivered and ACKed in FIN_WAIT_2', () => {
    const { p, conn, rec } = established();
    conn.shutdownWrite();
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK });
    p.sendAck();
    expect(conn.stateName).toBe('FIN_WAIT_2');
    const chunk = new Uint8Array(1448).fill(0x61);
    p.sendData(chunk);
    p.sendData(chunk);
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(rec.bytes().length).toBe(2 * 1448);
    expect(conn.send(new Uint8Array(10))).toBe(0); // nothing more may be sent after FIN
  });

  it('RFC 9293 3.6 half-close: after the peer FIN we may still send data in CLOSE_WAIT', () => {
    const { p, conn } = established();
    p.sendFin();
    p.takeAll();
    expect(conn.send(new TextEncoder().encode('late reply'))).toBe(10);
    p.flush();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: p.ack, ack: p.seq, payloadLen: 10 });
  });

  it('RFC 9293 3.6: a retransmitted FIN in TIME_WAIT is ACKed again and restarts the 2×MSL timer', () => {
    const { p, conn } = established();
    conn.shutdownWrite();
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK });
    p.sendAck();
    p.sendFin();
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(conn.stateName).toBe('TIME_WAIT');
    p.advance(1500);
    p.tsBase += 1;
    p.sendFin({ seq: p.seq - 1 }); // the same FIN again (our ACK was "lost")
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    p.advance(2 * MSL - 1);
    expect(conn.stateName).toBe('TIME_WAIT');
    p.advance(1);
    expect(conn.stateName).toBe('CLOSED');
  });

  it('RFC 1337: a RST in TIME_WAIT is ignored (no reply, TIME_WAIT kept for its full 2×MSL)', () => {
    const { p, conn } = established();
    conn.shutdownWrite();
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK });
    p.sendAck();
    p.sendFin();
    p.takeAll();
    const t = p.now;
    p.send({ flags: TCP_RST, seq: p.seq, ack: 0 });
    p.send({ flags: TCP_RST | TCP_ACK, seq: p.seq, ack: p.ack });
    expect(conn.stateName).toBe('TIME_WAIT');
    p.expectNothing(t + 2 * MSL - 1);
    expect(conn.stateName).toBe('TIME_WAIT');
    expect(p.counter('tcp_resets_rx')).toBe(0);
  });
});

describe('Linux TIME_WAIT reuse (RFC 9293 3.10.7.4, RFC 6191)', () => {
  /** Active close by us, then the peer's FIN: we are in TIME_WAIT. */
  function timeWait(timestamps: boolean) {
    const { p, conn } = established({ timestamps });
    conn.shutdownWrite();
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK });
    p.sendAck();
    p.sendFin();
    p.takeAll();
    expect(conn.stateName).toBe('TIME_WAIT');
    return { p, conn };
  }

  it('Linux TIME_WAIT reuse: a SYN with a sequence number above RCV.NXT opens a new connection (SYN-ACK, tcp_time_wait_reused)', () => {
    const { p, conn } = timeWait(false);
    const rcvNxt = p.seq;
    p.send({ flags: TCP_SYN, seq: rcvNxt + 100_000, ack: 0, window: 64240, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_SYN | TCP_ACK, ack: rcvNxt + 100_001 });
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_time_wait_reused')).toBe(1);
    expect(p.counter('tcp_time_wait')).toBe(0);
    expect(p.connection()!.stateName).toBe('SYN_RECEIVED');
  });

  it('Linux TIME_WAIT reuse: a SYN with a sequence number below RCV.NXT (no timestamps) does not reopen: it gets an ACK and TIME_WAIT stays', () => {
    const { p, conn } = timeWait(false);
    const rcvNxt = p.seq;
    p.send({ flags: TCP_SYN, seq: rcvNxt - 10, ack: 0, window: 64240, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: rcvNxt });
    expect(conn.stateName).toBe('TIME_WAIT');
    expect(p.counter('tcp_time_wait_reused')).toBe(0);
  });

  it('Linux TIME_WAIT reuse: with timestamps a SYN with a newer TSval reopens even with a lower sequence number', () => {
    const { p, conn } = timeWait(true);
    p.advance(10);
    p.send({ flags: TCP_SYN, seq: p.seq - 1000, ack: 0, window: 64240, options: { mss: 1460, ts: [p.tsVal(), 0], sackPermitted: true, wscale: 7 }, autoTs: false });
    p.expectSegment({ flags: TCP_SYN | TCP_ACK, ack: p.seq - 999 });
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_time_wait_reused')).toBe(1);
  });

  it('Linux TIME_WAIT reuse: with timestamps a SYN with an older TSval (PAWS) does not reopen even with a higher sequence number', () => {
    const { p, conn } = timeWait(true);
    p.send({ flags: TCP_SYN, seq: p.seq + 1000, ack: 0, window: 64240, options: { mss: 1460, ts: [p.tsVal() - 100, 0] }, autoTs: false });
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(conn.stateName).toBe('TIME_WAIT');
    expect(p.counter('tcp_time_wait_reused')).toBe(0);
  });

  it('Linux TIME_WAIT reuse (tcp_timewait_state_process): with timestamps a SYN with the same TSval and a higher sequence number reopens', () => {
    const { p, conn } = timeWait(true);
    p.send({ flags: TCP_SYN, seq: p.seq + 1000, ack: 0, window: 64240, options: { mss: 1460, ts: [p.tsVal(), 0] }, autoTs: false });
    p.expectSegment({ flags: TCP_SYN | TCP_ACK, ack: p.seq + 1001 });
    expect(conn.stateName).toBe('CLOSED');
  });
});
