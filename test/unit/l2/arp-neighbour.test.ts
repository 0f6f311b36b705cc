/**
 * ARP neighbour states on a virtual wire with a virtual clock: RFC 1122 2.3.2.1 option (2)
 * "unicast poll" and Linux's NUD_REACHABLE → NUD_STALE → NUD_PROBE. An entry past its
 * reachable time is still used (live traffic never waits for ARP); its first use sends
 * unicast requests to the cached MAC, 1 s apart; a reply makes it REACHABLE; three
 * unanswered probes delete it and the next packet resolves by broadcast; unused entries
 * are garbage-collected; the size cap holds.
 */
import { describe, expect, it } from 'vitest';
import { Host } from '../../../src/iface/host.js';
import { C, newCounters } from '../../../src/base/counters.js';
import { startUdpEcho } from '../../../src/services/udp-echo.js';
import { BROADCAST_MAC, parseIpv4, parseMac } from '../../../src/wire/addresses.js';
import { arpOp, arpSha, arpSpa, arpTha, arpTpa } from '../../../src/wire/arp.js';
import { ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, ethDst, ethSrc, ethType } from '../../../src/wire/ethernet.js';
import { ipDst } from '../../../src/wire/ipv4.js';
import { VirtualWire } from '../../helpers/virtual-wire.js';
import { IPPROTO_UDP, arpFrame, ipv4Frame, udpDatagram } from '../../helpers/frames.js';
import { PEER_MAC as TCP_PEER_MAC, TCP_ACK, TCP_PSH, TcpPeer } from '../../helpers/tcp-peer.js';

const OUR_IP = parseIpv4('10.10.0.4');
const OUR_MAC = parseMac('02:00:00:00:00:04');
const PEER_IP = parseIpv4('10.10.0.3');
const PEER_MAC = parseMac('02:00:00:00:00:03');
const T0 = 1000;

function setup(arpCache = {}) {
  const wire = new VirtualWire();
  const counters = newCounters();
  const host = new Host(
    { mac: OUR_MAC, ip: OUR_IP, prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 },
    wire, counters, () => {}, { arpCache },
  );
  startUdpEcho(host);
  // The peer asks for our MAC at T0: we learn it (REACHABLE) and answer.
  host.receive(arpFrame(BROADCAST_MAC, 1, PEER_MAC, PEER_IP, 0, OUR_IP), 0, 60, T0);
  wire.take();
  /** A UDP echo request from the peer at `now`: the echo reply is a packet we send to the peer. */
  const ping = (now: number, ip = PEER_IP, mac = PEER_MAC) => {
    const f = ipv4Frame(OUR_MAC, mac, ip, OUR_IP, IPPROTO_UDP, udpDatagram(ip, OUR_IP, 5555, 7, new Uint8Array([1, 2, 3])));
    host.receive(f, 0, f.length, now);
  };
  const c = (name: keyof typeof C) => counters[C[name]];
  return { wire, counters, host, ping, c };
}

/** [kind, ethDst, op, tha, tpa] of a frame: 'arp' with its fields, or 'ip' with the destination address. */
function summary(f: Uint8Array): Array<string | number> {
  const a = ETH_HEADER_LEN;
  if (ethType(f, 0) === ETHERTYPE_ARP) return ['arp', ethDst(f, 0), arpOp(f, a), arpTha(f, a), arpTpa(f, a)];
  if (ethType(f, 0) === ETHERTYPE_IPV4) return ['ip', ethDst(f, 0), ipDst(f, ETH_HEADER_LEN)];
  return ['other'];
}

describe('RFC 1122 2.3.2.1 unicast poll / Linux NUD states', () => {
  it('an entry used at t=61 s (past the 60 s reachable time) is still used: the reply goes out at once, to the cached MAC', () => {
    const s = setup();
    expect(s.host.arp.cache.state(PEER_IP, T0 + 59_999)).toBe('REACHABLE');
    expect(s.host.arp.cache.state(PEER_IP, T0 + 60_000)).toBe('STALE');
    s.host.poll(T0 + 61_000);
    s.ping(T0 + 61_000);
    const out = s.wire.take().map(summary);
    // The unicast poll (tha 0, as Linux) goes first, then the datagram: nothing was queued.
    expect(out).toEqual([['arp', PEER_MAC, 1, 0, PEER_IP], ['ip', PEER_MAC, PEER_IP]]);
    expect(s.c('arp_pending_packets')).toBe(0);
    expect(s.c('arp_probes_tx')).toBe(1);
    expect(s.c('arp_requests_tx')).toBe(1);
    expect(s.host.arp.cache.state(PEER_IP, T0 + 61_000)).toBe('PROBE');
  });

  it('the unicast poll is a request from us to the cached MAC: sha/spa ours, tha 0, tpa the neighbour', () => {
    const s = setup();
    s.ping(T0 + 61_000);
    const f = s.wire.take()[0];
    const a = ETH_HEADER_LEN;
    expect([ethDst(f, 0), ethSrc(f, 0), f.length]).toEqual([PEER_MAC, OUR_MAC, 60]);
    expect([arpOp(f, a), arpSha(f, a), arpSpa(f, a), arpTha(f, a), arpTpa(f, a)]).toEqual([1, OUR_MAC, OUR_IP, 0, PEER_IP]);
  });

  it('a reply to the poll makes the entry REACHABLE again: no more probes, and the next 60 s need none', () => {
    const s = setup();
    const t = T0 + 61_000;
    s.ping(t);
    s.wire.take();
    s.host.receive(arpFrame(OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP), 0, 60, t + 3);
    expect(s.host.arp.cache.state(PEER_IP, t + 3)).toBe('REACHABLE');
    s.host.poll(t + 5000);
    expect(s.wire.take()).toEqual([]);
    s.ping(t + 3 + 59_999);
    expect(s.wire.take().map(summary)).toEqual([['ip', PEER_MAC, PEER_IP]]);
    expect(s.c('arp_probes_tx')).toBe(1);
    expect(s.host.arp.cache.nextDeadline()).toBe(t + 3 + 600_000);
  });

  it('packets keep using the entry while it is probed; one poll per second, never one per packet', () => {
    const s = setup();
    const t = T0 + 61_000;
    for (let i = 0; i < 5; i++) s.ping(t + i * 100);
    const out = s.wire.take().map(summary);
    expect(out.filter((d) => d[0] === 'arp')).toHaveLength(1);
    expect(out.filter((d) => d[0] === 'ip')).toHaveLength(5);
  });

  it('no reply: 3 unicast polls 1 s apart, then the entry is deleted (counted) and the next packet waits for a broadcast request', () => {
    const s = setup();
    const t = T0 + 61_000;
    s.ping(t);
    s.wire.take();
    expect(s.host.nextDeadline()).toBe(t + 1000);
    s.host.poll(t + 1000);
    expect(s.wire.take().map(summary)).toEqual([['arp', PEER_MAC, 1, 0, PEER_IP]]);
    s.host.poll(t + 2000);
    expect(s.wire.take().map(summary)).toEqual([['arp', PEER_MAC, 1, 0, PEER_IP]]);
    expect(s.c('arp_probes_tx')).toBe(3);
    s.host.poll(t + 2999);
    expect(s.host.arp.cache.has(PEER_IP)).toBe(true);
    s.host.poll(t + 3000);
    expect(s.wire.take()).toEqual([]);
    expect(s.host.arp.cache.has(PEER_IP)).toBe(false);
    expect(s.c('arp_probe_failures')).toBe(1);
    expect(s.c('arp_cache_entries')).toBe(0);
    s.ping(t + 3500);
    expect(s.wire.take().map(summary)).toEqual([['arp', BROADCAST_MAC, 1, 0, PEER_IP]]);
    expect(s.c('arp_pending_packets')).toBe(1);
    // The broadcast answer releases the queued datagram.
    s.host.receive(arpFrame(OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP), 0, 60, t + 3501);
    expect(s.wire.take().map(summary)).toEqual([['ip', PEER_MAC, PEER_IP]]);
    expect(s.host.arp.cache.state(PEER_IP, t + 3501)).toBe('REACHABLE');
  });

  it('an ARP request from the neighbour while it is probed confirms it too (RFC 826 merge)', () => {
    const s = setup();
    const t = T0 + 61_000;
    s.ping(t);
    s.wire.take();
    s.host.receive(arpFrame(BROADCAST_MAC, 1, PEER_MAC, PEER_IP, 0, OUR_IP), 0, 60, t + 500);
    expect(s.wire.take().map(summary)).toEqual([['arp', PEER_MAC, 2, PEER_MAC, PEER_IP]]);
    expect(s.host.arp.cache.state(PEER_IP, t + 500)).toBe('REACHABLE');
    s.host.poll(t + 10_000);
    expect(s.wire.take()).toEqual([]);
    expect(s.c('arp_probe_failures')).toBe(0);
  });

  it('an unused entry stays STALE (no probes) and is garbage-collected gcStaleMs (10 min) after its last confirmation (counted)', () => {
    const s = setup();
    s.host.poll(T0 + 300_000);
    expect(s.host.arp.cache.state(PEER_IP, T0 + 300_000)).toBe('STALE');
    expect(s.host.nextDeadline()).toBe(T0 + 600_000);
    s.host.poll(T0 + 599_999);
    expect(s.host.arp.cache.has(PEER_IP)).toBe(true);
    s.host.poll(T0 + 600_000);
    expect(s.host.arp.cache.has(PEER_IP)).toBe(false);
    expect(s.wire.take()).toEqual([]);
    expect(s.c('arp_cache_gc')).toBe(1);
    expect(s.c('arp_probes_tx')).toBe(0);
    expect(s.c('arp_cache_entries')).toBe(0);
    expect(s.host.nextDeadline()).toBe(Infinity);
  });

  it('an entry probed across its garbage-collection age is decided by its probes, not collected (and the clock does not spin)', () => {
    const s = setup();
    const t = T0 + 599_500;
    s.ping(t);
    s.wire.take();
    expect(s.host.nextDeadline()).toBe(t + 1000);
    s.host.receive(arpFrame(OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP), 0, 60, t + 600);
    s.host.poll(t + 1000);
    expect(s.host.arp.cache.state(PEER_IP, t + 1000)).toBe('REACHABLE');
    expect(s.c('arp_cache_gc')).toBe(0);
  });

  it('the size cap still holds: the least recently confirmed entry is evicted (counted), STALE or not', () => {
    const s = setup({ maxEntries: 3 });
    const N = parseIpv4('10.10.0.20');
    for (let i = 1; i <= 3; i++) s.host.receive(arpFrame(BROADCAST_MAC, 1, PEER_MAC + i, N + i, 0, OUR_IP), 0, 60, T0 + i);
    s.wire.take();
    expect(s.host.arp.cache.size).toBe(3);
    expect(s.c('arp_cache_evictions')).toBe(1);
    expect(s.host.arp.cache.has(PEER_IP)).toBe(false);
    // The oldest entry is being probed when it is evicted: its probes stop with it.
    s.ping(T0 + 70_000, N + 1, PEER_MAC + 1);
    expect(s.host.arp.cache.state(N + 1, T0 + 70_000)).toBe('PROBE');
    s.wire.take();
    s.host.receive(arpFrame(BROADCAST_MAC, 1, PEER_MAC + 9, N + 9, 0, OUR_IP), 0, 60, T0 + 70_001);
    s.wire.take();
    expect(s.host.arp.cache.has(N + 1)).toBe(false);
    expect(s.c('arp_cache_evictions')).toBe(2);
    expect(s.c('arp_cache_entries')).toBe(3);
    s.host.poll(T0 + 75_000);
    expect(s.wire.take()).toEqual([]);
    expect(s.c('arp_probe_failures')).toBe(0);
  });
});

describe('ARP under live TCP traffic (the conformance bug: the peer entry expired after 60 s)', () => {
  it('a segment at t=61 s after the last ARP exchange is sent at once; the poll is answered and the entry is REACHABLE again', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen();
    const t = p.now;
    p.advance(61_000);
    p.otherFrames.length = 0;
    conn.send(new TextEncoder().encode('late'));
    p.flush();
    const seg = p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 4 });
    expect(seg.at).toBe(t + 61_000);
    expect(p.otherFrames.map((f) => [ethDst(f, 0), arpOp(f, ETH_HEADER_LEN)])).toEqual([[TCP_PEER_MAC, 1]]);
    expect(p.counter('arp_pending_packets')).toBe(0);
    expect(p.host.arp.cache.state(seg.dstIp, p.now)).toBe('REACHABLE');
  });
});
