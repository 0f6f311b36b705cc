/**
 * IPv4 and ICMP against golden Linux frames: the 56-byte ping, the 4000-byte ping
 * (3 fragments each way) and the kernel's port unreachable. Parses every field,
 * rebuilds byte for byte, and triggers each validateIpv4 reason code.
 */
import { describe, expect, it } from 'vitest';
import { readU16, writeU16 } from '../../../src/wire/addresses.js';
import { adjustChecksum16, internetChecksum, onesSum } from '../../../src/wire/checksum.js';
import { ETHERTYPE_IPV4, ethDst, ethSrc, ethType, writeEthernetHeader } from '../../../src/wire/ethernet.js';
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_LEN,
  ICMP_PORT_UNREACHABLE,
  icmpChecksum,
  icmpType,
  setIcmpChecksum,
  setIcmpType,
} from '../../../src/wire/icmp.js';
import {
  ECN_CE,
  ECN_ECT0,
  Ipv4Check,
  fillIpv4Checksum,
  ipEcn,
  IPPROTO_ICMP,
  IPPROTO_UDP,
  IPV4_DF,
  IPV4_MF,
  ipDontFragment,
  ipDst,
  ipFragmentOffset,
  ipHeaderLength,
  ipId,
  ipIsFragment,
  ipMoreFragments,
  ipProtocol,
  ipSrc,
  ipTotalLength,
  ipTtl,
  setIpId,
  setIpTotalLength,
  validateIpv4,
  writeIpv4Header,
} from '../../../src/wire/ipv4.js';
import { golden, hex, IP_A, IP_B, MAC_A, MAC_B } from './golden-frames.js';

const E = 14; // IPv4 header offset in every golden frame
const I = 34; // ICMP offset (IHL 5)

describe('validateIpv4 reasons', () => {
  it('are distinct and none is Ipv4Check.Ok (tests that expect one reason could not tell them apart otherwise)', () => {
    const reasons = [Ipv4Check.Truncated, Ipv4Check.BadVersion, Ipv4Check.BadIhl, Ipv4Check.BadTotalLength, Ipv4Check.BadChecksum];
    expect(new Set(reasons).size).toBe(5);
    expect(reasons.includes(Ipv4Check.Ok)).toBe(false);
  });
});

describe('the ECN field (RFC 3168 5)', () => {
  it('writeIpv4Header puts the codepoint in the TOS byte with a valid checksum; ipEcn reads it back', () => {
    const b = new Uint8Array(20);
    for (const ecn of [0, ECN_ECT0, ECN_CE]) {
      writeIpv4Header(b, 0, 20, 7, IPV4_DF, 64, IPPROTO_UDP, IP_A, IP_B, ecn);
      expect(b[1]).toBe(ecn);
      expect(ipEcn(b, 0)).toBe(ecn);
      expect(validateIpv4(b, 0, 20)).toBe(Ipv4Check.Ok);
    }
  });
});

describe('golden ping, 56-byte payload', () => {
  const [req, rep] = golden('ping') as [Uint8Array, Uint8Array];

  it('echo request parses', () => {
    expect(req.length).toBe(98);
    expect([ethDst(req, 0), ethSrc(req, 0), ethType(req, 0)]).toEqual([MAC_B, MAC_A, ETHERTYPE_IPV4]);
    expect(validateIpv4(req, E, req.length - E)).toBe(Ipv4Check.Ok);
    expect(ipHeaderLength(req, E)).toBe(20);
    expect(ipTotalLength(req, E)).toBe(84);
    expect(ipId(req, E)).toBe(52821);
    expect(ipDontFragment(req, E)).toBe(true);
    expect(ipMoreFragments(req, E)).toBe(false);
    expect(ipFragmentOffset(req, E)).toBe(0);
    expect(ipIsFragment(req, E)).toBe(false);
    expect(ipTtl(req, E)).toBe(64);
    expect(ipProtocol(req, E)).toBe(IPPROTO_ICMP);
    expect(ipSrc(req, E)).toBe(IP_A);
    expect(ipDst(req, E)).toBe(IP_B);
    expect(icmpType(req, I)).toBe(ICMP_ECHO_REQUEST);
    expect(icmpChecksum(req, I)).toBe(0x0030);
    expect(internetChecksum(req, I, 64)).toBe(0);
  });

  it('echo reply parses', () => {
    expect([ethDst(rep, 0), ethSrc(rep, 0), ethType(rep, 0)]).toEqual([MAC_A, MAC_B, ETHERTYPE_IPV4]);
    expect(validateIpv4(rep, E, rep.length - E)).toBe(Ipv4Check.Ok);
    expect(ipTotalLength(rep, E)).toBe(84);
    expect(ipId(rep, E)).toBe(55051);
    expect(ipDontFragment(rep, E)).toBe(false);
    expect(ipIsFragment(rep, E)).toBe(false);
    expect(ipTtl(rep, E)).toBe(64);
    expect([ipSrc(rep, E), ipDst(rep, E)]).toEqual([IP_B, IP_A]);
    expect([icmpType(rep, I), icmpChecksum(rep, I)]).toEqual([ICMP_ECHO_REPLY, 0x0830]);
    expect(internetChecksum(rep, I, 64)).toBe(0);
  });

  it('request rebuilds byte for byte (payload copied: it holds a timestamp)', () => {
    const b = new Uint8Array(98);
    writeEthernetHeader(b, 0, MAC_B, MAC_A, ETHERTYPE_IPV4);
    writeIpv4Header(b, E, 84, 52821, IPV4_DF, 64, IPPROTO_ICMP, IP_A, IP_B);
    b[I] = ICMP_ECHO_REQUEST;
    b[I + 1] = 0;
    writeU16(b, I + 4, 5081);
    writeU16(b, I + 6, 1);
    b.set(req.subarray(I + 8), I + 8);
    setIcmpChecksum(b, I, internetChecksum(b, I, 64));
    expect(hex(b)).toBe(hex(req));
  });

  it('reply rebuilds from the request: type 8 -> 0 with an RFC 1624 checksum update', () => {
    const b = new Uint8Array(98);
    writeEthernetHeader(b, 0, MAC_A, MAC_B, ETHERTYPE_IPV4);
    writeIpv4Header(b, E, 84, 55051, 0, 64, IPPROTO_ICMP, IP_B, IP_A);
    b.set(req.subarray(I), I);
    const oldWord = readU16(b, I);
    setIcmpType(b, I, ICMP_ECHO_REPLY);
    setIcmpChecksum(b, I, adjustChecksum16(icmpChecksum(b, I), oldWord, readU16(b, I)));
    expect(icmpChecksum(b, I)).toBe(0x0830);
    expect(hex(b)).toBe(hex(rep));
  });
});

describe('golden 4000-byte ping: 3 fragments each way', () => {
  const frames = golden('ping-frag');
  const expected = [
    // [frame length, total length, id, flags word, MF, offset, IP checksum, src, dst]
    [1514, 1500, 52948, 0x2000, true, 0, 0x7184, IP_A, IP_B],
    [1514, 1500, 52948, 0x20b9, true, 1480, 0x70cb, IP_A, IP_B],
    [1082, 1068, 52948, 0x0172, false, 2960, 0x91c2, IP_A, IP_B],
    [1514, 1500, 55483, 0x2000, true, 0, 0x679d, IP_B, IP_A],
    [1514, 1500, 55483, 0x20b9, true, 1480, 0x66e4, IP_B, IP_A],
    [1082, 1068, 55483, 0x0172, false, 2960, 0x87db, IP_B, IP_A],
  ] as const;

  it('has six frames whose headers parse to the expected values', () => {
    expect(frames.length).toBe(6);
    frames.forEach((f, k) => {
      const [flen, total, id, ff, mf, off, ck, src, dst] = expected[k];
      expect(f.length, `frame ${k}`).toBe(flen);
      expect(validateIpv4(f, E, f.length - E)).toBe(Ipv4Check.Ok);
      expect(ipTotalLength(f, E)).toBe(total);
      expect(ipId(f, E)).toBe(id);
      expect(readU16(f, E + 6)).toBe(ff); // the flags and fragment offset word
      expect(ipMoreFragments(f, E)).toBe(mf);
      expect(ipDontFragment(f, E)).toBe(false);
      expect(ipFragmentOffset(f, E)).toBe(off);
      expect(ipIsFragment(f, E)).toBe(true);
      expect(ipProtocol(f, E)).toBe(IPPROTO_ICMP);
      expect(ipTtl(f, E)).toBe(64);
      expect(readU16(f, E + 10)).toBe(ck); // the header checksum
      expect([ipSrc(f, E), ipDst(f, E)]).toEqual([src, dst]);
    });
    // type, echo identifier and sequence number, checksum
    expect([icmpType(frames[0], I), readU16(frames[0], I + 4), readU16(frames[0], I + 6), icmpChecksum(frames[0], I)])
      .toEqual([ICMP_ECHO_REQUEST, 5102, 1, 0x388e]);
    expect([icmpType(frames[3], I), readU16(frames[3], I + 4), readU16(frames[3], I + 6), icmpChecksum(frames[3], I)])
      .toEqual([ICMP_ECHO_REPLY, 5102, 1, 0x408e]);
  });

  it('reassembled ICMP messages (4008 bytes) have valid checksums, also chained across fragments', () => {
    for (const base of [0, 3]) {
      const msg = new Uint8Array(4008);
      for (let k = 0; k < 3; k++) {
        const f = frames[base + k];
        msg.set(f.subarray(I, E + ipTotalLength(f, E)), ipFragmentOffset(f, E));
      }
      expect(internetChecksum(msg, 0, 4008)).toBe(0);
      // Chained over the fragment payloads in place (1480 is even)
      let s = 0;
      for (let k = 0; k < 3; k++) {
        const f = frames[base + k];
        s = onesSum(f, I, ipTotalLength(f, E) - 20, s);
      }
      expect(s).toBe(0xffff);
      // Recompute from scratch with the field zeroed
      const ck = icmpChecksum(msg, 0);
      setIcmpChecksum(msg, 0, 0);
      expect(internetChecksum(msg, 0, 4008)).toBe(ck);
    }
  });

  it('fragments rebuild byte for byte with writeIpv4Header', () => {
    frames.forEach((f, k) => {
      const [flen, total, id, ff, , , , src, dst] = expected[k];
      const b = new Uint8Array(flen);
      writeEthernetHeader(b, 0, k < 3 ? MAC_B : MAC_A, k < 3 ? MAC_A : MAC_B, ETHERTYPE_IPV4);
      writeIpv4Header(b, E, total, id, ff, 64, IPPROTO_ICMP, src, dst);
      b.set(f.subarray(I), I);
      expect(hex(b), `frame ${k}`).toBe(hex(f));
    });
  });

  it('the flags word is built from MF and the offset in 8-byte units', () => {
    expect(IPV4_MF | (1480 / 8)).toBe(0x20b9);
    expect(2960 / 8).toBe(0x0172);
  });
});

describe('golden ICMP port unreachable from the kernel', () => {
  const [udp, icmp] = golden('udp-unreach') as [Uint8Array, Uint8Array];

  it('parses, including the quoted datagram', () => {
    expect(icmp.length).toBe(76);
    expect([ethDst(icmp, 0), ethSrc(icmp, 0)]).toEqual([MAC_A, MAC_B]);
    expect(validateIpv4(icmp, E, icmp.length - E)).toBe(Ipv4Check.Ok);
    expect(icmp[E + 1]).toBe(0xc0); // TOS: Linux sends ICMP errors with precedence 6
    expect(ipTotalLength(icmp, E)).toBe(62);
    expect(ipId(icmp, E)).toBe(56384);
    expect([ipSrc(icmp, E), ipDst(icmp, E), ipProtocol(icmp, E)]).toEqual([IP_B, IP_A, IPPROTO_ICMP]);
    expect([icmpType(icmp, I), icmp[I + 1], icmpChecksum(icmp, I)]).toEqual([ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE, 0x11e5]); // type, code
    expect(readU16(icmp, I + 4)).toBe(0); // unused
    expect(readU16(icmp, I + 6)).toBe(0);
    expect(internetChecksum(icmp, I, 42)).toBe(0);
    // The whole offending datagram is quoted (34 bytes): identical to the UDP frame's IP datagram.
    const q = I + ICMP_HEADER_LEN;
    expect(hex(icmp.subarray(q, q + 34))).toBe(hex(udp.subarray(E, E + 34)));
    expect(validateIpv4(icmp, q, 34)).toBe(Ipv4Check.Ok);
    expect([ipSrc(icmp, q), ipDst(icmp, q), ipProtocol(icmp, q), ipId(icmp, q)]).toEqual([IP_A, IP_B, IPPROTO_UDP, 18276]);
  });

  it('rebuilds byte for byte (TOS set, then fillIpv4Checksum)', () => {
    const b = new Uint8Array(76);
    writeEthernetHeader(b, 0, MAC_A, MAC_B, ETHERTYPE_IPV4);
    writeIpv4Header(b, E, 62, 56384, 0, 64, IPPROTO_ICMP, IP_B, IP_A);
    b[E + 1] = 0xc0;
    fillIpv4Checksum(b, E);
    b[I] = ICMP_DEST_UNREACHABLE;
    b[I + 1] = ICMP_PORT_UNREACHABLE;
    b.set(udp.subarray(E, E + 34), I + 8);
    setIcmpChecksum(b, I, internetChecksum(b, I, 42));
    expect(hex(b)).toBe(hex(icmp));
  });
});

describe('setters and fillIpv4Checksum', () => {
  it('set each field, and fillIpv4Checksum restores validity', () => {
    const [req] = golden('ping') as [Uint8Array];
    const b = req.slice();
    setIpTotalLength(b, E, 60);
    setIpId(b, E, 0xbeef);
    expect([ipTotalLength(b, E), ipId(b, E)]).toEqual([60, 0xbeef]);
    expect(hex(b.subarray(E + 2, E + 6))).toBe('003cbeef');
    expect(validateIpv4(b, E, 84)).toBe(Ipv4Check.BadChecksum);
    fillIpv4Checksum(b, E);
    expect(validateIpv4(b, E, 84)).toBe(Ipv4Check.Ok);
    expect(internetChecksum(b, E, 20)).toBe(0);
  });

  it('fillIpv4Checksum covers options (IHL > 5)', () => {
    const b = new Uint8Array(24);
    writeIpv4Header(b, 0, 24, 1, 0, 1, IPPROTO_UDP, IP_A, IP_B);
    b[0] = 0x46;
    b.set([0x94, 0x04, 0x00, 0x00], 20); // Router Alert option
    expect(validateIpv4(b, 0, 24)).toBe(Ipv4Check.BadChecksum);
    fillIpv4Checksum(b, 0);
    expect(validateIpv4(b, 0, 24)).toBe(Ipv4Check.Ok);
    expect(ipHeaderLength(b, 0)).toBe(24);
  });
});

describe('validateIpv4 reasons (crafted from the golden UDP datagram)', () => {
  const [udp] = golden('udp') as [Uint8Array];
  const ip = (): Uint8Array => udp.slice(E); // 34-byte datagram at offset 0
  it('accepts Ethernet padding after the datagram', () => {
    const padded = new Uint8Array(60 - 14);
    padded.set(ip());
    expect(validateIpv4(padded, 0, padded.length)).toBe(Ipv4Check.Ok);
  });
  it('Ipv4Check.Truncated below 20 bytes', () => {
    expect(validateIpv4(ip(), 0, 19)).toBe(Ipv4Check.Truncated);
    expect(validateIpv4(ip().subarray(0, 19), 0, 34)).toBe(Ipv4Check.Truncated); // claimed length past the buffer
    expect(validateIpv4(ip(), 30, 34)).toBe(Ipv4Check.Truncated);
  });
  it('Ipv4Check.BadVersion', () => {
    const b = ip();
    b[0] = 0x65;
    fillIpv4Checksum(b, 0);
    expect(validateIpv4(b, 0, 34)).toBe(Ipv4Check.BadVersion);
  });
  it('Ipv4Check.BadIhl for IHL < 5 and for a header longer than the data', () => {
    const b = ip();
    b[0] = 0x44;
    expect(validateIpv4(b, 0, 34)).toBe(Ipv4Check.BadIhl);
    b[0] = 0x4f; // 60-byte header in 34 bytes
    expect(validateIpv4(b, 0, 34)).toBe(Ipv4Check.BadIhl);
    b[0] = 0x46; // 24-byte header in 22 available
    expect(validateIpv4(b, 0, 22)).toBe(Ipv4Check.BadIhl);
  });
  it('Ipv4Check.BadTotalLength for total < header and total > available', () => {
    const b = ip();
    setIpTotalLength(b, 0, 19);
    fillIpv4Checksum(b, 0);
    expect(validateIpv4(b, 0, 34)).toBe(Ipv4Check.BadTotalLength);
    const c = ip();
    expect(validateIpv4(c, 0, 33)).toBe(Ipv4Check.BadTotalLength);
  });
  it('Ipv4Check.BadChecksum for a flipped bit anywhere in the header', () => {
    for (let bit = 0; bit < 160; bit++) {
      const b = ip();
      b[bit >>> 3] ^= 1 << (bit & 7);
      const r = validateIpv4(b, 0, 34);
      // Flips in version/IHL/total length are caught earlier or by the checksum; all are rejected.
      expect(r, `bit ${bit}`).not.toBe(Ipv4Check.Ok);
      if (bit >= 32) expect(r, `bit ${bit}`).toBe(Ipv4Check.BadChecksum);
    }
  });
});
