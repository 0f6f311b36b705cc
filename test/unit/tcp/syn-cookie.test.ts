/** SYN cookies (src/tcp/syn-cookie.ts): round trips, tuple binding, expiry, forgery rate, timestamp trick. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COOKIE_MSS_TABLE,
  COOKIE_TICK_MS,
  cookieTsSackOk,
  cookieTsWscale,
  decodeCookieTs,
  encodeCookieTs,
  SynCookies,
} from '../../../src/tcp/syn-cookie.js';
import { prng } from '../wire/golden-frames.js';

const L = 0x0a0a0004; // local (listener) 10.10.0.4:80
const R = 0x0a0a0003; // remote 10.10.0.3:40000
const secret = Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + 3) & 0xff);
const T0 = 1_000_000_123; // an arbitrary monotonic time in ms

describe('SynCookies', () => {
  const sc = new SynCookies(secret);

  it('make -> check round-trips every MSS of the table, and rounds others down', () => {
    expect(COOKIE_MSS_TABLE).toEqual([536, 1300, 1440, 1460]);
    for (const mss of COOKIE_MSS_TABLE) {
      const c = sc.make(L, 80, R, 40000, 0x12345678, mss, T0);
      expect(c).toBe(c >>> 0);
      expect(sc.check(L, 80, R, 40000, 0x12345678, c, T0)).toBe(mss);
    }
    const cases: [number, number][] = [
      [0, 536],
      [535, 536], // below the table: still the smallest entry (RFC 9293 default 536)
      [1299, 536],
      [1300, 1300],
      [1439, 1300],
      [1448, 1440],
      [1460, 1460],
      [8960, 1460],
    ];
    for (const [mss, want] of cases) {
      expect(sc.check(L, 80, R, 40000, 7, sc.make(L, 80, R, 40000, 7, mss, T0), T0)).toBe(want);
    }
  });

  it('round-trips across tuples, peer ISNs and times (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffff }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 3 }),
        fc.nat({ max: 2 ** 40 }),
        fc.nat({ max: COOKIE_TICK_MS * 2 - 1 }),
        (rip, rport, isn, mi, t, later) => {
          const mss = COOKIE_MSS_TABLE[mi];
          const c = sc.make(L, 443, rip, rport, isn, mss, t);
          // Valid for the rest of its tick and the next one, whatever the phase.
          const tick = Math.floor(t / COOKIE_TICK_MS);
          const checkAt = Math.min(t + later, (tick + 2) * COOKIE_TICK_MS - 1);
          expect(sc.check(L, 443, rip, rport, isn, c, checkAt)).toBe(mss);
        },
      ),
      { numRuns: 2000, seed: 0xc00c1e },
    );
  });

  it('a cookie for another tuple, peer ISN or secret fails', () => {
    const c = sc.make(L, 80, R, 40000, 1000, 1460, T0);
    expect(sc.check(L, 80, R, 40000, 1000, c, T0)).toBe(1460);
    expect(sc.check(L, 80, R, 40001, 1000, c, T0)).toBe(-1);
    expect(sc.check(L, 81, R, 40000, 1000, c, T0)).toBe(-1);
    expect(sc.check(L, 80, R + 1, 40000, 1000, c, T0)).toBe(-1);
    expect(sc.check(L + 1, 80, R, 40000, 1000, c, T0)).toBe(-1);
    expect(sc.check(L, 80, R, 40000, 1001, c, T0)).toBe(-1);
    expect(sc.check(L, 80, R, 40000, 1000, (c + 1) >>> 0, T0)).toBe(-1);
    expect(new SynCookies().check(L, 80, R, 40000, 1000, c, T0)).toBe(-1);
    // The peer ISN is hashed too, so small ISN offsets do not just shift the MSS index
    // (with Linux's construction ISN + 1 would decode as the next smaller MSS).
    for (let d = -4; d <= 4; d++) {
      if (d !== 0) expect(sc.check(L, 80, R, 40000, 1000 + d, c, T0)).toBe(-1);
      if (d !== 0) expect(sc.check(L, 80, R, 40000, 1000 + d, (c + d) >>> 0, T0)).toBe(-1); // Linux: accepted
    }
  });

  it('expires after 2 counter ticks (64 s each)', () => {
    const start = 5 * COOKIE_TICK_MS; // the start of a tick
    const c = sc.make(L, 80, R, 40000, 42, 1440, start);
    expect(sc.check(L, 80, R, 40000, 42, c, start)).toBe(1440);
    expect(sc.check(L, 80, R, 40000, 42, c, start + COOKIE_TICK_MS - 1)).toBe(1440);
    expect(sc.check(L, 80, R, 40000, 42, c, start + COOKIE_TICK_MS)).toBe(1440);
    expect(sc.check(L, 80, R, 40000, 42, c, start + 2 * COOKIE_TICK_MS - 1)).toBe(1440);
    expect(sc.check(L, 80, R, 40000, 42, c, start + 2 * COOKIE_TICK_MS)).toBe(-1);
    expect(sc.check(L, 80, R, 40000, 42, c, start + 3 * COOKIE_TICK_MS)).toBe(-1);
    // 256 ticks later the 8-bit counter has wrapped, but the data hash (keyed on the
    // full counter) no longer matches.
    expect(sc.check(L, 80, R, 40000, 42, c, start + 256 * COOKIE_TICK_MS)).toBe(-1);
    // A cookie from the future (clock went back a tick) is rejected too.
    expect(sc.check(L, 80, R, 40000, 42, c, start - 1)).toBe(-1);
  });

  it('rejects random 32-bit values: at most 2 false accepts in 100k', () => {
    const next = prng(0xdecaf);
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) {
      if (sc.check(L, 80, R, 40000 + (i & 0xff), next(), next(), T0) !== -1) accepted++;
    }
    // Expected rate 2 ticks * 4 indexes / 2^32 ~ 2e-9: 0.0002 accepts in 100k.
    expect(accepted).toBeLessThanOrEqual(2);
  });
});

describe('cookie timestamps (Linux cookie_init_timestamp)', () => {
  it('encode/decode window shift and SACK-permitted in the low 6 bits', () => {
    for (const ws of [-1, 0, 1, 7, 14]) {
      for (const sack of [false, true]) {
        for (const tsVal of [0, 5, 63, 64, 1000, 0x12345678, 0xffffffff]) {
          const ts = encodeCookieTs(tsVal, ws, sack);
          expect(ts).toBe(ts >>> 0);
          // Never ahead of our clock, and at most 63 ticks behind it (modulo 2^32).
          const behind = (tsVal - ts) >>> 0;
          expect(behind).toBeLessThan(64);
          const opts = decodeCookieTs(ts);
          expect(cookieTsWscale(opts)).toBe(ws);
          expect(cookieTsSackOk(opts)).toBe(sack);
        }
      }
    }
    expect(encodeCookieTs(0x1000, 7, true)).toBe(0x1000 - 64 + 0x17);
    expect(encodeCookieTs(0x103f, 7, true)).toBe(0x1017);
    expect(cookieTsWscale(decodeCookieTs(encodeCookieTs(100, 20, false)))).toBe(14); // clamped
  });
});
