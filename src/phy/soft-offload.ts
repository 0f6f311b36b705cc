/**
 * Transmit offload done in software, as a NIC or the Linux kernel would do it for a frame
 * that asks for it (base/link.ts TxOffload): complete the L4 checksum whose field holds
 * the pseudo-header sum, and cut a TCP super-frame into segments of `segSize` payload
 * bytes. Used by the in-memory link (phy/memory-link.ts) to deliver what a real wire
 * would carry; also what a capture needs to show super-frames as the wire sees them.
 *
 * Segmentation (Linux tcp_gso_segment / inet_gso_segment, IPv4 only for now): every
 * segment gets the headers of the super-frame with the IPv4 total length, an ID counting
 * up from the super-frame's, the IPv4 header checksum, the TCP sequence number advanced
 * by the payload before it, FIN and PSH only on the last segment, CWR only on the first,
 * and a complete TCP checksum. RFC 791 3.1, RFC 9293 3.1, RFC 1071.
 */
import { internetChecksum } from '../wire/checksum.js';
import { ETHERTYPE_IPV4, ethType } from '../wire/ethernet.js';
import { fillIpv4Checksum, ipHeaderLength, ipId, ipSrc, ipDst, ipTotalLength, setIpId, setIpTotalLength } from '../wire/ipv4.js';
import { TCP_CWR, TCP_FIN, TCP_PSH, fillTcpChecksum, tcpDataOffset, tcpSeq, setTcpSeq } from '../wire/tcp.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';

/**
 * Completes the checksum of frame[0..len): the 16-bit field at csumStart + csumOffset
 * holds the pseudo-header sum; the one's complement sum from csumStart to the end of the
 * frame, folded and inverted, replaces it (a zero result stays 0: UDP's "no checksum" is
 * a sender's choice, not the device's).
 */
export function completeChecksum(frame: Uint8Array, len: number, csumStart: number, csumOffset: number): void {
  const c = internetChecksum(frame, csumStart, len - csumStart);
  frame[csumStart + csumOffset] = c >>> 8;
  frame[csumStart + csumOffset + 1] = c & 0xff;
}

/**
 * Cuts the IPv4/TCP super-frame frame[0..len) into segments of at most `segSize` payload
 * bytes, each a complete frame with its checksums; calls `emit` for each in order (the
 * array is fresh per segment and may be kept). Returns the number of segments, or 0 when
 * the frame is not IPv4/TCP (it is then left to the caller).
 */
export function segmentTcp(frame: Uint8Array, len: number, segSize: number, emit: (segment: Uint8Array) => void): number {
  if (len < ETH_HEADER_LEN + 20 || ethType(frame, 0) !== ETHERTYPE_IPV4 || frame[ETH_HEADER_LEN + 9] !== 6) return 0;
  const ip = ETH_HEADER_LEN;
  const ihl = ipHeaderLength(frame, ip);
  const tcp = ip + ihl;
  const thl = tcpDataOffset(frame, tcp);
  const hdrs = tcp + thl;
  const end = Math.min(len, ip + ipTotalLength(frame, ip));
  const payload = end - hdrs;
  const src = ipSrc(frame, ip);
  const dst = ipDst(frame, ip);
  const seq0 = tcpSeq(frame, tcp);
  const id0 = ipId(frame, ip);
  const flags = frame[tcp + 13]!;
  let n = 0;
  for (let off = 0; off < payload || (payload === 0 && n === 0); off += segSize) {
    const k = Math.min(segSize, payload - off);
    const s = new Uint8Array(hdrs + k);
    s.set(frame.subarray(0, hdrs));
    s.set(frame.subarray(hdrs + off, hdrs + off + k), hdrs);
    setIpTotalLength(s, ip, ihl + thl + k);
    setIpId(s, ip, (id0 + n) & 0xffff);
    fillIpv4Checksum(s, ip);
    setTcpSeq(s, tcp, (seq0 + off) >>> 0);
    let f = flags;
    if (off + k < payload) f &= ~(TCP_FIN | TCP_PSH);
    if (n > 0) f &= ~TCP_CWR;
    s[tcp + 13] = f;
    fillTcpChecksum(s, tcp, thl + k, src, dst);
    emit(s);
    n++;
    if (payload === 0) break;
  }
  return n;
}
