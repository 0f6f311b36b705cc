/**
 * SipHash-2-4 (src/tcp/isn.ts) against the 64 published reference vectors
 * (SipHash paper appendix / reference implementation vectors.h: key 00..0f, message
 * 00..len-1), and the RFC 6528 ISN generator and RFC 7323 timestamp offsets built on it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IsnGenerator } from '../../../src/tcp/isn.js';
import { sipHash24, sipHash24x4, sipKey } from '../../../src/util/siphash.js';
import { seqSub } from '../../../src/tcp/seq.js';

/** SipHash-2-4 outputs (8 bytes, little-endian, as hex) for message lengths 0..63. */
const VECTORS = [
  '310e0edd47db6f72', 'fd67dc93c539f874', '5a4fa9d909806c0d', '2d7efbd796666785',
  'b7877127e09427cf', '8da699cd64557618', 'cee3fe586e46c9cb', '37d1018bf50002ab',
  '6224939a79f5f593', 'b0e4a90bdf82009e', 'f3b9dd94c5bb5d7a', 'a7ad6b22462fb3f4',
  'fbe50e86bc8f1e75', '903d84c02756ea14', 'eef27a8e90ca23f7', 'e545be4961ca29a1',
  'db9bc2577fcc2a3f', '9447be2cf5e99a69', '9cd38d96f0b3c14b', 'bd6179a71dc96dbb',
  '98eea21af25cd6be', 'c7673b2eb0cbf2d0', '883ea3e395675393', 'c8ce5ccd8c030ca8',
  '94af49f6c650adb8', 'eab8858ade92e1bc', 'f315bb5bb835d817', 'adcf6b0763612e2f',
  'a5c91da7acaa4dde', '716595876650a2a6', '28ef495c53a387ad', '42c341d8fa92d832',
  'ce7cf2722f512771', 'e37859f94623f3a7', '381205bb1ab0e012', 'ae97a10fd434e015',
  'b4a31508beff4d31', '81396229f0907902', '4d0cf49ee5d4dcca', '5c73336a76d8bf9a',
  'd0a704536ba93e0e', '925958fcd6420cad', 'a915c29bc8067318', '952b79f3bc0aa6d4',
  'f21df2e41d4535f9', '87577519048f53a9', '10a56cf5dfcd9adb', 'eb75095ccd986cd0',
  '51a9cb9ecba312e6', '96afadfc2ce666c7', '72fe52975a4364ee', '5a1645b276d592a1',
  'b274cb8ebf87870a', '6f9bb4203de7b381', 'eaecb2a30b22a87f', '9924a43cc1315724',
  'bd838d3aafbf8db7', '0b1a2a3265d51aea', '135079a3231ce660', '932b2846e4d70666',
  'e1915f5cb1eca46c', 'f325965ca16d629f', '575ff28e60381be5', '724506eb4c328a95',
];

const KEY16 = Uint8Array.from({ length: 16 }, (_, i) => i);
const secretA = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
const secretB = Uint8Array.from({ length: 32 }, (_, i) => (i * 53 + 7) & 0xff);
/** The 64-bit result [low, high] as the reference's 8 little-endian bytes, in hex. */
const hex8 = (out: Uint32Array): string => {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(out[0], 0);
  b.writeUInt32LE(out[1], 4);
  return b.toString('hex');
};

describe('SipHash-2-4', () => {
  it('matches all 64 reference vectors, at any offset', () => {
    const k = sipKey(KEY16);
    expect(Array.from(k)).toEqual([0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c]);
    const msg = new Uint8Array(5 + 64);
    for (let i = 0; i < 64; i++) msg[5 + i] = i;
    const out = new Uint32Array(2);
    expect(VECTORS.length).toBe(64);
    for (let len = 0; len < 64; len++) {
      const lo = sipHash24(k, msg, 5, len, out);
      expect(hex8(out), `length ${len}`).toBe(VECTORS[len]);
      expect(lo).toBe(out[0]);
    }
  });

  it('sipHash24x4 equals sipHash24 over LE(m0) LE(m1) LE(m2) LE(m3)', () => {
    const k = sipKey(KEY16);
    const msg = new Uint8Array(16);
    for (let i = 0; i < 16; i++) msg[i] = i;
    // Vector 16 through the word API: words are the little-endian reads of 00..0f.
    const out = new Uint32Array(2);
    sipHash24(k, msg, 0, 16, out);
    expect(sipHash24x4(k, 0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c)).toBe(out[0]);
    expect(hex8(out)).toBe(VECTORS[16]);
    const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
    fc.assert(
      fc.property(bytes16, bytes16, (key, m) => {
        const kk = sipKey(key);
        const dv = new DataView(m.buffer);
        const w = [0, 4, 8, 12].map((o) => dv.getUint32(o, true));
        expect(sipHash24x4(kk, w[0], w[1], w[2], w[3])).toBe(sipHash24(kk, m, 0, 16, out));
      }),
      { numRuns: 500, seed: 0x51b },
    );
  });

  it('sipKey needs 16 bytes and folds longer secrets', () => {
    expect(() => sipKey(new Uint8Array(15))).toThrow(RangeError);
    const long = new Uint8Array(32);
    long.set(KEY16);
    expect(Array.from(sipKey(long))).toEqual(Array.from(sipKey(KEY16))); // zeros fold to nothing
    long[16] = 1;
    expect(sipKey(long)[0]).toBe(0x03020101);
  });
});

describe('IsnGenerator (RFC 6528)', () => {
  const A = 0x0a0a0004;
  const B = 0x0a0a0003;

  it('is deterministic for the same secret, tuple and time', () => {
    const g1 = new IsnGenerator(secretA);
    const g2 = new IsnGenerator(secretA);
    for (const t of [0, 1, 1234.5, 1.7e12]) {
      expect(g1.isn(A, 80, B, 40000, t)).toBe(g2.isn(A, 80, B, 40000, t));
    }
    const v = g1.isn(A, 80, B, 40000, 1000);
    expect(Number.isInteger(v) && v >= 0 && v <= 0xffffffff).toBe(true);
  });

  it('advances with the clock by 250 per ms (4 µs ticks), wrapping modulo 2^32', () => {
    const g = new IsnGenerator(secretA);
    const base = g.isn(A, 80, B, 40000, 5000);
    expect(seqSub(g.isn(A, 80, B, 40000, 5001), base)).toBe(250);
    expect(seqSub(g.isn(A, 80, B, 40000, 6000), base)).toBe(250_000);
    expect(seqSub(g.isn(A, 80, B, 40000, 5000.004), base)).toBe(1);
    expect(seqSub(g.isn(A, 80, B, 40000, 5000.003), base)).toBe(0);
    // 2^32 ticks = 17179.869184 s: the ISN comes back around.
    expect(g.isn(A, 80, B, 40000, 5000 + 17_179_869.184)).toBe(base);
    // Large epoch-ms clocks stay exact.
    const t = 1.7e12;
    expect(seqSub(g.isn(A, 80, B, 40000, t + 3), g.isn(A, 80, B, 40000, t))).toBe(750);
    // Another clock rate.
    const g1 = new IsnGenerator(secretA, 1_000_000);
    expect(seqSub(g1.isn(A, 80, B, 40000, 11), g1.isn(A, 80, B, 40000, 10))).toBe(1000);
  });

  it('differs across tuples and secrets (no collisions over 20k tuples)', () => {
    const g = new IsnGenerator(secretA);
    const h = new IsnGenerator(secretB);
    const t = 77_000;
    const seen = new Set<number>();
    for (let p = 0; p < 20_000; p++) seen.add(g.isn(A, 80, B, 30000 + p, t));
    // 20k uint32s collide with probability ~5%; the hash, not the port, must spread them.
    expect(seen.size).toBeGreaterThan(19_990);
    const base = g.isn(A, 80, B, 40000, t);
    expect(g.isn(A, 81, B, 40000, t)).not.toBe(base);
    expect(g.isn(A + 1, 80, B, 40000, t)).not.toBe(base);
    expect(g.isn(A, 80, B + 1, 40000, t)).not.toBe(base);
    expect(g.isn(B, 40000, A, 80, t)).not.toBe(base); // direction matters
    expect(h.isn(A, 80, B, 40000, t)).not.toBe(base);
    expect(new IsnGenerator().isn(A, 80, B, 40000, t)).not.toBe(new IsnGenerator().isn(A, 80, B, 40000, t));
    // Neighbouring ports give unrelated offsets (not a fixed stride).
    const d1 = seqSub(g.isn(A, 80, B, 40001, t), base);
    const d2 = seqSub(g.isn(A, 80, B, 40002, t), g.isn(A, 80, B, 40001, t));
    expect(d1).not.toBe(d2);
  });

  it('tsOffset is stable per address pair and differs across pairs, secrets and from the ISN hash', () => {
    const g = new IsnGenerator(secretA);
    const o = g.tsOffset(A, B);
    expect(g.tsOffset(A, B)).toBe(o);
    expect(new IsnGenerator(secretA).tsOffset(A, B)).toBe(o);
    expect(g.tsOffset(A, B + 1)).not.toBe(o);
    expect(g.tsOffset(B, A)).not.toBe(o);
    expect(new IsnGenerator(secretB).tsOffset(A, B)).not.toBe(o);
    expect(o).toBe(o >>> 0);
    // Domain separation: the ISN's F for ports 0/0 at time 0 is another value.
    expect(g.isn(A, 0, B, 0, 0)).not.toBe(o);
  });
});
