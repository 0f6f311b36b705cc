/**
 * Workers that share a thread (decision 0029): one that runs out of frames does not spin
 * on its own ring while a sibling has frames waiting (shard-worker.ts siblingHasFrames),
 * and its spin before sleeping watches the siblings' rings too (spinForFrames, decision
 * 0055): it goes on for its own frames and gives way at once for a sibling's. The first
 * of them to wake the sleeping I/O thread clears the I/O thread's flag on its siblings'
 * TX rings, so that they do not wake it again (claimSiblingWakes).
 */
import { describe, expect, it } from 'vitest';
import { claimSiblingWakes, siblingHasFrames, spinForFrames } from '../../../src/dataplane/shard-worker.js';
import { RingConsumer, RingProducer, createRingBuffer, RING_MIN_DATA_BYTES } from '../../../src/dataplane/ring.js';

describe('workers on one thread: spinning while a sibling waits', () => {
  it('sees frames published in another worker\'s ring, not in its own, and none once they are taken', () => {
    const sabs = [0, 1, 2].map(() => createRingBuffer(RING_MIN_DATA_BYTES));
    const rings = sabs.map((s) => new RingConsumer(s));
    const [own, a, b] = rings;
    expect(siblingHasFrames(own, rings)).toBe(false);
    const pOwn = new RingProducer(sabs[0]);
    pOwn.push(new Uint8Array(60), 0, 60, 1, 0, 0);
    pOwn.publish();
    expect(siblingHasFrames(own, rings)).toBe(false);
    const pB = new RingProducer(sabs[2]);
    pB.push(new Uint8Array(60), 0, 60, 1, 0, 0);
    expect(siblingHasFrames(own, rings)).toBe(false); // pushed, not yet published
    pB.publish();
    expect(siblingHasFrames(own, rings)).toBe(true);
    expect(siblingHasFrames(b, rings)).toBe(true); // own's frame counts for b
    expect(siblingHasFrames(a, [a])).toBe(false);
    expect(b.next()).toBeGreaterThanOrEqual(0);
    b.release();
    expect(siblingHasFrames(own, rings)).toBe(false);
  });
});

describe('workers on one thread: the spin before sleeping', () => {
  const frame = new Uint8Array(60);
  function rings(n: number) {
    const sabs = Array.from({ length: n }, () => createRingBuffer(RING_MIN_DATA_BYTES));
    return { consumers: sabs.map((s) => new RingConsumer(s)), producers: sabs.map((s) => new RingProducer(s)) };
  }

  it('is true when its own ring has frames, false when only a sibling\'s has, and false when none has', () => {
    const { consumers, producers } = rings(3);
    const [own] = consumers;
    expect(spinForFrames(own, consumers, 30)).toBe(false);
    producers[2].push(frame, 0, 60, 1, 0, 0);
    producers[2].publish();
    expect(spinForFrames(own, consumers, 30)).toBe(false);
    producers[0].push(frame, 0, 60, 1, 0, 0);
    producers[0].publish();
    expect(spinForFrames(consumers[1], consumers, 30)).toBe(false); // siblings first: it gives way
    expect(spinForFrames(own, [own], 30)).toBe(true); // alone on its thread: its own ring's spin
  });

  it('goes on for its own frames when no sibling has any', () => {
    const { consumers, producers } = rings(2);
    producers[1].push(frame, 0, 60, 1, 0, 0);
    producers[1].publish();
    expect(spinForFrames(consumers[1], consumers, 30)).toBe(true);
  });
});

describe('workers on one thread: one wake-up of the I/O thread', () => {
  it('the first worker to publish to a sleeping I/O thread clears its siblings\' flags; their publishes then owe no wake-up', () => {
    const sabs = [0, 1, 2].map(() => createRingBuffer(RING_MIN_DATA_BYTES));
    const io = sabs.map((s) => new RingConsumer(s)); // the I/O thread's ends
    const tx = sabs.map((s) => new RingProducer(s)); // the workers' ends
    for (const c of io) expect(c.setSleeping()).toBe(true); // the I/O thread sleeps
    tx[1].push(new Uint8Array(60), 0, 60, 1, 0, 0);
    expect(tx[1].publish()).toBe(true); // worker 1 owes the wake-up...
    claimSiblingWakes(tx[1], tx); // ...and claims its siblings' before it signals
    tx[0].push(new Uint8Array(60), 0, 60, 1, 0, 0);
    tx[2].push(new Uint8Array(60), 0, 60, 1, 0, 0);
    expect(tx[0].publish()).toBe(false);
    expect(tx[2].publish()).toBe(false);
    expect(io.every((c) => !c.isEmpty())).toBe(true); // the one wake-up finds every ring's records
    expect(tx[0].claimSleeping()).toBe(false); // nothing left to claim
    for (const c of io) expect(c.setSleeping()).toBe(false); // nor may the I/O thread sleep on them
  });
});
