/**
 * A TCP header as a description, after smoltcp's `TcpRepr`: the fields and options of one
 * segment in a reusable object (one per owner, overwritten each time: no allocation per
 * segment), with parse() from bytes and emit() to bytes that round-trip
 * (`parse(emit(r))` gives `r` back for every header that fits). The checksum and the
 * payload are the caller's: parse() reports where the payload is, emit() writes the
 * header and options only.
 *
 * Option layout on emit is Linux's (wire/tcp.ts writers): on a SYN, MSS, SACK-permitted,
 * timestamps and window scale as given; on other segments timestamps, then as many SACK
 * blocks as fit in the 40 bytes of option space (RFC 2018 3: three alongside timestamps).
 * RFC 9293 3.1, RFC 7323 2.2/3.2, RFC 2018 2/3.
 */
import {
  TCP_MAX_HEADER, TCP_MIN_HEADER, TCP_SYN, TcpOptions, parseTcpOptions, tcpAck, tcpDataOffset, tcpDstPort, tcpFlags,
  tcpSeq, tcpSrcPort, tcpWindow, writeSackOption, writeSynOptions, writeTcpHeader, writeTimestampOption,
} from './tcp.js';

/** Why parse() refused a header (TcpParse.Ok: it did not). */
export const enum TcpParse {
  Ok = 0,
  /** Fewer than 20 bytes. */
  Truncated = 1,
  /** Data offset below 5 words or past the bytes available. */
  BadDataOffset = 2,
  /** An option with a bad length (the fields parsed before it are kept). */
  BadOptions = 3,
}

/** The fields and options of one TCP segment header. */
export class TcpRepr {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  /** TCP_* flag bits. */
  flags = 0;
  /** The window field as on the wire (unscaled). */
  window = 0;
  /** Options; on emit, `mss` and `wscale` (≥ 0) and `sackPermitted` go on SYNs only, SACK blocks on others only. */
  readonly opts = new TcpOptions();
  /** parse(): where the payload starts (absolute offset in the parsed buffer) and its length. */
  dataOff = 0;
  dataLen = 0;

  /** Clears the options (the fixed fields are overwritten by whoever fills the repr). */
  clearOptions(): void {
    this.opts.reset();
  }

  /** True for a SYN (the option layout differs). */
  get isSyn(): boolean {
    return (this.flags & TCP_SYN) !== 0;
  }

  /** SACK blocks emit() will write: what fits next to the timestamps in 40 bytes. */
  sackBlocksToEmit(): number {
    if (this.isSyn) return 0;
    const room = Math.floor((TCP_MAX_HEADER - TCP_MIN_HEADER - (this.opts.hasTimestamp ? 12 : 0) - 4) / 8);
    return Math.min(this.opts.sackCount, room);
  }

  /** Header length emit() writes, bytes (20..60). */
  headerLen(): number {
    const o = this.opts;
    if (this.isSyn) {
      let n = TCP_MIN_HEADER + (o.mss >= 0 ? 4 : 0);
      if (o.hasTimestamp) n += 12;
      else if (o.sackPermitted) n += 4;
      if (o.wscale >= 0) n += 4;
      return n;
    }
    const sack = this.sackBlocksToEmit();
    return TCP_MIN_HEADER + (o.hasTimestamp ? 12 : 0) + (sack > 0 ? 4 + 8 * sack : 0);
  }

  /** Writes the header and its options at b[o] (checksum field 0); returns the header length. */
  emit(b: Uint8Array, o: number): number {
    const hlen = this.headerLen();
    writeTcpHeader(b, o, this.srcPort, this.dstPort, this.seq, this.ack, hlen, this.flags, this.window);
    const x = this.opts;
    let p = o + TCP_MIN_HEADER;
    if (this.isSyn) {
      writeSynOptions(b, p, x.mss, x.wscale, x.sackPermitted, x.tsVal, x.tsEcr, x.hasTimestamp);
    } else {
      if (x.hasTimestamp) p += writeTimestampOption(b, p, x.tsVal, x.tsEcr);
      writeSackOption(b, p, x.sackBlocks, this.sackBlocksToEmit());
    }
    return hlen;
  }

  /**
   * Fills the repr from the `len`-byte segment (header + payload) at b[o]; bytes past the
   * end of `b` never count. The checksum is not looked at (offload may have verified it).
   * On BadOptions the fixed fields and the options before the bad one are filled.
   */
  parse(b: Uint8Array, o: number, len: number): TcpParse {
    const avail = len < b.length - o ? len : b.length - o;
    if (!(avail >= TCP_MIN_HEADER)) return TcpParse.Truncated;
    const hlen = tcpDataOffset(b, o);
    if (hlen < TCP_MIN_HEADER || hlen > avail) return TcpParse.BadDataOffset;
    this.srcPort = tcpSrcPort(b, o);
    this.dstPort = tcpDstPort(b, o);
    this.seq = tcpSeq(b, o);
    this.ack = tcpAck(b, o);
    this.flags = tcpFlags(b, o);
    this.window = tcpWindow(b, o);
    this.dataOff = o + hlen;
    this.dataLen = avail - hlen;
    return parseTcpOptions(b, o, hlen, this.opts) ? TcpParse.Ok : TcpParse.BadOptions;
  }
}
