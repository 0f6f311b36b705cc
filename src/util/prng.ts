/**
 * A small seeded pseudo-random generator for reproducible fault injection (and anything
 * else that must make the same "random" choices twice): splitmix32, a 32-bit state
 * advanced by the golden-ratio increment and mixed by the MurmurHash3 finaliser. Not for
 * anything that needs unpredictability. No allocation per draw.
 */

/** A deterministic stream of pseudo-random numbers from a 32-bit seed. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  /** The stream for `seed` and sub-stream `stream` (e.g. thread and direction): distinct streams from one seed. */
  static forStream(seed: number, stream: number): SeededRandom {
    return new SeededRandom((seed + Math.imul(stream + 1, 0x632be5ab)) | 0);
  }

  /** The next unsigned 32-bit value. */
  nextU32(): number {
    let z = (this.state = (this.state + 0x9e3779b9) | 0);
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A whole number in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
}
