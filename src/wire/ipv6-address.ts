/**
 * IPv6 addresses (RFC 4291): the value type, in-place access to addresses in packets,
 * the text forms (RFC 4291 2.2 parsing, RFC 5952 canonical formatting), and the derived
 * addresses a host needs on Ethernet: the link-local address from a MAC (RFC 4291 2.5.6
 * and appendix A, modified EUI-64), solicited-node multicast groups (RFC 4291 2.7.1) and
 * the Ethernet address of a multicast group (RFC 2464 7).
 *
 * An address is an `Ipv6Address`: a Uint32Array of four words, word 0 being the first
 * four bytes read big-endian. Readers fill a caller's array (no allocation per packet);
 * comparisons against packet bytes work in place. Parsing and formatting are for
 * configuration and logs: the parser returns null on bad input.
 */
import { readU32, writeU32 } from './addresses.js';

/** An IPv6 address as four big-endian 32-bit words (length 4). */
export type Ipv6Address = Uint32Array;


/** A new address from four words. */
export function ipv6(w0: number, w1: number, w2: number, w3: number): Ipv6Address {
  return Uint32Array.of(w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0);
}

/** The unspecified address :: (RFC 4291 2.5.2). */
export const IPV6_UNSPECIFIED: Readonly<Ipv6Address> = ipv6(0, 0, 0, 0);
/** ff02::1, all nodes on the link (RFC 4291 2.7.1). */
export const IPV6_ALL_NODES: Readonly<Ipv6Address> = ipv6(0xff020000, 0, 0, 1);
/** ff02::2, all routers on the link (RFC 4291 2.7.1). */
export const IPV6_ALL_ROUTERS: Readonly<Ipv6Address> = ipv6(0xff020000, 0, 0, 2);
/** ff02::16, where MLDv2 reports go (RFC 3810 5.2.14). */
export const IPV6_ALL_MLDV2_ROUTERS: Readonly<Ipv6Address> = ipv6(0xff020000, 0, 0, 0x16);

/** Reads the address at b[o..o+16) into `into` (returned). */
export function readIpv6(b: Uint8Array, o: number, into: Ipv6Address): Ipv6Address {
  into[0] = readU32(b, o);
  into[1] = readU32(b, o + 4);
  into[2] = readU32(b, o + 8);
  into[3] = readU32(b, o + 12);
  return into;
}

/** Writes `a` at b[o..o+16). */
export function writeIpv6(b: Uint8Array, o: number, a: Readonly<Ipv6Address>): void {
  writeU32(b, o, a[0]);
  writeU32(b, o + 4, a[1]);
  writeU32(b, o + 8, a[2]);
  writeU32(b, o + 12, a[3]);
}

/** True when the 16 bytes at b[o] hold `a`. */
export function ipv6EqualsAt(b: Uint8Array, o: number, a: Readonly<Ipv6Address>): boolean {
  return readU32(b, o) === a[0] && readU32(b, o + 4) === a[1] && readU32(b, o + 8) === a[2] && readU32(b, o + 12) === a[3];
}

/** True when `a` and `b` are the same address. */
export function ipv6Equals(a: Readonly<Ipv6Address>, b: Readonly<Ipv6Address>): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** True for ff00::/8 (RFC 4291 2.7). */
export function ipv6IsMulticast(a: Readonly<Ipv6Address>): boolean {
  return a[0] >>> 24 === 0xff;
}

/** True for fe80::/10 (RFC 4291 2.5.6). */
export function ipv6IsLinkLocal(a: Readonly<Ipv6Address>): boolean {
  return a[0] >>> 22 === 0x3fa;
}

/** True for :: (RFC 4291 2.5.2). */
export function ipv6IsUnspecified(a: Readonly<Ipv6Address>): boolean {
  return (a[0] | a[1] | a[2] | a[3]) === 0;
}

/** True when `a` is inside `prefix`/`len` (bits of `prefix` past `len` are ignored). */
export function ipv6InPrefix(a: Readonly<Ipv6Address>, prefix: Readonly<Ipv6Address>, len: number): boolean {
  for (let i = 0; i < 4 && len > 0; i++, len -= 32) {
    const mask = len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
    if (((a[i] ^ prefix[i]) & mask) !== 0) return false;
  }
  return true;
}

/**
 * The link-local address of an interface with MAC `mac` (48-bit number): fe80::/64 with
 * the modified EUI-64 interface identifier (RFC 4291 appendix A: ff:fe in the middle,
 * the universal/local bit inverted).
 */
export function linkLocalFromMac(mac: number): Ipv6Address {
  const hi = Math.floor(mac / 2 ** 24); // first three bytes
  const lo = mac % 2 ** 24; // last three bytes
  return ipv6(0xfe800000, 0, ((hi ^ 0x020000) << 8) | 0xff, (0xfe000000 | lo) >>> 0);
}

/** The solicited-node multicast group of `a`: ff02::1:ffXX:XXXX with its low 24 bits (RFC 4291 2.7.1). */
export function solicitedNodeOf(a: Readonly<Ipv6Address>): Ipv6Address {
  return ipv6(0xff020000, 0, 1, (0xff000000 | (a[3] & 0xffffff)) >>> 0);
}

/** The Ethernet destination of IPv6 multicast group `a`: 33:33 and its last four bytes (RFC 2464 7). */
export function multicastMacOf(a: Readonly<Ipv6Address>): number {
  return 0x3333 * 2 ** 32 + a[3];
}

/**
 * Parses IPv6 text (RFC 4291 2.2: eight groups of 1..4 hex digits, one "::" for a run of
 * zero groups, an optional dotted-quad IPv4 tail). No zone index, no brackets. Null on
 * bad input.
 */
export function parseIpv6(s: string): Ipv6Address | null {
  if (typeof s !== 'string' || s.length < 2 || s.length > 45) return null;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // A dotted-quad tail stands for the last two groups: rewrite it as hex and go on.
    const q = text.slice(lastColon + 1).split('.');
    if (q.length !== 4) return null;
    for (const p of q) {
      if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return null;
    }
    const hi = (Number(q[0]) << 8) | Number(q[1]);
    const lo = (Number(q[2]) << 8) | Number(q[3]);
    text = `${text.slice(0, lastColon + 1)}${hi.toString(16)}:${lo.toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string): number[] | null => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || rest === null) return null;
  const given = head.length + rest.length;
  if (halves.length === 2 ? given > 7 : given !== 8) return null;
  const all = [...head, ...new Array<number>(8 - given).fill(0), ...rest];
  return ipv6(
    (all[0] << 16) | all[1], (all[2] << 16) | all[3], (all[4] << 16) | all[5], (all[6] << 16) | all[7],
  );
}

/** RFC 5952 text of `a`: lowercase, no leading zeros, the longest run (2+) of zero groups as "::". */
export function formatIpv6(a: Readonly<Ipv6Address>): string {
  const g: number[] = [];
  for (let i = 0; i < 4; i++) g.push(a[i] >>> 16, a[i] & 0xffff);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
