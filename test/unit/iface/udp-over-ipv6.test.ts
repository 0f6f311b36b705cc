/**
 * UDP over IPv6 between two cores (decision 0030): datagrams both ways with the RFC 8200
 * 8.1 pseudo-header, ICMPv6 port unreachable for a closed port (RFC 4443 3.1), a zero
 * checksum dropped (RFC 8200 8.1: mandatory over IPv6).
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV6, ethType } from '../../../src/wire/ethernet.js';
import { formatIpv6, ipv6 } from '../../../src/wire/ipv6-address.js';
import { IPV6_HEADER_LEN, IPV6_NEXT_HEADER_OFFSET, NH_ICMPV6, NH_UDP } from '../../../src/wire/ipv6.js';
import { IP6_B, TcpPair } from '../../helpers/tcp-pair.js';

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
});
