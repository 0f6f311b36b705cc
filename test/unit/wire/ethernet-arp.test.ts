/**
 * Ethernet II and ARP against the kernel-made ARP request/reply in
 * test/golden/arp.pcap: parse every field, rebuild byte for byte, validate reasons.
 */
import { describe, expect, it } from 'vitest';
import { BROADCAST_MAC } from '../../../src/wire/addresses.js';
import {
  ArpCheck,
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  arpHlen,
  arpHtype,
  arpOp,
  arpPlen,
  arpPtype,
  arpSha,
  arpSpa,
  arpTha,
  arpTpa,
  validateArp,
  writeArp,
} from '../../../src/wire/arp.js';
import {
  ETH_HEADER_LEN,
  ETHERTYPE_ARP,
  ethDst,
  ethSrc,
  ethType,
  writeEthernetHeader,
} from '../../../src/wire/ethernet.js';
import { golden, hex, IP_A, IP_B, MAC_A, MAC_B } from './golden-frames.js';

const [request, reply] = golden('arp') as [Uint8Array, Uint8Array];

describe('golden ARP request (kernel, 10.99.0.1 asks for 10.99.0.2)', () => {
  it('parses', () => {
    expect(request.length).toBe(42); // veth does not pad to 60
    expect(ethDst(request, 0)).toBe(BROADCAST_MAC);
    expect(ethSrc(request, 0)).toBe(MAC_A);
    expect(ethType(request, 0)).toBe(ETHERTYPE_ARP);
    const o = ETH_HEADER_LEN;
    expect(validateArp(request, o, request.length - o)).toBe(ArpCheck.Ok);
    expect(arpHtype(request, o)).toBe(1);
    expect(arpPtype(request, o)).toBe(0x0800);
    expect(arpHlen(request, o)).toBe(6);
    expect(arpPlen(request, o)).toBe(4);
    expect(arpOp(request, o)).toBe(ARP_OP_REQUEST);
    expect(arpSha(request, o)).toBe(MAC_A);
    expect(arpSpa(request, o)).toBe(IP_A);
    expect(arpTha(request, o)).toBe(0);
    expect(arpTpa(request, o)).toBe(IP_B);
  });
  it('rebuilds byte for byte', () => {
    const b = new Uint8Array(42).fill(0xee);
    writeEthernetHeader(b, 0, BROADCAST_MAC, MAC_A, ETHERTYPE_ARP);
    writeArp(b, 14, ARP_OP_REQUEST, MAC_A, IP_A, 0, IP_B);
    expect(hex(b)).toBe(hex(request));
  });
});

describe('golden ARP reply (kernel, 10.99.0.2 is-at 02:00:00:00:00:0b)', () => {
  it('parses', () => {
    expect(reply.length).toBe(42);
    expect(ethDst(reply, 0)).toBe(MAC_A);
    expect(ethSrc(reply, 0)).toBe(MAC_B);
    expect(ethType(reply, 0)).toBe(ETHERTYPE_ARP);
    const o = ETH_HEADER_LEN;
    expect(validateArp(reply, o, 28)).toBe(ArpCheck.Ok);
    expect(arpOp(reply, o)).toBe(ARP_OP_REPLY);
    expect(arpSha(reply, o)).toBe(MAC_B);
    expect(arpSpa(reply, o)).toBe(IP_B);
    expect(arpTha(reply, o)).toBe(MAC_A);
    expect(arpTpa(reply, o)).toBe(IP_A);
  });
  it('rebuilds byte for byte at a nonzero offset', () => {
    const b = new Uint8Array(50);
    writeEthernetHeader(b, 5, MAC_A, MAC_B, ETHERTYPE_ARP);
    writeArp(b, 19, ARP_OP_REPLY, MAC_B, IP_B, MAC_A, IP_A);
    expect(hex(b.subarray(5, 47))).toBe(hex(reply));
    expect(hex(b.subarray(0, 5))).toBe('0000000000');
    expect(hex(b.subarray(47))).toBe('000000');
  });
});

describe('validateArp reasons', () => {
  const o = ETH_HEADER_LEN;
  const mutate = (at: number, v: number): Uint8Array => {
    const b = reply.slice();
    b[o + at] = v;
    return b;
  };
  it('ArpCheck.Truncated when fewer than 28 bytes are available', () => {
    expect(validateArp(reply, o, 27)).toBe(ArpCheck.Truncated);
    expect(validateArp(reply.subarray(0, 41), o, 28)).toBe(ArpCheck.Truncated); // length claimed past the buffer
    expect(validateArp(reply, o, 0)).toBe(ArpCheck.Truncated);
  });
  it('ArpCheck.BadHtype', () => {
    expect(validateArp(mutate(1, 6), o, 28)).toBe(ArpCheck.BadHtype); // IEEE 802
  });
  it('ArpCheck.BadPtype', () => {
    expect(validateArp(mutate(2, 0x86), o, 28)).toBe(ArpCheck.BadPtype);
  });
  it('ArpCheck.BadLengths', () => {
    expect(validateArp(mutate(4, 8), o, 28)).toBe(ArpCheck.BadLengths);
    expect(validateArp(mutate(5, 16), o, 28)).toBe(ArpCheck.BadLengths);
  });
  it('ArpCheck.BadOp', () => {
    expect(validateArp(mutate(7, 3), o, 28)).toBe(ArpCheck.BadOp); // RARP request
    expect(validateArp(mutate(7, 0), o, 28)).toBe(ArpCheck.BadOp);
    expect(validateArp(mutate(6, 1), o, 28)).toBe(ArpCheck.BadOp); // 0x0102
  });
  it('reason codes are distinct and nonzero', () => {
    const codes = [ArpCheck.Truncated, ArpCheck.BadHtype, ArpCheck.BadPtype, ArpCheck.BadLengths, ArpCheck.BadOp];
    expect(new Set(codes).size).toBe(5);
    expect(codes.includes(ArpCheck.Ok)).toBe(false);
  });
});
