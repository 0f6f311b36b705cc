/**
 * The send buffer (src/tcp/send-buffer.ts): RFC 9293
 * 3.3.1 send sequence space (offset 0 = SND.UNA, ACKs release the front): every write
 * copied into pooled blocks, copies spanning blocks, blocks given back as the ACK passes
 * them, a ring of blocks that wraps and grows, checked against a plain byte-array model
 * with fast-check. (Received bytes go straight to the socket; the
 * receive window is TcpReceiver's, tested in rfc9293-window.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SendBuffer } from '../../../src/tcp/send-buffer.js';
import { BLOCK_BYTES, blockPoolStats, giveBlock, POOL_MAX_BLOCKS, pooledBlocks, takeBlock } from '../../../src/util/block-pool.js';

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

  it('copies every write: a change to the chunk after write() is not in what is sent', () => {
    const sb = new SendBuffer(1 << 20);
    const big = bytes(10_000, 4);
    const small = bytes(10, 5);
    sb.write(big);
    sb.write(small);
    big.fill(0x55);
    small.fill(0x66);
    expect(copyOut(sb, 0, 10_010)).toEqual([...bytes(10_000, 4), ...bytes(10, 5)]);
  });

  it('holds bytes in pooled blocks, every one full but the last: 3000 one-byte writes fill one block', () => {
    const sb = new SendBuffer(1 << 20);
    const want: number[] = [];
    for (let i = 0; i < 3000; i++) {
      sb.write(Uint8Array.of(i & 0xff));
      want.push(i & 0xff);
    }
    expect(sb.length).toBe(3000);
    expect(sb.blockCount).toBe(1);
    expect(copyOut(sb, 0, 3000)).toEqual(want);
    // Writes of any size pack the blocks: 100 + 3·BLOCK_BYTES + 1 bytes take 4 blocks.
    const sb2 = new SendBuffer(1 << 20);
    sb2.write(bytes(100, 1));
    sb2.write(bytes(3 * BLOCK_BYTES, 2));
    sb2.write(bytes(1, 3));
    expect(sb2.blockCount).toBe(4);
    expect(copyOut(sb2, 0, sb2.length)).toEqual([...bytes(100, 1), ...bytes(3 * BLOCK_BYTES, 2), ...bytes(1, 3)]);
  });

  it('blocks go back to the pool as the ACK passes them; all acknowledged: no block held; dispose() gives back the rest', () => {
    const sb = new SendBuffer(1 << 20);
    const pooled = pooledBlocks();
    sb.write(bytes(5 * BLOCK_BYTES + 10, 1)); // 6 blocks
    expect(sb.blockCount).toBe(6);
    const taken = pooled - pooledBlocks(); // blocks taken from the pool (the rest were new)
    sb.ack(BLOCK_BYTES - 1);
    expect(sb.blockCount).toBe(6); // one byte of the first block is still unacknowledged
    sb.ack(1 + BLOCK_BYTES + 5);
    expect(sb.blockCount).toBe(4);
    expect(pooledBlocks()).toBe(pooled - taken + 2);
    expect(copyOut(sb, 0, 3 * BLOCK_BYTES + 5)).toEqual([...bytes(5 * BLOCK_BYTES + 10, 1).subarray(2 * BLOCK_BYTES + 5)]);
    sb.ack(3 * BLOCK_BYTES + 5);
    expect(sb.length).toBe(0);
    expect(sb.blockCount).toBe(0); // the partly filled last block too
    expect(pooledBlocks()).toBe(pooled - taken + 6);
    // The next write starts a block of its own (offsets restart at a block boundary).
    sb.write(bytes(BLOCK_BYTES, 7));
    expect(sb.blockCount).toBe(1);
    expect(copyOut(sb, 0, BLOCK_BYTES)).toEqual([...bytes(BLOCK_BYTES, 7)]);
    sb.write(bytes(10, 8));
    const before = pooledBlocks();
    sb.dispose(); // data still held: the blocks go back, the buffer is empty
    expect(pooledBlocks()).toBe(before + 2);
    expect(sb.length).toBe(0);
    expect(sb.blockCount).toBe(0);
    // Another buffer takes those blocks; what it reads back is only what it wrote.
    const sb3 = new SendBuffer(1 << 20);
    sb3.write(bytes(50, 9));
    expect(copyOut(sb3, 0, 50)).toEqual([...bytes(50, 9)]);
    sb3.dispose();
    // giveBlock ignores what is not a whole pooled block.
    const p = pooledBlocks();
    giveBlock(new Uint8Array(new ArrayBuffer(2 * BLOCK_BYTES), 0, BLOCK_BYTES));
    giveBlock(new Uint8Array(100));
    expect(pooledBlocks()).toBe(p);
  });

  it('the pool keeps at most POOL_MAX_BLOCKS free blocks; it counts blocks made and blocks left to the GC', () => {
    const held: Array<Uint8Array<ArrayBuffer>> = [];
    const before = blockPoolStats();
    const free = pooledBlocks();
    for (let i = 0; i < POOL_MAX_BLOCKS + 10; i++) held.push(takeBlock());
    expect(pooledBlocks()).toBe(0);
    expect(blockPoolStats().created - before.created).toBe(POOL_MAX_BLOCKS + 10 - free);
    for (const b of held) giveBlock(b);
    expect(pooledBlocks()).toBe(POOL_MAX_BLOCKS);
    expect(blockPoolStats().dropped - before.dropped).toBe(10);
  });

  it('copyOut spans several blocks; ack releases from the front (offset 0 = SND.UNA)', () => {
    const sb = new SendBuffer(1 << 20);
    const parts = [bytes(3000, 1), bytes(5000, 2), bytes(7000, 3)];
    for (const p of parts) sb.write(p);
    const all = [...parts[0], ...parts[1], ...parts[2]];
    expect(copyOut(sb, 2000, 10_000)).toEqual(all.slice(2000, 12_000));
    sb.ack(2500);
    expect(sb.length).toBe(12_500);
    expect(copyOut(sb, 0, 12_500)).toEqual(all.slice(2500));
    sb.ack(5500);
    expect(copyOut(sb, 0, 7000)).toEqual(all.slice(8000));
    sb.ack(100_000); // clamped
    expect(sb.length).toBe(0);
    expect(sb.space).toBe(1 << 20);
    expect(sb.blockCount).toBe(0);
  });

  it('a ring of blocks that wraps and grows keeps offsets right (sequential and random copies)', () => {
    const sb = new SendBuffer(1 << 20);
    const all: number[] = [];
    let acked = 0;
    for (let i = 0; i < 100; i++) {
      const c = bytes(3000 + i, i);
      sb.write(c);
      all.push(...c);
      if (i % 3 === 2) {
        sb.ack(7000); // releases blocks from the front while the chain grows at the back
        acked += 7000;
      }
    }
    expect(sb.length).toBe(all.length - acked);
    expect(copyOut(sb, 0, sb.length)).toEqual(all.slice(acked));
    for (let off = 0; off + 5000 <= sb.length; off += 4999) {
      expect(copyOut(sb, off, 5000)).toEqual(all.slice(acked + off, acked + off + 5000));
    }
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

  it('property: any sequence of writes, acks and copies matches a byte-array model (blocks released and reused)', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('w' as const), n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 200, max: 9000 })) }),
      fc.record({ k: fc.constant('a' as const), n: fc.integer({ min: 0, max: 9000 }) }),
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
            c.fill(0xee); // the application reuses its buffer
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
          // Blocks held: none when empty, else those spanned by the bytes held (at most one more).
          expect(sb.blockCount).toBeLessThanOrEqual(model.length === 0 ? 0 : Math.ceil(model.length / BLOCK_BYTES) + 1);
        }
        if (model.length > 0) expect(copyOut(sb, 0, model.length)).toEqual(model);
      }),
      { numRuns: 200, seed: 0x5e9d },
    );
  });
});
