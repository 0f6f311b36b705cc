/** Sequence number arithmetic modulo 2^32 (src/tcp/seq.ts) against a BigInt reference model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  seqAdd,
  seqGeq,
  seqGt,
  seqLeq,
  seqLt,
  seqMax,
  seqSub,
} from '../../../src/tcp/seq.js';

const PARAMS = { numRuns: 2000, seed: 0x5eed };
const u32 = fc.nat({ max: 0xffffffff });
/** |n| < 2^31 */
const delta = fc.integer({ min: -0x7fffffff, max: 0x7fffffff });
const M = 1n << 32n;

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
