/**
 * Fault injection as a LinkDevice decorator (decision 0017), after smoltcp's
 * FaultInjector and Linux netem: frames received from and transmitted to the inner
 * device are dropped, corrupted, duplicated, reordered, delayed or rate-limited as a
 * FaultSpec per direction says (phy/fault-spec.ts), each decision drawn from a seeded
 * generator (util/prng.ts) so that the same seed makes the same decisions for the same
 * frames. Every action is counted under fault_<rx|tx>_<what> (base/counters.ts).
 *
 * Per frame, in this order: rate (a token bucket of `ratePps`, a burst of 10 ms worth:
 * beyond it the frame is dropped, rate_limited); drop; corrupt; duplicate (the frame goes
 * out twice); reorder (held back until the next frame of its direction has gone, or
 * FAULT_REORDER_MAX_HOLD_MS); delay (every frame held `delayMs`).
 *
 * The data plane has one device per thread (the I/O thread, and each worker's direct
 * transmit path), and the frames of one connection go out through more than one of them.
 * With `txFrames` (a word shared by the threads' devices, counting the frames they
 * transmitted) a held transmitted frame is due as soon as any thread has sent a frame
 * after it, and goes out when its own thread next runs: one frame late, as on one wire.
 * Without it only the holding device's own next frame released it, and a frame held by
 * the I/O thread while a worker sent directly waited out the 10 ms (measured: 9 ms, where
 * the path's round trip was under 1 ms).
 *
 * Corruption flips one random bit of one random byte after the Ethernet header of an
 * IPv4 frame, after making its checksums final, so that the receiver's checksum checks
 * catch it as they would on a wire (non-IPv4 frames — ARP, which has no checksum — are
 * left alone: a real NIC's frame check sequence would drop them instead):
 * - RX: a checksum the host left partial (RX_CSUM_PARTIAL) is completed, and the frame
 *   loses its checksum-trusted flags, so the stack verifies it;
 * - TX: a checksum the device was asked to complete is completed in software, and a
 *   segmentation-offload super-frame is cut into segments (phy/soft-offload.ts) of which
 *   one is corrupted.
 *
 * Held frames (delay, reorder, and received frames that did not fit the caller's batch)
 * are bounded per direction: FAULT_HOLD_FRAMES frames and FAULT_HOLD_BYTES bytes; a frame
 * that finds no room is dropped and counted in fault_<dir>_hold_full. Held received
 * frames are released by receive(), which never waits past the next one due; held
 * transmitted frames by transmit(), receive() and releaseDue(now), which a driver that
 * only transmits (a shard worker's direct path) calls by nextDue() (HoldingLinkDevice,
 * base/link.ts). Frames the inner device refuses or rejects on transmit are counted in
 * drop_tap_write_error here; transmit() consumes every frame it is given.
 */
import { C, type Counters } from '../base/counters.js';
import { FrameBatch } from '../base/frame-batch.js';
import type { HoldingLinkDevice, LinkCapabilities, LinkDevice } from '../base/link.js';
import { RX_CSUM_PARTIAL, RX_CSUM_VERIFIED } from '../base/rx-flags.js';
import { TokenBucket } from '../l3/token-bucket.js';
import { copyBytes } from '../util/copy-bytes.js';
import { monoMs } from '../util/clock.js';
import { SeededRandom } from '../util/prng.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, ethType } from '../wire/ethernet.js';
import { faultsActive, type FaultConfig, type FaultSpec } from './fault-spec.js';
import { completeChecksum, completeL4Checksum, tcpSegmentCount, writeTcpSegment } from './soft-offload.js';

/** Most frames and bytes held back per direction (delay, reorder, overflow). */
export const FAULT_HOLD_FRAMES = 4096;
export const FAULT_HOLD_BYTES = 8 * 1024 * 1024;
/** Longest a reordered frame waits for a later frame to overtake it (ms). */
export const FAULT_REORDER_MAX_HOLD_MS = 10;
/** Room for one frame of any size the devices handle (a 64 KiB aggregate or super-frame). */
const MAX_FRAME_ROOM = 65536 + 128;
/** Transmit staging towards the inner device. */
const TX_OUT_BYTES = 1024 * 1024;
const TX_OUT_FRAMES = 64;
/** A TX super-frame cut into segments for corruption: up to 64 KiB of payload at small MSS. */
const SCRATCH_BYTES = 512 * 1024;
const SCRATCH_FRAMES = 256;

/** Direction of a fault path. */
const RX = 0;
const TX = 1;

/**
 * Copies frame i of `src` (bytes and every per-frame field) to the end of `dst`; returns
 * its index there, or -1 when dst has no room.
 */
function copyFrame(src: FrameBatch, i: number, dst: FrameBatch): number {
  const len = src.lens[i];
  const o = dst.reserve(len);
  if (o < 0) return -1;
  copyBytes(src.buf, src.offsets[i], dst.buf, o, len);
  dst.commit(len, null);
  const j = dst.count - 1;
  dst.rxFlags[j] = src.rxFlags[i];
  dst.segSize[j] = src.segSize[i];
  dst.csumStart[j] = src.csumStart[i];
  dst.csumOffset[j] = src.csumOffset[i];
  dst.hdrLen[j] = src.hdrLen[i];
  return j;
}

/** Frames held in arrival order, each with the time it is due (a FIFO over one FrameBatch). */
class HeldFrames {
  readonly batch: FrameBatch;
  private readonly due: Float64Array;
  /** Index in `batch` of the oldest frame still held. */
  head = 0;

  constructor(bytes: number, frames: number) {
    this.batch = new FrameBatch(new Uint8Array(bytes), frames);
    this.due = new Float64Array(frames);
  }

  get size(): number {
    return this.batch.count - this.head;
  }

  /** When the oldest frame is due (Infinity: none held). */
  nextDue(): number {
    return this.head < this.batch.count ? this.due[this.head] : Infinity;
  }

  /** Appends a copy of frame i of src, due at `due`; false when there is no room. */
  push(src: FrameBatch, i: number, due: number): number {
    let j = copyFrame(src, i, this.batch);
    if (j < 0 && this.head > 0) {
      this.compact();
      j = copyFrame(src, i, this.batch);
    }
    if (j >= 0) this.due[j] = due;
    return j;
  }

  /** Forgets the oldest frame (after it was copied out). */
  shift(): void {
    if (++this.head === this.batch.count) this.clear();
  }

  clear(): void {
    this.batch.clear();
    this.head = 0;
  }

  /** Moves the frames still held to the start of the batch. */
  private compact(): void {
    const b = this.batch;
    let used = 0;
    let n = 0;
    for (let i = this.head; i < b.count; i++, n++) {
      const len = b.lens[i];
      b.buf.copyWithin(used, b.offsets[i], b.offsets[i] + len);
      b.offsets[n] = used;
      b.lens[n] = len;
      b.rxFlags[n] = b.rxFlags[i];
      b.segSize[n] = b.segSize[i];
      b.csumStart[n] = b.csumStart[i];
      b.csumOffset[n] = b.csumOffset[i];
      b.hdrLen[n] = b.hdrLen[i];
      this.due[n] = this.due[i];
      used = (used + len + 15) & ~15;
    }
    b.count = n;
    b.used = used;
    this.head = 0;
  }
}

/** Counter indices of one direction. */
interface PathCounters {
  dropped: number;
  corrupted: number;
  duplicated: number;
  reordered: number;
  delayed: number;
  rateLimited: number;
  holdFull: number;
}

const RX_COUNTERS: PathCounters = {
  dropped: C.fault_rx_dropped, corrupted: C.fault_rx_corrupted, duplicated: C.fault_rx_duplicated,
  reordered: C.fault_rx_reordered, delayed: C.fault_rx_delayed, rateLimited: C.fault_rx_rate_limited,
  holdFull: C.fault_rx_hold_full,
};
const TX_COUNTERS: PathCounters = {
  dropped: C.fault_tx_dropped, corrupted: C.fault_tx_corrupted, duplicated: C.fault_tx_duplicated,
  reordered: C.fault_tx_reordered, delayed: C.fault_tx_delayed, rateLimited: C.fault_tx_rate_limited,
  holdFull: C.fault_tx_hold_full,
};

/** The faults of one direction: decisions, held frames, and where frames go out. */
class FaultPath {
  private readonly rng: SeededRandom;
  private readonly bucket: TokenBucket | null;
  private readonly k: PathCounters;
  /** Frames waiting out the delay (null: no delay). */
  private readonly delayed: HeldFrames | null;
  /** The frame being reordered (null: no reordering) and how many copies of it go out. */
  private readonly slot: HeldFrames | null;
  private slotCopies = 1;
  /** TX with a shared frame count: the count when the slot's frame was held. */
  private slotMark = 0;
  /** Received frames that did not fit the caller's batch, delivered first next time (allocated on first use). */
  private carry: HeldFrames | null = null;
  /** A corrupted private copy of a frame (or the segments of a corrupted super-frame). */
  private scratch: FrameBatch | null = null;
  /** TX: frames on their way to the inner device. */
  private readonly txOut: FrameBatch | null;
  /** RX: the caller's batch while receive() runs, and how many frames it may take. */
  rxOut: FrameBatch | null = null;
  rxLimit = 0;

  constructor(
    private readonly dir: number,
    private readonly spec: FaultSpec,
    seed: number,
    stream: number,
    private readonly counters: Counters,
    private readonly inner: LinkDevice,
    /** The threads' shared count of transmitted frames (TX only; null: this device's own frames). */
    private readonly sent: SharedCount | null,
  ) {
    this.rng = SeededRandom.forStream(seed, stream * 2 + dir);
    this.bucket = spec.ratePps > 0 ? new TokenBucket(spec.ratePps, Math.max(1, spec.ratePps / 100)) : null;
    this.k = dir === RX ? RX_COUNTERS : TX_COUNTERS;
    this.delayed = spec.delayMs > 0 ? new HeldFrames(FAULT_HOLD_BYTES, FAULT_HOLD_FRAMES) : null;
    this.slot = spec.reorder > 0 ? new HeldFrames(MAX_FRAME_ROOM, 1) : null;
    this.txOut = dir === TX ? new FrameBatch(new Uint8Array(TX_OUT_BYTES), TX_OUT_FRAMES) : null;
  }

  /** When the next held frame is due (Infinity: none; -Infinity: one is waiting for room). */
  nextDue(): number {
    if (this.carry !== null && this.carry.size > 0) return -Infinity;
    const d = this.delayed !== null ? this.delayed.nextDue() : Infinity;
    const s = this.slot !== null ? (this.overtaken() ? 0 : this.slot.nextDue()) : Infinity;
    return d < s ? d : s;
  }

  /** Applies the spec to frame i of src (src is not changed). */
  process(src: FrameBatch, i: number, now: number): void {
    const c = this.counters;
    const k = this.k;
    const spec = this.spec;
    if (this.bucket !== null && !this.bucket.take(now)) {
      c[k.rateLimited]++;
      return;
    }
    if (spec.drop > 0 && this.rng.next() < spec.drop) {
      c[k.dropped]++;
      return;
    }
    let from = src;
    let first = i;
    let count = 1;
    if (spec.corrupt > 0 && this.rng.next() < spec.corrupt) {
      const scratch = this.scratchBatch();
      count = this.corruptCopy(src, i, scratch);
      if (count > 0) {
        from = scratch;
        first = 0;
        c[k.corrupted]++;
      } else count = 1;
    }
    const copies = spec.duplicate > 0 && this.rng.next() < spec.duplicate ? 2 : 1;
    if (copies === 2) c[k.duplicated]++;
    const slot = this.slot;
    if (slot !== null && slot.size === 0 && count === 1 && this.rng.next() < spec.reorder) {
      slot.push(from, first, now + FAULT_REORDER_MAX_HOLD_MS);
      this.slotCopies = copies;
      if (this.sent !== null) this.slotMark = Atomics.load(this.sent.words, this.sent.index);
      c[k.reordered]++;
      return;
    }
    for (let f = first; f < first + count; f++) for (let n = 0; n < copies; n++) this.put(from, f, now);
    if (this.sent !== null) Atomics.add(this.sent.words, this.sent.index, count * copies);
    if (slot !== null && slot.size > 0) this.releaseSlot(slot, now);
  }

  /** Frames whose time has come go out (RX: only while receive() runs). */
  releaseDue(now: number): void {
    const d = this.delayed;
    if (d !== null) {
      while (d.size > 0 && d.nextDue() <= now) {
        if (!this.deliver(d.batch, d.head)) break;
        d.shift();
      }
    }
    const slot = this.slot;
    if (slot !== null && slot.size > 0 && (slot.nextDue() <= now || this.overtaken())) this.releaseSlot(slot, now);
  }

  /** A frame is held and another thread's device has sent one since. */
  private overtaken(): boolean {
    const sent = this.sent;
    return sent !== null && this.slot !== null && this.slot.size > 0 && Atomics.load(sent.words, sent.index) !== this.slotMark;
  }

  /** RX: received frames that did not fit last time go first. */
  releaseCarry(): void {
    const cy = this.carry;
    const out = this.rxOut;
    if (cy === null || out === null) return;
    while (cy.size > 0 && out.count < this.rxLimit) {
      if (copyFrame(cy.batch, cy.head, out) < 0) break;
      cy.shift();
    }
  }

  /** TX: transmits the staged frames; what the inner device refuses or rejects is counted. */
  flushTx(): void {
    const out = this.txOut;
    if (out === null) return; // the RX path
    const k = out.count;
    if (k === 0) return;
    let done = 0;
    while (done < k) {
      const w = this.inner.transmit(out, done);
      if (w <= 0) break;
      done += w;
    }
    this.counters[C.drop_tap_write_error] += k - done + out.failed;
    out.clear();
  }

  private releaseSlot(slot: HeldFrames, now: number): void {
    for (let n = 0; n < this.slotCopies; n++) this.put(slot.batch, 0, now);
    slot.clear();
  }

  /** After the per-frame decisions: into the delay, or out. */
  private put(src: FrameBatch, i: number, now: number): void {
    if (this.delayed !== null) {
      if (this.delayed.push(src, i, now + this.spec.delayMs) < 0) this.counters[this.k.holdFull]++;
      else this.counters[this.k.delayed]++;
      return;
    }
    if (this.deliver(src, i)) return;
    this.carry ??= new HeldFrames(FAULT_HOLD_BYTES, FAULT_HOLD_FRAMES);
    if (this.carry.push(src, i, 0) < 0) this.counters[this.k.holdFull]++;
  }

  /** Hands a frame on: TX to the staging (flushed when full), RX into the caller's batch. False: no room (RX). */
  private deliver(src: FrameBatch, i: number): boolean {
    const tx = this.txOut;
    if (tx !== null) {
      if (copyFrame(src, i, tx) < 0) {
        this.flushTx();
        copyFrame(src, i, tx);
      }
      return true;
    }
    const out = this.rxOut;
    return out !== null && out.count < this.rxLimit && copyFrame(src, i, out) >= 0;
  }

  /**
   * Puts a corrupted copy of frame i of src into the scratch batch `s` (a TX super-frame
   * as segments, one of them corrupted); returns the number of frames there, 0 when the
   * frame is not IPv4 (left alone).
   */
  private corruptCopy(src: FrameBatch, i: number, s: FrameBatch): number {
    const off = src.offsets[i];
    const len = src.lens[i];
    if (len <= ETH_HEADER_LEN + 20 || ethType(src.buf, off) !== ETHERTYPE_IPV4) return 0;
    s.clear();
    const seg = src.segSize[i];
    const segments = this.dir === TX && seg > 0 ? tcpSegmentCount(src.buf, off, len, seg) : 0;
    if (segments > 0) {
      for (let n = 0; n < segments; n++) {
        const o = s.reserve(ETH_HEADER_LEN + 60 + 60 + seg);
        if (o < 0) break;
        s.commit(writeTcpSegment(src.buf, off, len, seg, n, s.buf, o), null);
      }
      this.flipBit(s, this.rng.below(s.count));
      return s.count;
    }
    const j = copyFrame(src, i, s);
    if (j < 0) return 0;
    if (this.dir === RX) {
      if ((s.rxFlags[j] & RX_CSUM_PARTIAL) !== 0) completeL4Checksum(s.buf, s.offsets[j], len);
      s.rxFlags[j] = s.rxFlags[j] & ~(RX_CSUM_PARTIAL | RX_CSUM_VERIFIED);
    } else if (s.csumStart[j] >= 0) {
      completeChecksum(s.buf, s.offsets[j], len, s.csumStart[j], s.csumOffset[j]);
      s.setOffload(j, null);
    }
    this.flipBit(s, j);
    return 1;
  }

  /** The batch corrupted copies are made in (allocated on first use). */
  private scratchBatch(): FrameBatch {
    return (this.scratch ??= new FrameBatch(new Uint8Array(SCRATCH_BYTES), SCRATCH_FRAMES));
  }

  /** Flips one random bit of one random byte after the Ethernet header of frame j. */
  private flipBit(b: FrameBatch, j: number): void {
    const pos = ETH_HEADER_LEN + this.rng.below(b.lens[j] - ETH_HEADER_LEN);
    b.buf[b.offsets[j] + pos] ^= 1 << this.rng.below(8);
  }
}

/** A counter word shared between threads (Atomics). */
export interface SharedCount {
  words: Int32Array;
  index: number;
}

/** Options of a FaultDevice. */
export interface FaultDeviceOptions {
  /** Which stream of the seed this device draws from (the thread: 0 for the I/O thread, 1 + worker index). */
  stream: number;
  /**
   * Frames transmitted by every thread's device, shared: a frame held for reordering is due
   * once any of them has sent a frame after it (default: only this device's own frames).
   */
  txFrames?: SharedCount;
  /** Time for delays, reordering and rates (default: the process-wide monotonic clock, ms). */
  clock?: () => number;
}

/** A LinkDevice that breaks frames on their way through, reproducibly. */
export class FaultDevice implements HoldingLinkDevice {
  readonly capabilities: LinkCapabilities;
  private readonly rx: FaultPath | null;
  private readonly tx: FaultPath | null;
  private readonly clock: () => number;
  /** Frames received from the inner device before the faults (allocated on first receive). */
  private own: FrameBatch | null = null;

  constructor(private readonly inner: LinkDevice, config: FaultConfig, counters: Counters, opts: FaultDeviceOptions) {
    // Frames in pieces (txGather) are not offered: this device reads or keeps every frame's bytes.
    this.capabilities = { ...inner.capabilities, txGather: false };
    this.clock = opts.clock ?? monoMs;
    this.rx = faultsActive(config.rx) ? new FaultPath(RX, config.rx, config.seed, opts.stream, counters, inner, null) : null;
    this.tx = faultsActive(config.tx) ? new FaultPath(TX, config.tx, config.seed, opts.stream, counters, inner, opts.txFrames ?? null) : null;
  }

  nextDue(): number {
    const r = this.rx !== null ? this.rx.nextDue() : Infinity;
    const t = this.tx !== null ? this.tx.nextDue() : Infinity;
    return r < t ? r : t;
  }

  releaseDue(now: number): void {
    if (this.tx === null) return;
    this.tx.releaseDue(now);
    this.tx.flushTx();
  }

  transmit(batch: FrameBatch, first: number): number {
    const tx = this.tx;
    if (tx === null) return this.inner.transmit(batch, first);
    const now = this.clock();
    tx.releaseDue(now);
    for (let i = first; i < batch.count; i++) tx.process(batch, i, now);
    tx.flushTx();
    return batch.count - first;
  }

  receive(batch: FrameBatch, max: number, timeoutMs: number): number {
    let now = this.clock();
    this.releaseDue(now);
    const rx = this.rx;
    if (rx === null) return this.inner.receive(batch, max, this.wait(timeoutMs, now));
    const limit = Math.min(max, batch.capacity);
    rx.rxOut = batch;
    rx.rxLimit = limit;
    try {
      rx.releaseCarry();
      rx.releaseDue(now);
      if (batch.count >= limit) return batch.count;
      if (this.own === null || this.own.buf.length < batch.buf.length || this.own.capacity < batch.capacity) {
        this.own = new FrameBatch(new Uint8Array(batch.buf.length), batch.capacity);
      }
      const own = this.own;
      own.clear();
      const wait = batch.count > 0 ? 0 : this.wait(timeoutMs, now);
      const n = this.inner.receive(own, limit - batch.count, wait);
      if (n < 0) return batch.count > 0 ? batch.count : n;
      if (n === 0 && wait === 0) return batch.count;
      now = this.clock();
      this.releaseDue(now);
      rx.releaseDue(now); // frames that came due while waiting go before the new ones
      for (let i = 0; i < n; i++) rx.process(own, i, now);
      return batch.count;
    } finally {
      rx.rxOut = null;
    }
  }

  /** The caller's receive timeout, shortened to when the next held frame is due. */
  private wait(timeoutMs: number, now: number): number {
    if (timeoutMs === 0) return 0;
    const due = this.nextDue();
    if (due === Infinity) return timeoutMs;
    const w = due <= now ? 0 : Math.ceil(due - now);
    return timeoutMs < 0 || w < timeoutMs ? w : timeoutMs;
  }
}
