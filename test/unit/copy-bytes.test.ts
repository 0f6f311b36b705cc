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

  it('copyBytes copies overlapping ranges within one buffer like memmove', () => {
    const a = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    copyBytes(a, 0, a, 2, 4);
    expect([...a]).toEqual([1, 2, 1, 2, 3, 4]);
  });
});
