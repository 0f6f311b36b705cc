/**
 * TapLink: the TAP as a LinkDevice. The virtio-net header (virtio 1.1 5.1.6) is built from
 * each frame's offload request on transmit and read into receive flags on receive; the
 * binding's batch calls are replaced by a scripted TAP that checks the arguments.
 */
import { describe, expect, it } from 'vitest';
import { FrameBatch } from '../../../src/base/frame-batch.js';
import { TxOffload } from '../../../src/base/link.js';
import { RX_CSUM_PARTIAL, RX_CSUM_VERIFIED, RX_GSO } from '../../../src/base/rx-flags.js';
import { TAP_TSO_MAX_PAYLOAD, TapLink, tapCapabilities, type TapIo } from '../../../src/phy/tap-link.js';
import {
  TAP_MAX_GSO_FRAME, TUN_F_CSUM, TUN_F_TSO4, VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_TCPV4,
} from '../../../src/phy/tap.js';

/** A TAP whose reads return `toRead` (frame bytes + 10-byte header) and whose writes are recorded. */
function scriptedTap(vnetHdr: boolean) {
  const writes: Array<{ hdr: number[] | null; frame: number[] }> = [];
  const toRead: Array<{ hdr: number[]; frame: number[] }> = [];
  const calls: Array<{ maxFrame: number; maxCount: number; timeoutMs: number; wakeFd: number }> = [];
  const tap: TapIo = {
    vnetHdr,
    readBatch(buf, start, end, maxFrame, offsets, lens, maxCount, timeoutMs, wakeFd, vnet) {
      calls.push({ maxFrame, maxCount, timeoutMs, wakeFd });
      expect(vnet !== null).toBe(vnetHdr);
      let n = 0;
      let at = start;
      while (n < maxCount && toRead.length > 0 && at + maxFrame <= end) {
        const f = toRead.shift()!;
        buf.set(f.frame, at);
        offsets[n] = at;
        lens[n] = f.frame.length;
        if (vnet) vnet.set(f.hdr, n * 10);
        n++;
        at = (at + f.frame.length + 15) & ~15;
      }
      return n;
    },
    writeBatch(buf, offsets, lens, first, count, vnet, errors) {
      expect(errors.length).toBeGreaterThanOrEqual(2);
      for (let i = first; i < first + count; i++) {
        writes.push({ hdr: vnet ? [...vnet.subarray(i * 10, i * 10 + 10)] : null, frame: [...buf.subarray(offsets[i], offsets[i] + lens[i])] });
      }
      return count;
    },
    writeBatchWithHeaders(buf, offsets, lens, first, count) {
      expect(vnetHdr).toBe(true);
      for (let i = first; i < first + count; i++) writes.push({ hdr: null, frame: [...buf.subarray(offsets[i], offsets[i] + lens[i])] });
      return count;
    },
    writeGatherWithHeaders(buf, offsets, lens, first, count, pieceFirst, pieceCount, pieces, pieceOff, pieceLen) {
      expect(vnetHdr).toBe(true);
      for (let i = first; i < first + count; i++) {
        const f = [...buf.subarray(offsets[i], offsets[i] + lens[i])];
        for (let j = pieceFirst[i]; j < pieceFirst[i] + pieceCount[i]; j++) f.push(...pieces[j]!.subarray(pieceOff[j], pieceOff[j] + pieceLen[j]));
        writes.push({ hdr: null, frame: f });
      }
      return count;
    },
  };
  return { tap, writes, toRead, calls };
}

/** A frame with Ethernet type `etherType` and a one-byte payload. */
function frame(etherType: number, tag: number): number[] {
  const f = new Array<number>(15).fill(0);
  f[12] = etherType >> 8;
  f[13] = etherType & 0xff;
  f[14] = tag;
  return f;
}

describe('TapLink', () => {
  it('capabilities: the header brings checksum and segmentation offload; receive aggregates only when TSO was granted', () => {
    expect(tapCapabilities(false, 0, 1500)).toEqual({ medium: 'ethernet', mtu: 1500, maxRxFrame: 1514, txChecksum: false, tsoMaxPayload: 0, txHeadroom: 0, txGather: false });
    expect(tapCapabilities(true, TUN_F_CSUM, 1500)).toMatchObject({ maxRxFrame: 1514, txChecksum: true, tsoMaxPayload: TAP_TSO_MAX_PAYLOAD, txHeadroom: 10, txGather: true });
    expect(tapCapabilities(true, TUN_F_CSUM | TUN_F_TSO4, 9000)).toMatchObject({ mtu: 9000, maxRxFrame: TAP_MAX_GSO_FRAME });
  });

  it('transmit: a virtio_net_hdr per frame from its offload request (TCPV4, TCPV6 by EtherType, none)', () => {
    const t = scriptedTap(true);
    const link = new TapLink(t.tap, { mtu: 1500, offload: TUN_F_CSUM | TUN_F_TSO4 });
    const b = new FrameBatch(new Uint8Array(4096), 8);
    const o = new TxOffload();
    o.csumStart = 34;
    o.csumOffset = 16;
    o.segSize = 1448;
    o.hdrLen = 0x136;
    for (const [type, off] of [[0x0800, o], [0x86dd, o], [0x0800, null]] as const) {
      const f = frame(type, type & 0xff);
      const at = b.reserve(f.length);
      b.buf.set(f, at);
      b.commit(f.length, off);
    }
    expect(link.transmit(b, 0)).toBe(3);
    expect(t.writes.map((w) => w.hdr)).toEqual([
      [1, 1, 0x36, 0x01, 0xa8, 0x05, 34, 0, 16, 0], // NEEDS_CSUM, GSO_TCPV4, hdr_len, gso_size 1448, csum 34/16
      [1, 4, 0x36, 0x01, 0xa8, 0x05, 34, 0, 16, 0], // GSO_TCPV6
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ]);
    expect(t.writes.map((w) => w.frame[14])).toEqual([0x00, 0xdd, 0x00]);
  });

  it('transmit: a super-frame carrying CWR gets gso_type TCPV4 | ECN (RFC 3168 6.1.2: the kernel keeps CWR on its first segment)', () => {
    const t = scriptedTap(true);
    const link = new TapLink(t.tap, { mtu: 1500, offload: TUN_F_CSUM | TUN_F_TSO4 });
    const b = new FrameBatch(new Uint8Array(8192), 4);
    const o = new TxOffload();
    o.csumStart = 34;
    o.csumOffset = 16;
    o.segSize = 500;
    o.hdrLen = 54;
    for (const tcpFlags of [0x90, 0x10]) { // ACK|CWR, ACK
      const f = new Array<number>(54 + 1000).fill(0);
      f[12] = 0x08;
      f[14] = 0x45; // IPv4, IHL 5
      f[14 + 20 + 12] = 0x50;
      f[14 + 20 + 13] = tcpFlags;
      const at = b.reserve(f.length);
      b.buf.set(f, at);
      b.commit(f.length, o);
    }
    expect(link.transmit(b, 0)).toBe(2);
    expect(t.writes.map((w) => w.hdr?.[1])).toEqual([VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_TCPV4]);
  });

  it('transmit with headroom: the header goes in front of each frame and both out in one plain write', () => {
    const t = scriptedTap(true);
    const link = new TapLink(t.tap, { mtu: 1500, offload: TUN_F_CSUM | TUN_F_TSO4 });
    const b = new FrameBatch(new Uint8Array(4096), 8, link.capabilities.txHeadroom);
    const o = new TxOffload();
    o.csumStart = 34;
    o.csumOffset = 16;
    o.segSize = 1448;
    o.hdrLen = 0x136;
    for (const off of [o, null]) {
      const f = frame(0x0800, off === null ? 2 : 1);
      const at = b.reserve(f.length);
      expect(at).toBeGreaterThanOrEqual(10);
      b.buf.set(f, at);
      b.commit(f.length, off);
    }
    expect(link.transmit(b, 0)).toBe(2);
    expect(t.writes.map((w) => w.hdr)).toEqual([null, null]);
    expect(t.writes.map((w) => w.frame)).toEqual([
      [1, 1, 0x36, 0x01, 0xa8, 0x05, 34, 0, 16, 0, ...frame(0x0800, 1)],
      [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...frame(0x0800, 2)],
    ]);
  });

  it('transmit without the header: frames as they are', () => {
    const t = scriptedTap(false);
    const link = new TapLink(t.tap, { mtu: 1500, offload: 0 });
    const b = new FrameBatch(new Uint8Array(1024), 4);
    const at = b.reserve(15);
    b.buf.set(frame(0x0800, 5), at);
    b.commit(15, null);
    expect(link.transmit(b, 0)).toBe(1);
    expect(t.writes[0]).toEqual({ hdr: null, frame: frame(0x0800, 5) });
  });

  it('receive: header flags become receive flags, gso_size the segment size; the wake fd and maxRxFrame are passed on', () => {
    const t = scriptedTap(true);
    const link = new TapLink(t.tap, { mtu: 1500, offload: TUN_F_CSUM | TUN_F_TSO4, wakeFd: 17 });
    t.toRead.push(
      { hdr: [1, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0], frame: frame(0x0800, 1) }, // NEEDS_CSUM + GSO TCPV4
      { hdr: [2, 0, 0, 0, 0, 0, 0, 0, 0, 0], frame: frame(0x0800, 2) }, // DATA_VALID
      { hdr: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], frame: frame(0x0806, 3) },
    );
    const b = new FrameBatch(new Uint8Array(1 << 20), 8);
    expect(link.receive(b, 8, 50)).toBe(3);
    expect(t.calls[0]).toEqual({ maxFrame: TAP_MAX_GSO_FRAME, maxCount: 8, timeoutMs: 50, wakeFd: 17 });
    expect(b.count).toBe(3);
    expect([...b.rxFlags.subarray(0, 3)]).toEqual([RX_CSUM_PARTIAL | RX_GSO, RX_CSUM_VERIFIED, 0]);
    expect([...b.segSize.subarray(0, 3)]).toEqual([1448, 0, 0]);
    expect([...b.buf.subarray(b.offsets[2], b.offsets[2] + b.lens[2])]).toEqual(frame(0x0806, 3));
  });

  it('receive takes at most `max` frames', () => {
    const t = scriptedTap(false);
    const link = new TapLink(t.tap, { mtu: 1500, offload: 0 });
    for (let i = 0; i < 5; i++) t.toRead.push({ hdr: [], frame: frame(0x0800, i) });
    const b = new FrameBatch(new Uint8Array(1 << 16), 8);
    expect(link.receive(b, 2, 0)).toBe(2);
    expect(t.calls[0].maxCount).toBe(2);
  });
});
