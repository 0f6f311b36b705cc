/**
 * Initial sequence numbers (RFC 6528 section 3, as adopted by RFC 9293 section
 * 3.4.1) and per-address-pair timestamp offsets (RFC 7323 section 5.4: a random
 * TSval start), both from SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012), keyed with a secret drawn at startup.
 *
 *   ISN = (M + F(localip, localport, remoteip, remoteport, secretkey)) mod 2^32
 *
 * with M a clock of `clockHz` ticks per second (default 250 kHz: the 4 µs tick of
 * RFC 9293 section 3.4.1) and F the low 32 bits of SipHash-2-4 over a 16-byte message.
 * Linux does the same (secure_tcp_seq: siphash of the 4-tuple plus a 64 ns clock).
 *
 * SipHash lives in util/siphash.ts (one `isn` call is one 16-byte hash, 70-100 ns).
 * Messages of the keyed hashes used by the stack are four uint32 words m0..m3, i.e. the
 * 16 bytes LE(m0) LE(m1) LE(m2) LE(m3); the last word carries a domain byte so ISNs,
 * timestamp offsets, SYN cookies and IP identifiers never share hash values.
 */
import { randomBytes } from 'node:crypto';
import { sipHash24x4, sipKey } from '../util/siphash.js';

/** Domain byte of the ISN hash (low byte of message word m3). */
export const SIP_DOMAIN_ISN = 1;
/** Domain byte of the timestamp-offset hash. */
export const SIP_DOMAIN_TS_OFFSET = 2;
/** Domain byte of the SYN cookie tuple hash (time-independent part). */
export const SIP_DOMAIN_COOKIE_TUPLE = 3;
/** Domain byte of the SYN cookie data hash (over the tuple hash, peer ISN and time counter). */
export const SIP_DOMAIN_COOKIE_DATA = 4;
// Domain bytes 5 and 6: the IP identifier buckets and their starts (l3/ip-identifiers.ts).

/**
 * RFC 6528 ISN generator: one per stack (or per thread: equal secrets give equal
 * ISNs), keyed with a secret drawn at startup.
 */
export class IsnGenerator {
  private readonly key: Uint32Array;
  /** The key of `addressDigest`: the secret's key with every word flipped (its own domain). */
  private readonly digestKey: Uint32Array;
  private readonly ticksPerMs: number;

  /**
   * `secret`: 16 or more random bytes (default: 32 from crypto.randomBytes);
   * `clockHz`: rate of the M clock (default 250 000, one tick per 4 µs).
   */
  constructor(secret: Uint8Array = randomBytes(32), clockHz = 250_000) {
    this.key = sipKey(secret);
    this.digestKey = this.key.map((w) => ~w >>> 0);
    this.ticksPerMs = clockHz / 1000;
  }

  /**
   * ISN for the connection (localIp:localPort, remoteIp:remotePort) at time `nowMs`
   * (milliseconds on any clock that never goes backwards): M + F mod 2^32.
   */
  isn(localIp: number, localPort: number, remoteIp: number, remotePort: number, nowMs: number): number {
    const m = Math.floor(nowMs * this.ticksPerMs);
    const ports = ((localPort & 0xffff) << 16) | (remotePort & 0xffff);
    const f = sipHash24x4(this.key, localIp, remoteIp, ports, SIP_DOMAIN_ISN);
    // ToUint32 reduces any finite double modulo 2^32 exactly.
    return (m + f) >>> 0;
  }

  /**
   * Random offset added to our TSval for the address pair (RFC 7323 section 5.4;
   * Linux's secure_tcp_ts_off): stable for a pair, unpredictable across pairs.
   */
  tsOffset(localIp: number, remoteIp: number): number {
    return sipHash24x4(this.key, localIp, remoteIp, 0, SIP_DOMAIN_TS_OFFSET);
  }

  /**
   * A keyed 32-bit digest of an IPv6 address (four words): what stands for the address in
   * the 32-bit address slots of `isn`, `tsOffset` and the SYN cookie hashes, so that all
   * 128 bits go into them (decision 0030). Keyed, so a peer cannot pick colliding addresses.
   */
  addressDigest(w0: number, w1: number, w2: number, w3: number): number {
    return sipHash24x4(this.digestKey, w0, w1, w2, w3);
  }
}
