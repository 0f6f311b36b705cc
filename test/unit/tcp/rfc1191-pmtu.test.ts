/**
 * Path MTU discovery for TCP against a scripted peer and a router that sends
 * "fragmentation needed": RFC 1191 (DF on every segment, 3 the estimate only goes down,
 * 4 the next-hop MTU, 5 the plateau when the router gives none, 6.3 the estimate expires,
 * 6.4 TCP's MSS follows it and the flight is resent at the new size), Linux's min_pmtu
 * lock (below 552: held at 552, DF off), RFC 5927 4.1 (only errors quoting data in flight
 * count), and the bounded cache (l3/path-mtu.ts).
 */
import { describe, expect, it } from 'vitest';
import { ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED } from '../../../src/wire/icmp.js';
import { newCounters, C } from '../../../src/base/counters.js';
import { PathMtuCache, plateauBelow } from '../../../src/l3/path-mtu.js';
import { LINUX_SYN, PEER_IP, TCP_ACK, TCP_PSH, TCP_SYN, TcpPeer, type OutSegment } from '../../helpers/tcp-peer.js';

/** The DF bit of the IPv4 header of a frame we sent. */
function df(s: OutSegment): boolean {
  return (s.frame[14 + 6] & 0x40) !== 0;
}

/** A connection with `n` bytes sent in full-size segments and none acknowledged. */
function inFlight(n: number) {
  const p = new TcpPeer();
  const { conn, rec } = p.passiveOpen(LINUX_SYN); // MSS 1460, timestamps: 1448 per segment
  conn.send(new Uint8Array(n).map((_, i) => i & 0xff));
  p.flush();
  const segs = p.takeAll();
  return { p, conn, rec, segs };
}

describe('RFC 1191: path MTU discovery for TCP', () => {
  it('RFC 1191 3: every segment we send carries DF (SYN-ACK, data, pure ACK)', () => {
    const p = new TcpPeer();
    const { conn, synAck } = p.passiveOpen(LINUX_SYN);
    expect(df(synAck)).toBe(true);
    conn.send(new Uint8Array(3000));
    p.flush();
    const segs = p.takeAll();
    expect(segs.map((s) => s.payload.length)).toEqual([1448, 1448, 104]);
    expect(segs.every(df)).toBe(true);
    p.sendData('x');
    const ack = p.nextSegment(1000);
    expect(df(ack)).toBe(true);
  });

  it('RFC 1191 6.4: "fragmentation needed" (MTU 1280) quoting data in flight lowers the MSS to 1228 and resends the flight from SND.UNA at that size, without a congestion response', () => {
    const { p, conn, segs } = inFlight(4 * 1448);
    expect(segs.length).toBe(4);
    const cwnd = conn.snd.cc.cwnd;
    const rto = conn.snd.rtt.rto;
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, segs[1], { mtu: 1280 });
    expect(conn.snd.mss).toBe(1280 - 40 - 12);
    expect(p.counter('icmp_frag_needed_rx')).toBe(1);
    expect(p.counter('pmtu_lowered')).toBe(1);
    expect(p.counter('tcp_mss_lowered')).toBe(1);
    expect(p.host.ipOut.pathMtu.mtuFor(PEER_IP, p.now)).toBe(1280);
    const again = p.takeAll();
    // 5792 bytes from SND.UNA again, cut at 1228: 4 × 1228 + 880.
    expect(again.map((s) => s.payload.length)).toEqual([1228, 1228, 1228, 1228, 880]);
    expect(again[0].seq).toBe(segs[0].seq);
    expect(again.every((s) => df(s) && s.frame.length - 14 <= 1280)).toBe(true);
    expect(conn.snd.cc.cwnd).toBe(cwnd);
    expect(conn.snd.rtt.rto).toBe(rto); // no backoff either
    p.sendAck({ ack: again[4].seq + 880 });
    expect(conn.snd.sndUna).toBe(conn.snd.sndMax);
  });

  it('RFC 5927 4.1: "fragmentation needed" quoting a sequence number outside the flight changes nothing', () => {
    const { p, conn, segs } = inFlight(2 * 1448);
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, segs[0], { mtu: 1280, seq: segs[0].seq - 1 });
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, segs[0], { mtu: 1280, seq: segs[1].seq + 1448 });
    expect(p.counter('drop_icmp_error_bad_seq')).toBe(2);
    expect(conn.snd.mss).toBe(1448);
    expect(p.host.ipOut.pathMtu.size).toBe(0);
    expect(p.takeAll()).toEqual([]);
  });

  it('RFC 1191 3: a report that would raise the estimate (or equal the datagram it says was too big) lowers nothing', () => {
    const { p, conn, segs } = inFlight(1448);
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, segs[0], { mtu: 1400 });
    expect(conn.snd.mss).toBe(1348);
    expect(p.takeAll().map((s) => s.payload.length)).toEqual([1348, 100]);
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, segs[0], { mtu: 1450 }); // higher than 1400
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, segs[0], { mtu: 1400 }); // the same again
    expect(p.counter('pmtu_ignored')).toBe(2);
    expect(p.counter('pmtu_lowered')).toBe(1);
    expect(conn.snd.mss).toBe(1348);
    expect(p.takeAll()).toEqual([]);
  });

  it('RFC 1191 5: a router that leaves the MTU field 0 gets the plateau below the quoted length (1500 → 1492)', () => {
    expect(plateauBelow(1500)).toBe(1492);
    expect(plateauBelow(1492)).toBe(1006);
    expect(plateauBelow(68)).toBe(68);
    const { p, conn, segs } = inFlight(1448);
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, segs[0], { mtu: 0 });
    expect(p.host.ipOut.pathMtu.mtuFor(PEER_IP, p.now)).toBe(1492);
    expect(conn.snd.mss).toBe(1492 - 52);
  });

  it('RFC 1191 6.3: the lowered estimate expires after 10 minutes and the MSS goes back up', () => {
    const { p, conn, segs } = inFlight(1448);
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, segs[0], { mtu: 1280 });
    const again = p.takeAll();
    p.sendAck({ ack: again.at(-1)!.seq + again.at(-1)!.payload.length });
    expect(conn.snd.mss).toBe(1228);
    p.advance(599_000);
    conn.send(new Uint8Array(2000));
    p.flush();
    expect(p.takeAll().map((s) => s.payload.length)).toEqual([1228, 772]);
    p.sendAck();
    p.advance(1000); // 10 min after the report
    conn.send(new Uint8Array(2000));
    p.flush();
    expect(p.takeAll().map((s) => s.payload.length)).toEqual([1448, 552]);
    expect(p.counter('pmtu_expired')).toBe(1);
    expect(p.counter('tcp_mss_restored')).toBe(1);
    expect(p.counter('pmtu_entries')).toBe(0);
  });

  it('Linux min_pmtu: a report below 552 holds the estimate at 552 and the segments go without DF from then on', () => {
    const { p, conn, segs } = inFlight(1448);
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, segs[0], { mtu: 296 });
    expect(p.host.ipOut.pathMtu.mtuFor(PEER_IP, p.now)).toBe(552);
    expect(conn.snd.mss).toBe(552 - 52);
    const again = p.takeAll();
    expect(again.map((s) => s.payload.length)).toEqual([500, 500, 448]);
    expect(again.some(df)).toBe(false);
  });

  it('RFC 1191 6.4: a new connection to a destination with a lowered estimate starts at the smaller MSS (its SYN still offers ours)', () => {
    const p = new TcpPeer();
    p.host.ipOut.pathMtu.reduce(PEER_IP, 1280, p.now);
    p.peerPort = 40001;
    const { conn, syn } = p.activeOpen(LINUX_SYN);
    expect(syn.options.mss).toBe(1460);
    expect(conn.snd.mss).toBe(1228);
    expect(syn.flags).toBe(TCP_SYN);
    conn.send(new Uint8Array(1500));
    p.flush();
    expect(p.takeAll().map((s) => [s.flags, s.payload.length])).toEqual([[TCP_ACK, 1228], [TCP_ACK | TCP_PSH, 272]]);
  });
});

describe('l3/path-mtu.ts: the cache is bounded', () => {
  it('RFC 8201 5.2-style bookkeeping: at maxEntries a new destination evicts the oldest (pmtu_evictions); the gauge follows', () => {
    const counters = newCounters();
    const cache = new PathMtuCache(1500, counters, { maxEntries: 2 });
    expect(cache.lower(1, 1400, 1500, 0)).toBe(1400);
    expect(cache.lower(2, 1300, 1500, 0)).toBe(1300);
    expect(cache.lower(3, 1200, 1500, 0)).toBe(1200);
    expect(counters[C.pmtu_evictions]).toBe(1);
    expect(counters[C.pmtu_entries]).toBe(2);
    expect(cache.mtuFor(1, 0)).toBe(1500);
    expect(cache.mtuFor(2, 0)).toBe(1300);
    expect(cache.mtuFor(3, 0)).toBe(1200);
    expect(cache.expiresAt(3)).toBe(600_000);
    expect(cache.mtuFor(3, 600_000)).toBe(1500);
    expect(counters[C.pmtu_expired]).toBe(1);
  });
});

describe('RFC 1191 6.4: one report serves every connection of the worker to that destination', () => {
  it('RFC 1191 6.4 (Linux tcp_current_mss): a second connection to the same host follows the lowered estimate on its next send, its flight resent at the new size', () => {
    const p = new TcpPeer();
    p.peerPort = 40001;
    const a = p.passiveOpen(LINUX_SYN);
    p.peerPort = 40002;
    const b = p.passiveOpen(LINUX_SYN);
    a.conn.send(new Uint8Array(1448));
    b.conn.send(new Uint8Array(1448));
    p.flush();
    const [segA, segB] = p.takeAll();
    expect([segA.dstPort, segB.dstPort, segB.payload.length]).toEqual([40001, 40002, 1448]);
    p.peerPort = 40001;
    p.sendIcmpError(ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, segA, { mtu: 1280 });
    expect(p.takeAll().map((s) => [s.dstPort, s.payload.length])).toEqual([[40001, 1228], [40001, 220]]);
    expect(b.conn.snd.mss).toBe(1448); // not yet: b has not sent since
    b.conn.send(new Uint8Array(100));
    p.flush();
    expect(b.conn.snd.mss).toBe(1228);
    expect(p.takeAll().map((s) => [s.dstPort, s.seq - segB.seq, s.payload.length])).toEqual([
      [40002, 0, 1228], [40002, 1228, 320],
    ]);
    expect(p.counter('tcp_mss_lowered')).toBe(2);
    expect(p.counter('icmp_frag_needed_rx')).toBe(1);
  });
  it('RFC 1191 6.4: a connection that sends nothing new follows the lowered estimate at its RTO: the retransmission goes at the new size', () => {
    const p = new TcpPeer({ tcp: { tailLossProbe: false } });
    const b = p.passiveOpen(LINUX_SYN);
    b.conn.send(new Uint8Array(1448));
    p.flush();
    const [segB] = p.takeAll();
    p.host.ipOut.pathMtu.reduce(PEER_IP, 1280, p.now); // as an ICMP about another connection would
    const r = p.nextSegment(5000);
    expect([r.seq, r.payload.length]).toEqual([segB.seq, 1228]);
    expect(b.conn.snd.mss).toBe(1228);
  });
});
