/**
 * The TCP header (RFC 9293 section 3.1), its options (RFC 9293 section 3.2 and
 * 3.7.1 MSS; RFC 7323 section 2.2 window scale and 3.2 timestamps; RFC 2018
 * sections 2 and 3 SACK-permitted and SACK; RFC 6691 on the MSS value) and its
 * checksum (RFC 9293 section 3.1 pseudo-header, computed per RFC 1071; over IPv6 the
 * RFC 8200 8.1 pseudo-header).
 *
 * Accessors and writers work in place at an offset; nothing allocates per segment.
 * Options are parsed into a caller-owned `TcpOptions` (one per thread, reused).
 * Option writers reproduce Linux's byte layout (net/ipv4/tcp_output.c,
 * tcp_options_write): each option group is padded with NOPs to a 32-bit boundary, so
 * our segments compare byte for byte with a Linux capture.
 * Header validation is TcpRepr.parse (wire/tcp-repr.ts): it names what it refuses.
 */
import { readU16, readU32, writeU16, writeU32 } from './addresses.js';
import { ipv6PseudoHeaderSum, ipv6PseudoHeaderSumAt, onesSum, pseudoHeaderSum } from './checksum.js';
import { IPPROTO_TCP } from './ipv4.js';

/** Length of a TCP header without options (data offset 5). */
export const TCP_MIN_HEADER = 20;
/** Longest TCP header (data offset 15): 40 bytes of options. */
export const TCP_MAX_HEADER = 60;

/** FIN flag: no more data from sender. */
export const TCP_FIN = 0x01;
/** SYN flag: synchronize sequence numbers. */
export const TCP_SYN = 0x02;
/** RST flag: reset the connection. */
export const TCP_RST = 0x04;
/** PSH flag: push function. */
export const TCP_PSH = 0x08;
/** ACK flag: the acknowledgment field is significant. */
export const TCP_ACK = 0x10;
/** URG flag: the urgent pointer field is significant. */
export const TCP_URG = 0x20;
/** ECE flag: ECN-Echo (RFC 3168 section 6.1). */
export const TCP_ECE = 0x40;
/** CWR flag: congestion window reduced (RFC 3168 section 6.1). */
export const TCP_CWR = 0x80;

/** Option kind: end of option list. */
export const TCPOPT_EOL = 0;
/** Option kind: no-operation (padding). */
export const TCPOPT_NOP = 1;
/** Option kind: maximum segment size (length 4). */
export const TCPOPT_MSS = 2;
/** Option kind: window scale (length 3). */
export const TCPOPT_WSCALE = 3;
/** Option kind: SACK permitted (length 2). */
export const TCPOPT_SACK_PERMITTED = 4;
/** Option kind: SACK blocks (length 2 + 8n). */
export const TCPOPT_SACK = 5;
/** Option kind: timestamps (length 10). */
export const TCPOPT_TIMESTAMP = 8;

/** Largest window shift (RFC 7323 section 2.3); larger received values are clamped. */
export const TCP_MAX_WSCALE = 14;
/** Most SACK blocks an option can carry (4 * 8 + 2 = 34 bytes of the 40). */
export const TCP_MAX_SACK_BLOCKS = 4;

/** Source port. */
export function tcpSrcPort(b: Uint8Array, o: number): number {
  return readU16(b, o);
}
/** Destination port. */
export function tcpDstPort(b: Uint8Array, o: number): number {
  return readU16(b, o + 2);
}
/** Sequence number (uint32). */
export function tcpSeq(b: Uint8Array, o: number): number {
  return readU32(b, o + 4);
}
/** Acknowledgment number (uint32). */
export function tcpAck(b: Uint8Array, o: number): number {
  return readU32(b, o + 8);
}
/** Header length in bytes (data offset * 4), options included. */
export function tcpDataOffset(b: Uint8Array, o: number): number {
  return (b[o + 12] >>> 4) << 2;
}
/** The eight flag bits CWR..FIN (TCP_* flag constants). */
export function tcpFlags(b: Uint8Array, o: number): number {
  return b[o + 13];
}
/** Window field, unscaled. */
export function tcpWindow(b: Uint8Array, o: number): number {
  return readU16(b, o + 14);
}

/**
 * Write the fixed 20-byte TCP header at `b[o]`: `headerLen` is the header length in
 * bytes (20..60, a multiple of 4: options are written separately after byte 20),
 * `flags` the TCP_* bits. Reserved bits, checksum and urgent pointer are zeroed.
 */
export function writeTcpHeader(
  b: Uint8Array,
  o: number,
  srcPort: number,
  dstPort: number,
  seq: number,
  ack: number,
  headerLen: number,
  flags: number,
  window: number,
): void {
  writeU16(b, o, srcPort);
  writeU16(b, o + 2, dstPort);
  writeU32(b, o + 4, seq);
  writeU32(b, o + 8, ack);
  b[o + 12] = (headerLen >>> 2) << 4;
  b[o + 13] = flags;
  writeU16(b, o + 14, window);
  b[o + 16] = 0;
  b[o + 17] = 0;
  b[o + 18] = 0;
  b[o + 19] = 0;
}

/** Set the sequence number (does not update the checksum). */
export function setTcpSeq(b: Uint8Array, o: number, v: number): void {
  writeU32(b, o + 4, v);
}

/** Set the checksum field. */
export function setTcpChecksum(b: Uint8Array, o: number, v: number): void {
  writeU16(b, o + 16, v);
}

/**
 * The folded, non-inverted sum of the TCP pseudo-header (source, destination, zero,
 * protocol 6, TCP length `len`): what a checksum-offload (NEEDS_CSUM / TSO) frame
 * carries in its checksum field, for the device to complete over the segment.
 */
export function tcpPseudoHeaderPartial(src: number, dst: number, len: number): number {
  return pseudoHeaderSum(src, dst, IPPROTO_TCP, len);
}

/** True when the `len`-byte segment at `b[o]` from `src` to `dst` has a correct checksum. */
export function tcpChecksumValid(b: Uint8Array, o: number, len: number, src: number, dst: number): boolean {
  // A correct segment sums to one's-complement -0 (RFC 1071 section 1 (3)).
  return onesSum(b, o, len, pseudoHeaderSum(src, dst, IPPROTO_TCP, len)) === 0xffff;
}

/** Compute and store the checksum of the `len`-byte segment at `b[o]` (header + data). */
export function fillTcpChecksum(b: Uint8Array, o: number, len: number, src: number, dst: number): void {
  b[o + 16] = 0;
  b[o + 17] = 0;
  writeU16(b, o + 16, ~onesSum(b, o, len, pseudoHeaderSum(src, dst, IPPROTO_TCP, len)));
}

/** True when the `len`-byte segment at `b[o]` carried in the IPv6 packet at `b[ipOff]` has a correct checksum (RFC 8200 8.1). */
export function tcpChecksumValid6(b: Uint8Array, o: number, len: number, ipOff: number): boolean {
  return onesSum(b, o, len, ipv6PseudoHeaderSumAt(b, ipOff, IPPROTO_TCP, len)) === 0xffff;
}

/** Compute and store the checksum of the `len`-byte segment at `b[o]` carried in the IPv6 packet at `b[ipOff]` (addresses read there). */
export function fillTcpChecksum6At(b: Uint8Array, o: number, len: number, ipOff: number): void {
  b[o + 16] = 0;
  b[o + 17] = 0;
  writeU16(b, o + 16, ~onesSum(b, o, len, ipv6PseudoHeaderSumAt(b, ipOff, IPPROTO_TCP, len)));
}

/** Compute and store the checksum of the `len`-byte segment at `b[o]` from `src` to `dst` over IPv6. */
export function fillTcpChecksum6(b: Uint8Array, o: number, len: number, src: Readonly<Uint32Array>, dst: Readonly<Uint32Array>): void {
  b[o + 16] = 0;
  b[o + 17] = 0;
  writeU16(b, o + 16, ~onesSum(b, o, len, ipv6PseudoHeaderSum(src, dst, IPPROTO_TCP, len)));
}

/**
 * The options of one segment, as parsed by `parseTcpOptions`. Allocate one per thread
 * and reuse it: parsing overwrites every field.
 */
export class TcpOptions {
  /** MSS option value, -1 if absent. */
  mss = -1;
  /** Window shift, -1 if absent; received values above 14 are clamped to 14 (RFC 7323 section 2.3). */
  wscale = -1;
  /** SACK-permitted option present. */
  sackPermitted = false;
  /** Timestamps option present (then `tsVal` and `tsEcr` hold its values). */
  hasTimestamp = false;
  /** TSval (uint32), 0 if absent. */
  tsVal = 0;
  /** TSecr (uint32), 0 if absent. */
  tsEcr = 0;
  /** Number of SACK blocks in `sackBlocks` (0..4). */
  sackCount = 0;
  /** SACK blocks as left0, right0, left1, right1, ... (first `2 * sackCount` entries valid). */
  readonly sackBlocks = new Uint32Array(2 * TCP_MAX_SACK_BLOCKS);

  /** Back to "no options" (the blocks' contents are left as they were; sackCount is 0). */
  reset(): void {
    this.mss = -1;
    this.wscale = -1;
    this.sackPermitted = false;
    this.hasTimestamp = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackCount = 0;
  }
}

/**
 * Parse the options of the TCP header at `b[o]` whose length is `headerLen` bytes
 * (bytes `o + 20 .. o + headerLen`, clipped to `b`) into `out`, after resetting it.
 *
 * Returns false on malformed options: a length byte of 0 or 1 or missing (any kind
 * but EOL/NOP), an option running past the header, or a known kind with the wrong
 * length (MSS 4, WSCALE 3, SACK_PERMITTED 2, TIMESTAMP 10, SACK 2 + 8n with n 1..4).
 * The fields parsed before the bad option stay in `out`. Unknown kinds with a valid
 * length are skipped; EOL ends the list; a repeated option overwrites the earlier one.
 *
 * RFC 9293 section 3.1 asks receivers to parse options robustly. Linux
 * (tcp_parse_options) silently stops at a bad length byte and ignores a known option
 * of the wrong length, keeping the segment. This function reports the problem and
 * leaves the choice (drop, or use what was parsed) to the caller.
 */
export function parseTcpOptions(b: Uint8Array, o: number, headerLen: number, out: TcpOptions): boolean {
  out.reset();
  let end = o + headerLen;
  if (end > b.length) end = b.length;
  let i = o + TCP_MIN_HEADER;
  while (i < end) {
    const kind = b[i];
    if (kind === TCPOPT_EOL) return true;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) return false;
    const len = b[i + 1];
    if (len < 2 || i + len > end) return false;
    switch (kind) {
      case TCPOPT_MSS:
        if (len !== 4) return false;
        out.mss = readU16(b, i + 2);
        break;
      case TCPOPT_WSCALE: {
        if (len !== 3) return false;
        const ws = b[i + 2];
        out.wscale = ws > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : ws;
        break;
      }
      case TCPOPT_SACK_PERMITTED:
        if (len !== 2) return false;
        out.sackPermitted = true;
        break;
      case TCPOPT_TIMESTAMP:
        if (len !== 10) return false;
        out.hasTimestamp = true;
        out.tsVal = readU32(b, i + 2);
        out.tsEcr = readU32(b, i + 6);
        break;
      case TCPOPT_SACK: {
        const n = (len - 2) >>> 3;
        if (n < 1 || n > TCP_MAX_SACK_BLOCKS || len !== 2 + (n << 3)) return false;
        const blocks = out.sackBlocks;
        for (let k = 0; k < n; k++) {
          blocks[2 * k] = readU32(b, i + 2 + 8 * k);
          blocks[2 * k + 1] = readU32(b, i + 6 + 8 * k);
        }
        out.sackCount = n;
        break;
      }
      default:
        break; // unknown kind with a plausible length: skip it
    }
    i += len;
  }
  return true;
}

/**
 * Write the options of a SYN or SYN-ACK at `b[o]` in Linux's layout and return the
 * number of bytes written (a multiple of 4, at most 20):
 * `MSS(4)` (omitted if `mss` < 0); then with timestamps `SACK_PERM(2) TS(10)` or
 * `NOP NOP TS(10)`; without timestamps but with SACK `NOP NOP SACK_PERM(2)`; then if
 * `wscale` >= 0, `NOP WSCALE(3)`. Linux's usual SYN is MSS, SACK_PERM, TS, NOP,
 * WSCALE: 20 bytes.
 */
export function writeSynOptions(
  b: Uint8Array,
  o: number,
  mss: number,
  wscale: number,
  sackPermitted: boolean,
  tsVal: number,
  tsEcr: number,
  timestamps: boolean,
): number {
  let p = o;
  if (mss >= 0) {
    b[p] = TCPOPT_MSS;
    b[p + 1] = 4;
    writeU16(b, p + 2, mss);
    p += 4;
  }
  if (timestamps) {
    p += writeTimestampOption(b, p, tsVal, tsEcr);
    if (sackPermitted) {
      // Linux's SYN layout: SACK-permitted takes the place of the two NOPs before TS.
      b[p - 12] = TCPOPT_SACK_PERMITTED;
      b[p - 11] = 2;
    }
  } else if (sackPermitted) {
    b[p] = TCPOPT_NOP;
    b[p + 1] = TCPOPT_NOP;
    b[p + 2] = TCPOPT_SACK_PERMITTED;
    b[p + 3] = 2;
    p += 4;
  }
  if (wscale >= 0) {
    b[p] = TCPOPT_NOP;
    b[p + 1] = TCPOPT_WSCALE;
    b[p + 2] = 3;
    b[p + 3] = wscale;
    p += 4;
  }
  return p - o;
}

/** Write `NOP NOP TS(10)` at `b[o]` (Linux's layout on non-SYN segments); returns 12. */
export function writeTimestampOption(b: Uint8Array, o: number, tsVal: number, tsEcr: number): number {
  b[o] = TCPOPT_NOP;
  b[o + 1] = TCPOPT_NOP;
  b[o + 2] = TCPOPT_TIMESTAMP;
  b[o + 3] = 10;
  writeU32(b, o + 4, tsVal);
  writeU32(b, o + 8, tsEcr);
  return 12;
}

/**
 * Write `NOP NOP SACK(2 + 8n)` at `b[o]` with the first n = `count` blocks of `blocks`
 * (left0, right0, left1, ...); returns 4 + 8n, or 0 when `count` <= 0. `count` is
 * clamped to 4; the caller limits it to what fits (3 alongside timestamps, RFC 2018
 * section 3).
 */
export function writeSackOption(b: Uint8Array, o: number, blocks: Uint32Array, count: number): number {
  const n = count > TCP_MAX_SACK_BLOCKS ? TCP_MAX_SACK_BLOCKS : count;
  if (!(n > 0)) return 0;
  b[o] = TCPOPT_NOP;
  b[o + 1] = TCPOPT_NOP;
  b[o + 2] = TCPOPT_SACK;
  b[o + 3] = 2 + (n << 3);
  let p = o + 4;
  for (let k = 0; k < 2 * n; k++) {
    writeU32(b, p, blocks[k]);
    p += 4;
  }
  return p - o;
}
