/**
 * IPv4 output: routing to a next hop, the Ethernet header, fragmentation, and handing
 * datagrams whose next hop is not yet resolved to ARP (a STALE neighbour is still used
 * while ARP polls it, RFC 1122 2.3.2.1).
 *
 * RFC 791 3.2 (fragmentation), RFC 1122 3.3.1 (routing outbound datagrams: same subnet
 * → the destination itself, else the gateway of the longest matching route,
 * ./route-table.ts), RFC 1122 3.2.1.7 (TTL),
 * RFC 6864 (the ID field only needs to be unique for datagrams that may be fragmented)
 * and RFC 7739 (IDs per destination behind a keyed hash, ./ip-identifiers.ts),
 * RFC 1191 (datagrams are sized and fragmented by the path MTU towards their destination,
 * ./path-mtu.ts; a datagram asked to go with DF gets it when it fits that MTU and is
 * fragmented without it otherwise, like Linux's IP_PMTUDISC_WANT).
 *
 * Usage, allocation-free on the fast path:
 *   const off = out.prepare(dst, maxL4Len, now);   // -1: dropped (counted)
 *   ... write the L4 header and payload at out.buf[off..] ...
 *   out.transmit(protocol, l4Len, now);
 * When the datagram fits the MTU and the next hop's MAC is known, prepare() reserves the
 * frame directly in the TX sink (no copy). Otherwise it hands out a scratch buffer and
 * transmit() fragments from there or queues the datagram for ARP. Only a datagram built
 * directly in the sink (`direct`) may ask the device for offload (a checksum to complete,
 * a super-frame to segment): the others are copied or fragmented later, complete.
 */
import { BROADCAST_MAC, prefixMask } from '../wire/addresses.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, writeEthernetHeader } from '../wire/ethernet.js';
import { IPV4_DF, IPV4_MIN_HEADER, ipDontFragment, ipDst, ipHeaderLength, ipTotalLength, writeIpv4Header } from '../wire/ipv4.js';
import { C, type Counters } from '../base/counters.js';
import type { HostConfig } from '../base/host-config.js';
import type { ArpLayer } from '../l2/arp-layer.js';
import type { FrameOutput } from '../l2/frame-output.js';
import type { TxFlow, TxOffload } from '../base/link.js';
import { copyBytes } from '../util/copy-bytes.js';
import { fragmentPlan, writeFragmentHeader } from './ipv4-fragmenter.js';
import { PathMtuCache, type PathMtuLimits } from './path-mtu.js';
import { NO_ROUTE, RouteTable } from './route-table.js';
import { IpIdentifiers } from './ip-identifiers.js';

const HDRS = ETH_HEADER_LEN + IPV4_MIN_HEADER;

/** Builds and sends IPv4 datagrams from our address. */
export class Ipv4Output {
  /** Where the caller writes the L4 data after prepare(): the sink's memory or scratch. */
  buf: Uint8Array;
  /** Path MTU estimates per destination (RFC 1191). */
  readonly pathMtu: PathMtuCache;
  private readonly scratch = new Uint8Array(ETH_HEADER_LEN + 65536);
  private frameOff = -1;
  private dst = 0;
  private hop = 0;
  private mac = -1;
  /** Path MTU towards `dst`, and whether DF may be set on datagrams to it. */
  private mtu: number;
  private dfAllowed = true;
  /** The time of the latest prepare() (for datagrams sent later, once ARP resolves). */
  private lastNow = 0;
  private readonly mask: number;
  private readonly subnetBroadcast: number;
  private readonly routes: RouteTable;

  constructor(
    private readonly config: HostConfig,
    private readonly arp: ArpLayer,
    private readonly out: FrameOutput,
    private readonly counters: Counters,
    pathMtuLimits: Partial<PathMtuLimits> = {},
    private readonly ids: IpIdentifiers = new IpIdentifiers(),
  ) {
    this.buf = this.scratch;
    this.pathMtu = new PathMtuCache(config.mtu, counters, pathMtuLimits);
    this.mtu = config.mtu;
    this.mask = prefixMask(config.prefixLength);
    this.subnetBroadcast = ((config.ip & this.mask) | ~this.mask) >>> 0;
    this.routes = new RouteTable(config);
    arp.setResolvedSender((d, mac) => this.emit(d, 0, d.length, mac, this.pathMtu.mtuFor(ipDst(d, 0), this.lastNow)));
  }

  /** True if `addr` is a broadcast address on our link (limited or directed). */
  isBroadcast(addr: number): boolean {
    return addr === 0xffffffff || addr === this.subnetBroadcast;
  }

  /** Next hop for `dst`: itself on our subnet (or a broadcast), else a route's gateway, or -1 when none matches. */
  nextHop(dst: number): number {
    if (this.isBroadcast(dst)) return dst;
    return this.routes.lookup(dst);
  }

  /**
   * Starts a datagram to `dst` carrying at most `maxL4Len` bytes after the IP header.
   * Returns the offset in `this.buf` where the L4 data goes, or -1 if it cannot be sent
   * (no route, TX full: counted). `superFrame`: the datagram may exceed the MTU (the
   * device segments it); `payloadAt` > 0: a bulk payload starts that many bytes into the
   * L4 data (the sink aligns it).
   */
  prepare(dst: number, maxL4Len: number, now: number, superFrame = false, payloadAt = 0): number {
    const hop = this.nextHop(dst);
    if (hop === NO_ROUTE) {
      this.counters[C.drop_ipv4_no_route]++;
      return -1;
    }
    if (IPV4_MIN_HEADER + maxL4Len > 65535) {
      this.counters[C.drop_ipv4_too_big]++;
      return -1;
    }
    this.dst = dst;
    this.hop = hop;
    this.lastNow = now;
    this.mtu = this.pathMtu.mtuFor(dst, now);
    this.dfAllowed = this.pathMtu.lastDfAllowed;
    // Before reserving the frame: resolve() may send a unicast ARP probe first.
    this.mac = this.isBroadcast(hop) ? BROADCAST_MAC : this.arp.resolve(hop, now);
    if (this.mac >= 0 && (IPV4_MIN_HEADER + maxL4Len <= this.mtu || superFrame)) {
      // A bulk payload `payloadAt` bytes into the L4 data is copied faster to an aligned address.
      const o = this.out.reserve(HDRS + maxL4Len, payloadAt > 0 ? HDRS + payloadAt : 0);
      if (o < 0) return -1;
      this.buf = this.out.buf;
      this.frameOff = o;
      return o + HDRS;
    }
    this.buf = this.scratch;
    this.frameOff = -1;
    return HDRS;
  }

  /** The flow the next frames belong to, for the TX sink (FrameOutput.flow; null: none). */
  set txFlow(f: TxFlow | null) {
    this.out.flow = f;
  }

  /** Frames the TX sink had no room for, since the start (FrameOutput.refusals). */
  get txRefusals(): number {
    return this.out.refusals;
  }

  /** True when the datagram being built sits in the TX sink (offload requests apply to it). */
  get direct(): boolean {
    return this.frameOff >= 0;
  }

  /**
   * True when the datagram being built sits in the TX sink and its payload may be attached by
   * reference instead of written into `buf` (TxSink.gathers): the L4 header goes into `buf`,
   * the payload follows through attach().
   */
  get gathers(): boolean {
    return this.frameOff >= 0 && this.out.gathers;
  }

  /** Ends the datagram being built with `len` bytes of `src` from `off`, not copied (only when `gathers`). */
  attach(src: Uint8Array, off: number, len: number): void {
    this.out.attach(src, off, len);
  }

  /** True if a datagram to `dst` could be built directly in the sink now (next hop resolved; no side effects). */
  canSendDirect(dst: number, now: number): boolean {
    const hop = this.nextHop(dst);
    return hop !== NO_ROUTE && (this.isBroadcast(hop) || this.arp.cache.lookup(hop, now) >= 0);
  }

  /**
   * Finishes the datagram begun by prepare(): `l4Len` bytes of `protocol` were written.
   * `offload` is passed to the device with the frame; only for a `direct` datagram.
   * `dontFragment`: set DF when the datagram fits the path MTU (a super-frame the device
   * segments counts as fitting) and the path is not locked; otherwise it is fragmented.
   * `ecn`: the ECN codepoint of the TOS byte (RFC 3168 5; TCP sets ECT(0) on new data).
   */
  transmit(protocol: number, l4Len: number, now: number, dontFragment = false, offload: TxOffload | null = null, ecn = 0): void {
    const ipLen = IPV4_MIN_HEADER + l4Len;
    const flags = dontFragment && this.dfAllowed && (ipLen <= this.mtu || (offload !== null && offload.segSize > 0)) ? IPV4_DF : 0;
    // A super-frame the device segments takes one ID per segment (the kernel numbers them on).
    const segs = offload !== null && offload.segSize > 0 ? Math.ceil(l4Len / offload.segSize) : 1;
    const id = this.ids.next(this.dst, protocol, segs) & 0xffff;
    this.counters[C.ipv4_tx]++;
    if (this.frameOff >= 0) {
      const b = this.buf;
      const o = this.frameOff;
      writeEthernetHeader(b, o, this.mac, this.config.mac, ETHERTYPE_IPV4);
      writeIpv4Header(b, o + ETH_HEADER_LEN, ipLen, id, flags, this.config.ttl, protocol, this.config.ip, this.dst, ecn);
      this.out.commit(ETH_HEADER_LEN + ipLen, offload);
      this.frameOff = -1;
      return;
    }
    const s = this.scratch;
    writeIpv4Header(s, ETH_HEADER_LEN, ipLen, id, flags, this.config.ttl, protocol, this.config.ip, this.dst, ecn);
    if (this.mac < 0) this.arp.enqueue(this.hop, s, ETH_HEADER_LEN, ipLen, now);
    else this.emit(s, ETH_HEADER_LEN, ipLen, this.mac, this.mtu);
  }

  /**
   * Sends a complete IPv4 datagram at b[off..off+len) to `mac`, fragmenting it when it
   * is larger than `mtu` (the path's, RFC 791 3.2), or dropping it (counted) when DF
   * forbids that.
   */
  emit(b: Uint8Array, off: number, len: number, mac: number, mtu: number): void {
    if (len <= mtu) {
      const o = this.out.reserve(ETH_HEADER_LEN + len);
      if (o < 0) return;
      const ob = this.out.buf;
      writeEthernetHeader(ob, o, mac, this.config.mac, ETHERTYPE_IPV4);
      copyBytes(b, off, ob, o + ETH_HEADER_LEN, len);
      this.out.commit(ETH_HEADER_LEN + len);
      return;
    }
    if (ipDontFragment(b, off)) {
      this.counters[C.drop_ipv4_too_big]++;
      return;
    }
    const hlen = ipHeaderLength(b, off);
    const total = ipTotalLength(b, off);
    const payload = total - hlen;
    const chunk = fragmentPlan(hlen, payload, mtu);
    if (chunk <= 0) {
      this.counters[C.drop_ipv4_too_big]++; // MTU too small for this header: cannot fragment
      return;
    }
    this.counters[C.ipv4_fragmented_tx]++;
    for (let fo = 0; fo < payload; fo += chunk) {
      const n = Math.min(chunk, payload - fo);
      const more = fo + n < payload;
      const o = this.out.reserve(ETH_HEADER_LEN + hlen + n);
      if (o < 0) return; // the rest is useless without this fragment
      const ob = this.out.buf;
      writeEthernetHeader(ob, o, mac, this.config.mac, ETHERTYPE_IPV4);
      const fh = writeFragmentHeader(b, off, ob, o + ETH_HEADER_LEN, hlen, fo, n, more);
      copyBytes(b, off + hlen + fo, ob, o + ETH_HEADER_LEN + fh, n);
      this.out.commit(ETH_HEADER_LEN + fh + n);
      this.counters[C.ipv4_fragments_tx]++;
    }
  }

}
