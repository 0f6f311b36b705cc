/**
 * Frame builders for tests: ARP, IPv4 (optionally fragmented), ICMP echo, UDP. Built with
 * the wire writers under test's neighbours, so keep assertions on golden bytes elsewhere.
 */
import { writeArp } from '../../src/wire/arp.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { ETH_HEADER_LEN, ETHERTYPE_ARP, ETHERTYPE_IPV4, writeEthernetHeader } from '../../src/wire/ethernet.js';
import { TxOffload } from '../../src/base/link.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPV4_MF, fillIpv4Checksum, writeIpv4Header } from '../../src/wire/ipv4.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, setTcpChecksum, tcpPseudoHeaderPartial, writeTcpHeader } from '../../src/wire/tcp.js';
import { fillUdpChecksum, writeUdpHeader } from '../../src/wire/udp.js';

/** An ARP packet in an Ethernet frame (padded to 60 bytes). */
export function arpFrame(ethDst: number, op: number, sha: number, spa: number, tha: number, tpa: number): Uint8Array {
  const f = new Uint8Array(60);
  writeEthernetHeader(f, 0, ethDst, sha, ETHERTYPE_ARP);
  writeArp(f, ETH_HEADER_LEN, op, sha, spa, tha, tpa);
  return f;
}

/** An IPv4 datagram with `payload` in an Ethernet frame. */
export function ipv4Frame(
  dstMac: number, srcMac: number, src: number, dst: number, protocol: number, payload: Uint8Array,
  opts: { id?: number; flagsFragment?: number; ttl?: number } = {},
): Uint8Array {
  const f = new Uint8Array(ETH_HEADER_LEN + 20 + payload.length);
  writeEthernetHeader(f, 0, dstMac, srcMac, ETHERTYPE_IPV4);
  writeIpv4Header(f, ETH_HEADER_LEN, 20 + payload.length, opts.id ?? 0x1234, opts.flagsFragment ?? 0, opts.ttl ?? 64, protocol, src, dst);
  f.set(payload, ETH_HEADER_LEN + 20);
  return f;
}

/**
 * The Ethernet/IPv4 `frame` (20-byte header) with IP `options` inserted after the header,
 * padded with zeros (end of list) to a multiple of 4; IHL, total length and the header
 * checksum follow. The payload, and so its checksum, is unchanged.
 */
export function withIpOptions(frame: Uint8Array, options: number[]): Uint8Array {
  const opts = [...options];
  while (opts.length % 4 !== 0) opts.push(0);
  const ip = ETH_HEADER_LEN;
  const f = new Uint8Array(frame.length + opts.length);
  f.set(frame.subarray(0, ip + 20));
  f.set(opts, ip + 20);
  f.set(frame.subarray(ip + 20), ip + 20 + opts.length);
  f[ip] = 0x40 | ((20 + opts.length) >> 2);
  const total = ((f[ip + 2] << 8) | f[ip + 3]) + opts.length;
  f[ip + 2] = total >> 8; f[ip + 3] = total & 0xff;
  fillIpv4Checksum(f, ip);
  return f;
}

/** An ICMP echo request message (type 8) with a valid checksum. */
export function icmpEcho(id: number, seq: number, data: Uint8Array, type = 8): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  m[0] = type;
  m[4] = id >> 8; m[5] = id & 0xff;
  m[6] = seq >> 8; m[7] = seq & 0xff;
  m.set(data, 8);
  const c = internetChecksum(m, 0, m.length);
  m[2] = c >> 8; m[3] = c & 0xff;
  return m;
}

/**
 * An ICMP error message (destination unreachable, time exceeded, parameter problem) with a
 * valid checksum quoting `quote` (an IPv4 datagram as sent, cut to `quoteLen` bytes: by
 * default its header and 8 bytes of payload, as most routers send). `mtu` fills bytes 6–7
 * (the next-hop MTU of "fragmentation needed").
 */
export function icmpError(type: number, code: number, quote: Uint8Array, opts: { mtu?: number; quoteLen?: number } = {}): Uint8Array {
  const len = Math.min(quote.length, opts.quoteLen ?? ((quote[0] & 0x0f) << 2) + 8);
  const m = new Uint8Array(8 + len);
  m[0] = type;
  m[1] = code;
  const mtu = opts.mtu ?? 0;
  m[6] = mtu >> 8; m[7] = mtu & 0xff;
  m.set(quote.subarray(0, len), 8);
  const c = internetChecksum(m, 0, m.length);
  m[2] = c >> 8; m[3] = c & 0xff;
  return m;
}

/** A UDP datagram (header + data) with a valid checksum for src → dst. */
export function udpDatagram(src: number, dst: number, sport: number, dport: number, data: Uint8Array): Uint8Array {
  const u = new Uint8Array(8 + data.length);
  writeUdpHeader(u, 0, sport, dport, u.length);
  u.set(data, 8);
  fillUdpChecksum(u, 0, u.length, src, dst);
  return u;
}

/** Splits an IPv4 L4 payload into Ethernet frames of IPv4 fragments for an IP MTU. */
export function fragmentFrames(
  dstMac: number, srcMac: number, src: number, dst: number, protocol: number, payload: Uint8Array, mtu: number, id: number,
): Uint8Array[] {
  const chunk = (mtu - 20) & ~7;
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += chunk) {
    const part = payload.subarray(off, Math.min(payload.length, off + chunk));
    const more = off + part.length < payload.length;
    out.push(ipv4Frame(dstMac, srcMac, src, dst, protocol, part, { id, flagsFragment: (more ? IPV4_MF : 0) | (off >> 3) }));
  }
  return out;
}

/** Deterministic pseudo-random bytes. */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/**
 * A TCP super-frame src:1000 → dst:80 of `payload` pattern bytes (ACK|PSH|FIN, seq
 * 0xfffff000) whose checksum field holds only the pseudo-header sum, as the core builds
 * it for a device that completes checksums and segments (see tcpOffload).
 */
export function tcpSuperFrame(src: number, dst: number, payload: number): Uint8Array {
  const seg = new Uint8Array(20 + payload);
  writeTcpHeader(seg, 0, 1000, 80, 0xfffff000, 1, 20, TCP_ACK | TCP_PSH | TCP_FIN, 500);
  seg.set(patternBytes(payload, 5), 20);
  setTcpChecksum(seg, 0, tcpPseudoHeaderPartial(src, dst, seg.length));
  return ipv4Frame(2, 1, src, dst, IPPROTO_TCP, seg);
}

/** The offload request of a tcpSuperFrame: complete the TCP checksum, cut at segSize (0: one frame). */
export function tcpOffload(segSize: number): TxOffload {
  const o = new TxOffload();
  o.csumStart = 34;
  o.csumOffset = 16;
  o.segSize = segSize;
  o.hdrLen = 54;
  return o;
}

export { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP };
