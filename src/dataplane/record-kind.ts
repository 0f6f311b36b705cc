/**
 * What a ring record holds. The ring's 16-bit `kind` field carries the record kind in
 * its low byte and, for frames read with a virtio-net header, the header's flags byte
 * (NEEDS_CSUM, DATA_VALID) in its high byte.
 */

/** An Ethernet frame (RX: from the TAP; TX: to the TAP). */
export const KIND_FRAME = 1;
/**
 * TX only: an Ethernet frame carrying a datagram this worker reassembled but does not
 * own; the I/O thread steers it again by its flow hash into the owner's RX ring.
 */
export const KIND_REINJECT = 2;

/** Kind byte of a ring record's kind field. */
export function recordKind(kindField: number): number {
  return kindField & 0xff;
}

/** Virtio-net header flags byte of a ring record's kind field. */
export function recordVnetFlags(kindField: number): number {
  return kindField >>> 8;
}
