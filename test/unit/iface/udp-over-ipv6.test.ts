/**
 * UDP over IPv6 between two cores (decision 0030): datagrams both ways with the RFC 8200
 * 8.1 pseudo-header, ICMPv6 port unreachable for a closed port (RFC 4443 3.1), a zero
 * checksum dropped (RFC 8200 8.1: mandatory over IPv6), and path MTU discovery for
 * datagrams (RFC 8201 4, 5.2): a Packet Too Big about one lowers the estimate for its
 * destination and the next large datagram leaves in fragments of that size.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV6, ethType } from '../../../src/wire/ethernet.js';
import { type Ipv6Address, formatIpv6, ipv6, parseIpv6 } from '../../../src/wire/ipv6-address.js';
import { flowHashOfFrame, foldIpv6Words, hashFourTuple } from '../../../src/base/flow-hash.js';
import { IPV6_FRAGMENT_HEADER_LEN, IPV6_HEADER_LEN, IPV6_NEXT_HEADER_OFFSET, NH_FRAGMENT, NH_ICMPV6, NH_UDP } from '../../../src/wire/ipv6.js';
import { IP6_A, IP6_B, MAC_A, MAC_B, TcpPair } from '../../helpers/tcp-pair.js';
import { icmpv6Message, ipv6Frame } from '../../helpers/frames6.js';
import { patternBytes } from '../../helpers/frames.js';

const UDP6 = ETH_HEADER_LEN + IPV6_HEADER_LEN;

function setup() {
  const p = new TcpPair({}, {}, { ipv6: true });
  const na = p.a.interner, nb = p.b.interner;
  if (na === null || nb === null) throw new Error('no IPv6');
  const got: { text: string; from: string; port: number }[] = [];
  p.b.udp.bind(53, (b, off, len, srcIp, srcPort) => {
    got.push({ text: Buffer.from(b.subarray(off, off + len)).toString(), from: formatIpv6(nb.copyInto(srcIp, ipv6(0, 0, 0, 0))), port: srcPort });
    p.b.udp.send(srcIp, srcPort, 53, b, off, len, p.now); // echo
  });
  const echoed: string[] = [];
  const refused: string[] = [];
  p.a.udp.bind(40000, (b, off, len) => echoed.push(Buffer.from(b.subarray(off, off + len)).toString()),
    (code, ip, port) => refused.push(`${code} ${formatIpv6(na.copyInto(ip, ipv6(0, 0, 0, 0)))} ${port}`));
  const to = na.intern(IP6_B);
  return { p, got, echoed, refused, to };
}

describe('UDP over IPv6 on two cores', () => {
  it('a datagram to fd00::b is delivered with its IPv6 source and echoed back', () => {
    const { p, got, echoed, to } = setup();
    const msg = Buffer.from('hello over v6');
    expect(p.a.udp.send(to, 53, 40000, msg, 0, msg.length, p.now)).toBe(true);
    p.run(p.now + 1000);
    expect(got).toEqual([{ text: 'hello over v6', from: 'fd00::a', port: 40000 }]);
    expect(echoed).toEqual(['hello over v6']);
    expect(p.countersB[C.udp6_rx]).toBe(1);
    expect(p.countersA[C.udp6_tx]).toBe(1);
    expect(p.countersB[C.drop_udp_checksum]).toBe(0);
    expect(p.b.interner?.size).toBe(0); // the addresses were interned only while handled
  });

  it('RFC 4443 3.1: a closed port answers with ICMPv6 port unreachable, which the sender hears as ECONNREFUSED; a zero checksum is dropped', () => {
    const { p, to, refused } = setup();
    const msg = Buffer.from('x');
    p.a.udp.send(to, 9, 40000, msg, 0, 1, p.now);
    p.run(p.now + 1000);
    expect(p.countersB[C.drop_udp_no_port]).toBe(1);
    expect(p.countersB[C.icmpv6_unreachable_tx]).toBe(1);
    const err = p.log.find((f) => f.from === 'B' && ethType(f.frame, 0) === ETHERTYPE_IPV6 && f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] === NH_ICMPV6 && f.frame[UDP6] === 1);
    expect(err?.frame[UDP6 + 1]).toBe(4);
    expect(refused).toEqual(['ECONNREFUSED fd00::b 9']);
    p.fault = (f) => {
      if (f.from !== 'A' || f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] !== NH_UDP) return [f];
      const z = f.frame.slice();
      z[UDP6 + 6] = 0;
      z[UDP6 + 7] = 0;
      return [{ ...f, frame: z }];
    };
    p.a.udp.send(to, 53, 40000, msg, 0, 1, p.now);
    p.run(p.now + 1000);
    expect(p.countersB[C.drop_udp6_zero_checksum]).toBe(1);
  });

  it('RFC 8201 4, 5.2: a Packet Too Big quoting our datagram lowers the path MTU to fd00::b; the next 4000-byte datagram leaves in fragments of at most 1280 bytes and arrives whole', () => {
    const { p, got, to } = setup();
    const big = patternBytes(4000, 7);
    const ipLens = (from: number) => p.log.slice(from).filter((f) => f.from === 'A' && ethType(f.frame, 0) === ETHERTYPE_IPV6 && f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] !== NH_ICMPV6).map((f) => f.frame.length - ETH_HEADER_LEN);
    let mark = p.log.length;
    p.a.udp.send(to, 53, 40000, big, 0, big.length, p.now);
    p.run(p.now + 1000);
    expect(ipLens(mark)).toEqual([1496, 1496, 40 + 8 + 4008 - 2 * 1448]); // fragments of the link MTU (1500) before
    const first = p.log.slice(mark).find((f) => f.from === 'A' && f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] === NH_FRAGMENT);
    if (first === undefined) throw new Error('no fragment');
    // A router on the path says 1280; the quote is the start of our first fragment.
    const ptb = icmpv6Message(IP6_B, IP6_A, 2, 0, 1280, first.frame.subarray(ETH_HEADER_LEN, ETH_HEADER_LEN + 1232));
    const f = ipv6Frame(MAC_A, MAC_B, IP6_B, IP6_A, NH_ICMPV6, ptb);
    // The I/O thread steers it to the worker of the quoted flow (through the fragment header).
    const fold = (a: Ipv6Address) => foldIpv6Words(a[0], a[1], a[2], a[3]);
    expect(flowHashOfFrame(f, 0, f.length)).toBe(hashFourTuple(fold(IP6_A), 40000, fold(IP6_B), 53, NH_UDP));
    p.a.receive(f, 0, f.length, p.now);
    expect(p.countersA[C.pmtu_lowered]).toBe(1);
    mark = p.log.length;
    got.length = 0;
    p.a.udp.send(to, 53, 40000, big, 0, big.length, p.now);
    p.run(p.now + 1000);
    const lens = ipLens(mark);
    expect(lens).toHaveLength(4); // 4008 bytes of UDP in chunks of 1280 − 40 − 8 = 1232
    expect(Math.max(...lens)).toBe(1280);
    expect(lens.slice(0, 3)).toEqual([1280, 1280, 1280]);
    expect(lens[3]).toBe(IPV6_HEADER_LEN + IPV6_FRAGMENT_HEADER_LEN + 4008 - 3 * 1232);
    expect(got.map((g) => g.text)).toEqual([Buffer.from(big).toString()]); // reassembled whole
  });

  it('RFC 8200 5: a Packet Too Big reporting less than 1280 lowers the estimate to 1280 only; one quoting no port of ours changes nothing', () => {
    const { p, to } = setup();
    const msg = patternBytes(1400, 3);
    const mark = p.log.length;
    p.a.udp.send(to, 53, 40000, msg, 0, msg.length, p.now);
    p.run(p.now + 1000);
    const sent = p.log.slice(mark).find((f) => f.from === 'A' && f.frame[ETH_HEADER_LEN + IPV6_NEXT_HEADER_OFFSET] === NH_UDP);
    if (sent === undefined) throw new Error('no datagram');
    const quote = sent.frame.subarray(ETH_HEADER_LEN, ETH_HEADER_LEN + 1232);
    const other = quote.slice();
    other[IPV6_HEADER_LEN] ^= 0xff; // another source port: not bound
    for (const q of [other, quote]) {
      const f = ipv6Frame(MAC_A, MAC_B, IP6_B, IP6_A, NH_ICMPV6, icmpv6Message(IP6_B, IP6_A, 2, 0, 600, q));
      p.a.receive(f, 0, f.length, p.now);
    }
    expect(p.countersA[C.drop_icmp_error_no_flow]).toBe(1);
    expect(p.a.tcp.pathMtu.mtuFor(to, p.now)).toBe(1280);
  });

  it('an estimate is kept by interned id only while the address is interned: freed, the id may name another address, so the estimate goes', () => {
    const { p, to } = setup();
    const n = p.a.interner;
    if (n === null) throw new Error('no IPv6');
    const quote = new Uint8Array(IPV6_HEADER_LEN + 8);
    quote[0] = 0x60;
    quote[4] = 0x05; quote[5] = 0xa8; // payload length 1448
    quote[6] = NH_UDP;
    quote.set(ipv6Frame(MAC_B, MAC_A, IP6_A, IP6_B, NH_UDP, new Uint8Array(8)).subarray(ETH_HEADER_LEN + 8, ETH_HEADER_LEN + 40), 8);
    quote[40] = 40000 >> 8; quote[41] = 40000 & 0xff; quote[42] = 0; quote[43] = 53;
    const f = ipv6Frame(MAC_A, MAC_B, IP6_B, IP6_A, NH_ICMPV6, icmpv6Message(IP6_B, IP6_A, 2, 0, 1300, quote));
    p.a.receive(f, 0, f.length, p.now);
    expect(p.a.tcp.pathMtu.mtuFor(to, p.now)).toBe(1300);
    n.release(to); // the last holder
    expect(p.a.tcp.pathMtu.size).toBe(0);
    const again = n.intern(parseIpv6('fd00::77') as Ipv6Address);
    expect(again).toBe(to); // the same id, another address
    expect(p.a.tcp.pathMtu.mtuFor(again, p.now)).toBe(1500);
  });
});
