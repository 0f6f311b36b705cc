/**
 * SPSC ring of variable-length records in a SharedArrayBuffer.
 *
 * One producer thread and one consumer thread share one SharedArrayBuffer: a control
 * area followed by a power-of-two data area. Records are written in place (reserve,
 * write the payload at the returned offset, commit) and become visible to the consumer
 * only when the producer publishes, once per batch.
 *
 * Design choices:
 * - head (producer) and tail (consumer) are free-running u32 BYTE counters, each alone on
 *   its own 64-byte line; used = (head - tail) >>> 0, so full and empty never look alike
 *   and no slot is wasted. The data size is a power of two so `counter & mask` is the
 *   position. The sleeping flag / wait word and the producer's statistics have lines of
 *   their own too.
 * - Publishing is one Atomics.store of head per BATCH (measured 2–4× over per-record),
 *   releasing one Atomics.store of tail per batch. Record bytes are plain writes made
 *   before the publishing store and plain reads made after the consumer's Atomics.load
 *   of head: JS Atomics are sequentially consistent, so this is the needed ordering.
 * - Each side keeps a cached copy of the other side's index and reloads it only when the
 *   ring looks full (producer) or empty (consumer): no cache-line bouncing per record.
 * - Record = 32-byte header + payload, padded to 16 bytes, so payloads always start
 *   16-byte aligned (copying into a SAB is ~4× slower to unaligned destinations).
 *   Header: u32 length @0, u16 kind @4, u16 flags @6, u32 seq @8 (producer's record
 *   counter, wraps), u32 pad @12, f64 t0 @16, f64 t1 @24.
 * - A record is never split across the end: when it does not fit before the end, a wrap
 *   marker (length 0xFFFFFFFF) is written and the record starts at position 0; the
 *   consumer skips the rest of the area. The data area is at least twice the largest
 *   record, so an empty ring can always take a maximum-size record.
 * - A full ring never blocks or corrupts the producer: reserve returns -1, the caller
 *   drops and counts (noteDrop) or publishes and retries.
 * - Wake-ups: the consumer spins a few thousand polls, then raises its sleeping flag,
 *   RE-CHECKS head, and only then parks (Atomics.wait on the flag word with expected
 *   value 1, or its event loop: see RingProducer.signal). The producer stores head, THEN loads the flag and clears it with
 *   a compare-exchange; exactly the one publish() that clears it returns true and the
 *   caller notifies. Both sides are seq-cst Atomics (a Dekker pattern), so at least one
 *   side sees the other: a wake-up cannot be lost, and a clear that races the park makes
 *   Atomics.wait return "not-equal" at once. The producer never notifies otherwise
 *   (a notify per frame costs more than the frame). A notify can arrive late, into the
 *   consumer's NEXT sleep (when a publish won the flag while the consumer was refusing
 *   to sleep); waitSync then finds no records and parks again for the time left, so it
 *   returns false only on timeout. A shard worker sleeps in its event loop instead, woken
 *   through an eventfd (phy/loop-waker.ts); the ring's flag protocol is the same.
 * - Room: a producer that refused records for room and would sleep raises the ring's
 *   room flag (wantRoom), then re-checks the tail (roomToResume); the consumer, after
 *   each release(), claims the flag with a compare-exchange (roomWanted) and wakes the
 *   producer's thread. The same Dekker pattern as the sleeping flag: the producer's store
 *   of the flag and load of tail, the consumer's store of tail and load of the flag.
 * - No allocation per record: all header access goes through typed-array views created
 *   once per endpoint; reserve/commit/next/release/publish allocate nothing. push()
 *   copies allocation-free for whole-view sources and for small aligned ones, and
 *   otherwise makes one temporary view (V8 has no allocation-free memcpy between two
 *   buffers; Buffer.prototype.copy makes one internally too).
 * - This file has no imports, so tests can transpile it standalone for worker threads.
 */

/** Bytes of the header in front of every record's payload. */
export const RING_RECORD_HEADER = 32;
/** Largest payload one record may carry: a 64 KiB super-frame plus 64 bytes of headers. */
export const RING_MAX_RECORD = 65536 + 64;
/** Bytes of the control area in front of the data area (indices, flag, statistics). */
export const RING_CONTROL_BYTES = 512;
/** Largest ring footprint of one record (header + maximum payload, 16-byte padded). */
const MAX_FOOTPRINT = (RING_RECORD_HEADER + RING_MAX_RECORD + 15) & ~15;
/** Smallest data area createRingBuffer accepts: the power of two ≥ 2 × the largest record. */
export const RING_MIN_DATA_BYTES = 1 << Math.ceil(Math.log2(2 * MAX_FOOTPRINT));
/** Largest data area createRingBuffer accepts (keeps u32 counter arithmetic exact). */
export const RING_MAX_DATA_BYTES = 1 << 30;
/** Length value of a wrap marker record: the rest of the data area is skipped. */
export const RING_WRAP_MARKER = 0xffffffff;

// Control area, as Int32Array indices. Every group sits on its own 64-byte line.
const MAGIC = 0; // constants line: magic, data bytes
const SIZE = 1;
const HEAD = 16; // byte 64: producer's published head (u32 byte counter)
const TAIL = 32; // byte 128: consumer's released tail (u32 byte counter)
const SLEEP = 48; // byte 192: consumer's sleeping flag = wait word (0 awake, 1 sleeping)
const HIGH_WATER = 64; // byte 256: producer statistics
const FULL_DROPS = 65;
const RECORDS = 66;
const WAKEUPS = 67;
const ROOM = 80; // byte 320: the producer waits for room (1), until the consumer frees some and claims it
const MAGIC_VALUE = 0x52494e47; // "RING"

/** Default number of polls the wait methods spin before parking. */
const DEFAULT_SPINS = 2000;

/** Occupancy and event counters of a ring, as read by ringStats(). */
export interface RingStats {
  /** Bytes of the data area. */
  capacity: number;
  /** Bytes published and not yet released (records, their padding and wrap markers). */
  used: number;
  /** Largest `used` seen at a publish, in bytes. */
  highWater: number;
  /** Records dropped because the ring was full (noteDrop / failed push). */
  fullDrops: number;
  /** Records committed in total (as of the producer's last publish). */
  records: number;
  /** Notifies sent to the consumer (wake()). */
  wakeups: number;
}

/**
 * Allocates a ring: control area plus `dataBytes` of data area. `dataBytes` must be a
 * power of two between RING_MIN_DATA_BYTES (262144) and RING_MAX_DATA_BYTES, else RangeError.
 */
export function createRingBuffer(dataBytes: number): SharedArrayBuffer {
  if (
    !Number.isInteger(dataBytes) ||
    dataBytes < RING_MIN_DATA_BYTES ||
    dataBytes > RING_MAX_DATA_BYTES ||
    (dataBytes & (dataBytes - 1)) !== 0
  ) {
    throw new RangeError(
      `ring data size must be a power of two in [${RING_MIN_DATA_BYTES}, ${RING_MAX_DATA_BYTES}], got ${dataBytes}`,
    );
  }
  const sab = new SharedArrayBuffer(RING_CONTROL_BYTES + dataBytes);
  const ctl = new Int32Array(sab, 0, RING_CONTROL_BYTES >> 2);
  ctl[SIZE] = dataBytes;
  Atomics.store(ctl, MAGIC, MAGIC_VALUE);
  return sab;
}

/** Checks that `sab` is a ring and returns its data size. */
function ringSize(ctl: Int32Array, sab: SharedArrayBuffer): number {
  const size = Atomics.load(ctl, SIZE);
  if (Atomics.load(ctl, MAGIC) !== MAGIC_VALUE || sab.byteLength !== RING_CONTROL_BYTES + size) {
    throw new TypeError('not a ring buffer (use createRingBuffer)');
  }
  return size;
}

/** Reads a ring's statistics; any thread, any time (each field is one Atomics.load). */
export function ringStats(sab: SharedArrayBuffer): RingStats {
  const ctl = new Int32Array(sab, 0, RING_CONTROL_BYTES >> 2);
  const capacity = ringSize(ctl, sab);
  // Tail first: head only grows and never passes tail + capacity, so head - tail is sane
  // even when a publish or release lands between the two loads.
  const tail = Atomics.load(ctl, TAIL);
  const head = Atomics.load(ctl, HEAD);
  const used = (head - tail) >>> 0;
  return {
    capacity,
    used: used > capacity ? 0 : used,
    highWater: Atomics.load(ctl, HIGH_WATER) >>> 0,
    fullDrops: Atomics.load(ctl, FULL_DROPS) >>> 0,
    records: Atomics.load(ctl, RECORDS) >>> 0,
    wakeups: Atomics.load(ctl, WAKEUPS) >>> 0,
  };
}

/** The writing end of a ring. Use from exactly one thread at a time. */
export class RingProducer {
  /** The data area; offsets returned by reserve() index into it. */
  readonly buf: Uint8Array;
  /** The control area; `waitWord[waitIndex]` is the consumer's sleeping flag / wait word. */
  readonly waitWord: Int32Array;
  /** Index of the consumer's wait word in `waitWord`. */
  readonly waitIndex = SLEEP;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  /** Int32 view of the data area, for push's word copy. */
  private readonly words: Int32Array;
  /** Source buffer of the last word-copied push, and an Int32 view of it. */
  private srcBuffer: ArrayBufferLike | null = null;
  private srcWords: Int32Array = new Int32Array(0);
  private readonly size: number;
  private readonly mask: number;
  /** Local head: end of the last committed record (u32 byte counter). */
  private head: number;
  /** Cached consumer tail; reloaded only when the ring looks full. */
  private tailCache: number;
  /** Counter value where the reserved record starts (after any wrap). */
  private resStart = 0;
  /** Payload bytes reserved, or -1 when nothing is reserved. */
  private resMax = -1;
  private pendingCount = 0;
  private committed = 0;
  private highWater = 0;
  private drops = 0;
  private wakeups = 0;

  /** Attaches to a ring made by createRingBuffer, continuing from its current head. */
  constructor(sab: SharedArrayBuffer) {
    this.waitWord = new Int32Array(sab, 0, RING_CONTROL_BYTES >> 2);
    this.size = ringSize(this.waitWord, sab);
    this.mask = this.size - 1;
    this.buf = new Uint8Array(sab, RING_CONTROL_BYTES, this.size);
    this.u16 = new Uint16Array(sab, RING_CONTROL_BYTES, this.size >> 1);
    this.u32 = new Uint32Array(sab, RING_CONTROL_BYTES, this.size >> 2);
    this.f64 = new Float64Array(sab, RING_CONTROL_BYTES, this.size >> 3);
    this.words = new Int32Array(sab, RING_CONTROL_BYTES, this.size >> 2);
    this.head = Atomics.load(this.waitWord, HEAD) >>> 0;
    this.tailCache = Atomics.load(this.waitWord, TAIL) >>> 0;
    this.committed = Atomics.load(this.waitWord, RECORDS) >>> 0;
    this.highWater = Atomics.load(this.waitWord, HIGH_WATER) >>> 0;
    this.drops = Atomics.load(this.waitWord, FULL_DROPS) >>> 0;
    this.wakeups = Atomics.load(this.waitWord, WAKEUPS) >>> 0;
  }

  /**
   * Reserves room for a record of up to `maxLen` payload bytes (0..RING_MAX_RECORD, else
   * RangeError). Returns the 16-byte-aligned offset in `buf` where the payload goes, or
   * -1 if the ring has no room: then drop and call noteDrop(), or publish() (waking the
   * consumer if it returns true) and retry later; unpublished records keep their space.
   * A second reserve() before commit() replaces the first.
   */
  reserve(maxLen: number): number {
    if (!(maxLen >= 0 && maxLen <= RING_MAX_RECORD)) {
      throw new RangeError(`record length ${maxLen} outside 0..${RING_MAX_RECORD}`);
    }
    const need = (RING_RECORD_HEADER + maxLen + 15) & ~15;
    const pos = this.head & this.mask;
    const toEnd = this.size - pos;
    const skip = need > toEnd ? toEnd : 0;
    if (skip + need > this.size - ((this.head - this.tailCache) >>> 0)) {
      this.tailCache = Atomics.load(this.waitWord, TAIL) >>> 0;
      if (skip + need > this.size - ((this.head - this.tailCache) >>> 0)) {
        this.resMax = -1;
        return -1;
      }
    }
    // The marker lies in space the consumer cannot see until publish; a later reserve
    // that does not wrap simply overwrites it.
    if (skip !== 0) this.u32[pos >> 2] = RING_WRAP_MARKER;
    this.resStart = (this.head + skip) >>> 0;
    this.resMax = maxLen;
    return (skip !== 0 ? 0 : pos) + RING_RECORD_HEADER;
  }

  /**
   * Finishes the reserved record with its real payload length (≤ the reserved maxLen),
   * application tag `kind` (u16), timestamps `t0`/`t1` (ms) and `flags` (u16). The record
   * stays invisible to the consumer until publish().
   */
  commit(len: number, kind: number, t0: number, t1: number, flags = 0): void {
    if (!(len >= 0 && len <= this.resMax)) {
      throw new RangeError(
        this.resMax < 0 ? 'commit() without a successful reserve()' : `commit length ${len} > reserved ${this.resMax}`,
      );
    }
    const p = this.resStart & this.mask;
    const w = p >> 2;
    this.u32[w] = len;
    this.u16[(p >> 1) + 2] = kind;
    this.u16[(p >> 1) + 3] = flags;
    this.u32[w + 2] = this.committed;
    this.u32[w + 3] = 0;
    this.f64[(p >> 3) + 2] = t0;
    this.f64[(p >> 3) + 3] = t1;
    this.head = (this.resStart + ((RING_RECORD_HEADER + len + 15) & ~15)) >>> 0;
    this.resMax = -1;
    this.committed = (this.committed + 1) >>> 0;
    this.pendingCount++;
  }

  /**
   * reserve + copy `len` bytes of `src` from `srcOff` + commit. Returns false, counting a
   * full drop, if the ring has no room. Copying allocates nothing when `src` is exactly
   * the record (srcOff 0, len = src.length: native memcpy), or for records ≤ 512 bytes
   * at a 4-byte-aligned source (word loop over a view of src.buffer cached per source
   * buffer). Otherwise it makes one temporary subarray view: V8 has no allocation-free
   * memcpy between two buffers (Buffer.prototype.copy makes a view internally too).
   * Zero-copy producers use reserve/commit instead.
   */
  push(src: Uint8Array, srcOff: number, len: number, kind: number, t0: number, t1: number, flags = 0): boolean {
    if (srcOff < 0 || srcOff + len > src.length) throw new RangeError('push source range out of bounds');
    const off = this.reserve(len);
    if (off < 0) {
      this.noteDrop();
      return false;
    }
    const buf = this.buf;
    if (srcOff === 0 && len === src.length) {
      buf.set(src, off);
    } else if (len <= 512 && ((src.byteOffset + srcOff) & 3) === 0) {
      if (src.buffer !== this.srcBuffer) {
        this.srcBuffer = src.buffer;
        this.srcWords = new Int32Array(src.buffer, 0, src.buffer.byteLength >> 2);
      }
      const sw = this.srcWords;
      const dw = this.words;
      const s = (src.byteOffset + srcOff) >> 2;
      const d = off >> 2;
      const n = len >> 2;
      for (let i = 0; i < n; i++) dw[d + i] = sw[s + i];
      for (let i = n << 2; i < len; i++) buf[off + i] = src[srcOff + i];
    } else if (len <= 64) {
      for (let i = 0; i < len; i++) buf[off + i] = src[srcOff + i];
    } else {
      buf.set(src.subarray(srcOff, srcOff + len), off);
    }
    this.commit(len, kind, t0, t1, flags);
    return true;
  }

  /** Counts one record dropped because the ring was full (visible in ringStats().fullDrops). */
  noteDrop(): void {
    this.drops = (this.drops + 1) >>> 0;
    Atomics.store(this.waitWord, FULL_DROPS, this.drops);
  }

  /**
   * Makes every committed record visible with one Atomics.store of head and updates the
   * statistics. Returns true iff the consumer had raised its sleeping flag, which this
   * call clears atomically (exactly one publish returns true per sleep): the caller must
   * then call wake(). Cheap when nothing is pending (returns false at once).
   */
  publish(): boolean {
    if (this.pendingCount === 0) return false;
    const ctl = this.waitWord;
    Atomics.store(ctl, HEAD, this.head);
    this.pendingCount = 0;
    Atomics.store(ctl, RECORDS, this.committed);
    if (((this.head - this.tailCache) >>> 0) > this.highWater) {
      // Only a stale tail can overstate use; refresh it before raising the mark.
      this.tailCache = Atomics.load(ctl, TAIL) >>> 0;
      const used = (this.head - this.tailCache) >>> 0;
      if (used > this.highWater) {
        this.highWater = used;
        Atomics.store(ctl, HIGH_WATER, used);
      }
    }
    // Plain load first: a failing compare-exchange would still take the line exclusive.
    return this.claimSleeping();
  }

  /**
   * Clears the consumer's sleeping flag if it is raised, as publish() does, without
   * publishing: true when this call cleared it. Lets a producer that is about to wake a
   * consumer which sleeps on several rings (the I/O thread on every TX ring) spare the
   * producers of its other rings a second wake-up: clear them first, then wake.
   */
  claimSleeping(): boolean {
    const ctl = this.waitWord;
    return Atomics.load(ctl, SLEEP) !== 0 && Atomics.compareExchange(ctl, SLEEP, 1, 0) === 1;
  }

  /**
   * How the consumer is woken: null (the default) notifies the wait word, for a consumer
   * parked in waitSync; a consumer that sleeps elsewhere (its event loop,
   * watching an eventfd) sets the function that wakes it there.
   */
  signal: (() => void) | null = null;

  /** Wakes the sleeping consumer (call after publish() returned true). */
  wake(): void {
    this.wakeups = (this.wakeups + 1) >>> 0;
    Atomics.store(this.waitWord, WAKEUPS, this.wakeups);
    if (this.signal !== null) this.signal();
    else Atomics.notify(this.waitWord, SLEEP);
  }

  /** The byte counter just past the last committed record (u32): released(position) tells when the consumer is past it. */
  get position(): number {
    return this.head;
  }

  /** True when the consumer has released everything up to `position` (a value of `position` taken earlier; reloads its tail). */
  released(position: number): boolean {
    this.tailCache = Atomics.load(this.waitWord, TAIL) >>> 0;
    // Counters wrap at 2^32 and at most the ring's size (< 2^31) is outstanding: the signed
    // distance decides. A position older than 2^31 bytes reads as not yet released, which
    // only keeps a flow on the ring.
    return ((this.tailCache - position) | 0) >= 0;
  }

  /** Records committed but not yet published. */
  pending(): number {
    return this.pendingCount;
  }

  /**
   * Asks the consumer to report the room it frees next (RingConsumer.roomWanted), before
   * this side sleeps while it holds records it could not place. Check roomToResume() after
   * it: room freed before the request was seen is reported there, not by the consumer.
   */
  wantRoom(): void {
    Atomics.store(this.waitWord, ROOM, 1);
  }

  /**
   * True when the ring has room to resume: a quarter of it free, and at least two of the
   * largest records, so that the next reserve() cannot fail (reloads the consumer's tail).
   */
  roomToResume(): boolean {
    this.tailCache = Atomics.load(this.waitWord, TAIL) >>> 0;
    const free = this.size - ((this.head - this.tailCache) >>> 0);
    return free >= (this.size >>> 2) && free >= 2 * MAX_FOOTPRINT;
  }

  /** True when every committed record was published and released by the consumer. */
  drained(): boolean {
    if (this.pendingCount !== 0) return false;
    this.tailCache = Atomics.load(this.waitWord, TAIL) >>> 0;
    return this.tailCache === this.head;
  }
}

/** The reading end of a ring. Use from exactly one thread at a time. */
export class RingConsumer {
  /** The data area; offsets returned by next() index into it. */
  readonly buf: Uint8Array;
  /** The control area; `waitWord[waitIndex]` is this consumer's sleeping flag / wait word. */
  readonly waitWord: Int32Array;
  /** Index of the wait word in `waitWord`. */
  readonly waitIndex = SLEEP;
  /** Payload length of the record last returned by next(). */
  length = 0;
  /** Application tag of the record last returned by next(). */
  kind = 0;
  /** Flags of the record last returned by next(). */
  flags = 0;
  /** Producer's u32 record counter stamped on the record last returned by next(). */
  seq = 0;
  /** First timestamp (ms) of the record last returned by next(). */
  t0 = 0;
  /** Second timestamp (ms) of the record last returned by next(). */
  t1 = 0;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  private readonly size: number;
  private readonly mask: number;
  /** Read position: end of the last record returned by next() (u32 byte counter). */
  private readPos: number;
  /** Tail as last released. */
  private released: number;
  /** Cached producer head; reloaded only when the ring looks empty. */
  private headCache: number;

  /** Attaches to a ring made by createRingBuffer, continuing from its current tail. */
  constructor(sab: SharedArrayBuffer) {
    this.waitWord = new Int32Array(sab, 0, RING_CONTROL_BYTES >> 2);
    this.size = ringSize(this.waitWord, sab);
    this.mask = this.size - 1;
    this.buf = new Uint8Array(sab, RING_CONTROL_BYTES, this.size);
    this.u16 = new Uint16Array(sab, RING_CONTROL_BYTES, this.size >> 1);
    this.u32 = new Uint32Array(sab, RING_CONTROL_BYTES, this.size >> 2);
    this.f64 = new Float64Array(sab, RING_CONTROL_BYTES, this.size >> 3);
    this.readPos = this.released = Atomics.load(this.waitWord, TAIL) >>> 0;
    this.headCache = Atomics.load(this.waitWord, HEAD) >>> 0;
  }

  /**
   * Returns the payload offset in `buf` of the next published record and sets length,
   * kind, flags, seq, t0, t1; or -1 if there is none. Wrap markers are skipped. The
   * payload stays valid until release().
   */
  next(): number {
    for (;;) {
      if (this.readPos === this.headCache) {
        this.headCache = Atomics.load(this.waitWord, HEAD) >>> 0;
        if (this.readPos === this.headCache) return -1;
      }
      const p = this.readPos & this.mask;
      const w = p >> 2;
      const len = this.u32[w];
      if (len === RING_WRAP_MARKER) {
        this.readPos = (this.readPos + (this.size - p)) >>> 0;
        continue;
      }
      this.length = len;
      this.kind = this.u16[(p >> 1) + 2];
      this.flags = this.u16[(p >> 1) + 3];
      this.seq = this.u32[w + 2];
      this.t0 = this.f64[(p >> 3) + 2];
      this.t1 = this.f64[(p >> 3) + 3];
      this.readPos = (this.readPos + ((RING_RECORD_HEADER + len + 15) & ~15)) >>> 0;
      return p + RING_RECORD_HEADER;
    }
  }

  /**
   * The second timestamp (t1) of the next published record next() would return, without
   * taking it; Infinity when there is none. Skips a wrap marker as next() would.
   */
  peekT1(): number {
    for (;;) {
      if (this.readPos === this.headCache) {
        this.headCache = Atomics.load(this.waitWord, HEAD) >>> 0;
        if (this.readPos === this.headCache) return Infinity;
      }
      const p = this.readPos & this.mask;
      if (this.u32[p >> 2] === RING_WRAP_MARKER) {
        this.readPos = (this.readPos + (this.size - p)) >>> 0;
        continue;
      }
      return this.f64[(p >> 3) + 3];
    }
  }

  /**
   * Frees the space of every record returned by next() so far (one Atomics.store of
   * tail; nothing when there is nothing new). Release before waiting: unreleased space
   * stays unavailable to a producer that may be waiting for room.
   */
  release(): void {
    if (this.readPos !== this.released) {
      this.released = this.readPos;
      Atomics.store(this.waitWord, TAIL, this.readPos);
    }
  }

  /**
   * True, once per request, when the producer asked to hear of freed room (wantRoom): call
   * after release(), and wake the producer's thread when it returns true.
   */
  roomWanted(): boolean {
    return Atomics.load(this.waitWord, ROOM) !== 0 && Atomics.compareExchange(this.waitWord, ROOM, 1, 0) === 1;
  }

  /** True when no published record is left beyond those next() has returned. */
  isEmpty(): boolean {
    if (this.readPos !== this.headCache) return false;
    this.headCache = Atomics.load(this.waitWord, HEAD) >>> 0;
    return this.readPos === this.headCache;
  }

  /**
   * Raises the sleeping flag, then re-checks head. Returns true if the caller may park
   * (on `waitWord[waitIndex]` with expected value 1); false, with the flag lowered, if
   * records arrived meanwhile.
   */
  setSleeping(): boolean {
    Atomics.store(this.waitWord, SLEEP, 1);
    if (this.isEmpty()) return true;
    Atomics.store(this.waitWord, SLEEP, 0);
    return false;
  }

  /** Lowers the sleeping flag (after a park, or when giving up on parking). */
  clearSleeping(): void {
    Atomics.store(this.waitWord, SLEEP, 0);
  }

  /**
   * Waits for records: polls head `spins` times, then raises the sleeping flag and parks
   * with Atomics.wait. Returns true as soon as records are available, false only once
   * `timeoutMs` has passed: a stale notify (from a publish that raced a refused sleep)
   * just parks again for the time left. Blocks the thread; call release() first.
   */
  waitSync(timeoutMs: number, spins = DEFAULT_SPINS): boolean {
    if (this.spin(spins)) return true;
    const deadline = performance.now() + timeoutMs;
    let left = timeoutMs;
    for (;;) {
      if (!this.setSleeping()) return true;
      const r = Atomics.wait(this.waitWord, SLEEP, 1, left);
      this.clearSleeping();
      if (!this.isEmpty()) return true;
      if (r === 'timed-out' || (left = deadline - performance.now()) <= 0) return false;
    }
  }

  /** Polls head up to `spins` times; true as soon as a record is published. */
  spin(spins = DEFAULT_SPINS): boolean {
    if (!this.isEmpty()) return true;
    const ctl = this.waitWord;
    const pos = this.readPos;
    for (let i = 0; i < spins; i++) {
      if (Atomics.load(ctl, HEAD) >>> 0 !== pos) {
        this.headCache = Atomics.load(ctl, HEAD) >>> 0;
        return true;
      }
    }
    return false;
  }
}
