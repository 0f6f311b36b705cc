/**
 * SYN cookies (RFC 4987 section 3.6), in Linux's construction
 * (net/ipv4/syncookies.c): when the listen queue is full, a listener answers a SYN
 * with a SYN-ACK whose ISN encodes everything it needs and keeps no state; the
 * connection is created when the final ACK returns the cookie in SEG.ACK - 1.
 *
 *   cookie = H0(tuple) + peerIsn + (count << 24) + ((H1(H0, peerIsn, count) + mssIndex) mod 2^24)
 *
 * H0, H1: SipHash-2-4 (src/tcp/isn.ts) with distinct domain bytes, H0 over the
 * 4-tuple, H1 over H0, the peer's ISN and the full counter. Unlike Linux, whose H1
 * leaves the peer ISN out, a peer ISN off by a few cannot shift the MSS index onto
 * another valid entry: any change of tuple, ISN or counter re-randomizes H1.
 * count: a coarse clock of 64 s units (its low 8 bits survive in the cookie).
 * mssIndex: the index of the largest entry of COOKIE_MSS_TABLE not above the peer's
 * MSS (2 bits of the 24; the other index values are invalid). `check` accepts a
 * cookie made during the current or the previous count (so it lives 64 to 128 s);
 * a forged 32-bit value passes with probability about 2 * 4 / 2^32.
 *
 * What a cookie loses: the SYN's window scale, SACK-permitted and timestamp options
 * and any data the SYN carried, since nothing of the SYN is kept but the MSS index.
 * Like Linux (cookie_init_timestamp), when the peer sent timestamps the SYN-ACK's
 * TSval can carry the window shift (4 bits, 15 = none) and SACK-permitted (1 bit) in
 * its low 6 bits (`encodeCookieTs`); the peer echoes them in the ACK's TSecr
 * (`decodeCookieTs`). Without timestamps the connection runs with no window scaling
 * and no SACK. Bit 5 (ECN in Linux) is left 0: ECN is not negotiated through cookies.
 */
import { randomBytes } from 'node:crypto';
import { SIP_DOMAIN_COOKIE_DATA, SIP_DOMAIN_COOKIE_TUPLE } from './isn.js';
import { sipHash24x4, sipKey } from '../util/siphash.js';

/** MSS values a cookie can encode (Linux's msstab for IPv4). */
export const COOKIE_MSS_TABLE: readonly number[] = [536, 1300, 1440, 1460];
/** Length of one cookie counter tick in milliseconds (64 s). */
export const COOKIE_TICK_MS = 64_000;
/** Cookies older than this many counter ticks are rejected (Linux's MAX_SYNCOOKIE_AGE). */
export const COOKIE_MAX_AGE = 2;
/** Bits of the cookie below the counter. */
const COOKIE_BITS = 24;
const COOKIE_MASK = (1 << COOKIE_BITS) - 1;

/** Low TSval bits used by `encodeCookieTs`. */
export const COOKIE_TS_BITS = 6;
/** Mask of the window-shift nibble in a cookie timestamp. */
export const COOKIE_TS_WSCALE_MASK = 0x0f;
/** Window-shift nibble meaning "the peer sent no window scale option". */
export const COOKIE_TS_NO_WSCALE = 0x0f;
/** SACK-permitted bit in a cookie timestamp. */
export const COOKIE_TS_SACK = 0x10;

/** SYN cookie maker and checker for one listener host (one secret). */
export class SynCookies {
  private readonly key: Uint32Array;

  /** `secret`: 16 or more random bytes (default: 32 from crypto.randomBytes). */
  constructor(secret: Uint8Array = randomBytes(32)) {
    this.key = sipKey(secret);
  }

  /**
   * Our ISN for a SYN-ACK answering the SYN (remoteIp:remotePort -> localIp:localPort,
   * SEG.SEQ = `peerIsn`, MSS option `mss`, 536 when absent) at time `nowMs`.
   */
  make(
    localIp: number,
    localPort: number,
    remoteIp: number,
    remotePort: number,
    peerIsn: number,
    mss: number,
    nowMs: number,
  ): number {
    let idx = COOKIE_MSS_TABLE.length - 1;
    while (idx > 0 && mss < COOKIE_MSS_TABLE[idx]) idx--;
    const count = Math.floor(nowMs / COOKIE_TICK_MS) >>> 0;
    const ports = ((localPort & 0xffff) << 16) | (remotePort & 0xffff);
    const h0 = sipHash24x4(this.key, localIp, remoteIp, ports, SIP_DOMAIN_COOKIE_TUPLE);
    const h1 = sipHash24x4(this.key, h0, peerIsn, count, SIP_DOMAIN_COOKIE_DATA);
    return (h0 + peerIsn + (count << COOKIE_BITS) + ((h1 + idx) & COOKIE_MASK)) >>> 0;
  }

  /**
   * Check the cookie returned by the ACK of the handshake (`cookie` = SEG.ACK - 1,
   * `peerIsn` = SEG.SEQ - 1) at time `nowMs`. Returns the MSS it encodes, or -1 when
   * it is not one of ours for this tuple or is `COOKIE_MAX_AGE` ticks old or more.
   */
  check(
    localIp: number,
    localPort: number,
    remoteIp: number,
    remotePort: number,
    peerIsn: number,
    cookie: number,
    nowMs: number,
  ): number {
    const count = Math.floor(nowMs / COOKIE_TICK_MS) >>> 0;
    const ports = ((localPort & 0xffff) << 16) | (remotePort & 0xffff);
    const h0 = sipHash24x4(this.key, localIp, remoteIp, ports, SIP_DOMAIN_COOKIE_TUPLE);
    const c = (cookie - h0 - peerIsn) >>> 0;
    const diff = (count - (c >>> COOKIE_BITS)) & 0xff;
    if (diff >= COOKIE_MAX_AGE) return -1;
    const made = (count - diff) >>> 0;
    const h1 = sipHash24x4(this.key, h0, peerIsn, made, SIP_DOMAIN_COOKIE_DATA);
    const idx = (c - h1) & COOKIE_MASK;
    return idx < COOKIE_MSS_TABLE.length ? COOKIE_MSS_TABLE[idx] : -1;
  }
}

/**
 * The TSval to send in a cookie SYN-ACK: `tsVal` with its low 6 bits replaced by the
 * peer's window shift (`wscale` 0..14, larger clamped to 14, or -1 for none) and SACK-permitted, moved back
 * by 64 if that would put it ahead of `tsVal` (as Linux does, so it never runs ahead
 * of our clock).
 */
export function encodeCookieTs(tsVal: number, wscale: number, sackOk: boolean): number {
  let opts = wscale < 0 ? COOKIE_TS_NO_WSCALE : wscale > 14 ? 14 : wscale;
  if (sackOk) opts |= COOKIE_TS_SACK;
  const now = tsVal >>> 0;
  let ts = ((now >>> COOKIE_TS_BITS) << COOKIE_TS_BITS) >>> 0;
  ts = (ts | opts) >>> 0;
  if (ts > now) ts = (ts - (1 << COOKIE_TS_BITS)) >>> 0;
  return ts;
}

/**
 * The options word `encodeCookieTs` hid in the TSecr of the handshake's ACK: bits 0-3
 * the window shift (COOKIE_TS_NO_WSCALE: none), bit 4 SACK-permitted. Read it with
 * `cookieTsWscale` and `cookieTsSackOk`.
 */
export function decodeCookieTs(tsEcr: number): number {
  return tsEcr & ((1 << COOKIE_TS_BITS) - 1);
}

/** The peer's window shift from a `decodeCookieTs` word, or -1 if it sent none. */
export function cookieTsWscale(opts: number): number {
  const ws = opts & COOKIE_TS_WSCALE_MASK;
  return ws === COOKIE_TS_NO_WSCALE ? -1 : ws;
}

/** Whether the peer sent SACK-permitted, from a `decodeCookieTs` word. */
export function cookieTsSackOk(opts: number): boolean {
  return (opts & COOKIE_TS_SACK) !== 0;
}
