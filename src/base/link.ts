/**
 * The link contract between the protocol core and a network device, after smoltcp's
 * `phy::Device`: what a device can do (LinkCapabilities), how the core builds each
 * outgoing frame in place (TxSink) and asks the device to finish it (TxOffload), and how
 * frames move in batches between a device and the code that drives it (LinkDevice over
 * a FrameBatch, base/frame-batch.ts).
 *
 * The core sees capabilities and offload requests in its own terms (a checksum to
 * complete from an offset, a payload size to cut TCP super-frames at); how a device
 * carries them (the TAP's virtio-net header, phy/tap.ts; an in-memory link's software
 * segmentation, phy/memory-link.ts) is the device's business. Decorators that capture
 * or break frames (pcap, fault injection) wrap a LinkDevice and need nothing from the
 * core.
 *
 * Receive metadata travels the other way as a bit set per frame (base/rx-flags.ts).
 */
import type { FrameBatch } from './frame-batch.js';

/** What a device can do (smoltcp DeviceCapabilities). */
export interface LinkCapabilities {
  /** The frames' link layer: Ethernet II is the only one so far. */
  readonly medium: 'ethernet';
  /** IP MTU: the largest IP datagram one plain frame carries. */
  readonly mtu: number;
  /** Largest frame receive() may hand up, bytes (a receive-offload aggregate: ~64 KiB). */
  readonly maxRxFrame: number;
  /** The device completes L4 checksums of frames whose TxOffload asks for it. */
  readonly txChecksum: boolean;
  /**
   * Largest TCP payload of one segmentation-offload super-frame the device cuts into
   * MTU-sized segments; 0 when it cannot (requires txChecksum).
   */
  readonly tsoMaxPayload: number;
  /**
   * Bytes in front of each frame the device may overwrite on transmit (the TAP writes its
   * virtio-net header there and the frame with it in one plain write()); a transmit batch
   * leaves that much room before every frame it builds (FrameBatch headroom).
   */
  readonly txHeadroom: number;
  /**
   * The device takes frames that end in pieces of other memory (FrameBatch.attach: a
   * writev() per frame), so a TCP payload need not be copied out of the send buffer
   * (decision 0051). Optional: absent is false. Decorators that keep or copy frames
   * (pcap, fault injection) do not offer it.
   */
  readonly txGather?: boolean;
}

/** A device that does no offload: every frame is sent and received as it is. */
export function plainCapabilities(mtu: number): LinkCapabilities {
  return { medium: 'ethernet', mtu, maxRxFrame: mtu + 14, txChecksum: false, tsoMaxPayload: 0, txHeadroom: 0 };
}

/**
 * What the core asks a device to do with one outgoing frame before it goes on the wire:
 * complete an L4 checksum, and cut a TCP super-frame into segments. One instance is
 * reused by its owner (no object per frame); the sink reads it during commit().
 */
export class TxOffload {
  /**
   * Offset from the frame's first byte of the L4 header whose checksum the device
   * completes (its checksum field holds the pseudo-header sum); -1: nothing to complete.
   */
  csumStart = -1;
  /** Offset of the checksum field from csumStart (TCP 16, UDP 6). */
  csumOffset = 0;
  /** TCP segmentation: payload bytes per segment; 0: send the frame as one. */
  segSize = 0;
  /** Bytes of headers (link + IP + TCP) repeated in front of every segment. */
  hdrLen = 0;

  /** Asks for nothing. */
  clear(): void {
    this.csumStart = -1;
    this.csumOffset = 0;
    this.segSize = 0;
    this.hdrLen = 0;
  }
}

/**
 * The frames of one flow (a TCP connection) as a sink that queues them sees them: where it
 * queued the flow's latest frame, in the sink's own terms (-1: nowhere yet), and how many
 * of its bytes it holds. The core keeps the fields and never reads them; a sink with two
 * ways out (dataplane/tx-path.ts) uses them to let a flow's frame take the other way only
 * once the flow's earlier frames are out.
 */
export interface TxFlow {
  txQueuedAt: number;
  /** The flow's bytes the sink holds queued (the sink's count; 0 at first). */
  txQueuedBytes: number;
}

/** TxSink.reserve's answer when the frame's flow has its share of the sink queued already: wait for room, as for a full sink. */
export const TX_FLOW_LIMITED = -2;

/**
 * Where the core writes the frames it sends, in place: it reserves room, writes headers
 * and payload into `buf` at the returned offset, and commits the real length. In a shard
 * worker the sink is its transmit path (a TX ring or a staging batch, dataplane/); in a
 * single-threaded driver a staging batch over a device (base/tx-staging.ts); in tests a
 * virtual wire that keeps the frames.
 */
export interface TxSink {
  /** Bytes of the sink's memory; offsets returned by `reserve` index into it. */
  readonly buf: Uint8Array;
  /**
   * Reserves room for a frame of at most `maxLen` bytes. Returns the offset in `buf`
   * where the frame starts, or -1 when there is no room (the caller drops and counts), or
   * TX_FLOW_LIMITED when `flow` has its share of the sink queued (not counted as a drop).
   * `alignAt` (optional): place the frame so that its byte `alignAt` — where a bulk
   * payload will be copied — is 16-byte aligned in `buf` (V8 copies into shared memory
   * several times faster to aligned addresses); sinks may ignore it. `flow` (optional):
   * the flow the frame belongs to (TxFlow), null for frames of none; sinks may ignore it.
   */
  reserve(maxLen: number, alignAt?: number, flow?: TxFlow | null): number;
  /**
   * Commits the frame started by the last `reserve`, `len` bytes long (len <= maxLen).
   * `offload` (read during the call only) asks the device to finish the frame; null:
   * the frame is complete as it is. The core asks only for what the capabilities offer.
   */
  commit(len: number, offload: TxOffload | null): void;
  /**
   * True when the frame begun by the last `reserve` may end in payload held by reference
   * (`attach`), its device taking it with a writev(): a staging batch over such a device.
   */
  readonly gathers: boolean;
  /**
   * Ends the frame being built with `len` bytes of `src` from `off`, not copied: they are
   * read when the frame is transmitted, and must not change before. Only when `gathers`;
   * `commit`'s length counts them.
   */
  attach(src: Uint8Array, off: number, len: number): void;
}

/**
 * A network device: frames in and out in batches, with per-frame metadata in the batch
 * (receive flags; transmit offload requests). Implementations: the TAP (phy/tap.ts) and
 * an in-memory link between two stacks in one process (phy/memory-link.ts).
 */
export interface LinkDevice {
  readonly capabilities: LinkCapabilities;
  /**
   * Receives the frames that are ready into `batch`, which must be empty: frame i at
   * batch.offsets[i] (16-byte aligned), batch.lens[i] bytes, its receive flags in
   * batch.rxFlags[i] and, for an aggregate, its segment size in batch.segSize[i]. Takes at
   * most `max` frames (and no more than the batch holds). When none is ready and
   * `timeoutMs` is not 0, waits for one up to `timeoutMs` (-1: forever) if the device can
   * wait. Returns the number received, or -errno when the device failed.
   */
  receive(batch: FrameBatch, max: number, timeoutMs: number): number;
  /**
   * Transmits frames first .. batch.count-1 of `batch` in order, each finished as its
   * offload fields ask. Returns how many were consumed: fewer than asked means the device
   * queue is full (the caller drops the rest or retries). A frame the device rejects is
   * consumed, counted in batch.failed and its errno kept in batch.lastErrno.
   */
  transmit(batch: FrameBatch, first: number): number;
}

/**
 * A device that holds frames back to send later (fault injection's delay and reordering,
 * phy/fault-device.ts). Its receive() releases what is due by itself and never waits past
 * it; a driver that only transmits (a shard worker's direct path) must call
 * releaseDue(now) once nextDue() has passed, even when it has nothing to send.
 */
export interface HoldingLinkDevice extends LinkDevice {
  /** When the next held frame is due (ms on the driver's clock); Infinity when none is held. */
  nextDue(): number;
  /** Sends every held transmit frame that is due at `now`. */
  releaseDue(now: number): void;
}

/** Whether `d` holds frames back (see HoldingLinkDevice). */
export function holdsFrames(d: LinkDevice): d is HoldingLinkDevice {
  return typeof (d as Partial<HoldingLinkDevice>).nextDue === 'function';
}
