/**
 * UDP: demultiplexing by destination port, sending, and port unreachable for closed ports.
 *
 * RFC 768, RFC 1122 4.1.3.4 (a zero checksum means none; a bad one drops silently),
 * 4.1.3.1 (port unreachable for a datagram to a closed port, but not for broadcasts).
 */
import { ICMP_PORT_UNREACHABLE } from '../wire/icmp.js';
import { IPPROTO_UDP } from '../wire/ipv4.js';
import {
  UDP_HEADER_LEN, fillUdpChecksum, udpChecksumValid, udpDstPort, udpLength, udpSrcPort, writeUdpHeader,
} from '../wire/udp.js';
import { C, type Counters } from '../base/counters.js';
import type { HostConfig } from '../base/host-config.js';
import type { IcmpLayer } from '../l3/icmp-layer.js';
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

/** The UDP port table and datagram I/O of one worker. */
export class UdpLayer implements TransportInput {
  private readonly ports = new Map<number, UdpHandler>();

  constructor(
    private readonly config: HostConfig,
    private readonly ip: Ipv4Output,
    private readonly icmp: IcmpLayer,
    private readonly counters: Counters,
  ) {}

  /** Binds `port` to `handler`; false if the port is taken. */
  bind(port: number, handler: UdpHandler): boolean {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`UDP port out of range: ${port}`);
    if (this.ports.has(port)) return false;
    this.ports.set(port, handler);
    return true;
  }

  /** Releases `port`. */
  unbind(port: number): void {
    this.ports.delete(port);
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
    if (avail < UDP_HEADER_LEN) {
      this.counters[C.drop_udp_truncated]++;
      return;
    }
    const ulen = udpLength(b, o);
    if (ulen < UDP_HEADER_LEN || ulen > avail) {
      this.counters[C.drop_udp_length]++;
      return;
    }
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
   * larger than the MTU are fragmented. Returns false when it could not be queued.
   */
  send(dstIp: number, dstPort: number, srcPort: number, data: Uint8Array, off: number, len: number, now: number): boolean {
    const ulen = UDP_HEADER_LEN + len;
    const r = this.ip.prepare(dstIp, ulen, now);
    if (r < 0) return false;
    const b = this.ip.buf;
    writeUdpHeader(b, r, srcPort, dstPort, ulen);
    copyBytes(data, off, b, r + UDP_HEADER_LEN, len);
    fillUdpChecksum(b, r, ulen, this.config.ip, dstIp);
    this.ip.transmit(IPPROTO_UDP, ulen, now);
    this.counters[C.udp_tx]++;
    this.counters[C.udp_tx_bytes] += len;
    return true;
  }
}
