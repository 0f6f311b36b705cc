/**
 * copyBytes / copyToBuffer: byte copies between (shared) buffers on the hot path.
 */
import { describe, expect, it } from 'vitest';
import { copyBytes, copyToBuffer } from '../../src/util/copy-bytes.js';

describe('copyToBuffer', () => {
  it('returns an independent Buffer with exactly the bytes asked for, from a SharedArrayBuffer view, small (pooled) and large', () => {
    const src = new Uint8Array(new SharedArrayBuffer(70_000));
    for (let i = 0; i < src.length; i++) src[i] = (i * 7) & 0xff;
    for (const [off, len] of [[0, 0], [3, 1], [17, 100], [5, 1448], [1, 65_000]] as const) {
      const b = copyToBuffer(src, off, len);
      expect(Buffer.isBuffer(b)).toBe(true);
      expect(b.length).toBe(len);
      expect(b.equals(Buffer.from(src.slice(off, off + len)))).toBe(true);
      if (len > 0) {
        const before = b[0];
        src[off] = (src[off] + 1) & 0xff; // the copy does not alias the source
        expect(b[0]).toBe(before);
      }
    }
  });

  it('places a long copy out of shared memory at the source address mod 8 (V8 copies word by word only then), for every skew and from a view at an offset', () => {
    const sab = new SharedArrayBuffer(80_000);
    const base = new Uint8Array(sab);
    for (let i = 0; i < base.length; i++) base[i] = (i * 13 + 5) & 0xff;
    for (const view of [base, new Uint8Array(sab, 3, 70_000)]) {
      for (const len of [512, 1448, 14_000, 65_000]) {
        for (let off = 60; off < 68; off++) {
          const b = copyToBuffer(view, off, len);
          expect(b.length).toBe(len);
          expect((b.byteOffset - (view.byteOffset + off)) & 7).toBe(0);
          expect(b.equals(Buffer.from(view.slice(off, off + len)))).toBe(true);
        }
      }
    }
    // Not shared, or short: a plain Buffer of exactly the bytes.
    const plain = copyToBuffer(new Uint8Array(4096).fill(9), 3, 2000);
    expect(plain.equals(Buffer.alloc(2000, 9))).toBe(true);
    expect(copyToBuffer(base, 1, 100).equals(Buffer.from(base.slice(1, 101)))).toBe(true);
  });

  it('copyBytes copies overlapping ranges within one buffer like memmove', () => {
    const a = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    copyBytes(a, 0, a, 2, 4);
    expect([...a]).toEqual([1, 2, 1, 2, 3, 4]);
  });
});
