/**
 * RFC 7739 5.3.3 / RFC 6864 4: the IDs of our datagrams come from per-destination
 * counters behind a keyed hash (src/l3/ip-identifiers.ts): consecutive to one
 * destination, independent between destinations (no global counter to count or
 * predict), different from one secret to another.
 */
import { describe, expect, it } from 'vitest';
import { IpIdentifiers } from '../../../src/l3/ip-identifiers.js';
import { Host } from '../../../src/iface/host.js';
import { newCounters } from '../../../src/base/counters.js';
import { startUdpEcho } from '../../../src/services/udp-echo.js';
import { BROADCAST_MAC, parseIpv4, parseMac } from '../../../src/wire/addresses.js';
import { ETH_HEADER_LEN } from '../../../src/wire/ethernet.js';
import { ipDst, ipId } from '../../../src/wire/ipv4.js';
import { VirtualWire } from '../../helpers/virtual-wire.js';
import { IPPROTO_UDP, arpFrame, ipv4Frame, udpDatagram } from '../../helpers/frames.js';

const secret = (seed: number): Uint8Array => Uint8Array.from({ length: 16 }, (_, i) => (seed * 31 + i * 7) & 0xff);
const A = parseIpv4('10.10.0.3');
const B = parseIpv4('10.10.0.5');

describe('RFC 7739 5.3.3 identifiers per destination behind a keyed hash', () => {
  it('one destination: consecutive IDs; a super-frame of 45 segments takes 45', () => {
    const ids = new IpIdentifiers(secret(1));
    const first = ids.next(A, 17);
    expect(ids.next(A, 17)).toBe((first + 1) >>> 0);
    const before = ids.next(A, 6, 45);
    expect(ids.next(A, 6)).toBe((before + 45) >>> 0);
  });

  it('no global counter: datagrams to 200 other destinations leave most destinations\' next ID where it was', () => {
    const ids = new IpIdentifiers(secret(2));
    const probe = (d: number): number => {
      const v = ids.next(d, 17);
      return v;
    };
    // Next ID of 100 watched destinations, then traffic to 200 others, then again.
    const watched = Array.from({ length: 100 }, (_, i) => parseIpv4(`10.20.${i}.1`));
    const before = watched.map(probe);
    for (let i = 0; i < 200; i++) ids.next(parseIpv4(`10.30.${i}.1`), 17);
    const after = watched.map(probe);
    const undisturbed = watched.filter((_, i) => after[i] === ((before[i] + 1) >>> 0)).length;
    // A global counter would have moved every one by 201; with 2048 buckets and 200
    // other destinations a watched bucket is shared with about 10 % probability.
    expect(undisturbed).toBeGreaterThanOrEqual(75);
  });

  it('the secret decides the values: two stacks start a destination at different IDs, and first IDs are not a sequence', () => {
    const one = new IpIdentifiers(secret(3));
    const two = new IpIdentifiers(secret(4));
    expect(one.next(A, 17)).not.toBe(two.next(A, 17));
    const firsts = Array.from({ length: 50 }, (_, i) => new IpIdentifiers(secret(3)).next(parseIpv4(`10.40.${i}.1`), 17));
    const steps = firsts.slice(1).filter((v, i) => v === ((firsts[i] + 1) >>> 0)).length;
    expect(steps).toBeLessThan(3);
  });

  it('through the Host: UDP replies to two peers, interleaved, carry consecutive IDs per peer (not one counter shared)', () => {
    const wire = new VirtualWire();
    const us = parseIpv4('10.10.0.4');
    const ourMac = parseMac('02:00:00:00:00:04');
    const host = new Host(
      { mac: ourMac, ip: us, prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 },
      wire, newCounters(), () => {},
    );
    startUdpEcho(host);
    const macOf = (ip: number): number => parseMac(`02:00:00:00:00:${(ip & 0xff).toString(16).padStart(2, '0')}`);
    for (const ip of [A, B]) host.receive(arpFrame(BROADCAST_MAC, 1, macOf(ip), ip, 0, us), 0, 60, 1000);
    wire.take();
    for (let i = 0; i < 3; i++) {
      for (const ip of [A, B]) {
        const f = ipv4Frame(ourMac, macOf(ip), ip, us, IPPROTO_UDP, udpDatagram(ip, us, 5555, 7, new Uint8Array([i])));
        host.receive(f, 0, f.length, 1001 + i);
      }
    }
    const sent = wire.take();
    const idsTo = (ip: number): number[] => sent.filter((f) => ipDst(f, ETH_HEADER_LEN) === ip).map((f) => ipId(f, ETH_HEADER_LEN));
    for (const ip of [A, B]) {
      const got = idsTo(ip);
      expect(got).toHaveLength(3);
      expect(got).toEqual([got[0], (got[0] + 1) & 0xffff, (got[0] + 2) & 0xffff]);
    }
  });
});
