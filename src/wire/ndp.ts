/**
 * Neighbour discovery messages (RFC 4861 section 4) and their options (section 4.6):
 * router solicitation/advertisement, neighbour solicitation/advertisement, the
 * link-layer address, prefix information and MTU options, and the option walk with the
 * validity rule of 4.6 (no option of length 0, none past the message).
 *
 * Accessors work in place on the ICMPv6 message at `b[o]`; option offsets are absolute.
 */
import { readMac, readU16, readU32, writeMac, writeU32 } from './addresses.js';
import { ICMPV6_ROUTER_SOLICITATION } from './icmpv6.js';
import { type Ipv6Address, writeIpv6 } from './ipv6-address.js';

/** Router solicitation: 8 bytes before the options. */
export const ND_RS_LEN = 8;
/** Router advertisement: 16 bytes before the options. */
export const ND_RA_LEN = 16;
/** Neighbour solicitation and advertisement: 24 bytes before the options (the target address at +8). */
export const ND_NS_NA_LEN = 24;
/** Offset of the target address in an NS or NA. */
export const ND_TARGET_OFFSET = 8;
/** Hop limit every ND message is sent with and must arrive with (RFC 4861 6.1/7.1). */
export const ND_HOP_LIMIT = 255;

/** Option: source link-layer address. */
export const ND_OPT_SOURCE_LLA = 1;
/** Option: target link-layer address. */
export const ND_OPT_TARGET_LLA = 2;
/** Option: MTU. */
export const ND_OPT_MTU = 5;
/** Length of a link-layer address option for Ethernet (RFC 2464 6). */
export const ND_OPT_LLA_LEN = 8;

/** NA flag R: the sender is a router. */
export const NA_ROUTER = 0x80;
/** NA flag S: solicited (an answer to an NS). */
export const NA_SOLICITED = 0x40;
/** NA flag O: override an existing cache entry. */
export const NA_OVERRIDE = 0x20;

/** NA flags byte (R, S, O in its top bits). */
export function naFlags(b: Uint8Array, o: number): number {
  return b[o + 4];
}

/** RA: current hop limit (0: unspecified). */
export function raCurHopLimit(b: Uint8Array, o: number): number {
  return b[o + 4];
}
/** RA: router lifetime in seconds (0: not a default router). */
export function raRouterLifetime(b: Uint8Array, o: number): number {
  return readU16(b, o + 6);
}
/** RA: reachable time in ms (0: unspecified). */
export function raReachableTime(b: Uint8Array, o: number): number {
  return readU32(b, o + 8);
}
/** RA: retransmission timer in ms (0: unspecified). */
export function raRetransTimer(b: Uint8Array, o: number): number {
  return readU32(b, o + 12);
}

/** Length in bytes of the option at b[p] (its length field counts 8-byte units). */
export function ndOptionLength(b: Uint8Array, p: number): number {
  return b[p + 1] << 3;
}
/** The MAC in a link-layer address option at b[p]. */
export function ndOptionMac(b: Uint8Array, p: number): number {
  return readMac(b, p + 2);
}
/** The MTU in an MTU option at b[p]. */
export function ndOptionMtu(b: Uint8Array, p: number): number {
  return readU32(b, p + 4);
}

/**
 * Checks the options from b[start] to b[end] (RFC 4861 4.6: every option has a nonzero
 * length and ends inside the message). Returns false when they are malformed.
 */
export function ndOptionsValid(b: Uint8Array, start: number, end: number): boolean {
  let p = start;
  while (p < end) {
    if (p + 2 > end) return false;
    const n = b[p + 1] << 3;
    if (n === 0 || p + n > end) return false;
    p += n;
  }
  return true;
}

/**
 * Offset of the first option of `type` between b[start] and b[end] (already validated),
 * or -1 when there is none.
 */
export function ndFindOption(b: Uint8Array, start: number, end: number, type: number): number {
  for (let p = start; p < end; p += b[p + 1] << 3) {
    if (b[p] === type) return p;
  }
  return -1;
}

/** Writes a link-layer address option (`type` source or target) carrying `mac` at b[p]; 8 bytes. */
export function writeLlaOption(b: Uint8Array, p: number, type: number, mac: number): void {
  b[p] = type;
  b[p + 1] = 1;
  writeMac(b, p + 2, mac);
}

/**
 * Writes an NS (type 135) or NA (type 136, with `flags`) for `target` at b[o], without
 * checksum; the caller appends options after ND_NS_NA_LEN bytes.
 */
export function writeNsNa(b: Uint8Array, o: number, type: number, flags: number, target: Readonly<Ipv6Address>): void {
  b[o] = type;
  b[o + 1] = 0;
  b[o + 2] = 0;
  b[o + 3] = 0;
  writeU32(b, o + 4, (flags & 0xff) << 24);
  writeIpv6(b, o + ND_TARGET_OFFSET, target);
}

/** Writes a router solicitation (type 133) header at b[o] without checksum; options follow at +8. */
export function writeRs(b: Uint8Array, o: number): void {
  b[o] = ICMPV6_ROUTER_SOLICITATION;
  b[o + 1] = 0;
  b[o + 2] = 0;
  b[o + 3] = 0;
  writeU32(b, o + 4, 0);
}
