/**
 * ICMPv6 (RFC 4443): message types and codes, the 4-byte header plus the 4-byte first
 * word of every message body, and the checksum over the IPv6 pseudo-header (RFC 4443
 * 2.3, RFC 8200 8.1). Neighbour discovery messages are in ./ndp.js, MLD in ./mld.js.
 * Accessors work in place at an offset.
 */
import { writeU16 } from './addresses.js';
import { internetChecksum, ipv6PseudoHeaderSumAt, onesSum } from './checksum.js';
import { NH_ICMPV6 } from './ipv6.js';

/** Type, code, checksum and the first 4 bytes of the body (echo id/seq, error's pointer or MTU). */
export const ICMPV6_HEADER_LEN = 8;

/** Error type 4: parameter problem. */
export const ICMPV6_PARAMETER_PROBLEM = 4;
/** Destination Unreachable (RFC 4443 3.1) and its code 4, port unreachable. */
export const ICMPV6_DEST_UNREACHABLE = 1;
export const ICMPV6_PORT_UNREACHABLE = 4;
/** Destination Unreachable code 0: no route to the destination. */
export const ICMPV6_NO_ROUTE = 0;
/** Packet Too Big (RFC 4443 3.2): its 32-bit word is the next hop's MTU. */
export const ICMPV6_PACKET_TOO_BIG = 2;
/** Time Exceeded (RFC 4443 3.3). */
export const ICMPV6_TIME_EXCEEDED = 3;
/** Time Exceeded code: fragment reassembly time exceeded (RFC 4443 3.3, RFC 8200 4.5). */
export const ICMPV6_FRAGMENT_REASSEMBLY_TIME_EXCEEDED = 1;
/** Informational type 128: echo request. */
export const ICMPV6_ECHO_REQUEST = 128;
/** Informational type 129: echo reply. */
export const ICMPV6_ECHO_REPLY = 129;
/** MLD type 130: multicast listener query (RFC 2710, RFC 3810 5.1). */
export const ICMPV6_MLD_QUERY = 130;
/** ND type 133: router solicitation (RFC 4861 4.1). */
export const ICMPV6_ROUTER_SOLICITATION = 133;
/** ND type 134: router advertisement (RFC 4861 4.2). */
export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
/** ND type 135: neighbour solicitation (RFC 4861 4.3). */
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
/** ND type 136: neighbour advertisement (RFC 4861 4.4). */
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/** ND type 137: redirect (RFC 4861 4.5). */
export const ICMPV6_REDIRECT = 137;
/** MLDv2 type 143: multicast listener report (RFC 3810 5.2). */
export const ICMPV6_MLDV2_REPORT = 143;

/** Parameter problem code 0: erroneous header field. */
export const PARAM_PROBLEM_HEADER_FIELD = 0;
/** Parameter problem code 1: unrecognised next header type. */
export const PARAM_PROBLEM_NEXT_HEADER = 1;
/** Parameter problem code 2: unrecognised IPv6 option. */
export const PARAM_PROBLEM_OPTION = 2;

/** Code. */
export function icmpv6Code(b: Uint8Array, o: number): number {
  return b[o + 1];
}
/** True for error messages (types 0..127, RFC 4443 2.1). */
export function icmpv6IsError(type: number): boolean {
  return type < 128;
}

/**
 * True when the ICMPv6 message at b[o..o+len) inside the IPv6 packet at b[ipOff] carries
 * a correct checksum (the sum over pseudo-header and message is -0).
 */
export function icmpv6ChecksumValid(b: Uint8Array, ipOff: number, o: number, len: number): boolean {
  return onesSum(b, o, len, ipv6PseudoHeaderSumAt(b, ipOff, NH_ICMPV6, len)) === 0xffff;
}

/**
 * Fills the checksum of the ICMPv6 message at b[o..o+len) whose IPv6 header (with both
 * addresses already written) is at b[ipOff].
 */
export function fillIcmpv6Checksum(b: Uint8Array, ipOff: number, o: number, len: number): void {
  b[o + 2] = 0;
  b[o + 3] = 0;
  writeU16(b, o + 2, internetChecksum(b, o, len, ipv6PseudoHeaderSumAt(b, ipOff, NH_ICMPV6, len)));
}
