/**
 * Out-of-order receive queue (src/tcp/reassembly-queue.ts): RFC 9293 3.10.7.4 segment
 * text (hold beyond RCV.NXT, trim to the window, in-order delivery once holes fill),
 * overlap handling (stored bytes win), limits, RFC 2018 section 4 SACK block order with
 * the section 5 examples, sequence wrap near 2^32, and a fast-check property: any
 * segmentation and arrival order of a stream, with duplicates and overlaps, drains to
 * exactly the stream.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReassemblyQueue } from '../../../src/tcp/reassembly-queue.js';
import { seqAdd, seqSub } from '../../../src/tcp/seq.js';

/** Deterministic stream byte at absolute offset i. */
const byteAt = (i: number): number => (i * 131 + 7) & 0xff;
const stream = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => byteAt(from + i));

/** Collects what drain() delivers. */
function collector(): { out: number[]; deliver: (b: Uint8Array, off: number, len: number) => void } {
  const out: number[] = [];
  return { out, deliver: (b, off, len) => { for (let i = 0; i < len; i++) out.push(b[off + i]); } };
}

/** Inserts stream bytes [from, to) (offsets from base) as one segment. */
function put(q: ReassemblyQueue, base: number, from: number, to: number, rcvNxt: number, window = 1 << 20): number {
  return q.insert(seqAdd(base, from), stream(to - from, from), 0, to - from, rcvNxt, window);
}

function sack(q: ReassemblyQueue, max = 4): number[][] {
  const o = new Uint32Array(2 * max);
  const n = q.sackBlocks(o, max);
  const r: number[][] = [];
  for (let i = 0; i < n; i++) r.push([o[2 * i], o[2 * i + 1]]);
  return r;
}

describe('ReassemblyQueue: RFC 9293 3.10.7.4 segment text', () => {
  it('holds data beyond RCV.NXT and delivers it in order once the hole is filled', () => {
    const q = new ReassemblyQueue(1 << 20);
    expect(put(q, 0, 2000, 3000, 1000)).toBe(1000);
    expect(put(q, 0, 3000, 4000, 1000)).toBe(1000);
    expect(put(q, 0, 5000, 6000, 1000)).toBe(1000);
    expect(q.bytes).toBe(3000);
    expect(q.segments).toBe(2); // 2000-4000 coalesced, 5000-6000
    expect(q.highestRightEdge()).toBe(6000);
    const c = collector();
    expect(q.drain(1000, c.deliver)).toBe(1000); // hole at 1000: nothing
    expect(c.out.length).toBe(0);
    // The receiver delivers 1000-2000 itself and drains at 2000.
    expect(q.drain(2000, c.deliver)).toBe(4000);
    expect(c.out).toEqual([...stream(2000, 2000)]);
    expect(q.bytes).toBe(1000);
    expect(q.segments).toBe(1);
  });

  it('a duplicate adds nothing (0); overlaps keep the bytes already stored', () => {
    const q = new ReassemblyQueue(1 << 20);
    expect(put(q, 0, 2000, 3000, 1000)).toBe(1000);
    expect(put(q, 0, 2000, 3000, 1000)).toBe(0);
    expect(put(q, 0, 2200, 2800, 1000)).toBe(0);
    // Different bytes over 2500-3500: only 3000-3500 is taken.
    const other = new Uint8Array(1000).fill(0xee);
    expect(q.insert(2500, other, 0, 1000, 1000, 1 << 20)).toBe(500);
    expect(q.bytes).toBe(1500);
    const c = collector();
    expect(q.drain(2000, c.deliver)).toBe(3500);
    expect(c.out.slice(0, 1000)).toEqual([...stream(1000, 2000)]);
    expect(c.out.slice(1000)).toEqual(new Array(500).fill(0xee));
  });

  it('a segment spanning several holes fills each of them', () => {
    const q = new ReassemblyQueue(1 << 20);
    put(q, 0, 2000, 2100, 1000);
    put(q, 0, 2300, 2400, 1000);
    put(q, 0, 2600, 2700, 1000);
    expect(put(q, 0, 1900, 2800, 1000)).toBe(600);
    expect(q.bytes).toBe(900);
    const c = collector();
    expect(q.drain(1900, c.deliver)).toBe(2800);
    expect(c.out).toEqual([...stream(900, 1900)]);
  });

  it('trims bytes below RCV.NXT and at/after RCV.NXT + RCV.WND', () => {
    const q = new ReassemblyQueue(1 << 20);
    expect(put(q, 0, 500, 1500, 1000, 3000)).toBe(500); // keeps 1000-1500
    expect(put(q, 0, 3500, 4500, 1000, 3000)).toBe(500); // keeps 3500-4000
    expect(put(q, 0, 4000, 4100, 1000, 3000)).toBe(0); // wholly beyond the window
    expect(put(q, 0, 0, 1000, 1000, 3000)).toBe(0); // wholly old
    expect(q.insert(5000, stream(10), 0, 10, 1000, 0)).toBe(0); // zero window
    expect(q.highestRightEdge()).toBe(4000);
    const c = collector();
    expect(q.drain(1000, c.deliver)).toBe(1500);
    expect(c.out).toEqual([...stream(500, 1000)]);
  });

  it('drain() skips what the receiver already delivered directly (entry partly below RCV.NXT)', () => {
    const q = new ReassemblyQueue(1 << 20);
    put(q, 0, 2000, 3000, 1000);
    put(q, 0, 4000, 5000, 1000);
    const c = collector();
    expect(q.drain(2500, c.deliver)).toBe(3000);
    expect(c.out).toEqual([...stream(500, 2500)]);
    expect(q.drain(4600, c.deliver)).toBe(5000); // 4000-4600 came in order meanwhile
    expect(c.out.length).toBe(900);
    expect(q.bytes).toBe(0);
    expect(q.segments).toBe(0);
    expect(q.highestRightEdge()).toBe(-1);
  });

  it('bounded: -1 when the bytes or entries would exceed the limits, and nothing is stored', () => {
    const q = new ReassemblyQueue(3000, 2);
    expect(put(q, 0, 2000, 3000, 1000)).toBe(1000);
    expect(put(q, 0, 4000, 5000, 1000)).toBe(1000);
    expect(put(q, 0, 6000, 6100, 1000)).toBe(-1); // a third entry
    expect(put(q, 0, 5000, 5500, 1000)).toBe(500); // appends to 4000-5000: no new entry
    expect(put(q, 0, 3000, 3500, 1000)).toBe(500); // appends to 2000-3000
    expect(q.bytes).toBe(3000);
    expect(put(q, 0, 5500, 5600, 1000)).toBe(-1); // bytes limit
    expect(put(q, 0, 1500, 2600, 1000)).toBe(-1); // its new part 1500-2000 does not fit
    expect(q.drops).toBe(3);
    expect(q.bytes).toBe(3000);
    expect(q.segments).toBe(2);
    const c = collector();
    expect(q.drain(2000, c.deliver)).toBe(3500);
    expect(q.drain(4000, c.deliver)).toBe(5500); // 3500-4000 came in order meanwhile
    expect(c.out).toEqual([...stream(1500, 2000), ...stream(1500, 4000)]);
    expect(q.bytes).toBe(0);
    expect(q.segments).toBe(0);
    q.clear();
    expect(sack(q)).toEqual([]);
  });
});

describe('ReassemblyQueue: RFC 2018 section 4 SACK blocks (section 5 examples, 500-byte segments from 5000)', () => {
  it('RFC 2018 5 case 2: first segment lost, the block grows with each arrival', () => {
    const q = new ReassemblyQueue(1 << 20);
    const seen: number[][][] = [];
    for (let s = 5500; s < 9000; s += 500) {
      put(q, 0, s, s + 500, 5000);
      seen.push(sack(q));
    }
    expect(seen).toEqual([
      [[5500, 6000]],
      [[5500, 6500]],
      [[5500, 7000]],
      [[5500, 7500]],
      [[5500, 8000]],
      [[5500, 8500]],
      [[5500, 9000]],
    ]);
  });

  it('RFC 2018 5 case 3: the most recent block first, then the others most recent first', () => {
    const q = new ReassemblyQueue(1 << 20);
    put(q, 0, 6000, 6500, 5500);
    expect(sack(q)).toEqual([[6000, 6500]]);
    put(q, 0, 7000, 7500, 5500);
    expect(sack(q)).toEqual([[7000, 7500], [6000, 6500]]);
    put(q, 0, 8000, 8500, 5500);
    expect(sack(q)).toEqual([[8000, 8500], [7000, 7500], [6000, 6500]]);
    // The 4th segment (6500) arrives: two blocks left, the one holding it first.
    put(q, 0, 6500, 7000, 5500);
    expect(sack(q)).toEqual([[6000, 7500], [8000, 8500]]);
    // The 2nd segment (5500) arrives in order: RCV.NXT moves to 7500, one block left.
    const c = collector();
    expect(q.drain(6000, c.deliver)).toBe(7500);
    expect(sack(q)).toEqual([[8000, 8500]]);
  });

  it('RFC 2018 4: a long run of segments extending one block does not push the previously reported block out (lab capture: the client resent a block reported once)', () => {
    const q = new ReassemblyQueue(1 << 20);
    put(q, 0, 2000, 2500, 1000); // block C, oldest and lowest
    for (let s = 4000; s < 9000; s += 500) put(q, 0, s, s + 500, 1000); // block A: ten segments
    for (let s = 10000; s < 15000; s += 500) put(q, 0, s, s + 500, 1000); // block B: ten segments
    // B (most recent), then A (reported just before B began), then C: not C before A.
    expect(sack(q, 3)).toEqual([[10000, 15000], [4000, 9000], [2000, 2500]]);
  });

  it('RFC 2018 4: at most `max` blocks (3 with timestamps); older held blocks fill remaining room in order', () => {
    const q = new ReassemblyQueue(1 << 20);
    for (const s of [6000, 7000, 8000, 9000, 10000]) put(q, 0, s, s + 500, 5500);
    expect(sack(q, 3)).toEqual([[10000, 10500], [9000, 9500], [8000, 8500]]);
    // A duplicate of 6000 makes its block the most recent.
    put(q, 0, 6000, 6500, 5500);
    expect(sack(q, 3)).toEqual([[6000, 6500], [10000, 10500], [9000, 9500]]);
    // More blocks than recent entries: the rest in ascending order.
    const many = new ReassemblyQueue(1 << 20);
    for (let i = 0; i < 12; i++) put(many, 0, 2000 + i * 1000, 2500 + i * 1000, 1000);
    const b = sack(many, 12);
    expect(b.length).toBe(12);
    expect(b[0]).toEqual([13000, 13500]);
    expect(b.slice(8)).toEqual([[2000, 2500], [3000, 3500], [4000, 4500], [5000, 5500]]);
  });
});

describe('ReassemblyQueue: sequence wrap-around near 2^32', () => {
  it('RFC 9293 3.4: holds, trims and delivers across 2^32', () => {
    const base = 0xffffffff - 1499; // 2^32 - 1500
    const q = new ReassemblyQueue(1 << 20);
    expect(put(q, base, 1000, 2000, base)).toBe(1000); // crosses 2^32 at offset 1500
    expect(put(q, base, 2500, 3000, base)).toBe(500);
    expect(sack(q)).toEqual([[seqAdd(base, 2500), 1500], [seqAdd(base, 1000), 500]]);
    expect(q.highestRightEdge()).toBe(1500);
    expect(put(q, base, -200, 100, base, 2800)).toBe(100); // 0..100 kept
    expect(put(q, base, 2900, 3300, base, 3000)).toBe(0); // beyond the window edge at +3000 (already held up to 3000)
    const c = collector();
    let nxt = q.drain(base, c.deliver);
    expect(nxt).toBe(seqAdd(base, 100));
    nxt = q.drain(seqAdd(base, 1000), c.deliver);
    expect(nxt).toBe(seqAdd(base, 2000));
    expect(seqSub(nxt, base)).toBe(2000);
    expect(c.out).toEqual([...stream(100, 0), ...stream(1000, 1000)]);
  });
});

describe('ReassemblyQueue: property', () => {
  it('RFC 9293 3.10.7.4: any segmentation and arrival order, with duplicates and overlaps, drains to exactly the stream', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.oneof(fc.constant(0xffffffff - 1000), fc.nat({ max: 0xffffffff })),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 700 })), { maxLength: 40 }),
        fc.array(fc.nat({ max: 1 << 20 }), { minLength: 100, maxLength: 100 }),
        fc.array(fc.boolean(), { minLength: 100, maxLength: 100 }),
        (n, base, extra, keys, direct) => {
          const data = stream(n);
          // A full cover (cut at random points) plus random extra segments (duplicates, overlaps).
          const segs: Array<[number, number]> = [];
          for (let at = 0, i = 0; at < n; i++) {
            const len = 1 + (keys[i % keys.length] % 500);
            segs.push([at, Math.min(n, at + len)]);
            at += len;
          }
          for (const [s, len] of extra) {
            const from = s % n;
            segs.push([from, Math.min(n, from + len)]);
          }
          // Shuffle deterministically by the keys.
          const order = segs.map((sg, i) => ({ sg, k: keys[i % keys.length] ^ (i * 2654435761) })).sort((a, b) => a.k - b.k || a.sg[0] - b.sg[0]);
          const q = new ReassemblyQueue(1 << 20, 1000);
          const c = collector();
          let nxt = base >>> 0;
          order.forEach(({ sg: [from, to] }, i) => {
            const seq = seqAdd(base, from);
            const done = seqSub(nxt, base);
            if (direct[i % direct.length] && from <= done && to > done) {
              // The receiver's in-order path: deliver directly, then drain.
              c.deliver(data, done, to - done);
              nxt = seqAdd(base, to);
            } else {
              const r = q.insert(seq, data, from, to - from, nxt, n - done);
              expect(r).toBeGreaterThanOrEqual(0);
            }
            nxt = q.drain(nxt, c.deliver);
            expect(c.out.length).toBe(seqSub(nxt, base));
          });
          expect(seqSub(nxt, base)).toBe(n);
          expect(c.out).toEqual([...data]);
          expect(q.bytes).toBe(0);
          expect(q.segments).toBe(0);
        },
      ),
      { numRuns: 300, seed: 0x0e0e },
    );
  });

  it('bounded: with tight limits drops return -1, state stays consistent and what drains is a prefix of the stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 300 })), { minLength: 1, maxLength: 60 }),
        (segs) => {
          const n = 2300;
          const data = stream(n);
          const q = new ReassemblyQueue(1200, 4);
          const c = collector();
          let nxt = 0;
          for (const [from, len] of segs) {
            const to = Math.min(n, from + len);
            const before = q.bytes;
            const r = q.insert(from, data, from, to - from, nxt, n - nxt);
            if (r < 0) expect(q.bytes).toBe(before);
            else expect(q.bytes).toBe(before + r);
            expect(q.bytes).toBeLessThanOrEqual(1200);
            expect(q.segments).toBeLessThanOrEqual(4);
            nxt = q.drain(nxt, c.deliver);
          }
          expect(c.out).toEqual([...data.subarray(0, nxt)]);
        },
      ),
      { numRuns: 300, seed: 0xb0b },
    );
  });
});
