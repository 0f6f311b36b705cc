/**
 * The I/O thread's loop (dataplane/io-loop.ts) over a scripted device: frames of one read
 * are steered to their shards' rings, and the shards are woken in the order of their
 * first frame, not by shard index (workers that share a thread run in the order woken).
 */
import { describe, expect, it } from 'vitest';
import { IoLoop } from '../../../src/dataplane/io-loop.js';
import { RingConsumer, createRingBuffer, RING_MIN_DATA_BYTES } from '../../../src/dataplane/ring.js';
import { allocateCounterBlocks } from '../../../src/base/counters.js';
import { CTL_STOP, type IoThreadData } from '../../../src/dataplane/thread-data.js';
import type { FrameBatch } from '../../../src/base/frame-batch.js';
import type { LinkDevice } from '../../../src/base/link.js';
import { FLOW_ALL, flowHashOfFrame, shardOf } from '../../../src/base/flow-hash.js';
import { ipv4Frame } from '../../helpers/frames.js';
import { IPPROTO_TCP } from '../../../src/wire/ipv4.js';

const SHARDS = 4;
const OUR_IP = 0x0a0a0004, PEER_IP = 0x0a0a0003;

/** A TCP segment header (SYN) from PEER_IP:sport to OUR_IP:80 in an Ethernet frame. */
function tcpFrame(sport: number): Uint8Array {
  const tcp = new Uint8Array(20);
  tcp[0] = sport >> 8; tcp[1] = sport & 0xff; tcp[3] = 80; tcp[12] = 5 << 4; tcp[13] = 0x02;
  return ipv4Frame(0x02000000_0004, 0x02000000_0003, PEER_IP, OUR_IP, IPPROTO_TCP, tcp);
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

/** A device whose first receive() returns `frames` in that order, then nothing. */
function scriptedDevice(frames: Uint8Array[]): LinkDevice {
  let given = false;
  return {
    capabilities: { maxRxFrame: 2048 } as LinkDevice['capabilities'],
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
    transmit: () => 0,
  };
}

describe('I/O loop: waking the shards', () => {
  it('wakes sleeping shards in the order of their first frame in a read, each once, with every frame in its ring', async () => {
    const rxRings = Array.from({ length: SHARDS }, () => createRingBuffer(RING_MIN_DATA_BYTES));
    const txRings = Array.from({ length: SHARDS }, () => createRingBuffer(RING_MIN_DATA_BYTES));
    const consumers = rxRings.map((r) => new RingConsumer(r));
    for (const c of consumers) expect(c.setSleeping()).toBe(true);
    const control = new SharedArrayBuffer(64);
    const frames = [frameFor(3, 1000), frameFor(0, 1000), frameFor(3, 20000), frameFor(2, 1000), frameFor(0, 20000)];
    const woken: number[] = [];
    const data = { rxRings, txRings, counters: allocateCounterBlocks(1 + SHARDS), control } as unknown as IoThreadData;
    const io = new IoLoop(data, scriptedDevice(frames), () => {}, (s) => {
      woken.push(s);
      Atomics.store(new Int32Array(control), CTL_STOP, 1);
    });
    await io.run();
    expect(woken).toEqual([3, 0, 2]);
    const counts = consumers.map((c) => {
      let n = 0;
      while (c.next() >= 0) n++;
      return n;
    });
    expect(counts).toEqual([2, 0, 1, 2]);
  });
});
