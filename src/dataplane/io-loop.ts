/**
 * The I/O thread: link device (the TAP) ⇄ rings.
 *
 * RX: receives frames from the device in batches into a staging buffer, answers plain ICMP
 * echo requests itself (l3/echo-fast-path.ts, decision 0045: no worker wake-up for a
 * ping), steers every other frame to one shard's RX ring by its flow hash (ARP to every
 * shard) with its receive flags,
 * publishes each ring once per batch and wakes a shard only if it sleeps (its thread's
 * eventfd, once per read for all the shards of a thread: decision 0055). TX: a busy
 * shard hands its frames to this thread through its TX ring, which it transmits in
 * batches straight from ring memory with the offload each record asks for (an idle shard
 * writes itself, decision 0011); TX rings also carry re-injected datagrams, which this
 * thread steers again. When there is nothing to do — a read that stopped short of a full
 * batch found the device empty, and nothing was transmitted — it sleeps in the device's
 * receive (poll() on the TAP fd and an eventfd the shards signal) — or, with `--busy-poll`, keeps
 * polling the TAP and the TX rings for that long after its last frame (decision 0026's
 * twelfth-session amendment: a ping answered by this thread then pays no wake-up); it
 * yields to its event loop every few ms so that control RPC (latency histograms) is
 * answered. At the start of each slice it may leave or return to the CPUs of busy worker
 * threads (io-thread-placement.ts, decision 0054).
 *
 * A full RX ring drops the new frame and counts it, as a NIC does.
 */
import { C, counterBlock, type Counters } from '../base/counters.js';
import { FLOW_ALL, flowHashOfFrame, shardOf } from '../base/flow-hash.js';
import { monoMs } from '../util/clock.js';
import { S_RX_DISPATCH, S_TOTAL, S_TX_QUEUE, StageLatencyRecorder } from './latency.js';
import { KIND_FRAME, KIND_REINJECT, TX_FRAME_PREFIX, addRecordFrame, recordKind } from './ring-records.js';
import { RingConsumer, RingProducer } from './ring.js';
import { FrameBatch } from '../base/frame-batch.js';
import { HeapGauges } from './heap-gauges.js';
import type { LinkDevice } from '../base/link.js';
import { CTL_STOP, type IoThreadData, type ThreadRpc } from './thread-data.js';
import { EchoFastPath } from '../l3/echo-fast-path.js';
import { IoThreadPlacement } from './io-thread-placement.js';

/** Most frames per TAP read or write call. */
const BATCH = 64;
/** Longest sleep in poll() before re-checking the stop word and yielding (ms). */
const SLEEP_MS = 50;
/** Longest time the loop runs before yielding to the event loop (ms). */
const SLICE_MS = 10;
/** Room for the echo replies of one read (frames, bytes: FAST_ECHO_MAX_IP_LEN each and then some). */
const ECHO_FRAMES = 16;
const ECHO_BYTES = 16 * 1024;

/** The I/O loop state. */
export class IoLoop {
  readonly counters: Counters;
  readonly latency = new StageLatencyRecorder();
  private readonly rx: RingProducer[];
  private readonly tx: RingConsumer[];
  private readonly control: Int32Array;
  /** Frames received from the device (a staging buffer). */
  private readonly rxBatch: FrameBatch;
  /** Frames to transmit, described in place in a TX ring's memory. */
  private readonly txBatch: FrameBatch;
  /** Shards given frames by the read being dispatched, in the order of their first frame (touchedCount of them). */
  private readonly touched: Int32Array;
  private touchedCount = 0;
  private readonly isTouched: Uint8Array;
  /** Shard → index of its wake eventfd among the distinct ones (shards of one thread share one). */
  private readonly wakeGroup: Int32Array;
  /** Shards to wake after a publish round (one per eventfd), and the groups already among them. */
  private readonly waking: Int32Array;
  private readonly groupWaking: Uint8Array;
  private readonly heap: HeapGauges;
  /** Plain ICMP echo requests answered here, and the batch of their replies. */
  private readonly echo: EchoFastPath;
  private readonly echoOut: FrameBatch;
  private readonly n: number;
  /** How long after its last frame the loop polls instead of sleeping (ms; --busy-poll, 0: never). */
  private readonly busyPollMs: number;
  /** When the loop last received or transmitted a frame (ms). */
  private lastFrameAt = -Infinity;
  private stopped = false;
  /** Where this thread may run, narrowed while bound worker threads are busy; null without a way to set it. */
  readonly placement: IoThreadPlacement | null;
  private onStop: (() => void) | null = null;

  /**
   * @param device the link (a receive that waits also wakes on the shards' wake eventfd, and empties it)
   * @param wakeShard wakes shard worker i, sleeping in its event loop (signals its eventfd)
   * @param placeThread restricts this thread to the given CPUs (sched_setaffinity), with the CPUs it may use now; absent: it stays where it is
   */
  constructor(
    data: IoThreadData,
    private readonly device: LinkDevice,
    wakeShard: (shard: number) => void,
    placeThread?: { allowed: readonly number[]; apply: (cpus: number[]) => void },
  ) {
    this.counters = counterBlock(data.counters, 0);
    this.placement = null;
    if (placeThread !== undefined) {
      const workerCounters = data.shardCpus.map((_, i) => counterBlock(data.counters, 1 + i));
      this.placement = new IoThreadPlacement({
        allowed: placeThread.allowed,
        shardCpus: data.shardCpus,
        busyUs: (s) => workerCounters[s][C.loop_busy_us],
        txBytes: (s) => workerCounters[s][C.tx_bytes],
        rxBytes: (s) => workerCounters[s][C.rx_bytes],
        apply: placeThread.apply,
        counters: this.counters,
      });
    }
    this.heap = new HeapGauges(this.counters);
    this.rx = data.rxRings.map((s, i) => {
      const p = new RingProducer(s);
      p.signal = () => wakeShard(i);
      return p;
    });
    this.tx = data.txRings.map((s) => new RingConsumer(s));
    this.n = this.rx.length;
    this.busyPollMs = data.busyPollUs / 1000;
    this.touched = new Int32Array(this.n);
    this.isTouched = new Uint8Array(this.n);
    this.wakeGroup = wakeGroups(data.shardWakeFds, this.n);
    this.waking = new Int32Array(this.n);
    this.groupWaking = new Uint8Array(this.n);
    this.control = new Int32Array(data.control);
    // With receive offload the device hands us frames up to ~64 KiB; otherwise MTU-sized ones.
    const slot = (device.capabilities.maxRxFrame + 15) & ~15;
    this.rxBatch = new FrameBatch(new Uint8Array(new SharedArrayBuffer(Math.max(slot * 16, 2048 * BATCH))), BATCH);
    // Ring records keep TX_FRAME_PREFIX bytes (the offload block, read before transmit) in
    // front of each frame: that is the device's headroom.
    this.txBatch = new FrameBatch(new Uint8Array(0), BATCH, TX_FRAME_PREFIX);
    this.echo = new EchoFastPath(data.link, this.counters);
    this.echoOut = new FrameBatch(new Uint8Array(ECHO_BYTES), ECHO_FRAMES, device.capabilities.txHeadroom);
  }

  /** The RPC surface for the main thread. */
  rpc(): ThreadRpc {
    return {
      latency: () => ({ thread: 'io', stages: this.latency.report() }),
      resetLatency: () => this.latency.reset(),
      arpEntries: () => [],
      ipv6: () => null,
      addIpv6Address: () => ({ status: 409, error: 'the I/O thread runs no IPv6' }),
      connections: () => [],
      trace: () => null,
      archivedTraces: () => [],
    };
  }

  /** Runs the loop in slices until the stop word is set; resolves then. */
  run(): Promise<void> {
    return new Promise((resolve) => {
      this.onStop = resolve;
      this.slice();
    });
  }

  private slice = (): void => {
    const start = monoMs();
    const end = start + SLICE_MS;
    this.busySince = start;
    this.heap.update(start);
    this.placement?.update(start);
    for (;;) {
      if (Atomics.load(this.control, CTL_STOP) !== 0) {
        this.stopped = true;
        this.onStop?.();
        return;
      }
      const r = this.readOnce(0);
      const w = this.drainTx();
      const now = monoMs();
      let idle: boolean;
      if (r !== 0 || w !== 0) {
        this.lastFrameAt = now;
        // A read of fewer than BATCH frames stopped at an empty device (EAGAIN). Unless
        // something was transmitted since (a peer may answer at once) or we busy-poll,
        // another non-blocking read would only find it empty again: sleep now instead;
        // poll() returns at once if a frame came meanwhile.
        idle = r < BATCH && w === 0 && this.busyPollMs === 0;
      } else {
        // Busy polling (--busy-poll): the next read is another non-blocking one.
        idle = now - this.lastFrameAt >= this.busyPollMs;
        if (!idle) this.counters[C.io_busy_polls]++;
      }
      if (!idle) {
        if (now >= end) break;
        continue;
      }
      // Sleep in poll(); on wake-up go straight on (no event-loop turn in between).
      const got = this.sleep() + this.drainTx();
      const t = monoMs();
      if (got > 0) this.lastFrameAt = t;
      if (t >= end) break;
    }
    this.accountBusy(monoMs());
    if (!this.stopped) setImmediate(this.slice);
  };

  /** Start of the stretch of work not yet added to busy_us (ms). */
  private busySince = 0;

  /** Adds the work since busySince to busy_us (the thread's busy time; stackctl top shows it as a share). */
  private accountBusy(now: number): void {
    this.counters[C.busy_us] += (now - this.busySince) * 1000;
    this.busySince = now;
  }

  /**
   * Sleeps in poll() on the TAP and the wake eventfd, unless a TX ring has work; the
   * device empties the eventfd when it is what woke it. Returns frames received.
   */
  private sleep(): number {
    for (let i = 0; i < this.n; i++) {
      if (!this.tx[i].setSleeping()) {
        for (let j = 0; j < i; j++) this.tx[j].clearSleeping();
        return 0;
      }
    }
    this.counters[C.io_sleeps]++;
    this.accountBusy(monoMs());
    const n = this.readOnce(SLEEP_MS); // busy again from the moment poll() returns
    for (let i = 0; i < this.n; i++) this.tx[i].clearSleeping();
    return n;
  }

  /** One device receive (waiting up to timeoutMs when nothing is ready) and dispatch. */
  private readOnce(timeoutMs: number): number {
    const rx = this.rxBatch;
    rx.clear();
    const n = this.device.receive(rx, BATCH, timeoutMs);
    if (timeoutMs > 0) this.busySince = monoMs(); // the wait is not work
    if (n < 0) {
      this.counters[C.drop_tap_read_error]++;
      return 0;
    }
    if (n === 0) return 0;
    const tRead = monoMs();
    this.counters[C.tap_read_batches]++;
    const st = rx.buf;
    const echo = this.echoOut;
    for (let i = 0; i < n; i++) {
      const len = rx.lens[i];
      this.counters[C.tap_rx_frames]++;
      this.counters[C.tap_rx_bytes] += len;
      if (this.echo.answer(st, rx.offsets[i], len, rx.rxFlags[i], echo)) continue;
      this.steer(st, rx.offsets[i], len, KIND_FRAME | (rx.rxFlags[i] << 8), tRead);
    }
    this.publishRx();
    if (echo.count > 0) {
      this.transmit(echo);
      this.latency.record(S_TOTAL, monoMs() - tRead);
      echo.clear();
    }
    return n;
  }

  /** Pushes one frame to the ring(s) its flow hash selects. */
  private steer(b: Uint8Array, off: number, len: number, kind: number, t0: number): void {
    const h = flowHashOfFrame(b, off, len);
    const t1 = monoMs();
    if (h === FLOW_ALL) {
      for (let s = 0; s < this.n; s++) this.pushTo(s, b, off, len, kind, t0, t1);
    } else {
      this.pushTo(shardOf(h, this.n), b, off, len, kind, t0, t1);
    }
    this.latency.record(S_RX_DISPATCH, t1 - t0);
  }

  private pushTo(s: number, b: Uint8Array, off: number, len: number, kind: number, t0: number, t1: number): void {
    if (this.rx[s].push(b, off, len, kind, t0, t1)) {
      if (this.isTouched[s] === 0) {
        this.isTouched[s] = 1;
        this.touched[this.touchedCount++] = s;
      }
    } else {
      this.counters[C.drop_rx_ring_full]++;
    }
  }

  /**
   * Publishes the rings given frames, then wakes their sleeping workers, in the order of
   * each one's first frame (waking by shard index would make the higher shards' frames
   * wait behind later ones of the lower where workers with their own eventfds share a
   * thread), and each eventfd once: the workers of one thread share one (decision 0055).
   * Every ring is published before the first signal, so a thread that wakes sees them all.
   */
  private publishRx(): void {
    const order = this.touched;
    const group = this.wakeGroup;
    let waking = 0;
    for (let i = 0; i < this.touchedCount; i++) {
      const s = order[i];
      this.isTouched[s] = 0;
      if (!this.rx[s].publish()) continue;
      // Its worker sleeps: wake it once every ring is published, once per eventfd.
      const g = group[s];
      if (this.groupWaking[g] === 0) {
        this.groupWaking[g] = 1;
        this.waking[waking++] = s;
      }
    }
    this.touchedCount = 0;
    for (let i = 0; i < waking; i++) {
      const s = this.waking[i];
      this.groupWaking[group[s]] = 0;
      this.rx[s].wake();
    }
  }

  /** Transmits every shard's pending TX frames. Returns frames handled. */
  private drainTx(): number {
    let total = 0;
    let reinjected = false;
    const batch = this.txBatch;
    for (let s = 0; s < this.n; s++) {
      const c = this.tx[s];
      batch.buf = c.buf;
      for (;;) {
        batch.clear();
        let off: number;
        while (batch.count < BATCH && (off = c.next()) >= 0) {
          if (recordKind(c.kind) === KIND_REINJECT) {
            this.counters[C.reinjected_datagrams]++;
            this.steer(c.buf, off, c.length, KIND_FRAME, c.t0 > 0 ? c.t0 : c.t1);
            reinjected = true;
            continue;
          }
          addRecordFrame(batch, c.buf, off, c.length);
          const now = monoMs();
          this.latency.record(S_TX_QUEUE, now - c.t1);
          if (c.t0 > 0) this.latency.record(S_TOTAL, now - c.t0);
        }
        const k = batch.count;
        if (k > 0) this.transmit(batch);
        c.release();
        total += k;
        if (k < BATCH) break;
      }
      // The worker holds segments the full ring refused and sleeps: it may send them now.
      if (c.roomWanted()) this.rx[s].wake();
    }
    if (reinjected) this.publishRx();
    return total;
  }

  /** Hands the batch to the device once; what it does not take (full queue) is dropped and counted. */
  private transmit(batch: FrameBatch): void {
    const k = batch.count;
    const w = this.device.transmit(batch, 0);
    const c = this.counters;
    c[C.tap_write_batches]++;
    for (let i = 0; i < w; i++) c[C.tap_tx_bytes] += batch.lens[i];
    c[C.tap_tx_frames] += w - batch.failed;
    c[C.drop_tap_write_error] += batch.failed + (k - w);
  }
}

/**
 * For each of `n` shards, the index of its wake eventfd among the distinct ones in
 * `fds` (shards of one thread share one, decision 0055); each its own without `fds`.
 */
export function wakeGroups(fds: readonly number[] | undefined, n: number): Int32Array {
  const g = new Int32Array(n);
  const seen = new Map<number, number>();
  for (let s = 0; s < n; s++) {
    const fd = fds?.[s];
    if (fd === undefined) {
      g[s] = s;
      continue;
    }
    let i = seen.get(fd);
    if (i === undefined) seen.set(fd, (i = s));
    g[s] = i;
  }
  return g;
}
