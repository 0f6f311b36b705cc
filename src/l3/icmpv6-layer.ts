/**
 * ICMPv6 for our interface: echo replies, Parameter Problem and port unreachable errors, and the hand-off of
 * neighbour discovery and MLD messages to the ND layer.
 *
 * RFC 4443: 2.3 (checksum over the pseudo-header), 2.4 (b: unknown informational types
 * are discarded; c: errors are passed up: those quoting our TCP or UDP packets to the
 * transport, Transport6ErrorInput; e: no error about an error, a packet to a multicast address (except Parameter
 * Problem code 2 when the option asks for it), or a packet whose source is not a unicast
 * address; f: errors are rate limited, a token bucket like ICMP's), 3.4 (Parameter
 * Problem with its pointer, quoting as much of the packet as fits in the minimum MTU),
 * 3.1 (Destination Unreachable code 4 for a UDP datagram to a closed port),
 * 4.2 (an echo reply carries the request's identifier, sequence and data; a request to
 * a multicast address is answered from a unicast address of ours, as Linux does by
 * default).
 */
import { ipv6PseudoHeaderSum, onesSum } from '../wire/checksum.js';
import {
  ICMPV6_DEST_UNREACHABLE, ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMPV6_PORT_UNREACHABLE, ICMPV6_HEADER_LEN, ICMPV6_MLD_QUERY, ICMPV6_MLDV2_REPORT, ICMPV6_PARAMETER_PROBLEM,
  ICMPV6_TIME_EXCEEDED,
  ICMPV6_ROUTER_ADVERTISEMENT, ICMPV6_ROUTER_SOLICITATION, ICMPV6_NEIGHBOR_ADVERTISEMENT, ICMPV6_NEIGHBOR_SOLICITATION, ICMPV6_REDIRECT,
  icmpv6ChecksumValid, icmpv6IsError,
} from '../wire/icmpv6.js';
import { readU32, writeU16, writeU32 } from '../wire/addresses.js';
import { type Ipv6Address, ipv6, ipv6IsMulticast, ipv6IsUnspecified, readIpv6 } from '../wire/ipv6-address.js';
import {
  IPV6_DST_OFFSET, IPV6_HEADER_LEN, IPV6_MIN_MTU, IPV6_SRC_OFFSET,
  NH_DESTINATION_OPTIONS, NH_FRAGMENT, NH_HOP_BY_HOP, NH_ICMPV6, NH_ROUTING, extHeaderLength, fragmentOffset,
  quotedTransportOffset, quotedTransportProtocol,
} from '../wire/ipv6.js';
import { C, type Counters } from '../base/counters.js';
import type { NdLayer } from '../l2/nd-layer.js';
import { copyBytes } from '../util/copy-bytes.js';
import type { Ipv6Output } from './ipv6-output.js';
import { ICMP_ERROR_INPUT_RATE, ICMP_ERROR_RATE } from './icmp-layer.js';

/**
 * A transport hearing ICMPv6 errors about its packets: `type`, `code` and the message's
 * 32-bit word (the MTU of a Packet Too Big), the quoted packet at b[q..q+qLen) from its
 * IPv6 header (our address as its source, no extension headers, 8 bytes of transport header at least).
 */
export interface Transport6ErrorInput {
  icmpError6(type: number, code: number, word: number, b: Uint8Array, q: number, qLen: number, now: number): void;
}
import { TokenBucket } from './token-bucket.js';

/** Most bytes of an offending packet an error quotes: the error must fit the minimum MTU (RFC 4443 2.4 c). */
const MAX_QUOTE = IPV6_MIN_MTU - IPV6_HEADER_LEN - ICMPV6_HEADER_LEN;
/** Extension headers looked through to tell whether an offending packet is itself an ICMPv6 error. */
const MAX_WALK = 8;

/** ICMPv6 input and output of the IPv6 instance. */
export class Icmpv6Layer {
  private readonly errorLimiter = new TokenBucket(ICMP_ERROR_RATE.perSecond, ICMP_ERROR_RATE.burst);
  private readonly peer = ipv6(0, 0, 0, 0);
  private readonly local = ipv6(0, 0, 0, 0);

  private readonly errorInputLimiter = new TokenBucket(ICMP_ERROR_INPUT_RATE.perSecond, ICMP_ERROR_INPUT_RATE.burst);
  private readonly errorInputs: (Transport6ErrorInput | undefined)[] = [];

  constructor(private readonly ip: Ipv6Output, private readonly nd: NdLayer, private readonly counters: Counters) {}

  /** ICMPv6 errors quoting a packet of next header `nh` (TCP, UDP) go to `t`. */
  registerErrorInput(nh: number, t: Transport6ErrorInput): void {
    this.errorInputs[nh] = t;
  }

  /**
   * An error message (RFC 4443 2.4 c: passed up): when it quotes a TCP or UDP packet from
   * one of our addresses with its ports, the transport judges it (a bucket like ICMP's
   * bounds the work of a flood, icmp_errors_rate_limited); anything else is only counted.
   */
  private errorArrives(type: number, b: Uint8Array, o: number, len: number, now: number): void {
    this.counters[C.icmpv6_errors_rx]++;
    const q = o + ICMPV6_HEADER_LEN;
    if (len < ICMPV6_HEADER_LEN + IPV6_HEADER_LEN + 8) return;
    const t = this.errorInputs[quotedTransportProtocol(b, q, quotedTransportOffset(b, q, o + len))];
    if (t === undefined || this.nd.addresses.findAt(b, q + IPV6_SRC_OFFSET) === undefined) {
      this.counters[C.drop_icmp_error_no_flow]++;
      return;
    }
    if (!this.errorInputLimiter.take(now)) {
      this.counters[C.icmp_errors_rate_limited]++;
      return;
    }
    t.icmpError6(type, b[o + 1], readU32(b, o + 4), b, q, len - ICMPV6_HEADER_LEN, now);
  }

  /**
   * Handles the ICMPv6 message at b[o..o+len) of the IPv6 packet at b[ipOff]; `linkSrc`
   * is the frame's source MAC (-1 for a reassembled packet).
   */
  input(b: Uint8Array, ipOff: number, o: number, len: number, linkSrc: number, now: number): void {
    this.counters[C.icmpv6_rx]++;
    if (len < 4) {
      this.counters[C.drop_icmpv6_truncated]++;
      return;
    }
    if (!icmpv6ChecksumValid(b, ipOff, o, len)) {
      this.counters[C.drop_icmpv6_checksum]++;
      return;
    }
    const type = b[o];
    switch (type) {
      case ICMPV6_ECHO_REQUEST:
        this.echo(b, ipOff, o, len, now);
        return;
      case ICMPV6_NEIGHBOR_SOLICITATION:
      case ICMPV6_NEIGHBOR_ADVERTISEMENT:
      case ICMPV6_ROUTER_ADVERTISEMENT:
      case ICMPV6_ROUTER_SOLICITATION:
      case ICMPV6_REDIRECT:
      case ICMPV6_MLD_QUERY:
      case ICMPV6_MLDV2_REPORT:
        this.nd.input(type, b, ipOff, o, len, linkSrc, now);
        return;
      default:
        if (icmpv6IsError(type)) this.errorArrives(type, b, o, len, now);
        else this.counters[C.icmpv6_other_rx]++;
    }
  }

  /**
   * Sends Parameter Problem `code` with `pointer` (offset in the offending packet) about
   * the packet at b[ipOff..ipOff+len), unless RFC 4443 2.4 (e) forbids it or the rate
   * limit is spent (counted). `evenToMulticast`: an unrecognised option whose type asks
   * for an error even when the destination is multicast (RFC 8200 4.2, action 10).
   */
  sendParameterProblem(code: number, pointer: number, b: Uint8Array, ipOff: number, len: number, evenToMulticast: boolean, now: number): void {
    if (this.sendError(ICMPV6_PARAMETER_PROBLEM, code, pointer, b, ipOff, len, evenToMulticast, now)) this.counters[C.icmpv6_param_problem_tx]++;
  }

  /**
   * Sends Time Exceeded `code` (ICMPV6_FRAGMENT_REASSEMBLY_TIME_EXCEEDED: RFC 8200 4.5, a
   * reassembly that timed out after its first fragment arrived) about the packet at
   * b[ipOff..ipOff+len), with the same exceptions and rate limit.
   */
  sendTimeExceeded(code: number, b: Uint8Array, ipOff: number, len: number, now: number): void {
    if (this.sendError(ICMPV6_TIME_EXCEEDED, code, 0, b, ipOff, len, false, now)) this.counters[C.icmpv6_time_exceeded_tx]++;
  }

  /** Port unreachable (RFC 4443 3.1 code 4) about the datagram at b[ipOff..ipOff+len), within the same limits. */
  sendPortUnreachable(b: Uint8Array, ipOff: number, len: number, now: number): void {
    if (this.sendError(ICMPV6_DEST_UNREACHABLE, ICMPV6_PORT_UNREACHABLE, 0, b, ipOff, len, false, now)) {
      this.counters[C.icmpv6_unreachable_tx]++;
    }
  }

  /**
   * Sends an error of `type`/`code` with `word` (the message's second 32 bits) quoting as
   * much of the packet at b[ipOff..ipOff+len) as fits in 1280 bytes, unless RFC 4443 2.4
   * (e) forbids it (about an error, from an unspecified or multicast source, to a
   * multicast destination unless `evenToMulticast`) or the rate limit is spent (counted).
   * Returns true when it went out.
   */
  private sendError(type: number, code: number, word: number, b: Uint8Array, ipOff: number, len: number, evenToMulticast: boolean, now: number): boolean {
    const src = readIpv6(b, ipOff + IPV6_SRC_OFFSET, this.peer);
    if (ipv6IsUnspecified(src) || ipv6IsMulticast(src)) return false;
    if (!evenToMulticast && b[ipOff + IPV6_DST_OFFSET] === 0xff) return false;
    if (this.isIcmpError(b, ipOff, len)) return false;
    if (!this.errorLimiter.take(now)) {
      this.counters[C.icmpv6_errors_rate_limited]++;
      return false;
    }
    const dstOfOffender = readIpv6(b, ipOff + IPV6_DST_OFFSET, this.local);
    const from = ipv6IsMulticast(dstOfOffender) ? null : this.nd.addresses.find(dstOfOffender)?.address ?? null;
    const quote = Math.min(len, MAX_QUOTE);
    const mlen = ICMPV6_HEADER_LEN + quote;
    const r = this.ip.prepare(from, src, mlen, now);
    if (r < 0) return false;
    const out = this.ip.buf;
    out[r] = type;
    out[r + 1] = code;
    writeU16(out, r + 2, 0);
    writeU32(out, r + 4, word);
    copyBytes(b, ipOff, out, r + ICMPV6_HEADER_LEN, quote);
    this.fillChecksum(out, r, mlen, src);
    this.ip.transmit(NH_ICMPV6, mlen);
    return true;
  }

  /** RFC 4443 4.2: the reply echoes identifier, sequence number and data. */
  private echo(b: Uint8Array, ipOff: number, o: number, len: number, now: number): void {
    if (len < ICMPV6_HEADER_LEN) {
      this.counters[C.drop_icmpv6_truncated]++;
      return;
    }
    this.counters[C.icmpv6_echo_requests_rx]++;
    const peer = readIpv6(b, ipOff + IPV6_SRC_OFFSET, this.peer);
    if (ipv6IsUnspecified(peer)) {
      this.counters[C.drop_ipv6_bad_source]++;
      return;
    }
    const to = readIpv6(b, ipOff + IPV6_DST_OFFSET, this.local);
    const from = ipv6IsMulticast(to) ? null : this.nd.addresses.find(to)?.address ?? null;
    const r = this.ip.prepare(from, peer, len, now);
    if (r < 0) return;
    const out = this.ip.buf;
    copyBytes(b, o, out, r, len);
    out[r] = ICMPV6_ECHO_REPLY;
    this.fillChecksum(out, r, len, peer);
    this.ip.transmit(NH_ICMPV6, len);
    this.counters[C.icmpv6_echo_replies_tx]++;
  }

  /** The checksum of the message at out[r..r+len) from the prepared source to `dst` (the header is written later). */
  private fillChecksum(out: Uint8Array, r: number, len: number, dst: Readonly<Ipv6Address>): void {
    out[r + 2] = 0;
    out[r + 3] = 0;
    const sum = onesSum(out, r, len, ipv6PseudoHeaderSum(this.ip.source, dst, NH_ICMPV6, len));
    writeU16(out, r + 2, ~sum & 0xffff);
  }

  /** True when the packet at b[ipOff] carries an ICMPv6 error (looking through its extension headers). */
  private isIcmpError(b: Uint8Array, ipOff: number, len: number): boolean {
    let nh = b[ipOff + 6];
    let p = ipOff + IPV6_HEADER_LEN;
    const end = ipOff + len;
    for (let i = 0; i < MAX_WALK && p + 2 <= end; i++) {
      if (nh === NH_ICMPV6) return icmpv6IsError(b[p]);
      if (nh === NH_FRAGMENT) {
        if (p + 8 > end || fragmentOffset(b, p) !== 0) return false;
        nh = b[p];
        p += 8;
      } else if (nh === NH_HOP_BY_HOP || nh === NH_ROUTING || nh === NH_DESTINATION_OPTIONS) {
        nh = b[p];
        p += extHeaderLength(b, p);
      } else {
        return false;
      }
    }
    return false;
  }
}
