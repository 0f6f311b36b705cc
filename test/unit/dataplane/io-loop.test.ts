/**
 * The I/O thread's loop (dataplane/io-loop.ts) over a scripted device: frames of one read
 * are steered to their shards' rings, and the shards are woken in the order of their
 * first frame, not by shard index (workers that share a thread run in the order woken),
 * and an eventfd that several shards share once per read;
 * a plain ICMP echo request is answered by the loop itself and reaches no ring; a worker
 * that waits for room in its TX ring is woken once the loop has written and freed it.
 */
import { describe, expect, it } from 'vitest';
import { IoLoop } from '../../../src/dataplane/io-loop.js';
import { RingConsumer, RingProducer, createRingBuffer, RING_MIN_DATA_BYTES } from '../../../src/dataplane/ring.js';
import { KIND_FRAME, TX_FRAME_PREFIX, writeOffloadBlock } from '../../../src/dataplane/ring-records.js';
import { allocateCounterBlocks } from '../../../src/base/counters.js';
import { CTL_STOP, type IoThreadData } from '../../../src/dataplane/thread-data.js';
import type { FrameBatch } from '../../../src/base/frame-batch.js';
import type { LinkDevice } from '../../../src/base/link.js';
import { FLOW_ALL, flowHashOfFrame, shardOf } from '../../../src/base/flow-hash.js';
import { icmpEcho, ipv4Frame, patternBytes } from '../../helpers/frames.js';
import { IPPROTO_ICMP, IPPROTO_TCP, ipDst, ipSrc } from '../../../src/wire/ipv4.js';
import { C, counterBlock } from '../../../src/base/counters.js';
import { ethDst } from '../../../src/wire/ethernet.js';

const SHARDS = 4;
const OUR_IP = 0x0a0a0004, PEER_IP = 0x0a0a0003;
const OUR_MAC = 0x02000000_0004, PEER_MAC = 0x02000000_0003;
const LINK = { mac: OUR_MAC, ip: OUR_IP, prefixLength: 24 };

/** A TCP segment header (SYN) from PEER_IP:sport to OUR_IP:80 in an Ethernet frame. */
function tcpFrame(sport: number): Uint8Array {
  const tcp = new Uint8Array(20);
  tcp[0] = sport >> 8; tcp[1] = sport & 0xff; tcp[3] = 80; tcp[12] = 5 << 4; tcp[13] = 0x02;
  return ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_TCP, tcp);
}

/** A frame whose flow lands on `shard`, from the first source port that does. */
function frameFor(shard: number, from: number): Uint8Array {
  for (let port = from; port < 65536; port++) {
    const f = tcpFrame(port);
    const h = flowHashOfFrame(f, 0, f.length);
    if (h !== FLOW_ALL && shardOf(h, SHARDS) === shard) return f;
  }
  throw new Error('no port');
}

/** A device whose first receive() returns `frames` in that order, then nothing; what is transmitted goes to `sent`. */
function scriptedDevice(frames: Uint8Array[], sent: Uint8Array[] = [], onTransmit = (): void => {}): LinkDevice {
  let given = false;
  return {
    capabilities: { maxRxFrame: 2048, txHeadroom: 0 } as LinkDevice['capabilities'],
    receive(batch: FrameBatch): number {
      if (given) return 0;
      given = true;
      let o = 0;
      for (const f of frames) {
        batch.buf.set(f, o);
        batch.offsets[batch.count] = o;
        batch.lens[batch.count] = f.length;
        batch.rxFlags[batch.count] = 0;
        batch.count++;
        o = (o + f.length + 15) & ~15;
      }
      return frames.length;
    },
    transmit(batch: FrameBatch, first: number): number {
      for (let i = first; i < batch.count; i++) sent.push(batch.buf.slice(batch.offsets[i], batch.offsets[i] + batch.lens[i]));
      onTransmit();
      return batch.count - first;
    },
  };
}

/** The I/O thread's workerData over SHARDS rings whose consumers sleep; inRings() counts what each RX ring holds. */
function shards() {
  const rxRings = Array.from({ length: SHARDS }, () => createRingBuffer(RING_MIN_DATA_BYTES));
  const txRings = Array.from({ length: SHARDS }, () => createRingBuffer(RING_MIN_DATA_BYTES));
  const consumers = rxRings.map((r) => new RingConsumer(r));
  for (const c of consumers) expect(c.setSleeping()).toBe(true);
  const control = new SharedArrayBuffer(64);
  const counters = allocateCounterBlocks(1 + SHARDS);
  const data = { link: LINK, rxRings, txRings, counters, control } as unknown as IoThreadData;
  const inRings = () => consumers.map((c) => {
    let n = 0;
    while (c.next() >= 0) n++;
    return n;
  });
  return { data, consumers, control, counters, inRings };
}

describe('I/O loop: waking the shards', () => {
  it('wakes sleeping shards in the order of their first frame in a read, each once, with every frame in its ring', async () => {
    const { data, control, inRings } = shards();
    const frames = [frameFor(3, 1000), frameFor(0, 1000), frameFor(3, 20000), frameFor(2, 1000), frameFor(0, 20000)];
    const woken: number[] = [];
    const io = new IoLoop(data, scriptedDevice(frames), (s) => {
      woken.push(s);
      Atomics.store(new Int32Array(control), CTL_STOP, 1);
    });
    await io.run();
    expect(woken).toEqual([3, 0, 2]);
    expect(inRings()).toEqual([2, 0, 1, 2]);
  });

  it('signals an eventfd that several shards share (one worker thread, decision 0055) once per read, after every ring is published', async () => {
    const { data, control, consumers, inRings } = shards();
    data.shardWakeFds = [7, 8, 7, 8]; // shards 0 and 2 on one thread, 1 and 3 on another
    const frames = [frameFor(3, 1000), frameFor(0, 1000), frameFor(2, 1000), frameFor(1, 1000), frameFor(3, 20000)];
    const woken: number[] = [];
    const published: boolean[][] = [];
    const io = new IoLoop(data, scriptedDevice(frames), (s) => {
      woken.push(s);
      published.push(consumers.map((c) => !c.isEmpty()));
      Atomics.store(new Int32Array(control), CTL_STOP, 1);
    });
    await io.run();
    expect(woken).toEqual([3, 0]); // the first shard of each eventfd to get a frame
    expect(published[0]).toEqual([true, true, true, true]); // all published before the first signal
    expect(inRings()).toEqual([1, 1, 1, 2]);
  });
});

describe('I/O loop: a worker waiting for room in its TX ring', () => {
  /** Puts one frame record in shard `shard`'s TX ring, as the worker's TxPath does, and publishes it. */
  function queueTx(data: IoThreadData, shard: number, frame: Uint8Array): RingProducer {
    const p = new RingProducer(data.txRings[shard]);
    const o = p.reserve(frame.length + TX_FRAME_PREFIX);
    writeOffloadBlock(p.buf, o, null, 0);
    p.buf.set(frame, o + TX_FRAME_PREFIX);
    p.commit(frame.length + TX_FRAME_PREFIX, KIND_FRAME, 0, performance.now());
    p.publish();
    return p;
  }

  /** Runs the loop over a device with nothing to read until `done`, or 50 reads; returns the shards woken. */
  async function runUntil(data: IoThreadData, control: SharedArrayBuffer, sent: Uint8Array[]): Promise<number[]> {
    const woken: number[] = [];
    const stop = () => Atomics.store(new Int32Array(control), CTL_STOP, 1);
    let reads = 0;
    const device = scriptedDevice([], sent);
    const receive = device.receive.bind(device);
    device.receive = (b, max, t) => (++reads >= 50 ? (stop(), 0) : receive(b, max, t));
    await new IoLoop(data, device, (s) => {
      woken.push(s);
      stop();
    }).run();
    return woken;
  }

  it('writes the frame, frees the ring and wakes the worker that asked for room, once', async () => {
    const { data, control } = shards();
    const tx = queueTx(data, 2, frameFor(2, 1000));
    tx.wantRoom();
    const sent: Uint8Array[] = [];
    expect(await runUntil(data, control, sent)).toEqual([2]);
    expect(sent).toHaveLength(1);
    expect(tx.drained()).toBe(true);
  });

  it('wakes no worker for a frame when none asked for room', async () => {
    const { data, control } = shards();
    const tx = queueTx(data, 2, frameFor(2, 1000));
    const sent: Uint8Array[] = [];
    expect(await runUntil(data, control, sent)).toEqual([]);
    expect(sent).toHaveLength(1);
    expect(tx.drained()).toBe(true);
  });
});

describe('I/O loop: ICMP echo (decision 0045)', () => {
  it('answers a plain echo request itself, in the same read: the reply goes to the device, no ring gets the request, no worker is woken', async () => {
    const { data, control, counters, inRings } = shards();
    const ping = ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(9, 1, patternBytes(56)));
    const tcp = frameFor(2, 1000);
    const sent: Uint8Array[] = [];
    const woken: number[] = [];
    const stop = () => Atomics.store(new Int32Array(control), CTL_STOP, 1);
    const io = new IoLoop(data, scriptedDevice([ping, tcp], sent, stop), (s) => woken.push(s));
    await io.run(); // stops at the first transmit: the read's wake-ups came before it
    expect(sent).toHaveLength(1);
    expect([ethDst(sent[0], 0), ipSrc(sent[0], 14), ipDst(sent[0], 14), sent[0][34]]).toEqual([PEER_MAC, OUR_IP, PEER_IP, 0]);
    expect(woken).toEqual([2]); // the TCP segment's shard only
    expect(inRings()).toEqual([0, 0, 1, 0]);
    const io0 = counterBlock(counters, 0);
    expect([io0[C.tap_rx_frames], io0[C.icmp_echo_fast_path], io0[C.tap_tx_frames]]).toEqual([2, 1, 1]);
  });
});

describe('I/O loop: --busy-poll (decision 0026)', () => {
  /**
   * A device that gives `copies` of `frame` (up to `max` of them per receive) and then
   * records every later receive's timeout and time; a blocking one stops the loop.
   */
  function pollingDevice(frame: Uint8Array, control: SharedArrayBuffer, copies = 1) {
    const calls: { timeoutMs: number; at: number }[] = [];
    let left = copies;
    const device: LinkDevice = {
      capabilities: { maxRxFrame: 2048, txHeadroom: 0 } as LinkDevice['capabilities'],
      receive(batch: FrameBatch, max: number, timeoutMs: number): number {
        if (left > 0) {
          const n = Math.min(left, max);
          left -= n;
          for (let i = 0; i < n; i++) {
            batch.buf.set(frame, i * 2048);
            batch.offsets[i] = i * 2048;
            batch.lens[i] = frame.length;
            batch.rxFlags[i] = 0;
          }
          batch.count = n;
          return n;
        }
        calls.push({ timeoutMs, at: performance.now() });
        if (timeoutMs > 0) Atomics.store(new Int32Array(control), CTL_STOP, 1);
        return 0;
      },
      transmit: (batch: FrameBatch, first: number) => batch.count - first,
    };
    return { device, calls };
  }

  it('after a frame polls the device without blocking for --busy-poll µs, counted in io_busy_polls, then sleeps', async () => {
    const { data, control, counters } = shards();
    const d: IoThreadData = { ...data, busyPollUs: 30_000 };
    const { device, calls } = pollingDevice(frameFor(1, 1000), control);
    const t0 = performance.now();
    await new IoLoop(d, device, () => {}).run();
    const sleepAt = calls.findIndex((c) => c.timeoutMs > 0);
    expect(sleepAt).toBe(calls.length - 1); // only the last call blocked
    expect(calls.length).toBeGreaterThan(10);
    expect(calls[sleepAt].at - t0).toBeGreaterThanOrEqual(30);
    // Every empty non-blocking read but the last (the one that found the time up) was a busy poll.
    expect(counterBlock(counters, 0)[C.io_busy_polls]).toBe(calls.length - 2);
  });

  it('without --busy-poll sleeps right after a read that stopped short of a full batch (no read that finds the device empty again)', async () => {
    const { data, control, counters } = shards();
    const d: IoThreadData = { ...data, busyPollUs: 0 };
    const { device, calls } = pollingDevice(frameFor(1, 1000), control);
    await new IoLoop(d, device, () => {}).run();
    expect(calls.map((c) => c.timeoutMs > 0)).toEqual([true]);
    expect(counterBlock(counters, 0)[C.io_busy_polls]).toBe(0);
    expect(counterBlock(counters, 0)[C.io_sleeps]).toBe(1);
  });

  it('without --busy-poll reads again without blocking after a full batch: the device may hold more', async () => {
    const { data, control, counters } = shards();
    const d: IoThreadData = { ...data, busyPollUs: 0 };
    const { device, calls } = pollingDevice(frameFor(1, 1000), control, 64 + 64);
    await new IoLoop(d, device, () => {}).run();
    // Two full reads of 64 took everything; the third, non-blocking, found nothing; then the sleep.
    expect(calls.map((c) => c.timeoutMs > 0)).toEqual([false, true]);
    expect(counterBlock(counters, 0)[C.tap_rx_frames]).toBe(128);
    expect(counterBlock(counters, 0)[C.tap_read_batches]).toBe(2);
  });
});
