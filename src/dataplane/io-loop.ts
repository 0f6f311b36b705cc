/**
 * The I/O thread: TAP ⇄ rings.
 *
 * RX: reads TAP frames in batches into a staging buffer, steers each to one shard's RX
 * ring by its flow hash (ARP to every shard), publishes each ring once per batch and
 * notifies a shard only if it sleeps. TX: shard workers write their frames to the TAP
 * themselves (tap-writer.ts, decision 0011); their TX rings carry re-injected datagrams,
 * which this thread steers again (and any frame record, which it writes). When there is
 * nothing to do it sleeps in poll() on the TAP fd and an eventfd the shards signal; it
 * yields to its event loop every few ms so that control RPC (latency histograms) is
 * answered.
 *
 * A full RX ring drops the new frame and counts it, as a NIC does.
 */
import { C, counterBlock, type Counters } from '../base/counters.js';
import { FLOW_ALL, flowHashOfFrame, shardOf } from '../base/flow-hash.js';
import { monoMs } from '../util/clock.js';
import { S_RX_DISPATCH, S_TOTAL, S_TX_QUEUE, StageLatencyRecorder } from './latency.js';
import { KIND_FRAME, KIND_REINJECT, TX_VNET_PREFIX, recordKind } from './record-kind.js';
import { RingConsumer, RingProducer } from './ring.js';
import { VNET_HDR_LEN, type TapAddon } from '../phy/tap.js';
import { CTL_STOP, type IoThreadData, type ThreadRpc } from './thread-data.js';

/** Most frames per TAP read or write call. */
const BATCH = 64;
/** Longest sleep in poll() before re-checking the stop word and yielding (ms). */
const SLEEP_MS = 50;
/** Longest time the loop runs before yielding to the event loop (ms). */
const SLICE_MS = 10;

/** The I/O loop state. */
export class IoLoop {
  readonly counters: Counters;
  readonly latency = new StageLatencyRecorder();
  private readonly rx: RingProducer[];
  private readonly tx: RingConsumer[];
  private readonly control: Int32Array;
  private readonly staging: Uint8Array;
  private readonly maxFrame: number;
  private readonly offsets = new Int32Array(BATCH);
  private readonly lens = new Int32Array(BATCH);
  private readonly vnetRx: Uint8Array | null;
  private readonly txPrefix: number;
  private readonly writeErrors = new Int32Array(2);
  private readonly touched: boolean[];
  private readonly n: number;
  private stopped = false;
  private onStop: (() => void) | null = null;

  constructor(private readonly data: IoThreadData, private readonly addon: TapAddon, private readonly fd: number) {
    this.counters = counterBlock(data.counters, 0);
    this.rx = data.rxRings.map((s) => new RingProducer(s));
    this.tx = data.txRings.map((s) => new RingConsumer(s));
    this.n = this.rx.length;
    this.touched = new Array<boolean>(this.n).fill(false);
    this.control = new Int32Array(data.control);
    // With TSO/GRO offload the kernel hands us frames up to ~64 KiB; otherwise an MTU-sized frame.
    this.maxFrame = data.link.offload !== 0 ? 65550 : Math.max(2048, (data.link.mtu + 14 + 15) & ~15);
    this.staging = new Uint8Array(new SharedArrayBuffer(Math.max(this.maxFrame * 16, 2048 * BATCH)));
    this.vnetRx = data.link.vnetHdr ? new Uint8Array(VNET_HDR_LEN * BATCH) : null;
    // TX: in virtio-net mode each frame record starts with 6 bytes of padding and the
    // frame's own 10-byte header (written by the worker, which knows about TSO), so frames
    // stay 16-byte aligned and are written with one plain write() each.
    this.txPrefix = data.link.vnetHdr ? TX_VNET_PREFIX : 0;
  }

  /** The RPC surface for the main thread. */
  rpc(): ThreadRpc {
    return {
      latency: () => ({ thread: 'io', stages: this.latency.report() }),
      resetLatency: () => this.latency.reset(),
      arpEntries: () => [],
      connections: () => [],
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
    const end = monoMs() + SLICE_MS;
    for (;;) {
      if (Atomics.load(this.control, CTL_STOP) !== 0) {
        this.stopped = true;
        this.onStop?.();
        return;
      }
      const r = this.readOnce(0);
      const w = this.drainTx();
      if (r === 0 && w === 0) {
        // Sleep in poll(); on wake-up go straight on (no event-loop turn in between).
        this.sleep();
        this.drainTx();
        if (monoMs() >= end) break;
        continue;
      }
      if (monoMs() >= end) break;
    }
    if (!this.stopped) setImmediate(this.slice);
  };

  /** Sleeps in poll() on the TAP and the wake eventfd, unless a TX ring has work. */
  private sleep(): void {
    for (let i = 0; i < this.n; i++) {
      if (!this.tx[i]!.setSleeping()) {
        for (let j = 0; j < i; j++) this.tx[j]!.clearSleeping();
        return;
      }
    }
    this.counters[C.io_sleeps]++;
    this.readOnce(SLEEP_MS);
    for (let i = 0; i < this.n; i++) this.tx[i]!.clearSleeping();
    this.addon.eventfdDrain(this.data.wakeFd);
  }

  /** One readBatch (waiting up to timeoutMs when nothing is ready) and dispatch. */
  private readOnce(timeoutMs: number): number {
    const n = this.addon.readBatch(
      this.fd, this.staging, 0, this.staging.length, this.maxFrame,
      this.offsets, this.lens, BATCH, timeoutMs, timeoutMs !== 0 ? this.data.wakeFd : -1, this.vnetRx,
    );
    if (n < 0) {
      this.counters[C.drop_tap_read_error]++;
      return 0;
    }
    if (n === 0) return 0;
    const tRead = monoMs();
    this.counters[C.tap_read_batches]++;
    const st = this.staging;
    for (let i = 0; i < n; i++) {
      const off = this.offsets[i]!;
      const len = this.lens[i]!;
      this.counters[C.tap_rx_frames]++;
      this.counters[C.tap_rx_bytes] += len;
      const vflags = this.vnetRx !== null ? this.vnetRx[i * VNET_HDR_LEN]! : 0;
      this.steer(st, off, len, KIND_FRAME | (vflags << 8), tRead);
    }
    this.publishRx();
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
    if (this.rx[s]!.push(b, off, len, kind, t0, t1)) this.touched[s] = true;
    else this.counters[C.drop_rx_ring_full]++;
  }

  private publishRx(): void {
    for (let s = 0; s < this.n; s++) {
      if (!this.touched[s]) continue;
      this.touched[s] = false;
      const r = this.rx[s]!;
      if (r.publish()) r.wake();
    }
  }

  /** Writes every shard's pending TX frames to the TAP. Returns frames handled. */
  private drainTx(): number {
    let total = 0;
    let reinjected = false;
    for (let s = 0; s < this.n; s++) {
      const c = this.tx[s]!;
      for (;;) {
        let k = 0;
        let off: number;
        let t0sum = 0;
        while (k < BATCH && (off = c.next()) >= 0) {
          if (recordKind(c.kind) === KIND_REINJECT) {
            this.counters[C.reinjected_datagrams]++;
            this.steer(c.buf, off, c.length, KIND_FRAME, c.t0 > 0 ? c.t0 : c.t1);
            reinjected = true;
            continue;
          }
          this.offsets[k] = off + this.txPrefix;
          this.lens[k] = c.length - this.txPrefix;
          k++;
          const now = monoMs();
          this.latency.record(S_TX_QUEUE, now - c.t1);
          if (c.t0 > 0) this.latency.record(S_TOTAL, now - c.t0);
          t0sum++;
        }
        if (k > 0) this.write(c.buf, k);
        c.release();
        total += t0sum;
        if (k < BATCH) break;
      }
    }
    if (reinjected) this.publishRx();
    return total;
  }

  private write(buf: Uint8Array, k: number): void {
    const w = this.addon.writeBatch(this.fd, buf, this.offsets, this.lens, 0, k, null, this.writeErrors);
    this.counters[C.tap_write_batches]++;
    for (let i = 0; i < w; i++) {
      this.counters[C.tap_tx_frames]++;
      this.counters[C.tap_tx_bytes] += this.lens[i]!;
    }
    if (this.writeErrors[0]! > 0) {
      this.counters[C.tap_tx_frames] -= this.writeErrors[0]!;
      this.counters[C.drop_tap_write_error] += this.writeErrors[0]!;
      this.writeErrors[0] = 0;
    }
    if (w < k) this.counters[C.drop_tap_write_error] += k - w; // EAGAIN: the kernel queue is full
  }
}
