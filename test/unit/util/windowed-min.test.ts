/**
 * WindowedMin (src/util/windowed-min.ts): the Nichols windowed minimum behind RACK.min_RTT.
 * Exact cases, and a property against the brute-force minimum: the value returned is
 * always a sample taken within the window, never above the latest sample, and never below
 * the true minimum of the window.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WindowedMin } from '../../../src/util/windowed-min.js';

describe('WindowedMin', () => {
  it('a lower sample takes over at once; higher ones wait for the low one to leave the window', () => {
    const m = new WindowedMin(100);
    expect(m.value).toBe(Infinity);
    expect(m.update(0, 10)).toBe(10);
    expect(m.update(50, 20)).toBe(10);
    expect(m.update(90, 5)).toBe(5);
    expect(m.update(150, 30)).toBe(5); // 5 is 60 old
    expect(m.update(191, 30)).toBe(30); // 5 is 101 old: the best remaining choice
  });

  it('after a silence longer than the window the next sample is the minimum', () => {
    const m = new WindowedMin(100);
    m.update(0, 1);
    expect(m.update(1000, 7)).toBe(7);
  });

  it('property: the value is a sample of the window, at most the latest sample, at least the window\'s true minimum', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 1000 })), { minLength: 1, maxLength: 200 }), (steps) => {
        const win = 100;
        const m = new WindowedMin(win);
        const seen: Array<[number, number]> = [];
        let t = 0;
        for (const [dt, v] of steps) {
          t += dt;
          seen.push([t, v]);
          const got = m.update(t, v);
          const inWindow = seen.filter(([st]) => t - st <= win).map(([, sv]) => sv);
          expect(got).toBeLessThanOrEqual(v);
          expect(got).toBeGreaterThanOrEqual(Math.min(...inWindow));
          expect(inWindow).toContain(got);
        }
      }),
    );
  });
});
