/**
 * The IPv4 header (RFC 791 section 3.1) and its receive-side validation (RFC 1122
 * section 3.2.1.1 version, 3.2.1.2 checksum, 3.2.1.4 fragments; RFC 791 header
 * checksum computed per RFC 1071).
 *
 * All accessors work in place on the header at `b[o]`; fragment offsets are in bytes.
 * `validateIpv4` returns a reason code and never throws.
 */
import { readIpv4, readU16, writeIpv4, writeU16 } from './addresses.js';
import { onesSum } from './checksum.js';

/** Minimum (and, as sent by this stack, only) IPv4 header length in bytes. */
export const IPV4_MIN_HEADER = 20;
/** IP protocol number of ICMP. */
export const IPPROTO_ICMP = 1;
/** IP protocol number of TCP. */
export const IPPROTO_TCP = 6;
/** IP protocol number of UDP. */
export const IPPROTO_UDP = 17;
/** Don't Fragment bit of the flags/fragment-offset word. */
export const IPV4_DF = 0x4000;
/** More Fragments bit of the flags/fragment-offset word. */
export const IPV4_MF = 0x2000;
/** Mask of the fragment offset (in 8-byte units) in the flags/fragment-offset word. */
export const IPV4_OFFSET_MASK = 0x1fff;
/** ECN codepoints: the low two bits of the TOS byte (RFC 3168 5). */
export const ECN_NOT_ECT = 0, ECN_ECT1 = 1, ECN_ECT0 = 2, ECN_CE = 3;

/** Why validateIpv4 refused a header (Ipv4Check.Ok: it did not). */
export const enum Ipv4Check {
  Ok = 0,
  /** Fewer than 20 bytes available. */
  Truncated = 1,
  /** The version field is not 4. */
  BadVersion = 2,
  /** IHL below 5, or a header longer than the bytes available. */
  BadIhl = 3,
  /** Total length below the header length or above the bytes available. */
  BadTotalLength = 4,
  /** The header checksum does not verify. */
  BadChecksum = 5,
}

/** Header length in bytes (IHL * 4). */
export function ipHeaderLength(b: Uint8Array, o: number): number {
  return (b[o] & 0x0f) << 2;
}
/** Total length (header + data) in bytes. */
export function ipTotalLength(b: Uint8Array, o: number): number {
  return readU16(b, o + 2);
}
/** Identification. */
export function ipId(b: Uint8Array, o: number): number {
  return readU16(b, o + 4);
}
/** DF flag. */
export function ipDontFragment(b: Uint8Array, o: number): boolean {
  return (b[o + 6] & 0x40) !== 0;
}
/** MF flag. */
export function ipMoreFragments(b: Uint8Array, o: number): boolean {
  return (b[o + 6] & 0x20) !== 0;
}
/** Fragment offset in bytes (field * 8). */
export function ipFragmentOffset(b: Uint8Array, o: number): number {
  return (readU16(b, o + 6) & IPV4_OFFSET_MASK) << 3;
}
/** True when this datagram is a fragment: MF set or a nonzero fragment offset. */
export function ipIsFragment(b: Uint8Array, o: number): boolean {
  return (readU16(b, o + 6) & (IPV4_MF | IPV4_OFFSET_MASK)) !== 0;
}
/** The ECN field: ECN_NOT_ECT, ECN_ECT1, ECN_ECT0 or ECN_CE (RFC 3168 5). */
export function ipEcn(b: Uint8Array, o: number): number {
  return b[o + 1] & 3;
}
/** Time to live. */
export function ipTtl(b: Uint8Array, o: number): number {
  return b[o + 8];
}
/** Protocol number of the payload. */
export function ipProtocol(b: Uint8Array, o: number): number {
  return b[o + 9];
}
/** Source address (uint32). */
export function ipSrc(b: Uint8Array, o: number): number {
  return readIpv4(b, o + 12);
}
/** Destination address (uint32). */
export function ipDst(b: Uint8Array, o: number): number {
  return readIpv4(b, o + 16);
}

/** Set the total length field (does not update the checksum). */
export function setIpTotalLength(b: Uint8Array, o: number, v: number): void {
  writeU16(b, o + 2, v);
}
/** Set the identification field (does not update the checksum). */
export function setIpId(b: Uint8Array, o: number, v: number): void {
  writeU16(b, o + 4, v);
}

/**
 * Write a 20-byte IPv4 header at `b[o]` (version 4, IHL 5, TOS `tos`: DSCP 0 and an ECN
 * codepoint, RFC 3168 5) with a correct header checksum. `flagsFragment` is the raw word
 * (e.g. IPV4_DF, or IPV4_MF | off/8).
 */
export function writeIpv4Header(
  b: Uint8Array,
  o: number,
  totalLength: number,
  id: number,
  flagsFragment: number,
  ttl: number,
  protocol: number,
  src: number,
  dst: number,
  tos = 0,
): void {
  b[o] = 0x45;
  b[o + 1] = tos & 0xff;
  writeU16(b, o + 2, totalLength);
  writeU16(b, o + 4, id);
  writeU16(b, o + 6, flagsFragment);
  b[o + 8] = ttl;
  b[o + 9] = protocol;
  writeIpv4(b, o + 12, src);
  writeIpv4(b, o + 16, dst);
  // Sum the ten header words straight from the arguments (checksum word = 0).
  let s =
    (0x4500 | (tos & 0xff)) +
    (totalLength & 0xffff) +
    (id & 0xffff) +
    (flagsFragment & 0xffff) +
    (((ttl & 0xff) << 8) | (protocol & 0xff)) +
    (src >>> 16) +
    (src & 0xffff) +
    (dst >>> 16) +
    (dst & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  writeU16(b, o + 10, ~s);
}

/** Recompute and store the header checksum over the IHL*4 header bytes. */
export function fillIpv4Checksum(b: Uint8Array, o: number): void {
  b[o + 10] = 0;
  b[o + 11] = 0;
  writeU16(b, o + 10, ~onesSum(b, o, (b[o] & 0x0f) << 2));
}

/**
 * Check the IPv4 header at `b[o]` given `availableLen` bytes from `o` (the rest of
 * the frame; bytes past the end of `b` never count). Ethernet padding may make
 * `availableLen` exceed the total length, which is fine. Returns Ipv4Check.Ok or the first
 * failing reason code, in the order truncated, version, IHL, total length, checksum.
 */
export function validateIpv4(b: Uint8Array, o: number, availableLen: number): Ipv4Check {
  const avail = availableLen < b.length - o ? availableLen : b.length - o;
  if (!(avail >= IPV4_MIN_HEADER)) return Ipv4Check.Truncated;
  const vihl = b[o];
  if (vihl >>> 4 !== 4) return Ipv4Check.BadVersion;
  const hl = (vihl & 0x0f) << 2;
  if (hl < IPV4_MIN_HEADER || hl > avail) return Ipv4Check.BadIhl;
  const total = readU16(b, o + 2);
  if (total < hl || total > avail) return Ipv4Check.BadTotalLength;
  // A correct header sums to one's-complement -0 (RFC 1071 section 1 (3)).
  if (onesSum(b, o, hl) !== 0xffff) return Ipv4Check.BadChecksum;
  return Ipv4Check.Ok;
}
