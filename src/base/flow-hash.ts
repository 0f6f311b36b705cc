/**
 * Flow hash: which shard worker owns a packet.
 *
 * The I/O thread steers every frame by this hash and the workers use the same function
 * to decide whether a datagram they reassembled is theirs. It must be symmetric (both
 * directions of a flow hash alike, so that the segments a worker sends and the ones it
 * receives belong to the same shard) and cheap (no allocation, a few multiplies).
 *
 * Scheme (documented in docs/decisions/0004-flow-steering.md):
 *  - IPv4 TCP/UDP, not a fragment: hash of the 4-tuple.
 *  - IPv4 fragments (MF set or offset != 0) and every other IPv4 protocol (ICMP, …):
 *    hash of the address pair and protocol, so all fragments of a datagram meet in one
 *    worker; if the reassembled datagram's 4-tuple belongs to another worker, that worker
 *    gets it re-injected through the I/O thread.
 *  - ICMP errors that quote a TCP/UDP header: hash of the quoted 4-tuple (the owner of
 *    that flow must see them).
 *  - ARP and other ethertypes: broadcast to every worker (FLOW_ALL).
 */

/** Returned for frames every worker must see (ARP). */
export const FLOW_ALL = -1;

/** 32-bit finaliser of MurmurHash3: spreads entropy over all bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Symmetric hash of an address pair plus a protocol number. */
export function hashAddressPair(a: number, b: number, protocol: number): number {
  // Sum and xor are both symmetric; combining the two keeps more entropy than either.
  const s = (a + b) >>> 0;
  const x = (a ^ b) >>> 0;
  return fmix32((fmix32(s ^ protocol) + x) >>> 0);
}

/** Symmetric hash of a TCP/UDP 4-tuple. */
export function hashFourTuple(ipA: number, portA: number, ipB: number, portB: number, protocol: number): number {
  const ports = ((portA + portB) & 0xffff) | ((portA ^ portB) << 16);
  return fmix32((hashAddressPair(ipA, ipB, protocol) ^ fmix32(ports >>> 0)) >>> 0);
}

/** Shard index of a hash among `shards` workers. */
export function shardOf(hash: number, shards: number): number {
  return hash % shards;
}

/**
 * Flow hash of an Ethernet frame at b[off..off+len): FLOW_ALL for ARP and anything
 * not IPv4 that should reach every worker, else a uint32. Malformed IPv4 (too short to
 * carry the fields used) hashes by whatever is readable so that it still reaches a worker,
 * which drops and counts it.
 */
export function flowHashOfFrame(b: Uint8Array, off: number, len: number): number {
  if (len < 14) return 0;
  const type = (b[off + 12]! << 8) | b[off + 13]!;
  if (type !== 0x0800) return type === 0x0806 ? FLOW_ALL : 0;
  const ip = off + 14;
  if (len < 34) return 0;
  const ihl = (b[ip]! & 0x0f) << 2;
  const proto = b[ip + 9]!;
  const src = ((b[ip + 12]! << 24) | (b[ip + 13]! << 16) | (b[ip + 14]! << 8) | b[ip + 15]!) >>> 0;
  const dst = ((b[ip + 16]! << 24) | (b[ip + 17]! << 16) | (b[ip + 18]! << 8) | b[ip + 19]!) >>> 0;
  const fragWord = (b[ip + 6]! << 8) | b[ip + 7]!;
  const isFragment = (fragWord & 0x3fff) !== 0;
  if (!isFragment && (proto === 6 || proto === 17) && ihl >= 20 && 14 + ihl + 4 <= len) {
    const l4 = ip + ihl;
    const sp = (b[l4]! << 8) | b[l4 + 1]!;
    const dp = (b[l4 + 2]! << 8) | b[l4 + 3]!;
    return hashFourTuple(src, sp, dst, dp, proto);
  }
  if (!isFragment && proto === 1 && ihl >= 20) {
    // ICMP errors (unreachable, time exceeded, parameter problem) quote a TCP/UDP header:
    // steer them to the worker that owns the quoted flow, so it can react (PMTU, RFC 1122 4.2.3.9).
    const icmp = ip + ihl;
    const t = icmp + 8 <= off + len ? b[icmp]! : 0;
    if (t === 3 || t === 11 || t === 12) {
      const q = icmp + 8;
      if (q + 20 <= off + len) {
        const qihl = (b[q]! & 0x0f) << 2;
        const qproto = b[q + 9]!;
        const qfrag = ((b[q + 6]! << 8) | b[q + 7]!) & 0x1fff;
        if ((qproto === 6 || qproto === 17) && qihl >= 20 && qfrag === 0 && q + qihl + 4 <= off + len) {
          const qs = ((b[q + 12]! << 24) | (b[q + 13]! << 16) | (b[q + 14]! << 8) | b[q + 15]!) >>> 0;
          const qd = ((b[q + 16]! << 24) | (b[q + 17]! << 16) | (b[q + 18]! << 8) | b[q + 19]!) >>> 0;
          const l4 = q + qihl;
          return hashFourTuple(qs, (b[l4]! << 8) | b[l4 + 1]!, qd, (b[l4 + 2]! << 8) | b[l4 + 3]!, qproto);
        }
      }
    }
  }
  return hashAddressPair(src, dst, proto);
}
