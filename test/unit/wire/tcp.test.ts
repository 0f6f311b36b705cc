/**
 * TCP header, options and checksum against a real Linux connection
 * (test/golden/tcp-handshake.pcap, see test/golden/README.md): every field of the
 * handshake, data, FIN exchange; byte-for-byte rebuilds; option parser properties
 * and each malformed-option case; TcpRepr.parse reason codes.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seqAdd } from '../../../src/tcp/seq.js';
import { readPcap } from '../../../src/phy/pcap.js';
import { onesSum } from '../../../src/wire/checksum.js';
import { ETHERTYPE_IPV4, ethType, writeEthernetHeader } from '../../../src/wire/ethernet.js';
import {
  Ipv4Check,
  IPPROTO_TCP,
  IPV4_DF,
  ipHeaderLength,
  ipId,
  ipProtocol,
  ipTotalLength,
  validateIpv4,
  writeIpv4Header,
} from '../../../src/wire/ipv4.js';
import {
  fillTcpChecksum,
  parseTcpOptions,
  setTcpChecksum,
  TCP_ACK,
  TCP_CWR,
  TCP_ECE,
  TCP_FIN,
  TCP_MAX_HEADER,
  TCP_MIN_HEADER,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  TCP_URG,
  tcpAck,
  tcpChecksumValid,
  tcpDataOffset,
  tcpDstPort,
  tcpFlags,
  TcpOptions,
  tcpPseudoHeaderPartial,
  tcpSeq,
  tcpSrcPort,
  tcpWindow,
  TCPOPT_EOL,
  TCPOPT_MSS,
  TCPOPT_NOP,
  TCPOPT_SACK,
  TCPOPT_SACK_PERMITTED,
  TCPOPT_TIMESTAMP,
  TCPOPT_WSCALE,
  writeSackOption,
  writeSynOptions,
  writeTcpHeader,
  writeTimestampOption,
} from '../../../src/wire/tcp.js';
import { hex } from './golden-frames.js';

import { TcpParse, TcpRepr } from '../../../src/wire/tcp-repr.js';

/** Parses the TCP header at b[o] of a `len`-byte segment; the reason it refuses it, or TcpParse.Ok. */
function parseHeader(b: Uint8Array, o: number, len: number): TcpParse {
  return new TcpRepr().parse(b, o, len);
}

/** The checksum and urgent-pointer fields of the TCP header at b[o], read straight from the bytes. */
function checksumField(b: Uint8Array, o: number): number {
  return (b[o + 16] << 8) | b[o + 17];
}
function urgentField(b: Uint8Array, o: number): number {
  return (b[o + 18] << 8) | b[o + 19];
}

/** 10.99.0.1 (namespace tw-a, the client, port 40000) */

const IP_A = 0x0a630001;
/** 10.99.0.2 (namespace tw-b, the server, port 5000) */
const IP_B = 0x0a630002;
const MAC_A = 0x02000000000a;
const MAC_B = 0x02000000000b;
const T = 34; // Ethernet 14 + IPv4 20

const frames = readPcap(new Uint8Array(readFileSync(new URL('../../golden/tcp-handshake.pcap', import.meta.url)))).map(
  (r) => r.frame,
);
const [syn, synAck, ack, data, dataAck, fin, finAck, lastAck] = frames as [
  Uint8Array,
  Uint8Array,
  Uint8Array,
  Uint8Array,
  Uint8Array,
  Uint8Array,
  Uint8Array,
  Uint8Array,
];
/** TCP segment length (header + data) of a golden frame. */
const segLen = (f: Uint8Array): number => ipTotalLength(f, 14) - ipHeaderLength(f, 14);
const fromA = (f: Uint8Array): boolean => tcpSrcPort(f, T) === 40000;
const srcOf = (f: Uint8Array): number => (fromA(f) ? IP_A : IP_B);
const dstOf = (f: Uint8Array): number => (fromA(f) ? IP_B : IP_A);

// Linux's initial sequence numbers and timestamps in this capture.
const ISN_A = 3550716802;
const ISN_B = 2290565465;
const TS_A0 = 293324056;
const TS_B0 = 766320941;

describe('golden Linux connection 10.99.0.1:40000 -> 10.99.0.2:5000 (handshake, "hello\\n", FIN/FIN)', () => {
  const opts = new TcpOptions();

  it('has the eight expected IPv4/TCP frames with valid checksums', () => {
    expect(frames.length).toBe(8);
    for (const f of frames) {
      expect(ethType(f, 0)).toBe(ETHERTYPE_IPV4);
      expect(validateIpv4(f, 14, f.length - 14)).toBe(Ipv4Check.Ok);
      expect(ipProtocol(f, 14)).toBe(IPPROTO_TCP);
      expect(parseHeader(f, T, segLen(f))).toBe(TcpParse.Ok);
      expect(tcpChecksumValid(f, T, segLen(f), srcOf(f), dstOf(f))).toBe(true);
      expect(urgentField(f, T)).toBe(0);
      // Every segment after the SYN carries timestamps and the ACK flag.
      if (f !== syn) expect(tcpFlags(f, T) & TCP_ACK).toBe(TCP_ACK);
    }
  });

  it('SYN', () => {
    expect(tcpSrcPort(syn, T)).toBe(40000);
    expect(tcpDstPort(syn, T)).toBe(5000);
    expect(tcpSeq(syn, T)).toBe(ISN_A);
    expect(tcpAck(syn, T)).toBe(0);
    expect(tcpDataOffset(syn, T)).toBe(40);
    expect(tcpFlags(syn, T)).toBe(TCP_SYN);
    expect(tcpWindow(syn, T)).toBe(64240);
    expect(checksumField(syn, T)).toBe(0x3ac4);
    expect(segLen(syn)).toBe(40);
    expect(parseTcpOptions(syn, T, 40, opts)).toBe(true);
    expect(opts.mss).toBe(1460);
    expect(opts.wscale).toBe(7);
    expect(opts.sackPermitted).toBe(true);
    expect(opts.hasTimestamp).toBe(true);
    expect(opts.tsVal).toBe(TS_A0);
    expect(opts.tsEcr).toBe(0);
    expect(opts.sackCount).toBe(0);
  });

  it('SYN-ACK', () => {
    expect(tcpSrcPort(synAck, T)).toBe(5000);
    expect(tcpDstPort(synAck, T)).toBe(40000);
    expect(tcpSeq(synAck, T)).toBe(ISN_B);
    expect(tcpAck(synAck, T)).toBe(seqAdd(ISN_A, 1));
    expect(tcpDataOffset(synAck, T)).toBe(40);
    expect(tcpFlags(synAck, T)).toBe(TCP_SYN | TCP_ACK);
    expect(tcpWindow(synAck, T)).toBe(65160);
    expect(checksumField(synAck, T)).toBe(0x1e60);
    expect(parseTcpOptions(synAck, T, 40, opts)).toBe(true);
    expect([opts.mss, opts.wscale, opts.sackPermitted, opts.hasTimestamp]).toEqual([1460, 7, true, true]);
    expect(opts.tsVal).toBe(TS_B0);
    expect(opts.tsEcr).toBe(TS_A0);
  });

  it('ACK, data, its ACK, FIN, FIN, last ACK: seq/ack relations, windows, timestamps', () => {
    // [frame, flags, seq, ack, window (scaled by 2^7), payload, tsVal, tsEcr]
    const rows: [Uint8Array, number, number, number, number, number, number, number][] = [
      [ack, TCP_ACK, ISN_A + 1, ISN_B + 1, 502, 0, TS_A0, TS_B0],
      [data, TCP_PSH | TCP_ACK, ISN_A + 1, ISN_B + 1, 502, 6, TS_A0 + 1, TS_B0],
      [dataAck, TCP_ACK, ISN_B + 1, ISN_A + 7, 510, 0, TS_B0 + 1, TS_A0 + 1],
      [fin, TCP_FIN | TCP_ACK, ISN_A + 7, ISN_B + 1, 502, 0, TS_A0 + 1, TS_B0 + 1],
      [finAck, TCP_FIN | TCP_ACK, ISN_B + 1, ISN_A + 8, 510, 0, TS_B0 + 1, TS_A0 + 1],
      [lastAck, TCP_ACK, ISN_A + 8, ISN_B + 2, 502, 0, TS_A0 + 1, TS_B0 + 1],
    ];
    for (const [f, flags, seq, ackNo, win, payload, tsVal, tsEcr] of rows) {
      expect(tcpFlags(f, T)).toBe(flags);
      expect(tcpSeq(f, T)).toBe(seq >>> 0);
      expect(tcpAck(f, T)).toBe(ackNo >>> 0);
      expect(tcpWindow(f, T)).toBe(win);
      expect(tcpDataOffset(f, T)).toBe(32);
      expect(segLen(f)).toBe(32 + payload);
      expect(parseTcpOptions(f, T, 32, opts)).toBe(true);
      expect([opts.mss, opts.wscale, opts.sackPermitted, opts.sackCount]).toEqual([-1, -1, false, 0]);
      expect(opts.hasTimestamp).toBe(true);
      expect(opts.tsVal).toBe(tsVal);
      expect(opts.tsEcr).toBe(tsEcr);
    }
    expect(Buffer.from(data.subarray(T + 32)).toString()).toBe('hello\n');
  });

  it("writeSynOptions reproduces Linux's SYN and SYN-ACK option blocks byte for byte", () => {
    const b = new Uint8Array(40).fill(0xee);
    expect(writeSynOptions(b, 0, 1460, 7, true, TS_A0, 0, true)).toBe(20);
    expect(hex(b.subarray(0, 20))).toBe(hex(syn.subarray(T + 20, T + 40)));
    expect(hex(b.subarray(0, 20))).toBe('020405b40402080a117bc51800000000' + '01030307');
    expect(b[20]).toBe(0xee); // nothing written past the block
    expect(writeSynOptions(b, 3, 1460, 7, true, TS_B0, TS_A0, true)).toBe(20);
    expect(hex(b.subarray(3, 23))).toBe(hex(synAck.subarray(T + 20, T + 40)));
  });

  it('rebuilds all eight frames byte for byte from the writers', () => {
    for (const f of frames) {
      const len = segLen(f);
      const hl = tcpDataOffset(f, T);
      const b = new Uint8Array(f.length).fill(0xa5);
      const a = fromA(f);
      writeEthernetHeader(b, 0, a ? MAC_B : MAC_A, a ? MAC_A : MAC_B, ETHERTYPE_IPV4);
      writeIpv4Header(b, 14, 20 + len, ipId(f, 14), IPV4_DF, 64, IPPROTO_TCP, srcOf(f), dstOf(f));
      const [sp, dp, seq, ackNo] = [tcpSrcPort(f, T), tcpDstPort(f, T), tcpSeq(f, T), tcpAck(f, T)];
      writeTcpHeader(b, T, sp, dp, seq, ackNo, hl, tcpFlags(f, T), tcpWindow(f, T));
      expect(checksumField(b, T)).toBe(0);
      expect(urgentField(b, T)).toBe(0);
      expect(parseTcpOptions(f, T, hl, opts)).toBe(true);
      const n =
        (tcpFlags(f, T) & TCP_SYN) !== 0
          ? writeSynOptions(b, T + 20, opts.mss, opts.wscale, opts.sackPermitted, opts.tsVal, opts.tsEcr, true)
          : writeTimestampOption(b, T + 20, opts.tsVal, opts.tsEcr);
      expect(20 + n).toBe(hl);
      b.set(f.subarray(T + hl), T + hl);
      fillTcpChecksum(b, T, len, srcOf(f), dstOf(f));
      expect(hex(b)).toBe(hex(f));
    }
  });

  it('tcpPseudoHeaderPartial is the checksum-offload seed Linux put in the field', () => {
    // With TX checksum offload left on, tcpdump on the sending veth saw these exact
    // values in the checksum field: 0x14f7 for the 40-byte SYNs, 0x14ef for 32-byte
    // ACKs, 0x14f5 for the 38-byte data segment (the sum is symmetric in src/dst).
    expect(tcpPseudoHeaderPartial(IP_A, IP_B, 40)).toBe(0x14f7);
    expect(tcpPseudoHeaderPartial(IP_B, IP_A, 40)).toBe(0x14f7);
    expect(tcpPseudoHeaderPartial(IP_A, IP_B, 32)).toBe(0x14ef);
    expect(tcpPseudoHeaderPartial(IP_A, IP_B, 38)).toBe(0x14f5);
    // Completing it as a device does (checksum of the segment with the seed in place)
    // gives Linux's final checksum.
    for (const f of frames) {
      const b = f.slice();
      const len = segLen(f);
      setTcpChecksum(b, T, tcpPseudoHeaderPartial(srcOf(f), dstOf(f), len));
      expect(~onesSum(b, T, len) & 0xffff).toBe(checksumField(f, T));
    }
  });

  it('checksum catches corruption, a wrong pseudo-header and a wrong length', () => {
    const len = segLen(data);
    const b = data.slice();
    b[T + 32] ^= 0x20; // 'h' -> 'H'
    expect(tcpChecksumValid(b, T, len, IP_A, IP_B)).toBe(false);
    expect(tcpChecksumValid(b, T, len, IP_A, IP_B)).toBe(false);
    fillTcpChecksum(b, T, len, IP_A, IP_B);
    expect(tcpChecksumValid(b, T, len, IP_A, IP_B)).toBe(true);
    expect(tcpChecksumValid(data, T, len, IP_A, IP_A)).toBe(false);
    expect(tcpChecksumValid(data, T, len, IP_B, IP_A)).toBe(true); // addresses commute in the sum
    expect(tcpChecksumValid(data, T, len - 1, IP_A, IP_B)).toBe(false);
    // fillTcpChecksum ignores whatever the field held.
    const c = data.slice();
    setTcpChecksum(c, T, 0x1234);
    fillTcpChecksum(c, T, len, IP_A, IP_B);
    expect(hex(c)).toBe(hex(data));
  });
});

describe('header writer and TcpRepr.parse', () => {
  it('writeTcpHeader sets every field and clears reserved, checksum and urgent', () => {
    const b = new Uint8Array(24).fill(0xff);
    writeTcpHeader(b, 2, 0xabcd, 0x0102, 0xfffffffe, 0x80000001, 60, TCP_CWR | TCP_ECE | TCP_URG | TCP_RST, 0xfffe);
    expect(tcpSrcPort(b, 2)).toBe(0xabcd);
    expect(tcpDstPort(b, 2)).toBe(0x0102);
    expect(tcpSeq(b, 2)).toBe(0xfffffffe);
    expect(tcpAck(b, 2)).toBe(0x80000001);
    expect(tcpDataOffset(b, 2)).toBe(TCP_MAX_HEADER);
    expect(b[2 + 12]).toBe(0xf0);
    expect(tcpFlags(b, 2)).toBe(0xe4);
    expect(tcpWindow(b, 2)).toBe(0xfffe);
    expect(checksumField(b, 2)).toBe(0);
    expect(urgentField(b, 2)).toBe(0);
    expect([b[0], b[1], b[22], b[23]]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect([TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG, TCP_ECE, TCP_CWR]).toEqual([
      1, 2, 4, 8, 16, 32, 64, 128,
    ]);
  });

  it('TcpRepr.parse reason codes (the checks the TCP layer drops and counts by)', () => {
    const b = new Uint8Array(80);
    writeTcpHeader(b, 0, 1, 2, 3, 4, 20, TCP_ACK, 5);
    expect(parseHeader(b, 0, 20)).toBe(TcpParse.Ok);
    expect(parseHeader(b, 0, 19)).toBe(TcpParse.Truncated);
    expect(parseHeader(b, 0, 0)).toBe(TcpParse.Truncated);
    expect(parseHeader(b, 0, -1)).toBe(TcpParse.Truncated);
    expect(parseHeader(b, 70, 20)).toBe(TcpParse.Truncated); // only 10 bytes left in the buffer
    b[12] = 4 << 4; // 16 bytes
    expect(parseHeader(b, 0, 40)).toBe(TcpParse.BadDataOffset);
    b[12] = 0;
    expect(parseHeader(b, 0, 40)).toBe(TcpParse.BadDataOffset);
    b[12] = 15 << 4; // 60 bytes
    expect(parseHeader(b, 0, 60)).toBe(TcpParse.Ok);
    expect(parseHeader(b, 0, 59)).toBe(TcpParse.BadDataOffset);
    expect(parseHeader(b, 30, 60)).toBe(TcpParse.BadDataOffset); // 60 claimed, 50 in the buffer
    b[12] = (8 << 4) | 0x0f; // reserved bits do not matter
    expect(parseHeader(b, 0, 32)).toBe(TcpParse.Ok);
    expect(TCP_MIN_HEADER).toBe(20);
    expect(parseHeader(syn, T, segLen(syn))).toBe(TcpParse.Ok);
    expect(parseHeader(syn, T, 39)).toBe(TcpParse.BadDataOffset);
  });
});

/** A header at offset 3 (to test offsets) whose option area is `opts`, padded with EOL. */
function withOptions(opts: number[], pad = true): { b: Uint8Array; hl: number } {
  const optLen = pad ? (opts.length + 3) & ~3 : opts.length;
  const b = new Uint8Array(3 + 20 + optLen + 4).fill(0x77);
  writeTcpHeader(b, 3, 1, 2, 3, 4, 20 + optLen, TCP_ACK, 1);
  b.fill(0, 23, 23 + optLen);
  b.set(opts, 23);
  return { b, hl: 20 + optLen };
}
function parse(opts: number[], out = new TcpOptions()): boolean {
  const { b, hl } = withOptions(opts);
  return parseTcpOptions(b, 3, hl, out);
}

describe('parseTcpOptions', () => {
  it('parses each option, skips NOPs and unknown kinds, stops at EOL', () => {
    const o = new TcpOptions();
    expect(parse([1, 1, 2, 4, 0x05, 0xb4, 3, 3, 9, 99, 4, 0xaa, 0xbb, 4, 2], o)).toBe(true);
    expect([o.mss, o.wscale, o.sackPermitted, o.hasTimestamp, o.sackCount]).toEqual([1460, 9, true, false, 0]);
    const ts = [8, 10, 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff];
    const sack = [5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10];
    expect(parse([...ts, ...sack], o)).toBe(true);
    expect(o.hasTimestamp).toBe(true);
    expect(o.tsVal).toBe(0x01020304);
    expect(o.tsEcr).toBe(0xffffffff);
    expect(o.sackCount).toBe(2);
    expect(Array.from(o.sackBlocks.subarray(0, 4))).toEqual([1, 2, 0xfffffff0, 0x10]);
    expect(o.mss).toBe(-1); // reset before parsing
    // Anything after EOL is ignored, even garbage.
    expect(parse([2, 4, 1, 0, 0, 2, 0, 0], o)).toBe(true);
    expect(o.mss).toBe(256);
    // No options at all.
    expect(parseTcpOptions(syn, T, 20, o)).toBe(true);
    expect(o.mss).toBe(-1);
  });

  it('clamps a window shift above 14 to 14 (RFC 7323 section 2.3)', () => {
    const o = new TcpOptions();
    for (const [v, want] of [
      [14, 14],
      [15, 14],
      [255, 14],
      [0, 0],
    ]) {
      expect(parse([3, 3, v], o)).toBe(true);
      expect(o.wscale).toBe(want);
    }
  });

  it('rejects each malformed case and keeps what was parsed before it', () => {
    const cases: [string, number[]][] = [
      ['length 0 (unknown kind)', [30, 0]],
      ['length 1 (unknown kind)', [30, 1, 0, 0]],
      ['length 0 (MSS)', [2, 0, 0, 0]],
      ['length 1 (SACK_PERMITTED)', [4, 1]],
      ['length byte missing', [1, 1, 1, 30]],
      ['option past the header (unknown)', [30, 6, 0, 0]],
      ['option past the header (TS)', [8, 10, 0, 0, 0, 0, 0, 0]],
      ['MSS length 3', [2, 3, 5, 0]],
      ['MSS length 5', [2, 5, 5, 0xb4, 0, 0, 0, 0]],
      ['WSCALE length 2', [3, 2, 0, 0]],
      ['WSCALE length 4', [3, 4, 7, 0]],
      ['SACK_PERMITTED length 3', [4, 3, 0, 0]],
      ['TIMESTAMP length 8', [8, 8, 0, 0, 0, 0, 0, 0]],
      ['TIMESTAMP length 12', [8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
      ['SACK length 2 (no block)', [5, 2, 0, 0]],
      ['SACK length 9', [5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
      ['SACK length 17', [5, 17, ...new Array<number>(18).fill(0)]],
      ['SACK length 26 + 8 (5 blocks) past the header', [5, 42, ...new Array<number>(30).fill(0)]],
    ];
    const o = new TcpOptions();
    for (const [name, bad] of cases) {
      // Valid options first: they stay in `out` when the parser gives up.
      const prefix = [2, 4, 0x05, 0x78, 1, 3, 3, 2];
      const opts = [...prefix, ...bad];
      const { b, hl } = withOptions(opts, true);
      // Options past the header: make the header end exactly at the bad option's end.
      const hlUsed = name.includes('past the header') || name.startsWith('length byte') ? 20 + opts.length : hl;
      if (hlUsed > TCP_MAX_HEADER) throw new Error(`case ${name} too long`);
      expect(parseTcpOptions(b, 3, hlUsed, o), name).toBe(false);
      expect(o.mss, name).toBe(1400);
      expect(o.wscale, name).toBe(2);
      expect(o.hasTimestamp, name).toBe(false);
    }
  });

  it('stops at the end of the buffer when headerLen claims more', () => {
    const b = new Uint8Array([...new Array<number>(20).fill(0), 1, 1, 2, 4]);
    expect(parseTcpOptions(b, 0, 40, new TcpOptions())).toBe(false);
    // A kind byte as the very last byte of header and buffer: no length byte to read.
    const d = new Uint8Array([...new Array<number>(20).fill(0), 1, 1, 1, 30]);
    expect(parseTcpOptions(d, 0, 24, new TcpOptions())).toBe(false);
    // A caller-supplied headerLen beyond 60 still cannot smuggle in 5 SACK blocks.
    const e = new Uint8Array(20 + 44);
    e.set([5, 42], 20);
    expect(parseTcpOptions(e, 0, 64, new TcpOptions())).toBe(false);
    const c = new Uint8Array([...new Array<number>(20).fill(0), 2, 4, 1, 0]);
    const o = new TcpOptions();
    expect(parseTcpOptions(c, 0, 60, o)).toBe(true);
    expect(o.mss).toBe(256);
  });

  // ---- properties ----------------------------------------------------------------
  type Opt =
    | { k: 'mss'; v: number }
    | { k: 'ws'; v: number }
    | { k: 'sackp' }
    | { k: 'ts'; val: number; ecr: number }
    | { k: 'sack'; blocks: number[] }
    | { k: 'nop' }
    | { k: 'unknown'; kind: number; body: number[] };
  const u32 = fc.nat({ max: 0xffffffff });
  const optArb: fc.Arbitrary<Opt> = fc.oneof(
    fc.record({ k: fc.constant('mss' as const), v: fc.nat({ max: 0xffff }) }),
    fc.record({ k: fc.constant('ws' as const), v: fc.nat({ max: 255 }) }),
    fc.record({ k: fc.constant('sackp' as const) }),
    fc.record({ k: fc.constant('ts' as const), val: u32, ecr: u32 }),
    fc.record({ k: fc.constant('sack' as const), blocks: fc.array(u32, { minLength: 2, maxLength: 8 }) }).map((o) => ({
      ...o,
      blocks: o.blocks.slice(0, o.blocks.length & ~1),
    })),
    fc.record({ k: fc.constant('nop' as const) }),
    fc.record({
      k: fc.constant('unknown' as const),
      kind: fc.integer({ min: 6, max: 255 }).filter((k) => k !== 8),
      body: fc.array(fc.nat({ max: 255 }), { maxLength: 6 }),
    }),
  );
  function encode(o: Opt): number[] {
    const u32be = (v: number) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    switch (o.k) {
      case 'mss':
        return [2, 4, o.v >>> 8, o.v & 0xff];
      case 'ws':
        return [3, 3, o.v];
      case 'sackp':
        return [4, 2];
      case 'ts':
        return [8, 10, ...u32be(o.val), ...u32be(o.ecr)];
      case 'sack':
        return [5, 2 + 4 * o.blocks.length, ...o.blocks.flatMap(u32be)];
      case 'nop':
        return [1];
      case 'unknown':
        return [o.kind, 2 + o.body.length, ...o.body];
    }
  }
  /** A valid list fitting in 40 bytes. */
  const listArb = fc
    .array(optArb, { maxLength: 12 })
    .map((list) => {
      const out: Opt[] = [];
      let n = 0;
      for (const o of list) {
        const l = encode(o).length;
        if (n + l > 40) break;
        out.push(o);
        n += l;
      }
      return out;
    });

  it('property: valid option lists round-trip (last occurrence wins)', () => {
    const out = new TcpOptions();
    fc.assert(
      fc.property(listArb, (list) => {
        const bytes = list.flatMap(encode);
        expect(parse(bytes, out)).toBe(true);
        const want = { mss: -1, ws: -1, sackp: false, ts: false, val: 0, ecr: 0, sack: [] as number[] };
        for (const o of list) {
          if (o.k === 'mss') want.mss = o.v;
          else if (o.k === 'ws') want.ws = Math.min(o.v, 14);
          else if (o.k === 'sackp') want.sackp = true;
          else if (o.k === 'ts') Object.assign(want, { ts: true, val: o.val, ecr: o.ecr });
          else if (o.k === 'sack') want.sack = o.blocks;
        }
        expect(out.mss).toBe(want.mss);
        expect(out.wscale).toBe(want.ws);
        expect(out.sackPermitted).toBe(want.sackp);
        expect(out.hasTimestamp).toBe(want.ts);
        expect(out.tsVal).toBe(want.val);
        expect(out.tsEcr).toBe(want.ecr);
        expect(out.sackCount).toBe(want.sack.length / 2);
        expect(Array.from(out.sackBlocks.subarray(0, want.sack.length))).toEqual(want.sack);
      }),
      { numRuns: 1500, seed: 0x7cb },
    );
  });

  it('property: a wrong length on any known option makes the list malformed', () => {
    const known = new Set([TCPOPT_MSS, TCPOPT_WSCALE, TCPOPT_SACK_PERMITTED, TCPOPT_TIMESTAMP, TCPOPT_SACK]);
    const KNOWN_LEN: Record<number, number> = {
      [TCPOPT_MSS]: 4,
      [TCPOPT_WSCALE]: 3,
      [TCPOPT_SACK_PERMITTED]: 2,
      [TCPOPT_TIMESTAMP]: 10,
    };
    const out = new TcpOptions();
    fc.assert(
      fc.property(listArb, fc.nat(), fc.nat({ max: 255 }), (list, pick, newLen) => {
        const starts: number[] = [];
        const bytes: number[] = [];
        for (const o of list) {
          if (o.k !== 'nop' && o.k !== 'unknown') starts.push(bytes.length);
          bytes.push(...encode(o));
        }
        fc.pre(starts.length > 0);
        const at = starts[pick % starts.length];
        const kind = bytes[at];
        expect(known.has(kind)).toBe(true);
        const valid =
          kind === TCPOPT_SACK ? newLen >= 10 && newLen <= 34 && (newLen - 2) % 8 === 0 : newLen === KNOWN_LEN[kind];
        fc.pre(!valid);
        bytes[at + 1] = newLen;
        expect(parse(bytes, out)).toBe(false);
      }),
      { numRuns: 1500, seed: 0xbad },
    );
  });

  it('property: random bytes and header lengths never throw', () => {
    const out = new TcpOptions();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), fc.nat({ max: 80 }), fc.nat({ max: 8 }), (bytes, hl, o) => {
        const r = parseTcpOptions(bytes, o, hl, out);
        expect(typeof r).toBe('boolean');
        expect(out.sackCount).toBeLessThanOrEqual(4);
        expect(out.wscale).toBeLessThanOrEqual(14);
      }),
      { numRuns: 3000, seed: 0xf00d },
    );
  });
});

describe('option writers', () => {
  it('writeSynOptions: every combination has Linux layout, 32-bit alignment and parses back', () => {
    const o = new TcpOptions();
    const layouts: Record<string, string> = {
      // key: sack,ts,ws
      '1,1,1': '020405b4 0402080a 11223344 55667788 01030307',
      '1,1,0': '020405b4 0402080a 11223344 55667788',
      '0,1,1': '020405b4 0101080a 11223344 55667788 01030307',
      '0,1,0': '020405b4 0101080a 11223344 55667788',
      '1,0,1': '020405b4 01010402 01030307',
      '1,0,0': '020405b4 01010402',
      '0,0,1': '020405b4 01030307',
      '0,0,0': '020405b4',
    };
    for (const sack of [true, false]) {
      for (const ts of [true, false]) {
        for (const ws of [7, -1]) {
          const b = new Uint8Array(20 + 40);
          const n = writeSynOptions(b, 20, 1460, ws, sack, 0x11223344, 0x55667788, ts);
          expect(n % 4).toBe(0);
          expect(hex(b.subarray(20, 20 + n))).toBe(layouts[`${+sack},${+ts},${+(ws >= 0)}`].replaceAll(' ', ''));
          expect(parseTcpOptions(b, 0, 20 + n, o)).toBe(true);
          expect([o.mss, o.wscale, o.sackPermitted, o.hasTimestamp]).toEqual([1460, ws, sack, ts]);
          if (ts) expect([o.tsVal, o.tsEcr]).toEqual([0x11223344, 0x55667788]);
        }
      }
    }
    const b = new Uint8Array(8);
    expect(writeSynOptions(b, 0, -1, 0, false, 0, 0, false)).toBe(4); // MSS omitted
    expect(hex(b.subarray(0, 4))).toBe('01030300');
  });

  it('writeTimestampOption: NOP NOP TS, 12 bytes', () => {
    const b = new Uint8Array(14).fill(0xee);
    expect(writeTimestampOption(b, 1, 0xdeadbeef, 1)).toBe(12);
    expect(hex(b)).toBe('ee' + '0101080adeadbeef00000001' + 'ee');
  });

  it('writeSackOption: NOP NOP SACK(2+8n), count clamped to 4, 0 writes nothing', () => {
    const blocks = new Uint32Array([1, 2, 3, 4, 5, 6, 0xfffffff0, 0x10]);
    const o = new TcpOptions();
    for (let n = 1; n <= 4; n++) {
      const b = new Uint8Array(60);
      writeTcpHeader(b, 0, 1, 2, 3, 4, 0, TCP_ACK, 1);
      let len = writeTimestampOption(b, 20, 7, 8);
      len += writeSackOption(b, 20 + len, blocks, n);
      expect(len).toBe(12 + 4 + 8 * n);
      expect([b[32], b[33], b[34], b[35]]).toEqual([TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 2 + 8 * n]);
      if (20 + len > TCP_MAX_HEADER) continue; // 4 blocks do not fit with timestamps
      expect(parseTcpOptions(b, 0, 20 + len, o)).toBe(true);
      expect(o.sackCount).toBe(n);
      expect(Array.from(o.sackBlocks.subarray(0, 2 * n))).toEqual(Array.from(blocks.subarray(0, 2 * n)));
      expect([o.tsVal, o.tsEcr]).toEqual([7, 8]);
    }
    const b = new Uint8Array(40).fill(0xee);
    expect(writeSackOption(b, 0, blocks, 0)).toBe(0);
    expect(b[0]).toBe(0xee);
    expect(writeSackOption(b, 0, blocks, 5)).toBe(36);
    const h = new Uint8Array(56);
    h.set(b.subarray(0, 36), 20);
    expect(parseTcpOptions(h, 0, 56, o)).toBe(true);
    expect(o.sackCount).toBe(4);
    expect(TCPOPT_EOL).toBe(0);
  });
});
