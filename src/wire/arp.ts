/**
 * ARP packets for IPv4 over Ethernet (RFC 826; gratuitous ARP / announcements per
 * RFC 5227 section 2.3 are ordinary requests with spa = tpa, written with `writeArp`).
 *
 * Layout (28 bytes): htype(2) ptype(2) hlen(1) plen(1) op(2) sha(6) spa(4) tha(6) tpa(4).
 * Accessors work in place at an offset; `validateArp` returns a reason code.
 */
import { readIpv4, readMac, readU16, writeIpv4, writeMac, writeU16 } from './addresses.js';

/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_LEN = 28;
/** ARP opcode: request. */
export const ARP_OP_REQUEST = 1;
/** ARP opcode: reply. */
export const ARP_OP_REPLY = 2;
/** ARP hardware type of Ethernet. */
export const ARP_HTYPE_ETHERNET = 1;
/** ARP protocol type of IPv4 (the IPv4 EtherType). */
export const ARP_PTYPE_IPV4 = 0x0800;

/** Why validateArp refused a packet (ArpCheck.Ok: a well-formed Ethernet/IPv4 request or reply). */
export const enum ArpCheck {
  Ok = 0,
  /** Fewer than 28 bytes available. */
  Truncated = 1,
  /** The hardware type is not Ethernet (1). */
  BadHtype = 2,
  /** The protocol type is not IPv4 (0x0800). */
  BadPtype = 3,
  /** Hardware/protocol address lengths are not 6/4. */
  BadLengths = 4,
  /** The opcode is neither request nor reply. */
  BadOp = 5,
}

/** Hardware type. */
export function arpHtype(b: Uint8Array, o: number): number {
  return readU16(b, o);
}
/** Protocol type. */
export function arpPtype(b: Uint8Array, o: number): number {
  return readU16(b, o + 2);
}
/** Hardware address length. */
export function arpHlen(b: Uint8Array, o: number): number {
  return b[o + 4];
}
/** Protocol address length. */
export function arpPlen(b: Uint8Array, o: number): number {
  return b[o + 5];
}
/** Opcode. */
export function arpOp(b: Uint8Array, o: number): number {
  return readU16(b, o + 6);
}
/** Sender hardware address (48-bit number). */
export function arpSha(b: Uint8Array, o: number): number {
  return readMac(b, o + 8);
}
/** Sender protocol address (uint32). */
export function arpSpa(b: Uint8Array, o: number): number {
  return readIpv4(b, o + 14);
}
/** Target hardware address (48-bit number). */
export function arpTha(b: Uint8Array, o: number): number {
  return readMac(b, o + 18);
}
/** Target protocol address (uint32). */
export function arpTpa(b: Uint8Array, o: number): number {
  return readIpv4(b, o + 24);
}

/** Write a 28-byte Ethernet/IPv4 ARP packet (htype 1, ptype 0x0800, hlen 6, plen 4). */
export function writeArp(
  b: Uint8Array,
  o: number,
  op: number,
  sha: number,
  spa: number,
  tha: number,
  tpa: number,
): void {
  writeU16(b, o, ARP_HTYPE_ETHERNET);
  writeU16(b, o + 2, ARP_PTYPE_IPV4);
  b[o + 4] = 6;
  b[o + 5] = 4;
  writeU16(b, o + 6, op);
  writeMac(b, o + 8, sha);
  writeIpv4(b, o + 14, spa);
  writeMac(b, o + 18, tha);
  writeIpv4(b, o + 24, tpa);
}

/**
 * Check an ARP packet at `b[o]` with `len` bytes available (bytes past the end of `b`
 * never count). Returns ArpCheck.Ok or the first failing reason.
 */
export function validateArp(b: Uint8Array, o: number, len: number): ArpCheck {
  const avail = len < b.length - o ? len : b.length - o;
  if (!(avail >= ARP_LEN)) return ArpCheck.Truncated;
  if (arpHtype(b, o) !== ARP_HTYPE_ETHERNET) return ArpCheck.BadHtype;
  if (arpPtype(b, o) !== ARP_PTYPE_IPV4) return ArpCheck.BadPtype;
  if (arpHlen(b, o) !== 6 || arpPlen(b, o) !== 4) return ArpCheck.BadLengths;
  const op = arpOp(b, o);
  if (op !== ARP_OP_REQUEST && op !== ARP_OP_REPLY) return ArpCheck.BadOp;
  return ArpCheck.Ok;
}
