/**
 * The routing table (l3/route-table.ts): RFC 1122 3.3.1 (the subnet is reached directly,
 * everything else through a gateway; routes to particular networks beside the default)
 * and RFC 1812 5.2.4.3 (the longest matching prefix wins); and on a Host, datagrams to
 * two networks leave towards two different gateways (their MACs from ARP).
 */
import { describe, expect, it } from 'vitest';
import { Host } from '../../../src/iface/host.js';
import { newCounters, C } from '../../../src/base/counters.js';
import { NO_ROUTE, RouteTable } from '../../../src/l3/route-table.js';
import { BROADCAST_MAC, parseIpv4, parseMac } from '../../../src/wire/addresses.js';
import { ethDst } from '../../../src/wire/ethernet.js';
import { ipDst } from '../../../src/wire/ipv4.js';
import { VirtualWire } from '../../helpers/virtual-wire.js';
import { IPPROTO_ICMP, arpFrame, icmpEcho, ipv4Frame, patternBytes } from '../../helpers/frames.js';

const ip = parseIpv4;
const OUR_IP = ip('10.10.0.4');
const GW_A = ip('10.10.0.254');
const GW_B = ip('10.10.0.253');
const DEFAULT_GW = ip('10.10.0.1');

function table(gateway = 0) {
  return new RouteTable({
    ip: OUR_IP, prefixLength: 24, gateway,
    routes: [
      { dest: ip('10.20.0.0'), prefixLength: 16, gateway: GW_A },
      { dest: ip('10.20.5.0'), prefixLength: 24, gateway: GW_B },
      { dest: ip('10.10.0.128'), prefixLength: 25, gateway: GW_B },
    ],
  });
}

describe('RFC 1122 3.3.1 / RFC 1812 5.2.4.3: longest-prefix match', () => {
  it('RFC 1122 3.3.1.1: a destination on our subnet is its own next hop', () => {
    expect(table().lookup(ip('10.10.0.3'))).toBe(ip('10.10.0.3'));
  });

  it('RFC 1812 5.2.4.3: the longest matching prefix wins (a /24 inside a /16 goes to its own gateway)', () => {
    const t = table(DEFAULT_GW);
    expect(t.lookup(ip('10.20.9.9'))).toBe(GW_A);
    expect(t.lookup(ip('10.20.5.9'))).toBe(GW_B);
    // More specific than the subnet: a /25 inside our /24 goes through its gateway.
    expect(t.lookup(ip('10.10.0.200'))).toBe(GW_B);
    expect(t.lookup(ip('10.10.0.100'))).toBe(ip('10.10.0.100'));
  });

  it('RFC 1122 3.3.1.2: anything else goes to the default gateway, or nowhere without one', () => {
    expect(table(DEFAULT_GW).lookup(ip('192.0.2.1'))).toBe(DEFAULT_GW);
    expect(table(0).lookup(ip('192.0.2.1'))).toBe(NO_ROUTE);
    expect(table(0).lookup(ip('10.21.0.1'))).toBe(NO_ROUTE);
    expect(table(DEFAULT_GW).size).toBe(5);
  });
});

describe('a Host with two gateways', () => {
  it('RFC 1122 3.3.1: echo replies to two far networks leave through the gateway of each (ARP asks for the gateway, not the destination)', () => {
    const wire = new VirtualWire();
    const counters = newCounters();
    const host = new Host({
      mac: parseMac('02:00:00:00:00:04'), ip: OUR_IP, prefixLength: 24, gateway: 0, mtu: 1500,
      shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64,
      routes: [{ dest: ip('10.20.0.0'), prefixLength: 24, gateway: GW_A }, { dest: ip('10.30.0.0'), prefixLength: 24, gateway: GW_B }],
    }, wire, counters);
    const macA = parseMac('02:00:00:00:00:aa');
    const macB = parseMac('02:00:00:00:00:bb');
    const ourMac = parseMac('02:00:00:00:00:04');
    for (const [m, a] of [[macA, GW_A], [macB, GW_B]] as const) {
      const f = arpFrame(BROADCAST_MAC, 1, m, a, 0, OUR_IP);
      host.receive(f, 0, f.length, 0);
    }
    wire.take();
    for (const [src, via] of [[ip('10.20.0.7'), macA], [ip('10.30.0.7'), macB]] as const) {
      const f = ipv4Frame(ourMac, via, src, OUR_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(8)));
      host.receive(f, 0, f.length, 0);
    }
    const out = wire.take();
    expect(out.map((f) => [ethDst(f, 0), ipDst(f, 14)])).toEqual([[macA, ip('10.20.0.7')], [macB, ip('10.30.0.7')]]);
    // A network no route covers: dropped and counted.
    const f = ipv4Frame(ourMac, macA, ip('10.40.0.7'), OUR_IP, IPPROTO_ICMP, icmpEcho(1, 1, patternBytes(8)));
    host.receive(f, 0, f.length, 0);
    expect(wire.take()).toEqual([]);
    expect(counters[C.drop_ipv4_no_route]).toBe(1);
  });
});
