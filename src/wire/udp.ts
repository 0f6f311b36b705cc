/**
 * The UDP header and checksum (RFC 768; RFC 1122 section 4.1.3.4 on checksums).
 *
 * The checksum covers the IPv4 pseudo-header, the UDP header and the data. A computed
 * value of 0 is sent as 0xffff; a received field of 0 means "no checksum" (over IPv4;
 * over IPv6 the RFC 8200 8.1 pseudo-header is summed and the checksum is mandatory).
 * Accessors work in place at an offset; nothing allocates.
 */
import { readU16, writeU16 } from './addresses.js';
import { ipv6PseudoHeaderSum, ipv6PseudoHeaderSumAt, onesSum, pseudoHeaderSum } from './checksum.js';
import { IPPROTO_UDP } from './ipv4.js';

/** Length of the UDP header. */
export const UDP_HEADER_LEN = 8;

/** Source port. */
export function udpSrcPort(b: Uint8Array, o: number): number {
  return readU16(b, o);
}
/** Destination port. */
export function udpDstPort(b: Uint8Array, o: number): number {
  return readU16(b, o + 2);
}
/** Length field (header + data). */
export function udpLength(b: Uint8Array, o: number): number {
  return readU16(b, o + 4);
}
/** Checksum field (0 = none). */
export function udpChecksum(b: Uint8Array, o: number): number {
  return readU16(b, o + 6);
}

/** Write an 8-byte UDP header at `b[o]` with the checksum field zeroed. */
export function writeUdpHeader(b: Uint8Array, o: number, srcPort: number, dstPort: number, length: number): void {
  writeU16(b, o, srcPort);
  writeU16(b, o + 2, dstPort);
  writeU16(b, o + 4, length);
  b[o + 6] = 0;
  b[o + 7] = 0;
}

/**
 * The checksum to transmit for the `length`-byte datagram at `b[o]` from `src` to
 * `dst`: pseudo-header + header + data, computed as if the checksum field were 0
 * (whatever it holds now), with a result of 0 mapped to 0xffff.
 */
export function udpChecksumOf(b: Uint8Array, o: number, length: number, src: number, dst: number): number {
  let s = onesSum(b, o, length, pseudoHeaderSum(src, dst, IPPROTO_UDP, length));
  // Take the current checksum field back out (one's-complement subtraction).
  s += ~readU16(b, o + 6) & 0xffff;
  s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  return c === 0 ? 0xffff : c;
}

/** Compute and store the checksum of the `length`-byte datagram at `b[o]`. */
export function fillUdpChecksum(b: Uint8Array, o: number, length: number, src: number, dst: number): void {
  writeU16(b, o + 6, udpChecksumOf(b, o, length, src, dst));
}

/**
 * True when the datagram's checksum verifies, or its checksum field is 0 (sender
 * computed none, RFC 768). `length` is the UDP length (header + data).
 */
export function udpChecksumValid(b: Uint8Array, o: number, length: number, src: number, dst: number): boolean {
  if (b[o + 6] === 0 && b[o + 7] === 0) return true;
  return onesSum(b, o, length, pseudoHeaderSum(src, dst, IPPROTO_UDP, length)) === 0xffff;
}

/**
 * True when the datagram carried in the IPv6 packet at b[ipOff] has a correct checksum.
 * Over IPv6 the checksum is mandatory (RFC 8200 8.1): a zero field is not "none" here,
 * the caller drops it first.
 */
export function udpChecksumValid6(b: Uint8Array, o: number, length: number, ipOff: number): boolean {
  return onesSum(b, o, length, ipv6PseudoHeaderSumAt(b, ipOff, IPPROTO_UDP, length)) === 0xffff;
}

/** Compute and store the checksum of the `length`-byte datagram at `b[o]` from `src` to `dst` over IPv6 (0 sent as 0xffff). */
export function fillUdpChecksum6(b: Uint8Array, o: number, length: number, src: Readonly<Uint32Array>, dst: Readonly<Uint32Array>): void {
  b[o + 6] = 0;
  b[o + 7] = 0;
  const c = ~onesSum(b, o, length, ipv6PseudoHeaderSum(src, dst, IPPROTO_UDP, length)) & 0xffff;
  writeU16(b, o + 6, c === 0 ? 0xffff : c);
}
