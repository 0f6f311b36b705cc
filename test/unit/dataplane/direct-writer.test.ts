/**
 * DirectWriter: a shard worker's own transmit path. Frames staged 16-byte aligned go to
 * the device in order with the offload the core asked for; staging is bounded; refused
 * and failed frames are counted as drops, never thrown; latency and byte counters.
 */
import { describe, expect, it } from 'vitest';
import { DirectWriter } from '../../../src/dataplane/direct-writer.js';
import { C, allocateCounterBlocks, counterBlock } from '../../../src/base/counters.js';
import { TxOffload } from '../../../src/base/link.js';
import { RecordingDevice } from '../../helpers/recording-device.js';

function counters() {
  return counterBlock(allocateCounterBlocks(1), 0);
}

function stage(w: DirectWriter, bytes: number[], offload: TxOffload | null = null): number {
  const o = w.reserve(bytes.length + 100);
  expect(o).toBeGreaterThanOrEqual(0);
  w.buf.set(bytes, o);
  w.commit(bytes.length, offload);
  return o;
}

describe('DirectWriter', () => {
  it('transmits staged frames in order, 16-byte aligned, and counts them', () => {
    const d = new RecordingDevice();
    const c = counters();
    const w = new DirectWriter(d, c, null, 4096);
    const o1 = stage(w, [1, 2, 3]);
    const o2 = stage(w, [4, 5, 6, 7, 8]);
    expect(o1 % 16).toBe(0);
    expect(o2 % 16).toBe(0);
    expect(d.sent).toHaveLength(0);
    expect(w.pending).toBe(2);
    expect(w.flush()).toBe(2);
    expect(d.sent.map((f) => [...f.bytes])).toEqual([[1, 2, 3], [4, 5, 6, 7, 8]]);
    expect(c[C.tap_tx_frames]).toBe(2);
    expect(c[C.tap_tx_bytes]).toBe(8);
    expect(c[C.tap_write_batches]).toBe(1);
    expect(w.pending).toBe(0);
  });

  it('passes each frame\'s offload request to the device; none for a frame that asked none', () => {
    const d = new RecordingDevice({ txChecksum: true, tsoMaxPayload: 65_000 });
    const w = new DirectWriter(d, counters(), null, 4096);
    const t = new TxOffload();
    t.csumStart = 34;
    t.csumOffset = 16;
    t.segSize = 1448;
    t.hdrLen = 66;
    w.reserve(100); // an abandoned reserve leaves nothing behind
    stage(w, [9, 9, 9], t);
    t.clear(); // the writer copied the request at commit
    stage(w, [7]);
    w.flush();
    expect(d.sent.map((f) => [f.csumStart, f.csumOffset, f.segSize, f.hdrLen, ...f.bytes])).toEqual([
      [34, 16, 1448, 66, 9, 9, 9],
      [-1, 0, 0, 0, 7],
    ]);
  });

  it('bounded: a full staging area or 64 staged frames are transmitted before the next reserve', () => {
    const d = new RecordingDevice();
    const w = new DirectWriter(d, counters(), null, 1024);
    for (let i = 0; i < 5; i++) stage(w, new Array<number>(200).fill(i));
    // 5 × 208 B + 100 B slack does not fit in 1 KiB: the first four went out on the fifth reserve.
    expect(d.sent).toHaveLength(4);
    expect(w.pending).toBe(1);
    const d2 = new RecordingDevice();
    const w2 = new DirectWriter(d2, counters(), null, 1 << 20);
    for (let i = 0; i < 65; i++) stage(w2, [i]);
    expect(d2.sent).toHaveLength(64);
    expect(w2.pending).toBe(1);
  });

  it('a frame larger than the staging area gets no room (the core counts the drop), nothing is thrown', () => {
    const w = new DirectWriter(new RecordingDevice(), counters(), null, 512);
    expect(w.reserve(1000)).toBe(-1);
  });

  it('rejected frames and a full device queue are counted as drops; a short batch is retried', () => {
    const d = new RecordingDevice();
    const c = counters();
    const w = new DirectWriter(d, c, null, 1 << 16);
    for (let i = 0; i < 6; i++) stage(w, [i]);
    d.failing.add(1);
    d.acceptPlan = [3, 0]; // three frames, then a full queue for the rest
    expect(w.flush()).toBe(3);
    expect(d.sent.map((f) => f.bytes[0])).toEqual([0, 2]);
    expect(c[C.tap_tx_frames]).toBe(2);
    expect(c[C.drop_tap_write_error]).toBe(1 + 3);
    expect(w.pending).toBe(0);
    for (let i = 0; i < 4; i++) stage(w, [10 + i]);
    d.acceptPlan = [2];
    expect(w.flush()).toBe(4);
    expect(d.sent.map((f) => f.bytes[0])).toEqual([0, 2, 10, 11, 12, 13]);
    expect(d.calls).toBe(4);
  });
});
