/**
 * Transmit offload done in software, as a NIC or the Linux kernel would do it for a frame
 * that asks for it (base/link.ts TxOffload): complete the L4 checksum whose field holds
 * the pseudo-header sum, and cut a TCP super-frame into segments of `segSize` payload
 * bytes. Used by the in-memory link (phy/memory-link.ts) to deliver what a real wire
 * would carry, by the capture (phy/capture-device.ts) to record super-frames as the wire
 * sees them, and by fault injection (phy/fault-device.ts) to corrupt a frame after its
 * checksum is final.
 *
 * Segmentation (Linux tcp_gso_segment / inet_gso_segment and ipv6_gso_segment): every
 * segment gets the headers of the super-frame with the IPv4 total length, an ID counting
 * up from the super-frame's and the IPv4 header checksum (over IPv6, without extension
 * headers: the payload length), the TCP sequence number advanced by the payload before
 * it, FIN and PSH only on the last segment, CWR only on the first, and a complete TCP
 * checksum (over IPv6 with the RFC 8200 8.1 pseudo-header). RFC 791 3.1, RFC 9293 3.1,
 * RFC 768, RFC 1071.
 */
import { copyBytes } from '../util/copy-bytes.js';
import { internetChecksum } from '../wire/checksum.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ethType } from '../wire/ethernet.js';
import { IPV6_HEADER_LEN, IPV6_NEXT_HEADER_OFFSET, ipv6PayloadLength, setIpv6PayloadLength } from '../wire/ipv6.js';
import {
  IPPROTO_TCP, IPPROTO_UDP, IPV4_MIN_HEADER, fillIpv4Checksum, ipHeaderLength, ipId, ipIsFragment, ipProtocol, ipSrc, ipDst, ipTotalLength, setIpId, setIpTotalLength,
} from '../wire/ipv4.js';
import { TCP_CWR, TCP_FIN, TCP_PSH, fillTcpChecksum, fillTcpChecksum6At, tcpDataOffset, tcpSeq, setTcpSeq } from '../wire/tcp.js';

/**
 * Completes the checksum of the frame buf[off, off+len): the 16-bit field at csumStart +
 * csumOffset (from the frame's first byte) holds the pseudo-header sum; the one's
 * complement sum from csumStart to the end of the frame, folded and inverted, replaces it
 * (a zero result stays 0: UDP's "no checksum" is a sender's choice, not the device's).
 */
export function completeChecksum(buf: Uint8Array, off: number, len: number, csumStart: number, csumOffset: number): void {
  const c = internetChecksum(buf, off + csumStart, len - csumStart);
  const f = off + csumStart + csumOffset;
  buf[f] = c >>> 8;
  buf[f + 1] = c & 0xff;
}

/**
 * For an unfragmented IPv4 TCP or UDP frame at buf[off, off+len) (or an IPv6 one without
 * extension headers) whose L4 checksum field holds only the pseudo-header sum (a frame
 * received with RX_CSUM_PARTIAL: generated on this host and never checksummed): the
 * checksum the field should hold, computed over the L4 length the IP header gives, packed
 * as `field offset (from the frame's first byte) × 65536 + checksum`. -1 for anything
 * else. The frame is not changed.
 */
export function finalL4Checksum(buf: Uint8Array, off: number, len: number): number {
  if (len >= ETH_HEADER_LEN + IPV6_HEADER_LEN && ethType(buf, off) === ETHERTYPE_IPV6) {
    const ip = off + ETH_HEADER_LEN;
    const nh = buf[ip + IPV6_NEXT_HEADER_OFFSET];
    const field = nh === IPPROTO_TCP ? 16 : nh === IPPROTO_UDP ? 6 : -1;
    const l4 = ETH_HEADER_LEN + IPV6_HEADER_LEN;
    const end = l4 + ipv6PayloadLength(buf, ip);
    if (field < 0 || end > len || l4 + field + 2 > end) return -1;
    return (l4 + field) * 65536 + internetChecksum(buf, off + l4, end - l4);
  }
  if (len < ETH_HEADER_LEN + IPV4_MIN_HEADER || ethType(buf, off) !== ETHERTYPE_IPV4) return -1;
  const ip = off + ETH_HEADER_LEN;
  const proto = ipProtocol(buf, ip);
  const field = proto === IPPROTO_TCP ? 16 : proto === IPPROTO_UDP ? 6 : -1;
  const l4 = ETH_HEADER_LEN + ipHeaderLength(buf, ip);
  const end = ETH_HEADER_LEN + ipTotalLength(buf, ip);
  if (field < 0 || ipIsFragment(buf, ip) || end > len || l4 + field + 2 > end) return -1;
  return (l4 + field) * 65536 + internetChecksum(buf, off + l4, end - l4);
}

/** finalL4Checksum written into the frame; false (frame untouched) when it does not apply. */
export function completeL4Checksum(buf: Uint8Array, off: number, len: number): boolean {
  const r = finalL4Checksum(buf, off, len);
  if (r < 0) return false;
  const f = off + Math.floor(r / 65536);
  buf[f] = (r >>> 8) & 0xff;
  buf[f + 1] = r & 0xff;
  return true;
}

/** Where the parts of an IPv4/TCP or IPv6/TCP super-frame are, for cutting it (frame-relative offsets). */
interface SuperFrame {
  /** Offset of the TCP header, bytes of headers (Ethernet + IP + TCP), TCP payload bytes. */
  tcp: number;
  hdrs: number;
  payload: number;
  v6: boolean;
}
const sf: SuperFrame = { tcp: 0, hdrs: 0, payload: 0, v6: false };

/** Fills `sf` for the frame buf[off, off+len); false when it is not IPv4/TCP or IPv6/TCP (without extension headers). */
function parseSuperFrame(buf: Uint8Array, off: number, len: number): boolean {
  const ip = off + ETH_HEADER_LEN;
  const type = len >= ETH_HEADER_LEN + IPV4_MIN_HEADER ? ethType(buf, off) : -1;
  if (type === ETHERTYPE_IPV6 && len >= ETH_HEADER_LEN + IPV6_HEADER_LEN && buf[ip + IPV6_NEXT_HEADER_OFFSET] === IPPROTO_TCP) {
    sf.v6 = true;
    sf.tcp = ETH_HEADER_LEN + IPV6_HEADER_LEN;
    sf.hdrs = sf.tcp + tcpDataOffset(buf, off + sf.tcp);
    sf.payload = Math.min(len, sf.tcp + ipv6PayloadLength(buf, ip)) - sf.hdrs;
    return sf.hdrs <= len && sf.payload >= 0;
  }
  if (type !== ETHERTYPE_IPV4 || buf[ip + 9] !== IPPROTO_TCP) return false;
  sf.v6 = false;
  sf.tcp = ETH_HEADER_LEN + ipHeaderLength(buf, ip);
  sf.hdrs = sf.tcp + tcpDataOffset(buf, off + sf.tcp);
  sf.payload = Math.min(len, ETH_HEADER_LEN + ipTotalLength(buf, ip)) - sf.hdrs;
  return sf.hdrs <= len && sf.payload >= 0;
}

/**
 * Number of segments the IPv4/TCP or IPv6/TCP super-frame buf[off, off+len) makes at `segSize`
 * payload bytes each (at least 1), or 0 when the frame is neither.
 */
export function tcpSegmentCount(buf: Uint8Array, off: number, len: number, segSize: number): number {
  if (segSize <= 0 || !parseSuperFrame(buf, off, len)) return 0;
  return sf.payload === 0 ? 1 : Math.ceil(sf.payload / segSize);
}

/**
 * Writes segment `n` (0-based, n < tcpSegmentCount) of the TCP super-frame
 * buf[off, off+len) into dst at dstOff as a complete frame with its checksums; returns
 * its length. dst must have room for the headers plus segSize bytes.
 */
export function writeTcpSegment(
  buf: Uint8Array, off: number, len: number, segSize: number, n: number, dst: Uint8Array, dstOff: number,
): number {
  if (!parseSuperFrame(buf, off, len)) return 0;
  const { tcp, hdrs, payload, v6 } = sf;
  const ip = ETH_HEADER_LEN;
  const from = n * segSize;
  const k = Math.max(0, Math.min(segSize, payload - from));
  copyBytes(buf, off, dst, dstOff, hdrs);
  copyBytes(buf, off + hdrs + from, dst, dstOff + hdrs, k);
  const ihl = tcp - ip;
  const thl = hdrs - tcp;
  if (v6) {
    setIpv6PayloadLength(dst, dstOff + ip, thl + k);
  } else {
    setIpTotalLength(dst, dstOff + ip, ihl + thl + k);
    setIpId(dst, dstOff + ip, (ipId(buf, off + ip) + n) & 0xffff);
    fillIpv4Checksum(dst, dstOff + ip);
  }
  setTcpSeq(dst, dstOff + tcp, (tcpSeq(buf, off + tcp) + from) >>> 0);
  let f = buf[off + tcp + 13];
  if (from + k < payload) f &= ~(TCP_FIN | TCP_PSH);
  if (n > 0) f &= ~TCP_CWR;
  dst[dstOff + tcp + 13] = f;
  if (v6) {
    fillTcpChecksum6At(dst, dstOff + tcp, thl + k, dstOff + ip);
  } else {
    fillTcpChecksum(dst, dstOff + tcp, thl + k, ipSrc(buf, off + ip), ipDst(buf, off + ip));
  }
  return hdrs + k;
}

/**
 * Cuts the IPv4/TCP or IPv6/TCP super-frame frame[0..len) into segments of at most `segSize` payload
 * bytes, each a complete frame with its checksums; calls `emit` for each in order (the
 * array is fresh per segment and may be kept). Returns the number of segments, or 0 when
 * the frame is neither (it is then left to the caller).
 */
export function segmentTcp(frame: Uint8Array, len: number, segSize: number, emit: (segment: Uint8Array) => void): number {
  const count = tcpSegmentCount(frame, 0, len, segSize);
  for (let n = 0; n < count; n++) {
    const s = new Uint8Array(sf.hdrs + Math.min(segSize, Math.max(0, sf.payload - n * segSize)));
    writeTcpSegment(frame, 0, len, segSize, n, s, 0);
    emit(s);
  }
  return count;
}
