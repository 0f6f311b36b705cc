/**
 * Segments the TX sink refuses for room (a shard worker's full TX ring) are not lost: the
 * connection waits in the layer's list and sends again as soon as the sink has room
 * (TcpLayer.retryBlocked, called by the worker when the I/O thread frees its ring),
 * in the order the connections were refused. Before, a connection with nothing in flight
 * waited for its persist timer (200 ms or more).
 */
import { describe, expect, it } from 'vitest';
import { LINUX_SYN, TCP_ACK, TCP_PSH, TcpPeer, openFromPort } from '../../helpers/tcp-peer.js';

/** Data segments our stack emitted since the last call, as [our port's peer port, payload length]. */
function dataSegments(p: TcpPeer): Array<[number, number]> {
  return p.takeAll().filter((s) => s.payload.length > 0).map((s) => [s.dstPort, s.payload.length]);
}

/** A scripted peer and the connection it opened to our stack (Linux's SYN options, 10 ms RTT). */
function opened(): { p: TcpPeer; conn: ReturnType<TcpPeer['passiveOpen']>['conn'] } {
  const p = new TcpPeer();
  const { conn } = p.passiveOpen({ ...LINUX_SYN, rtt: 10 });
  return { p, conn };
}

describe('TCP waits for room in a full TX sink', () => {
  it('a segment refused with nothing in flight goes as soon as the sink has room, not at the persist timer', () => {
    const { p, conn } = opened();
    p.wire.room = 0;
    conn.send(new Uint8Array(1000).fill(7));
    p.flush();
    expect(p.counter('drop_tx_ring_full')).toBe(0); // kept, not dropped
    expect(p.counter('tcp_tx_ring_waits')).toBe(1);
    expect(p.tcp.txBlocked).toBe(1);
    p.expectNothing(p.now + 5);
    p.wire.room = Infinity;
    p.tcp.retryBlocked(p.now);
    p.flush();
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: p.ack, payloadLen: 1000 });
    expect(p.tcp.txBlocked).toBe(0);
    expect(p.counter('tcp_window_probes')).toBe(0);
    expect(p.counter('tcp_retransmits')).toBe(0);
  });

  it('a RST refused for room is not kept: counted in drop_tx_ring_full, and no wait', () => {
    const { p, conn } = opened();
    p.wire.room = 0;
    conn.abort();
    p.flush();
    expect(p.counter('tcp_resets_tx')).toBe(1);
    expect(p.counter('drop_tx_ring_full')).toBe(1);
    expect(p.counter('tcp_tx_ring_waits')).toBe(0);
    expect(p.tcp.txBlocked).toBe(0);
  });

  it('without a retry the persist timer still sends it (what happened before)', () => {
    const { p, conn } = opened();
    p.wire.room = 0;
    conn.send(new Uint8Array(1000));
    p.flush();
    const t = p.now;
    p.wire.room = Infinity;
    const s = p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 1000 }, 10_000);
    expect(s.at - t).toBe(200);
  });

  it('resumes the refused connections in the order they were refused; one refused again keeps its place', () => {
    const p = new TcpPeer();
    const a = openFromPort(p, 40001);
    const b = openFromPort(p, 40002);
    const c = openFromPort(p, 40003);
    p.takeAll();
    p.wire.room = 0;
    c.conn.send(new Uint8Array(300));
    p.flush();
    a.conn.send(new Uint8Array(200));
    p.flush();
    b.conn.send(new Uint8Array(100));
    p.flush();
    expect(p.tcp.txBlocked).toBe(3);
    // Room for one frame: c goes, a is refused again and stays first.
    p.wire.room = 1;
    p.tcp.retryBlocked(p.now);
    p.flush();
    expect(dataSegments(p)).toEqual([[40003, 300]]);
    expect(p.tcp.txBlocked).toBe(2);
    p.wire.room = Infinity;
    p.tcp.retryBlocked(p.now);
    p.flush();
    expect(dataSegments(p)).toEqual([[40001, 200], [40002, 100]]);
    expect(p.tcp.txBlocked).toBe(0);
    // Each connection waited once; a's second refusal within the retry is not a new wait.
    expect(p.counter('tcp_tx_ring_waits')).toBe(3);
  });

  it('a connection refused while data is in flight sends the rest on retry, its segments in sequence', () => {
    const { p, conn } = opened();
    p.wire.room = 2;
    conn.send(new Uint8Array(5 * 1448));
    p.flush();
    const first = p.takeAll();
    expect(first.map((s) => s.payload.length)).toEqual([1448, 1448]);
    expect(p.tcp.txBlocked).toBe(1);
    p.wire.room = Infinity;
    p.tcp.retryBlocked(p.now);
    p.flush();
    const rest = p.takeAll();
    expect(rest.map((s) => s.payload.length)).toEqual([1448, 1448, 1448]);
    expect(rest[0].seq).toBe((first[1].seq + 1448) >>> 0);
    expect(p.tcp.txBlocked).toBe(0);
  });

  it('a refused connection that closed meanwhile is dropped from the list on retry', () => {
    const { p, conn } = opened();
    p.wire.room = 0;
    conn.send(new Uint8Array(100));
    p.flush();
    expect(p.tcp.txBlocked).toBe(1);
    conn.abort();
    p.wire.room = Infinity;
    p.flush();
    p.takeAll();
    p.tcp.retryBlocked(p.now);
    p.flush();
    expect(p.tcp.txBlocked).toBe(0);
    expect(dataSegments(p)).toEqual([]);
  });
});
