/**
 * TCP with transmit offload (checksum completion and segmentation by the device): the
 * segment writer emits super-segments of up to 64 KiB with the pseudo-header sum in the
 * checksum field and asks the device (base/link.ts TxOffload) to complete the checksum
 * from the TCP header and cut at the MSS. A kernel-like segmenter here (what the TAP
 * driver does with such a frame) cuts them into MSS-sized segments with full checksums,
 * which a plain peer must accept byte for byte. Then the same over the in-memory link,
 * whose software offload (phy/soft-offload.ts) plays the device, both as a wire
 * (segments arrive) and as Linux's local delivery (the super-frame arrives as an
 * aggregate with a partial checksum).
 */
import { describe, expect, it } from 'vitest';
import { Host } from '../../../src/iface/host.js';
import { C, newCounters } from '../../../src/base/counters.js';
import { internetChecksum } from '../../../src/wire/checksum.js';
import { fillIpv4Checksum, ipHeaderLength, ipTotalLength } from '../../../src/wire/ipv4.js';
import { TCP_FIN, TCP_PSH, fillTcpChecksum, tcpChecksumValid, tcpDataOffset, tcpSeq } from '../../../src/wire/tcp.js';
import { VirtualWire, type OffloadRecord } from '../../helpers/virtual-wire.js';
import { tapCapabilities } from '../../../src/phy/tap-link.js';
import { IP_A, IP_B, MAC_A, MAC_B, Recorder, TcpPair } from '../../helpers/tcp-pair.js';
import { arpFrame, patternBytes } from '../../helpers/frames.js';
import { asTcpConnection } from '../../helpers/tcp-peer.js';
import { RECOVERY_SUPER_SEGMENT_MIN } from '../../../src/tcp/sender.js';

/**
 * What the kernel does with a frame that asks for checksum completion (+ segmentation):
 * finish checksums, cut at the segment size. Written independently of src/phy/soft-offload.ts.
 */
function kernelSegment(frame: Uint8Array, h: NonNullable<OffloadRecord>, src: number, dst: number): Uint8Array[] {
  const ip = 14;
  const hl = ipHeaderLength(frame, ip);
  const tcp = ip + hl;
  const thl = tcpDataOffset(frame, tcp);
  expect(h.csumStart).toBe(tcp);
  expect(h.csumOffset).toBe(16);
  const payload = frame.subarray(tcp + thl, ip + ipTotalLength(frame, ip));
  if (h.segSize === 0) {
    // Checksum only: the field holds the pseudo-header sum; fold in the rest.
    const out = frame.slice();
    const sum = internetChecksum(out, tcp, ipTotalLength(out, ip) - hl);
    out[tcp + 16] = sum >> 8;
    out[tcp + 17] = sum & 0xff;
    return [out];
  }
  expect(h.hdrLen).toBe(tcp + thl);
  const segs: Uint8Array[] = [];
  const seq0 = tcpSeq(frame, tcp);
  for (let off = 0, i = 0; off < payload.length; off += h.segSize, i++) {
    const n = Math.min(h.segSize, payload.length - off);
    const last = off + n >= payload.length;
    const f = new Uint8Array(tcp + thl + n);
    f.set(frame.subarray(0, tcp + thl));
    f.set(payload.subarray(off, off + n), tcp + thl);
    const tl = hl + thl + n;
    f[ip + 2] = tl >> 8; f[ip + 3] = tl & 0xff;
    const id = (((frame[ip + 4] << 8) | frame[ip + 5]) + i) & 0xffff;
    f[ip + 4] = id >> 8; f[ip + 5] = id & 0xff;
    fillIpv4Checksum(f, ip);
    const seq = (seq0 + off) >>> 0;
    f[tcp + 4] = seq >>> 24; f[tcp + 5] = (seq >>> 16) & 0xff; f[tcp + 6] = (seq >>> 8) & 0xff; f[tcp + 7] = seq & 0xff;
    if (!last) f[tcp + 13] &= ~(TCP_FIN | TCP_PSH);
    fillTcpChecksum(f, tcp, thl + n, src, dst);
    segs.push(f);
  }
  return segs;
}

describe('TCP with transmit offload', () => {
  it('sends 64 KiB super-segments (checksum from the TCP header, cut at the MSS) that segment into a byte-identical stream', () => {
    const base = { prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 };
    const wireA = new VirtualWire();
    const wireB = new VirtualWire();
    const ca = newCounters();
    const cb = newCounters();
    const secret = new Uint8Array(32).fill(3);
    const a = new Host({ ...base, mac: MAC_A, ip: IP_A, device: tapCapabilities(true, 0, 1500) }, wireA, ca, () => {}, { tcpSecret: secret });
    const b = new Host({ ...base, mac: MAC_B, ip: IP_B }, wireB, cb, () => {}, { tcpSecret: secret });
    let now = 1000;
    a.tcp.clock = () => now;
    b.tcp.clock = () => now;
    const arpB = arpFrame(MAC_A, 1, MAC_B, IP_B, 0, IP_A);
    a.receive(arpB, 0, arpB.length, now);
    const arpA = arpFrame(MAC_B, 1, MAC_A, IP_A, 0, IP_B);
    b.receive(arpA, 0, arpA.length, now);
    wireA.take();
    wireB.take();

    const server = new Recorder();
    b.tcp.listen(9, 16, (c) => {
      server.conn = c;
      c.events = server;
    });
    const client = a.tcp.connect(IP_B, 9)!;
    client.events = new Recorder(client);
    let superFrames = 0;
    let largest = 0;
    const pump = () => {
      for (let round = 0; round < 10_000; round++) {
        a.tcp.flushDirty(now);
        b.tcp.flushDirty(now);
        const sent = wireA.takeWithOffload();
        const fa = sent.map((x) => x.frame);
        const fb = wireB.take();
        if (fa.length === 0 && fb.length === 0) {
          const t = Math.min(a.nextDeadline(), b.nextDeadline());
          if (t === Infinity || t > now + 1000) return;
          now = t;
          a.poll(now);
          b.poll(now);
          continue;
        }
        now += 0.1;
        fa.forEach((f, i) => {
          const h = sent[i].offload;
          if (f[23] === 6 && h !== null) {
            if (h.segSize > 0) superFrames++;
            largest = Math.max(largest, f.length);
            for (const s of kernelSegment(f, h, IP_A, IP_B)) {
              expect(s.length).toBeLessThanOrEqual(1514);
              expect(tcpChecksumValid(s, 34, s.length - 34, IP_A, IP_B)).toBe(true);
              b.receive(s, 0, s.length, now);
            }
          } else {
            b.receive(f, 0, f.length, now);
          }
        });
        for (const f of fb) a.receive(f, 0, f.length, now);
      }
    };
    pump();
    expect(client.stateName).toBe('ESTABLISHED');
    const data = patternBytes(2_000_000, 9);
    let off = 0;
    for (let i = 0; i < 10_000 && off < data.length; i++) {
      off += client.send(data.subarray(off));
      pump();
    }
    client.shutdownWrite();
    pump();
    expect(server.bytes().equals(Buffer.from(data))).toBe(true);
    expect(server.ended).toBe(true);
    expect(superFrames).toBeGreaterThan(10);
    expect(largest).toBeGreaterThan(30_000);
    expect(largest).toBeLessThanOrEqual(14 + 65535);
    expect(ca[C.tcp_retransmits]).toBe(0);
    expect(cb[C.drop_tcp_checksum]).toBe(0);
  });
});

describe('TCP over the in-memory link with offload', () => {
  for (const deliver of ['wire', 'local'] as const) {
    it(`${deliver} delivery: 3 MB each way arrive byte for byte; each sender wrote super-segments`, () => {
      const caps = { txChecksum: true, tsoMaxPayload: 65_000 };
      const pair = new TcpPair({}, {}, { capabilities: caps, deliver });
      const { client, server, s, c } = pair.connect(9);
      /** Sends `data` from one end alone; returns the sender's bytes per segment written. */
      const oneWay = (from: typeof client, counters: typeof pair.countersA, data: Uint8Array): number => {
        const seg0 = counters[C.tcp_segments_tx];
        const bytes0 = counters[C.tcp_tx_bytes];
        let off = 0;
        for (let i = 0; i < 10_000 && off < data.length; i++) {
          off += from.send(data.subarray(off));
          pair.run(pair.now + 50);
        }
        pair.run();
        return (counters[C.tcp_tx_bytes] - bytes0) / (counters[C.tcp_segments_tx] - seg0);
      };
      const up = patternBytes(3_000_000, 11);
      const down = patternBytes(3_000_000, 12);
      // Well above one MSS (1448) per segment when the device segments (ACK clocking keeps
      // bursts short when the receiver sees plain segments).
      expect(oneWay(client, pair.countersA, up)).toBeGreaterThan(3_000);
      expect(oneWay(server, pair.countersB, down)).toBeGreaterThan(3_000);
      client.shutdownWrite();
      server.shutdownWrite();
      pair.run();
      expect(s.bytes().equals(Buffer.from(up))).toBe(true);
      expect(c.bytes().equals(Buffer.from(down))).toBe(true);
      for (const counters of [pair.countersA, pair.countersB]) {
        expect(counters[C.drop_tcp_checksum]).toBe(0);
        expect(counters[C.tcp_retransmits]).toBe(0);
      }
      const big = pair.log.filter((f) => f.frame.length > 1514).length;
      if (deliver === 'wire') expect(big).toBe(0);
      else expect(big).toBeGreaterThan(10);
    });
  }
});

describe('super-segment size under a small cwnd (decision 0037)', () => {
  it('a flight smaller than two full super-segments leaves as two frames of half the cwnd, not one: a receiver that GROs them ACKs each', () => {
    // Local delivery: the fault sees the frames as sent, super-frames whole.
    const pair = new TcpPair({}, {}, { capabilities: { txChecksum: true, tsoMaxPayload: 65_000 }, deliver: 'local' });
    pair.delay = 5;
    const { client, s } = pair.connect(80);
    const snd = asTcpConnection(client).snd;
    const mss = snd.mss;
    const cwnd = snd.cc.cwnd;
    expect(cwnd).toBe(10 * mss);
    const t0 = pair.now;
    const first: number[] = [];
    pair.fault = (f) => {
      if (f.from === 'A' && f.frame.length > 1000 && pair.now === t0) first.push(f.frame.length);
      return [f];
    };
    const data = patternBytes(40 * mss, 7);
    client.send(data);
    pair.run();
    expect(s.bytes().equals(Buffer.from(data))).toBe(true);
    // The initial window (10 segments) as two frames of 5 segments each.
    expect(first).toHaveLength(2);
    const headers = first[0] - 5 * mss;
    expect(headers).toBeGreaterThan(0);
    expect(headers).toBeLessThan(100);
    expect(first[1]).toBe(first[0]);
  });
});

/** What a sender under TSO sent during recovery after one lost frame: payload bytes per frame, new data and retransmissions. */
/** Drops the `dropDataFrame`-th data frame of a `segments`-segment transfer; what went in recovery: new data (with cwnd when each left) and retransmissions. */
function framesInRecovery(dropDataFrame: number, segments = 600): { mss: number; newData: number[]; newDataCwnd: number[]; retransmitted: number[] } {
  // Local delivery: the fault sees the frames as sent, super-frames whole.
  const pair = new TcpPair({}, {}, { capabilities: { txChecksum: true, tsoMaxPayload: 65_000 }, deliver: 'local' });
  pair.delay = 5;
  const { client, s } = pair.connect(80);
  const snd = asTcpConnection(client).snd;
  const iss = snd.sndUna;
  const newData: number[] = [];
  const retransmitted: number[] = [];
  const newDataCwnd: number[] = [];
  let highest = 0;
  let dataFrames = 0;
  pair.fault = (f) => {
    if (f.from !== 'A' || f.frame.length < 100) return [f];
    const ip = 14;
    const tcp = ip + ipHeaderLength(f.frame, ip);
    const len = ip + ipTotalLength(f.frame, ip) - tcp - tcpDataOffset(f.frame, tcp);
    if (len === 0) return [f];
    const end = ((tcpSeq(f.frame, tcp) - iss) >>> 0) + len;
    const isNew = end > highest;
    if (isNew) highest = end;
    if (snd.inRecovery) (isNew ? newData : retransmitted).push(len);
    if (snd.inRecovery && isNew) newDataCwnd.push(snd.cc.cwnd);
    return ++dataFrames === dropDataFrame ? [] : [f];
  };
  const data = patternBytes(segments * snd.mss, 11);
  client.send(data);
  pair.run();
  expect(s.bytes().equals(Buffer.from(data))).toBe(true);
  return { mss: snd.mss, newData, newDataCwnd, retransmitted };
}

describe('frames in recovery (decisions 0039, 0044)', () => {
  it('RFC 6675 5 (C): during recovery with a window under 64 segments, new data and retransmissions leave one SMSS per frame, each ACKed on its own', () => {
    // The twelfth data frame (one of the initial window grown by slow start) is lost; the
    // ACK that SACKs the flight after the hole lets 20 segments go at once.
    const { mss, newData, newDataCwnd, retransmitted } = framesInRecovery(12);
    expect(Math.max(...newDataCwnd)).toBeLessThan(RECOVERY_SUPER_SEGMENT_MIN * mss);
    expect(newData.length).toBeGreaterThan(10);
    expect(retransmitted.length).toBeGreaterThan(2);
    expect(newData.every((len) => len <= mss)).toBe(true);
    expect(retransmitted.every((len) => len <= mss)).toBe(true);
  });

  it('with a window of 64 segments or more, new data in recovery leaves in super-segments of at most an eighth of it; retransmissions stay one SMSS', () => {
    // A frame lost later in slow start: recovery starts with a window over 100 segments.
    const { mss, newData, newDataCwnd, retransmitted } = framesInRecovery(13, 700);
    expect(Math.min(...newDataCwnd)).toBeGreaterThanOrEqual(RECOVERY_SUPER_SEGMENT_MIN * mss);
    expect(newData.some((len) => len > mss)).toBe(true);
    expect(newData.every((len, i) => len <= Math.floor(newDataCwnd[i] / 8 / mss) * mss)).toBe(true);
    expect(retransmitted.length).toBeGreaterThan(2);
    expect(retransmitted.every((len) => len <= mss)).toBe(true);
  });
});

describe('tail loss probe under TSO (decision 0037, class C)', () => {
  it('RFC 8985 7.3: the probe\'s two segments of new data leave as two frames of one SMSS each, not one super-frame', () => {
    // Local delivery: the fault sees the frames as sent, super-frames whole.
    const pair = new TcpPair({}, {}, { capabilities: { txChecksum: true, tsoMaxPayload: 65_000 }, deliver: 'local' });
    pair.delay = 1;
    const { client, s } = pair.connect(80);
    const snd = asTcpConnection(client).snd;
    const mss = snd.mss;
    const ptoBefore = pair.countersA[C.tcp_loss_probes];
    // Every ACK from B is lost until the probe has gone: the flight arrives, nothing answers it.
    let ackBlackout = true;
    const afterFlight: number[] = [];
    let flightSent = false;
    pair.fault = (f) => {
      if (f.from === 'B') return ackBlackout ? [] : [f];
      const ip = 14;
      const tcp = ip + ipHeaderLength(f.frame, ip);
      const len = ip + ipTotalLength(f.frame, ip) - tcp - tcpDataOffset(f.frame, tcp);
      if (len > 0 && flightSent && ackBlackout) afterFlight.push(len);
      return [f];
    };
    const data = patternBytes(30 * mss, 5);
    client.send(data);
    pair.run(pair.now + 0.5);
    flightSent = true;
    pair.run(pair.now + 25); // the PTO (10 ms floor, 2·SRTT) fires within this
    expect(pair.countersA[C.tcp_loss_probes]).toBe(ptoBefore + 1);
    expect(afterFlight).toEqual([mss, mss]);
    ackBlackout = false;
    pair.run();
    expect(s.bytes().equals(Buffer.from(data))).toBe(true);
  });
});
