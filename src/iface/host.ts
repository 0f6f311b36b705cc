/**
 * The protocol core of one shard: Ethernet demux over ARP, IPv4, ICMP, UDP and TCP, and
 * (in the shard that runs it) IPv6 with ICMPv6, neighbour discovery, and TCP and UDP over
 * IPv6 through the same transport layers (addresses interned, base/ipv6-interner.ts).
 *
 * Sans-I/O: frames come in through receive() with the current time, frames go out into
 * the TxSink given at construction, timers are driven by poll(now) at nextDeadline().
 * No threads, rings, timers or devices in here: the same object runs in a shard worker
 * over the real rings and in tests over a virtual wire with a virtual clock.
 *
 * IEEE 802.3 Ethernet II framing; RFC 894 (IPv4 over Ethernet); RFC 2464 (IPv6 over
 * Ethernet: multicast groups map to 33:33:xx:xx:xx:xx); RFC 1122 2.4 (the link layer drops
 * frames not addressed to us: our MAC, broadcast, or a group we listen to).
 */
import { BROADCAST_MAC } from '../wire/addresses.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../wire/ipv4.js';
import { IPV6_MIN_MTU } from '../wire/ipv6.js';
import { ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ethDst, ethSrc, ethType } from '../wire/ethernet.js';
import { ArpLayer, type ArpResolverLimits } from '../l2/arp-layer.js';
import type { ArpCacheLimits } from '../l2/arp-cache.js';
import { FrameOutput } from '../l2/frame-output.js';
import { NdLayer, type NdLimits } from '../l2/nd-layer.js';
import type { NeighbourCacheLimits } from '../l2/neighbour-cache.js';
import { Icmpv6Layer } from '../l3/icmpv6-layer.js';
import { Ipv6Input } from '../l3/ipv6-input.js';
import type { Reassembly6Limits } from '../l3/ipv6-reassembly.js';
import { Ipv6Output } from '../l3/ipv6-output.js';
import { IcmpLayer } from '../l3/icmp-layer.js';
import { Ipv4Input, type ForeignDatagramSink } from '../l3/ipv4-input.js';
import { Ipv4Output } from '../l3/ipv4-output.js';
import type { ReassemblyLimits } from '../l3/ipv4-reassembly.js';
import type { PathMtuLimits } from '../l3/path-mtu.js';
import { UdpLayer } from '../udp/udp-layer.js';
import { TcpLayer } from '../tcp/tcp-layer.js';
import type { TcpConfig } from '../tcp/tcp-config.js';
import { C, type Counters } from '../base/counters.js';
import type { HostConfig } from '../base/host-config.js';
import type { TxSink } from '../base/link.js';
import { RX_NONE } from '../base/rx-flags.js';
import { IPV6_ID_BASE, Ipv6Interner } from '../base/ipv6-interner.js';
import { foldIpv6Words, hashFourTuple } from '../base/flow-hash.js';

/** Default bound of the interned IPv6 addresses (peers and our own) of one Host. */
export const DEFAULT_IPV6_INTERNED = 16384;

/** Optional limits of the layers, for tests and tuning. */
export interface HostLimits {
  arpCache?: Partial<ArpCacheLimits>;
  arpResolver?: Partial<ArpResolverLimits>;
  reassembly?: Partial<ReassemblyLimits>;
  /** The path MTU cache (l3/path-mtu.ts). */
  pathMtu?: Partial<PathMtuLimits>;
  reassembly6?: Partial<Reassembly6Limits>;
  tcp?: Partial<TcpConfig>;
  neighbourCache?: Partial<NeighbourCacheLimits>;
  nd?: Partial<NdLimits>;
  /** IPv6 addresses the transports may refer to at once (base/ipv6-interner.ts). */
  ipv6Addresses?: number;
  /** Secret for ISNs, timestamps offsets and SYN cookies (tests pass a fixed one). */
  tcpSecret?: Uint8Array;
}

/** One shard's network stack instance. */
export class Host {
  readonly arp: ArpLayer;
  readonly ipOut: Ipv4Output;
  readonly ipIn: Ipv4Input;
  readonly icmp: IcmpLayer;
  readonly udp: UdpLayer;
  readonly tcp: TcpLayer;
  readonly output: FrameOutput;
  /** IPv6 (null when config.ipv6 is absent: this instance drops IPv6 frames). */
  readonly nd: NdLayer | null = null;
  readonly ip6Out: Ipv6Output | null = null;
  readonly icmp6: Icmpv6Layer | null = null;
  readonly ip6In: Ipv6Input | null = null;
  /** The IPv6 addresses TCP and UDP refer to, as 2^32 + id (null without IPv6). */
  readonly interner: Ipv6Interner | null;
  private readonly peer6 = new Uint32Array(4);

  /**
   * @param config our addresses and shard identity
   * @param sink where outgoing frames are written
   * @param counters this thread's counter block
   * @param foreign receives reassembled datagrams owned by another shard
   */
  constructor(
    readonly config: HostConfig,
    sink: TxSink,
    readonly counters: Counters,
    foreign: ForeignDatagramSink = () => {},
    limits: HostLimits = {},
  ) {
    this.output = new FrameOutput(sink, counters);
    this.arp = new ArpLayer(config, this.output, counters, limits.arpCache, limits.arpResolver);
    this.ipOut = new Ipv4Output(config, this.arp, this.output, counters, limits.pathMtu);
    this.icmp = new IcmpLayer(this.ipOut, counters, config.ip);
    this.udp = new UdpLayer(config, this.ipOut, this.icmp, counters);
    this.ipIn = new Ipv4Input(config, this.ipOut, this.icmp, counters, foreign, limits.reassembly);
    // IPv6 needs links of 1280 bytes at least (RFC 8200 5): below that it stays off.
    const v6 = config.ipv6 !== undefined && config.mtu >= IPV6_MIN_MTU;
    this.interner = v6 ? new Ipv6Interner(limits.ipv6Addresses ?? DEFAULT_IPV6_INTERNED, counters) : null;
    // A path MTU estimate is keyed by the interned id: it goes with the id (decision 0030).
    if (this.interner !== null) this.interner.onFree = (ip) => this.ipOut.pathMtu.forget(ip);
    this.tcp = new TcpLayer(
      config.ip, config.mtu, config.shardIndex, config.shardCount, this.ipOut, counters, limits.tcp, limits.tcpSecret, config.device,
      this.interner,
    );
    this.ipIn.register(IPPROTO_UDP, this.udp);
    this.ipIn.register(IPPROTO_TCP, this.tcp);
    this.icmp.registerErrorInput(IPPROTO_UDP, this.udp);
    this.icmp.registerErrorInput(IPPROTO_TCP, this.tcp);
    if (config.ipv6 !== undefined && this.interner !== null) {
      const nd = new NdLayer(config, config.ipv6, this.output, counters, limits.neighbourCache, limits.nd);
      this.nd = nd;
      this.ip6Out = new Ipv6Output(config.mac, nd, this.output, counters);
      this.icmp6 = new Icmpv6Layer(this.ip6Out, nd, counters);
      this.ip6In = new Ipv6Input(nd, this.icmp6, counters, limits.reassembly6, { index: config.shardIndex, count: config.shardCount, foreign });
      this.tcp.enableIpv6(this.ip6Out, (dst) => nd.addresses.selectSource(dst));
      this.udp.enableIpv6(this.ip6Out, this.icmp6, this.interner);
      this.ip6In.registerTransports(this.tcp, this.udp);
      this.icmp6.registerErrorInput(IPPROTO_TCP, this.tcp);
      this.icmp6.registerErrorInput(IPPROTO_UDP, this.udp);
    }
  }

  /**
   * Brings IPv6 up at `now` (no-op without it): MLD report and duplicate address detection
   * of every address, then router solicitations (l2/nd-layer.ts).
   */
  startIpv6(now: number): void {
    this.nd?.start(now);
  }

  /**
   * Handles one received Ethernet frame at b[off..off+len) at time `now` (ms), with the
   * device's receive metadata `rxFlags` (base/rx-flags.ts; 0: none). Never throws on bad
   * input: malformed frames are dropped and counted by reason. A bug in the core is also
   * caught and counted (drop_internal_error) so a worker survives it.
   */
  receive(b: Uint8Array, off: number, len: number, now: number, rxFlags = RX_NONE): void {
    this.counters[C.rx_frames]++;
    this.counters[C.rx_bytes] += len;
    try {
      this.dispatch(b, off, len, rxFlags, now);
    } catch {
      this.counters[C.drop_internal_error]++;
    }
  }

  /**
   * The flow hash (base/flow-hash.ts) of the flow from our `localPort` to peerIp:peerPort
   * (an IPv4 address or an interned IPv6 one; over IPv6 from the source RFC 6724 picks for
   * it): which shard the I/O thread steers its answers to.
   */
  flowHashTo(peerIp: number, localPort: number, peerPort: number, protocol: number): number {
    const n = this.interner;
    if (peerIp < IPV6_ID_BASE || n === null || this.nd === null) return hashFourTuple(this.config.ip, localPort, peerIp, peerPort, protocol);
    const dst = n.copyInto(peerIp, this.peer6);
    const src = this.nd.addresses.selectSource(dst);
    return hashFourTuple(foldIpv6Words(src[0], src[1], src[2], src[3]), localPort, foldIpv6Words(dst[0], dst[1], dst[2], dst[3]), peerPort, protocol);
  }

  /** Runs timers due at `now`: ARP retries and expiry, reassembly timeouts, neighbour discovery. */
  poll(now: number): void {
    this.arp.poll(now);
    this.nd?.poll(now);
    this.ipIn.poll(now);
    this.ip6In?.poll(now);
    this.tcp.poll(now);
  }

  /** The earliest time poll() has work to do (ms), or Infinity. */
  nextDeadline(): number {
    const v6 = this.nd === null || this.ip6In === null ? Infinity : Math.min(this.nd.nextDeadline(), this.ip6In.nextDeadline());
    return Math.min(this.arp.nextDeadline(), this.ipIn.nextDeadline(), this.tcp.nextDeadline(), v6);
  }

  private dispatch(b: Uint8Array, off: number, len: number, rxFlags: number, now: number): void {
    if (len < ETH_HEADER_LEN) {
      this.counters[C.drop_eth_truncated]++;
      return;
    }
    const dst = ethDst(b, off);
    if (dst !== this.config.mac && dst !== BROADCAST_MAC && !(this.nd?.addresses.acceptsMac(dst) ?? false)) {
      this.counters[C.drop_eth_not_for_us]++;
      return;
    }
    const type = ethType(b, off);
    if (type === ETHERTYPE_IPV4) this.ipIn.input(b, off + ETH_HEADER_LEN, len - ETH_HEADER_LEN, rxFlags, now);
    else if (type === ETHERTYPE_ARP) this.arp.input(b, off + ETH_HEADER_LEN, len - ETH_HEADER_LEN, now);
    else if (type === ETHERTYPE_IPV6 && this.ip6In !== null) this.ip6In.input(b, off + ETH_HEADER_LEN, len - ETH_HEADER_LEN, ethSrc(b, off), now, rxFlags);
    else this.counters[C.drop_eth_unknown_type]++;
  }
}
