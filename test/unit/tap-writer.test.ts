/**
 * TapWriter: the worker's direct transmit path. A fake addon records what would have
 * been written to the TAP, so layout (virtio-net header in front of an aligned frame),
 * batching bounds and error accounting are checked byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { TapWriter } from '../../src/dataplane/tap-writer.js';
import { C, allocateCounterBlocks, counterBlock } from '../../src/base/counters.js';
import type { TapAddon } from '../../src/phy/tap.js';
import { TX_VNET_FRAME } from '../../src/dataplane/record-kind.js';

interface FakeTap {
  addon: TapAddon;
  writes: Uint8Array[];
  calls: number;
  /** Per call: how many frames to accept before EAGAIN (undefined: all). */
  acceptPlan: number[];
  /** Frame indexes (across all writes) that fail with EIO. */
  failing: Set<number>;
}

function fakeTap(): FakeTap {
  const t: FakeTap = { addon: {} as TapAddon, writes: [], calls: 0, acceptPlan: [], failing: new Set() };
  let seen = 0;
  t.addon = {
    writeBatch(fd: number, buf: Uint8Array, offsets: Int32Array, lens: Int32Array, first: number, count: number, vnet: Uint8Array | null, errors: Int32Array) {
      expect(fd).toBe(42);
      expect(vnet).toBeNull();
      t.calls++;
      const accept = t.acceptPlan.length > 0 ? t.acceptPlan.shift()! : count;
      let done = 0;
      for (let i = first; i < first + count && done < accept; i++, done++) {
        if (t.failing.has(seen++)) {
          errors[0]!++;
          errors[1] = 5;
          continue;
        }
        t.writes.push(buf.slice(offsets[i]!, offsets[i]! + lens[i]!));
      }
      return done;
    },
  } as unknown as TapAddon;
  return t;
}

function counters() {
  return counterBlock(allocateCounterBlocks(1), 0);
}

function stage(w: TapWriter, bytes: number[], fill: number): number {
  const o = w.reserve(bytes.length + 100);
  expect(o).toBeGreaterThanOrEqual(0);
  w.buf.set(bytes.map((b) => b ^ fill), o);
  w.commit(bytes.length);
  return o;
}

describe('TapWriter', () => {
  it('writes plain frames as staged, 16-byte aligned, and counts them', () => {
    const t = fakeTap();
    const c = counters();
    const w = new TapWriter(t.addon, 42, false, c, null, 4096);
    const o1 = stage(w, [1, 2, 3], 0);
    const o2 = stage(w, [4, 5, 6, 7, 8], 0);
    expect(o1 % 16).toBe(0);
    expect(o2 % 16).toBe(0);
    expect(t.writes).toHaveLength(0);
    expect(w.pending).toBe(2);
    expect(w.flush()).toBe(2);
    expect(t.writes.map((b) => [...b])).toEqual([[1, 2, 3], [4, 5, 6, 7, 8]]);
    expect(c[C.tap_tx_frames]).toBe(2);
    expect(c[C.tap_tx_bytes]).toBe(8);
    expect(c[C.tap_write_batches]).toBe(1);
    expect(w.pending).toBe(0);
  });

  it('virtio-net mode: a zeroed 10-byte header precedes each frame, offload() fills it little-endian', () => {
    const t = fakeTap();
    const c = counters();
    const w = new TapWriter(t.addon, 42, true, c, null, 4096);
    const o = w.reserve(100);
    expect(o % 16).toBe(0);
    expect(o).toBe(TX_VNET_FRAME);
    w.buf.fill(0xee, o - 10, o); // stale bytes from an earlier frame must not leak
    w.reserve(100); // re-reserve the same slot (an abandoned reserve leaves nothing behind)
    w.buf.set([9, 9, 9], o);
    w.offload(1, 1, 0x0136, 0x05a8, 34, 16);
    w.commit(3);
    const o2 = w.reserve(50);
    w.buf.set([7], o2);
    w.commit(1);
    w.flush();
    expect([...t.writes[0]!]).toEqual([1, 1, 0x36, 0x01, 0xa8, 0x05, 34, 0, 16, 0, 9, 9, 9]);
    expect([...t.writes[1]!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
    // Byte counters count the Ethernet frame, not the virtio-net header.
    expect(c[C.tap_tx_bytes]).toBe(4);
  });

  it('bounded: a full staging area or 64 staged frames are written before the next reserve', () => {
    const t = fakeTap();
    const w = new TapWriter(t.addon, 42, false, counters(), null, 1024);
    for (let i = 0; i < 5; i++) stage(w, new Array(200).fill(i), 0);
    // 5 × 208 B + 100 B slack does not fit in 1 KiB: the first four went out on the fifth reserve.
    expect(t.writes).toHaveLength(4);
    expect(w.pending).toBe(1);
    const t2 = fakeTap();
    const w2 = new TapWriter(t2.addon, 42, false, counters(), null, 1 << 20);
    for (let i = 0; i < 65; i++) stage(w2, [i], 0);
    expect(t2.writes).toHaveLength(64);
    expect(w2.pending).toBe(1);
  });

  it('a frame larger than the staging area is dropped and counted, not thrown', () => {
    const t = fakeTap();
    const c = counters();
    const w = new TapWriter(t.addon, 42, false, c, null, 512);
    expect(w.reserve(1000)).toBe(-1);
    expect(c[C.drop_tx_ring_full]).toBe(1);
  });

  it('write errors and a full kernel queue (EAGAIN) are counted as drops', () => {
    const t = fakeTap();
    const c = counters();
    const w = new TapWriter(t.addon, 42, false, c, null, 1 << 16);
    for (let i = 0; i < 6; i++) stage(w, [i], 0);
    t.failing.add(1);
    t.acceptPlan = [3, 0]; // three frames, then EAGAIN on the rest
    expect(w.flush()).toBe(3);
    expect(t.writes.map((b) => b[0])).toEqual([0, 2]);
    expect(c[C.tap_tx_frames]).toBe(2);
    expect(c[C.drop_tap_write_error]).toBe(1 + 3);
    expect(w.pending).toBe(0);
    // Retries a short batch: 2 accepted, then the remaining 2 on the next call.
    for (let i = 0; i < 4; i++) stage(w, [10 + i], 0);
    t.acceptPlan = [2];
    expect(w.flush()).toBe(4);
    expect(t.writes.map((b) => b[0])).toEqual([0, 2, 10, 11, 12, 13]);
    expect(t.calls).toBe(4);
  });
});
