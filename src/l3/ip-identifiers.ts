/**
 * Identification values of the IP datagrams we send: the IPv4 header's 16-bit ID and the
 * 32-bit Identification of IPv6 Fragment headers.
 *
 * RFC 7739 (security implications of predictable fragment identification values), 5.3.3,
 * and RFC 6864 4: an ID must be unique to (source, destination, protocol) for as long as
 * the datagram may live, and should tell an off-path observer nothing — neither the next
 * value to a destination it does not talk to (blind fragment injection) nor how much we
 * send to others (idle scans count a global counter's steps). So, as Linux's ip_idents:
 * a table of counters, the one for a datagram chosen by a keyed hash (SipHash-2-4, secret
 * drawn at start) of its destination and protocol; each starts at a value from the same
 * hash and steps by the number of IDs taken (a TSO super-frame takes one per segment the
 * device will cut, as the kernel's GSO numbers them on). Destinations sharing a counter
 * see each other's steps, which RFC 7739 accepts for this algorithm.
 *
 * The bucket of the last destination is remembered, so a flow to one peer pays one
 * comparison per datagram, not a hash.
 */
import { randomBytes } from 'node:crypto';
import { sipHash24x4, sipKey } from '../util/siphash.js';

/** Counters in the table (a power of two). */
export const IP_ID_BUCKETS = 2048;
/** SipHash message domain of the bucket choice (1–4 are tcp/isn.ts's). */
const DOMAIN_BUCKET = 5;
/** SipHash message domain of the counters' starting values. */
const DOMAIN_START = 6;

/** Per-destination identification counters behind a keyed hash. */
export class IpIdentifiers {
  private readonly key: Uint32Array;
  private readonly counters = new Uint32Array(IP_ID_BUCKETS);
  private lastDst = -1;
  private lastProtocol = -1;
  private lastBucket = 0;

  /** @param secret 16 or more random bytes (default: 16 from crypto.randomBytes) */
  constructor(secret: Uint8Array = randomBytes(16)) {
    this.key = sipKey(secret);
    for (let i = 0; i < IP_ID_BUCKETS; i++) this.counters[i] = sipHash24x4(this.key, i, 0, 0, DOMAIN_START);
  }

  /**
   * Takes `count` consecutive identifiers for a datagram to `dst` (an IPv4 address, or an
   * interned / folded IPv6 one) of `protocol`; returns the first (32 bits: IPv4 keeps the
   * low 16).
   */
  next(dst: number, protocol: number, count = 1): number {
    let b = this.lastBucket;
    if (dst !== this.lastDst || protocol !== this.lastProtocol) {
      b = sipHash24x4(this.key, dst, protocol, 0, DOMAIN_BUCKET) & (IP_ID_BUCKETS - 1);
      this.lastDst = dst;
      this.lastProtocol = protocol;
      this.lastBucket = b;
    }
    const id = this.counters[b];
    this.counters[b] = (id + count) >>> 0;
    return id;
  }
}
