/**
 * The sans-I/O core on a virtual wire with a virtual clock: ARP, ICMP echo (small and
 * fragmented), UDP echo and port unreachable, next-hop resolution, shard ownership of
 * reassembled datagrams, and drops by reason for bad input.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Host } from '../../../src/iface/host.js';
import { C, newCounters } from '../../../src/base/counters.js';
import type { HostConfig } from '../../../src/base/host-config.js';
import { hashFourTuple, shardOf } from '../../../src/base/flow-hash.js';
import { startUdpEcho } from '../../../src/services/udp-echo.js';
import { DEFAULT_ARP_RESOLVER_LIMITS } from '../../../src/l2/arp-layer.js';
import { parseIpv4, parseMac, BROADCAST_MAC } from '../../../src/wire/addresses.js';
import { arpOp, arpSha, arpSpa, arpTha, arpTpa } from '../../../src/wire/arp.js';
import { internetChecksum } from '../../../src/wire/checksum.js';
import { ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ethDst, ethSrc, ethType } from '../../../src/wire/ethernet.js';
import {
  ipDst, ipFragmentOffset, ipHeaderLength, ipMoreFragments, ipProtocol, ipSrc, ipTotalLength, ipTtl, validateIpv4,
} from '../../../src/wire/ipv4.js';
import { udpChecksumValid, udpDstPort, udpSrcPort } from '../../../src/wire/udp.js';
import { VirtualWire } from '../../helpers/virtual-wire.js';
import {
  IPPROTO_ICMP, IPPROTO_UDP, arpFrame, fragmentFrames, icmpEcho, ipv4Frame, patternBytes, udpDatagram,
} from '../../helpers/frames.js';

const OUR_IP = parseIpv4('10.10.0.4');
const OUR_MAC = parseMac('02:00:00:00:00:04');
const PEER_IP = parseIpv4('10.10.0.3');
const PEER_MAC = parseMac('02:00:00:00:00:03');
const OTHER_IP = parseIpv4('10.10.0.9');

function config(over: Partial<HostConfig> = {}): HostConfig {
  return {
    mac: OUR_MAC, ip: OUR_IP, prefixLength: 24, gateway: 0, mtu: 1500,
    shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64, ...over,
  };
}

function setup(over: Partial<HostConfig> = {}) {
  const wire = new VirtualWire();
  const counters = newCounters();
  const foreign: Uint8Array[] = [];
  const host = new Host(config(over), wire, counters, (b, off, len) => foreign.push(b.slice(off, off + len)));
  startUdpEcho(host);
  const rx = (f: Uint8Array, now = 0) => host.receive(f, 0, f.length, now);
  return { wire, counters, host, rx, foreign };
}

/** Teaches the host the peer's MAC the way a real peer does: by asking for ours. */
function learnPeer(s: ReturnType<typeof setup>) {
  s.rx(arpFrame(BROADCAST_MAC, 1, PEER_MAC, PEER_IP, 0, OUR_IP));
  s.wire.take();
}

describe('ARP (RFC 826)', () => {
  it('answers a request for our address with one reply carrying our MAC', () => {
    const s = setup();
    s.rx(arpFrame(BROADCAST_MAC, 1, PEER_MAC, PEER_IP, 0, OUR_IP));
    const out = s.wire.take();
    expect(out).toHaveLength(1);
    const f = out[0];
    expect(f.length).toBe(60);
    expect(ethDst(f, 0)).toBe(PEER_MAC);
    expect(ethSrc(f, 0)).toBe(OUR_MAC);
    expect(ethType(f, 0)).toBe(ETHERTYPE_ARP);
    const a = ETH_HEADER_LEN;
    expect([arpOp(f, a), arpSha(f, a), arpSpa(f, a), arpTha(f, a), arpTpa(f, a)]).toEqual([2, OUR_MAC, OUR_IP, PEER_MAC, PEER_IP]);
    expect(s.counters[C.arp_replies_tx]).toBe(1);
    expect(s.host.arp.cache.lookup(PEER_IP, 0)).toBe(PEER_MAC);
  });

  it('a shard that does not answer ARP still learns the sender (RFC 826 "add if target is us")', () => {
    const s = setup({ answersArp: false, shardIndex: 2, shardCount: 4 });
    s.rx(arpFrame(BROADCAST_MAC, 1, PEER_MAC, PEER_IP, 0, OUR_IP));
    expect(s.wire.take()).toHaveLength(0);
    expect(s.host.arp.cache.lookup(PEER_IP, 0)).toBe(PEER_MAC);
  });

  it('ignores requests for other addresses without learning (and counts them)', () => {
    const s = setup();
    s.rx(arpFrame(BROADCAST_MAC, 1, PEER_MAC, PEER_IP, 0, OTHER_IP));
    expect(s.wire.take()).toHaveLength(0);
    expect(s.host.arp.cache.lookup(PEER_IP, 0)).toBe(-1);
    expect(s.counters[C.drop_arp_not_for_us]).toBe(1);
  });

  it('merges a known sender even when the request is for someone else', () => {
    const s = setup();
    learnPeer(s);
    const NEW_MAC = parseMac('02:00:00:00:00:33');
    s.rx(arpFrame(BROADCAST_MAC, 1, NEW_MAC, PEER_IP, 0, OTHER_IP), 10);
    expect(s.host.arp.cache.lookup(PEER_IP, 10)).toBe(NEW_MAC);
  });

  it('drops ARP with wrong lengths or types and keeps answering', () => {
    const s = setup();
    const bad = arpFrame(BROADCAST_MAC, 1, PEER_MAC, PEER_IP, 0, OUR_IP);
    bad[ETH_HEADER_LEN + 4] = 5; // hlen 5
    s.rx(bad);
    const truncated = arpFrame(BROADCAST_MAC, 1, PEER_MAC, PEER_IP, 0, OUR_IP).slice(0, 30);
    s.rx(truncated);
    expect(s.counters[C.drop_arp_malformed]).toBe(2);
    expect(s.wire.take()).toHaveLength(0);
    s.rx(arpFrame(BROADCAST_MAC, 1, PEER_MAC, PEER_IP, 0, OUR_IP));
    expect(s.wire.take()).toHaveLength(1);
  });

  it('announces itself with a gratuitous ARP request (RFC 5227 2.3)', () => {
    const s = setup();
    s.host.arp.announce();
    const [f] = s.wire.take();
    expect(ethDst(f, 0)).toBe(BROADCAST_MAC);
    const a = ETH_HEADER_LEN;
    expect([arpOp(f, a), arpSha(f, a), arpSpa(f, a), arpTha(f, a), arpTpa(f, a)]).toEqual([1, OUR_MAC, OUR_IP, 0, OUR_IP]);
  });

  it('garbage-collects unused entries gcStaleMs after their last confirmation and evicts the oldest when full (counted)', () => {
    const wire = new VirtualWire();
    const counters = newCounters();
    const host = new Host(config(), wire, counters, () => {}, { arpCache: { maxEntries: 2, reachableMs: 500, gcStaleMs: 1000 } });
    for (let i = 1; i <= 3; i++) host.receive(arpFrame(BROADCAST_MAC, 1, PEER_MAC + i, PEER_IP + 100 + i, 0, OUR_IP), 0, 60, i);
    expect(host.arp.cache.size).toBe(2);
    expect(counters[C.arp_cache_evictions]).toBe(1);
    expect(host.arp.cache.lookup(PEER_IP + 101, 5)).toBe(-1);
    expect(host.arp.cache.lookup(PEER_IP + 103, 5)).toBe(PEER_MAC + 3);
    host.poll(1003);
    expect(host.arp.cache.size).toBe(0);
    expect(counters[C.arp_cache_entries]).toBe(0);
    expect(counters[C.arp_cache_gc]).toBe(2);
  });
});

describe('ICMP echo (RFC 792, RFC 1122 3.2.2.6)', () => {
  it('replies with the identical payload, swapped addresses, TTL 64 and valid checksums', () => {
    const s = setup();
    learnPeer(s);
    const data = patternBytes(56, 7);
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(0x4242, 9, data)));
    const [f] = s.wire.take();
    expect(f).toBeDefined();
    const ip = ETH_HEADER_LEN;
    expect(ethDst(f, 0)).toBe(PEER_MAC);
    expect(validateIpv4(f, ip, f.length - ip)).toBe(0);
    expect([ipSrc(f, ip), ipDst(f, ip), ipTtl(f, ip), ipProtocol(f, ip)]).toEqual([OUR_IP, PEER_IP, 64, IPPROTO_ICMP]);
    const icmp = ip + ipHeaderLength(f, ip);
    expect(f[icmp]).toBe(0);
    expect(internetChecksum(f, icmp, ipTotalLength(f, ip) - 20)).toBe(0);
    expect([...f.subarray(icmp + 4, icmp + 8)]).toEqual([0x42, 0x42, 0, 9]);
    expect(Buffer.from(f.subarray(icmp + 8))).toEqual(Buffer.from(data));
    expect(s.counters[C.icmp_echo_replies_tx]).toBe(1);
  });

  it('answers a datagram with TTL 1: a host does not drop for a low TTL (RFC 1122 3.2.1.7)', () => {
    const s = setup();
    learnPeer(s);
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(8)), { ttl: 1 }));
    expect(s.wire.take()).toHaveLength(1);
  });

  it('answers a 4000-byte ping that arrives in 3 fragments with 3 fragments carrying the same data', () => {
    const s = setup();
    learnPeer(s);
    const data = patternBytes(4000 - 8, 3);
    const frags = fragmentFrames(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(7, 1, data), 1500, 0x777);
    expect(frags).toHaveLength(3);
    // Out of order on purpose.
    s.rx(frags[2]);
    s.rx(frags[0]);
    expect(s.wire.take()).toHaveLength(0);
    s.rx(frags[1]);
    const out = s.wire.take();
    expect(out).toHaveLength(3);
    expect(out.map((f) => ipFragmentOffset(f, 14))).toEqual([0, 1480, 2960]);
    expect(out.map((f) => ipMoreFragments(f, 14))).toEqual([true, true, false]);
    for (const f of out) expect(f.length).toBeLessThanOrEqual(1514);
    const payload = Buffer.concat(out.map((f) => f.subarray(34)));
    expect(payload[0]).toBe(0); // echo reply
    expect(internetChecksum(payload, 0, payload.length)).toBe(0);
    expect(Buffer.from(payload.subarray(8))).toEqual(Buffer.from(data));
    expect(s.counters[C.ipv4_reassembled]).toBe(1);
    expect(s.counters[C.ipv4_fragments_tx]).toBe(3);
  });

  it('ignores echo requests sent to a broadcast address (counted)', () => {
    const s = setup();
    learnPeer(s);
    s.rx(ipv4Frame(BROADCAST_MAC, PEER_MAC, PEER_IP, parseIpv4('10.10.0.255'), IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(8))));
    expect(s.wire.take()).toHaveLength(0);
    expect(s.counters[C.icmp_echo_broadcast_ignored]).toBe(1);
  });

  it('drops an echo request with a bad ICMP checksum (counted)', () => {
    const s = setup();
    learnPeer(s);
    const m = icmpEcho(1, 1, patternBytes(8));
    m[10] ^= 0xff;
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, m));
    expect(s.wire.take()).toHaveLength(0);
    expect(s.counters[C.drop_icmp_checksum]).toBe(1);
  });
});

describe('next-hop resolution (RFC 1122 2.3.2)', () => {
  it('queues the reply, asks once per second, sends it when the answer comes', () => {
    const s = setup();
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(16))), 0);
    let out = s.wire.take();
    expect(out).toHaveLength(1);
    expect(ethType(out[0], 0)).toBe(ETHERTYPE_ARP);
    expect([arpOp(out[0], 14), arpTpa(out[0], 14)]).toEqual([1, PEER_IP]);
    expect(s.host.nextDeadline()).toBe(1000);
    s.host.poll(1000);
    expect(s.wire.take()).toHaveLength(1); // second request
    s.rx(arpFrame(OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP), 1200);
    out = s.wire.take();
    expect(out).toHaveLength(1);
    expect(ethType(out[0], 0)).toBe(ETHERTYPE_IPV4);
    expect(ethDst(out[0], 0)).toBe(PEER_MAC);
    expect(out[0][34]).toBe(0); // the echo reply
  });

  it('gives up after 3 requests and drops what waited (counted)', () => {
    const s = setup();
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(16))), 0);
    s.host.poll(1000);
    s.host.poll(2000);
    s.host.poll(3000);
    expect(s.wire.take().filter((f) => ethType(f, 0) === ETHERTYPE_ARP)).toHaveLength(3);
    expect(s.counters[C.arp_resolve_failed]).toBe(1);
    expect(s.counters[C.drop_arp_unresolved]).toBe(1);
    expect(s.counters[C.arp_pending_packets]).toBe(0);
    expect(s.host.nextDeadline()).toBe(Infinity);
  });

  it('keeps a burst of 20 datagrams for one unresolved destination and sends them all once it resolves', () => {
    // A new client opening 20 connections at once: 20 SYN-ACKs wait for one ARP reply
    // (Linux keeps up to unres_qlen_bytes, 212992 bytes, per neighbour). A queue of 4 lost 16.
    const s = setup();
    for (let i = 0; i < 20; i++) s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(1, i, patternBytes(16))), 0);
    expect(s.counters[C.arp_pending_packets]).toBe(20);
    expect(s.counters[C.drop_arp_pending_full]).toBe(0);
    expect(s.wire.take().filter((f) => ethType(f, 0) === ETHERTYPE_ARP)).toHaveLength(1); // one request for all of them
    s.rx(arpFrame(OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP), 1);
    const replies = s.wire.take().filter((f) => ethType(f, 0) === ETHERTYPE_IPV4);
    expect(replies.map((f) => f[ETH_HEADER_LEN + 20 + 7])).toEqual(Array.from({ length: 20 }, (_, i) => i)); // echo seq, in order
    expect(s.counters[C.arp_pending_packets]).toBe(0);
  });

  it('bounds the waiting queue per destination by datagrams and by bytes (counted)', () => {
    const s = setup();
    for (let i = 0; i < 70; i++) s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(1, i, patternBytes(16))), 0);
    expect(s.counters[C.arp_pending_packets]).toBe(DEFAULT_ARP_RESOLVER_LIMITS.maxPendingPerHost);
    expect(s.counters[C.drop_arp_pending_full]).toBe(70 - DEFAULT_ARP_RESOLVER_LIMITS.maxPendingPerHost);
    expect(DEFAULT_ARP_RESOLVER_LIMITS.maxPendingBytesPerHost).toBe(212_992); // Linux's unres_qlen_bytes
    // The byte bound (it matters for 64 KiB TSO segments): 5000 bytes hold three 1400-byte datagrams.
    const counters = newCounters();
    const wire = new VirtualWire();
    const host = new Host(config(), wire, counters, () => {}, { arpResolver: { ...DEFAULT_ARP_RESOLVER_LIMITS, maxPendingBytesPerHost: 5000 } });
    for (let i = 0; i < 5; i++) {
      const f = ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(1, i, patternBytes(1372)));
      host.receive(f, 0, f.length, 0);
    }
    expect(counters[C.arp_pending_packets]).toBe(3);
    expect(counters[C.drop_arp_pending_full]).toBe(2);
  });

  it('sends off-subnet traffic to the gateway, or drops it without one', () => {
    const far = parseIpv4('192.0.2.9');
    const s = setup();
    learnPeer(s);
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, far, OUR_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(8))));
    expect(s.wire.take()).toHaveLength(0);
    expect(s.counters[C.drop_ipv4_no_route]).toBe(1);
    const g = setup({ gateway: PEER_IP });
    learnPeer(g);
    g.rx(ipv4Frame(OUR_MAC, PEER_MAC, far, OUR_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(8))));
    const [f] = g.wire.take();
    expect(ethDst(f, 0)).toBe(PEER_MAC);
    expect(ipDst(f, 14)).toBe(far);
  });
});

describe('UDP (RFC 768, RFC 1122 4.1.3)', () => {
  it('echo service on port 7 returns the same bytes with a valid checksum', () => {
    const s = setup();
    learnPeer(s);
    const data = new TextEncoder().encode('hello\n');
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40000, 7, data)));
    const [f] = s.wire.take();
    const u = 34;
    expect([udpSrcPort(f, u), udpDstPort(f, u)]).toEqual([7, 40000]);
    expect(udpChecksumValid(f, u, f.length - u, OUR_IP, PEER_IP)).toBe(true);
    expect(f[u + 6] << 8 | f[u + 7]).not.toBe(0);
    expect(new TextDecoder().decode(f.subarray(u + 8))).toBe('hello\n');
  });

  it('echoes a 4000-byte datagram that arrives fragmented, fragmenting the answer', () => {
    const s = setup();
    learnPeer(s);
    const data = patternBytes(4000, 11);
    for (const fr of fragmentFrames(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40001, 7, data), 1500, 5)) s.rx(fr);
    const out = s.wire.take();
    expect(out).toHaveLength(3);
    const dg = Buffer.concat(out.map((f) => f.subarray(34)));
    expect(udpChecksumValid(dg, 0, dg.length, OUR_IP, PEER_IP)).toBe(true);
    expect(Buffer.from(dg.subarray(8))).toEqual(Buffer.from(data));
  });

  it('answers a closed port with ICMP port unreachable quoting the datagram', () => {
    const s = setup();
    learnPeer(s);
    const dgram = ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40000, 9999, patternBytes(20)));
    s.rx(dgram);
    const [f] = s.wire.take();
    const icmp = 34;
    expect([f[icmp], f[icmp + 1]]).toEqual([3, 3]);
    expect(internetChecksum(f, icmp, f.length - icmp)).toBe(0);
    expect(Buffer.from(f.subarray(icmp + 8))).toEqual(Buffer.from(dgram.subarray(14)));
    expect(s.counters[C.drop_udp_no_port]).toBe(1);
    expect(s.counters[C.icmp_unreachable_tx]).toBe(1);
  });

  it('does not answer a broadcast datagram to a closed port (RFC 1122 3.2.2)', () => {
    const s = setup();
    learnPeer(s);
    const bc = parseIpv4('10.10.0.255');
    s.rx(ipv4Frame(BROADCAST_MAC, PEER_MAC, PEER_IP, bc, IPPROTO_UDP, udpDatagram(PEER_IP, bc, 40000, 9999, patternBytes(4))));
    expect(s.wire.take()).toHaveLength(0);
  });

  it('rate-limits port unreachables: a burst of 50, then about 100 a second', () => {
    const s = setup();
    learnPeer(s);
    const f = ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40000, 9999, patternBytes(4)));
    for (let i = 0; i < 60; i++) s.rx(f, 0);
    expect(s.wire.take()).toHaveLength(50);
    expect(s.counters[C.icmp_unreachable_rate_limited]).toBe(10);
    for (let i = 0; i < 20; i++) s.rx(f, 100); // 100 ms later: 10 tokens
    expect(s.wire.take()).toHaveLength(10);
  });

  it('drops a datagram with a bad checksum or length (counted)', () => {
    const s = setup();
    learnPeer(s);
    const u = udpDatagram(PEER_IP, OUR_IP, 40000, 7, patternBytes(10));
    u[9] ^= 1;
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, u));
    const v = udpDatagram(PEER_IP, OUR_IP, 40000, 7, patternBytes(10));
    v[5] = 200; // length beyond the IP payload
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, v));
    expect(s.wire.take()).toHaveLength(0);
    expect(s.counters[C.drop_udp_checksum]).toBe(1);
    expect(s.counters[C.drop_udp_length]).toBe(1);
  });
});

describe('sharding of reassembled datagrams', () => {
  it('hands a reassembled UDP datagram to its owner shard when this shard does not own its 4-tuple', () => {
    const data = patternBytes(3000, 5);
    const owner = shardOf(hashFourTuple(PEER_IP, 40002, OUR_IP, 7, IPPROTO_UDP), 4);
    const notOwner = (owner + 1) % 4;
    const s = setup({ shardIndex: notOwner, shardCount: 4, answersArp: false });
    learnPeer(s);
    for (const fr of fragmentFrames(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40002, 7, data), 1500, 9)) s.rx(fr);
    expect(s.wire.take()).toHaveLength(0);
    expect(s.foreign).toHaveLength(1);
    expect(ipTotalLength(s.foreign[0], 0)).toBe(20 + 8 + 3000);
    const o = setup({ shardIndex: owner, shardCount: 4, answersArp: false });
    learnPeer(o);
    for (const fr of fragmentFrames(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 40002, 7, data), 1500, 9)) o.rx(fr);
    expect(o.foreign).toHaveLength(0);
    expect(o.wire.take()).toHaveLength(3);
  });
});

describe('bad input is dropped and counted by reason, never thrown', () => {
  it('counts each malformed frame under its own reason', () => {
    const s = setup();
    learnPeer(s);
    const good = () => ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(8)));
    s.rx(good().slice(0, 10));
    expect(s.counters[C.drop_eth_truncated]).toBe(1);
    const wrongMac = good(); wrongMac[5] = 0x99;
    s.rx(wrongMac);
    expect(s.counters[C.drop_eth_not_for_us]).toBe(1);
    const v6 = good(); v6[12] = 0x86; v6[13] = 0xdd;
    s.rx(v6);
    expect(s.counters[C.drop_eth_unknown_type]).toBe(1);
    const badSum = good(); badSum[14 + 10] ^= 0xff;
    s.rx(badSum);
    expect(s.counters[C.drop_ipv4_checksum]).toBe(1);
    const ihl = good(); ihl[14] = 0x44;
    s.rx(ihl);
    expect(s.counters[C.drop_ipv4_ihl]).toBe(1);
    s.rx(good().slice(0, 30));
    expect(s.counters[C.drop_ipv4_truncated]).toBe(1);
    s.rx(good().slice(0, 40));
    expect(s.counters[C.drop_ipv4_total_length]).toBe(1);
    const ver = good(); ver[14] = 0x65;
    s.rx(ver);
    expect(s.counters[C.drop_ipv4_version]).toBe(1);
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OTHER_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(8))));
    expect(s.counters[C.drop_ipv4_not_for_us]).toBe(1);
    expect(s.wire.take()).toHaveLength(0);
    s.rx(good());
    expect(s.wire.take()).toHaveLength(1);
    expect(s.counters[C.drop_internal_error]).toBe(0);
  });

  it('survives random bytes and random mutations of valid frames (property)', () => {
    const s = setup();
    learnPeer(s);
    const seeds = [
      ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(40))),
      ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 1, 7, patternBytes(40))),
      ...fragmentFrames(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, 1, 7, patternBytes(2000)), 576, 3),
      arpFrame(BROADCAST_MAC, 1, PEER_MAC, PEER_IP, 0, OUR_IP),
    ];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 200 }),
          fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat()).map(
            ([seed, muts, cut]) => {
              const f = seed.slice();
              for (const [i, v] of muts) f[i % f.length] = v;
              return f.slice(0, Math.max(0, f.length - (cut % 8)));
            },
          ),
        ),
        fc.integer({ min: 0, max: 100_000 }),
        (frame, t) => {
          s.host.receive(frame, 0, frame.length, t);
          s.host.poll(t);
          s.wire.take();
          return s.counters[C.drop_internal_error] === 0;
        },
      ),
      { numRuns: 3000, seed: 42 },
    );
    // Still answering.
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(8))), 200_000);
    expect(s.wire.take().length).toBeGreaterThanOrEqual(1);
  });

  it('counts a full TX sink instead of failing', () => {
    const s = setup();
    learnPeer(s);
    s.wire.room = 0;
    s.rx(ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(8))));
    expect(s.counters[C.drop_tx_ring_full]).toBe(1);
  });
});
