/**
 * ICMP echo answered where the frame is read (decision 0045): the I/O thread answers the
 * common echo request itself, without handing it to a worker. That saves a thread wake-up
 * and the worker's cold path, which are most of a sparse ping's time. Linux answers echo in
 * the receiving softirq for the same reason.
 *
 * RFC 792 (echo), RFC 1122 3.2.2.6 (the reply carries the request's data unchanged), RFC
 * 1624 (the checksum patched for the type change). The reply is the one the worker's
 * IcmpLayer would send (l3/icmp-layer.ts): our MAC and address as source, TTL 64, TOS 0,
 * no DF, an IP ID from a keyed per-destination counter (l3/ip-identifiers.ts; another
 * generator beside the workers', as each worker has its own).
 *
 * Only the plain case takes this path. Anything else returns false and goes to a worker,
 * as before. The plain case is:
 * - an Ethernet frame to our MAC from a unicast MAC, not a receive-offload aggregate;
 * - an IPv4 header of 20 bytes (no options) with a valid checksum, to our address, not a
 *   fragment;
 * - a total length of at most FAST_ECHO_MAX_IP_LEN. Every path MTU the stack keeps is at
 *   least that (l3/path-mtu.ts, Linux's 552), so the reply never needs fragmenting;
 * - a source on our subnet, neither its network nor its broadcast address nor ours. The
 *   next hop is then the source itself, and the reply goes to the MAC the request came
 *   from, with no ARP lookup;
 * - ICMP type 8 with a valid checksum.
 * Pure: bytes in, a reply frame into the caller's batch, counters; no I/O.
 */
import { C, type Counters } from '../base/counters.js';
import type { FrameBatch } from '../base/frame-batch.js';
import { RX_GSO } from '../base/rx-flags.js';
import { prefixMask } from '../wire/addresses.js';
import { internetChecksum } from '../wire/checksum.js';
import { copyBytes } from '../util/copy-bytes.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, ethDst, ethSrc, ethType, writeEthernetHeader } from '../wire/ethernet.js';
import { ICMP_ECHO_REQUEST, ICMP_HEADER_LEN, echoRequestToReply } from '../wire/icmp.js';
import { IPPROTO_ICMP, IPV4_MIN_HEADER, IPV4_MF, IPV4_OFFSET_MASK, ipDst, ipSrc, ipTotalLength, writeIpv4Header } from '../wire/ipv4.js';
import { DEFAULT_TTL } from '../base/host-config.js';
import { IpIdentifiers } from './ip-identifiers.js';

/** Largest IPv4 datagram answered here (bytes): the smallest path MTU kept (Linux min_pmtu). */
export const FAST_ECHO_MAX_IP_LEN = 552;

/** Our link identity, as the I/O thread knows it. */
export interface EchoFastPathConfig {
  /** Our MAC (48-bit) and IPv4 address with its prefix length. */
  mac: number;
  ip: number;
  prefixLength: number;
}

/** Answers plain ICMP echo requests to our IPv4 address (see the header). */
export class EchoFastPath {
  private readonly mask: number;
  private readonly net: number;
  private readonly broadcast: number;

  constructor(
    private readonly config: EchoFastPathConfig,
    private readonly counters: Counters,
    private readonly ids: IpIdentifiers = new IpIdentifiers(),
  ) {
    this.mask = prefixMask(config.prefixLength);
    this.net = (config.ip & this.mask) >>> 0;
    this.broadcast = (this.net | ~this.mask) >>> 0;
  }

  /**
   * Answers the frame at b[off..off+len) (receive flags `rxFlags`) into `out` when it is a
   * plain echo request; true when it did (the frame is consumed), false to hand it on
   * (also when `out` has no room).
   */
  answer(b: Uint8Array, off: number, len: number, rxFlags: number, out: FrameBatch): boolean {
    const cfg = this.config;
    const ip = off + ETH_HEADER_LEN;
    if (len < ETH_HEADER_LEN + IPV4_MIN_HEADER + ICMP_HEADER_LEN || (rxFlags & RX_GSO) !== 0) return false;
    if (ethType(b, off) !== ETHERTYPE_IPV4 || b[ip] !== 0x45 || b[ip + 9] !== IPPROTO_ICMP) return false;
    if (b[ip + IPV4_MIN_HEADER] !== ICMP_ECHO_REQUEST) return false;
    if (ethDst(b, off) !== cfg.mac || (b[off + 6] & 1) !== 0) return false;
    const total = ipTotalLength(b, ip);
    if (total < IPV4_MIN_HEADER + ICMP_HEADER_LEN || total > FAST_ECHO_MAX_IP_LEN || total > len - ETH_HEADER_LEN) return false;
    if ((((b[ip + 6] << 8) | b[ip + 7]) & (IPV4_MF | IPV4_OFFSET_MASK)) !== 0) return false;
    const src = ipSrc(b, ip);
    if (ipDst(b, ip) !== cfg.ip || ((src & this.mask) >>> 0) !== this.net) return false;
    if (src === this.net || src === this.broadcast || src === cfg.ip) return false;
    const icmpLen = total - IPV4_MIN_HEADER;
    if (internetChecksum(b, ip, IPV4_MIN_HEADER) !== 0 || internetChecksum(b, ip + IPV4_MIN_HEADER, icmpLen) !== 0) return false;
    const o = out.reserve(ETH_HEADER_LEN + total);
    if (o < 0) return false;
    const c = this.counters;
    c[C.ipv4_rx]++;
    c[C.icmp_rx]++;
    c[C.icmp_echo_requests_rx]++;
    const r = out.buf;
    writeEthernetHeader(r, o, ethSrc(b, off), cfg.mac, ETHERTYPE_IPV4);
    const id = this.ids.next(src, IPPROTO_ICMP) & 0xffff;
    writeIpv4Header(r, o + ETH_HEADER_LEN, total, id, 0, DEFAULT_TTL, IPPROTO_ICMP, cfg.ip, src);
    const q = o + ETH_HEADER_LEN + IPV4_MIN_HEADER;
    copyBytes(b, ip + IPV4_MIN_HEADER, r, q, icmpLen);
    echoRequestToReply(r, q);
    out.commit(ETH_HEADER_LEN + total, null);
    c[C.ipv4_tx]++;
    c[C.icmp_echo_replies_tx]++;
    c[C.icmp_echo_fast_path]++;
    return true;
  }
}
