/**
 * IPv6, ICMPv6 and ND wire views against golden Linux frames (test/golden/ping6.pcap: the
 * kernel's neighbour solicitation and advertisement and a 56-byte ping -6 with its reply),
 * every field parsed and the ND messages rebuilt byte for byte; the address type's text
 * forms against WHATWG URL's IPv6 serialiser (RFC 5952 compression) as an oracle; derived
 * addresses (RFC 4291 appendix A, 2.7.1; RFC 2464 7); validateIpv6's reason codes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ipv6PseudoHeaderSum, ipv6PseudoHeaderSumAt } from '../../../src/wire/checksum.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV6, ethDst, ethSrc, ethType, writeEthernetHeader } from '../../../src/wire/ethernet.js';
import { readU16, readU32 } from '../../../src/wire/addresses.js';
import {
  ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, ICMPV6_NEIGHBOR_ADVERTISEMENT, ICMPV6_NEIGHBOR_SOLICITATION,
  fillIcmpv6Checksum, icmpv6ChecksumValid, icmpv6Code, icmpv6IsError,
} from '../../../src/wire/icmpv6.js';
import {
  type Ipv6Address, formatIpv6, ipv6, ipv6EqualsAt, ipv6InPrefix, ipv6IsLinkLocal, ipv6IsMulticast, ipv6IsUnspecified,
  linkLocalFromMac, multicastMacOf, parseIpv6, readIpv6, solicitedNodeOf,
} from '../../../src/wire/ipv6-address.js';
import {
  IPV6_DST_OFFSET, IPV6_HEADER_LEN, IPV6_SRC_OFFSET, Ipv6Check, NH_ICMPV6,
  fragmentId, fragmentMore, fragmentOffset, ipv6HopLimit, ipv6PayloadLength, validateIpv6, writeFragmentHeader, writeIpv6Header,
} from '../../../src/wire/ipv6.js';
import {
  NA_OVERRIDE, NA_ROUTER, NA_SOLICITED, ND_NS_NA_LEN, ND_OPT_SOURCE_LLA, ND_OPT_TARGET_LLA, ND_TARGET_OFFSET,
  naFlags, ndFindOption, ndOptionLength, ndOptionMac, ndOptionsValid, writeLlaOption, writeNsNa,
} from '../../../src/wire/ndp.js';
import { MAC_A, MAC_B, golden, hex } from './golden-frames.js';

const A = parseIpv6('fd00:99::1') as Ipv6Address;
const B = parseIpv6('fd00:99::2') as Ipv6Address;
const IP = ETH_HEADER_LEN;
const ICMP = ETH_HEADER_LEN + IPV6_HEADER_LEN;
const text = (b: Uint8Array, o: number) => formatIpv6(readIpv6(b, o, ipv6(0, 0, 0, 0)));
// Fields no code of the stack reads, read here from the bytes (RFC 8200 3, RFC 4443 2.1).
const version = (b: Uint8Array) => b[IP] >>> 4;
const trafficClass = (b: Uint8Array) => (readU16(b, IP) >>> 4) & 0xff;
const flowLabel = (b: Uint8Array) => readU32(b, IP) & 0xfffff;
const nextHeader = (b: Uint8Array) => b[IP + 6];
const icmpType = (b: Uint8Array) => b[ICMP];
const icmpChecksum = (b: Uint8Array) => readU16(b, ICMP + 2);

describe('IPv6 addresses (RFC 4291 2.2, RFC 5952)', () => {
  it.each([
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['::ffff:10.10.0.4', '::ffff:a0a:4'],
    ['fd00:10:10::4', 'fd00:10:10::4'],
  ])('%s → %s', (input, out) => {
    const a = parseIpv6(input);
    expect(a).not.toBeNull();
    expect(formatIpv6(a as Ipv6Address)).toBe(out);
  });

  it.each(['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', '1.2.3.4', '::1.2.3', '::256.1.1.1', 'fe80::1%eth0', '[::1]', '1:2:3:4:5:6:7:8::'])(
    'refuses %j', (input) => {
      expect(parseIpv6(input)).toBeNull();
    },
  );

  it('formats like the WHATWG URL serialiser and parses its own output back (property)', () => {
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (g) => {
      const a = ipv6((g[0] << 16) | g[1], (g[2] << 16) | g[3], (g[4] << 16) | g[5], (g[6] << 16) | g[7]);
      const full = g.map((x) => x.toString(16)).join(':');
      expect(formatIpv6(a)).toBe(new URL(`http://[${full}]/`).hostname.slice(1, -1));
      expect(parseIpv6(formatIpv6(a))).toEqual(a);
      expect(parseIpv6(full)).toEqual(a);
    }), { numRuns: 500 });
  });

  it('derives the link-local address from a MAC (modified EUI-64: ff:fe inserted, U/L bit inverted)', () => {
    expect(formatIpv6(linkLocalFromMac(0x001a2b3c4d5e))).toBe('fe80::21a:2bff:fe3c:4d5e');
    expect(formatIpv6(linkLocalFromMac(MAC_A))).toBe('fe80::ff:fe00:a');
    expect(ipv6IsLinkLocal(linkLocalFromMac(MAC_B))).toBe(true);
  });

  it('solicited-node group and its Ethernet address are those the kernel used (golden NS)', () => {
    const ns = golden('ping6')[0];
    expect(formatIpv6(solicitedNodeOf(B))).toBe('ff02::1:ff00:2');
    expect(ipv6EqualsAt(ns, IP + IPV6_DST_OFFSET, solicitedNodeOf(B))).toBe(true);
    expect(ethDst(ns, 0)).toBe(multicastMacOf(solicitedNodeOf(B)));
    expect(multicastMacOf(solicitedNodeOf(B))).toBe(0x3333ff000002);
  });

  it('classifies and matches prefixes', () => {
    expect(ipv6IsMulticast(parseIpv6('ff02::1') as Ipv6Address)).toBe(true);
    expect(ipv6IsUnspecified(parseIpv6('::') as Ipv6Address)).toBe(true);
    expect(ipv6IsLinkLocal(parseIpv6('febf::1') as Ipv6Address)).toBe(true);
    expect(ipv6IsLinkLocal(parseIpv6('fec0::1') as Ipv6Address)).toBe(false);
    const p = parseIpv6('fd00:10:10::') as Ipv6Address;
    expect(ipv6InPrefix(parseIpv6('fd00:10:10::4') as Ipv6Address, p, 64)).toBe(true);
    expect(ipv6InPrefix(parseIpv6('fd00:10:11::4') as Ipv6Address, p, 64)).toBe(false);
    expect(ipv6InPrefix(parseIpv6('fd00:10:11::4') as Ipv6Address, p, 47)).toBe(true);
    expect(ipv6InPrefix(parseIpv6('fd00:10:10::4') as Ipv6Address, parseIpv6('fd00:10:10::5') as Ipv6Address, 128)).toBe(false);
  });
});

describe('golden frames: neighbour solicitation and advertisement (RFC 4861 4.3, 4.4)', () => {
  const [ns, na] = golden('ping6');

  it('parses the kernel NS: to ff02::1:ff00:2, hop limit 255, target fd00:99::2, source link-layer option', () => {
    expect(ethType(ns, 0)).toBe(ETHERTYPE_IPV6);
    expect(ethSrc(ns, 0)).toBe(MAC_A);
    expect(validateIpv6(ns, IP, ns.length - IP)).toBe(Ipv6Check.Ok);
    expect([version(ns), trafficClass(ns), flowLabel(ns)]).toEqual([6, 0, 0]);
    expect([ipv6PayloadLength(ns, IP), nextHeader(ns), ipv6HopLimit(ns, IP)]).toEqual([32, NH_ICMPV6, 255]);
    expect([text(ns, IP + IPV6_SRC_OFFSET), text(ns, IP + IPV6_DST_OFFSET)]).toEqual(['fd00:99::1', 'ff02::1:ff00:2']);
    expect([icmpType(ns), icmpv6Code(ns, ICMP), icmpChecksum(ns)]).toEqual([ICMPV6_NEIGHBOR_SOLICITATION, 0, 0x7c5c]);
    expect(icmpv6ChecksumValid(ns, IP, ICMP, 32)).toBe(true);
    expect(text(ns, ICMP + ND_TARGET_OFFSET)).toBe('fd00:99::2');
    expect(ndOptionsValid(ns, ICMP + ND_NS_NA_LEN, ICMP + 32)).toBe(true);
    const o = ndFindOption(ns, ICMP + ND_NS_NA_LEN, ICMP + 32, ND_OPT_SOURCE_LLA);
    expect([o, ndOptionLength(ns, o), ndOptionMac(ns, o)]).toEqual([ICMP + ND_NS_NA_LEN, 8, MAC_A]);
  });

  it('parses the kernel NA: solicited and override, target link-layer option', () => {
    expect([text(na, IP + IPV6_SRC_OFFSET), text(na, IP + IPV6_DST_OFFSET), ipv6HopLimit(na, IP)]).toEqual(['fd00:99::2', 'fd00:99::1', 255]);
    expect([icmpType(na), icmpChecksum(na)]).toEqual([ICMPV6_NEIGHBOR_ADVERTISEMENT, 0x1ac6]);
    expect(naFlags(na, ICMP)).toBe(NA_SOLICITED | NA_OVERRIDE);
    expect(naFlags(na, ICMP) & NA_ROUTER).toBe(0);
    const o = ndFindOption(na, ICMP + ND_NS_NA_LEN, ICMP + 32, ND_OPT_TARGET_LLA);
    expect(ndOptionMac(na, o)).toBe(MAC_B);
  });

  it('rebuilds both byte for byte with the writers', () => {
    const rebuild = (type: number, flags: number, srcMac: number, dstMac: number, src: Ipv6Address, dst: Ipv6Address, opt: number, lla: number) => {
      const f = new Uint8Array(ICMP + 32);
      writeEthernetHeader(f, 0, dstMac, srcMac, ETHERTYPE_IPV6);
      writeIpv6Header(f, IP, 32, NH_ICMPV6, 255, src, dst);
      writeNsNa(f, ICMP, type, flags, B);
      writeLlaOption(f, ICMP + ND_NS_NA_LEN, opt, lla);
      fillIcmpv6Checksum(f, IP, ICMP, 32);
      return f;
    };
    expect(hex(rebuild(ICMPV6_NEIGHBOR_SOLICITATION, 0, MAC_A, 0x3333ff000002, A, solicitedNodeOf(B), ND_OPT_SOURCE_LLA, MAC_A))).toBe(hex(ns));
    expect(hex(rebuild(ICMPV6_NEIGHBOR_ADVERTISEMENT, NA_SOLICITED | NA_OVERRIDE, MAC_B, MAC_A, B, A, ND_OPT_TARGET_LLA, MAC_B))).toBe(hex(na));
  });

  it('refuses options of length 0 or running past the message (RFC 4861 4.6)', () => {
    const f = ns.slice();
    f[ICMP + ND_NS_NA_LEN + 1] = 0;
    expect(ndOptionsValid(f, ICMP + ND_NS_NA_LEN, ICMP + 32)).toBe(false);
    f[ICMP + ND_NS_NA_LEN + 1] = 2;
    expect(ndOptionsValid(f, ICMP + ND_NS_NA_LEN, ICMP + 32)).toBe(false);
    expect(ndOptionsValid(f, ICMP + ND_NS_NA_LEN, ICMP + ND_NS_NA_LEN + 1)).toBe(false);
  });
});

describe('golden frames: ping -6 (RFC 4443 4.1, 4.2)', () => {
  const [, , req, rep] = golden('ping6');

  it('parses request and reply: flow labels, hop limit 64, 64-byte messages, id 3925 seq 1', () => {
    expect([flowLabel(req), flowLabel(rep)]).toEqual([0x5ba0e, 0x2364a]);
    expect([ipv6HopLimit(req, IP), ipv6PayloadLength(req, IP), ipv6PayloadLength(rep, IP)]).toEqual([64, 64, 64]);
    expect([icmpType(req), icmpType(rep)]).toEqual([ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY]);
    expect([req[ICMP + 4] << 8 | req[ICMP + 5], req[ICMP + 6] << 8 | req[ICMP + 7]]).toEqual([3925, 1]);
    expect(icmpv6ChecksumValid(req, IP, ICMP, 64)).toBe(true);
    expect(icmpv6ChecksumValid(rep, IP, ICMP, 64)).toBe(true);
    expect(hex(rep.subarray(ICMP + 4))).toBe(hex(req.subarray(ICMP + 4)));
    expect([icmpv6IsError(ICMPV6_ECHO_REQUEST), icmpv6IsError(4)]).toEqual([false, true]);
  });

  it('a flipped bit fails the checksum; the pseudo-header sum is the same from words and from bytes', () => {
    const f = req.slice();
    f[ICMP + 20] ^= 1;
    expect(icmpv6ChecksumValid(f, IP, ICMP, 64)).toBe(false);
    expect(ipv6PseudoHeaderSumAt(req, IP, NH_ICMPV6, 64)).toBe(ipv6PseudoHeaderSum(A, B, NH_ICMPV6, 64));
    expect(ipv6PseudoHeaderSum(A, B, 6, 0x12345)).toBe(ipv6PseudoHeaderSum(B, A, 6, 0x12345));
  });
});

describe('validateIpv6 and the fragment header', () => {
  const req = golden('ping6')[2];
  it.each([
    ['fewer than 40 bytes', (f: Uint8Array) => f.subarray(0, IP + 39), Ipv6Check.Truncated],
    ['version 4', (f: Uint8Array) => { f[IP] = 0x45; return f; }, Ipv6Check.BadVersion],
    ['payload length past the frame', (f: Uint8Array) => { f[IP + 5] = 65; return f; }, Ipv6Check.BadPayloadLength],
    ['a jumbogram (payload length 0 with hop-by-hop)', (f: Uint8Array) => { f[IP + 4] = 0; f[IP + 5] = 0; f[IP + 6] = 0; return f; }, Ipv6Check.BadPayloadLength],
  ])('%s', (_name, mutate, check) => {
    const f = mutate(req.slice());
    expect(validateIpv6(f, IP, f.length - IP)).toBe(check);
  });

  it('accepts Ethernet padding after the payload', () => {
    const f = new Uint8Array(req.length + 10);
    f.set(req);
    expect(validateIpv6(f, IP, f.length - IP)).toBe(Ipv6Check.Ok);
  });

  it('writes and reads a fragment header (offset in bytes, M flag, 32-bit id)', () => {
    const b = new Uint8Array(8);
    writeFragmentHeader(b, 0, NH_ICMPV6, 1448, true, 0xdeadbeef);
    expect(hex(b)).toBe('3a0005a9deadbeef');
    expect([fragmentOffset(b, 0), fragmentMore(b, 0), fragmentId(b, 0)]).toEqual([1448, true, 0xdeadbeef]);
  });
});
