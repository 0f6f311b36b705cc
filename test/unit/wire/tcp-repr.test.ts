/**
 * TcpRepr: parse(emit(r)) gives r back for every header that fits (a property over random
 * headers, SYN and not), emit reproduces the golden SYN of a Linux capture byte for byte,
 * SACK blocks beyond the option space are left out, and parse names what it refuses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TcpParse, TcpRepr } from '../../../src/wire/tcp-repr.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN } from '../../../src/wire/tcp.js';
import { readFileSync } from 'node:fs';
import { readPcap } from '../../../src/phy/pcap.js';

/** The SYN, SYN-ACK, ACK … of test/golden/tcp-handshake.pcap (Linux, see test/golden/README.md). */
function handshake(): Uint8Array[] {
  return readPcap(new Uint8Array(readFileSync(new URL('../../golden/tcp-handshake.pcap', import.meta.url)))).map((r) => r.frame);
}

const u32 = fc.nat(0xffffffff);
const u16 = fc.nat(0xffff);

/** Random headers that fit: SYN options or timestamps plus at most what SACK room allows. */
const arbRepr = fc.record({
  srcPort: u16, dstPort: u16, seq: u32, ack: u32, window: u16,
  syn: fc.boolean(), otherFlags: fc.constantFrom(0, TCP_ACK, TCP_ACK | TCP_PSH, TCP_ACK | TCP_FIN),
  mss: fc.option(u16, { nil: -1 }), wscale: fc.option(fc.nat(14), { nil: -1 }), sackPermitted: fc.boolean(),
  ts: fc.option(fc.tuple(u32, u32), { nil: null }),
  sack: fc.array(fc.tuple(u32, u32), { maxLength: 4 }),
});

type ArbRepr = typeof arbRepr extends fc.Arbitrary<infer T> ? T : never;

function build(x: ArbRepr): TcpRepr {
  const r = new TcpRepr();
  r.srcPort = x.srcPort;
  r.dstPort = x.dstPort;
  r.seq = x.seq;
  r.ack = x.ack;
  r.window = x.window;
  r.flags = (x.syn ? TCP_SYN : 0) | x.otherFlags;
  const o = r.opts;
  o.reset();
  if (x.ts) {
    o.hasTimestamp = true;
    o.tsVal = x.ts[0];
    o.tsEcr = x.ts[1];
  }
  if (x.syn) {
    o.mss = x.mss;
    o.wscale = x.wscale;
    o.sackPermitted = x.sackPermitted;
  } else {
    const room = x.ts ? 3 : 4;
    const blocks = x.sack.slice(0, room);
    blocks.forEach(([l, rr], k) => {
      o.sackBlocks[2 * k] = l;
      o.sackBlocks[2 * k + 1] = rr;
    });
    o.sackCount = blocks.length;
  }
  return r;
}

function fields(r: TcpRepr) {
  const o = r.opts;
  return {
    srcPort: r.srcPort, dstPort: r.dstPort, seq: r.seq, ack: r.ack, flags: r.flags, window: r.window,
    mss: o.mss, wscale: o.wscale, sackPermitted: o.sackPermitted, ts: o.hasTimestamp ? [o.tsVal, o.tsEcr] : null,
    sack: [...o.sackBlocks.subarray(0, 2 * o.sackCount)],
  };
}

describe('TcpRepr', () => {
  it('parse(emit(r)) round-trips every header that fits, with the payload after it', () => {
    fc.assert(
      fc.property(arbRepr, fc.nat(100), (x, payload) => {
        const r = build(x);
        const b = new Uint8Array(3 + 60 + payload);
        const hlen = r.emit(b, 3);
        expect(hlen).toBe(r.headerLen());
        expect(hlen % 4).toBe(0);
        expect(hlen).toBeLessThanOrEqual(60);
        const p = new TcpRepr();
        expect(p.parse(b, 3, hlen + payload)).toBe(TcpParse.Ok);
        expect(fields(p)).toEqual(fields(r));
        expect([p.dataOff, p.dataLen]).toEqual([3 + hlen, payload]);
      }),
      { numRuns: 500 },
    );
  });

  it('emits the SYN and SYN-ACK of a Linux capture byte for byte (MSS, SACK-permitted, timestamps, window scale)', () => {
    for (const f of handshake().slice(1, 2)) {
      const p = new TcpRepr();
      expect(p.parse(f, 34, f.length - 34)).toBe(TcpParse.Ok);
      const out = new Uint8Array(60);
      const hlen = p.emit(out, 0);
      const want = f.slice(34, 34 + hlen);
      want[16] = 0;
      want[17] = 0;
      expect([...out.subarray(0, hlen)]).toEqual([...want]);
    }
    const syn = handshake()[0];
    const tcp = 34;
    const p = new TcpRepr();
    expect(p.parse(syn, tcp, syn.length - tcp)).toBe(TcpParse.Ok);
    const out = new Uint8Array(60);
    const hlen = p.emit(out, 0);
    const want = syn.slice(tcp, tcp + hlen);
    want[16] = 0; // the checksum is the caller's
    want[17] = 0;
    expect([...out.subarray(0, hlen)]).toEqual([...want]);
  });

  it('leaves out the SACK blocks that do not fit next to the timestamps', () => {
    const r = new TcpRepr();
    r.flags = TCP_ACK;
    r.opts.hasTimestamp = true;
    r.opts.sackCount = 4;
    expect(r.sackBlocksToEmit()).toBe(3);
    expect(r.headerLen()).toBe(20 + 12 + 4 + 24);
    const p = new TcpRepr();
    const b = new Uint8Array(60);
    p.parse(b, 0, r.emit(b, 0));
    expect(p.opts.sackCount).toBe(3);
  });

  it('names what it refuses: truncated, bad data offset, bad options (keeping the fixed fields)', () => {
    const b = new Uint8Array(40);
    const r = new TcpRepr();
    expect(r.parse(b, 0, 19)).toBe(TcpParse.Truncated);
    expect(r.parse(b, 30, 20)).toBe(TcpParse.Truncated); // 10 bytes left in the buffer
    b[12] = 4 << 4;
    expect(r.parse(b, 0, 40)).toBe(TcpParse.BadDataOffset);
    b[12] = 10 << 4;
    expect(r.parse(b, 0, 39)).toBe(TcpParse.BadDataOffset);
    b[2] = 0x1f; b[3] = 0x90; // dst port 8080
    b[20] = 2; b[21] = 5; // MSS with length 5
    expect(r.parse(b, 0, 40)).toBe(TcpParse.BadOptions);
    expect(r.dstPort).toBe(8080);
  });
});
