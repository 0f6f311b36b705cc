/**
 * The data-plane threads' V8 heap limits (control/heap-limits.ts): a small fixed young
 * generation, and a worker's old generation that grows with its share of the connections.
 */
import { describe, expect, it } from 'vitest';
import { INITIAL_OLD_GENERATION_MB, YOUNG_GENERATION_MB, initialOldSpaceFlag, ioHeapLimits, workerHeapLimits } from '../../../src/control/heap-limits.js';

describe('heap limits', () => {
  it('gives a worker 256 MiB plus 6 KiB per connection it may hold, and a small young generation', () => {
    expect(workerHeapLimits(131_072)).toEqual({ maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: 256 + 768 });
    expect(workerHeapLimits(262_144).maxOldGenerationSizeMb).toBe(256 + 1536);
    expect(workerHeapLimits(1).maxOldGenerationSizeMb).toBe(257); // rounded up
    expect(YOUNG_GENERATION_MB).toBeLessThan(48); // V8's default on a 64-bit machine with this much memory
  });

  it('gives the I/O thread fixed limits', () => {
    expect(ioHeapLimits()).toEqual({ maxYoungGenerationSizeMb: YOUNG_GENERATION_MB, maxOldGenerationSizeMb: 256 });
  });

  it('starts every isolate with a 64 MiB old-generation limit unless the process was given its own', () => {
    expect(INITIAL_OLD_GENERATION_MB).toBe(64);
    expect(initialOldSpaceFlag([])).toBe('--initial-old-space-size=64');
    expect(initialOldSpaceFlag(['--cpu-prof'], '--max-old-space-size=512')).toBe('--initial-old-space-size=64');
    expect(initialOldSpaceFlag(['--initial-old-space-size=16'])).toBeNull();
    expect(initialOldSpaceFlag(['--initial_old_space_size', '16'])).toBeNull();
    expect(initialOldSpaceFlag([], '--trace-gc --initial-old-space-size=128')).toBeNull();
  });
});
