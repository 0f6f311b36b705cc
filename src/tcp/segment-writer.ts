/**
 * Builds and sends TCP segments: header, options (SYN options, timestamps, SACK blocks),
 * payload copied straight from the send buffer into the outgoing frame, checksum. When
 * the device completes the checksum and takes frames in pieces (TxSink.gathers), a payload
 * of GATHER_MIN_PAYLOAD or more is not copied at all: the frame ends in references to the
 * send buffer's blocks, written with one writev() (decision 0051).
 *
 * With a device that completes checksums the checksum field gets only the pseudo-header
 * sum and the frame asks the device to finish it; with one that segments (TSO), a
 * segment may carry up to the device's tsoMaxPayload (a multiple of the MSS) and asks to
 * be cut at the MSS (base/link.ts TxOffload). Without, every segment is complete.
 *
 * Every segment asks for DF (RFC 1191: path MTU discovery; l3/ipv4-output.ts sets it when
 * the datagram fits the path MTU, which the MSS sees to).
 *
 * Segments to an IPv6 peer (an interned address, base/ipv6-interner.ts) go through IPv6
 * output from the connection's own local address, with the IPv6 pseudo-header in the
 * checksum (RFC 8200 8.1), and ask the device for the same offload (TSO6: the virtio
 * header's GSO_TCPV6, phy/tap-link.ts).
 *
 * RFC 9293 3.1 (header), RFC 7323 3.2 (timestamps on every segment once negotiated),
 * RFC 2018 3 (SACK option on ACKs), RFC 1071 (checksum over the pseudo-header).
 */
import { IPPROTO_TCP, IPV4_MIN_HEADER } from '../wire/ipv4.js';
import { fillTcpChecksum, fillTcpChecksum6, setTcpChecksum, tcpPseudoHeaderPartial } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp-repr.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { C, type Counters } from '../base/counters.js';
import { TxOffload, type LinkCapabilities, type TxFlow } from '../base/link.js';
import type { Ipv4Output } from '../l3/ipv4-output.js';
import type { Ipv6Output } from '../l3/ipv6-output.js';
import { IPV6_ID_BASE, type Ipv6Interner } from '../base/ipv6-interner.js';
import { IPV6_HEADER_LEN, NH_TCP } from '../wire/ipv6.js';
import { ipv6PseudoHeaderSum } from '../wire/checksum.js';
import { ipv6 } from '../wire/ipv6-address.js';
import type { PieceSink, SendBuffer } from './send-buffer.js';

/**
 * Smallest payload sent by reference when the sink gathers (decision 0051). A smaller one
 * is copied: a writev() and the lookup of each piece cost more than copying a few
 * kilobytes (phy/tap-link.ts measured a writev ~15 % dearer than a write per small frame).
 */
export const GATHER_MIN_PAYLOAD = 8192;

/** Offset of the TCP header in a frame we build: Ethernet + an IPv4 header without options. */
const L4_START = ETH_HEADER_LEN + IPV4_MIN_HEADER;
/** The same over IPv6 (no extension headers). */
const L4_START6 = ETH_HEADER_LEN + IPV6_HEADER_LEN;

/** Writes segments through IPv4 output. */
export class SegmentWriter {
  /** The device completes TCP checksums. */
  readonly csumOffload: boolean;
  /** Largest payload of a super-segment the device cuts at the MSS (0: no TSO). */
  readonly tsoMaxPayload: number;
  private readonly tx = new TxOffload();
  /** IPv6 output and the addresses behind interned ids (null: no IPv6 in this instance). */
  private ip6: Ipv6Output | null = null;
  private interner: Ipv6Interner | null = null;
  private readonly src6 = ipv6(0, 0, 0, 0);
  private readonly dst6 = ipv6(0, 0, 0, 0);

  /** @param device what the link device offloads (omitted: nothing) */
  constructor(
    private readonly ip: Ipv4Output,
    private readonly counters: Counters,
    private readonly localIp: number,
    device?: Pick<LinkCapabilities, 'txChecksum' | 'tsoMaxPayload'>,
  ) {
    this.csumOffload = device?.txChecksum ?? false;
    // Segmentation offload needs checksum offload: every segment's checksum differs.
    this.tsoMaxPayload = this.csumOffload ? Math.min(device?.tsoMaxPayload ?? 0, 65535 - IPV4_MIN_HEADER - 60) : 0;
  }

  /** Segments to interned IPv6 addresses go out through `out`. */
  enableIpv6(out: Ipv6Output, interner: Ipv6Interner): void {
    this.ip6 = out;
    this.interner = interner;
  }

  /** The flow (connection) the next segments belong to, for the TX sink; null: none. Both address families share the sink. */
  set txFlow(f: TxFlow | null) {
    this.ip.txFlow = f;
  }

  /**
   * Frames the TX sink had no room for, since the start (both address families share the
   * sink): a send() that returns false while this grew was refused for room, and may go
   * once the sink has some (TcpLayer.retryBlocked).
   */
  get txRefusals(): number {
    return this.ip.txRefusals;
  }

  /** True when the device segments TCP super-frames. */
  get tso(): boolean {
    return this.tsoMaxPayload > 0;
  }

  /** Largest payload one send() may carry to `remoteIp` now: a TSO super-segment when possible, else `mss`. */
  maxPayload(remoteIp: number, mss: number, now: number): number {
    const max = this.tsoMaxPayload;
    if (remoteIp >= IPV6_ID_BASE) {
      const out = this.ip6;
      if (max < 2 * mss || out === null || this.interner === null || !out.canSendDirect(this.interner.copyInto(remoteIp, this.dst6), now)) return mss;
      return max - (max % mss);
    }
    if (max < 2 * mss || !this.ip.canSendDirect(remoteIp, now)) return mss;
    return max - (max % mss);
  }

  /**
   * Sends one segment from `localIp` to `remoteIp`: the header and options `seg` describes (its ports,
   * sequence and acknowledgment numbers, flags, window and options) and `seg.dataLen` bytes
   * of payload from `data`, `dataOffset` bytes past its start (SND.UNA), or no payload when
   * `data` is null. `segSize` > 0 lets a device with TSO cut a longer payload at that size
   * (the MSS). `ecn`: the IP ECN codepoint (RFC 3168 6.1.2: ECT(0) on new data when ECN is
   * in use; a super-segment's header, ECT included, is repeated on every segment cut from
   * it). Returns false if it could not be sent (TX full, no route): the caller treats that
   * like a lost segment, and `txRefusals` tells a full sink apart.
   */
  send(localIp: number, remoteIp: number, seg: TcpRepr, data: SendBuffer | null, dataOffset: number, now: number, segSize = 0, ecn = 0): boolean {
    if (remoteIp >= IPV6_ID_BASE) return this.send6(localIp, remoteIp, seg, data, dataOffset, now, segSize, ecn);
    const len = data !== null ? seg.dataLen : 0;
    const hlen = seg.headerLen();
    const l4 = hlen + len;
    const gso = this.tsoMaxPayload > 0 && segSize > 0 && len > segSize;
    const o = this.ip.prepare(remoteIp, l4, now, gso, len > 0 ? hlen : 0);
    if (o < 0) return false;
    const b = this.ip.buf;
    seg.emit(b, o);
    if (len > 0 && data !== null) this.payload(this.ip, data, dataOffset, len, b, o + hlen);
    if (this.csumOffload && this.ip.direct) {
      // The device completes the checksum (and segments a super-segment): the field holds
      // the folded pseudo-header sum including the TCP length.
      setTcpChecksum(b, o, tcpPseudoHeaderPartial(this.localIp, remoteIp, l4));
      const t = this.tx;
      t.csumStart = L4_START;
      t.csumOffset = 16;
      t.segSize = gso ? segSize : 0;
      t.hdrLen = L4_START + hlen;
      this.ip.transmit(IPPROTO_TCP, l4, now, true, t, ecn);
    } else {
      fillTcpChecksum(b, o, l4, this.localIp, remoteIp);
      this.ip.transmit(IPPROTO_TCP, l4, now, true, null, ecn);
    }
    this.counters[C.tcp_segments_tx]++;
    return true;
  }

  /**
   * Puts `len` bytes of `data` from `dataOffset` into the frame being built at b[at..]: by
   * reference when the device completes the checksum, the payload is large and the sink
   * gathers (decision 0051), else copied.
   */
  private payload(out: PieceSink & { readonly gathers: boolean }, data: SendBuffer, dataOffset: number, len: number, b: Uint8Array, at: number): void {
    if (this.csumOffload && len >= GATHER_MIN_PAYLOAD && out.gathers) data.attachOut(dataOffset, len, out);
    else data.copyOut(dataOffset, len, b, at);
  }

  /** send() to an IPv6 peer from `localIp` (both interned). */
  private send6(localIp: number, remoteIp: number, seg: TcpRepr, data: SendBuffer | null, dataOffset: number, now: number, segSize: number, ecn: number): boolean {
    const out = this.ip6;
    const names = this.interner;
    if (out === null || names === null || localIp < IPV6_ID_BASE) {
      this.counters[C.drop_ipv6_no_route]++;
      return false;
    }
    const len = data !== null ? seg.dataLen : 0;
    const hlen = seg.headerLen();
    const l4 = hlen + len;
    const gso = this.tsoMaxPayload > 0 && segSize > 0 && len > segSize;
    const src = names.copyInto(localIp, this.src6);
    const dst = names.copyInto(remoteIp, this.dst6);
    const o = out.prepare(src, dst, l4, now, gso, len > 0 ? hlen : 0);
    if (o < 0) return false;
    const b = out.buf;
    seg.emit(b, o);
    if (len > 0 && data !== null) this.payload(out, data, dataOffset, len, b, o + hlen);
    if (this.csumOffload && out.direct) {
      setTcpChecksum(b, o, ipv6PseudoHeaderSum(src, dst, NH_TCP, l4));
      const t = this.tx;
      t.csumStart = L4_START6;
      t.csumOffset = 16;
      t.segSize = gso ? segSize : 0;
      t.hdrLen = L4_START6 + hlen;
      out.transmit(NH_TCP, l4, t, ecn);
    } else {
      fillTcpChecksum6(b, o, l4, src, dst);
      out.transmit(NH_TCP, l4, null, ecn);
    }
    this.counters[C.tcp_segments_tx]++;
    return true;
  }
}
