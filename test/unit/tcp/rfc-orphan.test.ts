/**
 * Orphaned connections against a scripted peer: RFC 9293 3.6 (half-close: FIN_WAIT_2
 * lasts as long as the peer keeps its side open), Linux tcp_fin_timeout (only a
 * connection the application closed — an orphan — gives up FIN_WAIT_2 after finWait2Ms,
 * silently, like Linux's FIN_WAIT_2 timewait socket), RFC 1122 4.2.2.13 / RFC 9293
 * 3.10.7.4 (new data for a closed connection is answered with RST; Linux:
 * <SEQ=SEG.ACK><CTL=RST>), and the socket wiring (destroy() orphans, end() half-closes).
 */
import { describe, expect, it } from 'vitest';
import { TcpSocket } from '../../../src/socket/tcp-socket.js';
import { T_FINWAIT2 } from '../../../src/tcp/timers.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TcpPeer } from '../../helpers/tcp-peer.js';

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
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
  };

  it('destroy() with nothing unread: FIN, the connection is an orphan, gone finWait2Ms after our FIN is ACKed', async () => {
    const { p, conn } = established();
    const sock = new TcpSocket(conn, { notify: () => p.flush() });
    sock.on('close', () => {});
    sock.destroy();
    await turns(2);
    expect(conn.orphaned).toBe(true);
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
    await turns(2);
    p.flush();
    p.expectSegment({ flags: TCP_FIN | TCP_ACK, seq: p.ack, ack: p.seq });
    p.sendAck();
    p.advance(2 * FIN_WAIT_2_MS);
    p.sendData('after two minutes');
    await turns(2);
    expect(got).toEqual(['after two minutes']);
    expect(conn.orphaned).toBe(false);
    expect(conn.stateName).toBe('FIN_WAIT_2');
    sock.destroy();
  });
});
