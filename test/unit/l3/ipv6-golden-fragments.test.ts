/**
 * IPv6 fragments from Linux (test/golden/ping6-frag.pcap: `ping -6 -s 4000`, the request and
 * the reply each in three fragments, RFC 8200 4.5): the Fragment header views read what the
 * kernel wrote, and the reassembler (l3/ipv6-reassembly.ts) puts both messages back
 * together in any order, with their ICMPv6 checksums right over the whole.
 */
import { describe, expect, it } from 'vitest';
import { C, newCounters } from '../../../src/base/counters.js';
import { Ipv6Reassembler } from '../../../src/l3/ipv6-reassembly.js';
import { ETH_HEADER_LEN } from '../../../src/wire/ethernet.js';
import { ICMPV6_ECHO_REPLY, ICMPV6_ECHO_REQUEST, icmpv6ChecksumValid } from '../../../src/wire/icmpv6.js';
import {
  IPV6_HEADER_LEN, Ipv6Check, NH_FRAGMENT, NH_ICMPV6, fragmentId, fragmentMore, fragmentOffset, ipv6PayloadLength, validateIpv6,
} from '../../../src/wire/ipv6.js';
import { golden } from '../wire/golden-frames.js';

const IP = ETH_HEADER_LEN;
const FRAG = IP + IPV6_HEADER_LEN;

describe('golden frames: ping -6 -s 4000 from Linux, in fragments (RFC 8200 4.5)', () => {
  const frames = golden('ping6-frag');

  it('reads the kernel\'s Fragment headers: offsets 0/1448/2896, M on all but the last, one id per message', () => {
    expect(frames).toHaveLength(6);
    const rows = frames.map((f) => {
      expect(validateIpv6(f, IP, f.length - IP)).toBe(Ipv6Check.Ok);
      expect(f[IP + 6]).toBe(NH_FRAGMENT);
      return [fragmentOffset(f, FRAG), fragmentMore(f, FRAG), ipv6PayloadLength(f, IP), f[FRAG]];
    });
    expect(rows).toEqual([
      [0, true, 1456, NH_ICMPV6], [1448, true, 1456, NH_ICMPV6], [2896, false, 1120, NH_ICMPV6],
      [0, true, 1456, NH_ICMPV6], [1448, true, 1456, NH_ICMPV6], [2896, false, 1120, NH_ICMPV6],
    ]);
    expect(frames.slice(0, 3).map((f) => fragmentId(f, FRAG))).toEqual([0xe30ca077, 0xe30ca077, 0xe30ca077]);
    expect(frames.slice(3).map((f) => fragmentId(f, FRAG))).toEqual([0xff8fd4b8, 0xff8fd4b8, 0xff8fd4b8]);
  });

  for (const [name, first, type] of [['request', 0, ICMPV6_ECHO_REQUEST], ['reply', 3, ICMPV6_ECHO_REPLY]] as const) {
    it(`reassembles the echo ${name} from its fragments in any order: 4008 bytes of ICMPv6, checksum right, the ping's a5c3 pattern`, () => {
      for (const order of [[0, 1, 2], [2, 0, 1], [1, 2, 0]]) {
        const counters = newCounters();
        const r = new Ipv6Reassembler(counters);
        let len = 0;
        for (const k of order) {
          const f = frames[first + k];
          len = r.add(f, IP, FRAG, IP + 6, IP + IPV6_HEADER_LEN + ipv6PayloadLength(f, IP), 1000);
        }
        expect(len).toBe(IPV6_HEADER_LEN + 8 + 4000);
        expect(counters[C.ipv6_reassembled]).toBe(1);
        expect(r.resumeNextHeader).toBe(NH_ICMPV6);
        const out = r.out;
        const icmp = r.resumeAt;
        expect(icmp).toBe(IPV6_HEADER_LEN);
        expect(ipv6PayloadLength(out, 0)).toBe(8 + 4000);
        expect(out[6]).toBe(NH_ICMPV6); // the Next Header that named the Fragment header now names ICMPv6
        expect(out[icmp]).toBe(type);
        expect(icmpv6ChecksumValid(out, 0, icmp, 8 + 4000)).toBe(true);
        // ping -p a5c3: after the 16-byte timestamp the data repeats a5 c3.
        const data = out.subarray(icmp + 8 + 16, icmp + 8 + 4000);
        expect(data.every((v, i) => v === (i % 2 === 0 ? 0xa5 : 0xc3))).toBe(true);
      }
    });
  }
});
