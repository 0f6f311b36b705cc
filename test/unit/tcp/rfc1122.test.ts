/**
 * RFC 1122 host requirements against a scripted peer: 4.2.3.2 delayed ACK, 4.2.3.4
 * Nagle (Minshall's variant, as Linux), 4.2.3.6 keepalive; RFC 5681 4.2 immediate ACKs.
 */
import { describe, expect, it } from 'vitest';
import { TCP_ACK, TCP_PSH, TCP_RST, TcpPeer } from '../../helpers/tcp-peer.js';

const full = (n = 1448) => new Uint8Array(n).fill(0x43);

describe('RFC 1122 4.2.3.2 delayed ACK', () => {
  it('RFC 1122 4.2.3.2: a single segment is ACKed after the 40 ms delayed-ACK timeout, not before (counted tcp_delayed_acks)', () => {
    const p = new TcpPeer();
    p.passiveOpen();
    p.sendData('one');
    const t = p.now;
    p.expectNothing(t + 39);
    expect(p.expectSegment({ flags: TCP_ACK, ack: p.seq }, 1).at - t).toBe(40);
    expect(p.counter('tcp_delayed_acks')).toBe(1);
  });

  it('RFC 1122 4.2.3.2: an ACK is sent at least for every second full-sized segment', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen();
    expect(conn.snd.mss).toBe(1448);
    p.sendData(full());
    p.expectNothing();
    p.sendData(full());
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    p.sendData(full());
    p.expectNothing();
    p.sendData(full());
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    p.expectNothing(p.now + 1000);
    expect(p.counter('tcp_delayed_acks')).toBe(0);
  });

  it('Linux __tcp_ack_snd_check: more than one full-sized segment unACKed (a full one plus a partial one, or small ones adding up) is ACKed at once', () => {
    const p = new TcpPeer();
    p.passiveOpen();
    p.sendData(full());
    p.expectNothing();
    p.sendData('x');
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    for (let i = 0; i < 2; i++) {
      p.sendData(new Uint8Array(724));
      p.expectNothing(); // 724, then 1448 bytes: not more than one full segment yet
    }
    p.sendData('y');
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(p.counter('tcp_delayed_acks')).toBe(0);
  });

  it('RFC 5681 4.2: out-of-order data is ACKed immediately (duplicate ACK), and so is data that fills the hole', () => {
    const p = new TcpPeer();
    p.passiveOpen();
    const s = p.seq;
    p.send({ flags: TCP_ACK, seq: s + 100, payload: full(100) });
    p.expectSegment({ flags: TCP_ACK, ack: s });
    p.send({ flags: TCP_ACK, seq: s, payload: full(100) });
    p.expectSegment({ flags: TCP_ACK, ack: s + 200 });
  });

  it('RFC 1122 4.2.3.2: data we send piggybacks the pending ACK (no separate delayed ACK follows)', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen();
    p.sendData('request');
    conn.send(new TextEncoder().encode('response'));
    p.flush();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, ack: p.seq, payloadLen: 8 });
    p.expectNothing(p.now + 100);
  });
});

describe('RFC 1122 4.2.3.4 Nagle', () => {
  it('RFC 1122 4.2.3.4 (Minshall): a second small write is held while the first small segment is unacknowledged, and sent on its ACK', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ mss: 1460, wscale: 7, sackPermitted: true, timestamps: true, rtt: 5 });
    conn.send(new Uint8Array(10));
    p.flush();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 10 });
    conn.send(new Uint8Array(20));
    p.flush();
    p.expectNothing(p.now + 100);
    p.sendAck();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 20 });
  });

  it('RFC 1122 4.2.3.4: with setNoDelay(true) the second small write goes out at once', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen();
    conn.setNoDelay(true);
    conn.send(new Uint8Array(10));
    p.flush();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 10 });
    conn.send(new Uint8Array(20));
    p.flush();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 20 });
  });

  it('RFC 1122 4.2.3.4 (Minshall): full-sized segments are never held; a small tail goes out if no small segment is outstanding', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen();
    conn.send(new Uint8Array(2 * 1448 + 10));
    p.flush();
    p.expectSegment({ flags: TCP_ACK, payloadLen: 1448 });
    p.expectSegment({ flags: TCP_ACK, payloadLen: 1448 });
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 10 });
    conn.send(new Uint8Array(1448 + 5));
    p.flush();
    // The full segment goes; the 5-byte tail waits for the 10-byte segment's ACK.
    p.expectSegment({ flags: TCP_ACK, payloadLen: 1448 });
    p.expectNothing();
    p.sendAck();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 5 });
  });

  it('RFC 1122 4.2.3.4: a FIN is not held by Nagle: a small write followed by shutdown goes out with the FIN', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen();
    conn.send(new Uint8Array(10));
    p.flush();
    p.takeAll();
    conn.send(new Uint8Array(20));
    conn.shutdownWrite();
    p.flush();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH | 0x01, payloadLen: 20 });
  });
});

describe('RFC 1122 4.2.3.6 keepalive', () => {
  const KA = { keepaliveIntervalMs: 1000, keepaliveProbes: 3 };

  it('RFC 1122 4.2.3.6: after the idle time a keepalive probe <SEQ=SND.NXT−1> with no data is sent; an answer resets the probing', () => {
    const p = new TcpPeer({ tcp: KA });
    const { conn, rec } = p.passiveOpen();
    conn.setKeepAlive(true, 10_000);
    p.flush();
    const t = p.now;
    p.expectNothing(t + 9999);
    const probe = p.expectSegment({ flags: TCP_ACK, seq: p.ack - 1, ack: p.seq, payloadLen: 0 }, 1);
    expect(probe.at - t).toBe(10_000);
    expect(p.counter('tcp_keepalive_probes')).toBe(1);
    p.sendAck();
    // Alive: the next probe comes after a full idle time again.
    const t2 = p.now;
    p.expectNothing(t2 + 9999);
    p.expectSegment({ flags: TCP_ACK, seq: p.ack - 1 }, 1);
    expect(rec.closed).toBe(false);
  });

  it('RFC 1122 4.2.3.6: after keepaliveProbes unanswered probes (interval keepaliveIntervalMs) the connection resets with ETIMEDOUT', () => {
    const p = new TcpPeer({ tcp: KA });
    const { conn, rec } = p.passiveOpen();
    conn.setKeepAlive(true, 10_000);
    p.flush();
    const t = p.now;
    const at: number[] = [];
    for (let i = 0; i < 3; i++) at.push(p.expectSegment({ flags: TCP_ACK, seq: p.ack - 1, payloadLen: 0 }, 20_000).at - t);
    expect(at).toEqual([10_000, 11_000, 12_000]);
    const rst = p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: p.ack, ack: p.seq }, 20_000);
    expect(rst.at - t).toBe(13_000);
    expect(rec.closed).toBe(true);
    expect(rec.closeErr).toBe('ETIMEDOUT');
    expect(p.counter('tcp_keepalive_probes')).toBe(3);
    expect(p.counter('tcp_connections')).toBe(0);
  });

  it('RFC 1122 4.2.3.6: a peer\'s keepalive probe <SEQ=RCV.NXT−1> with no data is answered <SEQ=SND.NXT><ACK=RCV.NXT> and counted tcp_probes_rx, not as a drop', () => {
    const p = new TcpPeer();
    const { conn, rec } = p.passiveOpen();
    p.sendData('abc');
    p.advance(40);
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    p.send({ flags: TCP_ACK, seq: p.seq - 1, ack: p.ack });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    expect(p.counter('tcp_probes_rx')).toBe(1);
    expect(p.counter('drop_tcp_out_of_window')).toBe(0);
    expect(p.counter('tcp_duplicate_segments_rx')).toBe(0);
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(rec.bytes().toString()).toBe('abc');
  });

  it('RFC 1122 4.2.3.6: keepalive is off by default (no probe after hours of idle)', () => {
    const p = new TcpPeer({ tcp: KA });
    p.passiveOpen();
    p.expectNothing(p.now + 3 * 3600_000);
  });
});
