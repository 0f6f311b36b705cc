/** Tests for address parsing/formatting and big-endian field access (src/wire/addresses.ts). */
import { describe, expect, it } from 'vitest';
import {
  BROADCAST_MAC,
  formatIpv4,
  formatMac,
  ipv4InSubnet,
  parseIpv4,
  parseMac,
  prefixMask,
  readIpv4,
  readMac,
  readU16,
  readU32,
  writeIpv4,
  writeMac,
  writeU16,
  writeU32,
} from '../../../src/wire/addresses.js';
import { hex } from './golden-frames.js';

describe('IPv4 text', () => {
  it('parses dotted quads to uint32', () => {
    expect(parseIpv4('10.99.0.1')).toBe(0x0a630001);
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIpv4('192.168.1.200')).toBe(0xc0a801c8);
  });
  it('returns NaN for invalid text', () => {
    for (const s of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.-1', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4',
      'a.b.c.d', '1..3.4', '1.2.3.1000', '0x1.2.3.4', '1e1.2.3.4']) {
      expect(parseIpv4(s), s).toBeNaN();
    }
    expect(parseIpv4(undefined as unknown as string)).toBeNaN();
  });
  it('formats and round-trips', () => {
    expect(formatIpv4(0x0a630002)).toBe('10.99.0.2');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
    for (const s of ['1.2.3.4', '172.16.254.3', '0.0.0.0']) expect(formatIpv4(parseIpv4(s))).toBe(s);
  });
});

describe('MAC text', () => {
  it('parses colon or dash separated hex, any case', () => {
    expect(parseMac('02:00:00:00:00:0a')).toBe(0x02000000000a);
    expect(parseMac('FF-FF-FF-FF-FF-FF')).toBe(BROADCAST_MAC);
    expect(parseMac('de:ad:BE:ef:00:01')).toBe(0xdeadbeef0001);
  });
  it('returns NaN for invalid text', () => {
    for (const s of ['', '02:00:00:00:00', '02:00:00:00:00:0a:0b', '02:00-00:00:00:0a', '2:00:00:00:00:0a',
      '02:00:00:00:00:0g', '0200.0000.000a', '02:00:00:00:00:0a ']) {
      expect(parseMac(s), s).toBeNaN();
    }
  });
  it('formats lowercase with colons and round-trips', () => {
    expect(formatMac(0xdeadbeef0001)).toBe('de:ad:be:ef:00:01');
    expect(formatMac(0x02000000000b)).toBe('02:00:00:00:00:0b');
    expect(formatMac(BROADCAST_MAC)).toBe('ff:ff:ff:ff:ff:ff');
    expect(formatMac(0)).toBe('00:00:00:00:00:00');
  });
});

describe('big-endian fields', () => {
  it('reads and writes u16/u32/IPv4/MAC at arbitrary offsets', () => {
    const b = new Uint8Array(16);
    writeU16(b, 1, 0xabcd);
    writeU32(b, 3, 0xfedcba98);
    writeMac(b, 7, 0x0123456789ab);
    expect(hex(b)).toBe('00abcdfedcba980123456789ab000000');
    expect(readU16(b, 1)).toBe(0xabcd);
    expect(readU32(b, 3)).toBe(0xfedcba98);
    expect(readMac(b, 7)).toBe(0x0123456789ab);
    writeIpv4(b, 12, 0xc0a80001);
    expect(readIpv4(b, 12)).toBe(0xc0a80001);
    expect(hex(b.subarray(12))).toBe('c0a80001');
    writeMac(b, 0, BROADCAST_MAC);
    expect(readMac(b, 0)).toBe(BROADCAST_MAC);
    expect(hex(b.subarray(0, 7))).toBe('ffffffffffff98');
  });
  it('writeU16/writeU32 keep only the low bits', () => {
    const b = new Uint8Array(6);
    writeU16(b, 0, 0x12345);
    writeU32(b, 2, -1);
    expect(hex(b)).toBe('2345ffffffff');
  });
});

describe('subnets', () => {
  it('prefixMask', () => {
    expect(prefixMask(0)).toBe(0);
    expect(prefixMask(1)).toBe(0x80000000);
    expect(prefixMask(24)).toBe(0xffffff00);
    expect(prefixMask(31)).toBe(0xfffffffe);
    expect(prefixMask(32)).toBe(0xffffffff);
  });
  it('ipv4InSubnet', () => {
    const net = parseIpv4('10.99.0.0');
    expect(ipv4InSubnet(parseIpv4('10.99.0.1'), net, 24)).toBe(true);
    expect(ipv4InSubnet(parseIpv4('10.99.0.255'), net, 24)).toBe(true);
    expect(ipv4InSubnet(parseIpv4('10.99.1.1'), net, 24)).toBe(false);
    expect(ipv4InSubnet(parseIpv4('10.99.1.1'), net, 16)).toBe(true);
    expect(ipv4InSubnet(parseIpv4('200.1.1.1'), net, 0)).toBe(true);
    expect(ipv4InSubnet(parseIpv4('10.99.0.1'), parseIpv4('10.99.0.1'), 32)).toBe(true);
    expect(ipv4InSubnet(parseIpv4('10.99.0.2'), parseIpv4('10.99.0.1'), 32)).toBe(false);
    expect(ipv4InSubnet(0x80000000, 0, 1)).toBe(false);
  });
});
