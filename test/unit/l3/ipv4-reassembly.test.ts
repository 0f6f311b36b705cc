/**
 * Tests for src/l3/ipv4-reassembly.ts (RFC 791 3.2 reassembly, RFC 1122 3.3.2 timeout,
 * Linux/RFC 5722 overlap rule) and src/l3/ipv4-fragmenter.ts (RFC 791 3.2
 * fragmentation, option copy bit). Fragments are built by a local helper, checksums
 * are computed locally, time is a virtual clock.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { C, newCounters } from '../../../src/base/counters.js';
import { DEFAULT_REASSEMBLY_LIMITS, Ipv4Reassembler } from '../../../src/l3/ipv4-reassembly.js';
import { fragmentPlan, writeFragmentHeader } from '../../../src/l3/ipv4-fragmenter.js';

// ---------------------------------------------------------------------------------
// Local helpers (independent of src/)

function csum(b: Uint8Array, off: number, len: number): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) s += (b[off + i] << 8) | (i + 1 < len ? b[off + i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface DgOpts {
  id?: number;
  src?: number;
  dst?: number;
  proto?: number;
  df?: boolean;
  options?: number[];
  seed?: number;
  ttl?: number;
  tos?: number;
}

/** A complete IPv4 datagram (MF=0, offset 0) with a random payload and valid checksum. */
function datagram(payloadLen: number, o: DgOpts = {}): Uint8Array {
  const opts = o.options ?? [];
  expect(opts.length % 4).toBe(0);
  const hl = 20 + opts.length;
  const b = new Uint8Array(hl + payloadLen);
  const total = hl + payloadLen;
  const id = o.id ?? 0x1234;
  const src = o.src ?? 0x0a000001;
  const dst = o.dst ?? 0x0a000002;
  b[0] = 0x40 | (hl >>> 2);
  b[1] = o.tos ?? 0;
  b[2] = total >>> 8;
  b[3] = total & 0xff;
  b[4] = id >>> 8;
  b[5] = id & 0xff;
  b[6] = o.df ? 0x40 : 0;
  b[7] = 0;
  b[8] = o.ttl ?? 64;
  b[9] = o.proto ?? 17;
  b[12] = src >>> 24; b[13] = (src >>> 16) & 0xff; b[14] = (src >>> 8) & 0xff; b[15] = src & 0xff;
  b[16] = dst >>> 24; b[17] = (dst >>> 16) & 0xff; b[18] = (dst >>> 8) & 0xff; b[19] = dst & 0xff;
  b.set(opts, 20);
  const ck = csum(b, 0, hl);
  b[10] = ck >>> 8;
  b[11] = ck & 0xff;
  const r = rng(o.seed ?? 1);
  for (let i = hl; i < b.length; i++) b[i] = (r() * 256) | 0;
  return b;
}

/** One raw fragment: `hdr` (copied, fields patched) + payload bytes. */
function rawFragment(hdr: Uint8Array, payload: Uint8Array, offBytes: number, mf: boolean): Uint8Array {
  const hl = hdr.length;
  const f = new Uint8Array(hl + payload.length);
  f.set(hdr, 0);
  f.set(payload, hl);
  f[0] = 0x40 | (hl >>> 2);
  const total = f.length;
  f[2] = total >>> 8;
  f[3] = total & 0xff;
  const units = offBytes >>> 3;
  f[6] = (hdr[6] & 0x40) | (mf ? 0x20 : 0) | (units >>> 8);
  f[7] = units & 0xff;
  f[10] = 0;
  f[11] = 0;
  const ck = csum(f, 0, hl);
  f[10] = ck >>> 8;
  f[11] = ck & 0xff;
  return f;
}

/**
 * Fragments `d` for `mtu` (local implementation): the first fragment keeps all options,
 * the others get a bare 20-byte header.
 */
function fragments(d: Uint8Array, mtu: number): Uint8Array[] {
  const hl = (d[0] & 0x0f) * 4;
  const payload = d.subarray(hl);
  const out: Uint8Array[] = [];
  let o = 0;
  do {
    const h = o === 0 ? d.subarray(0, hl) : d.subarray(0, 20);
    const chunk = Math.floor((mtu - h.length) / 8) * 8;
    const n = Math.min(chunk, payload.length - o);
    out.push(rawFragment(h, payload.subarray(o, o + n), o, o + n < payload.length));
    o += n;
  } while (o < payload.length);
  return out;
}

/** Fragments `d` with the src/l3/ipv4-fragmenter.ts helpers. */
function fragmentWithHelpers(d: Uint8Array, mtu: number): Uint8Array[] {
  const hl = (d[0] & 0x0f) * 4;
  const payload = d.length - hl;
  const chunk = fragmentPlan(hl, payload, mtu);
  expect(chunk).toBeGreaterThan(0);
  const out: Uint8Array[] = [];
  for (let fo = 0; fo < payload; fo += chunk) {
    const n = Math.min(chunk, payload - fo);
    const buf = new Uint8Array(hl + n);
    const fh = writeFragmentHeader(d, 0, buf, 0, hl, fo, n, fo + n < payload);
    buf.set(d.subarray(hl + fo, hl + fo + n), fh);
    out.push(buf.slice(0, fh + n));
  }
  return out;
}

/** Byte equality with a cheap fast path (toEqual on 64 KiB arrays is slow). */
function expectSameBytes(got: Uint8Array | undefined, want: Uint8Array): void {
  expect(got).toBeDefined();
  if (!Buffer.from(got!.buffer, got!.byteOffset, got!.length).equals(Buffer.from(want.buffer, want.byteOffset, want.length))) {
    expect(got).toEqual(want);
  }
}

function feed(r: Ipv4Reassembler, f: Uint8Array, now = 0): number {
  return r.add(f, 0, f.length, now);
}

function outBytes(r: Ipv4Reassembler, n: number): Uint8Array {
  return r.out.slice(0, n);
}

// ---------------------------------------------------------------------------------

describe('Ipv4Reassembler basics', () => {
  it('reassembles fragments in order, byte-identical, and counts', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(4000, { df: false });
    const fs = fragments(d, 1500);
    expect(fs.map((f) => f.length)).toEqual([1500, 1500, 1060]);
    expect(feed(r, fs[0])).toBe(0);
    expect(feed(r, fs[1])).toBe(0);
    expect(r.pendingDatagrams).toBe(1);
    expect(r.bufferedBytes).toBeGreaterThanOrEqual(2960);
    expect(feed(r, fs[2])).toBe(4020);
    expect(outBytes(r, 4020)).toEqual(d);
    expect(c[C.ipv4_fragments_rx]).toBe(3);
    expect(c[C.ipv4_reassembled]).toBe(1);
    expect(r.pendingDatagrams).toBe(0);
    expect(r.bufferedBytes).toBe(0);
    expect(r.nextDeadline()).toBe(Infinity);
  });

  it('reassembles fragments in reverse order', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(10_000, { seed: 7 });
    const fs = fragments(d, 576).reverse();
    for (let i = 0; i < fs.length - 1; i++) expect(feed(r, fs[i])).toBe(0);
    expect(feed(r, fs[fs.length - 1])).toBe(d.length);
    expect(outBytes(r, d.length)).toEqual(d);
    expect(c[C.ipv4_reassembled]).toBe(1);
    expect(r.bufferedBytes).toBe(0);
  });

  it('writes a fresh header: MF=0, offset 0, DF kept, valid checksum', () => {
    const r = new Ipv4Reassembler(newCounters());
    const d = datagram(3000, { df: true, id: 0xbeef, ttl: 3, tos: 0x10 });
    const fs = fragments(d, 1000);
    // Shuffle so the completing fragment is not the first one.
    let n = 0;
    for (const f of [fs[1], fs[0], fs[3], fs[2]]) n = feed(r, f);
    expect(n).toBe(3020);
    const o = r.out;
    expect(o[6] & 0x20).toBe(0);
    expect(((o[6] & 0x1f) << 8) | o[7]).toBe(0);
    expect(o[6] & 0x40).toBe(0x40);
    expect((o[2] << 8) | o[3]).toBe(3020);
    expect(csum(o, 0, 20)).toBe(0);
    expect(outBytes(r, n)).toEqual(d);
  });

  it('ignores exact duplicates silently', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(3000);
    const fs = fragments(d, 1500);
    expect(feed(r, fs[0])).toBe(0);
    expect(feed(r, fs[0])).toBe(0);
    expect(feed(r, fs[2])).toBe(0);
    expect(feed(r, fs[2])).toBe(0);
    expect(feed(r, fs[1])).toBe(3020);
    expect(outBytes(r, 3020)).toEqual(d);
    expect(c[C.ipv4_fragments_rx]).toBe(5);
    expect(c[C.drop_reasm_overlap]).toBe(0);
    expect(c[C.ipv4_reassembled]).toBe(1);
  });

  it('treats an unfragmented datagram as a one-fragment datagram', () => {
    const r = new Ipv4Reassembler(newCounters());
    const d = datagram(100);
    expect(feed(r, d)).toBe(120);
    expect(outBytes(r, 120)).toEqual(d);
    expect(r.pendingDatagrams).toBe(0);
  });

  it('honours a non-zero offset into the input buffer', () => {
    const r = new Ipv4Reassembler(newCounters());
    const d = datagram(2000);
    const fs = fragments(d, 1500);
    let n = 0;
    for (const f of fs) {
      const big = new Uint8Array(f.length + 50).fill(0xee);
      big.set(f, 14);
      n = r.add(big, 14, f.length, 0);
    }
    expect(n).toBe(2020);
    expect(outBytes(r, n)).toEqual(d);
  });
});

describe('Ipv4Reassembler property', () => {
  const arb = fc
    .record({
      mtu: fc.integer({ min: 68, max: 9000 }),
      optWords: fc.integer({ min: 0, max: 10 }),
      seed: fc.integer(),
      df: fc.boolean(),
      id: fc.integer({ min: 0, max: 0xffff }),
    })
    .chain((a) => {
      const hl = 20 + a.optWords * 4;
      const maxPayload = 65535 - hl;
      return fc.record({
        a: fc.constant(a),
        plen: fc.integer({ min: 1, max: maxPayload }),
        permSeed: fc.integer(),
        dups: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 30 }),
      });
    });

  function build(a: { mtu: number; optWords: number; seed: number; df: boolean; id: number }, plen: number, permSeed: number) {
    const opts = Array.from({ length: a.optWords * 4 }, (_, i) => (i * 37 + 1) & 0xff);
    const d = datagram(plen, { seed: a.seed, df: a.df, id: a.id, options: opts });
    const fs = fragments(d, a.mtu);
    const r0 = rng(permSeed);
    const seq = fs.slice();
    for (let i = seq.length - 1; i > 0; i--) {
      const j = Math.floor(r0() * (i + 1));
      [seq[i], seq[j]] = [seq[j], seq[i]];
    }
    return { d, fs, seq, hl: 20 + a.optWords * 4 };
  }

  it('any datagram up to 65515 bytes, mtu 68..9000, permutation, duplicates -> exactly one identical datagram', () => {
    fc.assert(
      fc.property(arb, ({ a, plen, permSeed, dups }) => {
        const { d, seq, hl } = build(a, plen, permSeed);
        // Duplicates of fragments already sent, anywhere before the last new fragment.
        const last = seq.pop()!;
        for (const [which, where] of dups) {
          if (seq.length === 0) break;
          const pos = 1 + (where % seq.length); // after at least one fragment
          seq.splice(pos, 0, seq[which % pos]);
        }
        seq.push(last);
        const c = newCounters();
        const r = new Ipv4Reassembler(c);
        let completed = 0;
        let got: Uint8Array | undefined;
        for (const f of seq) {
          const n = feed(r, f);
          if (n > 0) {
            completed++;
            got = outBytes(r, n);
          }
        }
        expect(completed).toBe(1);
        expectSameBytes(got, d);
        expect(got![6] & 0x20).toBe(0);
        expect(((got![6] & 0x1f) << 8) | got![7]).toBe(0);
        expect(csum(got!, 0, hl)).toBe(0);
        expect(c[C.ipv4_fragments_rx]).toBe(seq.length);
        expect(c[C.ipv4_reassembled]).toBe(1);
        expect(c[C.drop_reasm_overlap]).toBe(0);
        expect(r.pendingDatagrams).toBe(0);
        expect(r.bufferedBytes).toBe(0);
      }),
      { numRuns: 60, seed: 0x5eed },
    );
  });

  it('duplicates anywhere (also after completion) match a reference model', () => {
    fc.assert(
      fc.property(arb, ({ a, plen, permSeed, dups }) => {
        const { d, fs, seq } = build(a, plen, permSeed);
        for (const [which, where] of dups) seq.splice(where % (seq.length + 1), 0, fs[which % fs.length]);
        // Model: a partial completes when all distinct fragments are in, then starts over.
        let expected = 0;
        let seen = new Set<Uint8Array>();
        for (const f of seq) {
          seen.add(f);
          if (seen.size === fs.length) {
            expected++;
            seen = new Set();
          }
        }
        const r = new Ipv4Reassembler(newCounters());
        let completed = 0;
        for (const f of seq) {
          const n = feed(r, f);
          if (n > 0) {
            completed++;
            expectSameBytes(outBytes(r, n), d);
          }
        }
        expect(completed).toBe(expected);
        expect(r.pendingDatagrams).toBe(seen.size > 0 ? 1 : 0);
      }),
      { numRuns: 40, seed: 0xd0b },
    );
  });
});

describe('Ipv4Reassembler overlaps', () => {
  it('drops the datagram on a partial overlap; no bogus resurrection; a fresh set works', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(4000);
    const [a, b, cc] = fragments(d, 1500) as [Uint8Array, Uint8Array, Uint8Array];
    expect(feed(r, a)).toBe(0);
    expect(feed(r, b)).toBe(0);
    // Garbage overlapping the end of b and the start of c: offset 2952, 16 bytes, MF=1.
    const bogus = rawFragment(d.subarray(0, 20), new Uint8Array(16).fill(0x66), 2952, true);
    expect(feed(r, bogus)).toBe(0);
    expect(c[C.drop_reasm_overlap]).toBe(1);
    expect(r.pendingDatagrams).toBe(0);
    expect(r.bufferedBytes).toBe(0);
    // The rest of the old set does not complete anything.
    expect(feed(r, cc)).toBe(0);
    expect(r.pendingDatagrams).toBe(1);
    // A full fresh set reassembles exactly once, byte-identical.
    const res = [a, b, cc].map((f) => feed(r, f));
    expect(res).toEqual([0, 4020, 0]);
    expect(c[C.ipv4_reassembled]).toBe(1);
    expect(c[C.drop_reasm_overlap]).toBe(1);
  });

  it('returns the original bytes, never the overlapping data', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(2000);
    const [a, b] = fragments(d, 1500) as [Uint8Array, Uint8Array];
    // A fragment inside a (not an exact duplicate) is an overlap: we are stricter than Linux.
    const inner = rawFragment(d.subarray(0, 20), new Uint8Array(8).fill(0x77), 8, true);
    expect(feed(r, a)).toBe(0);
    expect(feed(r, inner)).toBe(0);
    expect(c[C.drop_reasm_overlap]).toBe(1);
    expect(feed(r, b)).toBe(0); // a was dropped with the datagram
    expect(feed(r, a)).toBe(2020);
    expect(outBytes(r, 2020)).toEqual(d);
  });

  it('drops on a second last fragment with a different end', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(3000);
    const fs = fragments(d, 1500);
    expect(feed(r, fs[2])).toBe(0); // last: end 3000
    const otherLast = rawFragment(d.subarray(0, 20), new Uint8Array(16), 4000, false);
    expect(feed(r, otherLast)).toBe(0);
    expect(c[C.drop_reasm_overlap]).toBe(1);
    expect(r.pendingDatagrams).toBe(0);
  });

  it('drops on data beyond a known end, and on a last fragment ending before received data', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(3000);
    const fs = fragments(d, 1500);
    expect(feed(r, fs[2])).toBe(0); // end 3000
    expect(feed(r, rawFragment(d.subarray(0, 20), new Uint8Array(8), 3000, true))).toBe(0);
    expect(c[C.drop_reasm_overlap]).toBe(1);
    expect(feed(r, fs[1])).toBe(0); // [1480, 2960)
    expect(feed(r, rawFragment(d.subarray(0, 20), new Uint8Array(4), 16, false))).toBe(0);
    expect(c[C.drop_reasm_overlap]).toBe(2);
    expect(r.pendingDatagrams).toBe(0);
  });
});

describe('Ipv4Reassembler size and geometry', () => {
  it('drops a fragment that would exceed 65535 bytes (offset*8 + total length > 65535)', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const h = datagram(0).subarray(0, 20);
    // 8189*8 = 65512; 20 + 65512 + 4 = 65536
    expect(feed(r, rawFragment(h, new Uint8Array(4), 65512, false))).toBe(0);
    expect(c[C.drop_reasm_oversize]).toBe(1);
    expect(r.pendingDatagrams).toBe(0);
    // Exactly 65535 is fine.
    expect(feed(r, rawFragment(h, new Uint8Array(3), 65512, false))).toBe(0);
    expect(r.pendingDatagrams).toBe(1);
    expect(c[C.drop_reasm_oversize]).toBe(1);
  });

  it('drops the whole partial datagram on an oversize fragment', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(3000);
    const fs = fragments(d, 1500);
    feed(r, fs[0]);
    expect(r.pendingDatagrams).toBe(1);
    expect(feed(r, rawFragment(d.subarray(0, 20), new Uint8Array(1480), 64_512, true))).toBe(0);
    expect(c[C.drop_reasm_oversize]).toBe(1);
    expect(r.pendingDatagrams).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  });

  it('rechecks the size with the first fragment\'s real header length', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const h = datagram(0).subarray(0, 20);
    // Last fragment ends at 65512: fits with a 20-byte header (65532)...
    expect(feed(r, rawFragment(h, new Uint8Array(8), 65504, false))).toBe(0);
    expect(r.pendingDatagrams).toBe(1);
    // ...but not with the first fragment's 40-byte header (65552).
    const d40 = datagram(8, { options: new Array(20).fill(1) });
    const first = rawFragment(d40.subarray(0, 40), new Uint8Array(8), 0, true);
    expect(feed(r, first)).toBe(0);
    expect(c[C.drop_reasm_oversize]).toBe(1);
    expect(r.pendingDatagrams).toBe(0);
  });

  it('drops a non-final fragment whose length is not a multiple of 8 (counted as oversize)', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(3000);
    const fs = fragments(d, 1500);
    expect(feed(r, fs[0])).toBe(0);
    const bad = rawFragment(d.subarray(0, 20), d.subarray(20 + 1480, 20 + 1580), 1480, true); // 100 bytes
    expect(feed(r, bad)).toBe(0);
    expect(c[C.drop_reasm_oversize]).toBe(1);
    expect(c[C.drop_reasm_overlap]).toBe(0);
    expect(r.pendingDatagrams).toBe(0);
    expect(feed(r, fs[1])).toBe(0);
    expect(feed(r, fs[2])).toBe(0);
    expect(feed(r, fs[0])).toBe(3020);
    expect(outBytes(r, 3020)).toEqual(d);
  });

  it('drops an empty fragment', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(3000);
    feed(r, fragments(d, 1500)[0]);
    expect(feed(r, rawFragment(d.subarray(0, 20), new Uint8Array(0), 1480, true))).toBe(0);
    expect(c[C.drop_reasm_oversize]).toBe(1);
    expect(r.pendingDatagrams).toBe(0);
  });

  it('never throws on malformed input; drops and counts', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(100);
    expect(r.add(d, 0, d.length + 1, 0)).toBe(0); // beyond the buffer
    expect(r.add(d, 0, 10, 0)).toBe(0); // shorter than a header
    expect(r.add(d, -1, 20, 0)).toBe(0);
    expect(r.add(d, 0, Number.NaN, 0)).toBe(0);
    expect(c[C.drop_ipv4_total_length]).toBe(4);
    const bad = d.slice();
    bad[0] = 0x44; // IHL 16 bytes
    expect(r.add(bad, 0, bad.length, 0)).toBe(0);
    bad[0] = 0x4f; // IHL 60 > total length 40
    expect(r.add(bad, 0, 40, 0)).toBe(0);
    expect(c[C.drop_ipv4_ihl]).toBe(2);
    expect(r.pendingDatagrams).toBe(0);
    // Random garbage: no throw, state stays bounded.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.nat(300), (bytes, l) => {
        const n = r.add(bytes, 0, l, 0);
        expect(n).toBeGreaterThanOrEqual(0);
        expect(r.pendingDatagrams).toBeLessThanOrEqual(DEFAULT_REASSEMBLY_LIMITS.maxDatagrams);
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});

describe('Ipv4Reassembler timeout (virtual clock)', () => {
  it('expires a partial datagram 30 s after its first fragment', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const d = datagram(4000);
    const fs = fragments(d, 1500);
    expect(r.nextDeadline()).toBe(Infinity);
    expect(feed(r, fs[0], 0)).toBe(0);
    expect(r.nextDeadline()).toBe(30_000);
    expect(feed(r, fs[1], 29_999)).toBe(0); // does not restart the timer
    expect(r.nextDeadline()).toBe(30_000);
    r.poll(29_999);
    expect(r.pendingDatagrams).toBe(1);
    expect(c[C.drop_reasm_timeout]).toBe(0);
    r.poll(30_000);
    expect(r.pendingDatagrams).toBe(0);
    expect(r.bufferedBytes).toBe(0);
    expect(c[C.drop_reasm_timeout]).toBe(1);
    expect(r.nextDeadline()).toBe(Infinity);
    // The last fragment now starts a new partial datagram; nothing completes.
    expect(feed(r, fs[2], 30_001)).toBe(0);
    expect(r.nextDeadline()).toBe(60_001);
  });

  it('orders deadlines by first arrival and expires via add() too', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c, { timeoutMs: 1000 });
    const d1 = datagram(3000, { id: 1 });
    const d2 = datagram(3000, { id: 2 });
    const f1 = fragments(d1, 1500);
    const f2 = fragments(d2, 1500);
    feed(r, f1[0], 100);
    feed(r, f2[0], 500);
    expect(r.nextDeadline()).toBe(1100);
    r.poll(1100);
    expect(r.nextDeadline()).toBe(1500);
    expect(c[C.drop_reasm_timeout]).toBe(1);
    // add() at/after the deadline expires d2 first, so its fragments do not complete it.
    expect(feed(r, f2[1], 1500)).toBe(0);
    expect(feed(r, f2[2], 1500)).toBe(0);
    expect(c[C.drop_reasm_timeout]).toBe(2);
    expect(feed(r, f2[0], 1600)).toBe(3020);
    expect(outBytes(r, 3020)).toEqual(d2);
  });

  it('treats a clock going backwards (or NaN) as standing still', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    feed(r, fragments(datagram(3000, { id: 1 }), 1500)[0], 1000);
    feed(r, fragments(datagram(3000, { id: 2 }), 1500)[0], 10); // earlier than 1000
    expect(r.nextDeadline()).toBe(31_000);
    r.poll(Number.NaN);
    r.poll(30_999);
    expect(r.pendingDatagrams).toBe(2);
    r.poll(31_000);
    expect(r.pendingDatagrams).toBe(0);
    expect(c[C.drop_reasm_timeout]).toBe(2);
  });
});

describe('Ipv4Reassembler bounds', () => {
  it('evicts the oldest partial datagram when maxDatagrams are pending', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c, { maxDatagrams: 3 });
    const ds = [1, 2, 3, 4].map((id) => datagram(3000, { id, seed: id }));
    const fs = ds.map((d) => fragments(d, 1500));
    for (let i = 0; i < 4; i++) expect(feed(r, fs[i][0], i)).toBe(0);
    expect(r.pendingDatagrams).toBe(3);
    expect(c[C.drop_reasm_too_many]).toBe(1);
    // id 1 was evicted: its remaining fragments start a new partial (evicting id 2).
    expect(feed(r, fs[0][1], 10)).toBe(0);
    expect(feed(r, fs[0][2], 10)).toBe(0);
    expect(c[C.drop_reasm_too_many]).toBe(2);
    // id 3 and 4 are intact.
    expect(feed(r, fs[2][1], 11)).toBe(0);
    expect(feed(r, fs[2][2], 11)).toBe(3020);
    expect(outBytes(r, 3020)).toEqual(ds[2]);
    expect(feed(r, fs[3][2], 12)).toBe(0);
    expect(feed(r, fs[3][1], 12)).toBe(3020);
    expect(outBytes(r, 3020)).toEqual(ds[3]);
    expect(r.pendingDatagrams).toBe(1);
  });

  it('evicts the oldest partial datagrams when buffered memory would exceed the cap', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c, { maxMemoryBytes: 4000 });
    const ds = [1, 2, 3].map((id) => datagram(3000, { id, seed: id }));
    const fs = ds.map((d) => fragments(d, 1500));
    feed(r, fs[0][0], 0);
    feed(r, fs[1][0], 1);
    expect(r.bufferedBytes).toBe(2960);
    feed(r, fs[2][0], 2); // 4440 > 4000: evict id 1
    expect(c[C.drop_reasm_memory]).toBe(1);
    expect(r.pendingDatagrams).toBe(2);
    expect(r.bufferedBytes).toBe(2960);
    expect(r.bufferedBytes).toBeLessThanOrEqual(4000);
    // Growing id 3 to 3000 bytes needs 1520 more: evicts id 2.
    expect(feed(r, fs[2][2], 3)).toBe(0);
    expect(feed(r, fs[2][1], 3)).toBe(3020);
    expect(outBytes(r, 3020)).toEqual(ds[2]);
    expect(c[C.drop_reasm_memory]).toBe(2);
    expect(r.pendingDatagrams).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  });

  it('drops a datagram that cannot fit on its own', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c, { maxMemoryBytes: 1000 });
    const d = datagram(3000);
    expect(feed(r, fragments(d, 1500)[0])).toBe(0);
    expect(c[C.drop_reasm_memory]).toBe(1);
    expect(r.pendingDatagrams).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  });

  it('keeps buffered memory under the cap for sparse fragments', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c, { maxMemoryBytes: 100_000 });
    const h = datagram(0).subarray(0, 20);
    // One 8-byte fragment near 64 KiB per id: each forces a ~64 KiB buffer.
    for (let id = 0; id < 5; id++) {
      const hh = h.slice();
      hh[4] = 0;
      hh[5] = id;
      feed(r, rawFragment(hh, new Uint8Array(8), 65_000, true), id);
      expect(r.bufferedBytes).toBeLessThanOrEqual(100_000);
    }
    expect(r.pendingDatagrams).toBe(1);
    expect(c[C.drop_reasm_memory]).toBe(4);
  });

  it('reassembles interleaved datagrams with different ids, sources and protocols', () => {
    const c = newCounters();
    const r = new Ipv4Reassembler(c);
    const ds = [
      datagram(5000, { id: 7, src: 0x0a000001, seed: 1 }),
      datagram(5000, { id: 7, src: 0x0a000003, seed: 2 }), // same id, other source
      datagram(5000, { id: 7, src: 0x0a000001, proto: 6, seed: 3 }), // same id, other protocol
      datagram(4000, { id: 8, src: 0x0a000001, seed: 4 }),
      datagram(4000, { id: 7, src: 0x0a000001, dst: 0x0a000009, seed: 5 }), // other destination
    ];
    const fs = ds.map((d) => fragments(d, 1500));
    const got = new Map<number, Uint8Array>();
    for (let k = 0; k < 4; k++) {
      for (let i = 0; i < ds.length; i++) {
        const list = fs[i];
        if (k >= list.length) continue;
        const f = list[list.length - 1 - k]; // each in reverse, interleaved
        const n = feed(r, f);
        if (n > 0) got.set(i, outBytes(r, n));
      }
    }
    expect(got.size).toBe(5);
    for (let i = 0; i < ds.length; i++) expect(got.get(i)).toEqual(ds[i]);
    expect(c[C.ipv4_reassembled]).toBe(5);
    expect(r.pendingDatagrams).toBe(0);
  });

  it('keeps the options of the first fragment', () => {
    const r = new Ipv4Reassembler(newCounters());
    // Record route (not copied), NOP, LSRR (copied), EOL.
    const options = [0x07, 7, 4, 0, 0, 0, 0, 0x01, 0x83, 7, 4, 1, 2, 3, 4, 0x00];
    const d = datagram(3000, { options });
    const fs = fragments(d, 1000);
    expect((fs[0][0] & 0x0f) * 4).toBe(36);
    expect((fs[1][0] & 0x0f) * 4).toBe(20);
    let n = 0;
    for (const f of fs.slice().reverse()) n = feed(r, f);
    expect(n).toBe(3036);
    expect(outBytes(r, n)).toEqual(d);
    expect(csum(r.out, 0, 36)).toBe(0);
  });
});

describe('fragmenter', () => {
  it('plans payload per non-final fragment', () => {
    expect(fragmentPlan(20, 4000, 1500)).toBe(1480);
    expect(fragmentPlan(20, 4000, 576)).toBe(552);
    expect(fragmentPlan(20, 4000, 68)).toBe(48);
    expect(fragmentPlan(24, 4000, 1500)).toBe(1472);
    expect(fragmentPlan(60, 4000, 68)).toBe(8);
    expect(fragmentPlan(60, 4000, 67)).toBe(0); // cannot fragment
    expect(fragmentPlan(20, 1480, 1500)).toBe(1480); // fits
    expect(fragmentPlan(20, 100, 1500)).toBe(100); // fits: one piece
  });

  it('writes fragment headers: lengths, flags, offset, ID, checksum', () => {
    const d = datagram(4000, { id: 0xabcd, df: false, ttl: 9, tos: 0x28 });
    const hdrs = [0, 1480, 2960].map((fo, i) => {
      const n = i < 2 ? 1480 : 1040;
      const buf = new Uint8Array(60).fill(0xcc);
      const hl = writeFragmentHeader(d, 0, buf, 0, 20, fo, n, i < 2);
      expect(hl).toBe(20);
      return buf.subarray(0, 20);
    });
    for (const [i, h] of hdrs.entries()) {
      expect(h[0]).toBe(0x45);
      expect(h[1]).toBe(0x28);
      expect((h[2] << 8) | h[3]).toBe(i < 2 ? 1500 : 1060);
      expect((h[4] << 8) | h[5]).toBe(0xabcd);
      expect(h[6] & 0x20).toBe(i < 2 ? 0x20 : 0);
      expect(((h[6] & 0x1f) << 8) | h[7]).toBe((i * 1480) / 8);
      expect(h[8]).toBe(9);
      expect(h[9]).toBe(17);
      expect(Array.from(h.subarray(12, 20))).toEqual(Array.from(d.subarray(12, 20)));
      expect(csum(h, 0, 20)).toBe(0);
    }
  });

  it('keeps DF, and an original MF and offset when refragmenting a fragment', () => {
    const d = datagram(3000, { df: true });
    d[6] = 0x40 | 0x20; // DF + MF
    d[7] = 100; // offset 800 bytes
    const buf = new Uint8Array(20);
    writeFragmentHeader(d, 0, buf, 0, 20, 1480, 1520, false);
    expect(buf[6] & 0x40).toBe(0x40);
    expect(buf[6] & 0x20).toBe(0x20); // original MF kept on the last piece
    expect(((buf[6] & 0x1f) << 8) | buf[7]).toBe(100 + 185);
    expect(csum(buf, 0, 20)).toBe(0);
    d[6] = 0; // not a fragment: last piece gets MF=0
    d[7] = 0;
    writeFragmentHeader(d, 0, buf, 0, 20, 1480, 1520, false);
    expect(buf[6]).toBe(0);
    expect(buf[7]).toBe(185);
  });

  it('copies only copy-bit options into non-first fragments, padded with EOL', () => {
    // RR (0x07, not copied) 7 bytes, NOP, LSRR (0x83, copied) 7 bytes, EOL: 16 bytes.
    const options = [0x07, 7, 4, 9, 9, 9, 9, 0x01, 0x83, 7, 4, 1, 2, 3, 4, 0x00];
    const d = datagram(2000, { options });
    const first = new Uint8Array(60);
    expect(writeFragmentHeader(d, 0, first, 0, 36, 0, 1000, true)).toBe(36);
    expect(first[0]).toBe(0x49);
    expect(Array.from(first.subarray(20, 36))).toEqual(options);
    expect((first[2] << 8) | first[3]).toBe(1036);
    expect(csum(first, 0, 36)).toBe(0);

    const later = new Uint8Array(60).fill(0xcc);
    expect(writeFragmentHeader(d, 0, later, 0, 36, 1000, 1000, false)).toBe(28);
    expect(later[0]).toBe(0x47);
    expect(Array.from(later.subarray(20, 28))).toEqual([0x83, 7, 4, 1, 2, 3, 4, 0x00]);
    expect((later[2] << 8) | later[3]).toBe(1028);
    expect(csum(later, 0, 28)).toBe(0);

    // Two copied options (security 0x82 len 4 and LSRR) pack back to back.
    const opts2 = [0x82, 4, 0xaa, 0xbb, 0x44, 8, 5, 0, 0, 0, 0, 0, 0x83, 7, 4, 1, 2, 3, 4, 0x00];
    const d2 = datagram(100, { options: opts2 });
    const l2 = new Uint8Array(60);
    expect(writeFragmentHeader(d2, 0, l2, 0, 40, 8, 8, true)).toBe(32);
    expect(Array.from(l2.subarray(20, 32))).toEqual([0x82, 4, 0xaa, 0xbb, 0x83, 7, 4, 1, 2, 3, 4, 0]);

    // No copied options: a bare 20-byte header.
    const d3 = datagram(100, { options: [0x07, 7, 4, 0, 0, 0, 0, 0x00] });
    const l3 = new Uint8Array(60);
    expect(writeFragmentHeader(d3, 0, l3, 0, 28, 8, 8, true)).toBe(20);
    expect(l3[0]).toBe(0x45);

    // Malformed option length: copying stops there, no throw.
    const d4 = datagram(100, { options: [0x83, 1, 0, 0] });
    const l4 = new Uint8Array(60);
    expect(writeFragmentHeader(d4, 0, l4, 0, 24, 8, 8, true)).toBe(20);
  });

  it('round trip: fragmenter helpers -> reassembler gives the original back', () => {
    const options = [0x07, 7, 4, 9, 9, 9, 9, 0x01, 0x83, 7, 4, 1, 2, 3, 4, 0x00];
    fc.assert(
      fc.property(
        fc.integer({ min: 68, max: 9000 }),
        fc.integer({ min: 1, max: 65535 - 36 }),
        fc.boolean(),
        fc.integer(),
        (mtu, plen, withOpts, seed) => {
          const d = datagram(plen, { options: withOpts ? options : [], seed, df: false });
          const fs = fragmentWithHelpers(d, mtu);
          for (const f of fs) expect(f.length).toBeLessThanOrEqual(mtu);
          const r0 = rng(seed);
          for (let i = fs.length - 1; i > 0; i--) {
            const j = Math.floor(r0() * (i + 1));
            [fs[i], fs[j]] = [fs[j], fs[i]];
          }
          const r = new Ipv4Reassembler(newCounters());
          let completed = 0;
          for (const f of fs) {
            const n = feed(r, f);
            if (n > 0) {
              completed++;
              expectSameBytes(outBytes(r, n), d);
            }
          }
          expect(completed).toBe(1);
        },
      ),
      { numRuns: 60, seed: 0xf7a9 },
    );
  });
});
