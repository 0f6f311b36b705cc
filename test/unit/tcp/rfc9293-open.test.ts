/**
 * RFC 9293 3.5 (opening), 3.10.7.1 (CLOSED: RST forms), 3.8.1 / RFC 6298 (SYN
 * retransmission), against a scripted peer. Exact bytes, states and counters.
 */
import { describe, expect, it } from 'vitest';
import { LINUX_SYN, TCP_ACK, TCP_PSH, TCP_RST, TCP_SYN, TcpPeer } from '../../helpers/tcp-peer.js';

/** Big-endian bytes of a uint32. */
function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

describe('RFC 9293 3.5 opening a connection', () => {
  it('RFC 9293 3.5 passive open: a SYN gets SYN-ACK with MSS 1460, SACK-permitted, timestamps (TSecr = SYN TSval), window scale 5, in Linux layout', () => {
    const p = new TcpPeer();
    p.listen(80, 128, () => {});
    const tsv = p.tsVal();
    p.send({ flags: TCP_SYN, seq: 1000, ack: 0, window: 64240, options: { mss: 1460, sackPermitted: true, ts: [tsv, 0], wscale: 7 } });
    const sa = p.expectSegment({ flags: TCP_SYN | TCP_ACK, ack: 1001, window: 65535, options: { mss: 1460, sackPermitted: true, hasTimestamp: true, tsEcr: tsv, wscale: 5 } });
    // MSS(4) SACK_PERM(2) TS(10) NOP WSCALE(3): 20 bytes, header 40.
    expect(sa.headerLen).toBe(40);
    expect(Array.from(sa.rawOptions)).toEqual([2, 4, 0x05, 0xb4, 4, 2, 8, 10, ...be32(sa.options.tsVal), ...be32(tsv), 1, 3, 3, 5]);
    expect(sa.payload.length).toBe(0);
    expect(p.counter('tcp_passive_opens')).toBe(1);
    expect(p.counter('tcp_syn_queue')).toBe(1);
    const c = p.connection(40000, 80)!;
    expect(c.stateName).toBe('SYN_RECEIVED');
    // The final ACK completes the handshake and hands the connection to the listener.
    p.send({ flags: TCP_ACK, seq: 1001, ack: sa.seq + 1, window: 502, options: { ts: [tsv + 1, sa.options.tsVal] } });
    expect(c.stateName).toBe('ESTABLISHED');
    expect(c.snd.mss).toBe(1460 - 12);
    expect(c.snd.wscale).toBe(7);
    expect(c.snd.sndWnd).toBe(502 << 7);
    expect(p.counter('tcp_syn_queue')).toBe(0);
    expect(p.counter('tcp_established_total')).toBe(1);
    p.expectNothing(p.now + 100);
  });

  it('RFC 9293 3.5 / RFC 7323 2.2 / RFC 2018: a SYN without options gets a SYN-ACK with only MSS (no scale, SACK or timestamps) and the peer MSS defaults to 536', () => {
    const p = new TcpPeer();
    const { conn, synAck } = p.passiveOpen({ window: 8192 });
    expect(Array.from(synAck.rawOptions)).toEqual([2, 4, 0x05, 0xb4]);
    expect(conn.tsEnabled).toBe(false);
    expect(conn.sackEnabled).toBe(false);
    expect(conn.snd.mss).toBe(536);
    expect(conn.rcv.wscale).toBe(0);
    // No scaling: the advertised window is the plain field, capped at 65535.
    p.sendData('x');
    p.advance(40);
    p.expectSegment({ flags: TCP_ACK, ack: p.seq, window: 65535, rawOptions: [] });
  });

  it('RFC 9293 3.5 active open: our SYN carries MSS 1460, SACK-permitted, timestamps (TSecr 0) and window scale 5 in Linux layout, window 65535', () => {
    const p = new TcpPeer();
    const { conn, syn } = p.startConnect(8080);
    expect(syn.window).toBe(65535);
    expect(syn.options).toMatchObject({ mss: 1460, sackPermitted: true, hasTimestamp: true, tsEcr: 0, wscale: 5 });
    expect(Array.from(syn.rawOptions)).toEqual([2, 4, 0x05, 0xb4, 4, 2, 8, 10, ...be32(syn.options.tsVal), 0, 0, 0, 0, 1, 3, 3, 5]);
    expect(syn.srcPort).toBeGreaterThanOrEqual(32768);
    expect(syn.srcPort).toBeLessThanOrEqual(60999);
    expect(conn.stateName).toBe('SYN_SENT');
    expect(p.counter('tcp_active_opens')).toBe(1);
  });

  it('RFC 9293 3.10.7.3: a SYN-ACK completes the active open (ACK sent, onConnect, options negotiated)', () => {
    const p = new TcpPeer();
    const { conn, rec } = p.activeOpen({ ...LINUX_SYN, mss: 1400, wscale: 9 });
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(rec.connected).toBe(true);
    expect(conn.snd.mss).toBe(1400 - 12);
    expect(conn.snd.wscale).toBe(9);
    expect(p.counter('tcp_established_total')).toBe(1);
  });

  it('RFC 9293 3.10.7.3: a SYN-ACK whose ACK is not our ISS+1 gets <SEQ=SEG.ACK><CTL=RST> and the connection stays in SYN_SENT', () => {
    const p = new TcpPeer();
    const { conn, syn } = p.startConnect(8080);
    p.send({ flags: TCP_SYN | TCP_ACK, seq: 5000, ack: syn.seq + 7, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_RST, seq: syn.seq + 7, ack: 0, window: 0 });
    expect(conn.stateName).toBe('SYN_SENT');
  });

  it('RFC 9293 3.10.7.3: RST+ACK acknowledging our SYN in SYN_SENT refuses the connection (ECONNREFUSED)', () => {
    const p = new TcpPeer();
    const { conn, rec, syn } = p.startConnect(8080);
    p.send({ flags: TCP_RST | TCP_ACK, seq: 0, ack: syn.seq + 1, window: 0 });
    expect(rec.closed).toBe(true);
    expect(rec.closeErr).toBe('ECONNREFUSED');
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_connections')).toBe(0);
    p.expectNothing(p.now + 10_000);
  });

  it('RFC 9293 3.5 figure 8 simultaneous open: SYN in SYN_SENT → SYN_RECEIVED with SYN-ACK; the peer SYN-ACK → ESTABLISHED and onConnect', () => {
    const p = new TcpPeer();
    const { conn, rec, syn } = p.startConnect(8080);
    const tsv = p.tsVal();
    // Line 3: the peer's SYN crosses ours.
    p.send({ flags: TCP_SYN, seq: 300, ack: 0, window: 65535, options: { mss: 1460, sackPermitted: true, ts: [tsv, 0], wscale: 7 } });
    expect(conn.stateName).toBe('SYN_RECEIVED');
    p.expectSegment({ flags: TCP_SYN | TCP_ACK, seq: syn.seq, ack: 301, options: { mss: 1460, wscale: 5, sackPermitted: true, tsEcr: tsv } });
    // Line 6: the peer's SYN-ACK <SEQ=300><ACK=ISS+1>.
    p.send({ flags: TCP_SYN | TCP_ACK, seq: 300, ack: syn.seq + 1, window: 65535, options: { mss: 1460, sackPermitted: true, ts: [tsv + 1, syn.options.tsVal], wscale: 7 } });
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(rec.connected).toBe(true);
    expect(rec.closed).toBe(false);
    expect(p.counter('tcp_established_total')).toBe(1);
    // The connection works: data from the peer is delivered and ACKed.
    p.takeAll();
    p.seq = 301;
    p.ack = syn.seq + 1;
    p.timestamps = true;
    p.tsBase += 5; // the peer's clock moved on since the SYN-ACK's TSval
    p.sendData('hi', { flags: TCP_ACK | TCP_PSH });
    p.advance(40);
    p.expectSegment({ flags: TCP_ACK, ack: 303 });
    expect(rec.bytes().toString()).toBe('hi');
  });

  it('RFC 9293 3.5 simultaneous open (RFC-literal peer): a pure ACK of our SYN-ACK in SYN_RECEIVED also completes an active open', () => {
    const p = new TcpPeer();
    const { conn, rec, syn } = p.startConnect(8080);
    p.send({ flags: TCP_SYN, seq: 300, ack: 0, window: 65535, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_SYN | TCP_ACK, seq: syn.seq, ack: 301 });
    p.send({ flags: TCP_ACK, seq: 301, ack: syn.seq + 1, window: 65535 });
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(rec.connected).toBe(true);
    expect(rec.closed).toBe(false);
    expect(p.counter('tcp_connections')).toBe(1);
  });

  it('RFC 6298 5.5 / RFC 9293 3.8.1: the SYN-ACK is retransmitted after 1 s, then 2 s, 4 s (exponential backoff), same ISN and options', () => {
    const p = new TcpPeer();
    p.listen(80, 128, () => {});
    p.send({ flags: TCP_SYN, seq: 7, ack: 0, window: 64240, options: { mss: 1460 } });
    const t0 = p.now;
    const first = p.expectSegment({ flags: TCP_SYN | TCP_ACK, ack: 8 });
    const r1 = p.expectSegment({ flags: TCP_SYN | TCP_ACK, seq: first.seq, ack: 8, rawOptions: Array.from(first.rawOptions) }, 5000);
    expect(r1.at - t0).toBe(1000);
    const r2 = p.expectSegment({ flags: TCP_SYN | TCP_ACK, seq: first.seq, ack: 8 }, 5000);
    expect(r2.at - t0).toBe(3000);
    const r3 = p.expectSegment({ flags: TCP_SYN | TCP_ACK, seq: first.seq, ack: 8 }, 5000);
    expect(r3.at - t0).toBe(7000);
    expect(p.counter('tcp_retransmits')).toBe(3);
    expect(p.counter('tcp_syn_timeouts')).toBe(3);
    expect(p.counter('tcp_rto_timeouts')).toBe(3);
  });

  it('RFC 9293 3.5: a retransmitted SYN in SYN_RECEIVED gets the same SYN-ACK again', () => {
    const p = new TcpPeer();
    p.listen(80, 128, () => {});
    p.send({ flags: TCP_SYN, seq: 7, ack: 0, window: 64240, options: { mss: 1460 } });
    const first = p.expectSegment({ flags: TCP_SYN | TCP_ACK, ack: 8 });
    p.advance(300);
    p.send({ flags: TCP_SYN, seq: 7, ack: 0, window: 64240, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_SYN | TCP_ACK, seq: first.seq, ack: 8 });
    expect(p.counter('tcp_connections')).toBe(1);
  });

  it('RFC 9293 3.8.1: SYN-ACK retries exhausted (synRetries) → the half-open connection is gone and the SYN queue empties', () => {
    const p = new TcpPeer({ tcp: { synRetries: 3 } });
    let accepted = 0;
    p.listen(80, 128, () => accepted++);
    p.send({ flags: TCP_SYN, seq: 7, ack: 0, window: 64240, options: { mss: 1460 } });
    const t0 = p.now;
    p.expectSegment({ flags: TCP_SYN | TCP_ACK });
    for (const dt of [1000, 3000, 7000]) expect(p.expectSegment({ flags: TCP_SYN | TCP_ACK }, 10_000).at - t0).toBe(dt);
    p.expectNothing(t0 + 15_000 + 1);
    expect(p.counter('tcp_connections')).toBe(0);
    expect(p.counter('tcp_syn_queue')).toBe(0);
    expect(p.counter('tcp_timeouts')).toBe(1);
    expect(accepted).toBe(0);
    // A late ACK for the forgotten SYN-ACK now meets only the listener: RST.
    p.send({ flags: TCP_ACK, seq: 8, ack: 12345, window: 100 });
    p.expectSegment({ flags: TCP_RST, seq: 12345 });
  });

  it('RFC 9293 3.8.1: SYN retries exhausted in SYN_SENT → onClose(ETIMEDOUT), 1+2+4 s apart, and no RST is sent', () => {
    const p = new TcpPeer({ tcp: { synRetries: 2 } });
    const t0 = p.now;
    const { conn, rec, syn } = p.startConnect(8080);
    expect(p.expectSegment({ flags: TCP_SYN, seq: syn.seq }, 10_000).at - t0).toBe(1000);
    expect(p.expectSegment({ flags: TCP_SYN, seq: syn.seq }, 10_000).at - t0).toBe(3000);
    p.expectNothing(t0 + 7000);
    expect(rec.closed).toBe(true);
    expect(rec.closeErr).toBe('ETIMEDOUT');
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_connections')).toBe(0);
  });
});

describe('RFC 9293 3.10.7.1 segments to a CLOSED port', () => {
  it('RFC 9293 3.10.7.1: a SYN to a closed port gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> with window 0 and no options', () => {
    const p = new TcpPeer();
    p.send({ flags: TCP_SYN, seq: 0xfffffff0, ack: 0, window: 1000, options: { mss: 1460 }, dstPort: 81 });
    p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: 0, ack: 0xfffffff1, window: 0, rawOptions: [], srcPort: 81, dstPort: 40000 });
    expect(p.counter('tcp_resets_tx')).toBe(1);
    expect(p.counter('drop_tcp_no_listener')).toBe(1);
  });

  it('RFC 9293 3.10.7.1: data without ACK to a closed port gets RST,ACK acknowledging SEQ + data length + FIN', () => {
    const p = new TcpPeer();
    p.send({ flags: TCP_PSH | 0x01, seq: 500, ack: 0, payload: 'abcde', dstPort: 81 });
    p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: 0, ack: 506, window: 0, srcPort: 81 });
  });

  it('RFC 9293 3.10.7.1: a segment with ACK to a closed port gets <SEQ=SEG.ACK><CTL=RST> (no ACK flag, ACK field 0)', () => {
    const p = new TcpPeer();
    p.send({ flags: TCP_ACK | TCP_PSH, seq: 500, ack: 0xdeadbeef, payload: 'abc', dstPort: 81 });
    p.expectSegment({ flags: TCP_RST, seq: 0xdeadbeef, ack: 0, window: 0, rawOptions: [], srcPort: 81 });
  });

  it('RFC 9293 3.10.7.1: a RST to a closed port is dropped without a reply (no RST for a RST)', () => {
    const p = new TcpPeer();
    p.send({ flags: TCP_RST, seq: 1, ack: 0, dstPort: 81 });
    p.send({ flags: TCP_RST | TCP_ACK, seq: 1, ack: 2, dstPort: 81 });
    p.expectNothing(p.now + 1000);
    expect(p.counter('tcp_resets_tx')).toBe(0);
  });

  it('RFC 9293 3.10.7.2: an ACK (no SYN) to a listening port gets <SEQ=SEG.ACK><CTL=RST>; a segment with neither SYN nor ACK nor RST is dropped', () => {
    const p = new TcpPeer();
    p.listen(80, 128, () => {});
    p.send({ flags: TCP_ACK, seq: 1, ack: 77, window: 10 });
    p.expectSegment({ flags: TCP_RST, seq: 77, ack: 0 });
    p.send({ flags: TCP_PSH, seq: 1, ack: 0, payload: 'x' });
    p.expectNothing(p.now + 1000);
    expect(p.counter('tcp_connections')).toBe(0);
  });
});
