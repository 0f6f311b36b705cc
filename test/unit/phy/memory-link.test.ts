/**
 * MemoryLink: an in-memory cable between two LinkDevices with a virtual clock, delay,
 * faults and bounds; offload requests delivered as a wire would (checksums completed,
 * super-frames segmented by phy/soft-offload.ts) or as Linux delivers locally (flags).
 */
import { describe, expect, it } from 'vitest';
import { FrameBatch } from '../../../src/base/frame-batch.js';
import { TxOffload } from '../../../src/base/link.js';
import { RX_CSUM_PARTIAL, RX_GSO } from '../../../src/base/rx-flags.js';
import { MemoryLink } from '../../../src/phy/memory-link.js';
import { ipTotalLength, IPPROTO_TCP } from '../../../src/wire/ipv4.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, tcpChecksumValid, tcpFlags, tcpSeq, tcpPseudoHeaderPartial } from '../../../src/wire/tcp.js';
import { udpChecksumValid } from '../../../src/wire/udp.js';
import { IPPROTO_UDP, ipv4Frame, patternBytes, tcpOffload, tcpSuperFrame as superFrame, udpDatagram } from '../../helpers/frames.js';

const SRC = 0x0a000001;
const DST = 0x0a000002;

function send(link: MemoryLink, from: 'A' | 'B', frames: Uint8Array[], offload: TxOffload | null = null): number {
  const dev = from === 'A' ? link.a : link.b;
  const b = new FrameBatch(new Uint8Array(1 << 18), 64);
  for (const f of frames) {
    const o = b.reserve(f.length);
    b.buf.set(f, o);
    b.commit(f.length, offload);
  }
  return dev.transmit(b, 0);
}

function recv(link: MemoryLink, to: 'A' | 'B', max = 64) {
  const dev = to === 'A' ? link.a : link.b;
  const b = new FrameBatch(new Uint8Array(1 << 18), 64);
  const n = dev.receive(b, max, 0);
  return Array.from({ length: n }, (_, i) => ({
    bytes: b.buf.slice(b.offsets[i], b.offsets[i] + b.lens[i]),
    rxFlags: b.rxFlags[i],
    segSize: b.segSize[i],
  }));
}

function tcpSuperFrame(payload: number): Uint8Array {
  return superFrame(SRC, DST, payload);
}

describe('MemoryLink', () => {
  it('frames arrive after the delay on the link clock, in order, at the other end only', () => {
    let now = 100;
    const link = new MemoryLink({ clock: () => now, delay: 5 });
    expect(send(link, 'A', [new Uint8Array([1]), new Uint8Array([2])])).toBe(2);
    expect(recv(link, 'B')).toEqual([]);
    expect(link.b.nextArrival()).toBe(105);
    expect(link.a.nextArrival()).toBe(Infinity);
    now = 105;
    expect(recv(link, 'A')).toEqual([]);
    expect(recv(link, 'B').map((f) => [...f.bytes])).toEqual([[1], [2]]);
    expect(link.inFlightCount).toBe(0);
  });

  it('the fault function drops, duplicates and delays (reorders) frames; indexes count every frame sent', () => {
    let now = 0;
    const link = new MemoryLink({ clock: () => now, delay: 1 });
    const seen: number[] = [];
    link.fault = (f, i) => {
      seen.push(i);
      if (i === 0) return [];
      if (i === 1) return [f, f];
      if (i === 2) return [{ ...f, at: f.at + 10 }];
      return [f];
    };
    send(link, 'A', [0, 1, 2, 3].map((x) => new Uint8Array([x])));
    now = 1;
    expect(recv(link, 'B').map((f) => f.bytes[0])).toEqual([1, 1, 3]);
    now = 11;
    expect(recv(link, 'B').map((f) => f.bytes[0])).toEqual([2]);
    expect(seen).toEqual([0, 1, 2, 3]);
  });

  it('bounded: beyond maxQueued frames in flight transmit takes no more; oversize frames are dropped and counted', () => {
    const link = new MemoryLink({ maxQueued: 3, capabilities: { mtu: 100 } });
    expect(send(link, 'A', [1, 2, 3, 4, 5].map((x) => new Uint8Array([x])))).toBe(3);
    expect(send(link, 'B', [new Uint8Array(200), new Uint8Array([9])])).toBe(2);
    expect(recv(link, 'A').map((f) => f.bytes.length)).toEqual([1]);
    expect(link.oversize).toBe(1);
    expect(recv(link, 'B')).toHaveLength(3);
    expect(send(link, 'A', [new Uint8Array([6])])).toBe(1);
  });

  it("'wire' delivery completes a partial checksum", () => {
    const link = new MemoryLink({ capabilities: { txChecksum: true } });
    const u = udpDatagram(SRC, DST, 1, 2, patternBytes(33));
    const partial = u.slice();
    // The checksum field holds only the pseudo-header sum, as the core writes it with offload.
    const ph = tcpPseudoHeaderPartial(SRC, DST, u.length) - IPPROTO_TCP + IPPROTO_UDP;
    partial[6] = ph >> 8;
    partial[7] = ph & 0xff;
    const o = new TxOffload();
    o.csumStart = 34;
    o.csumOffset = 6;
    send(link, 'A', [ipv4Frame(2, 1, SRC, DST, IPPROTO_UDP, partial)], o);
    const [f] = recv(link, 'B');
    expect(f.rxFlags).toBe(0);
    expect(udpChecksumValid(f.bytes, 34, u.length, SRC, DST)).toBe(true);
    expect([...f.bytes.subarray(34)]).toEqual([...u]);
  });

  it("'wire' delivery cuts a TCP super-frame into MSS segments with their own sequence numbers, flags and checksums", () => {
    const link = new MemoryLink({ capabilities: { txChecksum: true, tsoMaxPayload: 65_000 } });
    send(link, 'A', [tcpSuperFrame(5000)], tcpOffload(1448));
    const segs = recv(link, 'B');
    expect(segs.map((s) => ipTotalLength(s.bytes, 14) - 40)).toEqual([1448, 1448, 1448, 656]);
    expect(segs.map((s) => tcpSeq(s.bytes, 34))).toEqual([0xfffff000, 0xfffff5a8, 0xfffffb50, 0x000000f8]);
    expect(segs.map((s) => tcpFlags(s.bytes, 34))).toEqual([TCP_ACK, TCP_ACK, TCP_ACK, TCP_ACK | TCP_PSH | TCP_FIN]);
    for (const s of segs) {
      expect(s.bytes.length).toBeLessThanOrEqual(1514);
      expect(tcpChecksumValid(s.bytes, 34, s.bytes.length - 34, SRC, DST)).toBe(true);
    }
    const payload = Buffer.concat(segs.map((s) => s.bytes.subarray(54)));
    expect(payload.equals(Buffer.from(patternBytes(5000, 5)))).toBe(true);
  });

  it("'local' delivery hands the super-frame up as it is, marked partial checksum + aggregate with its segment size", () => {
    const link = new MemoryLink({ capabilities: { txChecksum: true, tsoMaxPayload: 65_000 }, deliver: 'local' });
    const f = tcpSuperFrame(30_000);
    send(link, 'A', [f], tcpOffload(1448));
    send(link, 'A', [new Uint8Array(60)]);
    const got = recv(link, 'B');
    expect(got.map((g) => [g.bytes.length, g.rxFlags, g.segSize])).toEqual([
      [f.length, RX_CSUM_PARTIAL | RX_GSO, 1448],
      [60, 0, 0],
    ]);
    expect(link.b.capabilities.maxRxFrame).toBeGreaterThanOrEqual(14 + 65535);
  });
});
