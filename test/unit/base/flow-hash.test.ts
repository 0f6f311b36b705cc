/**
 * Flow hash (decision 0004): symmetric per 4-tuple for TCP/UDP, per address pair for
 * fragments and other protocols, ICMP errors steered by the flow they quote, ARP to all;
 * IPv6 (decision 0030): TCP/UDP by their 4-tuple with folded addresses, neighbour
 * discovery to all, the rest to shard 0.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FLOW_ALL, FLOW_SHARD0, flowHashOfFrame, foldIpv6Words, hashAddressPair, hashFourTuple, shardOf } from '../../../src/base/flow-hash.js';
import { IPV6_ALL_NODES, type Ipv6Address, parseIpv6, solicitedNodeOf } from '../../../src/wire/ipv6-address.js';
import { NH_DESTINATION_OPTIONS, NH_ICMPV6, NH_TCP, NH_UDP } from '../../../src/wire/ipv6.js';
import { echo6Frame, fragments6, icmpv6Message, ipv6Frame, ndFrame, optionsHeader } from '../../helpers/frames6.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_MF } from '../../../src/wire/ipv4.js';
import { arpFrame, icmpEcho, ipv4Frame, udpDatagram } from '../../helpers/frames.js';

const A = 0x0a0a0003;
const B = 0x0a0a0004;

/** A TCP/UDP-like L4 header with the given ports (checksums do not matter to the hash). */
function ports(sp: number, dp: number, len = 20): Uint8Array {
  const h = new Uint8Array(len);
  h[0] = sp >> 8; h[1] = sp & 0xff; h[2] = dp >> 8; h[3] = dp & 0xff;
  return h;
}

describe('flow hash', () => {
  it('is symmetric for every 4-tuple and address pair', () => {
    fc.assert(fc.property(fc.nat(0xffffffff), fc.nat(0xffff), fc.nat(0xffffffff), fc.nat(0xffff), (a, pa, b, pb) => {
      expect(hashFourTuple(a, pa, b, pb, IPPROTO_TCP)).toBe(hashFourTuple(b, pb, a, pa, IPPROTO_TCP));
      expect(hashAddressPair(a, b, IPPROTO_ICMP)).toBe(hashAddressPair(b, a, IPPROTO_ICMP));
    }));
  });

  it('TCP and UDP frames hash by their 4-tuple, the same in both directions', () => {
    const out = flowHashOfFrame(...whole(ipv4Frame(1, 2, A, B, IPPROTO_TCP, ports(40000, 80))));
    const back = flowHashOfFrame(...whole(ipv4Frame(2, 1, B, A, IPPROTO_TCP, ports(80, 40000))));
    expect(out).toBe(back);
    expect(out).toBe(hashFourTuple(A, 40000, B, 80, IPPROTO_TCP));
    const u = udpDatagram(A, B, 5000, 7, new Uint8Array(4));
    expect(flowHashOfFrame(...whole(ipv4Frame(1, 2, A, B, IPPROTO_UDP, u)))).toBe(hashFourTuple(A, 5000, B, 7, IPPROTO_UDP));
  });

  it('fragments (first, middle) and ICMP echo hash by the address pair', () => {
    const first = ipv4Frame(1, 2, A, B, IPPROTO_UDP, ports(1, 2), { flagsFragment: IPV4_MF });
    const later = ipv4Frame(1, 2, A, B, IPPROTO_UDP, new Uint8Array(8), { flagsFragment: 3 });
    expect(flowHashOfFrame(...whole(first))).toBe(hashAddressPair(A, B, IPPROTO_UDP));
    expect(flowHashOfFrame(...whole(later))).toBe(hashAddressPair(A, B, IPPROTO_UDP));
    expect(flowHashOfFrame(...whole(ipv4Frame(1, 2, A, B, IPPROTO_ICMP, icmpEcho(1, 1, new Uint8Array(8)))))).toBe(
      hashAddressPair(A, B, IPPROTO_ICMP),
    );
  });

  it('an ICMP error goes to the owner of the TCP/UDP flow it quotes (unreachable, time exceeded, parameter problem)', () => {
    // The datagram we sent (B → A), as a router quotes it back to us.
    const quoted = ipv4Frame(1, 2, B, A, IPPROTO_TCP, ports(80, 40000, 8)).subarray(14);
    for (const type of [3, 11, 12]) {
      const icmp = new Uint8Array(8 + quoted.length);
      icmp[0] = type;
      icmp.set(quoted, 8);
      const router = 0x0a0a0001;
      expect(flowHashOfFrame(...whole(ipv4Frame(1, 2, router, B, IPPROTO_ICMP, icmp)))).toBe(hashFourTuple(A, 40000, B, 80, IPPROTO_TCP));
    }
  });

  it('ARP reaches every worker; other EtherTypes and runts hash to 0', () => {
    expect(flowHashOfFrame(...whole(arpFrame(0xffffffffffff, 1, 2, A, 0, B)))).toBe(FLOW_ALL);
    const v6 = new Uint8Array(60);
    v6[12] = 0x86; v6[13] = 0xdd;
    expect(flowHashOfFrame(v6, 0, 60)).toBe(0);
    expect(flowHashOfFrame(new Uint8Array(10), 0, 10)).toBe(0);
    expect(flowHashOfFrame(ipv4Frame(1, 2, A, B, IPPROTO_TCP, new Uint8Array(0)), 0, 30)).toBe(0);
  });

  it('IPv6 TCP and UDP hash by their 4-tuple with each address folded (after options headers), symmetric', () => {
    const src = parseIpv6('fd00:10:10::3') as Ipv6Address;
    const dst = parseIpv6('fd00:10:10::4') as Ipv6Address;
    const fold = (a: Ipv6Address) => foldIpv6Words(a[0], a[1], a[2], a[3]);
    const want = hashFourTuple(fold(src), 40000, fold(dst), 80, NH_TCP);
    expect(flowHashOfFrame(...whole(ipv6Frame(4, 3, src, dst, NH_TCP, ports(40000, 80))))).toBe(want);
    expect(flowHashOfFrame(...whole(ipv6Frame(3, 4, dst, src, NH_TCP, ports(80, 40000))))).toBe(want);
    expect(flowHashOfFrame(...whole(ipv6Frame(4, 3, src, dst, NH_TCP, ports(40000, 80), { exts: [optionsHeader(NH_DESTINATION_OPTIONS, [])] })))).toBe(want);
    expect(flowHashOfFrame(...whole(ipv6Frame(4, 3, src, dst, NH_UDP, ports(5000, 7, 8))))).toBe(hashFourTuple(fold(src), 5000, fold(dst), 7, NH_UDP));
    // Spread over workers like IPv4 flows.
    const shards = new Set<number>();
    for (let p = 40000; p < 40064; p++) shards.add(shardOf(flowHashOfFrame(...whole(ipv6Frame(4, 3, src, dst, NH_TCP, ports(p, 80)))), 4));
    expect(shards.size).toBe(4);
  });

  it('IPv6 neighbour solicitations and advertisements and router advertisements reach every worker', () => {
    const src = parseIpv6('fd00:10:10::3') as Ipv6Address;
    const dst = parseIpv6('fd00:10:10::4') as Ipv6Address;
    for (const type of [135, 136] as const) expect(flowHashOfFrame(...whole(ndFrame(type, 3, src, solicitedNodeOf(dst), dst, { lla: 3 })))).toBe(FLOW_ALL);
    const ra = icmpv6Message(src, IPV6_ALL_NODES, 134, 0, 0, new Uint8Array(8));
    expect(flowHashOfFrame(...whole(ipv6Frame(4, 3, src, IPV6_ALL_NODES, NH_ICMPV6, ra)))).toBe(FLOW_ALL);
  });

  it('other IPv6 (echo, MLD, fragments, a truncated header) goes to shard 0, which speaks for IPv6 (decision 0025)', () => {
    const src = parseIpv6('fd00:10:10::3') as Ipv6Address;
    const dst = parseIpv6('fd00:10:10::4') as Ipv6Address;
    const frames = [
      echo6Frame(4, 3, src, dst, 1, 1, new Uint8Array(8)),
      ipv6Frame(4, 3, src, dst, NH_TCP, ports(40000, 80)).subarray(0, 14 + 40 + 2),
      ...fragments6(4, 3, src, dst, NH_TCP, new Uint8Array(3000), 1448, 7),
    ];
    for (const f of frames) {
      const h = flowHashOfFrame(...whole(f));
      expect(h).toBe(FLOW_SHARD0);
      for (const n of [1, 2, 3, 4, 7, 64]) expect(shardOf(h, n)).toBe(0);
    }
  });
});

function whole(f: Uint8Array): [Uint8Array, number, number] {
  return [f, 0, f.length];
}
