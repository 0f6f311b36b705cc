/**
 * The TAP as a LinkDevice (base/link.ts): the binding's batched reads and writes
 * (phy/tap.ts) with the virtio-net header translated to and from the device-neutral
 * per-frame metadata of a FrameBatch. This is the only place that knows the header.
 *
 * Receive: flags NEEDS_CSUM → RX_CSUM_PARTIAL (locally generated traffic, checksum field
 * holds the pseudo-header sum), DATA_VALID → RX_CSUM_VERIFIED, gso_type ≠ NONE → RX_GSO
 * with gso_size as the segment size. Transmit: a checksum to complete → NEEDS_CSUM with
 * csum_start/csum_offset; a segment size → gso_type TCPV4 (TCPV6 for an IPv6 frame; with
 * the ECN bit when the super-frame carries CWR, RFC 3168 6.1.2), gso_size, hdr_len. The header is written in the headroom in front of each frame
 * (capabilities.txHeadroom: batches leave it) so that header and frame go out in one plain
 * write(); a batch without headroom gets its headers in their own iovec (writev). A frame
 * that ends in pieces held by reference (FrameBatch.attach, decision 0051) goes out with
 * one writev() of its bytes and its pieces (txGather, with the header only).
 *
 * Capabilities: with the header, the kernel completes checksums and segments TCP
 * super-frames of up to 64 KiB on write (it does so even without TUNSETOFFLOAD, which
 * only governs what it hands us); it aggregates received segments (GRO) only when
 * TUNSETOFFLOAD granted TSO. virtio 1.1 5.1.6, Documentation/networking/tuntap.rst.
 *
 * A receive that may wait polls before it reads, and empties the wake eventfd when that
 * is what woke it: the I/O thread's sleep then costs poll() and the reads that return
 * frames, with no read that only finds the queue empty again.
 */
import type { FrameBatch } from '../base/frame-batch.js';
import type { LinkCapabilities, LinkDevice } from '../base/link.js';
import { RX_CSUM_PARTIAL, RX_CSUM_VERIFIED, RX_GSO } from '../base/rx-flags.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV6 } from '../wire/ethernet.js';
import {
  READ_DRAIN_WAKE, READ_POLL_FIRST, TAP_MAX_GSO_FRAME, TUN_F_TSO4, TUN_F_TSO6, VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VNET_HDR_LEN, writeVnetHeader,
  type TapDevice,
} from './tap.js';
import { TCP_CWR } from '../wire/tcp.js';

/** Largest TCP payload of one super-frame: an IP datagram is at most 65535 bytes (IPv4 header and TCP options taken off). */
export const TAP_TSO_MAX_PAYLOAD = 65535 - 20 - 60;

/** What TapLink uses of a TapDevice (phy/tap.ts). */
export type TapIo = Pick<TapDevice, 'vnetHdr' | 'readBatch' | 'writeBatch' | 'writeBatchWithHeaders' | 'writeGatherWithHeaders'>;

/** How the TAP was set up. */
export interface TapLinkOptions {
  /** IP MTU of the link. */
  mtu: number;
  /** TUNSETOFFLOAD flags the kernel accepted (0: none). */
  offload: number;
  /**
   * An eventfd that wakes a receive() waiting in poll() (-1: none). A receive that waited
   * and was woken by it empties it.
   */
  wakeFd?: number;
}

/** Capabilities of a TAP with or without the virtio-net header. */
export function tapCapabilities(vnetHdr: boolean, offload: number, mtu: number): LinkCapabilities {
  const gro = vnetHdr && (offload & (TUN_F_TSO4 | TUN_F_TSO6)) !== 0;
  return {
    medium: 'ethernet',
    mtu,
    maxRxFrame: gro ? TAP_MAX_GSO_FRAME : mtu + ETH_HEADER_LEN,
    txChecksum: vnetHdr,
    tsoMaxPayload: vnetHdr ? TAP_TSO_MAX_PAYLOAD : 0,
    txHeadroom: vnetHdr ? VNET_HDR_LEN : 0,
    txGather: vnetHdr,
  };
}

/**
 * The gso_type of the TCP super-frame b[o, o+len): TCPV4 or TCPV6, with the ECN bit when
 * the segment carries CWR (the kernel then keeps CWR on the first segment only).
 */
function gsoType(b: Uint8Array, o: number, len: number): number {
  const v6 = ((b[o + 12] << 8) | b[o + 13]) === ETHERTYPE_IPV6;
  const ip = o + ETH_HEADER_LEN;
  const flags = (v6 ? ip + 40 : ip + ((b[ip] & 0x0f) << 2)) + 13;
  const cwr = flags < o + len && (b[flags] & TCP_CWR) !== 0 ? VIRTIO_NET_HDR_GSO_ECN : 0;
  return (v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) | cwr;
}

/** A TAP device as a LinkDevice. */
export class TapLink implements LinkDevice {
  readonly capabilities: LinkCapabilities;
  private readonly vnet: boolean;
  private readonly wakeFd: number;
  private vnetRx = new Uint8Array(0);
  private vnetTx = new Uint8Array(0);
  /** Where each frame starts with its header in front of it, and its length so (in-place transmit). */
  private hdrOffs = new Int32Array(0);
  private hdrLens = new Int32Array(0);
  private readonly errors = new Int32Array(2);

  constructor(readonly tap: TapIo, opts: TapLinkOptions) {
    this.vnet = tap.vnetHdr;
    this.capabilities = tapCapabilities(tap.vnetHdr, opts.offload, opts.mtu);
    this.wakeFd = opts.wakeFd ?? -1;
  }

  receive(batch: FrameBatch, max: number, timeoutMs: number): number {
    const want = Math.min(max, batch.capacity);
    let v: Uint8Array | null = null;
    if (this.vnet) {
      if (this.vnetRx.length < want * VNET_HDR_LEN) this.vnetRx = new Uint8Array(batch.capacity * VNET_HDR_LEN);
      v = this.vnetRx;
    }
    // A receive that may wait comes from a driver that found the device empty a moment ago
    // (the I/O loop's sleep): poll first instead of a read that would return EAGAIN, and
    // empty the wake eventfd in the same call when it is what ended the wait.
    const flags = timeoutMs !== 0 ? READ_POLL_FIRST | READ_DRAIN_WAKE : 0;
    const n = this.tap.readBatch(
      batch.buf, 0, batch.buf.length, this.capabilities.maxRxFrame, batch.offsets, batch.lens, want, timeoutMs, this.wakeFd, v, flags,
    );
    if (n <= 0) {
      batch.count = 0;
      return n;
    }
    batch.count = n;
    for (let i = 0; i < n; i++) {
      if (v === null) {
        batch.rxFlags[i] = 0;
        batch.segSize[i] = 0;
        continue;
      }
      const h = i * VNET_HDR_LEN;
      const f = v[h];
      const gso = v[h + 1] & 0x7f;
      batch.rxFlags[i] =
        (f & VIRTIO_NET_HDR_F_NEEDS_CSUM ? RX_CSUM_PARTIAL : 0) |
        (f & VIRTIO_NET_HDR_F_DATA_VALID ? RX_CSUM_VERIFIED : 0) |
        (gso !== VIRTIO_NET_HDR_GSO_NONE ? RX_GSO : 0);
      batch.segSize[i] = gso !== VIRTIO_NET_HDR_GSO_NONE ? v[h + 4] | (v[h + 5] << 8) : 0;
    }
    return n;
  }

  transmit(batch: FrameBatch, first: number): number {
    const count = batch.count - first;
    if (count <= 0) return 0;
    if (!this.vnet) return this.write(batch, batch.offsets, batch.lens, first, count, null);
    // Room for the header in front of every frame: write it there and each frame with one
    // plain write() (a writev of header and frame costs ~15 % more per small frame).
    const inPlace = batch.headroom >= VNET_HDR_LEN;
    if (inPlace) {
      if (this.hdrOffs.length < batch.capacity) {
        this.hdrOffs = new Int32Array(batch.capacity);
        this.hdrLens = new Int32Array(batch.capacity);
      }
    } else if (this.vnetTx.length < batch.count * VNET_HDR_LEN) {
      this.vnetTx = new Uint8Array(batch.capacity * VNET_HDR_LEN);
    }
    const b = batch.buf;
    for (let i = first; i < batch.count; i++) {
      const o = batch.offsets[i];
      const cs = batch.csumStart[i];
      const seg = batch.segSize[i];
      let gso = VIRTIO_NET_HDR_GSO_NONE;
      if (seg > 0) gso = gsoType(b, o, batch.lens[i]);
      const flags = cs >= 0 ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0;
      const csStart = cs >= 0 ? cs : 0;
      const csOff = cs >= 0 ? batch.csumOffset[i] : 0;
      if (inPlace) {
        writeVnetHeader(b, o - VNET_HDR_LEN, flags, gso, batch.hdrLen[i], seg, csStart, csOff);
        this.hdrOffs[i] = o - VNET_HDR_LEN;
        this.hdrLens[i] = batch.lens[i] + VNET_HDR_LEN;
      } else {
        writeVnetHeader(this.vnetTx, i * VNET_HDR_LEN, flags, gso, batch.hdrLen[i], seg, csStart, csOff);
      }
    }
    if (batch.piecesUsed > 0) {
      if (!inPlace) throw new RangeError('TapLink.transmit: frames in pieces need the batch to leave the header room');
      return this.write(batch, this.hdrOffs, this.hdrLens, first, count, null, true, true);
    }
    return inPlace
      ? this.write(batch, this.hdrOffs, this.hdrLens, first, count, null, true)
      : this.write(batch, batch.offsets, batch.lens, first, count, this.vnetTx);
  }

  /**
   * One batch write of frames first..first+count-1 (`headed`: each already carries its
   * header in front; `pieces`: and may end in pieces); rejected frames are counted in the batch.
   */
  private write(
    batch: FrameBatch, offs: Int32Array, lens: Int32Array, first: number, count: number, vnet: Uint8Array | null, headed = false, pieces = false,
  ): number {
    const e = this.errors;
    e[0] = 0;
    const w = pieces
      ? this.tap.writeGatherWithHeaders(batch.buf, offs, lens, first, count, batch.pieceFirst, batch.pieceCount, batch.pieces, batch.pieceOff, batch.pieceLen, e)
      : headed
        ? this.tap.writeBatchWithHeaders(batch.buf, offs, lens, first, count, e)
        : this.tap.writeBatch(batch.buf, offs, lens, first, count, vnet, e);
    if (e[0] > 0) {
      batch.failed += e[0];
      batch.lastErrno = e[1];
    }
    return w;
  }

}
