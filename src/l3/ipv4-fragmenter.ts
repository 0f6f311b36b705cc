/**
 * IPv4 fragmentation helpers (pure, no I/O, no allocation).
 *
 * Implements:
 * - RFC 791 section 3.2 "Fragmentation": every fragment but the last carries a
 *   multiple of 8 payload bytes; fragment offset is counted in 8-byte units; MF is set
 *   on all fragments but the last; ID, DF, TOS, TTL, protocol and addresses are copied.
 * - RFC 791 section 3.1 "Options", copy flag: options whose type has the copy bit
 *   (0x80) set go into every fragment; the others only into the first. We compact the
 *   option area of non-first fragments (copied options only) and pad it with EOL to a
 *   multiple of 4, so their header may be shorter than the original. (Linux instead
 *   overwrites non-copied options with NOP and keeps the header length; both are
 *   allowed by RFC 791.)
 * - Refragmenting a fragment (RFC 791 3.2, "fragments of fragments"): the new offsets
 *   are relative to the original offset, and the input's MF is kept on the last piece.
 *
 * Header fields are read and written with byte accesses; this file does not depend on
 * src/wire.
 */

/** Minimum IPv4 header length (bytes). */
const MIN_HEADER = 20;

/**
 * Internet checksum (RFC 1071) over `len` bytes of `b` from `off`, folded and
 * complemented: the value to store in the checksum field (with the field zeroed
 * while summing), or 0 when verifying a correct header.
 */
export function ipv4HeaderChecksum(b: Uint8Array, off: number, len: number): number {
  let sum = 0;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (len & 1) sum += b[off + len - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Payload bytes each non-final fragment carries when a datagram with a `headerLen`
 * byte header and `payloadLen` payload bytes is sent over a link with this `mtu`:
 * the largest multiple of 8 that is <= mtu - headerLen.
 *
 * Returns `payloadLen` when the whole datagram fits in the MTU (no fragmentation
 * needed), and 0 when the MTU leaves room for fewer than 8 payload bytes (cannot be
 * fragmented; the caller drops and counts). Never negative.
 *
 * `headerLen` should be the first fragment's (longest) header length; later
 * fragments may have shorter headers (see `writeFragmentHeader`), so using the same
 * plan for all of them is safe.
 */
export function fragmentPlan(headerLen: number, payloadLen: number, mtu: number): number {
  if (headerLen + payloadLen <= mtu) return Math.max(0, payloadLen);
  const room = mtu - headerLen;
  if (!(room >= 8)) return 0;
  return Math.floor(room / 8) * 8;
}

/**
 * Writes the IPv4 header of one fragment at `dst[dstOff]`, derived from the header of
 * the datagram being fragmented at `src[srcOff]` (`headerLen` bytes, options included).
 * Only the header is written; the caller copies `fragPayloadLen` payload bytes after it.
 *
 * - `fragOffsetBytes`: where this fragment's payload starts in the input's payload
 *   (must be a multiple of 8; lower bits are ignored). If the input is itself a
 *   fragment, its own offset is added.
 * - `more`: true for every fragment but the last. MF = `more` OR the input's MF.
 * - Kept from the input: version, TOS, ID, DF and the reserved flag bit, TTL,
 *   protocol, addresses.
 * - Options: the first fragment (`fragOffsetBytes === 0`) gets all of them unchanged;
 *   later fragments only those with the copy bit set, packed and padded with EOL to a
 *   multiple of 4 bytes. A malformed option list is copied up to the first malformed
 *   option.
 * - Total length = new header length + `fragPayloadLen`; checksum recomputed.
 *
 * Returns the header length written (a multiple of 4, 20..60), which may be shorter
 * than `headerLen` for non-first fragments. `dst` must have room for `headerLen` bytes.
 */
export function writeFragmentHeader(
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  headerLen: number,
  fragOffsetBytes: number,
  fragPayloadLen: number,
  more: boolean,
): number {
  // Fixed part (first 20 bytes).
  for (let i = 0; i < MIN_HEADER; i++) dst[dstOff + i] = src[srcOff + i];

  let hl: number;
  if (fragOffsetBytes === 0 || headerLen <= MIN_HEADER) {
    hl = headerLen;
    for (let i = MIN_HEADER; i < hl; i++) dst[dstOff + i] = src[srcOff + i];
  } else {
    // Copy only options with the copy bit set (RFC 791 3.1).
    let w = dstOff + MIN_HEADER;
    let r = MIN_HEADER;
    while (r < headerLen) {
      const type = src[srcOff + r];
      if (type === 0) break; // EOL: end of option list
      if (type === 1) { r++; continue; } // NOP: copy bit clear, not copied
      if (r + 1 >= headerLen) break; // truncated option
      const olen = src[srcOff + r + 1];
      if (olen < 2 || r + olen > headerLen) break; // malformed
      if (type & 0x80) {
        for (let i = 0; i < olen; i++) dst[w + i] = src[srcOff + r + i];
        w += olen;
      }
      r += olen;
    }
    while ((w - dstOff) & 3) dst[w++] = 0; // pad with EOL
    hl = w - dstOff;
  }

  // Version/IHL.
  dst[dstOff] = (src[srcOff] & 0xf0) | (hl >>> 2);
  // Total length.
  const total = (hl + fragPayloadLen) & 0xffff;
  dst[dstOff + 2] = total >>> 8;
  dst[dstOff + 3] = total & 0xff;
  // Flags and fragment offset: keep reserved/DF, MF = more || input MF.
  const f0 = src[srcOff + 6];
  const inFlags = f0 & 0xe0;
  const inOffUnits = ((f0 & 0x1f) << 8) | src[srcOff + 7];
  const offUnits = (inOffUnits + Math.floor(fragOffsetBytes / 8)) & 0x1fff;
  const flags = (inFlags & 0xc0) | (more || (inFlags & 0x20) !== 0 ? 0x20 : 0);
  dst[dstOff + 6] = flags | (offUnits >>> 8);
  dst[dstOff + 7] = offUnits & 0xff;
  // Checksum.
  dst[dstOff + 10] = 0;
  dst[dstOff + 11] = 0;
  const ck = ipv4HeaderChecksum(dst, dstOff, hl);
  dst[dstOff + 10] = ck >>> 8;
  dst[dstOff + 11] = ck & 0xff;
  return hl;
}
