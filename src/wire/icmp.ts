/**
 * ICMP for IPv4 (RFC 792; host requirements RFC 1122 section 3.2.2): message types,
 * codes and the fixed 8-byte header. The checksum covers the whole ICMP message
 * (RFC 792, computed with `internetChecksum` from ./checksum.js). Accessors work in
 * place at an offset.
 */
import { readU16, writeU16 } from './addresses.js';
import { adjustChecksum16 } from './checksum.js';

/** Length of the fixed ICMP header (type, code, checksum, 4 bytes rest-of-header). */
export const ICMP_HEADER_LEN = 8;

/** Type: echo reply. */
export const ICMP_ECHO_REPLY = 0;
/** Type: destination unreachable. */
export const ICMP_DEST_UNREACHABLE = 3;
/** Type: echo request. */
export const ICMP_ECHO_REQUEST = 8;
/** Type: time exceeded. */
export const ICMP_TIME_EXCEEDED = 11;
/** Type 12: parameter problem (RFC 792). */
export const ICMP_PARAMETER_PROBLEM = 12;

/** Destination unreachable code: network unreachable. */
export const ICMP_NET_UNREACHABLE = 0;
/** Destination unreachable code: host unreachable. */
export const ICMP_HOST_UNREACHABLE = 1;
/** Destination unreachable code: protocol unreachable. */
export const ICMP_PROTOCOL_UNREACHABLE = 2;
/** Destination unreachable code: port unreachable. */
export const ICMP_PORT_UNREACHABLE = 3;

/** Destination unreachable code: fragmentation needed and DF set (RFC 792; RFC 1191 4 puts the next-hop MTU in bytes 6–7). */
export const ICMP_FRAG_NEEDED = 4;
/** Time Exceeded code: fragment reassembly time exceeded (RFC 792). */
export const ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED = 1;

/** Message type. */
export function icmpType(b: Uint8Array, o: number): number {
  return b[o];
}
/** Message code. */
export function icmpCode(b: Uint8Array, o: number): number {
  return b[o + 1];
}
/** Next-hop MTU of a "fragmentation needed" message (RFC 1191 4; 0 from routers older than it). */
export function icmpNextHopMtu(b: Uint8Array, o: number): number {
  return readU16(b, o + 6);
}
/** Checksum field. */
export function icmpChecksum(b: Uint8Array, o: number): number {
  return readU16(b, o + 2);
}
/** Set the message type (does not update the checksum). */
export function setIcmpType(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
}
/** Set the checksum field. */
export function setIcmpChecksum(b: Uint8Array, o: number, v: number): void {
  writeU16(b, o + 2, v);
}
/**
 * Turn the echo request at b[o] into its reply in place (RFC 792; RFC 1122 3.2.2.6: the
 * data unchanged): only the type changes (8 → 0), so the checksum is patched (RFC 1624).
 */
export function echoRequestToReply(b: Uint8Array, o: number): void {
  b[o] = ICMP_ECHO_REPLY;
  writeU16(b, o + 2, adjustChecksum16(readU16(b, o + 2), ICMP_ECHO_REQUEST << 8, ICMP_ECHO_REPLY << 8));
}
