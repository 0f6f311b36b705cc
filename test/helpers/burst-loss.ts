/**
 * A two-core transfer (test/helpers/tcp-pair.ts) in which the receiving side's link drops
 * a whole burst of A's data segments, the way a GRO'd Linux receiver loses one aggregate
 * of up to ~45 segments to a single drop, and also drops the first retransmissions of
 * chosen segments of that burst. Used by the loss recovery tests.
 */
import { readU16, readU32 } from '../../src/wire/addresses.js';
import { ETH_HEADER_LEN } from '../../src/wire/ethernet.js';
import type { TcpConfig } from '../../src/tcp/tcp-config.js';
import { patternBytes } from './frames.js';
import { TcpPair } from './tcp-pair.js';

/** Payload bytes per segment between two cores (MSS 1460 less the timestamp option). */
export const PAIR_SEG = 1448;

/** What the burst loss does: the burst's first segment and length, and how often each segment's copies are dropped. */
export interface BurstLossPlan {
  /** The burst starts with the first new segment at or after this byte (relative to the first data byte). */
  start: number;
  /** Segments lost in the burst (their first transmission). */
  segments: number;
  /** Segment index within the burst → copies of it dropped (default 1: only the original). */
  copiesDropped?: Map<number, number>;
}

/** Runs a `bytes` transfer A → B (10 ms each way) with `plan`; returns the pair, the receiver's bytes check and the copies sent per segment. */
export function burstLossTransfer(bytes: number, plan: BurstLossPlan, tcp: Partial<TcpConfig> = {}) {
  const p = new TcpPair({ tcp });
  // With tcp.sendBuffer above `bytes` the whole transfer is queued at once: every segment is full-sized.
  p.delay = 10;
  const { client, s } = p.connect();
  let first = -1;
  const copies = new Map<number, number>();
  /** Relative sequence numbers of the burst's segments, in order. */
  const burst: number[] = [];
  p.fault = (f) => {
    if (f.from !== 'A') return [f];
    const ip = ETH_HEADER_LEN;
    const ihl = (f.frame[ip] & 0x0f) * 4;
    const tcpOff = ip + ihl;
    const len = readU16(f.frame, ip + 2) - ihl - (f.frame[tcpOff + 12] >>> 4) * 4;
    if (len <= 0) return [f];
    const seq = readU32(f.frame, tcpOff + 4);
    if (first < 0) first = seq;
    const rel = (seq - first) >>> 0;
    const n = (copies.get(rel) ?? 0) + 1;
    copies.set(rel, n);
    if (n === 1 && rel >= plan.start && burst.length < plan.segments) burst.push(rel);
    const k = burst.indexOf(rel);
    if (k < 0) return [f];
    return n <= (plan.copiesDropped?.get(k) ?? 1) ? [] : [f];
  };
  const data = patternBytes(bytes, 3);
  let off = 0;
  for (let guard = 0; s.bytes().length < data.length && guard < 10_000; guard++) {
    if (off < data.length) off += client.send(data.subarray(off));
    const until = p.now + 20;
    p.run(until);
    p.now = Math.max(p.now, until);
  }
  return { p, intact: s.bytes().equals(Buffer.from(data)), copies, burst };
}
