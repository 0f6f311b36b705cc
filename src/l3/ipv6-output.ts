/**
 * IPv6 output: the next hop (on-link, else --gateway6, else a router from an
 * advertisement; RFC 4861 5.2 without the on-link assumption, RFC 4943), the source
 * address (RFC 6724, in ../l2/ipv6-address-table.ts), the Ethernet header with the
 * neighbour's MAC (RFC 2464), the hop limit (RFC 8200 3; a router advertisement may set
 * it), and packets waiting in the neighbour cache while their next hop resolves.
 *
 * Usage mirrors Ipv4Output:
 *   const off = out.prepare(src, dst, maxPayload, now);  // -1: dropped (counted)
 *   ... write the upper-layer message at out.buf[off..] ...
 *   out.transmit(nextHeader, payloadLen);
 * A packet whose next hop is resolved is built in the TX sink directly; otherwise in a
 * scratch buffer, then queued. Packets larger than the link MTU (an echo reply to a
 * reassembled request, a large UDP datagram) leave in fragments (RFC 8200 4.5) of the
 * link MTU (ours, lowered by a router's MTU option) or of the smaller path MTU the caller
 * passes to prepare() (RFC 8201 4: UDP's estimate for the destination), also when it
 * waited for its next hop to resolve. Fragment Identification
 * values are per destination behind a keyed hash (RFC 7739 5.3.3, ./ip-identifiers.ts).
 */
import { ETH_HEADER_LEN, ETHERTYPE_IPV6, writeEthernetHeader } from '../wire/ethernet.js';
import { type Ipv6Address, ipv6, ipv6IsUnspecified } from '../wire/ipv6-address.js';
import {
  IPV6_DST_OFFSET, IPV6_FRAGMENT_HEADER_LEN, IPV6_HEADER_LEN, IPV6_NEXT_HEADER_OFFSET, NH_FRAGMENT,
  setIpv6Ecn, setIpv6PayloadLength, writeFragmentHeader, writeIpv6Header,
} from '../wire/ipv6.js';
import { C, type Counters } from '../base/counters.js';
import type { FrameOutput } from '../l2/frame-output.js';
import type { NdLayer } from '../l2/nd-layer.js';
import type { TxOffload } from '../base/link.js';
import { copyBytes } from '../util/copy-bytes.js';
import { IpIdentifiers } from './ip-identifiers.js';

const HDRS = ETH_HEADER_LEN + IPV6_HEADER_LEN;
/** Bytes after a packet queued for neighbour resolution: the MTU it must leave in (big-endian). */
const QUEUED_MTU_BYTES = 2;

/** Builds and sends IPv6 packets from our addresses. */
export class Ipv6Output {
  /** Where the caller writes the upper-layer data after prepare(): the sink's memory or scratch. */
  buf: Uint8Array;
  private readonly scratch = new Uint8Array(HDRS + 65535 + QUEUED_MTU_BYTES);
  private frameOff = -1;
  private mac = -1;
  private readonly src = ipv6(0, 0, 0, 0);
  private readonly dst = ipv6(0, 0, 0, 0);
  private readonly hop = ipv6(0, 0, 0, 0);
  /** The MTU of the packet being built: the link's, or a smaller path MTU given to prepare(). */
  private packetMtu = 0;

  constructor(
    private readonly ourMac: number,
    private readonly nd: NdLayer,
    private readonly out: FrameOutput,
    private readonly counters: Counters,
    private readonly ids: IpIdentifiers = new IpIdentifiers(),
  ) {
    this.buf = this.scratch;
    // A queued record is the packet and then the MTU it must leave in (see transmit()).
    nd.setResolvedSender((p, mac) => {
      const len = p.length - QUEUED_MTU_BYTES;
      this.emit(p, 0, len, mac, (p[len] << 8) | p[len + 1]);
    });
  }

  /**
   * Starts a packet from `src` (null: chosen by RFC 6724) to `dst` carrying at most
   * `maxPayload` bytes after the IPv6 header. Returns the offset in `this.buf` where the
   * payload goes, or -1 when it cannot be sent (no route, no usable source, too big, TX full: counted).
   * `superFrame`: the packet may exceed the MTU (the device segments it; only when built
   * in the sink, `direct`); `payloadAt` > 0: a bulk payload starts that many bytes into the
   * upper-layer data (the sink aligns it). `pathMtu`: the destination's path MTU when below
   * the link's (a larger packet leaves in fragments of it).
   */
  prepare(
    src: Readonly<Ipv6Address> | null, dst: Readonly<Ipv6Address>, maxPayload: number, now: number, superFrame = false, payloadAt = 0, pathMtu = Infinity,
  ): number {
    const hop = this.nd.nextHop(dst);
    const from = src ?? this.nd.addresses.selectSource(dst);
    if (hop === null || ipv6IsUnspecified(from)) {
      this.counters[C.drop_ipv6_no_route]++;
      return -1;
    }
    if (maxPayload > 65535) {
      this.counters[C.drop_ipv6_too_big]++;
      return -1;
    }
    this.src.set(from);
    this.dst.set(dst);
    this.hop.set(hop);
    this.mac = this.nd.resolve(this.hop, now);
    this.packetMtu = Math.min(this.nd.mtu, pathMtu);
    if (this.mac >= 0 && (IPV6_HEADER_LEN + maxPayload <= this.packetMtu || superFrame)) {
      const o = this.out.reserve(HDRS + maxPayload, payloadAt > 0 ? HDRS + payloadAt : 0);
      if (o < 0) return -1;
      this.buf = this.out.buf;
      this.frameOff = o;
      return o + HDRS;
    }
    this.buf = this.scratch;
    this.frameOff = -1;
    return HDRS;
  }

  /** True when the packet being built sits in the TX sink (offload requests apply to it). */
  get direct(): boolean {
    return this.frameOff >= 0;
  }

  /**
   * True when the packet being built sits in the TX sink and its payload may be attached by
   * reference instead of written into `buf` (TxSink.gathers): the L4 header goes into `buf`,
   * the payload follows through attach().
   */
  get gathers(): boolean {
    return this.frameOff >= 0 && this.out.gathers;
  }

  /** Ends the packet being built with `len` bytes of `src` from `off`, not copied (only when `gathers`). */
  attach(src: Uint8Array, off: number, len: number): void {
    this.out.attach(src, off, len);
  }

  /** True if a packet to `dst` could be built directly in the sink now (next hop known; no side effects). */
  canSendDirect(dst: Readonly<Ipv6Address>, now: number): boolean {
    const hop = this.nd.nextHop(dst);
    if (hop === null) return false;
    const st = this.nd.cache.state(hop, now);
    return st !== undefined && st !== 'INCOMPLETE';
  }

  /** The source address of the packet being built (for the upper layer's pseudo-header). */
  get source(): Readonly<Ipv6Address> {
    return this.src;
  }

  /**
   * Finishes the packet begun by prepare(): `payloadLen` bytes of `nextHeader` were
   * written. `offload` goes to the device with the frame; only for a `direct` packet.
   * `ecn`: the ECN field of the Traffic Class (RFC 3168 5; 0 Not-ECT).
   */
  transmit(nextHeader: number, payloadLen: number, offload: TxOffload | null = null, ecn = 0): void {
    this.counters[C.ipv6_tx]++;
    const hopLimit = this.nd.hopLimit;
    if (this.frameOff >= 0) {
      const b = this.buf;
      const o = this.frameOff;
      writeEthernetHeader(b, o, this.mac, this.ourMac, ETHERTYPE_IPV6);
      writeIpv6Header(b, o + ETH_HEADER_LEN, payloadLen, nextHeader, hopLimit, this.src, this.dst);
      if (ecn !== 0) setIpv6Ecn(b, o + ETH_HEADER_LEN, ecn);
      this.out.commit(HDRS + payloadLen, offload);
      this.frameOff = -1;
      return;
    }
    const s = this.scratch;
    writeIpv6Header(s, ETH_HEADER_LEN, payloadLen, nextHeader, hopLimit, this.src, this.dst);
    if (ecn !== 0) setIpv6Ecn(s, ETH_HEADER_LEN, ecn);
    if (this.mac < 0) {
      // Waits for neighbour resolution with the MTU it was prepared for (a path MTU below
      // the link's, RFC 8201 4), written after it: it leaves in fragments of that size.
      const end = ETH_HEADER_LEN + IPV6_HEADER_LEN + payloadLen;
      s[end] = this.packetMtu >>> 8;
      s[end + 1] = this.packetMtu & 0xff;
      this.nd.cache.enqueue(this.hop, s, ETH_HEADER_LEN, IPV6_HEADER_LEN + payloadLen + QUEUED_MTU_BYTES);
    } else {
      this.emit(s, ETH_HEADER_LEN, IPV6_HEADER_LEN + payloadLen, this.mac, this.packetMtu);
    }
  }

  /**
   * Sends the complete IPv6 packet at b[off..off+len) (no extension headers: the
   * Unfragmentable Part is the 40-byte header) to `mac`, in fragments when it is larger
   * than `mtu` (RFC 8200 4.5).
   */
  private emit(b: Uint8Array, off: number, len: number, mac: number, mtu = this.nd.mtu): void {
    if (len <= mtu) {
      const o = this.out.reserve(ETH_HEADER_LEN + len);
      if (o < 0) return;
      const ob = this.out.buf;
      writeEthernetHeader(ob, o, mac, this.ourMac, ETHERTYPE_IPV6);
      copyBytes(b, off, ob, o + ETH_HEADER_LEN, len);
      this.out.commit(ETH_HEADER_LEN + len);
      return;
    }
    const nextHeader = b[off + IPV6_NEXT_HEADER_OFFSET];
    const payload = len - IPV6_HEADER_LEN;
    const chunk = (mtu - IPV6_HEADER_LEN - IPV6_FRAGMENT_HEADER_LEN) & ~7;
    // Identification per destination behind a keyed hash (RFC 7739, ./ip-identifiers.ts).
    const id = this.ids.next(foldedAddress(b, off + IPV6_DST_OFFSET), nextHeader);
    this.counters[C.ipv6_fragmented_tx]++;
    for (let fo = 0; fo < payload; fo += chunk) {
      const n = Math.min(chunk, payload - fo);
      const o = this.out.reserve(HDRS + IPV6_FRAGMENT_HEADER_LEN + n);
      if (o < 0) return; // the rest is useless without this fragment
      const ob = this.out.buf;
      const ip = o + ETH_HEADER_LEN;
      writeEthernetHeader(ob, o, mac, this.ourMac, ETHERTYPE_IPV6);
      copyBytes(b, off, ob, ip, IPV6_HEADER_LEN);
      setIpv6PayloadLength(ob, ip, IPV6_FRAGMENT_HEADER_LEN + n);
      ob[ip + IPV6_NEXT_HEADER_OFFSET] = NH_FRAGMENT;
      writeFragmentHeader(ob, ip + IPV6_HEADER_LEN, nextHeader, fo, fo + n < payload, id);
      copyBytes(b, off + IPV6_HEADER_LEN + fo, ob, ip + IPV6_HEADER_LEN + IPV6_FRAGMENT_HEADER_LEN, n);
      this.out.commit(HDRS + IPV6_FRAGMENT_HEADER_LEN + n);
      this.counters[C.ipv6_fragments_tx]++;
    }
  }
}

/** The 128-bit address at b[o..o+16) folded to 32 bits (XOR of its words). */
function foldedAddress(b: Uint8Array, o: number): number {
  let f = 0;
  for (let i = o; i < o + 16; i += 4) f ^= (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
  return f >>> 0;
}
