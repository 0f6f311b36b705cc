/**
 * An in-memory link between two devices in one process: two stacks (or a stack and a test
 * peer) talk through it as through a cable, with a virtual clock, a propagation delay and
 * an optional fault function (drop, duplicate, delay/reorder, corrupt a frame). Frames
 * are copied on transmit, so the sender may reuse its memory at once.
 *
 * Offload, for testing the core against what real devices do with its requests:
 * - `deliver: 'wire'` (default): the link finishes each frame as a NIC would — checksum
 *   completed, TCP super-frames cut into segments (phy/soft-offload.ts) — and the
 *   receiver gets plain frames with no receive flags;
 * - `deliver: 'local'`: as Linux hands locally generated traffic between a TAP and its
 *   sockets — the frame as sent, marked RX_CSUM_PARTIAL (and RX_GSO with its segment
 *   size for a super-frame), which the receiver must not verify.
 *
 * Bounded: at most `maxQueued` frames in flight per direction; beyond that transmit()
 * stops taking frames (the caller drops them, as with a full NIC queue). A frame larger
 * than the receiver's maxRxFrame is dropped at delivery and counted in `oversize`.
 */
import { FrameBatch } from '../base/frame-batch.js';
import { plainCapabilities, type LinkCapabilities, type LinkDevice } from '../base/link.js';
import { RX_CSUM_PARTIAL, RX_GSO } from '../base/rx-flags.js';
import { completeChecksum, segmentTcp } from './soft-offload.js';

/** Which end of the link. */
export type LinkEnd = 'A' | 'B';

/** A frame on the link. */
export interface LinkFrame {
  /** The end that sent it. */
  from: LinkEnd;
  frame: Uint8Array;
  /** When it arrives (ms on the link's clock). */
  at: number;
  /** Receive flags the receiver gets with it (base/rx-flags.ts), and its segment size when RX_GSO. */
  rxFlags: number;
  segSize: number;
}

/** Decides the fate of each frame sent: [] drops it, [f] delivers it, [f, g] duplicates; may change `at` or the bytes. */
export type LinkFault = (f: LinkFrame, index: number) => LinkFrame[];

/** Options of a MemoryLink. */
export interface MemoryLinkOptions {
  /** What both devices offload and their MTU (default: 1500, no offload). */
  capabilities?: Partial<LinkCapabilities>;
  /** How offload requests are delivered (see the file header). Default 'wire'. */
  deliver?: 'wire' | 'local';
  /** The link's clock (ms). Default: always 0 (every frame arrives at once). */
  clock?: () => number;
  /** Propagation delay (ms). Default 0. */
  delay?: number;
  /** Frames in flight per direction before transmit() refuses more. Default 4096. */
  maxQueued?: number;
  /** Keep every frame sent (before faults) in `log`. Default false. */
  log?: boolean;
}

/** One end of a MemoryLink. */
export class MemoryDevice implements LinkDevice {
  constructor(readonly capabilities: LinkCapabilities, private readonly link: MemoryLink, readonly end: LinkEnd) {}

  receive(batch: FrameBatch, max: number, _timeoutMs: number): number {
    return this.link.take(this.end, batch, max);
  }

  transmit(batch: FrameBatch, first: number): number {
    return this.link.put(this.end, batch, first);
  }

  /** When the next frame for this end arrives (Infinity: none in flight). */
  nextArrival(): number {
    return this.link.nextArrival(this.end);
  }
}

/** Two devices joined by an in-memory cable. */
export class MemoryLink {
  readonly a: MemoryDevice;
  readonly b: MemoryDevice;
  /** Propagation delay (ms), may be changed at any time. */
  delay: number;
  /** The fault function, may be set or cleared at any time. */
  fault: LinkFault | null = null;
  /** Every frame sent, before faults (when the `log` option is set). */
  readonly log: LinkFrame[] = [];
  /** Frames dropped at delivery because they exceeded the receiver's maxRxFrame. */
  oversize = 0;
  private readonly caps: LinkCapabilities;
  private readonly deliver: 'wire' | 'local';
  private readonly clock: () => number;
  private readonly maxQueued: number;
  private readonly keepLog: boolean;
  /** Frames in flight, both directions, ordered by arrival time then by sending order. */
  private readonly inFlight: Array<LinkFrame & { seq: number }> = [];
  private readonly queued = { A: 0, B: 0 };
  private seq = 0;
  private faultIndex = 0;

  constructor(opts: MemoryLinkOptions = {}) {
    const mtu = opts.capabilities?.mtu ?? 1500;
    this.caps = { ...plainCapabilities(mtu), ...opts.capabilities };
    if (this.caps.tsoMaxPayload > 0 && this.caps.maxRxFrame < 14 + 65535 && (opts.deliver ?? 'wire') === 'local') {
      this.caps = { ...this.caps, maxRxFrame: 14 + 65535 }; // local delivery hands super-frames up as they are
    }
    this.deliver = opts.deliver ?? 'wire';
    this.clock = opts.clock ?? (() => 0);
    this.delay = opts.delay ?? 0;
    this.maxQueued = opts.maxQueued ?? 4096;
    this.keepLog = opts.log ?? false;
    this.a = new MemoryDevice(this.caps, this, 'A');
    this.b = new MemoryDevice(this.caps, this, 'B');
  }

  /** Frames in flight towards either end. */
  get inFlightCount(): number {
    return this.inFlight.length;
  }

  /** The next frame to arrive anywhere (its arrival time and destination), or null. */
  peek(): { at: number; to: LinkEnd } | null {
    const f = this.inFlight.at(0);
    return f === undefined ? null : { at: f.at, to: f.from === 'A' ? 'B' : 'A' };
  }

  /** When the next frame for `end` arrives (Infinity: none). */
  nextArrival(end: LinkEnd): number {
    for (const f of this.inFlight) if (f.from !== end) return f.at;
    return Infinity;
  }

  /** MemoryDevice.transmit: frames first.. of `batch` from `end` onto the link. */
  put(end: LinkEnd, batch: FrameBatch, first: number): number {
    let i = first;
    for (; i < batch.count; i++) {
      if (this.queued[end] >= this.maxQueued) break;
      const frame = batch.frameBytes(i);
      const len = frame.length;
      const csumStart = batch.csumStart[i];
      const segSize = batch.segSize[i];
      if (this.deliver === 'local') {
        const flags = (csumStart >= 0 ? RX_CSUM_PARTIAL : 0) | (segSize > 0 ? RX_GSO : 0);
        this.send(end, frame, flags, segSize);
        continue;
      }
      if (segSize > 0 && segmentTcp(frame, len, segSize, (s) => this.send(end, s, 0, 0)) > 0) continue;
      if (csumStart >= 0) completeChecksum(frame, 0, len, csumStart, batch.csumOffset[i]);
      this.send(end, frame, 0, 0);
    }
    return i - first;
  }

  private send(from: LinkEnd, frame: Uint8Array, rxFlags: number, segSize: number): void {
    const f: LinkFrame = { from, frame, at: this.clock() + this.delay, rxFlags, segSize };
    if (this.keepLog) this.log.push(f);
    const out = this.fault !== null ? this.fault(f, this.faultIndex++) : [f];
    for (const g of out) {
      const x = { ...g, seq: this.seq++ };
      // Keep the list ordered by (at, seq): new frames usually go at the end.
      let k = this.inFlight.length;
      while (k > 0 && this.inFlight[k - 1].at > x.at) k--;
      this.inFlight.splice(k, 0, x);
      this.queued[g.from]++;
    }
  }

  /** MemoryDevice.receive: frames for `end` that have arrived by now, into `batch`. */
  take(end: LinkEnd, batch: FrameBatch, max: number): number {
    const now = this.clock();
    const limit = Math.min(max, batch.capacity);
    let n = 0;
    let used = 0;
    for (let k = 0; k < this.inFlight.length && n < limit; ) {
      const f = this.inFlight[k];
      if (f.at > now) break;
      if (f.from === end) {
        k++;
        continue;
      }
      const len = f.frame.length;
      if (len > this.caps.maxRxFrame) {
        this.inFlight.splice(k, 1);
        this.queued[f.from]--;
        this.oversize++;
        continue;
      }
      if (used + len > batch.buf.length) break;
      this.inFlight.splice(k, 1);
      this.queued[f.from]--;
      batch.buf.set(f.frame, used);
      batch.offsets[n] = used;
      batch.lens[n] = len;
      batch.rxFlags[n] = f.rxFlags;
      batch.segSize[n] = f.segSize;
      n++;
      used = (used + len + 15) & ~15;
    }
    batch.count = n;
    batch.used = used;
    return n;
  }
}
