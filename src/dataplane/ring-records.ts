/**
 * What the records of the data plane's rings hold (dataplane/ring.ts).
 *
 * RX ring (I/O thread → worker): one Ethernet frame per record; the record's 16-bit
 * `kind` field carries KIND_FRAME in its low byte and the frame's receive flags
 * (base/rx-flags.ts, as the device reported them) in its high byte.
 *
 * TX ring (worker → I/O thread):
 * - KIND_FRAME: [16-byte offload block][Ethernet frame] — the frame stays 16-byte
 *   aligned and the I/O thread hands it to the device with the offload the core asked
 *   for (base/link.ts TxOffload), read from the block:
 *     u16 csumStart + 1 (0: no checksum to complete) @0, u8 csumOffset @2,
 *     u8 pad @3 (bytes between the block and the frame: 0..15, so that a bulk payload
 *     lands 16-byte aligned, TxSink.reserve), u16 segSize @4, u16 hdrLen @6, 8 bytes 0;
 *     little-endian.
 * - KIND_REINJECT: an Ethernet frame carrying a datagram this worker reassembled but does
 *   not own; the I/O thread steers it again by its flow hash into the owner's RX ring.
 */
import type { FrameBatch } from '../base/frame-batch.js';
import type { TxOffload } from '../base/link.js';

/** An Ethernet frame. */
export const KIND_FRAME = 1;
/** TX only: a reassembled datagram for another worker (see the file header). */
export const KIND_REINJECT = 2;
/** Bytes in front of the frame in a TX KIND_FRAME record. */
export const TX_FRAME_PREFIX = 16;

/** Kind byte of a record's kind field. */
export function recordKind(kindField: number): number {
  return kindField & 0xff;
}

/** Receive flags of an RX frame record's kind field. */
export function recordRxFlags(kindField: number): number {
  return kindField >>> 8;
}

/** Bytes of padding after the block that put byte `alignAt` of the frame on a 16-byte boundary (record payloads start aligned). */
export function framePad(alignAt: number): number {
  return (16 - ((TX_FRAME_PREFIX + alignAt) & 15)) & 15;
}

/** Writes the offload block of a TX frame record at b[o..o+16) (null: nothing asked), with the frame `pad` bytes after it. */
export function writeOffloadBlock(b: Uint8Array, o: number, t: TxOffload | null, pad: number): void {
  b.fill(0, o, o + TX_FRAME_PREFIX);
  b[o + 3] = pad;
  if (t === null) return;
  const cs = t.csumStart + 1;
  b[o] = cs & 0xff;
  b[o + 1] = cs >>> 8;
  b[o + 2] = t.csumOffset;
  b[o + 4] = t.segSize & 0xff;
  b[o + 5] = t.segSize >>> 8;
  b[o + 6] = t.hdrLen & 0xff;
  b[o + 7] = t.hdrLen >>> 8;
}

/**
 * Adds the frame of the TX frame record whose payload is b[o..o+len) to `batch` (which
 * must use `b` as its buffer), with the offload its block asks for. False when full.
 */
export function addRecordFrame(batch: FrameBatch, b: Uint8Array, o: number, len: number): boolean {
  const start = TX_FRAME_PREFIX + (b[o + 3] ?? 0);
  if (!batch.add(o + start, len - start, null)) return false;
  const i = batch.count - 1;
  batch.csumStart[i] = (b[o] | (b[o + 1] << 8)) - 1;
  batch.csumOffset[i] = b[o + 2];
  batch.segSize[i] = b[o + 4] | (b[o + 5] << 8);
  batch.hdrLen[i] = b[o + 6] | (b[o + 7] << 8);
  return true;
}
