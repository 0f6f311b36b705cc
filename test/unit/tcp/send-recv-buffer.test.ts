/**
 * The send buffer (src/tcp/send-buffer.ts): RFC 9293
 * 3.3.1 send sequence space (offset 0 = SND.UNA, ACKs release the front) with zero-copy
 * chunks, small-write staging, copies spanning chunks and compaction, checked against a
 * plain byte-array model with fast-check. (Received bytes go straight to the socket; the
 * receive window is TcpReceiver's, tested in rfc9293-window.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SendBuffer, SMALL_WRITE, STAGE_BLOCK } from '../../../src/tcp/send-buffer.js';
import { BLOCK_BYTES, giveBlock, pooledBlocks } from '../../../src/util/block-pool.js';

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed * 13) & 0xff);

function copyOut(sb: SendBuffer, offset: number, len: number): number[] {
  const d = new Uint8Array(len + 4).fill(0xaa);
  sb.copyOut(offset, len, d, 2);
  expect(d[0]).toBe(0xaa);
  expect(d[len + 2]).toBe(0xaa); // nothing written outside [dstOff, dstOff+len)
  return [...d.subarray(2, 2 + len)];
}

describe('SendBuffer (RFC 9293 3.3.1 send sequence space)', () => {
  it('accepts up to capacity; a partial write takes the prefix of the chunk', () => {
    const sb = new SendBuffer(1000);
    expect(sb.write(bytes(600, 1))).toBe(600);
    expect(sb.length).toBe(600);
    expect(sb.space).toBe(400);
    const c = bytes(700, 2);
    expect(sb.write(c)).toBe(400);
    expect(sb.space).toBe(0);
    expect(sb.write(bytes(10, 3))).toBe(0);
    expect(copyOut(sb, 550, 100)).toEqual([...bytes(600, 1).subarray(550), ...c.subarray(0, 50)]);
    expect(copyOut(sb, 600, 400)).toEqual([...c.subarray(0, 400)]);
  });

  it('holds large chunks by reference (no copy): a later change to the chunk is visible', () => {
    const sb = new SendBuffer(10000);
    const c = bytes(1000, 4);
    sb.write(c);
    c[10] = 0x55;
    expect(copyOut(sb, 10, 1)).toEqual([0x55]);
    expect(sb.chunkCount).toBe(1);
  });

  it('small writes are staged and coalesced: 3000 one-byte writes make a handful of entries', () => {
    const sb = new SendBuffer(1 << 20);
    const want: number[] = [];
    for (let i = 0; i < 3000; i++) {
      sb.write(Uint8Array.of(i & 0xff));
      want.push(i & 0xff);
    }
    expect(sb.length).toBe(3000);
    expect(sb.chunkCount).toBe(Math.ceil(3000 / STAGE_BLOCK)); // one staging block
    expect(copyOut(sb, 0, 3000)).toEqual(want);
    // Small writes between large ones keep extending the staging block where contiguous.
    const sb2 = new SendBuffer(1 << 20);
    sb2.write(bytes(SMALL_WRITE - 1, 1));
    sb2.write(bytes(SMALL_WRITE, 2)); // by reference
    sb2.write(bytes(10, 3)); // staged after the first small write, new entry
    expect(sb2.chunkCount).toBe(3);
    expect(copyOut(sb2, 0, sb2.length)).toEqual([...bytes(SMALL_WRITE - 1, 1), ...bytes(SMALL_WRITE, 2), ...bytes(10, 3)]);
  });

  it('staging blocks are reused: refilled from the start once everything is ACKed, given back to the pool by dispose() only when empty', () => {
    const sb = new SendBuffer(1 << 20);
    sb.write(bytes(100, 1));
    sb.write(bytes(100, 2));
    expect(sb.chunkCount).toBe(1);
    sb.ack(200);
    // Everything ACKed: the next small writes start the same block again (one entry, right bytes).
    for (let i = 0; i < 40; i++) sb.write(bytes(100, 10 + i));
    expect(sb.chunkCount).toBe(1); // 4000 bytes fit in one block only if it restarted at 0
    expect(copyOut(sb, 3900, 100)).toEqual([...bytes(100, 49)]);
    const pooled = pooledBlocks();
    sb.dispose(); // data still held: nothing goes back
    expect(pooledBlocks()).toBe(pooled);
    expect(copyOut(sb, 0, 100)).toEqual([...bytes(100, 10)]);
    sb.ack(4000);
    sb.dispose();
    expect(pooledBlocks()).toBe(pooled + 1);
    // Another buffer takes that block; what it reads back is only what it wrote.
    const sb2 = new SendBuffer(1 << 20);
    sb2.write(bytes(50, 7));
    expect(pooledBlocks()).toBe(pooled);
    expect(copyOut(sb2, 0, 50)).toEqual([...bytes(50, 7)]);
    // giveBlock ignores what is not a whole pooled block.
    giveBlock(new Uint8Array(new ArrayBuffer(8192), 0, BLOCK_BYTES));
    giveBlock(new Uint8Array(100));
    expect(pooledBlocks()).toBe(pooled);
  });

  it('copyOut spans several chunks; ack releases from the front (offset 0 = SND.UNA)', () => {
    const sb = new SendBuffer(1 << 20);
    const parts = [bytes(300, 1), bytes(500, 2), bytes(700, 3)];
    for (const p of parts) sb.write(p);
    const all = [...parts[0]!, ...parts[1]!, ...parts[2]!];
    expect(copyOut(sb, 200, 1000)).toEqual(all.slice(200, 1200));
    sb.ack(250);
    expect(sb.length).toBe(1250);
    expect(copyOut(sb, 0, 1250)).toEqual(all.slice(250));
    sb.ack(550); // releases the first two chunks exactly
    expect(sb.chunkCount).toBe(1);
    expect(copyOut(sb, 0, 700)).toEqual(all.slice(800));
    sb.ack(10_000); // clamped
    expect(sb.length).toBe(0);
    expect(sb.space).toBe(1 << 20);
    expect(sb.chunkCount).toBe(0);
  });

  it('compaction after many released chunks keeps offsets right (sequential and random copies)', () => {
    const sb = new SendBuffer(1 << 20);
    const all: number[] = [];
    for (let i = 0; i < 100; i++) {
      const c = bytes(300, i);
      sb.write(c);
      all.push(...c);
    }
    expect(copyOut(sb, 17_950, 100)).toEqual(all.slice(17_950, 18_050)); // cursor near the end
    sb.ack(300 * 60 + 10); // 60 chunks released: compacted
    expect(sb.chunkCount).toBe(40);
    expect(copyOut(sb, 0, 290)).toEqual(all.slice(18_010, 18_300));
    for (let off = 0; off + 500 <= sb.length; off += 499) {
      expect(copyOut(sb, off, 500)).toEqual(all.slice(18_010 + off, 18_010 + off + 500));
    }
    expect(copyOut(sb, 5000, 1)).toEqual([all[23_010]]);
  });

  it('copyOut outside the data held throws RangeError (a caller bug)', () => {
    const sb = new SendBuffer(100);
    sb.write(bytes(50, 1));
    expect(() => sb.copyOut(40, 11, new Uint8Array(20), 0)).toThrow(RangeError);
    expect(() => sb.copyOut(-1, 1, new Uint8Array(20), 0)).toThrow(RangeError);
    expect(() => sb.copyOut(50, 0, new Uint8Array(20), 0)).not.toThrow();
  });

  it('lowering capacity below length only stops writes (space 0)', () => {
    const sb = new SendBuffer(1000);
    sb.write(bytes(800, 1));
    sb.capacity = 500;
    expect(sb.space).toBe(0);
    expect(sb.write(bytes(10, 1))).toBe(0);
    sb.ack(400);
    expect(sb.space).toBe(100);
  });

  it('property: any sequence of writes, acks and copies matches a byte-array model (compaction included)', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('w' as const), n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 200, max: 3000 })) }),
      fc.record({ k: fc.constant('a' as const), n: fc.integer({ min: 0, max: 4000 }) }),
      fc.record({ k: fc.constant('c' as const), off: fc.nat(), len: fc.integer({ min: 1, max: 5000 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20000 }), fc.array(op, { maxLength: 200 }), (cap, ops) => {
        const sb = new SendBuffer(cap);
        let model: number[] = [];
        let seed = 0;
        for (const o of ops) {
          if (o.k === 'w') {
            const c = bytes(o.n, seed++);
            const want = Math.min(o.n, cap - model.length);
            expect(sb.write(c)).toBe(want);
            model = model.concat([...c.subarray(0, want)]);
          } else if (o.k === 'a') {
            sb.ack(o.n);
            model = model.slice(Math.min(o.n, model.length));
          } else if (model.length > 0) {
            const off = o.off % model.length;
            const len = Math.min(o.len, model.length - off);
            expect(copyOut(sb, off, len)).toEqual(model.slice(off, off + len));
          }
          expect(sb.length).toBe(model.length);
          expect(sb.space).toBe(cap - model.length);
        }
        if (model.length > 0) expect(copyOut(sb, 0, model.length)).toEqual(model);
      }),
      { numRuns: 200, seed: 0x5e9d },
    );
  });
});
