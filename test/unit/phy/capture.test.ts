/**
 * Packet capture (decision 0016): the capture decorator (phy/capture-device.ts) over a
 * recording device, its ring sink (dataplane/capture-ring.ts), the merge of several
 * threads' rings by time (dataplane/capture-merge.ts), and the pcap writer's snapshot
 * length and rotation (phy/pcap.ts) — asserted on the bytes that come out.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { C, newCounters } from '../../../src/base/counters.js';
import { FrameBatch } from '../../../src/base/frame-batch.js';
import type { TxOffload } from '../../../src/base/link.js';
import { RX_CSUM_PARTIAL } from '../../../src/base/rx-flags.js';
import { CaptureMerger } from '../../../src/dataplane/capture-merge.js';
import { CaptureRingSink } from '../../../src/dataplane/capture-ring.js';
import { RING_MIN_DATA_BYTES, createRingBuffer, ringStats } from '../../../src/dataplane/ring.js';
import { CAPTURE_RX, CAPTURE_TX, CaptureDevice } from '../../../src/phy/capture-device.js';
import { PcapWriter, pcapFileName, readPcap } from '../../../src/phy/pcap.js';
import { internetChecksum } from '../../../src/wire/checksum.js';
import { tcpChecksumValid, tcpSeq } from '../../../src/wire/tcp.js';
import { RecordingDevice } from '../../helpers/recording-device.js';
import { IPPROTO_UDP, ipv4Frame, patternBytes, tcpOffload, tcpSuperFrame, udpDatagram } from '../../helpers/frames.js';

const SRC = 0x0a0a0004;
const DST = 0x0a0a0003;
const dir = mkdtempSync(join(tmpdir(), 'stackd-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A capture decorator over a recording device, with its own ring, word and clock. */
function rig(opts: { snaplen?: number; ringBytes?: number } = {}) {
  const inner = new RecordingDevice();
  const ring = createRingBuffer(opts.ringBytes ?? 1 << 20);
  const control = new Int32Array(4);
  control[1] = opts.snaplen ?? 0;
  const counters = newCounters();
  let now = 0;
  const dev = new CaptureDevice(inner, new CaptureRingSink(ring), control, 1, counters, () => now);
  return {
    inner, ring, control, counters, dev,
    at(t: number) {
      now = t;
    },
    send(frames: Uint8Array[], offload: TxOffload | null = null): number {
      const b = new FrameBatch(new Uint8Array(1 << 18), 64);
      for (const f of frames) {
        b.buf.set(f, b.reserve(f.length));
        b.commit(f.length, offload);
      }
      return dev.transmit(b, 0);
    },
    recv(frames: Uint8Array[], rxFlags = 0): number {
      for (const bytes of frames) inner.incoming.push({ bytes, rxFlags });
      return dev.receive(new FrameBatch(new Uint8Array(1 << 18), 64), 64, 0);
    },
  };
}

interface Rec {
  bytes: Uint8Array;
  origLen: number;
  dir: number;
  t: number;
}

/** Everything in the rings up to `upTo`, merged. */
function drain(m: CaptureMerger, upTo = Infinity): Rec[] {
  const out: Rec[] = [];
  m.drain(upTo, (buf, off, len, origLen, d, t) => out.push({ bytes: buf.slice(off, off + len), origLen, dir: d, t }));
  return out;
}

const udp = (n: number, seed = 1): Uint8Array => ipv4Frame(2, 1, SRC, DST, IPPROTO_UDP, udpDatagram(SRC, DST, 7, 9000, patternBytes(n, seed)));

describe('CaptureDevice', () => {
  it('off (capture word 0): frames pass unchanged and nothing is copied', () => {
    const r = rig();
    const f = udp(100);
    expect(r.send([f])).toBe(1);
    expect(r.recv([udp(50)])).toBe(1);
    expect(r.inner.sent.map((s) => s.bytes)).toEqual([f]);
    expect(drain(new CaptureMerger([r.ring]))).toEqual([]);
    expect(r.counters[C.pcap_frames]).toBe(0);
    expect(ringStats(r.ring).records).toBe(0);
  });

  it('on: received and transmitted frames with direction, length and time, merged from two threads by time', () => {
    const io = rig({ snaplen: 262144 });
    const worker = rig({ snaplen: 262144 });
    io.at(1);
    io.recv([udp(10, 1), udp(11, 2)]);
    worker.at(3);
    worker.send([udp(30, 3)]);
    io.at(5);
    io.send([udp(50, 5)]);
    worker.at(7);
    worker.send([udp(70, 7)]);
    const m = new CaptureMerger([io.ring, worker.ring]);
    const recs = drain(m);
    expect(recs.map((x) => [x.t, x.dir, x.bytes.length])).toEqual([
      [1, CAPTURE_RX, 14 + 20 + 8 + 10],
      [1, CAPTURE_RX, 14 + 20 + 8 + 11],
      [3, CAPTURE_TX, 14 + 20 + 8 + 30],
      [5, CAPTURE_TX, 14 + 20 + 8 + 50],
      [7, CAPTURE_TX, 14 + 20 + 8 + 70],
    ]);
    expect(recs[2].bytes).toEqual(udp(30, 3));
    expect(recs.every((x) => x.origLen === x.bytes.length)).toBe(true);
    expect(io.counters[C.pcap_frames]).toBe(3);
    expect(worker.counters[C.pcap_frames]).toBe(2);
  });

  it('cuts frames to the snapshot length and keeps their length on the wire', () => {
    const r = rig({ snaplen: 64 });
    r.send([udp(1000)]);
    const [rec] = drain(new CaptureMerger([r.ring]));
    expect(rec.bytes).toEqual(udp(1000).subarray(0, 64));
    expect(rec.origLen).toBe(14 + 20 + 8 + 1000);
  });

  it('records a TX super-frame as the segments the device cuts, each with valid IPv4 and TCP checksums', () => {
    const r = rig({ snaplen: 262144 });
    const f = tcpSuperFrame(SRC, DST, 5000);
    r.send([f], tcpOffload(1448));
    expect(r.inner.sent[0].bytes).toEqual(f); // the device got the super-frame as it was
    const recs = drain(new CaptureMerger([r.ring]));
    expect(recs.map((x) => x.bytes.length)).toEqual([54 + 1448, 54 + 1448, 54 + 1448, 54 + 656]);
    for (const [i, x] of recs.entries()) {
      expect(internetChecksum(x.bytes, 14, 20)).toBe(0); // the IPv4 header sums to 0xffff
      expect(tcpChecksumValid(x.bytes, 34, x.bytes.length - 34, SRC, DST)).toBe(true);
      expect(tcpSeq(x.bytes, 34)).toBe((0xfffff000 + i * 1448) >>> 0);
    }
  });

  it('a TX super-frame in pieces (scatter-gather) is recorded whole, and the device gets the pieces as they are', () => {
    const r = rig({ snaplen: 262144 });
    const f = tcpSuperFrame(SRC, DST, 5000);
    // Headers in the batch, the payload in two pieces of other memory (as a send buffer's blocks).
    const b = new FrameBatch(new Uint8Array(1 << 18), 64, 0, true);
    const o = b.reserve(f.length);
    b.buf.set(f.subarray(0, 54), o);
    const p1 = f.slice(54, 54 + 3000);
    const p2 = new Uint8Array(9000);
    p2.set(f.subarray(54 + 3000), 100);
    b.attach(p1, 0, 3000);
    b.attach(p2, 100, 2000);
    b.commit(f.length, tcpOffload(1448));
    expect(b.lens[0]).toBe(54);
    expect(b.attached[0]).toBe(5000);
    expect(r.dev.transmit(b, 0)).toBe(1);
    expect(r.inner.sent[0].bytes).toEqual(f);
    const recs = drain(new CaptureMerger([r.ring]));
    expect(recs.map((x) => x.bytes.length)).toEqual([54 + 1448, 54 + 1448, 54 + 1448, 54 + 656]);
    const payload = Buffer.concat(recs.map((x) => x.bytes.subarray(54)));
    expect(payload.equals(Buffer.from(f.subarray(54)))).toBe(true);
    for (const x of recs) expect(tcpChecksumValid(x.bytes, 34, x.bytes.length - 34, SRC, DST)).toBe(true);
  });

  it('completes a checksum the device would complete (TX offload) and one the host left partial (RX_CSUM_PARTIAL)', () => {
    const r = rig({ snaplen: 262144 });
    r.send([tcpSuperFrame(SRC, DST, 300)], tcpOffload(0));
    r.recv([tcpSuperFrame(DST, SRC, 200)], RX_CSUM_PARTIAL);
    const recs = drain(new CaptureMerger([r.ring]));
    expect(tcpChecksumValid(recs[0].bytes, 34, 20 + 300, SRC, DST)).toBe(true);
    expect(tcpChecksumValid(recs[1].bytes, 34, 20 + 200, DST, SRC)).toBe(true);
    expect(tcpChecksumValid(tcpSuperFrame(DST, SRC, 200), 34, 220, DST, SRC)).toBe(false); // it was partial
  });

  it('a full ring: the copy is dropped and counted in pcap_dropped, the frame still goes out', () => {
    const r = rig({ snaplen: 262144, ringBytes: RING_MIN_DATA_BYTES });
    const big = udp(1400);
    const frames = Array.from({ length: 200 }, () => big); // 200 × ~1.5 kB > 256 KiB
    let sent = 0;
    for (let k = 0; k < 4; k++) sent += r.send(frames.slice(k * 50, k * 50 + 50));
    expect(sent).toBe(200);
    expect(r.inner.sent.length).toBe(200);
    const kept = r.counters[C.pcap_frames];
    expect(kept).toBeGreaterThan(100);
    expect(r.counters[C.pcap_dropped]).toBe(200 - kept);
    expect(ringStats(r.ring).fullDrops).toBe(200 - kept);
    expect(drain(new CaptureMerger([r.ring])).length).toBe(kept);
  });
});

describe('CaptureMerger', () => {
  it('passes on only records stamped up to the mark; the first one beyond waits and survives its ring being reused', () => {
    const a = rig({ snaplen: 262144, ringBytes: RING_MIN_DATA_BYTES });
    const m = new CaptureMerger([a.ring]);
    a.at(10);
    a.send([udp(100, 10)]);
    a.at(20);
    a.send([udp(100, 20)]);
    expect(drain(m, 15).map((x) => x.t)).toEqual([10]);
    // Fill the ring's whole space again: the waiting record was copied out before release.
    a.at(30);
    for (let k = 0; k < 3; k++) a.send(Array.from({ length: 50 }, () => udp(1400, 30)));
    const rest = drain(m);
    expect(rest[0].t).toBe(20);
    expect(rest[0].bytes).toEqual(udp(100, 20));
    expect(rest.slice(1).every((x) => x.t === 30)).toBe(true);
  });

  it('discard() forgets what is in the rings', () => {
    const a = rig({ snaplen: 262144 });
    a.send([udp(10)]);
    const m = new CaptureMerger([a.ring]);
    m.discard();
    expect(drain(m)).toEqual([]);
    a.send([udp(11)]);
    expect(drain(m).length).toBe(1);
  });
});

describe('PcapWriter snapshot length and rotation', () => {
  it('writes the snapshot length into the header and cuts records to it', () => {
    const path = join(dir, 'snap.pcap');
    const w = new PcapWriter(path, { snaplen: 100 });
    w.write(udp(500), 0, 14 + 20 + 8 + 500, 1000);
    w.close();
    const bytes = new Uint8Array(readFileSync(path));
    expect(new DataView(bytes.buffer).getUint32(16, true)).toBe(100);
    const [rec] = readPcap(bytes);
    expect(rec.frame.length).toBe(100);
    expect(rec.origLen).toBe(542);
  });

  it('rotates into FILE.1, FILE.2, … before a record would pass the size, each file complete', () => {
    const path = join(dir, 'rot.pcap');
    const w = new PcapWriter(path, { maxFileBytes: 24 + 3 * (16 + 542) });
    for (let i = 0; i < 8; i++) w.write(udp(500, i + 1), 0, 542, 1000 + i);
    w.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('rot.pcap')).sort()).toEqual(['rot.pcap', 'rot.pcap.1', 'rot.pcap.2']);
    expect(w.files).toBe(3);
    expect(w.records).toBe(8);
    const per = [0, 1, 2].map((k) => readPcap(new Uint8Array(readFileSync(pcapFileName(path, k)))));
    expect(per.map((p) => p.length)).toEqual([3, 3, 2]);
    expect(per.flat().map((r) => Math.round(r.timeMs))).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]);
    expect(per.flat()[7].frame).toEqual(udp(500, 8));
    expect(readFileSync(path).length).toBe(24 + 3 * (16 + 542));
  });

  it('with maxFiles keeps the last files only: opening FILE.k deletes FILE.(k − maxFiles)', () => {
    const path = join(dir, 'ring.pcap');
    const w = new PcapWriter(path, { maxFileBytes: 24 + 2 * (16 + 542), maxFiles: 2 });
    for (let i = 0; i < 9; i++) w.write(udp(500, i + 1), 0, 542, 1000 + i);
    w.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('ring.pcap')).sort()).toEqual(['ring.pcap.3', 'ring.pcap.4']);
    expect([w.files, w.filesDeleted, w.records]).toEqual([5, 3, 9]);
    const kept = [3, 4].map((k) => readPcap(new Uint8Array(readFileSync(pcapFileName(path, k)))));
    expect(kept.flat().map((r) => Math.round(r.timeMs))).toEqual([1006, 1007, 1008]);
  });

  it('a record larger than the limit still gets a file of its own', () => {
    const path = join(dir, 'tiny.pcap');
    const w = new PcapWriter(path, { maxFileBytes: 100 });
    w.write(udp(500), 0, 542, 1);
    w.write(udp(500), 0, 542, 2);
    w.close();
    expect(w.files).toBe(2);
    expect(readPcap(new Uint8Array(readFileSync(pcapFileName(path, 1)))).length).toBe(1);
  });
});
