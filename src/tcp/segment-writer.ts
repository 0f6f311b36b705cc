/**
 * Builds and sends TCP segments: header, options (SYN options, timestamps, SACK blocks),
 * payload copied straight from the send buffer into the outgoing frame, checksum.
 *
 * With a device that completes checksums the checksum field gets only the pseudo-header
 * sum and the frame asks the device to finish it; with one that segments (TSO), a
 * segment may carry up to the device's tsoMaxPayload (a multiple of the MSS) and asks to
 * be cut at the MSS (base/link.ts TxOffload). Without, every segment is complete.
 *
 * Every segment asks for DF (RFC 1191: path MTU discovery; l3/ipv4-output.ts sets it when
 * the datagram fits the path MTU, which the MSS sees to).
 *
 * RFC 9293 3.1 (header), RFC 7323 3.2 (timestamps on every segment once negotiated),
 * RFC 2018 3 (SACK option on ACKs), RFC 1071 (checksum over the pseudo-header).
 */
import { IPPROTO_TCP, IPV4_MIN_HEADER } from '../wire/ipv4.js';
import { fillTcpChecksum, setTcpChecksum, tcpPseudoHeaderPartial } from '../wire/tcp.js';
import type { TcpRepr } from '../wire/tcp-repr.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { C, type Counters } from '../base/counters.js';
import { TxOffload, type LinkCapabilities } from '../base/link.js';
import type { Ipv4Output } from '../l3/ipv4-output.js';
import type { SendBuffer } from './send-buffer.js';

/** Offset of the TCP header in a frame we build: Ethernet + an IPv4 header without options. */
const L4_START = ETH_HEADER_LEN + IPV4_MIN_HEADER;

/** Writes segments through IPv4 output. */
export class SegmentWriter {
  /** The device completes TCP checksums. */
  readonly csumOffload: boolean;
  /** Largest payload of a super-segment the device cuts at the MSS (0: no TSO). */
  readonly tsoMaxPayload: number;
  private readonly tx = new TxOffload();

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

  /** True when the device segments TCP super-frames. */
  get tso(): boolean {
    return this.tsoMaxPayload > 0;
  }

  /** Largest payload one send() may carry to `remoteIp` now: a TSO super-segment when possible, else `mss`. */
  maxPayload(remoteIp: number, mss: number, now: number): number {
    const max = this.tsoMaxPayload;
    if (max < 2 * mss || !this.ip.canSendDirect(remoteIp, now)) return mss;
    return max - (max % mss);
  }

  /**
   * Sends one segment to `remoteIp`: the header and options `seg` describes (its ports,
   * sequence and acknowledgment numbers, flags, window and options) and `seg.dataLen` bytes
   * of payload from `data`, `dataOffset` bytes past its start (SND.UNA), or no payload when
   * `data` is null. `segSize` > 0 lets a device with TSO cut a longer payload at that size
   * (the MSS). `ecn`: the IP ECN codepoint (RFC 3168 6.1.2: ECT(0) on new data when ECN is
   * in use; a super-segment's header, ECT included, is repeated on every segment cut from
   * it). Returns false if it could not be sent (TX full, no route): the caller treats that
   * like a lost segment.
   */
  send(remoteIp: number, seg: TcpRepr, data: SendBuffer | null, dataOffset: number, now: number, segSize = 0, ecn = 0): boolean {
    const len = data !== null ? seg.dataLen : 0;
    const hlen = seg.headerLen();
    const l4 = hlen + len;
    const gso = this.tsoMaxPayload > 0 && segSize > 0 && len > segSize;
    const o = this.ip.prepare(remoteIp, l4, now, gso, len > 0 ? hlen : 0);
    if (o < 0) return false;
    const b = this.ip.buf;
    seg.emit(b, o);
    if (len > 0 && data !== null) data.copyOut(dataOffset, len, b, o + hlen);
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
}
