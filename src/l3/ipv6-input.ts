/**
 * IPv6 input: header validation, the destination filter, the extension header walk and
 * the hand-off to ICMPv6. Each reason a packet is dropped has its own counter.
 *
 * RFC 8200: 3 (version, payload length), 4 (extension headers processed in order; a
 * hop-by-hop header anywhere but first is an unrecognised next header, 4.1; at most
 * MAX_EXTENSION_HEADERS of them, our bound), 4.2 (options: Pad1, PadN, Router Alert
 * skipped; an unrecognised option acts by the two high bits of its type: skip, discard,
 * discard with Parameter Problem code 2, the same only to a unicast destination), 4.4
 * (a routing header with segments left 0 is skipped; otherwise, as we do not forward,
 * Parameter Problem code 0 pointing at the routing type; RFC 5095: type 0 is never
 * honoured), 4.5 (fragments: RFC 6946 atomic fragments, offset 0 and M clear, are
 * processed as whole packets; others are checked and reassembled, ipv6-reassembly.ts,
 * then walked on after their Unfragmentable Part), 4.7 (no next header: nothing to do).
 * TCP and UDP go to the transports registered for them (decision 0030); an unrecognised
 * next header is answered with Parameter Problem code 1 pointing at the Next Header field
 * that named it (RFC 8200 4, RFC 4443 3.4).
 *
 * Destination filter (RFC 4291 2.8, RFC 4862 5.4): our PREFERRED addresses and the
 * multicast groups we listen to. A TENTATIVE address receives only the ND messages of
 * DAD (neighbour solicitations and advertisements); anything else to it is dropped
 * (drop_ipv6_tentative). Sources that are multicast are dropped (RFC 4291 2.7).
 */
import { IPV6_DST_OFFSET, IPV6_HEADER_LEN, Ipv6Check,
  NH_DESTINATION_OPTIONS, NH_FRAGMENT, NH_HOP_BY_HOP, NH_ICMPV6, NH_NONE, NH_ROUTING, NH_TCP, NH_UDP,
  OPT_PAD1, extHeaderLength, fragmentMore, fragmentOffset, ipv6PayloadLength, routingSegmentsLeft, validateIpv6,
  IPV6_SRC_OFFSET, IPV6_NEXT_HEADER_OFFSET, IPV6_FRAGMENT_HEADER_LEN, IPV6_PAYLOAD_LENGTH_OFFSET,
} from '../wire/ipv6.js';
import { ICMPV6_FRAGMENT_REASSEMBLY_TIME_EXCEEDED, ICMPV6_NEIGHBOR_ADVERTISEMENT, ICMPV6_NEIGHBOR_SOLICITATION, PARAM_PROBLEM_HEADER_FIELD, PARAM_PROBLEM_NEXT_HEADER, PARAM_PROBLEM_OPTION } from '../wire/icmpv6.js';
import { C, type Counters } from '../base/counters.js';
import { RX_NONE } from '../base/rx-flags.js';
import { FLOW_ALL, FLOW_SHARD0, flowHashOfIpv6Packet, shardOf } from '../base/flow-hash.js';
import { ETHERTYPE_IPV6 } from '../wire/ethernet.js';
import type { ForeignDatagramSink } from './ipv4-input.js';
import type { NdLayer } from '../l2/nd-layer.js';
import type { Icmpv6Layer } from './icmpv6-layer.js';
import { Ipv6Reassembler, MAX_FRAGMENTABLE, type Reassembly6Limits } from './ipv6-reassembly.js';

/**
 * A transport over IPv6: its message is b[o..o+len) in the packet at b[ipOff];
 * `toMulticast`: sent to a group; `rxFlags`: the device's receive metadata (base/rx-flags.ts).
 */
export interface Transport6Input {
  input6(b: Uint8Array, ipOff: number, o: number, len: number, toMulticast: boolean, rxFlags: number, now: number): void;
}

/** Extension headers we walk through before giving up on a packet (drop_ipv6_ext_chain_too_long). */
export const MAX_EXTENSION_HEADERS = 8;

const DROP_BY_REASON: number[] = [];
DROP_BY_REASON[Ipv6Check.Truncated] = C.drop_ipv6_truncated;
DROP_BY_REASON[Ipv6Check.BadVersion] = C.drop_ipv6_version;
DROP_BY_REASON[Ipv6Check.BadPayloadLength] = C.drop_ipv6_payload_length;

/** Outcome of an options header: go on, drop silently, drop with Parameter Problem code 2 (to unicast only, or even to multicast), malformed. */
const OPTIONS_OK = 0;
const OPTIONS_DROP = 1;
const OPTIONS_ERROR = 2;
const OPTIONS_ERROR_EVEN_MULTICAST = 3;
const OPTIONS_MALFORMED = 4;

/** The IPv6 receive path. */
export class Ipv6Input {
  /** Offset of the offending option after walkOptions() returned an error. */
  private badOption = 0;
  readonly reassembler: Ipv6Reassembler;
  private tcp: Transport6Input | null = null;
  private udp: Transport6Input | null = null;

  /**
   * @param shard this instance's shard index and the shard count, and where a reassembled
   *   TCP/UDP packet whose flow another shard owns goes (back through the I/O thread)
   */
  constructor(
    private readonly nd: NdLayer, private readonly icmp: Icmpv6Layer, private readonly counters: Counters,
    reassemblyLimits: Partial<Reassembly6Limits> = {},
    private readonly shard: { index: number; count: number; foreign: ForeignDatagramSink } = { index: 0, count: 1, foreign: () => {} },
  ) {
    this.reassembler = new Ipv6Reassembler(counters, reassemblyLimits);
    // RFC 8200 4.5: a reassembly that times out after the first fragment arrived is
    // answered with Time Exceeded, code 1 (the usual RFC 4443 2.4 (e) exceptions apply).
    this.reassembler.onExpired = (q, len, now) => icmp.sendTimeExceeded(ICMPV6_FRAGMENT_REASSEMBLY_TIME_EXCEEDED, q, 0, len, now);
  }

  /**
   * Handles the IPv6 packet at b[off..off+avail) (avail may include Ethernet padding);
   * `linkSrc` is the frame's source MAC, `rxFlags` the device's receive metadata (for the
   * transports' checksums: base/rx-flags.ts).
   */
  input(b: Uint8Array, off: number, avail: number, linkSrc: number, now: number, rxFlags = RX_NONE): void {
    const v = validateIpv6(b, off, avail);
    if (v !== Ipv6Check.Ok) {
      this.counters[DROP_BY_REASON[v] ?? C.drop_ipv6_truncated]++;
      return;
    }
    this.counters[C.ipv6_rx]++;
    if (b[off + IPV6_SRC_OFFSET] === 0xff) {
      this.counters[C.drop_ipv6_bad_source]++;
      return;
    }
    const toMulticast = b[off + IPV6_DST_OFFSET] === 0xff;
    let tentative = false;
    if (toMulticast) {
      if (!this.nd.addresses.listensAt(b, off + IPV6_DST_OFFSET)) {
        this.counters[C.drop_ipv6_not_for_us]++;
        return;
      }
    } else {
      const own = this.nd.addresses.findAt(b, off + IPV6_DST_OFFSET);
      if (own === undefined || own.state === 'DUPLICATE') {
        this.counters[C.drop_ipv6_not_for_us]++;
        return;
      }
      tentative = own.state === 'TENTATIVE';
    }
    this.walk(
      b, off, IPV6_HEADER_LEN + ipv6PayloadLength(b, off), linkSrc, tentative, toMulticast, now,
      off + IPV6_HEADER_LEN, b[off + IPV6_NEXT_HEADER_OFFSET], off + IPV6_NEXT_HEADER_OFFSET, false, rxFlags,
    );
  }

  /** TCP and UDP over IPv6 go to `tcp` and `udp`. */
  registerTransports(tcp: Transport6Input, udp: Transport6Input): void {
    this.tcp = tcp;
    this.udp = udp;
  }

  /** Expires partial packets. */
  poll(now: number): void {
    this.reassembler.poll(now);
  }

  /** The earliest reassembly deadline. */
  nextDeadline(): number {
    return this.reassembler.nextDeadline();
  }

  /**
   * Walks the extension headers of the packet at b[off..off+len) from b[p], whose type
   * `nh` was named by the field at b[nhField], and delivers its upper layer.
   * `reassembled`: the packet came out of reassembly (no link source, no second round).
   */
  private walk(
    b: Uint8Array, off: number, len: number, linkSrc: number, tentative: boolean, toMulticast: boolean, now: number,
    p: number, nh: number, nhField: number, reassembled: boolean, rxFlags: number,
  ): void {
    const end = off + len;
    for (let n = 0; ; n++) {
      if (nh === NH_ICMPV6) {
        if (tentative && !this.isDadMessage(b, p, end)) {
          this.counters[C.drop_ipv6_tentative]++;
          return;
        }
        this.icmp.input(b, off, p, end - p, linkSrc, now);
        return;
      }
      if (tentative) {
        this.counters[C.drop_ipv6_tentative]++;
        return;
      }
      if (nh === NH_NONE) return; // RFC 8200 4.7
      const transport = nh === NH_TCP ? this.tcp : nh === NH_UDP ? this.udp : null;
      if (transport !== null) {
        transport.input6(b, off, p, end - p, toMulticast, rxFlags, now);
        return;
      }
      if (n >= MAX_EXTENSION_HEADERS) {
        this.counters[C.drop_ipv6_ext_chain_too_long]++;
        return;
      }
      const known = nh === NH_HOP_BY_HOP || nh === NH_DESTINATION_OPTIONS || nh === NH_ROUTING || nh === NH_FRAGMENT;
      if (!known || (nh === NH_HOP_BY_HOP && n > 0)) {
        this.counters[known ? C.drop_ipv6_hop_by_hop_not_first : C.drop_ipv6_next_header]++;
        this.icmp.sendParameterProblem(PARAM_PROBLEM_NEXT_HEADER, nhField - off, b, off, len, false, now);
        return;
      }
      const hlen = nh === NH_FRAGMENT ? 8 : p + 2 <= end ? extHeaderLength(b, p) : Infinity;
      if (p + hlen > end) {
        this.counters[C.drop_ipv6_ext_header]++;
        return;
      }
      if (nh === NH_FRAGMENT) {
        if (fragmentOffset(b, p) !== 0 || fragmentMore(b, p)) {
          this.fragment(b, off, len, p, nhField, toMulticast, reassembled, now);
          return;
        }
        this.counters[C.ipv6_atomic_fragments]++; // RFC 6946: a whole packet with a fragment header
      } else if (nh === NH_ROUTING) {
        if (routingSegmentsLeft(b, p) !== 0) {
          this.counters[C.drop_ipv6_routing_header]++;
          this.icmp.sendParameterProblem(PARAM_PROBLEM_HEADER_FIELD, p + 2 - off, b, off, len, false, now);
          return;
        }
      } else {
        const r = this.walkOptions(b, p, hlen);
        if (r !== OPTIONS_OK) {
          this.counters[r === OPTIONS_MALFORMED ? C.drop_ipv6_ext_header : C.drop_ipv6_unknown_option]++;
          if (r === OPTIONS_ERROR_EVEN_MULTICAST || (r === OPTIONS_ERROR && !toMulticast)) {
            this.icmp.sendParameterProblem(PARAM_PROBLEM_OPTION, this.badOption - off, b, off, len, true, now);
          }
          return;
        }
      }
      nhField = p;
      nh = b[p];
      p += hlen;
    }
  }

  /**
   * RFC 8200 4.5: a fragment (its Fragment header at b[p]) is checked (Parameter Problem
   * for a non-final fragment whose length is not a multiple of 8, or data past 65535),
   * then reassembled; a complete packet is walked on after its Unfragmentable Part.
   */
  private fragment(b: Uint8Array, off: number, len: number, p: number, nhField: number, toMulticast: boolean, reassembled: boolean, now: number): void {
    const flen = off + len - (p + IPV6_FRAGMENT_HEADER_LEN);
    if (reassembled) {
      this.counters[C.drop_ipv6_fragment]++; // a fragment inside a reassembled packet
      return;
    }
    if (fragmentMore(b, p) && (flen & 7) !== 0) {
      this.counters[C.drop_ipv6_fragment]++;
      this.icmp.sendParameterProblem(PARAM_PROBLEM_HEADER_FIELD, IPV6_PAYLOAD_LENGTH_OFFSET, b, off, len, false, now);
      return;
    }
    if (fragmentOffset(b, p) + flen > MAX_FRAGMENTABLE) {
      this.counters[C.drop_ipv6_fragment]++;
      this.icmp.sendParameterProblem(PARAM_PROBLEM_HEADER_FIELD, p + 2 - off, b, off, len, false, now);
      return;
    }
    const r = this.reassembler;
    const n = r.add(b, off, p, nhField, off + len, now);
    if (n === 0) return;
    // Fragments all come to shard 0 (base/flow-hash.ts); a TCP/UDP flow of another shard
    // goes back through the I/O thread, now whole, to be steered by its 4-tuple.
    const h = this.shard.count > 1 ? flowHashOfIpv6Packet(r.out, 0, n) : FLOW_SHARD0;
    if (h !== FLOW_SHARD0 && h !== FLOW_ALL && shardOf(h, this.shard.count) !== this.shard.index) {
      this.counters[C.ipv6_reassembled_foreign]++;
      this.shard.foreign(r.out, 0, n, ETHERTYPE_IPV6);
      return;
    }
    this.walk(r.out, 0, n, -1, false, toMulticast, now, r.resumeAt, r.resumeNextHeader, r.resumeNhField, true, RX_NONE);
  }

  /** RFC 8200 4.2: the TLV options of the hop-by-hop or destination options header at b[p..p+hlen). */
  private walkOptions(b: Uint8Array, p: number, hlen: number): number {
    const end = p + hlen;
    let i = p + 2;
    while (i < end) {
      const t = b[i];
      if (t === OPT_PAD1) {
        i++;
        continue;
      }
      if (i + 2 > end || i + 2 + b[i + 1] > end) {
        return OPTIONS_MALFORMED; // an option running past its header
      }
      // PadN (1) and Router Alert (5) need nothing from a host; others act by their top bits.
      if (t !== 1 && t !== 5) {
        const action = t >>> 6;
        if (action !== 0) {
          this.badOption = i;
          return action === 1 ? OPTIONS_DROP : action === 2 ? OPTIONS_ERROR_EVEN_MULTICAST : OPTIONS_ERROR;
        }
      }
      i += 2 + b[i + 1];
    }
    return OPTIONS_OK;
  }

  /** True for a neighbour solicitation or advertisement (the only messages a tentative address receives). */
  private isDadMessage(b: Uint8Array, p: number, end: number): boolean {
    return p < end && (b[p] === ICMPV6_NEIGHBOR_SOLICITATION || b[p] === ICMPV6_NEIGHBOR_ADVERTISEMENT);
  }
}
