/** Sequence number arithmetic modulo 2^32 (src/tcp/seq.ts) against a BigInt reference model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  seqAdd,
  seqBetween,
  seqGeq,
  seqGt,
  seqInWindow,
  seqLeq,
  seqLt,
  seqMax,
  seqMin,
  seqSub,
} from '../../../src/tcp/seq.js';

const PARAMS = { numRuns: 2000, seed: 0x5eed };
const u32 = fc.nat({ max: 0xffffffff });
/** |n| < 2^31 */
const delta = fc.integer({ min: -0x7fffffff, max: 0x7fffffff });
const M = 1n << 32n;

/** Reference: offset of x from start, in [0, 2^32). */
function off(x: number, start: number): bigint {
  return (((BigInt(x) - BigInt(start)) % M) + M) % M;
}

describe('seqAdd / seqSub', () => {
  it('wrap around 2^32 and stay uint32', () => {
    expect(seqAdd(0xffffffff, 1)).toBe(0);
    expect(seqAdd(0xfffffff0, 0x20)).toBe(0x10);
    expect(seqAdd(0x10, -0x20)).toBe(0xfffffff0);
    expect(seqAdd(5, 0)).toBe(5);
    expect(seqSub(0x10, 0xfffffff0)).toBe(0x20);
    expect(seqSub(0xfffffff0, 0x10)).toBe(-0x20);
    expect(seqSub(0x80000000, 0)).toBe(-0x80000000); // exactly half-way: RFC 1982 undefined
  });

  it('seqAdd matches (a + n) mod 2^32 and seqSub inverts it', () => {
    fc.assert(
      fc.property(u32, delta, (a, n) => {
        const r = seqAdd(a, n);
        expect(BigInt(r)).toBe((((BigInt(a) + BigInt(n)) % M) + M) % M);
        expect(seqSub(r, a)).toBe(n);
        expect(seqSub(a, r)).toBe(0 - n || 0);
      }),
      PARAMS,
    );
  });
});

describe('comparisons', () => {
  it('wrap-around cases', () => {
    expect(seqLt(0xfffffff0, 0x10)).toBe(true);
    expect(seqGt(0x10, 0xfffffff0)).toBe(true);
    expect(seqLt(0x10, 0xfffffff0)).toBe(false);
    expect(seqLeq(0xffffffff, 0)).toBe(true);
    expect(seqGeq(0, 0xffffffff)).toBe(true);
    expect(seqLt(7, 7)).toBe(false);
    expect(seqLeq(7, 7)).toBe(true);
    expect(seqGt(7, 7)).toBe(false);
    expect(seqGeq(7, 7)).toBe(true);
    expect(seqMax(0xfffffff0, 0x10)).toBe(0x10);
    expect(seqMin(0xfffffff0, 0x10)).toBe(0xfffffff0);
    expect(seqMax(3, 3)).toBe(3);
  });

  it('for all a and |n| < 2^31: seqLt(a, a + n) === n > 0, and the other three agree', () => {
    fc.assert(
      fc.property(u32, delta, (a, n) => {
        const b = seqAdd(a, n);
        expect(seqLt(a, b)).toBe(n > 0);
        expect(seqLeq(a, b)).toBe(n >= 0);
        expect(seqGt(a, b)).toBe(n < 0);
        expect(seqGeq(a, b)).toBe(n <= 0);
        expect(seqMax(a, b)).toBe(n > 0 ? b : a);
        expect(seqMin(a, b)).toBe(n > 0 ? a : b);
      }),
      PARAMS,
    );
  });

  it('antisymmetry: a < b implies not b < a; a <= b and b <= a iff a === b', () => {
    fc.assert(
      fc.property(u32, u32, (a, b) => {
        if ((a - b) >>> 0 === 0x80000000) return; // exactly 2^31 apart: undefined order
        if (seqLt(a, b)) expect(seqLt(b, a)).toBe(false);
        expect(seqLeq(a, b) && seqLeq(b, a)).toBe(a === b);
        expect(seqGt(a, b)).toBe(seqLt(b, a));
        expect(seqGeq(a, b)).toBe(seqLeq(b, a));
        expect(seqLt(a, b) || seqGt(a, b) || a === b).toBe(true);
      }),
      PARAMS,
    );
  });
});

describe('seqInWindow', () => {
  it('edges and wrap', () => {
    expect(seqInWindow(100, 100, 10)).toBe(true);
    expect(seqInWindow(109, 100, 10)).toBe(true);
    expect(seqInWindow(110, 100, 10)).toBe(false);
    expect(seqInWindow(99, 100, 10)).toBe(false);
    expect(seqInWindow(100, 100, 0)).toBe(false);
    expect(seqInWindow(0x5, 0xfffffffa, 0x10)).toBe(true);
    expect(seqInWindow(0xa, 0xfffffffa, 0x10)).toBe(false);
    expect(seqInWindow(0xfffffff9, 0xfffffffa, 0x10)).toBe(false);
    expect(seqInWindow(0x12345678, 0, 0xffffffff)).toBe(true);
  });

  it('matches a BigInt model: (x - start) mod 2^32 < len', () => {
    fc.assert(
      fc.property(u32, u32, u32, (x, start, len) => {
        expect(seqInWindow(x, start, len)).toBe(off(x, start) < BigInt(len));
      }),
      PARAMS,
    );
    // Near the window edges, where a random x rarely falls.
    fc.assert(
      fc.property(u32, fc.nat({ max: 1 << 20 }), fc.integer({ min: -2, max: 2 }), (start, len, e) => {
        const x = seqAdd(start, len + e);
        expect(seqInWindow(x, start, len)).toBe(off(x, start) < BigInt(len));
      }),
      PARAMS,
    );
  });
});

describe('seqBetween', () => {
  it('edges and wrap', () => {
    expect(seqBetween(10, 10, 20)).toBe(true);
    expect(seqBetween(10, 20, 20)).toBe(true);
    expect(seqBetween(10, 21, 20)).toBe(false);
    expect(seqBetween(10, 9, 20)).toBe(false);
    expect(seqBetween(7, 7, 7)).toBe(true);
    expect(seqBetween(7, 8, 7)).toBe(false);
    expect(seqBetween(0xfffffff0, 0x5, 0x10)).toBe(true);
    expect(seqBetween(0xfffffff0, 0x11, 0x10)).toBe(false);
  });

  it('matches a BigInt model: (x - lo) mod 2^32 <= (hi - lo) mod 2^32', () => {
    fc.assert(
      fc.property(u32, u32, u32, (lo, x, hi) => {
        expect(seqBetween(lo, x, hi)).toBe(off(x, lo) <= off(hi, lo));
      }),
      PARAMS,
    );
    fc.assert(
      fc.property(u32, fc.nat({ max: 1 << 20 }), fc.integer({ min: -2, max: 2 }), (lo, span, e) => {
        const hi = seqAdd(lo, span);
        const x = seqAdd(hi, e);
        expect(seqBetween(lo, x, hi)).toBe(e <= 0 ? e >= -span : false);
      }),
      PARAMS,
    );
  });

  it('agrees with seqLeq for ranges shorter than 2^31', () => {
    fc.assert(
      fc.property(u32, fc.nat({ max: 0x7fffffff }), delta, (lo, span, d) => {
        const hi = seqAdd(lo, span);
        const x = seqAdd(lo, d);
        expect(seqBetween(lo, x, hi)).toBe(seqLeq(lo, x) && seqLeq(x, hi));
      }),
      PARAMS,
    );
  });
});
