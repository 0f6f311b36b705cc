/**
 * Packet capture as a LinkDevice decorator (decision 0016): every frame the inner device
 * receives, and every frame it takes for transmission, is copied — cut to the snapshot
 * length — with its direction and the time into a CaptureSink (in the data plane, this
 * thread's capture ring, dataplane/capture-ring.ts; one writer merges the rings into a
 * pcap file, dataplane/capture-merge.ts).
 *
 * Frames are recorded as the wire carries them (pcap-savefile(5) records of Ethernet
 * frames): a TX super-frame (segmentation offload asked) is recorded as the segments the
 * device cuts it into, and an L4 checksum the device would complete (TX checksum
 * offload; RX_CSUM_PARTIAL, a frame generated on this host) is completed in the copy, so
 * tshark finds no bad checksums. Receive-offload aggregates (RX_GSO) are recorded as
 * received, one record of up to 64 KiB, as tcpdump shows them on a GRO device.
 *
 * Off by default and nearly free when off: one Atomics.load of the shared capture word
 * per receive() or transmit() call (its value is the snapshot length, 0: off). A full
 * sink drops the copy and counts it in pcap_dropped; the frame itself goes on. Received
 * frames are stamped when receive() returns them, transmitted ones just before the
 * write: the order of the stamps follows cause and effect across threads. A transmitted
 * frame that ends in pieces held by reference (scatter-gather, decision 0051) is made
 * whole in a scratch copy first, only while capturing; the inner device gets it as it is.
 */
import { C, type Counters } from '../base/counters.js';
import type { FrameBatch } from '../base/frame-batch.js';
import type { LinkCapabilities, LinkDevice } from '../base/link.js';
import { RX_CSUM_PARTIAL } from '../base/rx-flags.js';
import { copyBytes } from '../util/copy-bytes.js';
import { monoMs } from '../util/clock.js';
import { internetChecksum } from '../wire/checksum.js';
import { finalL4Checksum, tcpSegmentCount, writeTcpSegment } from './soft-offload.js';

/** Direction of a captured frame. */
export const CAPTURE_RX = 0;
export const CAPTURE_TX = 1;

/** Largest frame a capture copies: an IPv4 datagram of 65535 bytes in an Ethernet frame. */
export const CAPTURE_MAX_FRAME = 65535 + 14;

/** Largest frame transmitted in pieces: an IPv6 packet with a 65535-byte payload in an Ethernet frame. */
const FLAT_MAX_FRAME = 14 + 40 + 65535;

/** Where a CaptureDevice puts its copies. */
export interface CaptureSink {
  /** Memory of the records; offsets returned by reserve() index into it. */
  readonly buf: Uint8Array;
  /** Room for a record of up to `maxLen` bytes: its offset in buf, or -1 when full. */
  reserve(maxLen: number): number;
  /**
   * Finishes the reserved record: `len` bytes kept of a frame `origLen` bytes long, its
   * direction (CAPTURE_RX / CAPTURE_TX) and capture time (ms, util/clock.ts monoMs).
   */
  commit(len: number, origLen: number, dir: number, timeMs: number): void;
  /** Makes the records committed so far visible to the reader (once per batch). */
  publish(): void;
}

/** A LinkDevice that copies the frames passing through it into a CaptureSink while capture is on. */
export class CaptureDevice implements LinkDevice {
  readonly capabilities: LinkCapabilities;
  /** A TX segment built here before it is cut to the snapshot length (allocated on first use). */
  private scratch = new Uint8Array(0);
  /** A transmitted frame in pieces, made whole (allocated on first use). */
  private flat = new Uint8Array(0);

  /**
   * @param inner the device captured
   * @param sink where copies go
   * @param control shared words; control[index] is the snapshot length while capturing, 0 when off
   * @param counters pcap_frames / pcap_dropped are counted here
   * @param clock capture times (default: the process-wide monotonic clock)
   */
  constructor(
    private readonly inner: LinkDevice,
    private readonly sink: CaptureSink,
    private readonly control: Int32Array,
    private readonly index: number,
    private readonly counters: Counters,
    private readonly clock: () => number = monoMs,
  ) {
    this.capabilities = inner.capabilities;
  }

  receive(batch: FrameBatch, max: number, timeoutMs: number): number {
    const n = this.inner.receive(batch, max, timeoutMs);
    if (n > 0) {
      const snap = Atomics.load(this.control, this.index);
      if (snap > 0) this.captureRx(batch, n, snap);
    }
    return n;
  }

  transmit(batch: FrameBatch, first: number): number {
    const snap = Atomics.load(this.control, this.index);
    if (snap === 0) return this.inner.transmit(batch, first);
    // Stamped before the write: the peer may answer (and the I/O thread record its
    // answer) before a write of a frame to the TAP returns.
    const t = this.clock();
    const w = this.inner.transmit(batch, first);
    if (w > 0) this.captureTx(batch, first, first + w, snap, t);
    return w;
  }

  private captureRx(batch: FrameBatch, n: number, snap: number): void {
    const t = this.clock();
    const b = batch.buf;
    for (let i = 0; i < n; i++) {
      const off = batch.offsets[i];
      const len = batch.lens[i];
      const o = this.record(b, off, len, snap, CAPTURE_RX, t);
      if (o >= 0 && (batch.rxFlags[i] & RX_CSUM_PARTIAL) !== 0) {
        const r = finalL4Checksum(b, off, len);
        if (r >= 0) this.patch(o, Math.min(len, snap), Math.floor(r / 65536), r & 0xffff);
      }
    }
    this.sink.publish();
  }

  private captureTx(batch: FrameBatch, from: number, to: number, snap: number, t: number): void {
    for (let i = from; i < to; i++) {
      let b = batch.buf;
      let off = batch.offsets[i];
      let len = batch.lens[i];
      if (batch.attached[i] > 0) {
        // A frame in pieces (scatter-gather transmit): captured from a flat copy.
        if (this.flat.length === 0) this.flat = new Uint8Array(FLAT_MAX_FRAME);
        b = this.flat;
        off = 0;
        len = batch.copyFrame(i, b, 0);
      }
      const seg = batch.segSize[i];
      const segments = seg > 0 ? tcpSegmentCount(b, off, len, seg) : 0;
      if (segments > 0) {
        if (this.scratch.length === 0) this.scratch = new Uint8Array(CAPTURE_MAX_FRAME);
        for (let k = 0; k < segments; k++) {
          const sl = writeTcpSegment(b, off, len, seg, k, this.scratch, 0);
          this.record(this.scratch, 0, sl, snap, CAPTURE_TX, t);
        }
        continue;
      }
      const o = this.record(b, off, len, snap, CAPTURE_TX, t);
      const cs = batch.csumStart[i];
      if (o >= 0 && cs >= 0) this.patch(o, Math.min(len, snap), cs + batch.csumOffset[i], internetChecksum(b, off + cs, len - cs));
    }
    this.sink.publish();
  }

  /** Copies one frame into the sink; returns the record's offset, or -1 when the sink is full (counted). */
  private record(src: Uint8Array, off: number, len: number, snap: number, dir: number, t: number): number {
    let incl = len < snap ? len : snap;
    if (incl > CAPTURE_MAX_FRAME) incl = CAPTURE_MAX_FRAME;
    const o = this.sink.reserve(incl);
    if (o < 0) {
      this.counters[C.pcap_dropped]++;
      return -1;
    }
    copyBytes(src, off, this.sink.buf, o, incl);
    this.sink.commit(incl, len, dir, t);
    this.counters[C.pcap_frames]++;
    return o;
  }

  /** Writes a completed checksum into a record `incl` bytes long, if its field was kept. */
  private patch(o: number, incl: number, field: number, csum: number): void {
    if (field + 2 > incl) return;
    const b = this.sink.buf;
    b[o + field] = csum >>> 8;
    b[o + field + 1] = csum & 0xff;
  }
}
