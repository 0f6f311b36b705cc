/**
 * ICMP errors reaching TCP connections, against a scripted peer and a router that sends
 * the errors: RFC 1122 4.2.3.9 (hard and soft errors), RFC 5927 4.1 (the quoted sequence
 * number must lie in SND.UNA..SND.MAX − 1), the checks of the quote and the rate limit of
 * l3/icmp-layer.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  ICMP_DEST_UNREACHABLE, ICMP_HOST_UNREACHABLE, ICMP_NET_UNREACHABLE, ICMP_PARAMETER_PROBLEM, ICMP_PORT_UNREACHABLE,
  ICMP_PROTOCOL_UNREACHABLE, ICMP_TIME_EXCEEDED,
} from '../../../src/wire/icmp.js';
import { ICMP_ERROR_INPUT_RATE } from '../../../src/l3/icmp-layer.js';
import { parseIpv4 } from '../../../src/wire/addresses.js';
import { LINUX_SYN, TCP_ACK, TCP_PSH, TCP_SYN, TcpPeer } from '../../helpers/tcp-peer.js';

describe('RFC 1122 4.2.3.9 / RFC 5927 4.1: ICMP errors for a connection that is opening', () => {
  it('RFC 1122 4.2.3.9: a port unreachable quoting our SYN (SEG.SEQ = ISS) ends the active open with ECONNREFUSED', () => {
    const p = new TcpPeer();
    const { conn, rec, syn } = p.startConnect(9);
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, syn);
    expect(rec.closed).toBe(true);
    expect(rec.closeErr).toBe('ECONNREFUSED');
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('icmp_errors_rx')).toBe(1);
    expect(p.counter('tcp_icmp_hard_errors')).toBe(1);
    p.expectNothing(p.now + 10_000); // no SYN retransmission, no RST
  });

  it('RFC 1122 4.2.3.9: a protocol unreachable is a hard error too (ECONNREFUSED)', () => {
    const p = new TcpPeer();
    const { rec, syn } = p.startConnect(9);
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PROTOCOL_UNREACHABLE, syn);
    expect(rec.closeErr).toBe('ECONNREFUSED');
  });

  it('RFC 5927 4.1: a port unreachable whose quoted sequence number is not our ISS is dropped (blind attack): the open goes on', () => {
    const p = new TcpPeer();
    const { conn, rec, syn } = p.startConnect(9);
    for (const seq of [syn.seq + 1, syn.seq - 1, syn.seq + 0x40000000]) {
      p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, syn, { seq });
    }
    expect(p.counter('drop_icmp_error_bad_seq')).toBe(3);
    expect(p.counter('tcp_icmp_hard_errors')).toBe(0);
    expect(rec.closed).toBe(false);
    expect(conn.stateName).toBe('SYN_SENT');
    p.expectSegment({ flags: TCP_SYN, seq: syn.seq }, 1000); // the SYN is retransmitted at the RTO
  });

  it('RFC 1122 4.2.3.9: host unreachable is soft: the SYN keeps being retransmitted, and the open ends with EHOSTUNREACH instead of ETIMEDOUT', () => {
    const p = new TcpPeer({ tcp: { synRetries: 2 } });
    const { conn, rec, syn } = p.startConnect(9);
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_HOST_UNREACHABLE, syn);
    expect(conn.stateName).toBe('SYN_SENT');
    expect(p.counter('tcp_icmp_soft_errors')).toBe(1);
    p.expectSegment({ flags: TCP_SYN, seq: syn.seq }, 1000);
    p.expectSegment({ flags: TCP_SYN, seq: syn.seq }, 2000);
    p.advance(4000);
    expect(rec.closed).toBe(true);
    expect(rec.closeErr).toBe('EHOSTUNREACH');
  });

  it('RFC 1122 4.2.3.9: network unreachable is reported as ENETUNREACH on timeout; time exceeded as EHOSTUNREACH', () => {
    for (const [type, code, err] of [
      [ICMP_DEST_UNREACHABLE, ICMP_NET_UNREACHABLE, 'ENETUNREACH'],
      [ICMP_TIME_EXCEEDED, 0, 'EHOSTUNREACH'],
      [ICMP_PARAMETER_PROBLEM, 0, 'EPROTO'],
    ] as const) {
      const p = new TcpPeer({ tcp: { synRetries: 0 } });
      const { rec, syn } = p.startConnect(9);
      p.sendIcmpError(type, code, syn);
      expect(rec.closed).toBe(false);
      p.advance(2000);
      expect(rec.closeErr).toBe(err);
    }
  });

  it('Linux tcp_req_err: a port unreachable quoting our SYN-ACK drops the half-open passive connection silently', () => {
    const p = new TcpPeer();
    const accepted: unknown[] = [];
    p.listen(80, 16, (c) => accepted.push(c));
    p.ourPort = 80;
    p.send({ flags: TCP_SYN, seq: 0x1000_0000, ack: 0, window: 64240, options: { mss: 1460 } });
    const synAck = p.expectSegment({ flags: TCP_SYN | TCP_ACK });
    expect(p.connection()?.stateName).toBe('SYN_RECEIVED');
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, synAck);
    expect(p.connection()).toBeUndefined();
    expect(accepted).toEqual([]);
    expect(p.counter('tcp_icmp_hard_errors')).toBe(1);
    expect(p.counter('tcp_syn_queue')).toBe(0);
    p.expectNothing(p.now + 5000);
  });
});

describe('RFC 5927 4.1: ICMP errors for a synchronized connection', () => {
  it('RFC 5927 4.1: a port unreachable quoting data in flight is only a soft error: the connection stays and delivers', () => {
    const p = new TcpPeer();
    const { conn, rec } = p.passiveOpen(LINUX_SYN);
    conn.send(new Uint8Array(100));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 100 });
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, d);
    expect(conn.stateName).toBe('ESTABLISHED');
    expect(rec.closed).toBe(false);
    expect(p.counter('tcp_icmp_soft_errors')).toBe(1);
    expect(conn.softError).toBe('ECONNREFUSED');
    p.sendAck();
    expect(conn.softError).toBeUndefined(); // an acceptable ACK: the peer is there
    p.sendData('still here');
    expect(rec.bytes().toString()).toBe('still here');
  });

  it('RFC 5927 4.1: the quoted sequence number must lie in SND.UNA..SND.MAX − 1: already acknowledged or never sent is dropped', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen(LINUX_SYN);
    conn.send(new Uint8Array(1000));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 1000 });
    p.sendAck({ ack: d.seq + 500 }); // SND.UNA = seq + 500, SND.MAX = seq + 1000
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_HOST_UNREACHABLE, d); // seq: acknowledged already
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_HOST_UNREACHABLE, d, { seq: d.seq + 1000 }); // SND.MAX: not sent
    expect(p.counter('drop_icmp_error_bad_seq')).toBe(2);
    expect(conn.softError).toBeUndefined();
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_HOST_UNREACHABLE, d, { seq: d.seq + 999 }); // the last byte in flight
    expect(conn.softError).toBe('EHOSTUNREACH');
    expect(p.counter('drop_icmp_error_bad_seq')).toBe(2);
  });

  it('RFC 1122 4.2.3.9: a host unreachable during retransmissions makes the connection end with EHOSTUNREACH when it gives up', () => {
    const p = new TcpPeer({ tcp: { dataRetries: 2, pmtuBlackHoleRtos: 0 } });
    const { conn, rec } = p.passiveOpen(LINUX_SYN);
    conn.send(new Uint8Array(100));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH });
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_HOST_UNREACHABLE, d);
    p.advance(60_000);
    expect(rec.closed).toBe(true);
    expect(rec.closeErr).toBe('EHOSTUNREACH');
    expect(p.counter('tcp_timeouts')).toBe(1);
  });

  it('an error for a 4-tuple with no connection is dropped (drop_icmp_error_no_flow)', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen(LINUX_SYN);
    conn.send(new Uint8Array(10));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH });
    conn.abort();
    p.flush();
    p.takeAll();
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, d);
    expect(p.counter('drop_icmp_error_no_flow')).toBe(1);
  });
});

describe('l3/icmp-layer.ts: the quote is checked and errors are rate-limited', () => {
  it('RFC 792 / RFC 5927 4: a quote shorter than the IP header + 8 bytes, or of a datagram we did not send, is dropped (drop_icmp_error_quote)', () => {
    const p = new TcpPeer();
    const { conn, rec, syn } = p.startConnect(9);
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, syn, { quoteLen: 20 + 4 });
    const forged = { ...syn, frame: syn.frame.slice() };
    forged.frame.set([10, 0, 0, 99], 14 + 12); // quoted source: not our address
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, forged);
    expect(p.counter('drop_icmp_error_quote')).toBe(2);
    expect(conn.stateName).toBe('SYN_SENT');
    expect(rec.closed).toBe(false);
  });

  it(`RFC 1812 4.3.2.8-style bound on input: past a burst of ${ICMP_ERROR_INPUT_RATE.burst}, errors are counted and dropped until tokens return`, () => {
    const p = new TcpPeer();
    const { conn, syn } = p.startConnect(9);
    const burst = ICMP_ERROR_INPUT_RATE.burst;
    for (let i = 0; i < burst + 20; i++) {
      p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, syn, { seq: syn.seq + 1, srcIp: parseIpv4('10.0.0.254') });
    }
    expect(p.counter('drop_icmp_error_bad_seq')).toBe(burst);
    expect(p.counter('icmp_errors_rate_limited')).toBe(20);
    // The real one is refused too while the bucket is empty; 1 s later it gets through.
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, syn);
    expect(conn.stateName).toBe('SYN_SENT');
    p.now += 1000;
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, syn);
    expect(conn.stateName).toBe('CLOSED');
  });
});
