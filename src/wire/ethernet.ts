/**
 * Ethernet II (DIX) framing as in IEEE 802.3 clause 3 with an EtherType (RFC 894 for
 * IPv4 over Ethernet): 6-byte destination, 6-byte source, 2-byte EtherType. Frames on
 * a TAP device carry no preamble and no FCS. Accessors work in place at an offset.
 */
import { readMac, readU16, writeMac, writeU16 } from './addresses.js';

/** Length of the Ethernet II header in bytes. */
export const ETH_HEADER_LEN = 14;
/** EtherType of IPv4 (RFC 894). */
export const ETHERTYPE_IPV4 = 0x0800;
/** EtherType of ARP (RFC 826). */
export const ETHERTYPE_ARP = 0x0806;
/** EtherType of IPv6 (RFC 2464). */
export const ETHERTYPE_IPV6 = 0x86dd;
/** Minimum Ethernet frame length without the 4-byte FCS; shorter frames are padded. */
export const ETH_MIN_FRAME = 60;

/** Destination MAC (48-bit number) of the frame at `b[o]`. */
export function ethDst(b: Uint8Array, o: number): number {
  return readMac(b, o);
}

/** Source MAC (48-bit number) of the frame at `b[o]`. */
export function ethSrc(b: Uint8Array, o: number): number {
  return readMac(b, o + 6);
}

/** EtherType of the frame at `b[o]`. */
export function ethType(b: Uint8Array, o: number): number {
  return readU16(b, o + 12);
}

/** Write a 14-byte Ethernet II header at `b[o]`. */
export function writeEthernetHeader(b: Uint8Array, o: number, dst: number, src: number, type: number): void {
  writeMac(b, o, dst);
  writeMac(b, o + 6, src);
  writeU16(b, o + 12, type);
}
