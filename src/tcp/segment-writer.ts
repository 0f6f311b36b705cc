/**
 * Builds and sends TCP segments: header, options (SYN options, timestamps, SACK blocks),
 * payload copied straight from the send buffer into the outgoing frame, checksum.
 *
 * With a device that completes checksums the checksum field gets only the pseudo-header
 * sum and the frame asks the device to finish it; with one that segments (TSO), a
 * segment may carry up to the device's tsoMaxPayload (a multiple of the MSS) and asks to
 * be cut at the MSS (base/link.ts TxOffload). Without, every segment is complete.
 *
 * RFC 9293 3.1 (header), RFC 7323 3.2 (timestamps on every segment once negotiated),
 * RFC 2018 3 (SACK option on ACKs), RFC 1071 (checksum over the pseudo-header).
 */
import { IPPROTO_TCP, IPV4_MIN_HEADER } from '../wire/ipv4.js';
import {
  TCP_MIN_HEADER, TCP_SYN, fillTcpChecksum, setTcpChecksum, tcpPseudoHeaderPartial,
  writeSackOption, writeSynOptions, writeTcpHeader, writeTimestampOption,
} from '../wire/tcp.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { C, type Counters } from '../base/counters.js';
import { TxOffload, type LinkCapabilities } from '../base/link.js';
import type { Ipv4Output } from '../l3/ipv4-output.js';
import type { SendBuffer } from './send-buffer.js';

/** Options to put on one segment. */
export class SegmentOptions {
  /** SYN options: our MSS, window shift (-1: none), SACK-permitted. */
  synMss = -1;
  synWscale = -1;
  synSackPermitted = false;
  /** Timestamps (tsVal, tsEcr) when `timestamps` is set. */
  timestamps = false;
  tsVal = 0;
  tsEcr = 0;
  /** SACK blocks as [left,right) pairs in sack[0..2*sackCount). */
  readonly sack = new Uint32Array(8);
  sackCount = 0;

  /** Clears everything. */
  reset(): void {
    this.synMss = -1;
    this.synWscale = -1;
    this.synSackPermitted = false;
    this.timestamps = false;
    this.sackCount = 0;
  }

  /** Bytes of option space needed. */
  length(isSyn: boolean): number {
    if (isSyn) {
      let n = 4; // MSS
      if (this.synSackPermitted || this.timestamps) n += this.timestamps ? 12 : 4;
      if (this.synWscale >= 0) n += 4;
      return n;
    }
    let n = this.timestamps ? 12 : 0;
    if (this.sackCount > 0) n += 4 + 8 * this.sackCount;
    return n;
  }
}

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
   * Sends one segment. Payload: `len` bytes at `dataOffset` bytes past the send buffer's
   * start (sndUna), or none when `sb` is null. Returns false if it could not be sent
   * (TX full, no route): the caller treats that like a lost segment.
   */
  send(
    remoteIp: number, localPort: number, remotePort: number,
    seq: number, ack: number, flags: number, window: number,
    opts: SegmentOptions, sb: SendBuffer | null, dataOffset: number, len: number, now: number, mss = 0,
  ): boolean {
    const isSyn = (flags & TCP_SYN) !== 0;
    let optLen = opts.length(isSyn);
    if (TCP_MIN_HEADER + optLen > 60) {
      // Too many SACK blocks for the option space: keep what fits.
      opts.sackCount = Math.max(0, Math.floor((60 - TCP_MIN_HEADER - (opts.timestamps ? 12 : 0) - 4) / 8));
      optLen = opts.length(isSyn);
    }
    const hlen = TCP_MIN_HEADER + optLen;
    const l4 = hlen + len;
    const gso = this.tsoMaxPayload > 0 && mss > 0 && len > mss;
    const o = this.ip.prepare(remoteIp, l4, now, gso);
    if (o < 0) return false;
    const b = this.ip.buf;
    writeTcpHeader(b, o, localPort, remotePort, seq, ack, hlen, flags, window);
    let p = o + TCP_MIN_HEADER;
    if (isSyn) {
      p += writeSynOptions(b, p, opts.synMss, opts.synWscale, opts.synSackPermitted, opts.tsVal, opts.tsEcr, opts.timestamps);
    } else {
      if (opts.timestamps) p += writeTimestampOption(b, p, opts.tsVal, opts.tsEcr);
      if (opts.sackCount > 0) p += writeSackOption(b, p, opts.sack, opts.sackCount);
    }
    if (len > 0 && sb !== null) sb.copyOut(dataOffset, len, b, o + hlen);
    if (this.csumOffload && this.ip.direct) {
      // The device completes the checksum (and segments a super-segment): the field holds
      // the folded pseudo-header sum including the TCP length.
      setTcpChecksum(b, o, tcpPseudoHeaderPartial(this.localIp, remoteIp, l4));
      const t = this.tx;
      t.csumStart = L4_START;
      t.csumOffset = 16;
      t.segSize = gso ? mss : 0;
      t.hdrLen = L4_START + hlen;
      this.ip.transmit(IPPROTO_TCP, l4, now, false, t);
    } else {
      fillTcpChecksum(b, o, l4, this.localIp, remoteIp);
      this.ip.transmit(IPPROTO_TCP, l4, now);
    }
    this.counters[C.tcp_segments_tx]++;
    return true;
  }
}
