/**
 * RFC 9293 3.10.7.4 segment processing corners against a scripted peer: data on the
 * handshake ACK, FIN with data, FIN beyond a hole, a FIN that also acknowledges ours,
 * lost FIN retransmission, sequence number wraparound, old duplicates, abort.
 */
import { describe, expect, it } from 'vitest';
import { LINUX_SYN, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TcpPeer } from '../../helpers/tcp-peer.js';
import { patternBytes } from '../../helpers/frames.js';

describe('RFC 9293 3.10.7.4 segment processing', () => {
  it('RFC 9293 3.10.7.4: data carried by the handshake’s final ACK is delivered to the accepted connection', () => {
    const p = new TcpPeer();
    let got = '';
    p.listen(80, 16, (c) => {
      c.events = { onConnect() {}, onData(b, o, l) { got += Buffer.from(b.subarray(o, o + l)).toString(); c.consumed(l); }, onEnd() {}, onWritable() {}, onClose() {} };
    });
    p.send({ flags: TCP_SYN, seq: 10, ack: 0, window: 64240, options: { mss: 1460 } });
    const sa = p.expectSegment({ flags: TCP_SYN | TCP_ACK });
    p.send({ flags: TCP_ACK | TCP_PSH, seq: 11, ack: sa.seq + 1, window: 64240, payload: 'hello' });
    expect(got).toBe('hello');
    p.advance(40);
    p.expectSegment({ flags: TCP_ACK, ack: 16 });
  });

  it('RFC 9293 3.10.7.4: ACK+FIN completing the handshake moves SYN_RECEIVED → ESTABLISHED → CLOSE_WAIT', () => {
    const p = new TcpPeer();
    const seen: string[] = [];
    p.listen(80, 16, (c) => {
      c.events = { onConnect() {}, onData() {}, onEnd() { seen.push('end'); }, onWritable() {}, onClose() {} };
      seen.push('accept');
    });
    p.send({ flags: TCP_SYN, seq: 10, ack: 0, window: 64240, options: { mss: 1460 } });
    const sa = p.expectSegment({ flags: TCP_SYN | TCP_ACK });
    p.send({ flags: TCP_ACK | TCP_FIN, seq: 11, ack: sa.seq + 1, window: 64240 });
    expect(seen).toEqual(['accept', 'end']);
    expect(p.connection(40000, 80)!.stateName).toBe('CLOSE_WAIT');
    p.expectSegment({ flags: TCP_ACK, ack: 12 });
  });

  it('RFC 9293 3.10.7.4 (eighth): FIN with data delivers the data, then onEnd, and ACKs both at once', () => {
    const p = new TcpPeer();
    const { conn, rec } = p.passiveOpen();
    p.send({ flags: TCP_ACK | TCP_PSH | TCP_FIN, payload: 'last words' });
    p.seq += 11;
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(rec.bytes().toString()).toBe('last words');
    expect(rec.ended).toBe(true);
    expect(conn.stateName).toBe('CLOSE_WAIT');
  });

  it('RFC 9293 3.10.7.4: a FIN beyond a hole is held; filling the hole delivers the data, then the FIN', () => {
    const p = new TcpPeer();
    const { conn, rec } = p.passiveOpen();
    const s = p.seq;
    p.send({ flags: TCP_ACK | TCP_FIN, seq: s + 5, payload: 'world' });
    p.expectSegment({ flags: TCP_ACK, ack: s });
    expect(rec.ended).toBe(false);
    expect(conn.stateName).toBe('ESTABLISHED');
    p.send({ flags: TCP_ACK, seq: s, payload: 'hello' });
    p.expectSegment({ flags: TCP_ACK, ack: s + 11 });
    expect(rec.bytes().toString()).toBe('helloworld');
    expect(rec.ended).toBe(true);
    expect(conn.stateName).toBe('CLOSE_WAIT');
  });

  it('RFC 9293 3.6: a FIN that also acknowledges our FIN takes FIN_WAIT_1 straight to TIME_WAIT', () => {
    const p = new TcpPeer({ tcp: { mslMs: 500 } });
    const { conn, rec } = p.passiveOpen();
    conn.shutdownWrite();
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK });
    p.sendFin(); // acks our FIN (p.ack moved past it)
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(conn.stateName).toBe('TIME_WAIT');
    expect(rec.ended).toBe(true);
    expect(rec.closed).toBe(true);
  });

  it('RFC 9293 3.6 / RFC 6298: a lost FIN (FIN_WAIT_1) is retransmitted on the RTO with the unacknowledged data', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ ...LINUX_SYN, rtt: 10 });
    conn.send(new TextEncoder().encode('bye'));
    conn.shutdownWrite();
    p.flush();
    const f = p.expectSegment({ flags: TCP_FIN | TCP_ACK | TCP_PSH, payloadLen: 3 });
    const r = p.expectSegment({ flags: TCP_FIN | TCP_ACK | TCP_PSH, seq: f.seq, payloadLen: 3 }, 1000);
    expect(r.at - f.at).toBe(200);
    p.sendAck();
    expect(conn.stateName).toBe('FIN_WAIT_2');
  });

  it('RFC 9293 3.4: sequence numbers wrap modulo 2^32 (peer ISN just below 2^32, data across the wrap)', () => {
    const p = new TcpPeer();
    const { rec } = p.passiveOpen({ ...LINUX_SYN, isn: 0xfffff000 });
    const data = patternBytes(3 * 1448, 9);
    for (let off = 0; off < data.length; off += 1448) p.sendData(data.subarray(off, off + 1448));
    p.advance(40);
    const acks = p.takeAll();
    expect(acks.at(-1)!.ack).toBe((0xfffff001 + data.length) >>> 0);
    expect(p.seq).toBeLessThan(0x10000);
    expect(Buffer.from(rec.bytes()).equals(Buffer.from(data))).toBe(true);
  });

  it('RFC 9293 3.4: sequence numbers and timestamps above 2^31 read back as uint32 (they are held as int32 inside)', () => {
    const p = new TcpPeer();
    p.tsBase = 0xf000_0000;
    const { conn } = p.passiveOpen({ ...LINUX_SYN, isn: 0xffff_fff0 });
    const tsVal = p.tsVal();
    p.sendData(patternBytes(10, 3));
    p.advance(40);
    expect(conn.rcv.irs).toBe(0xffff_fff0);
    expect(conn.rcv.rcvNxt).toBe(0xffff_fffb);
    expect(conn.rcv.tsRecent).toBe(tsVal);
    expect(conn.rcv.tsRecent).toBeGreaterThan(2 ** 31);
    p.sendData(patternBytes(10, 4));
    p.advance(40);
    expect(conn.rcv.rcvNxt).toBe(5);
    for (const v of [conn.snd.iss, conn.snd.sndUna, conn.snd.sndNxt, conn.snd.sndMax]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(2 ** 32);
    }
    expect(conn.snd.sndUna).toBe((conn.snd.iss + 1) >>> 0);
  });

  it('RFC 5961 4.2 / RFC 9293 3.10.7.4: the peer’s SYN retransmitted after the handshake completed gets an ACK, not a reset', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ ...LINUX_SYN, isn: 5000 });
    p.send({ flags: TCP_SYN, seq: 5000, ack: 0, window: 64240, options: { mss: 1460, ts: [p.tsVal(), 0] }, autoTs: false });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: 5001 });
    expect(conn.stateName).toBe('ESTABLISHED');
  });

  it('RFC 9293 3.6: a data segment arriving in TIME_WAIT is answered with an ACK and does not end TIME_WAIT', () => {
    const p = new TcpPeer({ tcp: { mslMs: 1000 } });
    const { conn } = p.passiveOpen();
    conn.shutdownWrite();
    p.flush();
    p.takeAll();
    p.sendAck();
    p.sendFin();
    p.takeAll();
    p.sendData('late', { seq: p.seq - 5 });
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(conn.stateName).toBe('TIME_WAIT');
  });

  it('RFC 9293 3.10.4: abort() sends <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> and the connection is gone at once', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen();
    conn.send(new Uint8Array(100));
    p.flush();
    p.takeAll();
    conn.abort();
    p.flush();
    p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: p.ack, ack: p.seq, window: 0 });
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_connections')).toBe(0);
    p.expectNothing(p.now + 10_000);
    // The peer's next segment meets a closed port.
    p.sendData('?');
    p.expectSegment({ flags: TCP_RST, seq: p.ack });
  });

  it('RFC 9293 3.10.7.4 (SND.WL1/SND.WL2): a reordered older segment does not overwrite the window of a newer one', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen();
    const s = p.seq;
    p.sendData('abc'); // seq s: window 65535 << 7
    p.sendAck({ window: 100 }); // seq s+3: window 100 << 7
    expect(conn.snd.sndWnd).toBe(100 << 7);
    p.send({ flags: TCP_ACK, seq: s, window: 65535 }); // an old duplicate of an earlier ACK
    expect(conn.snd.sndWnd).toBe(100 << 7);
  });

  it('RFC 9293 3.7.1 / RFC 6691: segments never exceed the peer’s MSS minus the 12 bytes of timestamps', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ ...LINUX_SYN, mss: 1000 });
    expect(conn.snd.mss).toBe(988);
    conn.send(new Uint8Array(2000));
    p.flush();
    expect(p.takeAll().map((x) => x.payload.length)).toEqual([988, 988, 24]);
  });
});
