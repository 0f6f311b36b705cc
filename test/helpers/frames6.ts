/**
 * IPv6 frame builders for tests: an IPv6 packet with any chain of extension headers,
 * ICMPv6 messages with a valid checksum, ND messages with link-layer options, and
 * fragments. Built with the wire writers; golden bytes are asserted elsewhere.
 */
import { ipv6PseudoHeaderSum, internetChecksum } from '../../src/wire/checksum.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV6, writeEthernetHeader } from '../../src/wire/ethernet.js';
import { type Ipv6Address, multicastMacOf } from '../../src/wire/ipv6-address.js';
import { IPV6_HEADER_LEN, NH_FRAGMENT, NH_ICMPV6, writeFragmentHeader, writeIpv6Header } from '../../src/wire/ipv6.js';
import { ND_HOP_LIMIT, writeLlaOption, writeNsNa } from '../../src/wire/ndp.js';

/** An extension header to put in front of the upper layer: its type and its bytes (next header byte filled in). */
export interface ExtHeader {
  type: number;
  bytes: Uint8Array;
}

/** An IPv6 packet in an Ethernet frame: `exts` in order, then `nh`'s `payload`. */
export function ipv6Frame(
  dstMac: number, srcMac: number, src: Readonly<Ipv6Address>, dst: Readonly<Ipv6Address>, nh: number, payload: Uint8Array,
  opts: { hopLimit?: number; exts?: ExtHeader[] } = {},
): Uint8Array {
  const exts = opts.exts ?? [];
  const extLen = exts.reduce((n, e) => n + e.bytes.length, 0);
  const f = new Uint8Array(ETH_HEADER_LEN + IPV6_HEADER_LEN + extLen + payload.length);
  writeEthernetHeader(f, 0, dstMac, srcMac, ETHERTYPE_IPV6);
  writeIpv6Header(f, ETH_HEADER_LEN, extLen + payload.length, exts.length > 0 ? exts[0].type : nh, opts.hopLimit ?? 64, src, dst);
  let p = ETH_HEADER_LEN + IPV6_HEADER_LEN;
  exts.forEach((e, i) => {
    f.set(e.bytes, p);
    f[p] = i + 1 < exts.length ? exts[i + 1].type : nh;
    p += e.bytes.length;
  });
  f.set(payload, p);
  return f;
}

/** An ICMPv6 message (type, code, 4-byte word, body) with a valid checksum for src → dst. */
export function icmpv6Message(src: Readonly<Ipv6Address>, dst: Readonly<Ipv6Address>, type: number, code: number, word: number, body: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + body.length);
  m[0] = type;
  m[1] = code;
  m[4] = word >>> 24; m[5] = word >>> 16; m[6] = word >>> 8; m[7] = word;
  m.set(body, 8);
  const c = internetChecksum(m, 0, m.length, ipv6PseudoHeaderSum(src, dst, NH_ICMPV6, m.length));
  m[2] = c >> 8; m[3] = c & 0xff;
  return m;
}

/** An ICMPv6 echo request frame. */
export function echo6Frame(dstMac: number, srcMac: number, src: Readonly<Ipv6Address>, dst: Readonly<Ipv6Address>, id: number, seq: number, data: Uint8Array, opts: { exts?: ExtHeader[]; hopLimit?: number } = {}): Uint8Array {
  return ipv6Frame(dstMac, srcMac, src, dst, NH_ICMPV6, icmpv6Message(src, dst, 128, 0, ((id << 16) | seq) >>> 0, data), opts);
}

/**
 * A neighbour solicitation (135) or advertisement (136) frame for `target`, hop limit 255
 * unless told, with a source/target link-layer option when `lla` >= 0.
 */
export function ndFrame(
  type: 135 | 136, srcMac: number, src: Readonly<Ipv6Address>, dst: Readonly<Ipv6Address>, target: Readonly<Ipv6Address>,
  opts: { flags?: number; lla?: number; dstMac?: number; hopLimit?: number } = {},
): Uint8Array {
  const lla = opts.lla ?? -1;
  const m = new Uint8Array(24 + (lla >= 0 ? 8 : 0));
  writeNsNa(m, 0, type, opts.flags ?? 0, target);
  if (lla >= 0) writeLlaOption(m, 24, type === 135 ? 1 : 2, lla);
  const c = internetChecksum(m, 0, m.length, ipv6PseudoHeaderSum(src, dst, NH_ICMPV6, m.length));
  m[2] = c >> 8; m[3] = c & 0xff;
  const dstMac = opts.dstMac ?? (dst[0] >>> 24 === 0xff ? multicastMacOf(dst) : 0);
  return ipv6Frame(dstMac, srcMac, src, dst, NH_ICMPV6, m, { hopLimit: opts.hopLimit ?? ND_HOP_LIMIT });
}

/** An options header (hop-by-hop or destination options) of `len` bytes (a multiple of 8) holding `options` then PadN. */
export function optionsHeader(type: number, options: number[], len = 8): ExtHeader {
  const b = new Uint8Array(len);
  b[1] = len / 8 - 1;
  b.set(options, 2);
  const rest = len - 2 - options.length;
  if (rest === 1) b[2 + options.length] = 0;
  else if (rest >= 2) {
    b[2 + options.length] = 1;
    b[3 + options.length] = rest - 2;
  }
  return { type, bytes: b };
}

/** A routing header of `routingType` with `segmentsLeft` (and room for one address). */
export function routingHeader(routingType: number, segmentsLeft: number): ExtHeader {
  const b = new Uint8Array(24);
  b[1] = 2;
  b[2] = routingType;
  b[3] = segmentsLeft;
  return { type: 43, bytes: b };
}

/** A fragment header (offset in bytes, M flag, identification). */
export function fragmentHeader(offset: number, more: boolean, id: number): ExtHeader {
  const b = new Uint8Array(8);
  writeFragmentHeader(b, 0, 0, offset, more, id);
  return { type: NH_FRAGMENT, bytes: b };
}

/**
 * The fragments (as frames) of an upper-layer `message` of type `nh`, cut into pieces of
 * `chunk` bytes (a multiple of 8), optionally in `order` (indexes).
 */
export function fragments6(
  dstMac: number, srcMac: number, src: Readonly<Ipv6Address>, dst: Readonly<Ipv6Address>, nh: number, message: Uint8Array, chunk: number, id: number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < message.length; off += chunk) {
    const piece = message.subarray(off, Math.min(message.length, off + chunk));
    out.push(ipv6Frame(dstMac, srcMac, src, dst, nh, piece, { exts: [fragmentHeader(off, off + chunk < message.length, id)] }));
  }
  return out;
}
