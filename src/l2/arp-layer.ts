/**
 * ARP for one worker: answers requests for our address, learns neighbours, and resolves
 * next hops for outgoing datagrams with a small bounded queue of waiting packets.
 *
 * RFC 826 (packet generation and reception, the merge rule), RFC 1122 2.3.2.1 (cache
 * flushing by "unicast poll": a STALE entry in use is refreshed with unicast requests to
 * its cached MAC, see arp-cache.ts; a host should not flood requests: at most one per
 * second per destination),
 * RFC 1122 2.3.2.2 (queue at least one packet per unresolved destination), RFC 5227 2.3
 * (gratuitous ARP announcement at start).
 */
import {
  ArpCheck,
  ARP_LEN, ARP_OP_REPLY, ARP_OP_REQUEST,
  arpOp, arpSha, arpSpa, arpTpa, validateArp, writeArp,
} from '../wire/arp.js';
import { BROADCAST_MAC } from '../wire/addresses.js';
import { ETH_HEADER_LEN, ETH_MIN_FRAME, ETHERTYPE_ARP, writeEthernetHeader } from '../wire/ethernet.js';
import { C, type Counters } from '../base/counters.js';
import type { HostConfig } from '../base/host-config.js';
import { ArpCache, type ArpCacheLimits } from './arp-cache.js';
import type { FrameOutput } from './frame-output.js';

/** Limits of the resolver's waiting queue and retries. */
export interface ArpResolverLimits {
  /** Datagrams kept per unresolved destination (RFC 1122 asks for at least one). */
  maxPendingPerHost: number;
  /** Bytes of datagrams kept per unresolved destination. */
  maxPendingBytesPerHost: number;
  /** Datagrams kept across all unresolved destinations. */
  maxPendingTotal: number;
  /** Bytes of datagrams kept across all unresolved destinations. */
  maxPendingBytesTotal: number;
  /** Requests sent before giving up on a destination. */
  maxTries: number;
  /** Time between requests for one destination (RFC 1122: at most one per second). */
  retryMs: number;
}

/**
 * Defaults: per destination 64 datagrams and 212992 bytes (Linux's unres_qlen_bytes: a new
 * client opening many connections at once gets every SYN-ACK), 1024 datagrams and 4 MiB
 * in all, 3 tries 1 s apart (as Linux's mcast_solicit=3).
 */
export const DEFAULT_ARP_RESOLVER_LIMITS: ArpResolverLimits = {
  maxPendingPerHost: 64, maxPendingBytesPerHost: 212_992, maxPendingTotal: 1024, maxPendingBytesTotal: 4 << 20, maxTries: 3, retryMs: 1000,
};

/** Called with each queued datagram once its next hop is resolved. */
export type ResolvedSender = (datagram: Uint8Array, mac: number) => void;

interface Pending {
  tries: number;
  nextTry: number;
  packets: Uint8Array[];
  bytes: number;
}

/** ARP input, replies, and next-hop resolution. */
export class ArpLayer {
  /** The neighbour cache (shared with IPv4 output for lookups). */
  readonly cache: ArpCache;
  private readonly pending = new Map<number, Pending>();
  private pendingTotal = 0;
  private pendingBytes = 0;
  private readonly limits: ArpResolverLimits;
  private onResolved: ResolvedSender = () => {};

  constructor(
    private readonly config: HostConfig,
    private readonly out: FrameOutput,
    private readonly counters: Counters,
    cacheLimits: Partial<ArpCacheLimits> = {},
    resolverLimits: Partial<ArpResolverLimits> = {},
  ) {
    this.cache = new ArpCache(counters, cacheLimits);
    this.limits = { ...DEFAULT_ARP_RESOLVER_LIMITS, ...resolverLimits };
  }

  /** Sets where resolved datagrams go (IPv4 output). */
  setResolvedSender(fn: ResolvedSender): void {
    this.onResolved = fn;
  }

  /** Handles an ARP packet at b[off..off+len) (after the Ethernet header). */
  input(b: Uint8Array, off: number, len: number, now: number): void {
    if (validateArp(b, off, len) !== ArpCheck.Ok) {
      this.counters[C.drop_arp_malformed]++;
      return;
    }
    const op = arpOp(b, off);
    const spa = arpSpa(b, off);
    const sha = arpSha(b, off);
    const tpa = arpTpa(b, off);
    if (op === ARP_OP_REQUEST) this.counters[C.arp_requests_rx]++;
    else this.counters[C.arp_replies_rx]++;

    const ours = this.config.ip;
    const senderValid = spa !== 0 && spa !== ours && sha !== BROADCAST_MAC && sha !== 0;
    // RFC 826 merge: refresh what we already know about the sender.
    let merged = false;
    if (senderValid && this.cache.has(spa)) {
      this.cache.set(spa, sha, now);
      merged = true;
    }
    if (tpa !== ours) {
      // A reply to a request we sent carries tpa = us, so this is someone else's business.
      if (!merged) this.counters[C.drop_arp_not_for_us]++;
      return;
    }
    if (senderValid && !merged) this.cache.set(spa, sha, now);
    if (senderValid) this.flush(spa, sha);
    if (op === ARP_OP_REQUEST && this.config.answersArp) this.send(ARP_OP_REPLY, sha, sha, spa);
  }

  /**
   * The MAC to send a datagram for `nextHop` to, or -1 when it must be resolved first
   * (enqueue). A STALE entry is still used, and its first use starts the unicast poll:
   * the first request goes out now, before the datagram (RFC 1122 2.3.2.1).
   */
  resolve(nextHop: number, now: number): number {
    const mac = this.cache.lookup(nextHop, now);
    if (mac >= 0 && this.cache.startProbe(nextHop, now)) this.cache.pollProbes(now, this.sendProbe);
    return mac;
  }

  /**
   * Queues a copy of an IPv4 datagram for `nextHop` until it resolves, sending an ARP
   * request if none is outstanding. Drops (counted) when the queue is full.
   */
  enqueue(nextHop: number, b: Uint8Array, off: number, len: number, now: number): void {
    let p = this.pending.get(nextHop);
    if (p === undefined) {
      p = { tries: 0, nextTry: now, packets: [], bytes: 0 };
      this.pending.set(nextHop, p);
    }
    const l = this.limits;
    if (p.packets.length >= l.maxPendingPerHost || p.bytes + len > l.maxPendingBytesPerHost ||
      this.pendingTotal >= l.maxPendingTotal || this.pendingBytes + len > l.maxPendingBytesTotal) {
      this.counters[C.drop_arp_pending_full]++;
    } else {
      p.packets.push(b.slice(off, off + len));
      p.bytes += len;
      this.pendingTotal++;
      this.pendingBytes += len;
      this.counters[C.arp_pending_packets] = this.pendingTotal;
    }
    if (p.nextTry <= now) this.request(nextHop, p, now);
  }

  /** Retries outstanding requests and gives up after maxTries; probes and garbage-collects the cache. */
  poll(now: number): void {
    for (const [ip, p] of this.pending) {
      if (p.nextTry > now) continue;
      if (p.tries >= this.limits.maxTries) {
        this.counters[C.arp_resolve_failed]++;
        this.counters[C.drop_arp_unresolved] += p.packets.length;
        this.forget(ip, p);
        continue;
      }
      this.request(ip, p, now);
    }
    this.counters[C.arp_pending_packets] = this.pendingTotal;
    this.cache.pollProbes(now, this.sendProbe);
    this.cache.expire(now);
  }

  /** Earliest time poll() has work: a retry, a probe or a garbage collection. */
  nextDeadline(): number {
    let d = this.cache.nextDeadline();
    for (const p of this.pending.values()) if (p.nextTry < d) d = p.nextTry;
    return d;
  }

  /** Sends a gratuitous ARP announcement of our address (RFC 5227 2.3). */
  announce(): void {
    this.send(ARP_OP_REQUEST, BROADCAST_MAC, 0, this.config.ip);
    this.counters[C.arp_gratuitous_tx]++;
  }

  /** One unicast poll of a cached neighbour: a request to its cached MAC (tha 0, as Linux's arp_solicit). */
  private readonly sendProbe = (ip: number, mac: number): void => {
    this.counters[C.arp_probes_tx]++;
    this.send(ARP_OP_REQUEST, mac, 0, ip);
  };

  private request(ip: number, p: Pending, now: number): void {
    p.tries++;
    p.nextTry = now + this.limits.retryMs;
    this.send(ARP_OP_REQUEST, BROADCAST_MAC, 0, ip);
  }

  private flush(ip: number, mac: number): void {
    const p = this.pending.get(ip);
    if (p === undefined) return;
    this.forget(ip, p);
    this.counters[C.arp_pending_packets] = this.pendingTotal;
    for (const d of p.packets) this.onResolved(d, mac);
  }

  /** Removes `ip`'s waiting queue from the books. */
  private forget(ip: number, p: Pending): void {
    this.pending.delete(ip);
    this.pendingTotal -= p.packets.length;
    this.pendingBytes -= p.bytes;
  }

  /** Builds and sends one ARP packet; `ethDst` is the frame's destination. */
  private send(op: number, ethDst: number, tha: number, tpa: number): void {
    const frameLen = Math.max(ETH_HEADER_LEN + ARP_LEN, ETH_MIN_FRAME);
    const o = this.out.reserve(frameLen);
    if (o < 0) return;
    const b = this.out.buf;
    writeEthernetHeader(b, o, ethDst, this.config.mac, ETHERTYPE_ARP);
    writeArp(b, o + ETH_HEADER_LEN, op, this.config.mac, this.config.ip, tha, tpa);
    b.fill(0, o + ETH_HEADER_LEN + ARP_LEN, o + frameLen); // padding to the 60-byte minimum
    this.out.commit(frameLen);
    if (op === ARP_OP_REPLY) this.counters[C.arp_replies_tx]++;
    else if (tpa !== this.config.ip) this.counters[C.arp_requests_tx]++;
  }
}
