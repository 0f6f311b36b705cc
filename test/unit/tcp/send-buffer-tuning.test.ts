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
import { SendBuffer } from '../../../src/tcp/send-buffer.js';
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

  it('defaults: 1 MiB to start, growing to 4 MiB as Linux (decisions 0048, 0050)', () => {
    expect(DEFAULT_TCP_CONFIG.sendBuffer).toBe(1 << 20);
    expect(DEFAULT_TCP_CONFIG.sendBufferMax).toBe(4 << 20);
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

// Found by the 3 % loss integration test with --cc bbr: BBR's cwnd carries a fraction
// (its ACK-aggregation allowance is BtlBw × 100 ms), the buffer grew to 2 × cwnd, and a
// write accepted a fractional byte count. The socket then resent the chunk from the
// truncated offset: one byte repeated and the chunk's last byte lost, at every partial
// write from then on (a 50 MB download's sha256 wrong one time in four).
describe('the send buffer counts whole bytes', () => {
  it('grows to a whole number of bytes from a fractional cwnd', () => {
    const c = expandedSendBuffer(1 << 20, 700_000.75, 0, 2 << 20);
    expect(c).toBe(1_400_000);
    expect(Number.isInteger(c)).toBe(true);
  });

  it('with a fractional capacity, partial writes as a socket makes them carry the stream exactly', () => {
    const data = new Uint8Array(300_000).map((_, i) => (i * 7 + (i >>> 8)) & 0xff);
    const buf = new SendBuffer(70_000.6);
    const out: number[] = [];
    let off = 0;
    for (let guard = 0; off < data.length && guard < 1000; guard++) {
      const n = buf.write(data.subarray(off)); // what TcpSocket.pump does: resend the rest
      expect(Number.isInteger(n)).toBe(true);
      off += n;
      // The peer acknowledges what is held, in a size that is not a block multiple.
      const acked = Math.min(buf.length, 33_333);
      const seg = new Uint8Array(acked);
      buf.copyOut(0, acked, seg, 0);
      out.push(...seg);
      buf.ack(acked);
    }
    while (buf.length > 0) {
      const seg = new Uint8Array(buf.length);
      buf.copyOut(0, seg.length, seg, 0);
      out.push(...seg);
      buf.ack(seg.length);
    }
    expect(out.length).toBe(data.length);
    expect(Buffer.from(out).equals(Buffer.from(data))).toBe(true);
  });
});
