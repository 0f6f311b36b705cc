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

/**
 * In virtio-net mode a TX frame record's payload is [6 bytes padding][10-byte
 * virtio_net_hdr][Ethernet frame]: the frame stays 16-byte aligned and the I/O thread
 * writes header and frame with one write() from payload offset 6.
 */
export const TX_VNET_PREFIX = 6;
/** Offset of the Ethernet frame in such a record. */
export const TX_VNET_FRAME = 16;
