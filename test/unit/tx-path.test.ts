/**
 * TxPath: a shard worker's frames go to the TX ring (I/O thread writes) when the worker
 * is busy and straight to the TAP when it is idle, and never overtake each other: the
 * target changes only when nothing is in flight on the current one.
 */
import { describe, expect, it } from 'vitest';
import { TxPath } from '../../src/dataplane/tx-path.js';
import { TapWriter } from '../../src/dataplane/tap-writer.js';
import { RingConsumer, RingProducer, createRingBuffer } from '../../src/dataplane/ring.js';
import { KIND_FRAME, TX_VNET_PREFIX, recordKind } from '../../src/dataplane/record-kind.js';
import { C, allocateCounterBlocks, counterBlock } from '../../src/base/counters.js';
import type { TapAddon } from '../../src/phy/tap.js';

/** What reached the "TAP", in order, by either path: the first payload byte of each frame. */
function setup(vnet = false) {
  const wire: number[] = [];
  const addon = {
    writeBatch(_fd: number, buf: Uint8Array, offsets: Int32Array, lens: Int32Array, first: number, count: number) {
      for (let i = first; i < first + count; i++) wire.push(buf[offsets[i]! + (vnet ? 10 : 0)]!);
      return count;
    },
  } as unknown as TapAddon;
  const sab = createRingBuffer(1 << 18);
  const ring = new RingProducer(sab);
  const io = new RingConsumer(sab);
  const counters = counterBlock(allocateCounterBlocks(1), 0);
  const writer = new TapWriter(addon, 3, vnet, counters, null, 1 << 16);
  let busy = false;
  const path = new TxPath(ring, writer, vnet, () => !busy, counters);
  const sent = (): [number, number] => [counters[C.tx_ring_frames]!, counters[C.tx_direct_frames]!];
  const send = (id: number): void => {
    const o = path.reserve(64);
    expect(o).toBeGreaterThanOrEqual(0);
    path.buf[o] = id;
    path.commit(1);
  };
  /** The I/O thread's side: write every published ring record (in order), then release. */
  const ioDrain = (): void => {
    let off: number;
    while ((off = io.next()) >= 0) {
      expect(recordKind(io.kind)).toBe(KIND_FRAME);
      wire.push(io.buf[off + (vnet ? TX_VNET_PREFIX + 10 : 0)]!);
    }
    io.release();
  };
  return { wire, ring, writer, path, send, ioDrain, sent, setBusy: (b: boolean) => (busy = b) };
}

describe('TxPath', () => {
  it('idle worker: frames are written by the worker itself, nothing goes through the ring', () => {
    const t = setup();
    t.send(1);
    t.send(2);
    t.writer.flush();
    expect(t.wire).toEqual([1, 2]);
    expect(t.sent()).toEqual([0, 2]);
    expect(t.ring.pending()).toBe(0);
  });

  it('busy worker: frames go to the ring for the I/O thread', () => {
    const t = setup();
    t.setBusy(true);
    t.send(1);
    t.send(2);
    expect(t.writer.pending).toBe(0);
    expect(t.ring.pending()).toBe(2);
    t.ring.publish();
    t.ioDrain();
    expect(t.wire).toEqual([1, 2]);
    expect(t.sent()).toEqual([2, 0]);
  });

  it('no overtaking: after ring frames, an idle worker keeps using the ring until the I/O thread has written them all', () => {
    const t = setup();
    t.setBusy(true);
    t.send(1);
    t.ring.publish();
    t.setBusy(false);
    t.send(2); // frame 1 is published but not written yet: 2 must queue behind it
    t.ring.publish();
    t.send(3);
    t.writer.flush();
    expect(t.wire).toEqual([]);
    t.ring.publish();
    t.ioDrain();
    expect(t.wire).toEqual([1, 2, 3]);
    t.send(4); // the ring is drained: now direct
    t.writer.flush();
    expect(t.wire).toEqual([1, 2, 3, 4]);
    expect(t.sent()).toEqual([3, 1]);
  });

  it('no overtaking: staged direct frames are written before a busy worker switches to the ring', () => {
    const t = setup();
    t.send(1); // staged, not yet written
    t.setBusy(true);
    t.send(2); // still direct: frame 1 is staged
    expect(t.ring.pending()).toBe(0);
    t.writer.flush();
    t.send(3); // staging empty: now the ring
    expect(t.ring.pending()).toBe(1);
    t.ring.publish();
    t.ioDrain();
    expect(t.wire).toEqual([1, 2, 3]);
  });

  it('virtio-net mode: both paths carry the header in front of the frame; offload() fills the right one', () => {
    const t = setup(true);
    const o1 = t.path.reserve(64);
    t.path.buf[o1] = 7;
    t.path.offload(1, 1, 54, 1448, 34, 16);
    t.path.commit(1);
    t.writer.flush();
    t.setBusy(true);
    const o2 = t.path.reserve(64);
    t.path.buf[o2] = 8;
    t.path.offload(1, 0, 0, 0, 34, 16);
    t.path.commit(1);
    t.ring.publish();
    t.ioDrain();
    expect(t.wire).toEqual([7, 8]);
    // The ring record: [6 pad][vnet hdr][frame]; the header says NEEDS_CSUM, no GSO.
    const b = t.ring.buf;
    const hdr = o2 - 10;
    expect([...b.subarray(hdr, hdr + 10)]).toEqual([1, 0, 0, 0, 0, 0, 34, 0, 16, 0]);
    expect([...t.writer.buf.subarray(o1 - 10, o1)]).toEqual([1, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0]);
  });
});
