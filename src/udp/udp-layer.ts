/**
 * UDP: demultiplexing by destination port, sending, and port unreachable for closed ports.
 *
 * RFC 768, RFC 1122 4.1.3.4 (a zero checksum means none; a bad one drops silently),
 * 4.1.3.1 (port unreachable for a datagram to a closed port, but not for broadcasts),
 * 4.1.3.3 (ICMP errors are passed to the application: a port or protocol unreachable
 * reaches the port's error handler, which a connected socket turns into ECONNREFUSED, as
 * Linux does without IP_RECVERR), RFC 1191 (a "fragmentation needed" that quotes a
 * datagram from a bound port lowers the path MTU: UDP has no sequence number to check it
 * against, RFC 5927 5.2). Datagrams go with DF when they fit the path MTU and are
 * fragmented otherwise (l3/ipv4-output.ts).
 *
 * Over IPv6 (decision 0030): datagrams come in through input6() with the RFC 8200 8.1
 * pseudo-header (a zero checksum is dropped, drop_udp6_zero_checksum), a closed port gets
 * ICMPv6 port unreachable (RFC 4443 3.1) unless the datagram went to a group, and the
 * addresses handlers see are interned (base/ipv6-interner.ts): 2^32 + id, valid during
 * the call (a handler that keeps one acquires it). A datagram to an interned address
 * leaves from the source RFC 6724 selects.
 */
import {
  ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, ICMP_PORT_UNREACHABLE, ICMP_PROTOCOL_UNREACHABLE,
} from '../wire/icmp.js';
import { IPPROTO_UDP, ipDst, ipHeaderLength, ipTotalLength } from '../wire/ipv4.js';
import { IPV6_DST_OFFSET, IPV6_HEADER_LEN, IPV6_MIN_MTU, IPV6_SRC_OFFSET, NH_UDP, ipv6PayloadLength, quotedTransportOffset } from '../wire/ipv6.js';
import { ICMPV6_DEST_UNREACHABLE, ICMPV6_PACKET_TOO_BIG, ICMPV6_PORT_UNREACHABLE } from '../wire/icmpv6.js';
import { ipv6 } from '../wire/ipv6-address.js';
import { IPV6_ID_BASE, type Ipv6Interner } from '../base/ipv6-interner.js';
import type { Icmpv6Layer } from '../l3/icmpv6-layer.js';
import type { Ipv6Output } from '../l3/ipv6-output.js';
import {
  UDP_HEADER_LEN, fillUdpChecksum, fillUdpChecksum6, udpChecksumValid, udpChecksumValid6, udpDstPort, udpLength, udpSrcPort, writeUdpHeader,
} from '../wire/udp.js';
import { C, type Counters } from '../base/counters.js';
import type { HostConfig } from '../base/host-config.js';
import type { IcmpLayer, TransportErrorInput } from '../l3/icmp-layer.js';
import type { Ipv4Output } from '../l3/ipv4-output.js';
import type { TransportInput } from '../l3/ipv4-input.js';
import { copyBytes } from '../util/copy-bytes.js';
import { rxChecksumTrusted } from '../base/rx-flags.js';

/**
 * Receives a datagram: its data is b[off..off+len) (valid only during the call: copy
 * what you keep), from srcIp:srcPort to dstIp:dstPort.
 */
export type UdpHandler = (
  b: Uint8Array, off: number, len: number,
  srcIp: number, srcPort: number, dstIp: number, dstPort: number, now: number,
) => void;

/**
 * Hears that a datagram sent from the port to remoteIp:remotePort was refused (an ICMP
 * port or protocol unreachable came back).
 */
export type UdpErrorHandler = (code: 'ECONNREFUSED', remoteIp: number, remotePort: number) => void;

/** The UDP port table and datagram I/O of one worker. */
export class UdpLayer implements TransportInput, TransportErrorInput {
  private readonly ports = new Map<number, UdpHandler>();
  private readonly errorHandlers = new Map<number, UdpErrorHandler>();
  private ip6: Ipv6Output | null = null;
  private icmp6: Icmpv6Layer | null = null;
  private interner: Ipv6Interner | null = null;
  private readonly dst6 = ipv6(0, 0, 0, 0);

  constructor(
    private readonly config: HostConfig,
    private readonly ip: Ipv4Output,
    private readonly icmp: IcmpLayer,
    private readonly counters: Counters,
  ) {}

  /** UDP over IPv6: datagrams out through `out`, port unreachable through `icmp6`. */
  enableIpv6(out: Ipv6Output, icmp6: Icmpv6Layer, interner: Ipv6Interner): void {
    this.ip6 = out;
    this.icmp6 = icmp6;
    this.interner = interner;
  }

  /** Binds `port` to `handler` (and `onError` for refusals); false if the port is taken. */
  bind(port: number, handler: UdpHandler, onError?: UdpErrorHandler): boolean {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`UDP port out of range: ${port}`);
    if (this.ports.has(port)) return false;
    this.ports.set(port, handler);
    if (onError !== undefined) this.errorHandlers.set(port, onError);
    return true;
  }

  /** Releases `port`. */
  unbind(port: number): void {
    this.ports.delete(port);
    this.errorHandlers.delete(port);
  }

  /** An ICMP error about a datagram we sent (quoted at b[q..], checked by l3/icmp-layer.ts). */
  icmpError(type: number, code: number, nextHopMtu: number, b: Uint8Array, q: number, _qLen: number, now: number): void {
    const l4 = q + ipHeaderLength(b, q);
    const port = udpSrcPort(b, l4);
    if (!this.ports.has(port)) {
      this.counters[C.drop_icmp_error_no_flow]++;
      return;
    }
    if (type !== ICMP_DEST_UNREACHABLE) return;
    if (code === ICMP_FRAG_NEEDED) {
      this.ip.pathMtu.lower(ipDst(b, q), nextHopMtu, ipTotalLength(b, q), now);
      return;
    }
    if (code !== ICMP_PORT_UNREACHABLE && code !== ICMP_PROTOCOL_UNREACHABLE) return;
    const h = this.errorHandlers.get(port);
    if (h === undefined) return;
    this.counters[C.udp_icmp_errors]++;
    h('ECONNREFUSED', ipDst(b, q), udpDstPort(b, l4));
  }

  /** The UDP length of the datagram at b[o] with `avail` bytes after it, or -1 when it does not fit (counted). */
  private lengthOf(b: Uint8Array, o: number, avail: number): number {
    if (avail < UDP_HEADER_LEN) {
      this.counters[C.drop_udp_truncated]++;
      return -1;
    }
    const ulen = udpLength(b, o);
    if (ulen < UDP_HEADER_LEN || ulen > avail) {
      this.counters[C.drop_udp_length]++;
      return -1;
    }
    return ulen;
  }

  /**
   * Handles a UDP datagram whose IPv4 header is at b[ipOff] (header `hlen`, total `ipLen`).
   * The checksum is not verified when `rxFlags` says the device vouches for it.
   */
  input(
    b: Uint8Array, ipOff: number, hlen: number, ipLen: number, src: number, dst: number,
    toBroadcast: boolean, rxFlags: number, now: number,
  ): void {
    const o = ipOff + hlen;
    const avail = ipLen - hlen;
    const ulen = this.lengthOf(b, o, avail);
    if (ulen < 0) return;
    if (!rxChecksumTrusted(rxFlags) && !udpChecksumValid(b, o, ulen, src, dst)) {
      this.counters[C.drop_udp_checksum]++;
      return;
    }
    this.counters[C.udp_rx]++;
    this.counters[C.udp_rx_bytes] += ulen - UDP_HEADER_LEN;
    const dport = udpDstPort(b, o);
    const h = this.ports.get(dport);
    if (h === undefined) {
      this.counters[C.drop_udp_no_port]++;
      this.icmp.sendDestUnreachable(ICMP_PORT_UNREACHABLE, b, ipOff, toBroadcast, now);
      return;
    }
    h(b, o + UDP_HEADER_LEN, ulen - UDP_HEADER_LEN, src, udpSrcPort(b, o), dst, dport, now);
  }

  /**
   * Sends `len` bytes of data[off..] from our address:srcPort to dstIp:dstPort. Datagrams
   * larger than the path MTU are fragmented; the others carry DF. Returns false when it could not be queued.
   */
  send(dstIp: number, dstPort: number, srcPort: number, data: Uint8Array, off: number, len: number, now: number): boolean {
    if (dstIp >= IPV6_ID_BASE) return this.send6(dstIp, dstPort, srcPort, data, off, len, now);
    const ulen = UDP_HEADER_LEN + len;
    const r = this.ip.prepare(dstIp, ulen, now);
    if (r < 0) return false;
    const b = this.ip.buf;
    writeUdpHeader(b, r, srcPort, dstPort, ulen);
    copyBytes(data, off, b, r + UDP_HEADER_LEN, len);
    fillUdpChecksum(b, r, ulen, this.config.ip, dstIp);
    this.ip.transmit(IPPROTO_UDP, ulen, now, true);
    this.counters[C.udp_tx]++;
    this.counters[C.udp_tx_bytes] += len;
    return true;
  }

  /**
   * Handles the UDP datagram at b[o..o+avail) carried in the IPv6 packet at b[ipOff];
   * `toMulticast`: it went to a group (no port unreachable then, RFC 4443 2.4 e); the
   * checksum is not verified when `rxFlags` says the device vouches for it.
   */
  input6(b: Uint8Array, ipOff: number, o: number, avail: number, toMulticast: boolean, rxFlags: number, now: number): void {
    const n = this.interner;
    if (n === null) return;
    const ulen = this.lengthOf(b, o, avail);
    if (ulen < 0) return;
    if (b[o + 6] === 0 && b[o + 7] === 0) {
      this.counters[C.drop_udp6_zero_checksum]++;
      return;
    }
    if (!rxChecksumTrusted(rxFlags) && !udpChecksumValid6(b, o, ulen, ipOff)) {
      this.counters[C.drop_udp_checksum]++;
      return;
    }
    this.counters[C.udp_rx]++;
    this.counters[C.udp6_rx]++;
    this.counters[C.udp_rx_bytes] += ulen - UDP_HEADER_LEN;
    const dport = udpDstPort(b, o);
    const h = this.ports.get(dport);
    if (h === undefined) {
      this.counters[C.drop_udp_no_port]++;
      if (!toMulticast) this.icmp6?.sendPortUnreachable(b, ipOff, o + avail - ipOff, now);
      return;
    }
    const src = n.internAt(b, ipOff + IPV6_SRC_OFFSET);
    const dst = src < 0 ? -1 : n.internAt(b, ipOff + IPV6_DST_OFFSET);
    if (dst < 0) {
      if (src >= 0) n.release(src);
      return;
    }
    try {
      h(b, o + UDP_HEADER_LEN, ulen - UDP_HEADER_LEN, src, udpSrcPort(b, o), dst, dport, now);
    } finally {
      n.release(src);
      n.release(dst);
    }
  }

  /**
   * An ICMPv6 error about a datagram we sent over IPv6 (b[q..]: its IPv6 header, checked
   * by l3/icmpv6-layer.ts; a datagram sent in fragments is quoted by its first): a port
   * unreachable reaches the port's error handler, as over IPv4; a Packet Too Big lowers
   * the path MTU of the destination (RFC 8201 4, 5.2: the worker's path MTU cache, as
   * TCP's, keyed by the interned address; never below 1280, RFC 8200 5), so the next large
   * datagram to it leaves in fragments of that size. A destination no longer interned (no
   * socket holds it) keeps no estimate.
   */
  icmpError6(type: number, code: number, word: number, b: Uint8Array, q: number, qLen: number, now: number): void {
    const l4 = quotedTransportOffset(b, q, q + qLen);
    const port = udpSrcPort(b, l4);
    if (!this.ports.has(port)) {
      this.counters[C.drop_icmp_error_no_flow]++;
      return;
    }
    const remote = this.interner?.findAt(b, q + IPV6_DST_OFFSET) ?? -1;
    if (type === ICMPV6_PACKET_TOO_BIG) {
      if (remote >= 0) this.ip.pathMtu.lower(remote, Math.max(IPV6_MIN_MTU, Math.min(word, 65535)), IPV6_HEADER_LEN + ipv6PayloadLength(b, q), now);
      return;
    }
    if (type !== ICMPV6_DEST_UNREACHABLE || code !== ICMPV6_PORT_UNREACHABLE) return;
    const h = this.errorHandlers.get(port);
    if (h === undefined || remote < 0) return;
    this.counters[C.udp_icmp_errors]++;
    h('ECONNREFUSED', remote, udpDstPort(b, l4));
  }

  /** send() to an interned IPv6 address, from the source RFC 6724 picks, in fragments of its path MTU when larger. */
  private send6(dstIp: number, dstPort: number, srcPort: number, data: Uint8Array, off: number, len: number, now: number): boolean {
    const out = this.ip6;
    const n = this.interner;
    if (out === null || n === null) {
      this.counters[C.drop_ipv6_no_route]++;
      return false;
    }
    const ulen = UDP_HEADER_LEN + len;
    const dst = n.copyInto(dstIp, this.dst6);
    const r = out.prepare(null, dst, ulen, now, false, 0, this.ip.pathMtu.mtuFor(dstIp, now));
    if (r < 0) return false;
    const b = out.buf;
    writeUdpHeader(b, r, srcPort, dstPort, ulen);
    copyBytes(data, off, b, r + UDP_HEADER_LEN, len);
    fillUdpChecksum6(b, r, ulen, out.source, dst);
    out.transmit(NH_UDP, ulen);
    this.counters[C.udp_tx]++;
    this.counters[C.udp6_tx]++;
    this.counters[C.udp_tx_bytes] += len;
    return true;
  }
}
