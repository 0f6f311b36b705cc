/**
 * RFC 3708 (D-SACK detection of spurious retransmissions) with an Eifel-style response
 * (RFC 4015 2: restore the congestion state) for retransmission timeouts: when every byte
 * retransmitted since the RTO comes back D-SACKed, the originals had arrived (only their
 * ACKs were lost) and cwnd and ssthresh go back to what they were before the RTO. Scripted
 * Linux-like peer, virtual clock. RFC 3522 (Eifel) judges the RTO's retransmission by the
 * timestamp its ACK echoes (src/tcp/recovery/retransmit-undo.ts, shared with fast recovery).
 */
import { describe, expect, it } from 'vitest';
import { TCP_ACK, TCP_PSH, TcpPeer } from '../../helpers/tcp-peer.js';

const MSS = 1460;
const SEG = MSS - 12;

/** 20 segments sent, the first 5 ACKed, then every ACK lost: the probe and the RTO follow. */
function rtoAfterLostAcks() {
  const p = new TcpPeer();
  const { conn } = p.passiveOpen({ mss: MSS, wscale: 7, sackPermitted: true, timestamps: true, rtt: 10 });
  conn.send(new Uint8Array(20 * SEG));
  p.flush();
  const originals = p.takeAll();
  const s0 = originals[0].seq;
  p.sendAck({ ack: s0 + 5 * SEG });
  p.takeAll();
  const cwnd = conn.snd.cc.cwnd;
  const ssthresh = conn.snd.cc.ssthresh;
  p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: SEG }, 50); // the probe: the last segment again
  const rto = p.expectSegment({ flags: TCP_ACK, seq: s0 + 5 * SEG, payloadLen: SEG }, 300);
  p.advanceTo(rto.at);
  expect(p.counter('tcp_rto_timeouts')).toBe(1);
  expect(conn.snd.cc.cwnd).toBe(SEG);
  return { p, conn, s0, cwnd, ssthresh, originals, rto };
}

describe('RFC 3708 spurious RTO detected by D-SACK, congestion state restored', () => {
  it('RFC 3708 3 + RFC 4015: the RTO retransmission comes back D-SACKed with everything ACKed: cwnd and ssthresh as before the RTO', () => {
    const { p, conn, s0, cwnd, ssthresh } = rtoAfterLostAcks();
    p.sendAck({ ack: s0 + 20 * SEG, options: { sack: [[s0 + 5 * SEG, s0 + 6 * SEG]] } });
    expect(p.counter('tcp_dsacks_rx')).toBe(1);
    expect(p.counter('tcp_rto_undos')).toBe(1);
    expect(conn.snd.cc.cwnd).toBe(cwnd);
    expect(conn.snd.cc.ssthresh).toBe(ssthresh);
  });

  it('RFC 3708: without a D-SACK (the retransmission filled a real hole) the RTO response stands', () => {
    const { p, conn, s0, cwnd, ssthresh } = rtoAfterLostAcks();
    p.sendAck({ ack: s0 + 20 * SEG });
    expect(p.counter('tcp_rto_undos')).toBe(0);
    expect(conn.snd.cc.ssthresh).toBe(Math.floor(15 * SEG / 2));
    expect(conn.snd.cc.ssthresh).toBeLessThan(ssthresh);
    expect(conn.snd.cc.cwnd).toBeLessThan(cwnd);
  });

  it('RFC 3708: a D-SACK for only part of what was retransmitted after the RTO undoes nothing', () => {
    const { p, conn, s0, cwnd, ssthresh } = rtoAfterLostAcks();
    // The first retransmission filled a hole; two more go out (slow start) and the peer
    // reports the second of them as a duplicate.
    p.sendAck({ ack: s0 + 6 * SEG });
    const sent = p.takeAll();
    expect(sent.map((o) => o.seq - s0)).toEqual([6 * SEG, 7 * SEG]);
    p.sendAck({ ack: s0 + 20 * SEG, options: { sack: [[s0 + 7 * SEG, s0 + 8 * SEG]] } });
    expect(p.counter('tcp_dsacks_rx')).toBe(1);
    expect(p.counter('tcp_rto_undos')).toBe(0);
    expect(conn.snd.cc.ssthresh).toBeLessThan(ssthresh);
    expect(conn.snd.cc.cwnd).toBeLessThan(cwnd);
  });

  it('RFC 3522 3.2: the ACK of the RTO retransmission echoes the original\'s TSval: the RTO was spurious, undone without a D-SACK', () => {
    const { p, conn, s0, cwnd, ssthresh, originals, rto } = rtoAfterLostAcks();
    expect(rto.options.tsVal).toBeGreaterThan(originals[5].options.tsVal);
    p.sendAck({ ack: s0 + 20 * SEG, options: { ts: [p.tsVal(), originals[5].options.tsVal] } });
    expect(p.counter('tcp_rto_undos')).toBe(1);
    expect(p.counter('tcp_eifel_undos')).toBe(1);
    expect(p.counter('tcp_dsacks_rx')).toBe(0);
    expect(conn.snd.cc.cwnd).toBe(cwnd);
    expect(conn.snd.cc.ssthresh).toBe(ssthresh);
  });
});
