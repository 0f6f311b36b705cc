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
 *  - ARP: broadcast to every worker (FLOW_ALL).
 *  - IPv6 TCP/UDP (after any hop-by-hop, destination options and routing headers, not in
 *    a fragment): hash of the 4-tuple with each address folded to 32 bits
 *    (foldIpv6Words), as a worker folds its connection's addresses (decision 0030).
 *  - IPv6 neighbour solicitations, advertisements and router advertisements: every worker
 *    (FLOW_ALL): each resolves its own next hops; shard 0 alone answers. ICMPv6 errors
 *    quoting a TCP/UDP packet (without extension headers, or its first fragment): the quoted flow's worker.
 *  - Other IPv6 (ICMPv6 echo and other errors, MLD, fragments) and other ethertypes: FLOW_SHARD0,
 *    the worker that answers ARP and speaks for IPv6 (decision 0025); a TCP/UDP packet it
 *    reassembles for another worker's flow is re-injected whole and steered by 4-tuple.
 */

import { ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ethType } from '../wire/ethernet.js';
import { readU32 } from '../wire/addresses.js';
import {
  IPV6_DST_OFFSET, IPV6_HEADER_LEN, IPV6_NEXT_HEADER_OFFSET, IPV6_SRC_OFFSET,
  NH_DESTINATION_OPTIONS, NH_HOP_BY_HOP, NH_ICMPV6, NH_ROUTING, NH_TCP, NH_UDP, extHeaderLength, quotedTransportOffset, quotedTransportProtocol,
} from '../wire/ipv6.js';
import { ICMPV6_NEIGHBOR_ADVERTISEMENT, ICMPV6_NEIGHBOR_SOLICITATION, ICMPV6_ROUTER_ADVERTISEMENT } from '../wire/icmpv6.js';
import { ICMP_DEST_UNREACHABLE, ICMP_HEADER_LEN, ICMP_PARAMETER_PROBLEM, ICMP_TIME_EXCEEDED, icmpType } from '../wire/icmp.js';
import {
  IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_MIN_HEADER,
  ipDst, ipFragmentOffset, ipHeaderLength, ipIsFragment, ipProtocol, ipSrc,
} from '../wire/ipv4.js';
import { tcpDstPort, tcpSrcPort } from '../wire/tcp.js';
import { udpDstPort, udpSrcPort } from '../wire/udp.js';

/** Returned for frames every worker must see (ARP). */
export const FLOW_ALL = -1;
/** The hash of frames that go to shard 0 (IPv6, unknown ethertypes): shardOf(0, n) is 0 for every n. */
export const FLOW_SHARD0 = 0;

/** 32-bit finaliser of MurmurHash3: spreads entropy over all bits. */
export function fmix32(h: number): number {
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

/**
 * An IPv6 address (four words) as the 32-bit address the hashes take: the words XORed.
 * The I/O thread folds the addresses of a frame, a worker those of its connection: both
 * get the same 4-tuple hash (decision 0030).
 */
export function foldIpv6Words(w0: number, w1: number, w2: number, w3: number): number {
  return (w0 ^ w1 ^ w2 ^ w3) >>> 0;
}

/** Shard index of a hash among `shards` workers. */
export function shardOf(hash: number, shards: number): number {
  return hash % shards;
}

/** Hash of the 4-tuple of the TCP/UDP header at b[l4] inside an IPv4 datagram from src to dst. */
function hashPorts(b: Uint8Array, l4: number, src: number, dst: number, proto: number): number {
  const sp = proto === IPPROTO_TCP ? tcpSrcPort(b, l4) : udpSrcPort(b, l4);
  const dp = proto === IPPROTO_TCP ? tcpDstPort(b, l4) : udpDstPort(b, l4);
  return hashFourTuple(src, sp, dst, dp, proto);
}

/** True for the transports hashed by 4-tuple. */
function hasPorts(proto: number): boolean {
  return proto === IPPROTO_TCP || proto === IPPROTO_UDP;
}

/**
 * Flow hash of an Ethernet frame at b[off..off+len): FLOW_ALL for ARP, FLOW_SHARD0 for
 * IPv6 and other ethertypes, else a uint32. Malformed IPv4 (too short to
 * carry the fields used) hashes by whatever is readable so that it still reaches a worker,
 * which drops and counts it.
 */
export function flowHashOfFrame(b: Uint8Array, off: number, len: number): number {
  if (len < ETH_HEADER_LEN) return 0;
  const type = ethType(b, off);
  if (type === ETHERTYPE_IPV6) return flowHashOfIpv6Packet(b, off + ETH_HEADER_LEN, off + len);
  if (type !== ETHERTYPE_IPV4) return type === ETHERTYPE_ARP ? FLOW_ALL : FLOW_SHARD0;
  const ip = off + ETH_HEADER_LEN;
  if (len < ETH_HEADER_LEN + IPV4_MIN_HEADER) return 0;
  const ihl = ipHeaderLength(b, ip);
  const proto = ipProtocol(b, ip);
  const src = ipSrc(b, ip);
  const dst = ipDst(b, ip);
  const fragment = ipIsFragment(b, ip);
  const end = off + len;
  if (!fragment && hasPorts(proto) && ihl >= IPV4_MIN_HEADER && ip + ihl + 4 <= end) {
    return hashPorts(b, ip + ihl, src, dst, proto);
  }
  if (!fragment && proto === IPPROTO_ICMP && ihl >= IPV4_MIN_HEADER && ip + ihl + ICMP_HEADER_LEN <= end) {
    // ICMP errors (unreachable, time exceeded, parameter problem) quote a TCP/UDP header:
    // steer them to the worker that owns the quoted flow, so it can react (PMTU, RFC 1122 4.2.3.9).
    const icmp = ip + ihl;
    const t = icmpType(b, icmp);
    const q = icmp + ICMP_HEADER_LEN;
    if ((t === ICMP_DEST_UNREACHABLE || t === ICMP_TIME_EXCEEDED || t === ICMP_PARAMETER_PROBLEM) && q + IPV4_MIN_HEADER <= end) {
      const qihl = ipHeaderLength(b, q);
      const qproto = ipProtocol(b, q);
      if (hasPorts(qproto) && qihl >= IPV4_MIN_HEADER && ipFragmentOffset(b, q) === 0 && q + qihl + 4 <= end) {
        return hashPorts(b, q + qihl, ipSrc(b, q), ipDst(b, q), qproto);
      }
    }
  }
  return hashAddressPair(src, dst, proto);
}

/** Extension headers the I/O thread looks through for the transport (more: shard 0 decides). */
const MAX_WALK = 4;

/** The IPv6 address at b[o] folded to 32 bits. */
function foldAt(b: Uint8Array, o: number): number {
  return foldIpv6Words(readU32(b, o), readU32(b, o + 4), readU32(b, o + 8), readU32(b, o + 12));
}

/** Flow hash of the IPv6 packet at b[ip..end) (see the header): what the I/O thread steers it by. */
export function flowHashOfIpv6Packet(b: Uint8Array, ip: number, end: number): number {
  if (ip + IPV6_HEADER_LEN > end) return FLOW_SHARD0;
  let nh = b[ip + IPV6_NEXT_HEADER_OFFSET];
  let p = ip + IPV6_HEADER_LEN;
  for (let i = 0; i < MAX_WALK && (nh === NH_HOP_BY_HOP || nh === NH_DESTINATION_OPTIONS || nh === NH_ROUTING) && p + 2 <= end; i++) {
    nh = b[p];
    p += extHeaderLength(b, p);
  }
  if ((nh === NH_TCP || nh === NH_UDP) && p + 4 <= end) {
    const sp = (b[p] << 8) | b[p + 1];
    const dp = (b[p + 2] << 8) | b[p + 3];
    return hashFourTuple(foldAt(b, ip + IPV6_SRC_OFFSET), sp, foldAt(b, ip + IPV6_DST_OFFSET), dp, nh);
  }
  if (nh === NH_ICMPV6 && p < end) {
    const t = b[p];
    if (t === ICMPV6_NEIGHBOR_SOLICITATION || t === ICMPV6_NEIGHBOR_ADVERTISEMENT || t === ICMPV6_ROUTER_ADVERTISEMENT) return FLOW_ALL;
    // An error (types 1-4) quoting a TCP/UDP packet goes to the worker of the quoted flow.
    // (A quoted first fragment counts by the transport header after its fragment header.)
    const q = p + 8;
    const l4 = quotedTransportOffset(b, q, end);
    const qnh = l4 + 4 <= end ? quotedTransportProtocol(b, q, l4) : -1;
    if (t >= 1 && t <= 4 && (qnh === NH_TCP || qnh === NH_UDP)) {
      return hashFourTuple(foldAt(b, q + IPV6_SRC_OFFSET), (b[l4] << 8) | b[l4 + 1], foldAt(b, q + IPV6_DST_OFFSET), (b[l4 + 2] << 8) | b[l4 + 3], qnh);
    }
  }
  return FLOW_SHARD0;
}
