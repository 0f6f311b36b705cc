/**
 * The IPv6 header (RFC 8200 section 3) and its extension headers (section 4): next-header
 * numbers, the fixed header's fields, the generic extension header layout (4.3/4.6 options
 * headers, 4.4 routing, 4.5 fragment), and receive-side validation of the fixed header.
 *
 * Accessors work in place on the header at `b[o]`. `validateIpv6` returns a reason code
 * and never throws. Addresses are read with ./ipv6-address.js at IPV6_SRC_OFFSET /
 * IPV6_DST_OFFSET; the upper-layer checksum's pseudo-header is in ./checksum.js.
 */
import { readU16, readU32, writeU16, writeU32 } from './addresses.js';
import { type Ipv6Address, writeIpv6 } from './ipv6-address.js';

/** Length of the fixed IPv6 header in bytes. */
export const IPV6_HEADER_LEN = 40;
/** Smallest link MTU IPv6 may run over (RFC 8200 5). */
export const IPV6_MIN_MTU = 1280;
/** Offset of the source address in the header. */
export const IPV6_SRC_OFFSET = 8;
/** Offset of the destination address in the header. */
export const IPV6_DST_OFFSET = 24;
/** Offset of the payload length field (Parameter Problem pointers name it). */
export const IPV6_PAYLOAD_LENGTH_OFFSET = 4;
/** Offset of the next header field. */
export const IPV6_NEXT_HEADER_OFFSET = 6;

/** Next header: hop-by-hop options (RFC 8200 4.3). */
export const NH_HOP_BY_HOP = 0;
/** Next header: TCP. */
export const NH_TCP = 6;
/** Next header: UDP. */
export const NH_UDP = 17;
/** Next header: routing header (RFC 8200 4.4). */
export const NH_ROUTING = 43;
/** Next header: fragment header (RFC 8200 4.5). */
export const NH_FRAGMENT = 44;
/** Next header: ICMPv6 (RFC 4443). */
export const NH_ICMPV6 = 58;
/** Next header: nothing follows (RFC 8200 4.7). */
export const NH_NONE = 59;
/** Next header: destination options (RFC 8200 4.6). */
export const NH_DESTINATION_OPTIONS = 60;

/** Length of the fragment header. */
export const IPV6_FRAGMENT_HEADER_LEN = 8;
/** Option type Pad1 (RFC 8200 4.2): one byte, no length. */
export const OPT_PAD1 = 0;
/** Option type PadN. */
export const OPT_PADN = 1;
/** Option type Router Alert (RFC 2711), in hop-by-hop options; value 0 = MLD. */
export const OPT_ROUTER_ALERT = 5;

/** Why validateIpv6 refused a header (Ipv6Check.Ok: it did not). */
export const enum Ipv6Check {
  Ok = 0,
  /** Fewer than 40 bytes available. */
  Truncated = 1,
  /** The version field is not 6. */
  BadVersion = 2,
  /** The payload length runs past the bytes available, or is 0 with a hop-by-hop header (a jumbogram, RFC 2675: not supported). */
  BadPayloadLength = 3,
}

/** Payload length: bytes after the fixed header, extension headers included. */
export function ipv6PayloadLength(b: Uint8Array, o: number): number {
  return readU16(b, o + IPV6_PAYLOAD_LENGTH_OFFSET);
}
/** Hop limit. */
export function ipv6HopLimit(b: Uint8Array, o: number): number {
  return b[o + 7];
}

/** Set the payload length field. */
export function setIpv6PayloadLength(b: Uint8Array, o: number, v: number): void {
  writeU16(b, o + IPV6_PAYLOAD_LENGTH_OFFSET, v);
}

/** Write a 40-byte IPv6 header at `b[o]` (traffic class and flow label 0). */
export function writeIpv6Header(
  b: Uint8Array, o: number, payloadLength: number, nextHeader: number, hopLimit: number,
  src: Readonly<Ipv6Address>, dst: Readonly<Ipv6Address>,
): void {
  writeU32(b, o, 0x60000000);
  writeU16(b, o + IPV6_PAYLOAD_LENGTH_OFFSET, payloadLength);
  b[o + IPV6_NEXT_HEADER_OFFSET] = nextHeader;
  b[o + 7] = hopLimit;
  writeIpv6(b, o + IPV6_SRC_OFFSET, src);
  writeIpv6(b, o + IPV6_DST_OFFSET, dst);
}

/** The ECN field of the header at b[o]: the Traffic Class's low two bits (RFC 3168 5; RFC 8200 7). */
export function ipv6Ecn(b: Uint8Array, o: number): number {
  return (b[o + 1] >>> 4) & 3;
}

/** Sets the ECN field of the header at b[o]. */
export function setIpv6Ecn(b: Uint8Array, o: number, ecn: number): void {
  b[o + 1] = (b[o + 1] & 0xcf) | ((ecn & 3) << 4);
}

/** Length in bytes of the hop-by-hop, routing or destination options header at b[o] ((Hdr Ext Len + 1) * 8). */
export function extHeaderLength(b: Uint8Array, o: number): number {
  return (b[o + 1] + 1) << 3;
}

/** Routing header: segments left. */
export function routingSegmentsLeft(b: Uint8Array, o: number): number {
  return b[o + 3];
}

/** Fragment header at b[o]: fragment offset in bytes. */
export function fragmentOffset(b: Uint8Array, o: number): number {
  return readU16(b, o + 2) & 0xfff8;
}
/** Fragment header: the M (more fragments) flag. */
export function fragmentMore(b: Uint8Array, o: number): boolean {
  return (b[o + 3] & 1) !== 0;
}
/** Fragment header: identification. */
export function fragmentId(b: Uint8Array, o: number): number {
  return readU32(b, o + 4);
}

/**
 * Where the transport header of the packet quoted by an ICMPv6 error at b[q..end) starts:
 * right after its 40-byte header, or after a fragment header when the quote is a first
 * fragment (offset 0: a datagram we sent in fragments, RFC 8201 4 quotes one of them).
 * Its protocol is quotedTransportProtocol(b, q, that offset).
 */
export function quotedTransportOffset(b: Uint8Array, q: number, end: number): number {
  const l4 = q + IPV6_HEADER_LEN;
  if (b[q + IPV6_NEXT_HEADER_OFFSET] !== NH_FRAGMENT || l4 + IPV6_FRAGMENT_HEADER_LEN + 4 > end || fragmentOffset(b, l4) !== 0) return l4;
  return l4 + IPV6_FRAGMENT_HEADER_LEN;
}

/** The protocol of the quoted transport header at `l4` (from quotedTransportOffset). */
export function quotedTransportProtocol(b: Uint8Array, q: number, l4: number): number {
  return l4 === q + IPV6_HEADER_LEN ? b[q + IPV6_NEXT_HEADER_OFFSET] : b[q + IPV6_HEADER_LEN];
}

/** Write an 8-byte fragment header at b[o]: `offset` in bytes (a multiple of 8). */
export function writeFragmentHeader(b: Uint8Array, o: number, nextHeader: number, offset: number, more: boolean, id: number): void {
  b[o] = nextHeader;
  b[o + 1] = 0;
  writeU16(b, o + 2, (offset & 0xfff8) | (more ? 1 : 0));
  writeU32(b, o + 4, id);
}

/**
 * Check the fixed IPv6 header at `b[o]` given `availableLen` bytes from `o` (the rest of
 * the frame; Ethernet padding may make it exceed 40 + payload length, which is fine).
 */
export function validateIpv6(b: Uint8Array, o: number, availableLen: number): Ipv6Check {
  const avail = availableLen < b.length - o ? availableLen : b.length - o;
  if (!(avail >= IPV6_HEADER_LEN)) return Ipv6Check.Truncated;
  if (b[o] >>> 4 !== 6) return Ipv6Check.BadVersion;
  const plen = readU16(b, o + IPV6_PAYLOAD_LENGTH_OFFSET);
  if (IPV6_HEADER_LEN + plen > avail) return Ipv6Check.BadPayloadLength;
  if (plen === 0 && b[o + IPV6_NEXT_HEADER_OFFSET] === NH_HOP_BY_HOP) return Ipv6Check.BadPayloadLength;
  return Ipv6Check.Ok;
}
