/**
 * TCP with virtio-net offload (TSO and checksum offload on transmit): the segment writer
 * emits super-segments of up to 64 KiB with the pseudo-header sum in the checksum field
 * and a virtio_net_hdr asking for NEEDS_CSUM + GSO TCPV4 with gso_size = MSS. A
 * kernel-like segmenter here (what the TAP driver does with such a frame) cuts them into
 * MSS-sized segments with full checksums, which a plain peer must accept byte for byte.
 */
import { describe, expect, it } from 'vitest';
import { Host } from '../../../src/iface/host.js';
import { C, newCounters } from '../../../src/base/counters.js';
import { internetChecksum } from '../../../src/wire/checksum.js';
import { fillIpv4Checksum, ipHeaderLength, ipTotalLength } from '../../../src/wire/ipv4.js';
import { TCP_FIN, TCP_PSH, fillTcpChecksum, tcpChecksumValid, tcpDataOffset, tcpSeq } from '../../../src/wire/tcp.js';
import { VirtualWire } from '../../helpers/virtual-wire.js';
import { IP_A, IP_B, MAC_A, MAC_B, Recorder } from '../../helpers/tcp-pair.js';
import { arpFrame, patternBytes } from '../../helpers/frames.js';

/** A wire that also records the virtio-net header of each frame. */
class OffloadWire extends VirtualWire {
  readonly hdrs: Array<{ flags: number; gsoType: number; hdrLen: number; gsoSize: number; csumStart: number; csumOffset: number }> = [];
  private cur = { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
  override reserve(maxLen: number): number {
    this.cur = { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
    return super.reserve(maxLen);
  }
  offload(flags: number, gsoType: number, hdrLen: number, gsoSize: number, csumStart: number, csumOffset: number): void {
    this.cur = { flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset };
  }
  override commit(len: number): void {
    super.commit(len);
    this.hdrs.push(this.cur);
  }
}

/** What the kernel does with a NEEDS_CSUM (+ GSO TCPV4) frame: finish checksums, cut at gso_size. */
function kernelSegment(frame: Uint8Array, h: OffloadWire['hdrs'][number], src: number, dst: number): Uint8Array[] {
  const ip = 14;
  const hl = ipHeaderLength(frame, ip);
  const tcp = ip + hl;
  const thl = tcpDataOffset(frame, tcp);
  expect(h.csumStart).toBe(tcp);
  expect(h.csumOffset).toBe(16);
  const payload = frame.subarray(tcp + thl, ip + ipTotalLength(frame, ip));
  if (h.gsoType === 0) {
    // Checksum only: the field holds the pseudo-header sum; fold in the rest.
    const out = frame.slice();
    const sum = internetChecksum(out, tcp, ipTotalLength(out, ip) - hl);
    out[tcp + 16] = sum >> 8;
    out[tcp + 17] = sum & 0xff;
    return [out];
  }
  expect(h.gsoType).toBe(1);
  expect(h.hdrLen).toBe(tcp + thl);
  const segs: Uint8Array[] = [];
  const seq0 = tcpSeq(frame, tcp);
  for (let off = 0, i = 0; off < payload.length; off += h.gsoSize, i++) {
    const n = Math.min(h.gsoSize, payload.length - off);
    const last = off + n >= payload.length;
    const f = new Uint8Array(tcp + thl + n);
    f.set(frame.subarray(0, tcp + thl));
    f.set(payload.subarray(off, off + n), tcp + thl);
    const tl = hl + thl + n;
    f[ip + 2] = tl >> 8; f[ip + 3] = tl & 0xff;
    const id = (((frame[ip + 4]! << 8) | frame[ip + 5]!) + i) & 0xffff;
    f[ip + 4] = id >> 8; f[ip + 5] = id & 0xff;
    fillIpv4Checksum(f, ip);
    const seq = (seq0 + off) >>> 0;
    f[tcp + 4] = seq >>> 24; f[tcp + 5] = (seq >>> 16) & 0xff; f[tcp + 6] = (seq >>> 8) & 0xff; f[tcp + 7] = seq & 0xff;
    if (!last) f[tcp + 13]! &= ~(TCP_FIN | TCP_PSH);
    fillTcpChecksum(f, tcp, thl + n, src, dst);
    segs.push(f);
  }
  return segs;
}

describe('TCP with virtio-net offload', () => {
  it('sends 64 KiB super-segments (NEEDS_CSUM, GSO TCPV4, gso_size = MSS) that segment into a byte-identical stream', () => {
    const base = { prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 };
    const wireA = new OffloadWire();
    const wireB = new VirtualWire();
    const ca = newCounters();
    const cb = newCounters();
    const secret = new Uint8Array(32).fill(3);
    const a = new Host({ ...base, mac: MAC_A, ip: IP_A, txChecksumOffload: true, tso: true }, wireA, ca, () => {}, { tcpSecret: secret });
    const b = new Host({ ...base, mac: MAC_B, ip: IP_B }, wireB, cb, () => {}, { tcpSecret: secret });
    let now = 1000;
    a.tcp.clock = () => now;
    b.tcp.clock = () => now;
    const arpB = arpFrame(MAC_A, 1, MAC_B, IP_B, 0, IP_A);
    a.receive(arpB, 0, arpB.length, now);
    const arpA = arpFrame(MAC_B, 1, MAC_A, IP_A, 0, IP_B);
    b.receive(arpA, 0, arpA.length, now);
    wireA.take();
    wireA.hdrs.length = 0;
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
        const fa = wireA.take();
        const ha = wireA.hdrs.splice(0, wireA.hdrs.length);
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
          const h = ha[i]!;
          if (f[23] === 6 && h.flags === 1) {
            if (h.gsoType === 1) superFrames++;
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
