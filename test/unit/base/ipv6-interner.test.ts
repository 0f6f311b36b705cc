/**
 * The interned IPv6 addresses of a Host (decision 0030): ids above 2^32, found again from
 * packet bytes, reference counted, reused once free, and bounded (drop_ipv6_interner_full).
 */
import { describe, expect, it } from 'vitest';
import { C, newCounters } from '../../../src/base/counters.js';
import { addressFromField, addressToField, IPV6_ID_BASE, Ipv6Interner, isIpv6Id } from '../../../src/base/ipv6-interner.js';
import { formatIpv6, ipv6, parseIpv6, writeIpv6, type Ipv6Address } from '../../../src/wire/ipv6-address.js';

const A = parseIpv6('fd00:10:10::3') as Ipv6Address;
const B = parseIpv6('2001:db8::1') as Ipv6Address;

describe('Ipv6Interner', () => {
  it('interns an address once, above every IPv4 address, and finds it again from packet bytes', () => {
    const n = new Ipv6Interner(4, newCounters());
    const a = n.intern(A);
    expect(a).toBeGreaterThanOrEqual(IPV6_ID_BASE);
    expect(isIpv6Id(a) && !isIpv6Id(0xffffffff)).toBe(true);
    const bytes = new Uint8Array(20);
    writeIpv6(bytes, 4, A);
    expect(n.internAt(bytes, 4)).toBe(a);
    expect(n.findAt(bytes, 4)).toBe(a);
    expect(n.refsOf(a)).toBe(2);
    expect(formatIpv6(n.copyInto(a, ipv6(0, 0, 0, 0)))).toBe('fd00:10:10::3');
    expect(n.word(a, 0)).toBe(0xfd000010);
    // Keys of the connection table stay exact integers.
    expect(Number.isSafeInteger(a * 65536 + 65535)).toBe(true);
  });

  it('frees an id when its last reference goes, and reuses it for another address', () => {
    const counters = newCounters();
    const n = new Ipv6Interner(1, counters);
    const a = n.intern(A);
    n.acquire(a);
    n.release(a);
    expect(n.size).toBe(1);
    expect(n.intern(B)).toBe(-1); // full
    expect(counters[C.drop_ipv6_interner_full]).toBe(1);
    n.release(a);
    expect(n.size).toBe(0);
    const bytes = new Uint8Array(16);
    writeIpv6(bytes, 0, A);
    expect(n.findAt(bytes, 0)).toBe(-1);
    const b = n.intern(B);
    expect(b).toBe(a);
    expect(formatIpv6(n.copyInto(b, ipv6(0, 0, 0, 0)))).toBe('2001:db8::1');
    expect(counters[C.ipv6_interned_addresses]).toBe(1);
  });

  it('keeps addresses whose hashes collide apart (many addresses in a small table)', () => {
    const n = new Ipv6Interner(3000, newCounters());
    const ids: number[] = [];
    for (let i = 0; i < 3000; i++) ids.push(n.intern(ipv6(0xfd000000, 0, i >>> 8, i)));
    expect(new Set(ids).size).toBe(3000);
    for (let i = 0; i < 3000; i += 2) n.release(ids[i]);
    for (let i = 1; i < 3000; i += 2) expect(n.intern(ipv6(0xfd000000, 0, i >>> 8, i))).toBe(ids[i]);
    expect(n.size).toBe(1500);
  });
});

describe('transport addresses in object fields (decision 0042)', () => {
  it('an IPv4 address is held as the int32 of its bits and given back as the uint32; an IPv6 id is held as it is', () => {
    for (const ip of [0, 1, 0x0a0a0004, 0x7fffffff, 0x80000000, 0xc0a80001, 0xac100001, 0xffffffff]) {
      const f = addressToField(ip);
      expect(f).toBe(ip | 0);
      expect(f >= -(2 ** 31) && f < 2 ** 31).toBe(true);
      expect(addressFromField(f)).toBe(ip);
    }
    for (const id of [IPV6_ID_BASE, IPV6_ID_BASE + 1, IPV6_ID_BASE + 65535]) {
      expect(addressToField(id)).toBe(id);
      expect(addressFromField(addressToField(id))).toBe(id);
    }
  });
});
