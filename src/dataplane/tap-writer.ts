/**
 * A shard worker's transmit path: frames are built in place in a worker-local staging
 * buffer and written to the TAP by the worker itself, in batches, with one write() per
 * frame (a TAP has no sendmmsg). Decision 0011 says why TX does not cross to the I/O
 * thread: each crossing cost an eventfd wake-up of a sleeping thread (~170 µs p50 on
 * this VM), more than the write itself.
 *
 * Layout of a staged frame, 16-byte aligned: in virtio-net mode [6 pad][10-byte
 * virtio_net_hdr][Ethernet frame] written from offset +6 as one contiguous buffer, so the
 * frame itself stays 16-byte aligned (record-kind.ts); otherwise just the frame.
 *
 * Bounded: at most BATCH frames or `bytes` bytes are staged; reserving beyond that
 * writes the staged frames first. A failed write is dropped and counted
 * (drop_tap_write_error), never thrown.
 */
import { C, type Counters } from '../base/counters.js';
import type { TxSink } from '../base/tx-sink.js';
import { monoMs } from '../util/clock.js';
import { S_TOTAL, S_TX_QUEUE, type StageLatencyRecorder } from './latency.js';
import { TX_VNET_FRAME, TX_VNET_PREFIX } from './record-kind.js';
import { VNET_HDR_LEN, writeVnetHeader, type TapAddon } from '../phy/tap.js';

/** Most frames staged before they are written. */
const BATCH = 64;
/** Default staging size: room for 8 TSO super-segments of 64 KiB plus MTU frames. */
const DEFAULT_BYTES = 8 * 65_600 + BATCH * 1_600;

/** Stages frames and writes them to the TAP fd; implements the core's TxSink. */
export class TapWriter implements TxSink {
  readonly buf: Uint8Array;
  private readonly offsets = new Int32Array(BATCH);
  private readonly lens = new Int32Array(BATCH);
  /** Per staged frame: when it was committed and the RX time of the frame that caused it (0: none). */
  private readonly committedAt = new Float64Array(BATCH);
  private readonly causedBy = new Float64Array(BATCH);
  private readonly errors = new Int32Array(2);
  private readonly pre: number;
  private count = 0;
  private used = 0;
  /** Start of the record being built (-1: none) and of its virtio-net header. */
  private cur = -1;
  private hdr = 0;
  /** RX time of the frame being processed, stamped on the frames it causes (0: none). */
  cause = 0;

  /**
   * @param fd the TAP fd (opened by the I/O thread, shared by the process)
   * @param vnet whether the TAP was opened with IFF_VNET_HDR
   */
  constructor(
    private readonly addon: TapAddon,
    private readonly fd: number,
    private readonly vnet: boolean,
    private readonly counters: Counters,
    private readonly latency: StageLatencyRecorder | null,
    bytes = DEFAULT_BYTES,
  ) {
    this.buf = new Uint8Array(new ArrayBuffer(bytes));
    this.pre = vnet ? TX_VNET_FRAME : 0;
  }

  /** Frames staged and not yet written. */
  get pending(): number {
    return this.count;
  }

  reserve(maxLen: number): number {
    const need = maxLen + this.pre;
    if (this.count === BATCH || this.used + need > this.buf.length) this.flush();
    if (need > this.buf.length) {
      this.counters[C.drop_tx_ring_full]++;
      return -1;
    }
    const o = this.used;
    this.cur = o;
    if (this.vnet) {
      this.hdr = o + TX_VNET_PREFIX;
      this.buf.fill(0, this.hdr, this.hdr + VNET_HDR_LEN);
    }
    return o + this.pre;
  }

  commit(len: number): void {
    const o = this.cur;
    if (o < 0) return;
    this.cur = -1;
    const i = this.count++;
    this.offsets[i] = o + (this.vnet ? TX_VNET_PREFIX : 0);
    this.lens[i] = len + (this.vnet ? VNET_HDR_LEN : 0);
    this.committedAt[i] = monoMs();
    this.causedBy[i] = this.cause;
    this.used = (o + this.pre + len + 15) & ~15;
  }

  offload(flags: number, gsoType: number, hdrLen: number, gsoSize: number, csumStart: number, csumOffset: number): void {
    writeVnetHeader(this.buf, this.hdr, flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset);
  }

  /** Writes every staged frame to the TAP. Returns how many were written. */
  flush(): number {
    const k = this.count;
    if (k === 0) return 0;
    const c = this.counters;
    let done = 0;
    while (done < k) {
      const w = this.addon.writeBatch(this.fd, this.buf, this.offsets, this.lens, done, k - done, null, this.errors);
      c[C.tap_write_batches]++;
      if (w === 0) {
        // EAGAIN on the first frame: the kernel's queue is full; drop the rest, as a NIC would.
        c[C.drop_tap_write_error] += k - done;
        break;
      }
      done += w;
    }
    const now = monoMs();
    const lat = this.latency;
    const pre = this.vnet ? VNET_HDR_LEN : 0;
    for (let i = 0; i < done; i++) {
      c[C.tap_tx_frames]++;
      c[C.tap_tx_bytes] += this.lens[i]! - pre;
      if (lat !== null) {
        lat.record(S_TX_QUEUE, now - this.committedAt[i]!);
        const t0 = this.causedBy[i]!;
        if (t0 > 0) lat.record(S_TOTAL, now - t0);
      }
    }
    if (this.errors[0]! > 0) {
      c[C.tap_tx_frames] -= this.errors[0]!;
      c[C.drop_tap_write_error] += this.errors[0]!;
      this.errors[0] = 0;
    }
    this.count = 0;
    this.used = 0;
    return done;
  }
}
