/**
 * Per-frame receive metadata, as the link device reports it. A device-neutral bit set
 * passed down with each frame (Host.receive → IPv4 → the transport), never stored in a
 * layer: the TAP device translates its virtio-net header into it (phy/tap-device.ts), an
 * in-memory link sets it from its own capabilities.
 */

/** No metadata: every checksum is verified in software. */
export const RX_NONE = 0;
/** The device verified the L4 (TCP/UDP) checksum (virtio-net DATA_VALID). */
export const RX_CSUM_VERIFIED = 1;
/**
 * The L4 checksum field holds only the pseudo-header sum: the frame was generated on this
 * host's kernel and never crossed a wire (virtio-net NEEDS_CSUM). It must not be verified.
 */
export const RX_CSUM_PARTIAL = 2;
/** The frame is a receive-offload aggregate of several TCP segments (GRO). */
export const RX_GSO = 4;

/** True when the device vouches for the L4 checksum (verified, or partial by construction). */
export function rxChecksumTrusted(flags: number): boolean {
  return (flags & (RX_CSUM_VERIFIED | RX_CSUM_PARTIAL)) !== 0;
}
