/** UDP header and checksum against the golden "hello\n" datagram (test/golden/udp.pcap). */
import { describe, expect, it } from 'vitest';
import { ETHERTYPE_IPV4, writeEthernetHeader } from '../../../src/wire/ethernet.js';
import { Ipv4Check, IPPROTO_UDP, IPV4_DF, ipTotalLength, validateIpv4, writeIpv4Header } from '../../../src/wire/ipv4.js';
import {
  fillUdpChecksum,
  UDP_HEADER_LEN,
  udpChecksum,
  udpChecksumOf,
  udpChecksumValid,
  udpDstPort,
  udpLength,
  udpSrcPort,
  writeUdpHeader,
} from '../../../src/wire/udp.js';
import { golden, hex, IP_A, IP_B, MAC_A, MAC_B, prng } from './golden-frames.js';

const [dgram] = golden('udp') as [Uint8Array];
const U = 34;

describe('golden UDP datagram 10.99.0.1:40000 -> 10.99.0.2:5000 "hello\\n"', () => {
  it('parses', () => {
    expect(UDP_HEADER_LEN).toBe(8);
    expect(dgram.length).toBe(48);
    expect(validateIpv4(dgram, 14, 34)).toBe(Ipv4Check.Ok);
    expect(ipTotalLength(dgram, 14)).toBe(34);
    expect(udpSrcPort(dgram, U)).toBe(40000);
    expect(udpDstPort(dgram, U)).toBe(5000);
    expect(udpLength(dgram, U)).toBe(14);
    expect(udpChecksum(dgram, U)).toBe(0xf764);
    expect(Buffer.from(dgram.subarray(U + 8)).toString()).toBe('hello\n');
    expect(udpChecksumValid(dgram, U, 14, IP_A, IP_B)).toBe(true);
    expect(udpChecksumOf(dgram, U, 14, IP_A, IP_B)).toBe(0xf764);
  });

  it('rebuilds byte for byte with writeUdpHeader + fillUdpChecksum', () => {
    const b = new Uint8Array(48);
    writeEthernetHeader(b, 0, MAC_B, MAC_A, ETHERTYPE_IPV4);
    writeIpv4Header(b, 14, 34, 387, IPV4_DF, 64, IPPROTO_UDP, IP_A, IP_B);
    b.set(Buffer.from('hello\n'), U + 8);
    b[U + 6] = 0xaa; // garbage that writeUdpHeader must clear
    writeUdpHeader(b, U, 40000, 5000, 14);
    expect(udpChecksum(b, U)).toBe(0);
    fillUdpChecksum(b, U, 14, IP_A, IP_B);
    expect(hex(b)).toBe(hex(dgram));
  });

  it('detects corruption and wrong pseudo-header addresses', () => {
    const b = dgram.slice();
    b[U + 8] ^= 0x20; // 'h' -> 'H'
    expect(udpChecksumValid(b, U, 14, IP_A, IP_B)).toBe(false);
    expect(udpChecksumValid(dgram, U, 14, IP_A, IP_A)).toBe(false);
    expect(udpChecksumValid(dgram, U, 14, IP_B, IP_A)).toBe(true); // swapping src/dst keeps the sum
    // checksum field 0 = none: valid whatever the data
    const n = dgram.slice();
    n[U + 6] = 0;
    n[U + 7] = 0;
    n[U + 9] = 0;
    expect(udpChecksumValid(n, U, 14, IP_A, IP_B)).toBe(true);
  });
});

describe('UDP checksum rules', () => {
  it('udpChecksumOf ignores the current field value', () => {
    const b = dgram.slice();
    for (const v of [0x0000, 0xffff, 0x1234, 0xf764]) {
      b[U + 6] = v >>> 8;
      b[U + 7] = v & 0xff;
      expect(udpChecksumOf(b, U, 14, IP_A, IP_B)).toBe(0xf764);
    }
  });

  it('a computed checksum of 0 is sent as 0xffff, and that datagram verifies', () => {
    // Build a datagram whose data makes the sum come out to exactly 0xffff (checksum 0).
    const b = new Uint8Array(10);
    writeUdpHeader(b, 0, 1, 2, 10);
    // With data word 0, checksum c; setting the data word to c makes the total sum -0.
    const c = udpChecksumOf(b, 0, 10, IP_A, IP_B);
    b[8] = c >>> 8;
    b[9] = c & 0xff;
    expect(udpChecksumOf(b, 0, 10, IP_A, IP_B)).toBe(0xffff);
    fillUdpChecksum(b, 0, 10, IP_A, IP_B);
    expect(hex(b.subarray(6, 8))).toBe('ffff');
    expect(udpChecksumValid(b, 0, 10, IP_A, IP_B)).toBe(true);
  });

  it('fill then validate round-trips on random datagrams, odd lengths and offsets', () => {
    const next = prng(2024);
    for (let t = 0; t < 300; t++) {
      const len = 8 + (next() % 1500);
      const off = next() % 7;
      const b = new Uint8Array(off + len + 3);
      for (let i = 0; i < b.length; i++) b[i] = next();
      const src = next();
      const dst = next();
      writeUdpHeader(b, off, next() & 0xffff, next() & 0xffff, len);
      fillUdpChecksum(b, off, len, src, dst);
      expect(udpChecksum(b, off)).not.toBe(0);
      expect(udpChecksumValid(b, off, len, src, dst)).toBe(true);
      b[off + 8 + (next() % (len - 8 || 1))] ^= 0x01;
      if (len > 8) expect(udpChecksumValid(b, off, len, src, dst)).toBe(false);
    }
  });
});
