/**
 * Orphaned connections against a scripted peer: RFC 9293 3.6 (half-close: FIN_WAIT_2
 * lasts as long as the peer keeps its side open), Linux tcp_fin_timeout (only a
 * connection the application closed — an orphan — gives up FIN_WAIT_2 after finWait2Ms,
 * silently, like Linux's FIN_WAIT_2 timewait socket), RFC 1122 4.2.2.13 / RFC 9293
 * 3.10.7.4 (new data for a closed connection is answered with RST; Linux:
 * <SEQ=SEG.ACK><CTL=RST>), Linux tcp_max_orphans (a close() beyond maxOrphans per shard
 * resets instead: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>), Linux tcp_orphan_retries (an
 * orphan gives up after orphanRetries retransmission timeouts instead of dataRetries),
 * and the socket wiring (destroy() orphans, end() half-closes).
 */
import { describe, expect, it } from 'vitest';
import { TcpSocket } from '../../../src/socket/tcp-socket.js';
import { DEFAULT_TCP_CONFIG } from '../../../src/tcp/tcp-config.js';
import { T_FINWAIT2 } from '../../../src/tcp/timers.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TcpPeer, openFromPort, type PeerSide } from '../../helpers/tcp-peer.js';
import { waitFor } from '../../helpers/wait-for.js';

const FIN_WAIT_2_MS = 60_000; // the default finWait2Ms (Linux tcp_fin_timeout 60 s)
const MSL = 1000;

function established() {
  const p = new TcpPeer({ tcp: { mslMs: MSL } });
  const { conn, rec } = p.passiveOpen();
  return { p, conn, rec };
}

/** Our FIN out and ACKed: FIN_WAIT_2. */
function finWait2() {
  const s = established();
  s.conn.shutdownWrite();
  s.p.flush();
  s.p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: s.p.ack, ack: s.p.seq });
  s.p.sendAck();
  expect(s.conn.stateName).toBe('FIN_WAIT_2');
  return s;
}

describe('RFC 9293 3.6 half-close: no FIN_WAIT_2 timeout while the application still reads', () => {
  it('half-closed reader survives past 60 s in FIN_WAIT_2 while the peer sends, and gets every byte', () => {
    const { p, conn, rec } = finWait2();
    const t = p.now;
    for (let i = 0; i < 9; i++) {
      p.advance(20_000);
      p.sendData(`tick ${i}`);
      p.advance(40);
      p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    }
    expect(p.now - t).toBe(9 * 20_040);
    expect(conn.stateName).toBe('FIN_WAIT_2');
    expect(conn.timers.armed(T_FINWAIT2)).toBe(false);
    expect(rec.bytes().toString()).toBe(Array.from({ length: 9 }, (_, i) => `tick ${i}`).join(''));
    expect(p.counter('tcp_resets_tx')).toBe(0);
    expect(p.counter('tcp_fin_wait2_timeouts')).toBe(0);
    p.sendFin();
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    expect(conn.stateName).toBe('TIME_WAIT');
    expect(rec.ended).toBe(true);
  });

  it('half-closed reader with a silent peer stays in FIN_WAIT_2 (10 min: nothing sent, nothing dropped)', () => {
    const { p, conn, rec } = finWait2();
    p.expectNothing(p.now + 600_000);
    expect(conn.stateName).toBe('FIN_WAIT_2');
    expect(rec.closed).toBe(false);
    expect(p.counter('tcp_connections')).toBe(1);
    expect(p.counter('tcp_orphans')).toBe(0);
  });
});

describe('Linux tcp_fin_timeout: an orphan in FIN_WAIT_2 is gone after finWait2Ms', () => {
  it('orphan in FIN_WAIT_2 is gone finWait2Ms after close(), without a segment (tcp_fin_wait2_timeouts)', () => {
    const { p, conn, rec } = finWait2();
    p.advance(10_000);
    const closedAt = p.now;
    conn.close();
    expect(conn.orphaned).toBe(true);
    expect(p.counter('tcp_orphans')).toBe(1);
    p.expectNothing(closedAt + FIN_WAIT_2_MS - 1);
    expect(conn.stateName).toBe('FIN_WAIT_2');
    p.expectNothing(closedAt + FIN_WAIT_2_MS);
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_fin_wait2_timeouts')).toBe(1);
    expect(p.counter('tcp_connections')).toBe(0);
    expect(p.counter('tcp_orphans')).toBe(0);
    expect(p.counter('tcp_resets_tx')).toBe(0);
    expect(rec.closed).toBe(false); // the application let go at close(): no more events
    // The peer speaks later: a segment for a closed port gets <SEQ=SEG.ACK><CTL=RST>.
    p.sendData('anyone?');
    p.expectSegment({ flags: TCP_RST, seq: p.ack });
  });

  it('close() in ESTABLISHED: FIN at once; the FIN_WAIT_2 timer starts when the FIN is ACKed', () => {
    const { p, conn } = established();
    conn.close();
    expect(conn.stateName).toBe('FIN_WAIT_1');
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: p.ack, ack: p.seq, payloadLen: 0 });
    p.advance(5000);
    expect(p.takeAll().every((s) => s.flags === (TCP_FIN | TCP_ACK))).toBe(true); // RTO retransmissions
    p.sendAck();
    expect(conn.stateName).toBe('FIN_WAIT_2');
    const ackedAt = p.now;
    expect(conn.timers.deadline(T_FINWAIT2)).toBe(ackedAt + FIN_WAIT_2_MS);
    p.expectNothing(ackedAt + FIN_WAIT_2_MS - 1);
    expect(conn.stateName).toBe('FIN_WAIT_2');
    p.advance(1);
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_fin_wait2_timeouts')).toBe(1);
  });

  it('segments from the peer (ACKs, window updates) do not restart the orphan FIN_WAIT_2 timer', () => {
    const { p, conn } = finWait2();
    conn.close();
    const t = p.now;
    for (let i = 1; i <= 5; i++) {
      p.advance(10_000);
      p.sendAck({ window: 1000 + i });
    }
    p.expectNothing(t + FIN_WAIT_2_MS - 1);
    expect(conn.stateName).toBe('FIN_WAIT_2');
    p.advance(1);
    expect(conn.stateName).toBe('CLOSED');
  });

  it('the peer FIN before the timeout: the orphan is ACKed into TIME_WAIT as usual, then CLOSED after 2×MSL', () => {
    const { p, conn } = finWait2();
    conn.close();
    p.advance(30_000);
    p.sendFin();
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    expect(conn.stateName).toBe('TIME_WAIT');
    expect(p.counter('tcp_orphans')).toBe(0);
    p.advance(2 * MSL);
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_fin_wait2_timeouts')).toBe(0);
  });

  it('close() after the peer FIN (CLOSE_WAIT): FIN, LAST_ACK, the ACK closes it; no FIN_WAIT_2 timer involved', () => {
    const { p, conn } = established();
    p.sendFin();
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    conn.close();
    expect(conn.stateName).toBe('LAST_ACK');
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: p.ack, ack: p.seq });
    expect(p.counter('tcp_orphans')).toBe(1);
    p.sendAck();
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_orphans')).toBe(0);
    expect(p.counter('tcp_connections')).toBe(0);
  });
});

describe('RFC 1122 4.2.2.13: data to an orphan → RST', () => {
  it('data to an orphan in FIN_WAIT_2 → <SEQ=SEG.ACK><CTL=RST>, the connection is dropped (tcp_orphan_data_resets)', () => {
    const { p, conn, rec } = finWait2();
    conn.close();
    p.sendData('late data');
    p.expectSegment({ flags: TCP_RST, seq: p.ack, ack: 0 });
    expect(conn.stateName).toBe('CLOSED');
    expect(rec.chunks).toEqual([]);
    expect(p.counter('tcp_orphan_data_resets')).toBe(1);
    expect(p.counter('tcp_resets_tx')).toBe(1);
    expect(p.counter('tcp_connections')).toBe(0);
    expect(p.counter('tcp_orphans')).toBe(0);
    p.expectNothing(p.now + 2 * FIN_WAIT_2_MS);
  });

  it('data to an orphan in FIN_WAIT_1 (our FIN not yet ACKed) → RST', () => {
    const { p, conn } = established();
    conn.close();
    p.flush();
    const fin = p.expectSegment({ flags: TCP_FIN | TCP_ACK });
    p.sendData('crossing', { ack: fin.seq });
    p.expectSegment({ flags: TCP_RST, seq: fin.seq });
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_orphan_data_resets')).toBe(1);
  });

  it('a retransmission of data the orphan already received (nothing new) is ACKed, not reset', () => {
    const { p, conn } = established();
    p.sendData('before close');
    p.advance(40);
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    conn.close();
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK });
    p.sendAck();
    p.sendData('before close', { seq: p.seq - 12 });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq });
    expect(conn.stateName).toBe('FIN_WAIT_2');
    expect(p.counter('tcp_orphan_data_resets')).toBe(0);
  });

  it('data to a half-closed connection that was not closed is delivered (no RST)', () => {
    const { p, conn, rec } = finWait2();
    p.sendData('still reading', { flags: TCP_ACK | TCP_PSH });
    expect(rec.bytes().toString()).toBe('still reading');
    expect(conn.stateName).toBe('FIN_WAIT_2');
    expect(p.counter('tcp_resets_tx')).toBe(0);
  });
});

describe('TcpSocket wiring: destroy() orphans the connection, end() only half-closes', () => {
  it('destroy() with nothing unread: FIN, the connection is an orphan, gone finWait2Ms after our FIN is ACKed', async () => {
    const { p, conn } = established();
    const sock = new TcpSocket(conn, { notify: () => p.flush() });
    sock.on('close', () => {});
    sock.destroy();
    await waitFor(() => conn.orphaned, { what: 'the socket to close() its connection' });
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: p.ack, ack: p.seq });
    p.sendAck();
    const t = p.now;
    p.expectNothing(t + FIN_WAIT_2_MS);
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_fin_wait2_timeouts')).toBe(1);
  });

  it('end() keeps reading: FIN_WAIT_2 survives past finWait2Ms and data still reaches the socket', async () => {
    const { p, conn } = established();
    const sock = new TcpSocket(conn, { notify: () => p.flush(), allowHalfOpen: true });
    const got: string[] = [];
    sock.on('data', (d: Buffer) => got.push(d.toString()));
    sock.end();
    await waitFor(() => conn.stateName === 'FIN_WAIT_1', { what: 'the socket to shut down its write side' });
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: p.ack, ack: p.seq });
    p.sendAck();
    p.advance(2 * FIN_WAIT_2_MS);
    p.sendData('after two minutes');
    await waitFor(() => got.length > 0, { what: "the socket's 'data'" });
    expect(got).toEqual(['after two minutes']);
    expect(conn.orphaned).toBe(false);
    expect(conn.stateName).toBe('FIN_WAIT_2');
    sock.destroy();
  });
});

const open = openFromPort;
type Side = PeerSide;

/** No timestamps: the RTO starts at 1 s (RFC 6298 2.1) and doubles. */
const NO_TS = { mss: 1460, wscale: 7, sackPermitted: true };

describe('Linux tcp_max_orphans: at most maxOrphans orphans per shard', () => {
  it('a close() that would make more than maxOrphans orphans sends <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> instead of FIN and drops the connection (tcp_orphans_overflow_resets)', () => {
    expect(DEFAULT_TCP_CONFIG.maxOrphans).toBe(4096);
    const p = new TcpPeer({ tcp: { mslMs: MSL, maxOrphans: 2 } });
    const [a, b, c] = [40001, 40002, 40003].map((port) => open(p, port)) as [Side, Side, Side];
    a.conn.close();
    b.conn.close();
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: a.ack, ack: a.seq, dstPort: a.port });
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: b.ack, ack: b.seq, dstPort: b.port });
    expect(p.counter('tcp_orphans')).toBe(2);
    c.conn.close();
    p.flush();
    p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: c.ack, ack: c.seq, window: 0, payloadLen: 0, dstPort: c.port });
    expect(p.out).toEqual([]);
    expect(c.conn.stateName).toBe('CLOSED');
    expect(a.conn.stateName).toBe('FIN_WAIT_1');
    expect(b.conn.stateName).toBe('FIN_WAIT_1');
    expect(p.counter('tcp_orphans_overflow_resets')).toBe(1);
    expect(p.counter('tcp_resets_tx')).toBe(1);
    expect(p.counter('tcp_orphans')).toBe(2);
    expect(p.counter('tcp_connections')).toBe(2);
  });

  it('an orphan that reaches TIME_WAIT makes room: the next close() sends FIN again', () => {
    const p = new TcpPeer({ tcp: { mslMs: MSL, maxOrphans: 1 } });
    const [a, b, c] = [40001, 40002, 40003].map((port) => open(p, port)) as [Side, Side, Side];
    a.conn.close();
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: a.ack, dstPort: a.port });
    b.conn.close(); // one orphan already: over the limit
    p.flush();
    p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: b.ack, ack: b.seq, dstPort: b.port });
    // a finishes: the peer ACKs our FIN and sends its own; a goes to TIME_WAIT.
    p.peerPort = a.port;
    p.seq = a.seq;
    p.ack = a.ack + 1;
    p.sendFin();
    p.expectSegment({ flags: TCP_ACK, seq: a.ack + 1, ack: a.seq + 1, dstPort: a.port });
    expect(a.conn.stateName).toBe('TIME_WAIT');
    expect(p.counter('tcp_orphans')).toBe(0);
    c.conn.close();
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: c.ack, ack: c.seq, dstPort: c.port });
    expect(c.conn.stateName).toBe('FIN_WAIT_1');
    expect(p.counter('tcp_orphans')).toBe(1);
    expect(p.counter('tcp_orphans_overflow_resets')).toBe(1);
  });

  it('a half-closed connection (shutdownWrite) is not an orphan and is not limited; its later close() is', () => {
    const p = new TcpPeer({ tcp: { mslMs: MSL, maxOrphans: 0 } });
    const { conn } = p.passiveOpen();
    conn.shutdownWrite();
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: p.ack, ack: p.seq });
    p.sendAck();
    expect(conn.stateName).toBe('FIN_WAIT_2');
    expect(p.counter('tcp_orphans_overflow_resets')).toBe(0);
    conn.close();
    p.flush();
    // SND.NXT is past our FIN now.
    p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: p.ack, ack: p.seq, window: 0 });
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_orphans_overflow_resets')).toBe(1);
    expect(p.counter('tcp_orphans')).toBe(0);
    expect(p.counter('tcp_connections')).toBe(0);
  });
});

describe('Linux tcp_orphan_retries: an orphan gives up after orphanRetries retransmissions', () => {
  it('an orphan whose FIN is never ACKed resends it orphanRetries times, then sends <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> and is gone (tcp_timeouts, tcp_orphan_timeouts)', () => {
    expect(DEFAULT_TCP_CONFIG.orphanRetries).toBe(8);
    const p = new TcpPeer({ tcp: { orphanRetries: 3, dataRetries: 10 } });
    const { conn } = p.passiveOpen(NO_TS);
    conn.close();
    p.flush();
    const fin = p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: p.ack, ack: p.seq });
    for (const dt of [1000, 3000, 7000]) {
      expect(p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: fin.seq }, 20_000).at - fin.at).toBe(dt);
    }
    p.expectNothing(fin.at + 15_000 - 1);
    const rst = p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: fin.seq + 1, ack: p.seq, window: 0 }, 1);
    expect(rst.at - fin.at).toBe(15_000);
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_retransmits')).toBe(3);
    expect(p.counter('tcp_timeouts')).toBe(1);
    expect(p.counter('tcp_orphan_timeouts')).toBe(1);
    expect(p.counter('tcp_orphans')).toBe(0);
    expect(p.counter('tcp_connections')).toBe(0);
    p.expectNothing(p.now + 600_000);
  });

  it('a connection that is not an orphan (shutdownWrite only) keeps retrying for dataRetries, not orphanRetries', () => {
    const p = new TcpPeer({ tcp: { orphanRetries: 1, dataRetries: 3 } });
    const { conn, rec } = p.passiveOpen(NO_TS);
    conn.shutdownWrite();
    p.flush();
    const fin = p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: p.ack, ack: p.seq });
    for (const dt of [1000, 3000, 7000]) {
      expect(p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: fin.seq }, 20_000).at - fin.at).toBe(dt);
    }
    const rst = p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: fin.seq + 1, ack: p.seq }, 20_000);
    expect(rst.at - fin.at).toBe(15_000);
    expect(rec.closeErr).toBe('ETIMEDOUT');
    expect(p.counter('tcp_timeouts')).toBe(1);
    expect(p.counter('tcp_orphan_timeouts')).toBe(0);
  });

  it('retransmission timeouts before close() count too: an orphan already past orphanRetries gives up at its next timeout', () => {
    const p = new TcpPeer({ tcp: { orphanRetries: 2, dataRetries: 10 } });
    const { conn } = p.passiveOpen(NO_TS);
    conn.send(new Uint8Array(100));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 100 });
    for (const dt of [1000, 3000, 7000]) {
      expect(p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: d.seq }, 20_000).at - d.at).toBe(dt);
    }
    conn.close();
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: d.seq + 100, payloadLen: 0 });
    p.expectNothing(d.at + 15_000 - 1);
    p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: d.seq + 101, ack: p.seq }, 1);
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_orphan_timeouts')).toBe(1);
  });

  it('Linux tcp_probe_timer: an orphan held by a zero window gives up after orphanRetries window probes (RST, tcp_orphan_timeouts); a live connection keeps probing', () => {
    const p = new TcpPeer({ tcp: { orphanRetries: 3, dataRetries: 10 } });
    const { conn } = p.passiveOpen({ mss: 1460, wscale: 7, timestamps: true, rtt: 10 });
    p.sendAck({ window: 0 });
    conn.send(new Uint8Array(100));
    conn.close();
    p.flush();
    p.expectNothing();
    expect(p.counter('tcp_orphans')).toBe(1);
    const t = p.now;
    const probes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const pr = p.expectSegment({ flags: TCP_ACK, seq: p.ack - 1, payloadLen: 0 }, 10_000);
      probes.push(pr.at - t);
      p.sendAck({ window: 0 }); // the peer answers: still closed
    }
    expect(probes).toEqual([200, 600, 1400]);
    // The fourth probe would be due 1600 ms after the third: the orphan gives up instead.
    const rst = p.expectSegment({ flags: TCP_RST | TCP_ACK, seq: p.ack, ack: p.seq }, 10_000); // SND.NXT: nothing got out
    expect(rst.at - t).toBe(3000);
    expect(conn.stateName).toBe('CLOSED');
    expect(p.counter('tcp_window_probes')).toBe(3);
    expect(p.counter('tcp_orphan_timeouts')).toBe(1);
    expect(p.counter('tcp_timeouts')).toBe(1);
    expect(p.counter('tcp_orphans')).toBe(0);
    expect(p.counter('tcp_connections')).toBe(0);
  });
});
