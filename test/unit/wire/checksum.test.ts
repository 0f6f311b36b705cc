/**
 * Checksum tests: RFC 1071 section 3 example, odd lengths, unaligned offsets,
 * chaining, comparison against a naive reference, RFC 1624 incremental updates.
 */
import { describe, expect, it } from 'vitest';
import {
  adjustChecksum16,
  internetChecksum,
  onesSum,
  onesSumPortable,
  pseudoHeaderSum,
} from '../../../src/wire/checksum.js';
import { prng } from './golden-frames.js';

/** Textbook RFC 1071 reference: 16-bit big-endian words, end-around carry after each add. */
function naive(b: Uint8Array, off: number, len: number, acc = 0): number {
  let s = acc;
  let i = off;
  for (; i + 1 < off + len; i += 2) {
    s += (b[i] << 8) | b[i + 1];
    if (s > 0xffff) s -= 0xffff;
  }
  if (i < off + len) {
    s += b[i] << 8;
    if (s > 0xffff) s -= 0xffff;
  }
  return s;
}

describe('onesSum', () => {
  it('RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2', () => {
    const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    expect(onesSum(b, 0, 8)).toBe(0xddf2);
    expect(internetChecksum(b, 0, 8)).toBe(0x220d);
    // Same bytes at every alignment inside a longer buffer (fast path needs >= 32 bytes).
    for (let pad = 0; pad < 8; pad++) {
      const big = new Uint8Array(64 + pad);
      for (let k = 0; k < 4; k++) big.set(b, pad + k * 8);
      // Four copies: 4 * 0xddf2 folded.
      let want = 4 * 0xddf2;
      want = (want & 0xffff) + (want >>> 16);
      expect(onesSum(big, pad, 32)).toBe(want);
      expect(onesSum(big, pad, 32)).toBe(naive(big, pad, 32));
    }
  });

  it('pads an odd trailing byte with zero', () => {
    expect(onesSum(Uint8Array.from([0xab]), 0, 1)).toBe(0xab00);
    expect(onesSum(Uint8Array.from([0x12, 0x34, 0x56]), 0, 3)).toBe(0x1234 + 0x5600);
    const b = new Uint8Array(41).fill(0x01);
    // 20 words of 0x0101 plus 0x0100
    expect(onesSum(b, 0, 41)).toBe(20 * 0x0101 + 0x0100);
  });

  it('returns 0 only for all-zero input and 0xffff (negative zero) for all-ones', () => {
    expect(onesSum(new Uint8Array(100), 0, 100)).toBe(0);
    expect(onesSum(new Uint8Array(0), 0, 0)).toBe(0);
    for (const n of [2, 4, 30, 32, 64, 1500, 1501]) {
      const b = new Uint8Array(n + 3).fill(0xff);
      // Odd length: the last 0xff is padded to the word 0xff00, and k * 0xffff + 0xff00 folds to 0xff00.
      const want = n % 2 === 0 ? 0xffff : 0xff00;
      for (const off of [0, 1, 2, 3]) {
        expect(onesSum(b, off, n)).toBe(want);
        expect(onesSumPortable(b, off, n)).toBe(want);
      }
    }
    // A nonzero sum that is a multiple of 0xffff stays 0xffff, never 0.
    const c = Uint8Array.from([0x80, 0x00, 0x7f, 0xff, ...new Array<number>(40).fill(0)]);
    expect(onesSum(c, 0, c.length)).toBe(0xffff);
  });

  it('acc continues a previous sum (chaining at even boundaries)', () => {
    const next = prng(7);
    const b = new Uint8Array(300);
    for (let i = 0; i < b.length; i++) b[i] = next();
    const whole = onesSum(b, 0, 300);
    expect(onesSum(b, 100, 200, onesSum(b, 0, 100))).toBe(whole);
    expect(onesSum(b, 2, 298, onesSum(b, 0, 2))).toBe(whole);
    expect(onesSum(b, 58, 242, onesSum(b, 36, 22, onesSum(b, 0, 36)))).toBe(whole);
    expect(onesSum(b, 0, 0, 0x1234)).toBe(0x1234);
    expect(onesSum(b, 0, 0, 0xffff)).toBe(0xffff);
  });

  it('matches the naive reference on random buffers, lengths, offsets and views', () => {
    const next = prng(12345);
    for (let t = 0; t < 3000; t++) {
      const len = t < 100 ? t : next() % 2000;
      const pad = next() % 9;
      const viewOff = next() % 8;
      const ab = new ArrayBuffer(viewOff + pad + len + 5);
      const b = new Uint8Array(ab, viewOff, pad + len + 5);
      const mode = next() % 8;
      for (let i = 0; i < b.length; i++) b[i] = mode === 0 ? 0xff : mode === 1 ? 0 : next();
      const acc = next() % 4 === 0 ? 0 : next() & 0xffff;
      const want = naive(b, pad, len, acc);
      expect(onesSum(b, pad, len, acc)).toBe(want);
      expect(onesSumPortable(b, pad, len, acc)).toBe(want);
    }
  });

  it('works on a SharedArrayBuffer and when more buffers are in use than the view cache holds', () => {
    const next = prng(99);
    const bufs: Uint8Array[] = [];
    for (let k = 0; k < 7; k++) {
      const b = new Uint8Array(k % 2 ? new SharedArrayBuffer(512) : new ArrayBuffer(512));
      for (let i = 0; i < b.length; i++) b[i] = next();
      bufs.push(b);
    }
    for (let round = 0; round < 3; round++) {
      for (const b of bufs) expect(onesSum(b, 3, 500)).toBe(naive(b, 3, 500));
    }
  });

  it('works on subarrays of one buffer at every byte offset, alternating', () => {
    const next = prng(11);
    const ab = new ArrayBuffer(4096);
    const whole = new Uint8Array(ab);
    for (let i = 0; i < whole.length; i++) whole[i] = next();
    const views = [0, 1, 2, 3, 5, 6, 7, 9].map((k) => new Uint8Array(ab, k, 4096 - k));
    for (let round = 0; round < 2; round++) {
      views.forEach((v, k) => {
        for (const [off, len] of [[0, 64], [3, 1000], [14, 1500], [1, 4000 - k]] as const) {
          expect(onesSum(v, off, len)).toBe(naive(v, off, len));
        }
      });
    }
  });

  it('follows a resizable buffer that grew after its view was cached', () => {
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const ab = new Resizable(256, { maxByteLength: 8192 });
    const b = new Uint8Array(ab); // length-tracking
    b.fill(0x11);
    expect(onesSum(b, 0, 256)).toBe(naive(b, 0, 256));
    ab.resize(8192);
    for (let i = 256; i < b.length; i++) b[i] = i * 7;
    expect(b.length).toBe(8192);
    expect(onesSum(b, 4, 8000)).toBe(naive(b, 4, 8000));
    expect(onesSum(b, 0, 8192)).toBe(naive(b, 0, 8192));
  });

  it('allocates no view per call, also for ranges that end at the end of their buffer', () => {
    const Real = globalThis.Uint32Array;
    let made = 0;
    class Counting extends Real {
      constructor(buffer: ArrayBuffer, byteOffset?: number, length?: number) { // as checksum.ts makes its views
        super(buffer, byteOffset, length);
        made++;
      }
    }
    const arrays = [new Uint8Array(1500), new Uint8Array(1501), new Uint8Array(new ArrayBuffer(2048), 7, 2041)];
    arrays.forEach((a, k) => a.fill(k + 1));
    const want = arrays.map((a) => naive(a, 0, a.length));
    (globalThis as { Uint32Array: unknown }).Uint32Array = Counting;
    try {
      for (let round = 0; round < 100; round++) {
        arrays.forEach((a, k) => {
          expect(onesSum(a, 0, a.length)).toBe(want[k]);
          expect(onesSum(a, 2, a.length - 2)).toBe(naive(a, 2, a.length - 2));
        });
      }
    } finally {
      (globalThis as { Uint32Array: unknown }).Uint32Array = Real;
    }
    // At most one view per new buffer, never one per call.
    expect(made).toBeLessThanOrEqual(arrays.length);
  });

  it('handles a 64 KiB datagram and a buffer longer than one accumulation chunk (4 MiB)', () => {
    const next = prng(5);
    const b = new Uint8Array(65536 + 1);
    for (let i = 0; i < b.length; i++) b[i] = next();
    expect(onesSum(b, 1, 65535)).toBe(naive(b, 1, 65535));
    const big = new Uint8Array(5 * 1024 * 1024 + 6).fill(0xff);
    expect(onesSum(big, 2, big.length - 2)).toBe(0xffff);
    for (let i = 0; i < big.length; i += 4099) big[i] = next() & 0xff;
    expect(onesSum(big, 2, big.length - 2)).toBe(naive(big, 2, big.length - 2));
  });
});

describe('internetChecksum', () => {
  it('is the complement of onesSum and makes a filled range sum to zero', () => {
    const b = Uint8Array.from([0x45, 0x00, 0x00, 0x54, 0xce, 0x55, 0x40, 0x00, 0x40, 0x01, 0, 0,
      0x0a, 0x63, 0x00, 0x01, 0x0a, 0x63, 0x00, 0x02]);
    const c = internetChecksum(b, 0, 20);
    // Value from the golden echo request header (test/golden/ping.pcap).
    expect(c).toBe(0x578b);
    b[10] = c >>> 8;
    b[11] = c & 0xff;
    expect(internetChecksum(b, 0, 20)).toBe(0);
    expect(onesSum(b, 0, 20)).toBe(0xffff);
  });
});

describe('pseudoHeaderSum', () => {
  it('equals the sum of the 12 pseudo-header bytes', () => {
    const next = prng(3);
    for (let t = 0; t < 500; t++) {
      const src = next();
      const dst = next();
      const proto = next() & 0xff;
      const len = next() & 0xffff;
      const ph = Uint8Array.from([src >>> 24, src >>> 16, src >>> 8, src, dst >>> 24, dst >>> 16, dst >>> 8, dst,
        0, proto, len >>> 8, len]);
      expect(pseudoHeaderSum(src, dst, proto, len)).toBe(naive(ph, 0, 12));
    }
    expect(pseudoHeaderSum(0x0a630001, 0x0a630002, 17, 14)).toBe(0x0a63 + 1 + 0x0a63 + 2 + 17 + 14);
  });
});

describe('RFC 1624 incremental update', () => {
  it('RFC 1624 section 4 example: HC 0xdd2f, m 0x5555 -> 0x3285 gives 0x0000', () => {
    expect(adjustChecksum16(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
  });

  it('matches a full recompute for 16-bit field changes', () => {
    const next = prng(42);
    const b = new Uint8Array(40);
    for (let t = 0; t < 2000; t++) {
      for (let i = 0; i < b.length; i++) b[i] = next();
      b[10] = 0;
      b[11] = 0;
      const c0 = internetChecksum(b, 0, 40);
      b[10] = c0 >>> 8;
      b[11] = c0;
      // 16-bit change at an even offset other than the checksum field
      const at = 2 * (6 + (next() % 14));
      const oldW = (b[at] << 8) | b[at + 1];
      const newW = next() & 0xffff;
      b[at] = newW >>> 8;
      b[at + 1] = newW;
      const c1 = adjustChecksum16(c0, oldW, newW);
      b[10] = 0;
      b[11] = 0;
      expect(c1).toBe(internetChecksum(b, 0, 40));
    }
  });

  it('TTL decrement on a real header (golden echo request) matches a recompute', () => {
    const h = Uint8Array.from([0x45, 0x00, 0x00, 0x54, 0xce, 0x55, 0x40, 0x00, 0x40, 0x01, 0x57, 0x8b,
      0x0a, 0x63, 0x00, 0x01, 0x0a, 0x63, 0x00, 0x02]);
    const c = adjustChecksum16(0x578b, 0x4001, 0x3f01);
    h[8] = 0x3f;
    h[10] = 0;
    h[11] = 0;
    expect(c).toBe(internetChecksum(h, 0, 20));
    expect(c).toBe(0x588b);
  });
});
