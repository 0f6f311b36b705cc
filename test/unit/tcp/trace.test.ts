/**
 * The trace rings and the tracer (src/tcp/trace.ts): fields and order, wrap-around, the
 * bound on live rings (tcp_trace_untraced), lazy allocation, the archive and its bound.
 */
import { describe, expect, it } from 'vitest';
import { C, newCounters } from '../../../src/base/counters.js';
import {
  ConnectionTracer, TE_RTO, TE_SEG_IN, TE_SEG_OUT, TE_STATE, TE_TIMER, TRACE_EVENTS, TRACE_FROM_LISTEN, TRACE_MARK_RST, TRACE_MARK_RTO,
  TraceRingStore,
} from '../../../src/tcp/trace.js';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../../../src/wire/tcp.js';

const INFO = { localPort: 80, remoteIp: 0x0a000002, remotePort: 40000, local6: null, remote6: null, iss: 1, irs: 2, rcvWscale: 7, sndWscale: 5, state: 'CLOSED', closedAt: 9 };

describe('TraceRingStore', () => {
  it('keeps each field of each event as given (uint32 words, float64 time), oldest first, rings apart', () => {
    const s = new TraceRingStore(4);
    s.ensure(3);
    s.push(1, TE_SEG_OUT, TCP_SYN, 0, 1000.25, 0xfffffffe, 0, 65535, 0, 14600);
    s.push(3, TE_SEG_IN, TCP_ACK, 0, 1, 1, 1, 1, 1, 1); // another ring
    s.push(1, TE_SEG_IN, TCP_SYN | TCP_ACK, 0, 1010, 123, 0xffffffff, 512, 0, 14480);
    s.push(1, TE_STATE, 0, TRACE_FROM_LISTEN | (3 << 4), 1010, 5, 6, 0, 0, 14480);
    s.push(1, TE_TIMER, 0, 2, 1050, 0, 0, 0, 0, 14480);
    s.push(1, TE_RTO, 0, 3, 1200.5, 7, 8, 0, 0, 1448);
    s.push(1, TE_SEG_OUT, TCP_ACK | TCP_PSH, 0, 1200.5, 7, 124, 1024, 1448, 1448.9); // cwnd is kept whole
    expect(s.size(1)).toBe(6);
    expect(s.size(3)).toBe(1);
    expect(s.size(0)).toBe(0);
    expect(s.events(1)).toEqual([
      { t: 1000.25, kind: 'out', flags: TCP_SYN, seq: 0xfffffffe, ack: 0, win: 65535, len: 0, cwnd: 14600 },
      { t: 1010, kind: 'in', flags: TCP_SYN | TCP_ACK, seq: 123, ack: 0xffffffff, win: 512, len: 0, cwnd: 14480 },
      { t: 1010, kind: 'state', flags: 0, seq: 5, ack: 6, win: 0, len: 0, cwnd: 14480, from: 'LISTEN', to: 'ESTABLISHED' },
      { t: 1050, kind: 'timer', flags: 0, seq: 0, ack: 0, win: 0, len: 0, cwnd: 14480, timer: 'delack' },
      { t: 1200.5, kind: 'rto', flags: 0, seq: 7, ack: 8, win: 0, len: 0, cwnd: 1448, backoff: 3 },
      { t: 1200.5, kind: 'out', flags: TCP_ACK | TCP_PSH, seq: 7, ack: 124, win: 1024, len: 1448, cwnd: 1448 },
    ]);
    expect(s.events(3)).toEqual([{ t: 1, kind: 'in', flags: TCP_ACK, seq: 1, ack: 1, win: 1, len: 1, cwnd: 1 }]);
  });

  it(`keeps the last ${TRACE_EVENTS} events when it wraps, and copies a ring whole (head included)`, () => {
    const s = new TraceRingStore(2);
    s.ensure(1);
    for (let i = 0; i < TRACE_EVENTS + 6; i++) s.push(0, TE_SEG_OUT, 0, 0, i, i, 0, 0, 0, 0);
    const e = s.events(0);
    expect(e.length).toBe(TRACE_EVENTS);
    expect(e.map((x) => x.seq)).toEqual(Array.from({ length: TRACE_EVENTS }, (_, k) => k + 6));
    const d = new TraceRingStore(1);
    d.ensure(0);
    d.copyFrom(s, 0, 0);
    expect(d.events(0)).toEqual(e);
    s.clear(0);
    expect(s.events(0)).toEqual([]);
  });

  it('allocates 64 rings at a time, as they are first needed, and never past its capacity', () => {
    const s = new TraceRingStore(1000);
    expect(s.bytes).toBe(0);
    expect(s.ensure(0)).toBe(true);
    expect(s.bytes).toBe(64 * TRACE_EVENTS * 32); // 128 KiB: 32 bytes per event
    expect(s.ensure(63)).toBe(true);
    expect(s.allocated).toBe(64);
    expect(s.ensure(64)).toBe(true);
    expect(s.allocated).toBe(128);
    expect(s.ensure(1000)).toBe(false);
  });
});

describe('ConnectionTracer', () => {
  it('hands out at most `slots` rings: the next connection is not traced and counted; a released ring is reused, empty', () => {
    const counters = newCounters();
    const t = new ConnectionTracer(2, 4, counters);
    const a = t.acquire(1);
    const b = t.acquire(2);
    expect([a, b]).toEqual([0, 1]);
    expect(t.acquire(3)).toBe(-1);
    expect(counters[C.tcp_trace_untraced]).toBe(1);
    t.record(a, TE_SEG_OUT, TCP_SYN, 0, 5, 1, 0, 0, 0, 0);
    t.release(a, null);
    expect(t.inUse).toBe(1);
    const c = t.acquire(4);
    expect(c).toBe(a);
    expect(t.events(c)).toEqual([]);
    expect(t.marksOf(c)).toBe(0);
    expect(counters[C.tcp_traces_archived]).toBe(0);
  });

  it('with no slots traces nothing and counts nothing (tracing off)', () => {
    const counters = newCounters();
    const t = new ConnectionTracer(0, 0, counters);
    expect(t.acquire(1)).toBe(-1);
    expect(counters[C.tcp_trace_untraced]).toBe(0);
    expect(t.bytes).toBe(0);
  });

  it('archives the rings of marked connections only, keeping the last `archiveSize` (newest first)', () => {
    const counters = newCounters();
    const t = new ConnectionTracer(8, 2, counters);
    for (let serial = 1; serial <= 4; serial++) {
      const r = t.acquire(serial);
      t.record(r, TE_SEG_IN, 0, 0, serial, serial * 100, 0, 0, 0, 0);
      if (serial !== 2) t.mark(r, serial === 3 ? TRACE_MARK_RST : TRACE_MARK_RTO);
      t.release(r, { ...INFO, closedAt: serial });
    }
    // 1, 3 and 4 were marked; the archive holds two: 4 and 3.
    expect(counters[C.tcp_traces_archived]).toBe(3);
    expect(t.archivedConnections().map((a) => [a.serial, a.marks, a.events])).toEqual([[4, TRACE_MARK_RTO, 1], [3, TRACE_MARK_RST, 1]]);
    expect(t.archivedTrace(1)).toBeNull();
    expect(t.archivedTrace(2)).toBeNull();
    const three = t.archivedTrace(3);
    expect(three?.info).toEqual({ ...INFO, closedAt: 3, serial: 3, marks: TRACE_MARK_RST });
    expect(three?.events.map((e) => e.seq)).toEqual([300]);
    expect(t.inUse).toBe(0);
  });
});
