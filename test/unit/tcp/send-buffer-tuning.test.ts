/**
 * Send-buffer autotuning (tcp/send-buffer-tuning.ts, after Linux's tcp_sndbuf_expand and
 * tcp_should_expand_sndbuf): on an ACK while the application waits for room, the buffer
 * grows towards 2 × cwnd, up to sendBufferMax, when what it holds is below cwnd (the sender
 * held back by its buffer, not by the window); not when it holds a window or more; not at
 * all when the maximum is the start size.
 * Scripted Linux-like peer, virtual clock.
 */
import { describe, expect, it } from 'vitest';
import { expandedSendBuffer } from '../../../src/tcp/send-buffer-tuning.js';
import { DEFAULT_TCP_CONFIG } from '../../../src/tcp/tcp-config.js';
import { TcpPeer } from '../../helpers/tcp-peer.js';

describe('send-buffer autotuning', () => {
  it('expandedSendBuffer: towards 2 × cwnd when the bytes held are below cwnd, within [capacity, max]', () => {
    expect(expandedSendBuffer(1000, 3000, 1000, 10_000)).toBe(6000);
    expect(expandedSendBuffer(1000, 3000, 3000, 10_000)).toBe(1000); // the buffer holds a whole window
    expect(expandedSendBuffer(1000, 30_000, 1000, 10_000)).toBe(10_000); // capped
    expect(expandedSendBuffer(8000, 3000, 1000, 10_000)).toBe(8000); // never shrinks
    expect(expandedSendBuffer(10_000, 30_000, 0, 10_000)).toBe(10_000);
  });

  it('defaults: 1 MiB to start, growing to 2 MiB (half the worker\'s TX ring; decision 0048)', () => {
    expect(DEFAULT_TCP_CONFIG.sendBuffer).toBe(1 << 20);
    expect(DEFAULT_TCP_CONFIG.sendBufferMax).toBe(2 << 20);
  });

  /**
   * A bulk sender whose application keeps the buffer full; each round trip the peer ACKs
   * `ackSegments` segments (0: everything sent). Per ACK: capacity before and after, cwnd
   * and the bytes held just after it.
   */
  function bulk(sendBuffer: number, sendBufferMax: number, rounds: number, ackSegments = 0) {
    const p = new TcpPeer({ tcp: { sendBuffer, sendBufferMax } });
    const { conn } = p.passiveOpen({ mss: 1460, wscale: 7, sackPermitted: true, timestamps: true });
    const data = new Uint8Array(8 << 20);
    let off = conn.send(data);
    let acked = conn.snd.sndUna;
    const trace: Array<{ before: number; after: number; cwnd: number; held: number }> = [];
    for (let r = 0; r < rounds; r++) {
      p.flush();
      p.takeAll();
      p.advance(5);
      const before = conn.snd.buf.capacity;
      if (ackSegments > 0) acked = (acked + ackSegments * conn.snd.mss) >>> 0;
      p.sendAck(ackSegments > 0 ? { ack: acked } : {});
      trace.push({ before, after: conn.snd.buf.capacity, cwnd: conn.snd.cc.cwnd, held: conn.snd.buf.length });
      off += conn.send(data.subarray(off));
    }
    return { conn, trace, off };
  }

  it('an ACK while the application waits for room grows the buffer to 2 × cwnd when it holds less than cwnd, up to the maximum', () => {
    const { conn, trace } = bulk(32 * 1024, 256 * 1024, 12);
    for (const t of trace) {
      const want = t.held < t.cwnd ? Math.min(256 * 1024, Math.max(t.before, 2 * t.cwnd)) : t.before;
      expect(t.after).toBe(want);
    }
    expect(trace[0].after).toBeGreaterThan(32 * 1024);
    expect(conn.snd.buf.capacity).toBe(256 * 1024);
  });

  it('a sender held back by its window (the buffer holds more than cwnd) keeps its buffer', () => {
    // One segment ACKed per round trip: cwnd grows by one segment each time, past half of
    // the buffer (2 × cwnd above it) but below what the buffer holds.
    const { conn, trace } = bulk(32 * 1024, 4 << 20, 8, 1);
    expect(trace.every((t) => t.held > t.cwnd)).toBe(true);
    expect(2 * trace[trace.length - 1].cwnd).toBeGreaterThan(32 * 1024);
    expect(conn.snd.buf.capacity).toBe(32 * 1024);
  });

  it('does not grow when sendBufferMax is the start size (a fixed buffer)', () => {
    const { conn, trace } = bulk(32 * 1024, 32 * 1024, 12);
    expect(trace.some((t) => t.held < t.cwnd)).toBe(true);
    expect(conn.snd.buf.capacity).toBe(32 * 1024);
  });
});
