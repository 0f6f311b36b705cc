/**
 * A per-thread pool of 16 KiB byte blocks: the memory of the TCP send buffers
 * (src/tcp/send-buffer.ts holds every byte not yet acknowledged in a chain of them).
 * 16 KiB rather than 4 KiB (decision 0038): a 64 KiB write is copied in 4 pieces and a
 * 64 KiB segment out of 4-5 blocks instead of 16-17, each piece a TypedArray view and a
 * set() call; measured, 20 % less worker CPU per byte sent in a bulk download.
 *
 * Fresh memory is what costs on this VM, not copying: `new Uint8Array(4096)` measured
 * ~5 µs (allocation, zeroing, first-touch page faults) against ~30 ns to reuse a block,
 * and under a connections/s benchmark the send buffer's first block alone was 4.6 % of
 * a worker's profile. Blocks come back through giveBlock() as soon as the ACK releases
 * them; at most POOL_MAX_BLOCKS are kept (4 MiB), the rest are left to the GC. A bulk
 * sender takes and gives back blocks at the same rate, so the pool only has to cover
 * how much the senders' unacknowledged bytes swing together, not what they hold.
 * Module state is per thread: each worker has its own module instance.
 *
 * A block's contents are undefined when taken (it is not zeroed): owners only read
 * bytes they wrote.
 *
 * Frames staged for the TAP may hold a payload by reference in a block (scatter-gather,
 * decision 0051) until their batch is written. While any batch does (holdBlocks() ..
 * releaseBlocks(), counted, as several stacks may share a thread), a block given back is
 * kept aside rather than reused: an ACK or a reset that releases it in the meantime must
 * not let another write fill it before the frame has gone out. The blocks kept aside join
 * the pool when the last holder releases.
 */

/** Size of a pooled block, bytes. */
export const BLOCK_BYTES = 16384;
/** Most free blocks kept. */
export const POOL_MAX_BLOCKS = 256;

const free: Array<Uint8Array<ArrayBuffer>> = [];
/** Blocks given back while a staged frame may still reference them, and how many batches hold. */
const aside: Array<Uint8Array<ArrayBuffer>> = [];
let holders = 0;
/** Blocks made because the pool was empty, and blocks given back while it was full. */
let created = 0;
let dropped = 0;

/** A block of BLOCK_BYTES bytes (contents undefined). */
export function takeBlock(): Uint8Array<ArrayBuffer> {
  const b = free.pop();
  if (b !== undefined) return b;
  created++;
  return new Uint8Array(BLOCK_BYTES);
}

/**
 * Gives a block from takeBlock() back. The caller must hold no reference to it any more.
 * Anything else (a view into a larger buffer, another size) is ignored.
 */
export function giveBlock(b: Uint8Array<ArrayBuffer>): void {
  if (b.length !== BLOCK_BYTES || b.byteOffset !== 0 || b.buffer.byteLength !== BLOCK_BYTES) return;
  if (holders > 0) aside.push(b);
  else if (free.length < POOL_MAX_BLOCKS) free.push(b);
  else dropped++;
}

/** A batch now holds frames whose pieces may be in blocks: blocks given back wait until it releases. */
export function holdBlocks(): void {
  holders++;
}

/** A batch that called holdBlocks() has written or dropped its frames; the last to release returns the blocks kept aside. */
export function releaseBlocks(): void {
  if (holders === 0) throw new Error('releaseBlocks without holdBlocks');
  if (--holders > 0) return;
  for (let k = 0; k < aside.length; k++) {
    if (free.length < POOL_MAX_BLOCKS) free.push(aside[k]);
    else dropped++;
  }
  aside.length = 0;
}

/** Blocks this thread made (the pool was empty) and left to the GC (the pool was full), since it started. */
export function blockPoolStats(): { created: number; dropped: number } {
  return { created, dropped };
}

/** Free blocks held now (for tests). */
export function pooledBlocks(): number {
  return free.length;
}

/** Blocks given back and kept aside while a batch holds (for tests). */
export function blocksAside(): number {
  return aside.length;
}
