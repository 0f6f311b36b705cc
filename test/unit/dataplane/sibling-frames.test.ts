/**
 * Workers that share a thread (decision 0029): one that runs out of frames does not spin
 * on its own ring while a sibling has frames waiting (shard-worker.ts siblingHasFrames).
 */
import { describe, expect, it } from 'vitest';
import { siblingHasFrames } from '../../../src/dataplane/shard-worker.js';
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
