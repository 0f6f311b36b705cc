/**
 * TxPath: a shard worker's frames go to the TX ring (I/O thread writes) when the worker
 * is busy and straight to the TAP when it is idle, and never overtake each other: the
 * target changes only when nothing is in flight on the current one. Bulk frames (TSO
 * super-segments) go straight to the TAP even from a busy worker; a bulk frame of a flow
 * (a TCP connection) passes other flows' frames in the ring, never its own.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIRECT_FRAME_MIN, TX_FLOW_LIMIT, TxPath } from '../../../src/dataplane/tx-path.js';
import { DirectWriter } from '../../../src/dataplane/direct-writer.js';
import { RingConsumer, RingProducer, createRingBuffer } from '../../../src/dataplane/ring.js';
import { KIND_FRAME, addRecordFrame, recordKind } from '../../../src/dataplane/ring-records.js';
import { C, allocateCounterBlocks, counterBlock } from '../../../src/base/counters.js';
import { FrameBatch } from '../../../src/base/frame-batch.js';
import { TX_FLOW_LIMITED, TxOffload, type TxFlow } from '../../../src/base/link.js';
import { RecordingDevice } from '../../helpers/recording-device.js';

/** One device for both paths: what reached it, in order, as the first payload byte of each frame. */
function setup(ringBytes = 1 << 18, txGather = false) {
  const device = new RecordingDevice({ txChecksum: true, tsoMaxPayload: 65_000, txGather });
  const sab = createRingBuffer(ringBytes);
  const ring = new RingProducer(sab);
  const io = new RingConsumer(sab);
  const counters = counterBlock(allocateCounterBlocks(1), 0);
  const writer = new DirectWriter(device, counters, null, 1 << 16);
  let busy = false;
  const path = new TxPath(ring, writer, () => !busy, counters);
  const sent = (): [number, number] => [counters[C.tx_ring_frames], counters[C.tx_direct_frames]];
  const send = (id: number, offload: TxOffload | null = null, size = 64): void => {
    const o = path.reserve(size);
    expect(o).toBeGreaterThanOrEqual(0);
    path.buf[o] = id;
    path.commit(size === 64 ? 1 : size, offload);
  };
  const wire = (): number[] => device.sent.map((f) => f.bytes[0]);
  /** The I/O thread's side: every published ring record (in order) to the device, then release. */
  const batch = new FrameBatch(io.buf, 64);
  const ioDrain = (): void => {
    batch.clear();
    let off: number;
    while ((off = io.next()) >= 0) {
      expect(recordKind(io.kind)).toBe(KIND_FRAME);
      addRecordFrame(batch, io.buf, off, io.length);
    }
    device.transmit(batch, 0);
    io.release();
  };
  /** Sends a frame of `flow` (first byte `id`, second `tag`); false if the ring had no room. */
  const sendFlow = (id: number, flow: TxFlow | null, size: number, tag = 0): boolean => {
    const o = path.reserve(size, 0, flow);
    if (o < 0) return false;
    path.buf[o] = id;
    path.buf[o + 1] = tag;
    path.commit(size, null);
    return true;
  };
  /** What the worker does at the end of a step (shard-worker.ts flush()): staged frames written, then ring records published. */
  const workerFlush = (): void => {
    writer.flush();
    ring.publish();
  };
  return { device, wire, ring, writer, path, counters, send, sendFlow, workerFlush, ioDrain, sent, setBusy: (b: boolean) => (busy = b) };
}

describe('TxPath', () => {
  it('idle worker: frames are written by the worker itself, nothing goes through the ring', () => {
    const t = setup();
    t.send(1);
    t.send(2);
    t.writer.flush();
    expect(t.wire()).toEqual([1, 2]);
    expect(t.sent()).toEqual([0, 2]);
    expect(t.ring.pending()).toBe(0);
  });

  it('over a device that takes frames in pieces: a frame may end in pieces only when the worker writes it (decision 0051)', () => {
    const t = setup(1 << 18, true);
    const flow: TxFlow = { txQueuedAt: -1, txQueuedBytes: 0 };
    t.setBusy(true);
    expect(t.path.reserve(100, 0, flow)).toBeGreaterThanOrEqual(0);
    expect(t.path.gathers).toBe(false); // into the ring: copied there
    t.path.commit(100, null);
    t.workerFlush();
    t.ioDrain();
    const o = t.path.reserve(DIRECT_FRAME_MIN + 100, 0, flow); // bulk, past the ring
    expect(t.path.gathers).toBe(true);
    t.path.buf[o] = 7;
    const payload = new Uint8Array(DIRECT_FRAME_MIN).fill(9);
    t.path.attach(payload, 0, DIRECT_FRAME_MIN);
    t.path.commit(100 + DIRECT_FRAME_MIN, null);
    t.workerFlush();
    const f = t.device.sent.at(-1)!.bytes;
    expect(f.length).toBe(100 + DIRECT_FRAME_MIN);
    expect([f[0], f[100], f.at(-1)]).toEqual([7, 9, 9]);
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
    expect(t.wire()).toEqual([1, 2]);
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
    expect(t.wire()).toEqual([]);
    t.ring.publish();
    t.ioDrain();
    expect(t.wire()).toEqual([1, 2, 3]);
    t.send(4); // the ring is drained: now direct
    t.writer.flush();
    expect(t.wire()).toEqual([1, 2, 3, 4]);
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
    expect(t.wire()).toEqual([1, 2, 3]);
  });

  it('bulk frames (DIRECT_FRAME_MIN bytes or more) are written by a busy worker itself, its small frames still go through the ring', () => {
    const t = setup();
    t.setBusy(true);
    t.send(1, null, DIRECT_FRAME_MIN);
    t.send(2, null, 65_000);
    expect(t.ring.pending()).toBe(0);
    t.writer.flush();
    expect(t.wire()).toEqual([1, 2]);
    t.send(3); // a small frame of the busy worker: the ring
    t.send(4, null, DIRECT_FRAME_MIN - 1);
    expect(t.ring.pending()).toBe(2);
    expect(t.sent()).toEqual([2, 2]);
    expect(t.device.sent.map((f) => f.bytes.length).slice(0, 2)).toEqual([DIRECT_FRAME_MIN, 65_000]);
  });

  it('no overtaking: a bulk frame queues behind ring frames the I/O thread has not written yet, then goes direct', () => {
    const t = setup();
    t.setBusy(true);
    t.send(1);
    t.ring.publish();
    t.send(2, null, 30_000); // frame 1 is still in the ring: 2 must follow it there
    t.ring.publish();
    t.writer.flush();
    expect(t.wire()).toEqual([]);
    t.ioDrain();
    expect(t.wire()).toEqual([1, 2]);
    t.send(3, null, 30_000); // drained: direct
    t.writer.flush();
    expect(t.wire()).toEqual([1, 2, 3]);
    expect(t.sent()).toEqual([2, 1]);
  });

  it('both paths carry the frame\'s offload request to the device', () => {
    const t = setup();
    const off = new TxOffload();
    off.csumStart = 34;
    off.csumOffset = 16;
    off.segSize = 1448;
    off.hdrLen = 54;
    t.send(7, off);
    t.writer.flush();
    t.setBusy(true);
    off.segSize = 0;
    t.send(8, off);
    t.send(9, null);
    t.ring.publish();
    t.ioDrain();
    expect(t.wire()).toEqual([7, 8, 9]);
    expect(t.device.sent.map((f) => [f.csumStart, f.csumOffset, f.segSize, f.hdrLen])).toEqual([
      [34, 16, 1448, 54],
      [34, 16, 0, 54],
      [-1, 0, 0, 0],
    ]);
  });
});

describe('TxPath: flows (decision 0050)', () => {
  const flow = (): TxFlow => ({ txQueuedAt: -1, txQueuedBytes: 0 });

  it('a busy worker writes a bulk frame of a flow with nothing in the ring itself, past other flows\' ring frames', () => {
    const t = setup();
    t.setBusy(true);
    t.send(1); // no flow: the ring
    expect(t.sendFlow(2, flow(), 30_000)).toBe(true);
    expect(t.ring.pending()).toBe(1);
    t.workerFlush();
    expect(t.wire()).toEqual([2]);
    t.ioDrain();
    expect(t.wire()).toEqual([2, 1]);
    expect(t.sent()).toEqual([1, 1]);
  });

  it('a flow\'s bulk frame follows its own unwritten ring frame into the ring, and passes the ring once that is written', () => {
    const t = setup();
    const a = flow();
    t.setBusy(true);
    t.sendFlow(1, a, 64); // small: the ring
    expect(a.txQueuedAt).toBeGreaterThanOrEqual(0);
    t.sendFlow(2, a, 30_000); // frame 1 is not written yet: 2 follows it
    expect(t.ring.pending()).toBe(2);
    t.workerFlush();
    expect(t.wire()).toEqual([]);
    t.ioDrain();
    expect(t.wire()).toEqual([1, 2]);
    t.send(9); // another frame waits in the ring...
    t.sendFlow(3, a, 30_000); // ...but a's are all written: 3 goes directly
    t.workerFlush();
    expect(t.wire()).toEqual([1, 2, 3]);
    t.ioDrain();
    expect(t.wire()).toEqual([1, 2, 3, 9]);
  });

  it('a flow holds at most TX_FLOW_LIMIT bytes unwritten in the ring: its next frame is refused until they are written; other flows go on', () => {
    const t = setup(1 << 21);
    const a = flow();
    t.setBusy(true);
    t.sendFlow(1, a, 64); // a's small frame: the ring, so its bulk frames follow it there
    let queued = 0;
    while (t.sendFlow(2, a, 60_000)) queued++;
    expect(queued).toBe(Math.floor((TX_FLOW_LIMIT - 64) / 60_000));
    expect(t.path.reserve(60_000, 0, a)).toBe(TX_FLOW_LIMITED); // told apart from a full ring
    expect(t.counters[C.tx_flow_limited]).toBe(2);
    expect(t.counters[C.drop_tx_ring_full]).toBe(0);
    expect(t.path.canResume()).toBe(false); // a waits for the ring to be written
    expect(t.sendFlow(3, flow(), 64)).toBe(true); // another flow is not held back
    t.workerFlush();
    expect(t.path.canResume()).toBe(false);
    t.ioDrain();
    expect(t.path.canResume()).toBe(true);
    expect(t.sendFlow(4, a, 60_000)).toBe(true); // written: a goes on, now directly
    t.workerFlush();
    expect(t.wire()).toEqual([1, ...Array<number>(queued).fill(2), 3, 4]);
  });

  it('keeps every flow\'s frames in order through any mix of sizes, busy and idle turns, flushes and I/O-thread drains', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), flow: fc.integer({ min: 0, max: 3 }), bulk: fc.boolean() }),
      fc.record({ kind: fc.constant('busy' as const), on: fc.boolean() }),
      fc.constant({ kind: 'writer' as const }),
      fc.constant({ kind: 'flush' as const }),
      fc.constant({ kind: 'drain' as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const t = setup();
        const flows = [flow(), flow(), flow()]; // index 3: frames of no flow
        const next = [0, 0, 0, 0];
        for (const o of ops) {
          if (o.kind === 'send') {
            const f = o.flow < 3 ? flows[o.flow] : null;
            if (t.sendFlow(o.flow, f, o.bulk ? 20_000 : 64, next[o.flow] & 0xff)) next[o.flow]++;
          } else if (o.kind === 'busy') t.setBusy(o.on);
          else if (o.kind === 'writer') t.writer.flush(); // drain(): after each received frame
          else if (o.kind === 'flush') t.workerFlush();
          else t.ioDrain();
        }
        t.workerFlush();
        t.ioDrain();
        const seen = [0, 0, 0, 0];
        for (const f of t.device.sent) {
          const [id, tag] = [f.bytes[0], f.bytes[1]];
          if (tag !== (seen[id] & 0xff)) return false; // out of order, or lost
          seen[id]++;
        }
        return seen.every((n, i) => n === next[i]);
      }),
      { numRuns: 500, seed: 51 },
    );
  });
});
