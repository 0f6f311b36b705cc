/**
 * IPv4 input: header validation, destination filter, reassembly and protocol demux.
 *
 * RFC 791 3.1/3.2, RFC 1122 3.2.1 (3.2.1.1 version, 3.2.1.2 checksum, 3.2.1.3 addressing:
 * accept our address and broadcasts, drop a datagram whose source is a broadcast or
 * multicast address; 3.2.1.7 a host does not drop for a low TTL, and sends no Time
 * Exceeded for it; 3.2.1.8 options are passed over: the transports start at IHL, no
 * option is acted on, answered (record route, timestamp) or reversed (source routes), and
 * what we send carries none), RFC 1122 3.3.2 (reassembly; a timeout after fragment zero
 * arrived is answered with Time Exceeded, code 1). Each reason a datagram is dropped has
 * its own counter.
 */
import {
  Ipv4Check,
  IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP,
  ipDst, ipHeaderLength, ipIsFragment, ipProtocol, ipSrc, ipTotalLength, validateIpv4,
} from '../wire/ipv4.js';
import { ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED, ICMP_PROTOCOL_UNREACHABLE } from '../wire/icmp.js';
import { C, type Counters } from '../base/counters.js';
import { hashFourTuple, shardOf } from '../base/flow-hash.js';
import type { HostConfig } from '../base/host-config.js';
import type { IcmpLayer } from './icmp-layer.js';
import type { Ipv4Output } from './ipv4-output.js';
import { Ipv4Reassembler, type ReassemblyLimits } from './ipv4-reassembly.js';

/**
 * Receives a reassembled datagram that belongs to another shard: b[off..off+len) is the
 * IP datagram, of `etherType` (default IPv4; IPv6 from l3/ipv6-input.ts).
 */
export type ForeignDatagramSink = (b: Uint8Array, off: number, len: number, etherType?: number) => void;

/**
 * A transport protocol's receive entry, registered with Ipv4Input.register() by the
 * interface that composes the layers (iface/host.ts): IPv4 hands datagrams up without
 * knowing the transports.
 */
export interface TransportInput {
  /**
   * Handles the datagram whose IPv4 header is at b[ipOff] (header `hlen` bytes, total
   * `ipLen`), from `src` to `dst` (`toBroadcast`: sent to a broadcast address).
   * `rxFlags` is the frame's receive metadata (base/rx-flags.ts).
   */
  input(
    b: Uint8Array, ipOff: number, hlen: number, ipLen: number, src: number, dst: number,
    toBroadcast: boolean, rxFlags: number, now: number,
  ): void;
}

const DROP_BY_REASON: number[] = [];
DROP_BY_REASON[Ipv4Check.Truncated] = C.drop_ipv4_truncated;
DROP_BY_REASON[Ipv4Check.BadVersion] = C.drop_ipv4_version;
DROP_BY_REASON[Ipv4Check.BadIhl] = C.drop_ipv4_ihl;
DROP_BY_REASON[Ipv4Check.BadTotalLength] = C.drop_ipv4_total_length;
DROP_BY_REASON[Ipv4Check.BadChecksum] = C.drop_ipv4_checksum;

/** IPv4 receive path of one worker. */
export class Ipv4Input {
  /** Reassembly of the fragments this shard receives (all fragments of an address pair come here). */
  readonly reassembler: Ipv4Reassembler;
  /** Transports by IP protocol number; an unregistered one is answered with protocol unreachable. */
  private readonly transports: Array<TransportInput | undefined> = [];

  constructor(
    private readonly config: HostConfig,
    private readonly output: Ipv4Output,
    private readonly icmp: IcmpLayer,
    private readonly counters: Counters,
    private readonly foreign: ForeignDatagramSink,
    reassemblyLimits: Partial<ReassemblyLimits> = {},
  ) {
    this.reassembler = new Ipv4Reassembler(counters, reassemblyLimits);
    // RFC 1122 3.3.2: a reassembly that times out after fragment zero arrived is answered
    // with Time Exceeded, code 1 (not when it was sent to a broadcast address).
    this.reassembler.onExpired = (q, _len, now) =>
      icmp.sendTimeExceeded(ICMP_FRAGMENT_REASSEMBLY_TIME_EXCEEDED, q, 0, ipDst(q, 0) !== config.ip, now);
  }

  /** Hands datagrams of IP protocol `protocol` to `transport` from now on. */
  register(protocol: number, transport: TransportInput): void {
    this.transports[protocol] = transport;
  }

  /**
   * Handles the IPv4 datagram at b[off..off+avail) (avail may include Ethernet padding);
   * `rxFlags` is the frame's receive metadata (base/rx-flags.ts).
   */
  input(b: Uint8Array, off: number, avail: number, rxFlags: number, now: number): void {
    const v = validateIpv4(b, off, avail);
    if (v !== Ipv4Check.Ok) {
      this.counters[DROP_BY_REASON[v] ?? C.drop_ipv4_truncated]++;
      return;
    }
    this.counters[C.ipv4_rx]++;
    const dst = ipDst(b, off);
    const src = ipSrc(b, off);
    const toBroadcast = this.output.isBroadcast(dst);
    if (dst !== this.config.ip && !toBroadcast) {
      this.counters[C.drop_ipv4_not_for_us]++;
      return;
    }
    if (src === 0xffffffff || this.output.isBroadcast(src) || (src >>> 28) === 0xe) {
      this.counters[C.drop_ipv4_bad_source]++;
      return;
    }
    if (ipIsFragment(b, off)) {
      const len = this.reassembler.add(b, off, ipTotalLength(b, off), now);
      if (len === 0) return;
      const r = this.reassembler.out;
      if (!this.owns(r, 0)) {
        this.foreign(r, 0, len);
        return;
      }
      // Reassembled from fragments: what the device said of the fragments' checksums says
      // nothing of the whole.
      this.deliver(r, 0, len, src, dst, toBroadcast, 0, now);
      return;
    }
    this.deliver(b, off, ipTotalLength(b, off), src, dst, toBroadcast, rxFlags, now);
  }

  /** Expires reassembly state. */
  poll(now: number): void {
    this.reassembler.poll(now);
  }

  /** Earliest reassembly deadline. */
  nextDeadline(): number {
    return this.reassembler.nextDeadline();
  }

  /** True if this shard owns the (whole, unfragmented) datagram's flow. */
  private owns(b: Uint8Array, off: number): boolean {
    if (this.config.shardCount <= 1) return true;
    const proto = ipProtocol(b, off);
    if (proto !== IPPROTO_UDP && proto !== IPPROTO_TCP) return true; // address-pair flows: same hash as the fragments
    const l4 = off + ipHeaderLength(b, off);
    const sp = (b[l4] << 8) | b[l4 + 1];
    const dp = (b[l4 + 2] << 8) | b[l4 + 3];
    const h = hashFourTuple(ipSrc(b, off), sp, ipDst(b, off), dp, proto);
    return shardOf(h, this.config.shardCount) === this.config.shardIndex;
  }

  private deliver(
    b: Uint8Array, off: number, len: number, src: number, dst: number, toBroadcast: boolean, rxFlags: number, now: number,
  ): void {
    const hlen = ipHeaderLength(b, off);
    const proto = ipProtocol(b, off);
    if (proto === IPPROTO_ICMP) {
      this.icmp.input(b, off, hlen, len, src, toBroadcast, now);
      return;
    }
    if (proto === IPPROTO_TCP && toBroadcast) {
      this.counters[C.drop_tcp_broadcast]++; // RFC 1122 4.2.3.10
      return;
    }
    const t = this.transports[proto];
    if (t !== undefined) {
      t.input(b, off, hlen, len, src, dst, toBroadcast, rxFlags, now);
      return;
    }
    this.counters[C.drop_ipv4_protocol]++;
    this.icmp.sendDestUnreachable(ICMP_PROTOCOL_UNREACHABLE, b, off, toBroadcast, now);
  }
}
