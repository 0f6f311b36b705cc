/**
 * A TCP handshake over IPv6 against Linux's (test/golden/tcp6-handshake.pcap, see
 * test/golden/README.md): Linux's SYN carries in its checksum field the RFC 8200 8.1
 * pseudo-header sum our offload path computes (the veth left it partial); our core, in
 * Linux's server's place, answers that SYN with a SYN-ACK laid out as Linux's (addresses,
 * hop limit, MSS 1440 = 1500 − 60, SACK-permitted, timestamps echoing the SYN's, window
 * scale, in Linux's option order), and Linux's final ACK opens the connection.
 */
import { describe, expect, it } from 'vitest';
import { RX_CSUM_PARTIAL } from '../../../src/base/rx-flags.js';
import { ETH_HEADER_LEN } from '../../../src/wire/ethernet.js';
import { ipv6PseudoHeaderSum, onesSum, ipv6PseudoHeaderSumAt } from '../../../src/wire/checksum.js';
import { type Ipv6Address, parseIpv6 } from '../../../src/wire/ipv6-address.js';
import { IPV6_HEADER_LEN, NH_TCP } from '../../../src/wire/ipv6.js';
import { TCP_ACK, TCP_SYN, TcpOptions, parseTcpOptions, tcpAck, tcpDataOffset, tcpFlags, tcpSeq } from '../../../src/wire/tcp.js';
import { readU16, readU32, writeU16, writeU32 } from '../../../src/wire/addresses.js';
import type { TcpConnectionHandle } from '../../../src/tcp/connection-handle.js';
import { setup6, T0 } from '../../helpers/host6.js';
import { golden, hex, MAC_B } from '../wire/golden-frames.js';

const L4 = ETH_HEADER_LEN + IPV6_HEADER_LEN;
const CLIENT = parseIpv6('fd00:99::1') as Ipv6Address;
const SERVER = parseIpv6('fd00:99::2') as Ipv6Address;

function options(f: Uint8Array): TcpOptions {
  const o = new TcpOptions();
  parseTcpOptions(f, L4, tcpDataOffset(f, L4), o);
  return o;
}

describe("TCP over IPv6 against Linux's handshake (golden frames)", () => {
  const [syn, linuxSynAck, ack] = golden('tcp6-handshake');

  it("Linux's partial checksum of its SYN is our RFC 8200 8.1 pseudo-header sum; the full checksum is what tcpdump computes", () => {
    const len = syn.length - L4;
    expect(len).toBe(40);
    expect(readU16(syn, L4 + 16)).toBe(ipv6PseudoHeaderSum(CLIENT, SERVER, NH_TCP, len)); // 0xfb64
    const full = syn.slice();
    writeU16(full, L4 + 16, 0);
    writeU16(full, L4 + 16, ~onesSum(full, L4, len, ipv6PseudoHeaderSumAt(full, ETH_HEADER_LEN, NH_TCP, len)));
    expect(readU16(full, L4 + 16)).toBe(0xaf14);
  });

  it("answers Linux's SYN with a SYN-ACK laid out as Linux's own, and Linux's ACK opens the connection", () => {
    const s = setup6({ mac: MAC_B, settings: { addresses: [{ address: SERVER, prefixLength: 64 }] } });
    const accepted: TcpConnectionHandle[] = [];
    s.host.tcp.listen(5000, 16, (c) => accepted.push(c));
    // The client's MAC is known (the capture pinned its neighbours too).
    s.nd.cache.learn(CLIENT, 0x02000000000a, T0 + 2000);
    s.host.receive(syn, 0, syn.length, T0 + 2000, RX_CSUM_PARTIAL);
    const out = s.sent();
    expect(out).toHaveLength(1);
    const ours = out[0].frame;
    expect(ours.length).toBe(linuxSynAck.length);
    // Ethernet and IPv6 headers: the same but for Linux's random flow label (ours is 0).
    const mask = (f: Uint8Array) => {
      const m = f.slice(0, L4);
      m[ETH_HEADER_LEN + 1] &= 0xf0; m[ETH_HEADER_LEN + 2] = 0; m[ETH_HEADER_LEN + 3] = 0;
      return hex(m);
    };
    expect(mask(ours)).toBe(mask(linuxSynAck));
    expect(readU32(ours, ETH_HEADER_LEN) >>> 20).toBe(0x600); // version 6, traffic class 0
    // TCP: ports, ACK = Linux's ISN + 1, SYN|ACK, data offset, and the options in Linux's order.
    expect([readU16(ours, L4), readU16(ours, L4 + 2), tcpAck(ours, L4), tcpFlags(ours, L4), tcpDataOffset(ours, L4)])
      .toEqual([readU16(linuxSynAck, L4), readU16(linuxSynAck, L4 + 2), tcpAck(linuxSynAck, L4), TCP_SYN | TCP_ACK, tcpDataOffset(linuxSynAck, L4)]);
    const ko = (f: Uint8Array) => [...f.subarray(L4 + 20, L4 + tcpDataOffset(f, L4))].map((b, i) => (i >= 8 && i < 12 ? 0 : b)); // TSval zeroed
    const oursOpts = ko(ours);
    const linuxOpts = ko(linuxSynAck);
    oursOpts[19] = linuxOpts[19] = 0; // the window shift: each stack's own buffer size
    expect(oursOpts).toEqual(linuxOpts);
    expect(options(ours).mss).toBe(1440);
    expect(options(ours).tsEcr).toBe(options(syn).tsVal);
    expect(onesSum(ours, L4, ours.length - L4, ipv6PseudoHeaderSumAt(ours, ETH_HEADER_LEN, NH_TCP, ours.length - L4))).toBe(0xffff);
    // Linux's ACK, acknowledging our ISN and echoing our TSval (as Linux would have), completes the handshake.
    const a = ack.slice();
    writeU32(a, L4 + 8, (tcpSeq(ours, L4) + 1) >>> 0);
    writeU32(a, L4 + 20 + 8, options(ours).tsVal);
    s.host.receive(a, 0, a.length, T0 + 2001, RX_CSUM_PARTIAL);
    expect(accepted.map((c) => [c.stateName, c.remotePort])).toEqual([['ESTABLISHED', 40000]]);
  });
});

