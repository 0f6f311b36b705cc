/**
 * Tests of the SPSC record ring (src/dataplane/ring.ts).
 *
 * Single-thread tests pin the contract: exact fill, wrap markers, 16-byte alignment,
 * header round trip, high-water mark, batch visibility, the sleeping-flag protocol and
 * the producer's signal hook. The two-thread stress tests run a producer worker
 * (fixtures/ring-producer.mjs) against a consumer in this thread that parks with
 * waitSync, or sleeps in its event loop woken through an eventfd as a shard worker
 * does, checking every sequence number and every payload checksum. The worker needs JS: beforeAll transpiles ring.ts alone with
 * typescript's transpileModule into a temp dir (ring.ts has no imports), so the worker
 * runs exactly the source under test and nothing depends on a stale or broken dist/.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EventfdLoopWaker } from '../../src/phy/loop-waker.js';
import { loadTapAddon } from '../../src/phy/tap.js';
import { packageRoot } from '../../src/phy/package-root.js';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRingBuffer,
  ringStats,
  RingConsumer,
  RingProducer,
  RING_CONTROL_BYTES,
  RING_MAX_RECORD,
  RING_MIN_DATA_BYTES,
  RING_RECORD_HEADER,
} from '../../src/dataplane/ring.js';

const SIZE = RING_MIN_DATA_BYTES; // 262144
const foot = (len: number): number => (RING_RECORD_HEADER + len + 15) & ~15;

function pair(size = SIZE): { sab: SharedArrayBuffer; p: RingProducer; c: RingConsumer } {
  const sab = createRingBuffer(size);
  return { sab, p: new RingProducer(sab), c: new RingConsumer(sab) };
}

function fillPattern(buf: Uint8Array, off: number, len: number, tag: number): void {
  for (let i = 0; i < len; i++) buf[off + i] = (tag * 31 + i * 7) & 0xff;
}

function checkPattern(buf: Uint8Array, off: number, len: number, tag: number): boolean {
  for (let i = 0; i < len; i++) if (buf[off + i] !== ((tag * 31 + i * 7) & 0xff)) return false;
  return true;
}

describe('ring: single thread', () => {
  it('validates the data size', () => {
    expect(RING_MIN_DATA_BYTES).toBe(262144);
    expect(() => createRingBuffer(SIZE / 2)).toThrow(RangeError);
    expect(() => createRingBuffer(SIZE + 4096)).toThrow(RangeError);
    expect(() => createRingBuffer(1.5)).toThrow(RangeError);
    const sab = createRingBuffer(SIZE);
    expect(sab.byteLength).toBe(RING_CONTROL_BYTES + SIZE);
    expect(ringStats(sab)).toEqual({ capacity: SIZE, used: 0, highWater: 0, fullDrops: 0, records: 0, wakeups: 0 });
    expect(() => new RingProducer(new SharedArrayBuffer(RING_CONTROL_BYTES + SIZE))).toThrow(TypeError);
  });

  it('fills to exactly full, then reserve returns -1 and drops are counted', () => {
    const { sab, p, c } = pair();
    const len = 4096 - RING_RECORD_HEADER; // footprint exactly 4096
    const n = SIZE / 4096;
    for (let i = 0; i < n; i++) {
      const off = p.reserve(len);
      expect(off).toBe(i * 4096 + RING_RECORD_HEADER);
      fillPattern(p.buf, off, len, i);
      p.commit(len, 1, i, 0);
    }
    expect(p.reserve(0)).toBe(-1);
    p.noteDrop();
    expect(p.push(new Uint8Array(1), 0, 1, 1, 0, 0)).toBe(false); // counts a drop itself
    expect(p.publish()).toBe(false);
    expect(ringStats(sab)).toMatchObject({ used: SIZE, highWater: SIZE, fullDrops: 2, records: n });
    // Still full after publish; freeing one record makes room for exactly one more.
    expect(p.reserve(0)).toBe(-1);
    expect(c.next()).toBe(RING_RECORD_HEADER);
    expect(checkPattern(c.buf, RING_RECORD_HEADER, len, 0)).toBe(true);
    expect(p.reserve(0)).toBe(-1); // not released yet
    c.release();
    expect(p.reserve(len + 1)).toBe(-1); // footprint 4112 > 4096 free
    expect(p.reserve(len)).toBe(RING_RECORD_HEADER); // wrapped to position 0, no marker needed
    p.commit(len, 1, n, 0);
    p.publish();
    for (let i = 1; i <= n; i++) {
      const off = c.next();
      expect(off).toBe((i * 4096) % SIZE + RING_RECORD_HEADER);
      expect(c.t0).toBe(i);
      if (i < n) expect(checkPattern(c.buf, off, len, i)).toBe(true);
    }
    expect(c.next()).toBe(-1);
    c.release();
    expect(ringStats(sab).used).toBe(0);
  });

  it('wraps with a marker so records are never split', () => {
    const { sab, p, c } = pair();
    const big = RING_MAX_RECORD; // footprint 65648
    for (let i = 0; i < 3; i++) expect(p.push(new Uint8Array(big).fill(i + 1), 0, big, 7, i, 0)).toBe(true);
    p.publish();
    for (let i = 0; i < 3; i++) expect(c.next()).toBe(i * foot(big) + RING_RECORD_HEADER);
    c.release();
    // 3 * 65648 = 196944; 65200 bytes remain before the end: too few, so wrap.
    const off = p.reserve(big);
    expect(off).toBe(RING_RECORD_HEADER);
    fillPattern(p.buf, off, big, 9);
    p.commit(big, 8, 3, 4);
    p.publish();
    expect(ringStats(sab).used).toBe(SIZE - 3 * foot(big) + foot(big)); // skipped tail counts as used
    expect(c.peekT1()).toBe(4); // past the marker, without taking the record
    expect(c.next()).toBe(RING_RECORD_HEADER);
    expect([c.length, c.kind, c.t0, c.t1]).toEqual([big, 8, 3, 4]);
    expect(checkPattern(c.buf, off, big, 9)).toBe(true);
    expect(c.next()).toBe(-1);
    c.release();
    expect(ringStats(sab).used).toBe(0);
  });

  it('survives many wraps with random sizes, interleaving and abandoned reservations', () => {
    const { sab, p, c } = pair();
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const queue: number[] = []; // lengths committed, in order
    let produced = 0;
    let consumed = 0;
    let wrapsSeen = 0;
    let lastOff = 0;
    const src = new Uint8Array(RING_MAX_RECORD);
    while (consumed < 20000) {
      for (let k = rnd(8); k > 0; k--) {
        const len = rnd(50) === 0 ? 60000 + rnd(RING_MAX_RECORD - 60000 + 1) : rnd(9001);
        if (rnd(10) === 0) p.reserve(len); // abandoned: the next reserve replaces it
        if (rnd(2)) {
          fillPattern(src, 0, len, produced);
          if (!p.push(src, 0, len, produced & 0xffff, produced, -produced, len & 0xffff)) break;
        } else {
          const off = p.reserve(Math.min(RING_MAX_RECORD, len + rnd(64)));
          if (off < 0) break;
          expect(off % 16).toBe(0);
          fillPattern(p.buf, off, len, produced);
          p.commit(len, produced & 0xffff, produced, -produced, len & 0xffff);
        }
        queue.push(len);
        produced++;
      }
      if (rnd(3) === 0) p.publish();
      for (let k = rnd(10); k > 0; k--) {
        const off = c.next();
        if (off < 0) break;
        const len = queue.shift()!;
        expect(off % 16).toBe(0);
        expect((RING_CONTROL_BYTES + off) % 16).toBe(0);
        expect(off + len).toBeLessThanOrEqual(SIZE);
        expect([c.length, c.kind, c.flags, c.t0, c.t1, c.seq]).toEqual([
          len,
          consumed & 0xffff,
          len & 0xffff,
          consumed,
          -consumed,
          consumed,
        ]);
        if (!checkPattern(c.buf, off, len, consumed)) throw new Error(`payload ${consumed} corrupt`);
        if (off < lastOff) wrapsSeen++;
        lastOff = off;
        consumed++;
      }
      if (rnd(2)) c.release();
    }
    expect(wrapsSeen).toBeGreaterThan(100);
    expect(ringStats(sab).fullDrops).toBeGreaterThan(0);
    expect(ringStats(sab).highWater).toBeLessThanOrEqual(SIZE);
  });

  it('round-trips kind, flags, t0, t1 and seq; commit may shrink the reservation; peekT1 shows the next t1', () => {
    const { p, c } = pair();
    const off = p.reserve(1000);
    p.commit(10, 0xffff, 123456.789012, -0.5, 0xabcd);
    expect(p.reserve(0)).toBe(off + foot(10)); // the shrunk footprint, not the reserved one
    p.commit(0, 0, Number.MAX_SAFE_INTEGER, Number.NaN);
    expect(c.peekT1()).toBe(Infinity); // committed, not yet published
    p.publish();
    expect(c.peekT1()).toBe(-0.5);
    expect(c.peekT1()).toBe(-0.5); // peeking takes nothing
    expect(c.next()).toBe(off);
    expect([c.length, c.kind, c.flags, c.t0, c.t1, c.seq]).toEqual([10, 0xffff, 0xabcd, 123456.789012, -0.5, 0]);
    expect(c.next()).toBe(off + foot(10));
    expect([c.length, c.kind, c.flags, c.t0, c.seq]).toEqual([0, 0, 0, Number.MAX_SAFE_INTEGER, 1]);
    expect(c.t1).toBeNaN();
  });

  it('push copies exactly on every copy path (whole, aligned words, unaligned, large)', () => {
    const { p, c } = pair();
    const backing = new Uint8Array(70_000);
    for (let i = 0; i < backing.length; i++) backing[i] = (i * 13 + 5) & 0xff;
    const cases: Array<[Uint8Array, number, number]> = [
      [backing.subarray(100, 1614), 0, 1514], // the whole view
      [backing, 0, 7],
      [backing, 4, 511], // aligned word copy with a byte tail
      [backing, 3, 64], // unaligned small: byte loop
      [backing, 1, 300], // unaligned: subarray
      [backing, 8, 65_000], // large: subarray
      [backing.subarray(1), 3, 100], // aligned in the buffer though not in the view
      [new Uint8Array(new SharedArrayBuffer(64)).fill(9), 0, 33],
    ];
    for (const [src, off, len] of cases) {
      expect(p.push(src, off, len, 0, 0, 0)).toBe(true);
      p.publish();
      const at = c.next();
      expect(c.length).toBe(len);
      expect(Buffer.from(c.buf.subarray(at, at + len)).equals(Buffer.from(src.subarray(off, off + len)))).toBe(true);
      c.release();
    }
    expect(() => p.push(backing, 69_999, 2, 0, 0, 0)).toThrow(RangeError);
  });

  it('rejects misuse', () => {
    const { p } = pair();
    expect(() => p.reserve(RING_MAX_RECORD + 1)).toThrow(RangeError);
    expect(() => p.reserve(-1)).toThrow(RangeError);
    expect(() => p.commit(0, 0, 0, 0)).toThrow(RangeError);
    p.reserve(100);
    expect(() => p.commit(101, 0, 0, 0)).toThrow(RangeError);
    p.commit(100, 0, 0, 0);
    expect(() => p.commit(0, 0, 0, 0)).toThrow(RangeError); // one commit per reserve
  });

  it('tracks the high-water mark at publish', () => {
    const { sab, p, c } = pair();
    for (let i = 0; i < 5; i++) p.push(new Uint8Array(1000), 0, 1000, 0, 0, 0);
    expect(ringStats(sab).highWater).toBe(0); // not published yet
    p.publish();
    expect(ringStats(sab).highWater).toBe(5 * foot(1000));
    while (c.next() >= 0);
    c.release();
    p.push(new Uint8Array(100), 0, 100, 0, 0, 0);
    p.publish();
    expect(ringStats(sab)).toMatchObject({ highWater: 5 * foot(1000), used: foot(100), records: 6 });
  });

  it('keeps committed records invisible until publish', () => {
    const { sab, p, c } = pair();
    for (let i = 0; i < 3; i++) p.push(new Uint8Array(64), 0, 64, 0, i, 0);
    expect(p.pending()).toBe(3);
    expect(c.next()).toBe(-1);
    expect(c.isEmpty()).toBe(true);
    expect(ringStats(sab)).toMatchObject({ used: 0, records: 0 });
    p.publish();
    expect(p.pending()).toBe(0);
    expect(c.isEmpty()).toBe(false);
    p.push(new Uint8Array(64), 0, 64, 0, 3, 0); // committed after the publish: invisible
    const seen: number[] = [];
    while (c.next() >= 0) seen.push(c.t0);
    expect(seen).toEqual([0, 1, 2]);
    expect(c.isEmpty()).toBe(true);
    expect(p.publish()).toBe(false);
    expect(c.next()).toBeGreaterThan(0);
    expect(c.t0).toBe(3);
  });

  it('sleeping flag: setSleeping refuses when data is present; publish returns true once per sleep', () => {
    const { sab, p, c } = pair();
    const flag = (): number => Atomics.load(c.waitWord, c.waitIndex);
    expect(p.waitWord[p.waitIndex]).toBe(0);
    p.push(new Uint8Array(8), 0, 8, 0, 0, 0);
    p.publish();
    expect(c.setSleeping()).toBe(false); // published data not yet taken
    expect(flag()).toBe(0);
    c.next();
    c.release();
    expect(c.setSleeping()).toBe(true);
    expect(flag()).toBe(1);
    expect(p.publish()).toBe(false); // nothing pending: no-op
    p.push(new Uint8Array(8), 0, 8, 0, 0, 0);
    expect(p.publish()).toBe(true);
    expect(flag()).toBe(0); // cleared by the producer
    p.wake();
    p.push(new Uint8Array(8), 0, 8, 0, 0, 0);
    expect(p.publish()).toBe(false); // same sleep: only one true
    // A park after the producer cleared the flag returns at once (no lost wake-up).
    expect(Atomics.wait(c.waitWord, c.waitIndex, 1, 5000)).toBe('not-equal');
    c.clearSleeping();
    while (c.next() >= 0);
    c.release();
    expect(c.setSleeping()).toBe(true); // a new sleep
    c.clearSleeping();
    p.push(new Uint8Array(8), 0, 8, 0, 0, 0);
    expect(p.publish()).toBe(false); // consumer woke by itself
    expect(ringStats(sab).wakeups).toBe(1);
  });

  it('waitSync: busy, timeout and wake paths', () => {
    const { p, c } = pair();
    const t = performance.now();
    expect(c.waitSync(20, 100)).toBe(false);
    expect(performance.now() - t).toBeGreaterThanOrEqual(15);
    expect(Atomics.load(c.waitWord, c.waitIndex)).toBe(0);
    p.push(new Uint8Array(8), 0, 8, 0, 0, 0);
    p.publish();
    expect(c.waitSync(1000)).toBe(true);
    expect(Atomics.load(c.waitWord, c.waitIndex)).toBe(0);
  });

  it('wake() calls the producer\'s signal function instead of notifying when one is set', () => {
    const { p, c } = pair();
    let signals = 0;
    p.signal = () => signals++;
    expect(c.setSleeping()).toBe(true);
    p.push(new Uint8Array(8), 0, 8, 0, 0, 0);
    expect(p.publish()).toBe(true); // cleared the flag: the caller owes a wake
    p.wake();
    expect(signals).toBe(1);
    expect(ringStats(p.waitWord.buffer as SharedArrayBuffer).wakeups).toBe(1);
    p.push(new Uint8Array(8), 0, 8, 0, 0, 0);
    expect(p.publish()).toBe(false); // not sleeping: no wake owed
  });
});

// ---------------------------------------------------------------------------------------

let tmp = '';
let ringUrl = '';

beforeAll(() => {
  const source = readFileSync(new URL('../../src/dataplane/ring.ts', import.meta.url), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  tmp = mkdtempSync(join(tmpdir(), 'stackd-ring-'));
  writeFileSync(join(tmp, 'ring.mjs'), js);
  ringUrl = pathToFileURL(join(tmp, 'ring.mjs')).href;
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const SEQ_BASE = 2 ** 32 - 300_000; // the 64-bit sequence crosses 2^32 mid-run
const END_KIND = 0xffff;

interface RunResult {
  received: number;
  gaps: number;
  /** Sequence numbers after the last received record (dropped at the end). */
  trailing: number;
  corrupt: number;
  firstError: string;
  /** Sleeps of the 'loop' consumer that went back to the event loop. */
  loopSleeps: number;
  producer: { produced: number; retries: number; naps: number; roomWaits: number; roomTimeouts: number };
  stats: ReturnType<typeof ringStats>;
  /** Loop sleeps ended by the producer's eventfd signal. */
  signalled: number;
  /** mode 'room': the producer's room requests the consumer answered (roomWanted). */
  roomWakes: number;
}

/**
 * A consumer that sleeps in its event loop as a shard worker does (dataplane/shard-worker.ts):
 * spin, raise the sleeping flag, arm the waker's deadline and return to the loop; the
 * producer writes the eventfd when it clears the flag.
 */
class LoopSleeper {
  private readonly addon = loadTapAddon();
  readonly fd = this.addon.eventfd();
  private readonly waker = new EventfdLoopWaker(this.addon, this.fd);
  private pending: ((ok: boolean) => void) | null = null;
  /** Sleeps that ended by the eventfd (not by the deadline). */
  signalled = 0;

  constructor(private readonly c: RingConsumer) {
    this.waker.open(() => {
      const done = this.pending;
      if (done === null) return; // a late signal, for a sleep that already ended
      this.pending = null;
      this.c.clearSleeping();
      const ok = !this.c.isEmpty();
      if (ok) this.signalled++;
      done(ok);
    });
  }

  /** Like RingConsumer.waitSync, without blocking: true when records arrived, false after timeoutMs. */
  wait(timeoutMs: number): boolean | Promise<boolean> {
    if (this.c.spin() || !this.c.setSleeping()) return true;
    return new Promise((resolve) => {
      this.pending = resolve;
      this.waker.arm(timeoutMs);
    });
  }

  close(): void {
    this.waker.close();
    this.addon.close(this.fd);
  }
}

/**
 * Runs the producer worker against a consumer here; checks every record as it goes.
 * `sleep`: 'sync' parks with waitSync (Atomics.wait); 'loop' sleeps in the event loop,
 * woken through an eventfd (LoopSleeper), as a shard worker does.
 */
async function runStress(mode: 'retry' | 'drop' | 'room', count: number, seed: number, sleep: 'sync' | 'loop' = 'sync'): Promise<RunResult> {
  const sab = createRingBuffer(SIZE);
  const c = new RingConsumer(sab);
  const bytes = c.buf;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
  const sleeper = sleep === 'loop' ? new LoopSleeper(c) : null;
  // mode 'room': the word the producer parks on while it waits for room.
  const roomSab = new SharedArrayBuffer(4);
  const roomWord = new Int32Array(roomSab);
  let roomWakes = 0;
  const answerRoom = (): void => {
    if (mode === 'room' && c.roomWanted()) {
      roomWakes++;
      Atomics.store(roomWord, 0, 1);
      Atomics.notify(roomWord, 0);
    }
  };
  const signal = sleeper ? { addonPath: join(packageRoot(), 'build/Release/stackd_tap.node'), fd: sleeper.fd } : undefined;
  const worker = new Worker(new URL('./fixtures/ring-producer.mjs', import.meta.url), {
    workerData: { ringUrl, sab, mode, count, seqBase: SEQ_BASE, seed, signal, roomWord: roomSab },
  });
  let workerError: Error | undefined;
  const done = new Promise<RunResult['producer']>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', (e) => {
      workerError = e;
      reject(e);
    });
  });
  done.catch(() => undefined);

  let expected = SEQ_BASE;
  let received = 0;
  let gaps = 0;
  let corrupt = 0;
  let firstError = '';
  let loopSleeps = 0;
  let idleMs = 0;
  let sinceRelease = 0;
  let releaseEvery = 1;
  let stallRng = seed;
  const fail = (msg: string): void => {
    if (corrupt++ === 0) firstError = msg;
  };

  try {
    for (;;) {
      const off = c.next();
      if (off < 0) {
        c.release();
        answerRoom();
        sinceRelease = 0;
        let ok: boolean;
        if (sleeper !== null) {
          const r = sleeper.wait(250);
          if (typeof r === 'boolean') ok = r;
          else {
            loopSleeps++;
            ok = await r;
          }
        } else ok = c.waitSync(250);
        if (ok) idleMs = 0;
        else if ((idleMs += 250) > 15_000 || workerError) throw workerError ?? new Error('producer stalled');
        continue;
      }
      const len = c.length;
      if (c.kind === END_KIND) break;
      const seq = c.t0;
      if (mode === 'retry' ? seq !== expected : seq < expected) fail(`seq ${seq}, expected ${expected}`);
      gaps += seq - expected;
      expected = seq + 1;
      received++;
      if (c.t1 !== -seq || c.kind !== (seq & 0x7fff) || c.flags !== (len & 0xffff) || len < 1 || len > RING_MAX_RECORD)
        fail(`header of ${seq}: len ${len} kind ${c.kind} flags ${c.flags} t1 ${c.t1}`);
      const lo = seq >>> 0;
      const hi = Math.floor(seq / 4294967296) >>> 0;
      if (len < 16) {
        for (let i = 0; i < len; i++)
          if (bytes[off + i] !== (Math.imul(lo, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca77)) >>> 24) {
            fail(`short payload of ${seq} corrupt at ${i}`);
            break;
          }
      } else {
        const w0 = off >> 2;
        const nw = len >> 2;
        let h = Math.imul(lo ^ 0x811c9dc5, 0x01000193) ^ hi;
        for (let i = 4; i < nw; i++) h = Math.imul(h ^ words[w0 + i], 0x01000193);
        for (let i = nw << 2; i < len; i++) h = Math.imul(h ^ bytes[off + i], 0x01000193);
        if (words[w0] !== lo || words[w0 + 1] !== hi || words[w0 + 3] !== len || words[w0 + 2] !== h >>> 0)
          fail(`payload of ${seq} (len ${len}) corrupt`);
      }
      if (++sinceRelease >= releaseEvery) {
        c.release();
        answerRoom();
        sinceRelease = 0;
        releaseEvery = 1 + (received % 29);
      }
      // In drop mode the consumer sometimes stalls so the ring really overflows.
      if (mode === 'drop' && received % 50_000 === 0) {
        stallRng = (Math.imul(stallRng, 1103515245) + 12345) >>> 0;
        const until = performance.now() + 1 + (stallRng % 4);
        while (performance.now() < until);
      }
    }
    c.release();
    const producer = await done;
    return {
      received, gaps, trailing: SEQ_BASE + count - expected, corrupt, firstError, loopSleeps, producer,
      stats: ringStats(sab), signalled: sleeper?.signalled ?? 0, roomWakes,
    };
  } finally {
    sleeper?.close();
    await worker.terminate();
  }
}

describe('ring: two threads', () => {
  it('loses nothing and corrupts nothing when the producer retries (2 M records, parking with Atomics.wait)', async () => {
    const N = 2_000_000;
    const r = await runStress('retry', N, 0x1234567);
    if (process.env.RING_DEBUG) console.log(JSON.stringify(r));
    expect(r.firstError).toBe('');
    expect(r.corrupt).toBe(0);
    expect(r.received).toBe(N);
    expect(r.gaps).toBe(0);
    expect(r.producer.produced).toBe(N);
    expect(r.stats.fullDrops).toBe(0);
    expect(r.stats.records).toBe(N + 1); // + the end marker record
    expect(r.stats.used).toBe(0);
    expect(r.stats.highWater).toBeLessThanOrEqual(SIZE);
    expect(r.stats.highWater).toBeGreaterThan(SIZE - 2 * foot(RING_MAX_RECORD)); // it did fill up
    expect(r.producer.retries).toBeGreaterThan(0); // the ring was full at times
    expect(r.stats.wakeups).toBeGreaterThan(0); // waitSync parked and was woken
  });

  it('loses no wake-up when the consumer sleeps in its event loop, woken by an eventfd (1 M records)', async () => {
    const N = 1_000_000;
    const r = await runStress('retry', N, 0x2468ace, 'loop');
    if (process.env.RING_DEBUG) console.log(JSON.stringify(r));
    expect(r.firstError).toBe('');
    expect(r.corrupt).toBe(0);
    expect(r.received).toBe(N);
    expect(r.gaps).toBe(0);
    expect(r.stats.records).toBe(N + 1);
    expect(r.stats.used).toBe(0);
    expect(r.loopSleeps).toBeGreaterThan(0); // it did go to sleep in the loop...
    expect(r.signalled).toBeGreaterThan(0); // ...and was woken by the eventfd, not only by deadlines
    expect(r.stats.wakeups).toBeGreaterThanOrEqual(r.signalled);
  });

  it('loses no room wake-up: a producer parked for room in a full ring is always woken by the consumer that frees it (500 k records)', async () => {
    const N = 500_000;
    const r = await runStress('room', N, 0x13579bd);
    if (process.env.RING_DEBUG) console.log(JSON.stringify(r));
    expect(r.firstError).toBe('');
    expect(r.corrupt).toBe(0);
    expect(r.received).toBe(N);
    expect(r.gaps).toBe(0);
    expect(r.stats.fullDrops).toBe(0);
    expect(r.producer.roomWaits).toBeGreaterThan(0); // it did park for room...
    expect(r.roomWakes).toBeGreaterThan(0); // ...and the consumer answered
    expect(r.producer.roomTimeouts).toBe(0); // no park ended without its wake-up
  });

  it('counts every loss as a full drop when the producer does not retry (1 M records)', async () => {
    const N = 1_000_000;
    const r = await runStress('drop', N, 0x7654321);
    if (process.env.RING_DEBUG) console.log(JSON.stringify(r));
    expect(r.firstError).toBe('');
    expect(r.corrupt).toBe(0);
    expect(r.stats.fullDrops).toBeGreaterThan(0);
    expect(r.received + r.stats.fullDrops).toBe(N);
    // Every skipped sequence number, between records or after the last one, is a counted drop.
    expect(r.gaps + r.trailing).toBe(r.stats.fullDrops);
    expect(r.stats.records).toBe(r.received + 1);
    expect(r.stats.used).toBe(0);
  });
});
