/**
 * RFC 6298 retransmission timer against a scripted peer: initial RTO, the minimum,
 * Karn's algorithm, exponential backoff, giving up (RFC 1122 4.2.3.5).
 */
import { describe, expect, it } from 'vitest';
import { LINUX_SYN, TCP_ACK, TCP_PSH, TCP_RST, TcpPeer } from '../../helpers/tcp-peer.js';

/** No timestamps: RTT samples come from timed segments only. */
const NO_TS = { mss: 1460, wscale: 7, sackPermitted: true };

describe('RFC 6298 retransmission timer', () => {
  it('RFC 6298 2.1: before any RTT sample the RTO is 1 s (first retransmission 1 s after the segment)', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen(NO_TS);
    expect(conn.snd.rtt.hasSample).toBe(false);
    conn.send(new Uint8Array(100));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 100 });
    p.expectNothing(d.at + 999);
    const r = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: d.seq, payloadLen: 100 }, 1);
    expect(r.at - d.at).toBe(1000);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
    expect(p.counter('tcp_retransmits')).toBe(1);
  });

  it('RFC 6298 2.4: the RTO never drops below the 200 ms minimum (Linux TCP_RTO_MIN) however small the RTT', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ ...LINUX_SYN, rtt: 1 });
    expect(conn.snd.rtt.srtt).toBe(1);
    conn.send(new Uint8Array(100));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH });
    expect(p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: d.seq }, 5000).at - d.at).toBe(200);
  });

  it('RFC 6298 5.5: on each expiry the RTO doubles (1, 2, 4, 8 s) and the oldest unacknowledged segment is resent', () => {
    // Black-hole detection would shrink the segment at the third RTO (rfc4821-black-hole.test.ts).
    const p = new TcpPeer({ tcp: { pmtuBlackHoleRtos: 0 } });
    const { conn } = p.passiveOpen(NO_TS);
    conn.send(new Uint8Array(3000));
    p.flush();
    const first = p.takeAll();
    expect(first.map((s) => s.payload.length)).toEqual([1460, 1460, 80]);
    const t0 = first[0].at;
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = p.expectSegment({ flags: TCP_ACK, seq: first[0].seq, payloadLen: 1460 }, 20_000);
      times.push(r.at - t0);
      p.expectNothing(); // RFC 5681 3.1: after an RTO cwnd is one segment
    }
    expect(times).toEqual([1000, 3000, 7000, 15000]);
    expect(conn.snd.cc.cwnd).toBe(1460);
  });

  it('RFC 6298 3 (Karn): without timestamps an ACK for a retransmitted segment gives no RTT sample and the backed-off RTO is kept', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen(NO_TS);
    conn.send(new Uint8Array(100));
    p.flush();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH });
    p.expectSegment({ flags: TCP_ACK | TCP_PSH }, 2000);
    p.advance(10);
    p.sendAck();
    expect(conn.snd.rtt.hasSample).toBe(false);
    expect(conn.snd.rtt.rto).toBe(2000);
    // RFC 6298 5.7: the next segment that is not retransmitted is timed and resets the RTO.
    conn.send(new Uint8Array(100));
    p.flush();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH });
    p.advance(100);
    p.sendAck();
    expect(conn.snd.rtt.srtt).toBe(100);
    expect(conn.snd.rtt.rto).toBe(300);
  });

  it('RFC 6298 2.2 / 5.3: a timed segment gives SRTT = R, RTTVAR = R/2; an ACK of new data restarts the timer', () => {
    const p = new TcpPeer({ tcp: { tailLossProbe: false } }); // a probe would come first (rfc8985-tlp.test.ts)
    const { conn } = p.passiveOpen(NO_TS);
    conn.send(new Uint8Array(2 * 1460));
    p.flush();
    p.takeAll();
    p.advance(400);
    p.sendAck({ ack: p.ack - 1460 });
    expect(conn.snd.rtt.srtt).toBe(400);
    expect(conn.snd.rtt.rttvar).toBe(200);
    expect(conn.snd.rtt.rto).toBe(1200);
    const t = p.now;
    p.expectNothing(t + 1199);
    expect(p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 1460 }, 1).at - t).toBe(1200);
  });

  it('RFC 1122 4.2.3.5 / RFC 6298: after dataRetries unanswered retransmissions the connection sends <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> and closes with ETIMEDOUT', () => {
    const p = new TcpPeer({ tcp: { dataRetries: 3 } });
    const { conn, rec } = p.passiveOpen(NO_TS);
    conn.send(new Uint8Array(100));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH });
    for (const dt of [1000, 3000, 7000]) expect(p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: d.seq }, 20_000).at - d.at).toBe(dt);
    p.expectNothing(d.at + 15_000 - 1);
    const rst = p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: d.seq + 100, ack: p.seq, window: 0 }, 1);
    expect(rst.at - d.at).toBe(15_000);
    expect(rec.closed).toBe(true);
    expect(rec.closeErr).toBe('ETIMEDOUT');
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_timeouts')).toBe(1);
    expect(p.counter('tcp_connections')).toBe(0);
  });
});
