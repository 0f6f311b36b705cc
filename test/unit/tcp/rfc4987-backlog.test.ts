/**
 * Listen backlog and SYN cookies against a scripted peer: RFC 4987 3.6 (SYN cookies
 * beyond a full SYN queue), RFC 7323 / Linux cookie_init_timestamp (window scale and
 * SACK-permitted carried in the cookie SYN-ACK's TSval).
 */
import { describe, expect, it } from 'vitest';
import type { TcpConnectionHandle } from '../../../src/tcp/connection-handle.js';
import { Recorder, TCP_ACK, TCP_PSH, TCP_RST, TCP_SYN, TcpPeer, asTcpConnection } from '../../helpers/tcp-peer.js';

/** A listener with backlog 2 and two half-open connections from ports 1001, 1002. */
function fullQueue() {
  const p = new TcpPeer();
  const accepted: TcpConnectionHandle[] = [];
  p.listen(80, 2, (c) => {
    accepted.push(c);
    c.events = new Recorder(c);
  });
  for (const port of [1001, 1002]) {
    p.send({ flags: TCP_SYN, seq: port * 1000, ack: 0, window: 64240, srcPort: port, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_SYN | TCP_ACK, dstPort: port });
  }
  expect(p.counter('tcp_syn_queue')).toBe(2);
  return { p, accepted };
}

describe('RFC 4987 3.6 listen backlog and SYN cookies', () => {
  it('RFC 4987 3.6: with backlog 2 a third concurrent SYN gets a SYN cookie SYN-ACK and no state is kept', () => {
    const { p } = fullQueue();
    const tsv = p.tsVal();
    p.send({ flags: TCP_SYN, seq: 5000, ack: 0, window: 64240, srcPort: 1003, options: { mss: 1460, sackPermitted: true, ts: [tsv, 0], wscale: 7 } });
    const sa = p.expectSegment({ flags: TCP_SYN | TCP_ACK, ack: 5001, window: 65535, dstPort: 1003, options: { mss: 1460, sackPermitted: true, hasTimestamp: true, tsEcr: tsv, wscale: 5 } });
    // Linux's trick: the low 6 bits of our TSval carry the peer's scale (7) and SACK-ok (0x10).
    expect(sa.options.tsVal & 0x3f).toBe(7 | 0x10);
    expect(p.counter('tcp_syn_cookies_tx')).toBe(1);
    expect(p.counter('tcp_connections')).toBe(2);
    expect(p.counter('tcp_syn_queue')).toBe(2);
  });

  it('RFC 4987 3.6: completing the handshake with a valid cookie creates an ESTABLISHED connection with the options recovered (tcp_syn_cookies_ok)', () => {
    const { p, accepted } = fullQueue();
    const tsv = p.tsVal();
    p.send({ flags: TCP_SYN, seq: 5000, ack: 0, window: 64240, srcPort: 1003, options: { mss: 1460, sackPermitted: true, ts: [tsv, 0], wscale: 7 } });
    const sa = p.expectSegment({ flags: TCP_SYN | TCP_ACK, dstPort: 1003 });
    p.advance(5);
    p.send({ flags: TCP_ACK | TCP_PSH, seq: 5001, ack: sa.seq + 1, window: 500, srcPort: 1003, payload: 'GET /', options: { ts: [p.tsVal(), sa.options.tsVal] } });
    expect(p.counter('tcp_syn_cookies_ok')).toBe(1);
    expect(accepted.length).toBe(1);
    const c = asTcpConnection(accepted.at(0));
    expect(c.stateName).toBe('ESTABLISHED');
    expect(c.remotePort).toBe(1003);
    expect(c.snd.mss).toBe(1460 - 12);
    expect(c.snd.wscale).toBe(7);
    expect(c.snd.sndWnd).toBe(500 << 7);
    expect(c.sackEnabled).toBe(true);
    expect(c.tsEnabled).toBe(true);
    // The data that came with the ACK is delivered.
    if (!(c.events instanceof Recorder)) throw new Error('the accepted connection has no Recorder');
    expect(c.events.bytes().toString()).toBe('GET /');
    expect(p.counter('tcp_syn_queue')).toBe(2);
    expect(p.counter('tcp_connections')).toBe(3);
  });

  it('RFC 4987 3.6: a cookie encodes the MSS coarsely (1400 → 1300 from the table) and without timestamps there is no scaling or SACK', () => {
    const { p, accepted } = fullQueue();
    p.send({ flags: TCP_SYN, seq: 5000, ack: 0, window: 64240, srcPort: 1003, options: { mss: 1400, sackPermitted: true, wscale: 7 } });
    const sa = p.expectSegment({ flags: TCP_SYN | TCP_ACK, dstPort: 1003 });
    p.send({ flags: TCP_ACK, seq: 5001, ack: sa.seq + 1, window: 500, srcPort: 1003 });
    const c = asTcpConnection(accepted.at(0));
    expect(c.snd.mss).toBe(1300);
    expect(c.snd.wscale).toBe(0);
    expect(c.rcv.wscale).toBe(0);
    expect(c.sackEnabled).toBe(false);
  });

  it('RFC 4987 3.6: a forged ACK (no cookie of ours) while cookies are in use gets <SEQ=SEG.ACK><CTL=RST> and no connection (tcp_syn_cookies_bad)', () => {
    const { p, accepted } = fullQueue();
    p.send({ flags: TCP_SYN, seq: 5000, ack: 0, window: 64240, srcPort: 1003, options: { mss: 1460 } });
    const sa = p.expectSegment({ flags: TCP_SYN | TCP_ACK });
    p.send({ flags: TCP_ACK, seq: 5001, ack: sa.seq + 2, window: 500, srcPort: 1003 });
    p.expectSegment({ flags: TCP_RST, seq: sa.seq + 2, dstPort: 1003 });
    p.send({ flags: TCP_ACK, seq: 777, ack: 0x12345678, window: 500, srcPort: 1004 });
    p.expectSegment({ flags: TCP_RST, seq: 0x12345678, dstPort: 1004 });
    expect(p.counter('tcp_syn_cookies_bad')).toBe(2);
    expect(p.counter('tcp_syn_cookies_ok')).toBe(0);
    expect(accepted.length).toBe(0);
    expect(p.counter('tcp_connections')).toBe(2);
  });

  it('RFC 4987 3.6: a cookie is valid for the tuple it was made for only (same ACK from another port is rejected)', () => {
    const { p, accepted } = fullQueue();
    p.send({ flags: TCP_SYN, seq: 5000, ack: 0, window: 64240, srcPort: 1003, options: { mss: 1460 } });
    const sa = p.expectSegment({ flags: TCP_SYN | TCP_ACK });
    p.send({ flags: TCP_ACK, seq: 5001, ack: sa.seq + 1, window: 500, srcPort: 1005 });
    p.expectSegment({ flags: TCP_RST, dstPort: 1005 });
    expect(accepted.length).toBe(0);
    expect(p.counter('tcp_syn_cookies_bad')).toBe(1);
  });

  it('RFC 4987 3.6: once a half-open connection completes, the queue has room again and the next SYN gets a normal SYN-ACK', () => {
    const { p } = fullQueue();
    const conn1001 = p.connection(1001, 80)!;
    p.send({ flags: TCP_ACK, seq: 1001 * 1000 + 1, ack: conn1001.snd.iss + 1, window: 500, srcPort: 1001 });
    expect(p.counter('tcp_syn_queue')).toBe(1);
    p.send({ flags: TCP_SYN, seq: 5000, ack: 0, window: 64240, srcPort: 1003, options: { mss: 1460 } });
    p.expectSegment({ flags: TCP_SYN | TCP_ACK, dstPort: 1003 });
    expect(p.counter('tcp_syn_cookies_tx')).toBe(0);
    expect(p.counter('tcp_syn_queue')).toBe(2);
  });
});
