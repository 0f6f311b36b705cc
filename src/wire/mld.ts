/**
 * Multicast Listener Discovery version 2 (RFC 3810): the report a host sends to say which
 * groups it listens to (5.2), the fields of a query it answers (5.1), and the hop-by-hop
 * header with the Router Alert option every MLD message carries (RFC 3810 5, RFC 2711).
 * Snooping switches (RFC 4541) forward a group's frames only to ports that reported it.
 *
 * Writers work in place; checksums are filled by the caller (./icmpv6.js).
 */
import { writeU16 } from './addresses.js';
import { type Ipv6Address, writeIpv6 } from './ipv6-address.js';
import { NH_ICMPV6, OPT_PADN, OPT_ROUTER_ALERT } from './ipv6.js';

/** Length of the hop-by-hop header with Router Alert (MLD) and PadN. */
export const MLD_HOP_BY_HOP_LEN = 8;
/** Bytes of the report before its records. */
export const MLDV2_REPORT_HEADER_LEN = 8;
/** Bytes of one record without sources. */
export const MLDV2_RECORD_LEN = 20;
/** Record type MODE_IS_EXCLUDE: the answer to a query for a group we listen to (5.2.12). */
export const MLD_MODE_IS_EXCLUDE = 2;
/** Record type CHANGE_TO_EXCLUDE_MODE: joining a group (any source), unsolicited (5.2.12). */
export const MLD_CHANGE_TO_EXCLUDE = 4;
/** Shortest MLD query (version 1 layout; RFC 3810 8.1: a 24-byte query is MLDv1). */
export const MLD_QUERY_MIN_LEN = 24;

/** Writes the 8-byte hop-by-hop options header with Router Alert = MLD at b[o]; ICMPv6 follows. */
export function writeMldHopByHop(b: Uint8Array, o: number): void {
  b[o] = NH_ICMPV6;
  b[o + 1] = 0; // (0 + 1) * 8 bytes
  b[o + 2] = OPT_ROUTER_ALERT;
  b[o + 3] = 2;
  writeU16(b, o + 4, 0); // value 0: Multicast Listener Discovery message
  b[o + 6] = OPT_PADN;
  b[o + 7] = 0;
}

/**
 * Writes an MLDv2 report (type 143) at b[o] with one record of `recordType` per group,
 * no sources; returns its length. The checksum field is left 0.
 */
export function writeMldv2Report(b: Uint8Array, o: number, type: number, recordType: number, groups: readonly Readonly<Ipv6Address>[]): number {
  b[o] = type;
  b[o + 1] = 0;
  writeU16(b, o + 2, 0);
  writeU16(b, o + 4, 0);
  writeU16(b, o + 6, groups.length);
  let p = o + MLDV2_REPORT_HEADER_LEN;
  for (const g of groups) {
    b[p] = recordType;
    b[p + 1] = 0;
    writeU16(b, p + 2, 0);
    writeIpv6(b, p + 4, g);
    p += MLDV2_RECORD_LEN;
  }
  return p - o;
}
