/**
 * Neighbour discovery for our IPv6 interface: answers solicitations for our addresses,
 * resolves next hops through the neighbour cache, checks our addresses for duplicates,
 * asks for routers and keeps the default router list, and tells snooping switches which
 * multicast groups we listen to.
 *
 * RFC 4861: 4 (message formats), 6.1.2 and 7.1 (validation: hop limit 255, code 0,
 * length, options), 6.3.4 (router advertisement processing: default router list, cur
 * hop limit, reachable time, retransmission timer, MTU, source link-layer address), 6.3.7
 * (router solicitations: up to MAX_RTR_SOLICITATIONS, RTR_SOLICITATION_INTERVAL apart,
 * once the link-local address is usable; without the random initial delay), 7.2.3/7.2.4
 * (answering a solicitation for our address), 7.2.5 (advertisements, in neighbour-cache.ts),
 * 7.2.2 (solicitations for resolution, from the address matching the target's scope).
 * RFC 4862 5.4 (duplicate address detection: DupAddrDetectTransmits = 1 solicitation from
 * ::, RetransTimer for the answer; 5.4.3/5.4.4: a solicitation from :: or an advertisement
 * for a tentative address makes it DUPLICATE; without the random initial delay). RFC 6980:
 * ND messages arriving in fragments are dropped. RFC 3810 (MLDv2): an unsolicited report
 * when we join groups (at start, from :: while the link-local address is tentative, and
 * again from it once usable) and an answer to queries, at most one per second.
 *
 * Every message is built here as a whole frame (Ethernet, IPv6, ICMPv6) like ARP's: ND
 * cannot wait for ND. Sans-I/O: time comes in; deadlines go out through nextDeadline().
 *
 * One instance per shard (decision 0030): the shard that answers ARP (`answersArp`) is the
 * interface's voice — DAD, router solicitations, MLD reports and answers to solicitations.
 * The others, which carry TCP and UDP flows over IPv6 too, only resolve their own next
 * hops (their own solicitations, the advertisements every shard sees), learn from
 * solicitations and take router advertisements; they run DAD's states without sending
 * (watchDad): an address is usable there only after shard 0's probe had time to be
 * answered, and a duplicate is seen by every shard.
 */
import { ETH_HEADER_LEN, ETHERTYPE_IPV6, writeEthernetHeader } from '../wire/ethernet.js';
import {
  ICMPV6_MLD_QUERY, ICMPV6_MLDV2_REPORT, ICMPV6_NEIGHBOR_ADVERTISEMENT, ICMPV6_NEIGHBOR_SOLICITATION,
  ICMPV6_ROUTER_ADVERTISEMENT, fillIcmpv6Checksum, icmpv6Code,
} from '../wire/icmpv6.js';
import {
  type Ipv6Address, IPV6_ALL_MLDV2_ROUTERS, IPV6_ALL_NODES, IPV6_ALL_ROUTERS, IPV6_UNSPECIFIED,
  ipv6, ipv6Equals, ipv6IsLinkLocal, ipv6IsMulticast, ipv6IsUnspecified, linkLocalFromMac, multicastMacOf, readIpv6, solicitedNodeOf,
} from '../wire/ipv6-address.js';
import { IPV6_DST_OFFSET, IPV6_HEADER_LEN, IPV6_SRC_OFFSET, NH_HOP_BY_HOP, NH_ICMPV6, ipv6HopLimit, writeIpv6Header } from '../wire/ipv6.js';
import { MLD_CHANGE_TO_EXCLUDE, MLD_HOP_BY_HOP_LEN, MLD_MODE_IS_EXCLUDE, MLD_QUERY_MIN_LEN, MLDV2_RECORD_LEN, MLDV2_REPORT_HEADER_LEN, writeMldHopByHop, writeMldv2Report } from '../wire/mld.js';
import {
  NA_OVERRIDE, NA_ROUTER, NA_SOLICITED, ND_HOP_LIMIT, ND_NS_NA_LEN, ND_OPT_LLA_LEN, ND_OPT_MTU, ND_OPT_SOURCE_LLA, ND_OPT_TARGET_LLA,
  ND_RA_LEN, ND_RS_LEN, ND_TARGET_OFFSET,
  naFlags, ndFindOption, ndOptionLength, ndOptionMac, ndOptionMtu, ndOptionsValid,
  raCurHopLimit, raReachableTime, raRetransTimer, raRouterLifetime, writeLlaOption, writeNsNa, writeRs,
} from '../wire/ndp.js';
import { C, type Counters } from '../base/counters.js';
import type { HostConfig, Ipv6Settings } from '../base/host-config.js';
import type { FrameOutput } from './frame-output.js';
import { Ipv6AddressTable, type OwnAddress } from './ipv6-address-table.js';
import { NeighbourCache, type NeighbourCacheLimits } from './neighbour-cache.js';

/** Timers and bounds of ND beyond the cache's. */
export interface NdLimits {
  /** DupAddrDetectTransmits (RFC 4862 5.1): 1. */
  dadTransmits: number;
  /** MAX_RTR_SOLICITATIONS (3) and RTR_SOLICITATION_INTERVAL (4 s), RFC 4861 10. */
  maxRouterSolicitations: number;
  routerSolicitationIntervalMs: number;
  /** Default routers kept (a host on one LAN sees one or two). */
  maxRouters: number;
  /** Shortest time between two MLD reports (answers to queries). */
  mldReportIntervalMs: number;
}

/** Defaults per RFC 4861 10 and RFC 4862 5.1. */
export const DEFAULT_ND_LIMITS: NdLimits = {
  dadTransmits: 1, maxRouterSolicitations: 3, routerSolicitationIntervalMs: 4000, maxRouters: 8, mldReportIntervalMs: 1000,
};

/** Hop limit of the packets we originate until a router advertisement says otherwise (RFC 8200 / IANA default 64). */
export const DEFAULT_HOP_LIMIT = 64;

/** One default router (RFC 4861 6.3.4). */
export interface DefaultRouter {
  readonly address: Ipv6Address;
  /** When its router lifetime ends (ms). */
  expires: number;
}

/** Called with each packet (from its IPv6 header) that waited for a MAC, once it resolved. */
export type ResolvedPacketSender = (packet: Uint8Array, mac: number) => void;

/** Largest ND/MLD frame we build: Ethernet + IPv6 + hop-by-hop + a report of a few groups. */
const MAX_ND_FRAME = 1514;

/** Neighbour discovery, DAD, router discovery and MLD reports for our interface. */
export class NdLayer {
  readonly addresses = new Ipv6AddressTable();
  readonly cache: NeighbourCache;
  readonly routers: DefaultRouter[] = [];
  private readonly limits: NdLimits;
  private readonly mac: number;
  /** The link-local address derived from our MAC. */
  readonly linkLocal: Ipv6Address;
  /** Hop limit for packets we originate (router advertisements may set it). */
  hopLimit = DEFAULT_HOP_LIMIT;
  /** The link's IPv6 MTU: ours, lowered by a router's MTU option (never below 1280). */
  mtu: number;
  private started = false;
  private rsSent = 0;
  private rsNext = Infinity;
  private routerHeard = false;
  private reportDue = Infinity;
  private reportRecord = MLD_CHANGE_TO_EXCLUDE;
  private lastReport = -Infinity;
  private onResolved: ResolvedPacketSender = () => {};
  private readonly scratchSrc = ipv6(0, 0, 0, 0);
  private readonly scratchTarget = ipv6(0, 0, 0, 0);
  /** This instance speaks for the interface (DAD, RS, MLD, advertisements); see the header. */
  private readonly speaks: boolean;

  constructor(
    config: HostConfig,
    private readonly settings: Ipv6Settings,
    private readonly out: FrameOutput,
    private readonly counters: Counters,
    cacheLimits: Partial<NeighbourCacheLimits> = {},
    limits: Partial<NdLimits> = {},
  ) {
    this.mac = config.mac;
    this.mtu = config.mtu;
    this.speaks = config.answersArp;
    this.limits = { ...DEFAULT_ND_LIMITS, ...limits };
    this.linkLocal = linkLocalFromMac(config.mac);
    this.cache = new NeighbourCache(counters, {
      solicit: (target, mac) => this.sendSolicitation(target, mac),
      release: (packets, mac) => {
        for (const p of packets) this.onResolved(p, mac);
      },
    }, cacheLimits);
    this.addresses.add(this.linkLocal, 64);
    for (const a of settings.addresses) this.addresses.add(a.address, a.prefixLength);
  }

  /** Sets where packets go once their next hop resolves (IPv6 output). */
  setResolvedSender(fn: ResolvedPacketSender): void {
    this.onResolved = fn;
  }

  /**
   * Brings the interface up at `now`: joins the groups (MLD report) and starts duplicate
   * address detection of every address (RFC 4862 5.4.2). Router solicitations follow once
   * the link-local address is usable.
   */
  start(now: number): void {
    if (this.started) return;
    this.started = true;
    if (!this.speaks) {
      for (const e of this.addresses.entries) this.watchDad(e, now);
      return;
    }
    this.sendReport(MLD_CHANGE_TO_EXCLUDE, now);
    for (const e of this.addresses.entries) this.beginDad(e, now);
  }

  /** Adds an address at run time (an --ip6 change): it is TENTATIVE until DAD passes. */
  addAddress(address: Ipv6Address, prefixLength: number, now: number): OwnAddress {
    const e = this.addresses.add(address, prefixLength);
    if (this.started && e.state === 'TENTATIVE' && e.dadSent === 0) {
      if (!this.speaks) {
        this.watchDad(e, now);
        return e;
      }
      this.sendReport(MLD_CHANGE_TO_EXCLUDE, now);
      this.beginDad(e, now);
    }
    return e;
  }

  /** The next hop for `dst`, or null when there is no route: on-link, else --gateway6, else a router from an advertisement. */
  nextHop(dst: Readonly<Ipv6Address>): Readonly<Ipv6Address> | null {
    if (this.addresses.onLink(dst)) return dst;
    if (this.settings.gateway !== null) return this.settings.gateway;
    return this.routers.length > 0 ? this.routers[0].address : null;
  }

  /** The MAC for next hop `hop` (multicast: its group MAC), or -1 when the packet must wait (enqueue). */
  resolve(hop: Readonly<Ipv6Address>, now: number): number {
    if (ipv6IsMulticast(hop)) return multicastMacOf(hop);
    return this.cache.resolve(hop, now);
  }

  /** Handles an ND or MLD message (`type` at b[o], `len` bytes) of the IPv6 packet at b[ipOff]; `linkSrc` is the frame's source MAC (-1: reassembled). */
  input(type: number, b: Uint8Array, ipOff: number, o: number, len: number, linkSrc: number, now: number): void {
    if (linkSrc < 0) {
      this.counters[C.drop_nd_invalid]++; // RFC 6980: no ND in fragments
      return;
    }
    switch (type) {
      case ICMPV6_NEIGHBOR_SOLICITATION:
        this.counters[C.nd_ns_rx]++;
        this.onSolicitation(b, ipOff, o, len, linkSrc, now);
        return;
      case ICMPV6_NEIGHBOR_ADVERTISEMENT:
        this.counters[C.nd_na_rx]++;
        this.onAdvertisement(b, ipOff, o, len, now);
        return;
      case ICMPV6_ROUTER_ADVERTISEMENT:
        this.counters[C.nd_ra_rx]++;
        this.onRouterAdvertisement(b, ipOff, o, len, now);
        return;
      case ICMPV6_MLD_QUERY:
        this.counters[C.mld_queries_rx]++;
        if (!this.speaks) return;
        if (len >= MLD_QUERY_MIN_LEN && ipv6IsLinkLocal(readIpv6(b, ipOff + IPV6_SRC_OFFSET, this.scratchSrc))) {
          this.reportRecord = MLD_MODE_IS_EXCLUDE;
          const at = Math.max(now, this.lastReport + this.limits.mldReportIntervalMs);
          if (at < this.reportDue) this.reportDue = at;
        } else {
          this.counters[C.drop_nd_invalid]++;
        }
        return;
      default:
        // Router solicitations (hosts discard them, RFC 4861 6.2.6), redirects, other reports.
        this.counters[C.icmpv6_other_rx]++;
    }
  }

  /** Runs DAD, router solicitation, MLD, router expiry and neighbour cache timers due at `now`. */
  poll(now: number): void {
    for (const e of this.addresses.entries) {
      if (e.state !== 'TENTATIVE' || e.dadDeadline > now) continue;
      if (e.dadSent < this.limits.dadTransmits) {
        this.sendDad(e, now);
        continue;
      }
      e.state = 'PREFERRED';
      e.dadDeadline = Infinity;
      this.counters[C.nd_dad_ok]++;
      if (e.address === this.linkLocal && this.speaks) {
        // Usable at last: ask for routers, and report our groups again from a real source.
        this.rsNext = now;
        this.reportRecord = MLD_CHANGE_TO_EXCLUDE;
        this.reportDue = now;
      }
    }
    if (this.rsNext <= now) {
      if (this.routerHeard || this.rsSent >= this.limits.maxRouterSolicitations) this.rsNext = Infinity;
      else {
        this.sendRouterSolicitation();
        this.rsSent++;
        this.rsNext = now + this.limits.routerSolicitationIntervalMs;
      }
    }
    if (this.reportDue <= now) this.sendReport(this.reportRecord, now);
    for (let i = this.routers.length - 1; i >= 0; i--) if (this.routers[i].expires <= now) this.routers.splice(i, 1);
    this.counters[C.nd_default_routers] = this.routers.length;
    this.cache.poll(now);
  }

  /** The earliest time poll() has work, or Infinity. */
  nextDeadline(): number {
    let d = Math.min(this.rsNext, this.reportDue, this.cache.nextDeadline());
    for (const e of this.addresses.entries) if (e.state === 'TENTATIVE' && e.dadDeadline < d) d = e.dadDeadline;
    for (const r of this.routers) if (r.expires < d) d = r.expires;
    return d;
  }

  /**
   * DAD without probes, in a shard that does not speak (decision 0030): the address stays
   * TENTATIVE while the speaking shard's probe may be answered — the advertisements and
   * solicitations that make it DUPLICATE reach every shard — and one RetransTimer longer,
   * for the shards starting a little apart; then it is PREFERRED, as in shard 0.
   */
  private watchDad(e: OwnAddress, now: number): void {
    if (e.state !== 'TENTATIVE') return; // a defence was heard before start()
    e.dadSent = this.limits.dadTransmits;
    e.dadDeadline = now + (this.limits.dadTransmits + 1) * this.cache.limits.retransMs;
  }

  private beginDad(e: OwnAddress, now: number): void {
    e.dadSent = 0;
    e.dadDeadline = now;
    this.sendDad(e, now);
  }

  private sendDad(e: OwnAddress, now: number): void {
    e.dadSent++;
    e.dadDeadline = now + this.cache.limits.retransMs;
    this.sendNs(IPV6_UNSPECIFIED, solicitedNodeOf(e.address), -1, e.address);
  }

  private markDuplicate(e: OwnAddress): void {
    e.state = 'DUPLICATE';
    e.dadDeadline = Infinity;
    this.counters[C.nd_dad_duplicates]++;
  }

  /** RFC 4861 7.1.1 validation, then 7.2.3 (learn the sender) and 7.2.4 (answer); RFC 4862 5.4.3 for tentative targets. */
  private onSolicitation(b: Uint8Array, ipOff: number, o: number, len: number, linkSrc: number, now: number): void {
    const src = readIpv6(b, ipOff + IPV6_SRC_OFFSET, this.scratchSrc);
    const end = o + len;
    const optStart = o + ND_NS_NA_LEN;
    if (!this.validNd(b, ipOff, o, len, ND_NS_NA_LEN) || b[o + ND_TARGET_OFFSET] === 0xff) {
      this.counters[C.drop_nd_invalid]++;
      return;
    }
    const slla = ndFindOption(b, optStart, end, ND_OPT_SOURCE_LLA);
    const fromUnspecified = ipv6IsUnspecified(src);
    if (fromUnspecified && (slla >= 0 || b[ipOff + IPV6_DST_OFFSET] !== 0xff)) {
      this.counters[C.drop_nd_invalid]++; // DAD probes go to a solicited-node group and carry no address
      return;
    }
    const own = this.addresses.findAt(b, o + ND_TARGET_OFFSET);
    if (own === undefined) return; // a solicited-node group we share with someone else
    if (own.state === 'TENTATIVE') {
      if (fromUnspecified) this.markDuplicate(own); // another node's DAD for our address
      return;
    }
    if (own.state === 'DUPLICATE') return;
    const sllaMac = slla >= 0 && ndOptionLength(b, slla) >= ND_OPT_LLA_LEN ? ndOptionMac(b, slla) : -1;
    if (!fromUnspecified && sllaMac >= 0) this.cache.learn(src, sllaMac, now);
    if (!this.speaks) return;
    // Answer: to all-nodes for a DAD probe (S clear), else to the sender (S set).
    const target = own.address;
    if (fromUnspecified) this.sendNa(target, IPV6_ALL_NODES, multicastMacOf(IPV6_ALL_NODES), NA_OVERRIDE);
    else this.sendNa(target, src, sllaMac >= 0 ? sllaMac : linkSrc, NA_SOLICITED | NA_OVERRIDE);
  }

  /** RFC 4861 7.1.2 validation, RFC 4862 5.4.4 (a tentative address is a duplicate), 7.2.5 in the cache. */
  private onAdvertisement(b: Uint8Array, ipOff: number, o: number, len: number, now: number): void {
    const flags = naFlags(b, o);
    if (!this.validNd(b, ipOff, o, len, ND_NS_NA_LEN) || b[o + ND_TARGET_OFFSET] === 0xff ||
        (b[ipOff + IPV6_DST_OFFSET] === 0xff && (flags & NA_SOLICITED) !== 0)) {
      this.counters[C.drop_nd_invalid]++;
      return;
    }
    const own = this.addresses.findAt(b, o + ND_TARGET_OFFSET);
    if (own !== undefined) {
      if (own.state === 'TENTATIVE') this.markDuplicate(own);
      return; // someone else claims a preferred address of ours: keep it (RFC 4862 5.4.4 leaves this open)
    }
    const tlla = ndFindOption(b, o + ND_NS_NA_LEN, o + len, ND_OPT_TARGET_LLA);
    const mac = tlla >= 0 && ndOptionLength(b, tlla) >= ND_OPT_LLA_LEN ? ndOptionMac(b, tlla) : -1;
    const target = readIpv6(b, o + ND_TARGET_OFFSET, this.scratchTarget);
    this.cache.advertised(target, mac, (flags & NA_SOLICITED) !== 0, (flags & NA_OVERRIDE) !== 0, (flags & NA_ROUTER) !== 0, now);
  }

  /** RFC 4861 6.1.2 validation and 6.3.4 processing. */
  private onRouterAdvertisement(b: Uint8Array, ipOff: number, o: number, len: number, now: number): void {
    const src = readIpv6(b, ipOff + IPV6_SRC_OFFSET, this.scratchSrc);
    if (!this.validNd(b, ipOff, o, len, ND_RA_LEN) || !ipv6IsLinkLocal(src)) {
      this.counters[C.drop_nd_invalid]++;
      return;
    }
    this.routerHeard = true;
    const hop = raCurHopLimit(b, o);
    if (hop !== 0) this.hopLimit = hop;
    const reachable = raReachableTime(b, o);
    if (reachable !== 0 && reachable <= 3_600_000) this.cache.limits.reachableMs = reachable;
    const retrans = raRetransTimer(b, o);
    if (retrans !== 0) this.cache.limits.retransMs = retrans;
    const end = o + len;
    const mtuOpt = ndFindOption(b, o + ND_RA_LEN, end, ND_OPT_MTU);
    if (mtuOpt >= 0 && ndOptionLength(b, mtuOpt) === 8) {
      const m = ndOptionMtu(b, mtuOpt);
      if (m >= 1280 && m <= this.mtu) this.mtu = m;
    }
    const slla = ndFindOption(b, o + ND_RA_LEN, end, ND_OPT_SOURCE_LLA);
    if (slla >= 0 && ndOptionLength(b, slla) >= ND_OPT_LLA_LEN) this.cache.learn(src, ndOptionMac(b, slla), now, true);
    const lifetime = raRouterLifetime(b, o);
    const i = this.routers.findIndex((r) => ipv6Equals(r.address, src));
    if (lifetime === 0) {
      if (i >= 0) this.routers.splice(i, 1);
    } else if (i >= 0) {
      this.routers[i].expires = now + lifetime * 1000;
    } else if (this.routers.length >= this.limits.maxRouters) {
      this.counters[C.drop_nd_router_list_full]++;
    } else {
      this.routers.push({ address: ipv6(src[0], src[1], src[2], src[3]), expires: now + lifetime * 1000 });
    }
    this.counters[C.nd_default_routers] = this.routers.length;
  }

  /** Common checks of RFC 4861 6.1/7.1: hop limit 255, code 0, the fixed part present, options well formed. */
  private validNd(b: Uint8Array, ipOff: number, o: number, len: number, fixed: number): boolean {
    return ipv6HopLimit(b, ipOff) === ND_HOP_LIMIT && icmpv6Code(b, o) === 0 && len >= fixed && ndOptionsValid(b, o + fixed, o + len);
  }

  /** A solicitation for `target` to resolve it (mac -1: to its solicited-node group) or probe it (unicast to `mac`), RFC 4861 7.2.2. */
  private sendSolicitation(target: Readonly<Ipv6Address>, mac: number): void {
    const src = this.addresses.selectSource(target);
    if (ipv6IsUnspecified(src)) return; // no usable address yet: the cache retries
    const dst = mac < 0 ? solicitedNodeOf(target) : target;
    this.sendNs(src, dst, mac < 0 ? multicastMacOf(dst) : mac, target);
  }

  private sendNs(src: Readonly<Ipv6Address>, dst: Readonly<Ipv6Address>, mac: number, target: Readonly<Ipv6Address>): void {
    const withLla = !ipv6IsUnspecified(src);
    const len = ND_NS_NA_LEN + (withLla ? ND_OPT_LLA_LEN : 0);
    const o = this.begin(mac < 0 ? multicastMacOf(dst) : mac, src, dst, len);
    if (o < 0) return;
    const b = this.out.buf;
    writeNsNa(b, o, ICMPV6_NEIGHBOR_SOLICITATION, 0, target);
    if (withLla) writeLlaOption(b, o + ND_NS_NA_LEN, ND_OPT_SOURCE_LLA, this.mac);
    this.finish(o, len);
    this.counters[C.nd_ns_tx]++;
  }

  private sendNa(target: Readonly<Ipv6Address>, dst: Readonly<Ipv6Address>, mac: number, flags: number): void {
    const len = ND_NS_NA_LEN + ND_OPT_LLA_LEN;
    const o = this.begin(mac, target, dst, len);
    if (o < 0) return;
    const b = this.out.buf;
    writeNsNa(b, o, ICMPV6_NEIGHBOR_ADVERTISEMENT, flags, target);
    writeLlaOption(b, o + ND_NS_NA_LEN, ND_OPT_TARGET_LLA, this.mac);
    this.finish(o, len);
    this.counters[C.nd_na_tx]++;
  }

  private sendRouterSolicitation(): void {
    const len = ND_RS_LEN + ND_OPT_LLA_LEN;
    const o = this.begin(multicastMacOf(IPV6_ALL_ROUTERS), this.linkLocal, IPV6_ALL_ROUTERS, len);
    if (o < 0) return;
    const b = this.out.buf;
    writeRs(b, o);
    writeLlaOption(b, o + ND_RS_LEN, ND_OPT_SOURCE_LLA, this.mac);
    this.finish(o, len);
    this.counters[C.nd_rs_tx]++;
  }

  /** An MLDv2 report of every group we listen to (RFC 3810 5.2), hop limit 1, with Router Alert. */
  private sendReport(recordType: number, now: number): void {
    this.reportDue = Infinity;
    this.lastReport = now;
    const groups = this.addresses.reportedGroups();
    const len = MLDV2_REPORT_HEADER_LEN + groups.length * MLDV2_RECORD_LEN;
    const ip = ETH_HEADER_LEN;
    const frameLen = ETH_HEADER_LEN + IPV6_HEADER_LEN + MLD_HOP_BY_HOP_LEN + len;
    if (frameLen > MAX_ND_FRAME) return;
    const f = this.out.reserve(frameLen);
    if (f < 0) return;
    const b = this.out.buf;
    const ll = this.addresses.find(this.linkLocal);
    const src = ll?.state === 'PREFERRED' ? this.linkLocal : IPV6_UNSPECIFIED;
    writeEthernetHeader(b, f, multicastMacOf(IPV6_ALL_MLDV2_ROUTERS), this.mac, ETHERTYPE_IPV6);
    writeIpv6Header(b, f + ip, MLD_HOP_BY_HOP_LEN + len, NH_HOP_BY_HOP, 1, src, IPV6_ALL_MLDV2_ROUTERS);
    writeMldHopByHop(b, f + ip + IPV6_HEADER_LEN);
    const o = f + ip + IPV6_HEADER_LEN + MLD_HOP_BY_HOP_LEN;
    writeMldv2Report(b, o, ICMPV6_MLDV2_REPORT, recordType, groups);
    fillIcmpv6Checksum(b, f + ip, o, len);
    this.out.commit(frameLen);
    this.counters[C.mld_reports_tx]++;
    this.counters[C.ipv6_tx]++;
  }

  /** Reserves an ND frame to `mac` from `src` to `dst` (hop limit 255) with `len` ICMPv6 bytes; the offset of the ICMPv6 message, or -1. */
  private begin(mac: number, src: Readonly<Ipv6Address>, dst: Readonly<Ipv6Address>, len: number): number {
    const f = this.out.reserve(ETH_HEADER_LEN + IPV6_HEADER_LEN + len);
    if (f < 0) return -1;
    const b = this.out.buf;
    writeEthernetHeader(b, f, mac, this.mac, ETHERTYPE_IPV6);
    writeIpv6Header(b, f + ETH_HEADER_LEN, len, NH_ICMPV6, ND_HOP_LIMIT, src, dst);
    return f + ETH_HEADER_LEN + IPV6_HEADER_LEN;
  }

  /** Checksums and commits the frame begun at ICMPv6 offset `o`. */
  private finish(o: number, len: number): void {
    fillIcmpv6Checksum(this.out.buf, o - IPV6_HEADER_LEN, o, len);
    this.out.commit(ETH_HEADER_LEN + IPV6_HEADER_LEN + len);
    this.counters[C.ipv6_tx]++;
  }
}
