/**
 * Sender SACK scoreboard (src/tcp/sack-scoreboard.ts): RFC 2018 block recording and
 * merging, RFC 2883 D-SACK ignored, RFC 6675 IsLost / SetPipe / NextSeg with explicit
 * scenarios (1000-byte segments), sequence wrap near 2^32, the 32-range bound, and a
 * fast-check comparison against a byte-set reference model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_SACK_RANGES, SackScoreboard } from '../../../src/tcp/sack-scoreboard.js';
import { seqAdd } from '../../../src/tcp/seq.js';

const blocks = (...pairs: Array<[number, number]>): Uint32Array => {
  const b = new Uint32Array(8);
  pairs.forEach(([l, r], i) => {
    b[2 * i] = l >>> 0;
    b[2 * i + 1] = r >>> 0;
  });
  return b;
};
const out = new Float64Array(2);

describe('SackScoreboard: RFC 6675 recovery scenario (10 segments of 1000 bytes, segment 2000-3000 lost)', () => {
  // SND.UNA = 2000 after the first segment was acked, SND.NXT = 11000.
  const una = 2000;
  const nxt = 11000;

  it('RFC 6675 IsLost: one or two SACKed segments above the hole are not enough (<= 2*SMSS, 1 range)', () => {
    const sb = new SackScoreboard(1000);
    expect(sb.update(una, nxt, blocks([3000, 4000]), 1)).toBe(1000);
    expect(sb.isLost(2000)).toBe(false);
    expect(sb.pipe(una, nxt, una)).toBe(8000); // 1000 (hole, not lost) + 7000 above the SACK
    expect(sb.update(una, nxt, blocks([3000, 5000]), 1)).toBe(1000);
    expect(sb.sackedBytes).toBe(2000);
    expect(sb.isLost(2000)).toBe(false);
    expect(sb.pipe(una, nxt, una)).toBe(7000);
    expect(sb.nextLost(una, nxt, 1000, out)).toBe(false);
  });

  it('RFC 6675 IsLost: the third SACKed segment (> 2*SMSS above) marks the hole lost; SetPipe drops it', () => {
    const sb = new SackScoreboard(1000);
    sb.update(una, nxt, blocks([3000, 4000]), 1);
    sb.update(una, nxt, blocks([3000, 5000]), 1);
    expect(sb.update(una, nxt, blocks([3000, 6000]), 1)).toBe(1000);
    expect(sb.isLost(2000)).toBe(true);
    expect(sb.pipe(una, nxt, una)).toBe(5000); // hole lost: only 6000..11000
    expect(sb.highestSacked(una)).toBe(6000);
  });

  it('RFC 6675 NextSeg rule 1 and SetPipe after the retransmission (HighRxt = 3000)', () => {
    const sb = new SackScoreboard(1000);
    sb.update(una, nxt, blocks([3000, 6000]), 1);
    expect(sb.nextLost(una, nxt, 1000, out)).toBe(true);
    expect([out[0], out[1]]).toEqual([2000, 1000]);
    // Retransmitted: HighRxt = 3000. The hole counts once (the retransmission).
    expect(sb.pipe(una, nxt, 3000)).toBe(6000);
    expect(sb.nextLost(3000, nxt, 1000, out)).toBe(false);
    // A later ACK SACKs one more segment: pipe shrinks by 1000.
    sb.update(una, nxt, blocks([3000, 7000]), 1);
    expect(sb.pipe(una, nxt, 3000)).toBe(5000);
    // The retransmission arrives: cumulative ACK 7000 clears the scoreboard.
    sb.advance(7000);
    expect(sb.sackedBytes).toBe(0);
    expect(sb.ranges()).toEqual([]);
    expect(sb.pipe(7000, nxt, 7000)).toBe(4000);
  });

  it('RFC 6675 SetPipe: a retransmitted byte that is not lost counts twice', () => {
    const sb = new SackScoreboard(1000);
    sb.update(una, nxt, blocks([3000, 4000]), 1); // hole 2000-3000 not lost
    expect(sb.pipe(una, nxt, 3000)).toBe(9000); // 1000 + 1000 (rexmit) + 7000
  });

  it('RFC 6675 IsLost: DupThresh discontiguous SACKed ranges mark the hole below them lost', () => {
    const sb = new SackScoreboard(1000);
    sb.update(2000, 11000, blocks([2100, 2200], [2300, 2400], [2500, 2600]), 3);
    expect(sb.sackedBytes).toBe(300);
    expect(sb.isLost(2000)).toBe(true); // 3 ranges above, only 300 bytes
    expect(sb.isLost(2250)).toBe(false); // 2 ranges above
    expect(sb.pipe(2000, 11000, 2000)).toBe(0 + 100 + 100 + 8400); // only the hole 2000-2100 is lost
  });

  it('RFC 6675 NextSeg rule 1: successive lost holes, maxLen splitting, stop at the highest SACK', () => {
    const sb = new SackScoreboard(1000);
    sb.update(una, nxt, blocks([3000, 4000], [5000, 8000]), 2);
    expect(sb.isLost(2000)).toBe(true);
    expect(sb.isLost(4000)).toBe(true); // 3000 bytes SACKed above
    expect(sb.nextLost(2000, nxt, 1000, out)).toBe(true);
    expect([out[0], out[1]]).toEqual([2000, 1000]);
    expect(sb.nextLost(3000, nxt, 1000, out)).toBe(true);
    expect([out[0], out[1]]).toEqual([4000, 1000]);
    expect(sb.nextLost(5000, nxt, 1000, out)).toBe(false); // 8000.. is above every SACK
    expect(sb.nextLost(2000, nxt, 400, out)).toBe(true);
    expect([out[0], out[1]]).toEqual([2000, 400]);
    expect(sb.nextLost(2400, nxt, 400, out)).toBe(true);
    expect([out[0], out[1]]).toEqual([2400, 400]);
    expect(sb.pipe(una, nxt, una)).toBe(3000); // both holes lost, 8000..11000 in flight
  });

  it('RFC 6675 NextSeg rule 3: an unSACKed, not yet lost hole below the highest SACK (requireLost = false)', () => {
    const sb = new SackScoreboard(1000);
    sb.update(una, nxt, blocks([3000, 4000]), 1);
    expect(sb.nextLost(una, nxt, 1000, out)).toBe(false);
    expect(sb.nextLost(una, nxt, 1000, out, false)).toBe(true);
    expect([out[0], out[1]]).toEqual([2000, 1000]);
    expect(sb.nextLost(3000, nxt, 1000, out, false)).toBe(false);
  });
});

describe('SackScoreboard: RFC 2018 block handling', () => {
  it('RFC 2018 3: touching and overlapping blocks merge; update returns only newly SACKed bytes', () => {
    const sb = new SackScoreboard(1000);
    expect(sb.update(1000, 20000, blocks([3000, 4000], [6000, 7000]), 2)).toBe(2000);
    expect(sb.update(1000, 20000, blocks([4000, 5000]), 1)).toBe(1000);
    expect(sb.ranges()).toEqual([[3000, 5000], [6000, 7000]]);
    expect(sb.update(1000, 20000, blocks([2500, 8000]), 1)).toBe(2500);
    expect(sb.ranges()).toEqual([[2500, 8000]]);
    expect(sb.sackedBytes).toBe(5500);
    expect(sb.update(1000, 20000, blocks([3000, 3500]), 1)).toBe(0);
    expect(sb.isSacked(2499)).toBe(false);
    expect(sb.isSacked(2500)).toBe(true);
    expect(sb.isSacked(7999)).toBe(true);
    expect(sb.isSacked(8000)).toBe(false);
  });

  it('RFC 2883: a D-SACK block at or below SND.UNA is ignored', () => {
    const sb = new SackScoreboard(1000);
    sb.update(5000, 20000, blocks([8000, 9000]), 1);
    expect(sb.update(5000, 20000, blocks([3000, 4000], [8000, 9000]), 2)).toBe(0);
    expect(sb.update(5000, 20000, blocks([4000, 5000]), 1)).toBe(0);
    expect(sb.dsackBlocks).toBe(2);
    expect(sb.ranges()).toEqual([[8000, 9000]]);
  });

  it('RFC 3708 2: the first block is a D-SACK when inside the second; a later block never is', () => {
    const sb = new SackScoreboard(1000);
    sb.update(1000, 20000, blocks([8000, 10000]), 1);
    expect(sb.update(1000, 20000, blocks([8000, 9000], [8000, 10000]), 2)).toBe(0);
    expect(sb.dsackBlocks).toBe(1);
    expect(sb.update(1000, 20000, blocks([12000, 13000], [500, 900]), 2)).toBe(1000);
    expect(sb.update(1000, 20000, blocks([14000, 15000], [12000, 13000]), 2)).toBe(1000);
    expect(sb.dsackBlocks).toBe(1);
  });

  it('RFC 2883: a D-SACK inside the following SACK block adds nothing', () => {
    const sb = new SackScoreboard(1000);
    sb.update(5000, 20000, blocks([6000, 8000]), 1);
    expect(sb.update(5000, 20000, blocks([6000, 7000], [6000, 8000]), 2)).toBe(0);
    expect(sb.sackedBytes).toBe(2000);
  });

  it('blocks beyond SND.NXT or empty/inverted are ignored; a block straddling SND.UNA keeps its upper part', () => {
    const sb = new SackScoreboard(1000);
    expect(sb.update(5000, 10000, blocks([9000, 10001], [7000, 7000], [8000, 7000]), 3)).toBe(0);
    expect(sb.invalidBlocks).toBe(3);
    expect(sb.update(5000, 10000, blocks([4000, 6000]), 1)).toBe(1000);
    expect(sb.ranges()).toEqual([[5000, 6000]]);
    expect(sb.update(5000, 10000, blocks([9000, 10000]), 1)).toBe(1000); // right edge = SND.NXT is fine
  });

  it('advance() trims a range that straddles the new SND.UNA and drops those below it', () => {
    const sb = new SackScoreboard(1000);
    sb.update(1000, 20000, blocks([2000, 3000], [4000, 6000], [8000, 9000]), 3);
    sb.advance(5000);
    expect(sb.ranges()).toEqual([[5000, 6000], [8000, 9000]]);
    expect(sb.sackedBytes).toBe(2000);
    sb.clear();
    expect(sb.sackedBytes).toBe(0);
    expect(sb.highestSacked(5000)).toBe(5000);
  });

  it('bounded: at most MAX_SACK_RANGES ranges; the highest is dropped (the new block if it is the highest)', () => {
    const sb = new SackScoreboard(100);
    const top = 1000 + MAX_SACK_RANGES * 200;
    for (let i = 0; i < MAX_SACK_RANGES; i++) sb.update(0, 10_000_000, blocks([1000 + i * 200, 1100 + i * 200]), 1);
    expect(sb.rangeCount).toBe(MAX_SACK_RANGES);
    expect(sb.overflowDrops).toBe(0);
    expect(sb.sackedBytes).toBe(100 * MAX_SACK_RANGES);
    // One more range above all others is dropped itself.
    expect(sb.update(0, 10_000_000, blocks([top + 50000, top + 50100]), 1)).toBe(0);
    expect(sb.overflowDrops).toBe(1);
    expect(sb.highestSacked(0)).toBe(top - 100);
    // One more below evicts the highest.
    expect(sb.update(0, 10_000_000, blocks([100, 150]), 1)).toBe(50);
    expect(sb.overflowDrops).toBe(2);
    expect(sb.rangeCount).toBe(MAX_SACK_RANGES);
    expect(sb.sackedBytes).toBe(100 * MAX_SACK_RANGES - 100 + 50);
    expect(sb.highestSacked(0)).toBe(top - 300);
    // Merging still works at the limit.
    expect(sb.update(0, 10_000_000, blocks([150, 1000]), 1)).toBe(850);
    expect(sb.rangeCount).toBe(MAX_SACK_RANGES - 1);
  });

  it('holds the holes of a large window: 362 ranges (every other segment of a 1 MiB flight lost) without forgetting one; the room grows from 32 and is given back once the ranges are gone', () => {
    // Found at 10 % loss with BBR's window: with room for 32 ranges the sender forgot
    // SACKed segments and resent 7 000 of them per 50 MB download.
    const mss = 1448;
    const sb = new SackScoreboard(mss);
    const holes = Math.floor(1048576 / mss / 2);
    for (let i = 0; i < holes; i++) sb.update(0, 10_000_000, blocks([(2 * i + 1) * mss, (2 * i + 2) * mss]), 1);
    expect(sb.rangeCount).toBe(holes);
    expect(sb.overflowDrops).toBe(0);
    for (let i = 0; i < holes; i++) expect(sb.isSacked((2 * i + 1) * mss)).toBe(true);
    expect(sb.roomForRanges).toBeGreaterThanOrEqual(holes);
    sb.advance(2 * holes * mss);
    expect(sb.rangeCount).toBe(0);
    expect(sb.roomForRanges).toBe(0); // allocated again at the next SACK block
    sb.update(2 * holes * mss, 10_000_000, blocks([2 * holes * mss + mss, 2 * holes * mss + 2 * mss]), 1);
    expect(sb.roomForRanges).toBe(32);
  });
});

describe('SackScoreboard: sequence wrap-around near 2^32', () => {
  it('RFC 9293 3.4 modular order: ranges, IsLost, pipe and NextSeg across 2^32', () => {
    const una = 0xffffffff - 2499; // 2^32 - 2500
    const nxt = seqAdd(una, 10000);
    const sb = new SackScoreboard(1000);
    // Segment [una, una+1000) lost; SACK una+1000 .. una+4000 (crosses 2^32 at una+2500).
    expect(sb.update(una, nxt, blocks([seqAdd(una, 1000), seqAdd(una, 4000)]), 1)).toBe(3000);
    expect(sb.ranges()).toEqual([[seqAdd(una, 1000), 1500]]);
    expect(sb.isSacked(0xffffffff)).toBe(true);
    expect(sb.isSacked(1499)).toBe(true);
    expect(sb.isSacked(1500)).toBe(false);
    expect(sb.isLost(una)).toBe(true);
    expect(sb.pipe(una, nxt, una)).toBe(6000);
    expect(sb.nextLost(una, nxt, 1000, out)).toBe(true);
    expect([out[0], out[1]]).toEqual([una, 1000]);
    expect(sb.highestSacked(una)).toBe(1500);
    sb.advance(seqAdd(una, 2500)); // = 0
    expect(sb.ranges()).toEqual([[0, 1500]]);
    expect(sb.sackedBytes).toBe(1500);
  });
});

describe('SackScoreboard: property against a byte-set reference model', () => {
  /** Naive RFC 6675 model over a bitmap of the SACKed bytes of [una, una+span). */
  class Model {
    readonly s: boolean[];
    constructor(readonly span: number, readonly mss: number) {
      this.s = new Array<boolean>(span).fill(false);
    }
    add(l: number, r: number): number {
      let n = 0;
      for (let i = Math.max(0, l); i < Math.min(r, this.span); i++) if (!this.s[i]) { this.s[i] = true; n++; }
      return n;
    }
    /** Runs of SACKed bytes and SACKed byte count above offset x. */
    above(x: number): [number, number] {
      let runs = 0;
      let bytes = 0;
      for (let i = x + 1; i < this.span; i++) {
        if (this.s[i]) {
          bytes++;
          if (i === x + 1 || !this.s[i - 1]) runs++;
        }
      }
      return [runs, bytes];
    }
    isLost(x: number): boolean {
      const [runs, bytes] = this.above(x);
      return runs >= 3 || bytes > 2 * this.mss;
    }
    pipe(from: number, hr: number): number {
      let p = 0;
      for (let i = from; i < this.span; i++) {
        if (this.s[i]) continue;
        if (!this.isLost(i)) p++;
        if (i < hr) p++;
      }
      return p;
    }
    highest(): number {
      for (let i = this.span - 1; i >= 0; i--) if (this.s[i]) return i + 1;
      return -1;
    }
  }

  const op = fc.oneof(
    fc.record({
      kind: fc.constant('sack' as const),
      b: fc.array(fc.tuple(fc.integer({ min: -30, max: 230 }), fc.integer({ min: 0, max: 60 })), { minLength: 1, maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('ack' as const), n: fc.integer({ min: 0, max: 40 }) }),
  );

  it('RFC 2018/6675: sackedBytes, isSacked, isLost, pipe and nextLost equal the byte model', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(0xffffff00), fc.constant(0), fc.nat({ max: 0xffffffff })),
        fc.array(op, { maxLength: 8 }),
        fc.integer({ min: 0, max: 200 }),
        (base, ops, hrOff) => {
          const SPAN = 200;
          const MSS = 10;
          const sb = new SackScoreboard(MSS);
          const m = new Model(SPAN, MSS);
          let unaOff = 0;
          const nxt = seqAdd(base, SPAN);
          for (const o of ops) {
            if (o.kind === 'sack') {
              const b = new Uint32Array(8);
              let want = 0;
              o.b.forEach(([l, len], i) => {
                b[2 * i] = seqAdd(base, l);
                b[2 * i + 1] = seqAdd(base, l + len);
                const r = l + len;
                if (len > 0 && r <= SPAN && r > unaOff) want += m.add(Math.max(l, unaOff), r);
              });
              expect(sb.update(seqAdd(base, unaOff), nxt, b, o.b.length)).toBe(want);
            } else {
              unaOff = Math.min(SPAN, unaOff + o.n);
              for (let i = 0; i < unaOff; i++) m.s[i] = false;
              sb.advance(seqAdd(base, unaOff));
            }
          }
          const una = seqAdd(base, unaOff);
          let total = 0;
          for (let i = 0; i < SPAN; i++) {
            if (m.s[i]) total++;
            expect(sb.isSacked(seqAdd(base, i))).toBe(m.s[i]);
            if (i >= unaOff && !m.s[i]) expect(sb.isLost(seqAdd(base, i))).toBe(m.isLost(i));
          }
          expect(sb.sackedBytes).toBe(total);
          const hr = Math.max(unaOff, hrOff);
          expect(sb.pipe(una, nxt, seqAdd(base, hr))).toBe(m.pipe(unaOff, hr));
          const h = m.highest();
          expect(sb.highestSacked(una)).toBe(h < 0 ? una : seqAdd(base, h));
          // NextSeg rule 1 from HighRxt.
          let want: [number, number] | null = null;
          for (let i = hr; i < h; i++) {
            if (m.s[i]) continue;
            if (m.isLost(i)) {
              let len = 0;
              while (i + len < SPAN && !m.s[i + len] && len < 25) len++;
              want = [seqAdd(base, i), len];
            }
            break;
          }
          const o2 = new Float64Array(2);
          const got = sb.nextLost(seqAdd(base, hr), nxt, 25, o2);
          expect(got ? [o2[0], o2[1]] : null).toEqual(want);
        },
      ),
      { numRuns: 400, seed: 0x5acc },
    );
  });
});

describe('SackScoreboard across an RTO (RFC 6675 5.1, Linux tcp_timeout_mark_lost)', () => {
  it('forgetLost() keeps the SACKed ranges and drops only the lost marks; holeEnd() ends a hole at the next SACKed byte, across 2^32', () => {
    const base = 0xffffe000; // the ranges straddle the wrap
    const sb = new SackScoreboard(1000);
    sb.dupThreshRule = false;
    sb.update(base, seqAdd(base, 10_000), blocks([seqAdd(base, 3000), seqAdd(base, 5000)], [seqAdd(base, 7000), seqAdd(base, 8000)]), 2);
    sb.markLostBefore(seqAdd(base, 10_000));
    expect(sb.isLost(base)).toBe(true);
    sb.forgetLost();
    expect(sb.isLost(base)).toBe(false);
    expect(sb.hasLostBefore()).toBe(false);
    expect(sb.sackedBytes).toBe(3000);
    expect(sb.ranges()).toEqual([[seqAdd(base, 3000), seqAdd(base, 5000)], [seqAdd(base, 7000), seqAdd(base, 8000)]]);
    const end = seqAdd(base, 10_000);
    expect(sb.holeEnd(base, end)).toBe(seqAdd(base, 3000));
    expect(sb.holeEnd(seqAdd(base, 2999), end)).toBe(seqAdd(base, 3000));
    expect(sb.holeEnd(seqAdd(base, 5000), end)).toBe(seqAdd(base, 7000));
    expect(sb.holeEnd(seqAdd(base, 8000), end)).toBe(end);
    expect(sb.holeEnd(base, seqAdd(base, 2000))).toBe(seqAdd(base, 2000));
    expect(sb.sackedEnd(seqAdd(base, 3000))).toBe(seqAdd(base, 5000));
  });
});
