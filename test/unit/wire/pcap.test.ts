/** pcap writer/reader (src/phy/pcap.ts): round trip, byte layout, both byte orders, ns magic. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapWriter, readPcap } from '../../../src/phy/pcap.js';
import { golden, hex } from './golden-frames.js';

const dir = mkdtempSync(join(tmpdir(), 'stackd-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Build a pcap file by hand in either byte order and time resolution. */
function handmade(le: boolean, nanos: boolean, recs: Array<[number, number, Uint8Array]>): Uint8Array {
  const size = 24 + recs.reduce((n, [, , f]) => n + 16 + f.length, 0);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, nanos ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(16, 65535, le);
  dv.setUint32(20, 1, le);
  let p = 24;
  for (const [sec, frac, f] of recs) {
    dv.setUint32(p, sec, le);
    dv.setUint32(p + 4, frac, le);
    dv.setUint32(p + 8, f.length, le);
    dv.setUint32(p + 12, f.length, le);
    out.set(f, p + 16);
    p += 16 + f.length;
  }
  return out;
}

describe('PcapWriter', () => {
  it('writes the global header and records byte for byte', () => {
    const path = join(dir, 'layout.pcap');
    const w = new PcapWriter(path);
    const frame = Uint8Array.from([9, 9, 1, 2, 3, 9]);
    w.write(frame, 2, 3, 1_700_000_000_123.456);
    w.close();
    const bytes = new Uint8Array(readFileSync(path));
    expect(hex(bytes)).toBe(
      'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + 'ffff0000' + '01000000' + // global header
        '00f15365' + '40e20100' + '03000000' + '03000000' + '010203', // 1700000000 s, 123456 us, 3, 3
    );
  });

  it('round-trips the golden frames and a jumbo frame with their times, across buffer flushes', () => {
    const path = join(dir, 'rt.pcap');
    const w = new PcapWriter(path);
    const jumbo = new Uint8Array(9000).map((_, i) => (i * 13) & 0xff); // written directly, not staged
    const frames = [...golden('arp'), ...golden('ping-frag'), jumbo, ...golden('udp-unreach')];
    const want: Array<{ timeMs: number; frame: string }> = [];
    // Enough copies to cross the 256 KiB internal buffer several times.
    for (let k = 0; k < 100; k++) {
      frames.forEach((f, i) => {
        const t = 1_764_000_000_000 + k * 1000 + i * 0.001 + 0.5;
        const pad = new Uint8Array(f.length + 4);
        pad.set(f, 4);
        w.write(pad, 4, f.length, t);
        want.push({ timeMs: t, frame: hex(f) });
      });
    }
    w.close();
    w.write(frames[0], 0, 10, 0); // ignored after close
    const got = readPcap(new Uint8Array(readFileSync(path)));
    expect(got.length).toBe(want.length);
    got.forEach((r, i) => {
      expect(hex(r.frame)).toBe(want[i].frame);
      expect(r.timeMs).toBeCloseTo(want[i].timeMs, 3);
    });
  });

  it('truncates frames to the 65535 snaplen and keeps the original length', () => {
    const path = join(dir, 'snap.pcap');
    const w = new PcapWriter(path);
    const big = new Uint8Array(70000).map((_, i) => i & 0xff);
    w.write(big, 0, big.length, 0);
    w.close();
    const bytes = new Uint8Array(readFileSync(path));
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    expect(dv.getUint32(24 + 8, true)).toBe(65535);
    expect(dv.getUint32(24 + 12, true)).toBe(70000);
    const [r] = readPcap(bytes);
    expect(r.frame.length).toBe(65535);
    expect(r.frame[65534]).toBe(65534 & 0xff);
  });
});

describe('readPcap', () => {
  const f1 = Uint8Array.from([1, 2, 3, 4, 5]);
  const f2 = Uint8Array.from([0xff]);
  it('reads the tcpdump golden files (little-endian, microseconds)', () => {
    const recs = readPcap(new Uint8Array(readFileSync(new URL('../../golden/udp.pcap', import.meta.url))));
    expect(recs.length).toBe(1);
    expect(recs[0].frame.length).toBe(48);
    expect(recs[0].timeMs).toBeCloseTo(1795599674135.778, 3);
  });
  for (const le of [true, false]) {
    for (const nanos of [false, true]) {
      it(`reads ${le ? 'little' : 'big'}-endian ${nanos ? 'nanosecond' : 'microsecond'} files`, () => {
        const bytes = handmade(le, nanos, [[100, nanos ? 250_000_000 : 250_000, f1], [101, nanos ? 1 : 0, f2]]);
        const recs = readPcap(bytes);
        expect(recs.map((r) => hex(r.frame))).toEqual(['0102030405', 'ff']);
        expect(recs[0].timeMs).toBe(100_250);
        expect(recs[1].timeMs).toBeCloseTo(nanos ? 101_000.000001 : 101_000, 9);
      });
    }
  }
  it('throws on a bad magic, another link type and truncation', () => {
    const ok = handmade(true, false, [[1, 0, f1]]);
    const bad = ok.slice();
    bad[0] = 0;
    expect(() => readPcap(bad)).toThrow(/magic/);
    const lt = ok.slice();
    lt[20] = 113; // Linux cooked
    expect(() => readPcap(lt)).toThrow(/link type/);
    expect(() => readPcap(ok.subarray(0, ok.length - 1))).toThrow(/truncated/);
    expect(() => readPcap(ok.subarray(0, 30))).toThrow(/truncated/);
    expect(() => readPcap(ok.subarray(0, 10))).toThrow(/truncated/);
    expect(readPcap(ok.subarray(0, 24))).toEqual([]);
  });
});
