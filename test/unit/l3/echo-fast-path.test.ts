/**
 * The I/O thread's ICMP echo answer (l3/echo-fast-path.ts, decision 0045): the golden Linux
 * ping's request gets the golden Linux reply (all but the IP ID and the header checksum
 * that covers it), the same bytes the worker's core (Host) sends. Everything that is not
 * the plain case is left alone for a worker: nothing written, nothing counted.
 */
import { describe, expect, it } from 'vitest';
import { C, newCounters } from '../../../src/base/counters.js';
import { FrameBatch } from '../../../src/base/frame-batch.js';
import { RX_CSUM_VERIFIED, RX_GSO } from '../../../src/base/rx-flags.js';
import { Host } from '../../../src/iface/host.js';
import { EchoFastPath, FAST_ECHO_MAX_IP_LEN } from '../../../src/l3/echo-fast-path.js';
import { BROADCAST_MAC } from '../../../src/wire/addresses.js';
import { validateIpv4, Ipv4Check, ipId, IPPROTO_ICMP, IPV4_MF } from '../../../src/wire/ipv4.js';
import { arpFrame, icmpEcho, ipv4Frame, patternBytes, withIpOptions } from '../../helpers/frames.js';
import { VirtualWire } from '../../helpers/virtual-wire.js';
import { golden, IP_A, IP_B, MAC_A, MAC_B } from '../wire/golden-frames.js';

const E = 14;
const HEADROOM = 12; // a vnet-header device's room in front of each frame

function setup() {
  const counters = newCounters();
  const fast = new EchoFastPath({ mac: MAC_B, ip: IP_B, prefixLength: 24 }, counters);
  const out = new FrameBatch(new Uint8Array(16 * 1024), 16, HEADROOM);
  const answer = (f: Uint8Array, rxFlags = 0) => fast.answer(f, 0, f.length, rxFlags, out);
  const frame = (i: number) => out.buf.slice(out.offsets[i], out.offsets[i] + out.lens[i]);
  return { counters, fast, out, answer, frame };
}

/** Bytes of `a` and `b` with the IP ID and header checksum (frame bytes 18–19 and 24–25) zeroed. */
function withoutId(f: Uint8Array): number[] {
  const c = [...f];
  c[E + 4] = c[E + 5] = c[E + 10] = c[E + 11] = 0;
  return c;
}

describe('ICMP echo answered by the I/O thread', () => {
  it('the golden Linux request gets the golden Linux reply, but for the IP ID; counted as the worker counts it, plus icmp_echo_fast_path', () => {
    const [req, rep] = golden('ping') as [Uint8Array, Uint8Array];
    const s = setup();
    expect(s.answer(req)).toBe(true);
    expect(s.out.count).toBe(1);
    const f = s.frame(0);
    expect(f.length).toBe(rep.length);
    expect(validateIpv4(f, E, f.length - E)).toBe(Ipv4Check.Ok);
    expect(withoutId(f)).toEqual(withoutId(rep));
    expect(s.out.offsets[0]).toBeGreaterThanOrEqual(HEADROOM);
    expect(s.out.csumStart[0]).toBe(-1); // no offload asked: the checksums are final
    const c = s.counters;
    expect([c[C.ipv4_rx], c[C.icmp_rx], c[C.icmp_echo_requests_rx], c[C.ipv4_tx], c[C.icmp_echo_replies_tx], c[C.icmp_echo_fast_path]])
      .toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('sends the bytes the worker\'s core sends for the same request (IP ID aside)', () => {
    const [req] = golden('ping') as [Uint8Array];
    const wire = new VirtualWire();
    const host = new Host(
      { mac: MAC_B, ip: IP_B, prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 },
      wire, newCounters(), () => {},
    );
    const arp = arpFrame(BROADCAST_MAC, 1, MAC_A, IP_A, 0, IP_B);
    host.receive(arp, 0, arp.length, 0);
    wire.take();
    host.receive(req, 0, req.length, 1);
    const [fromCore] = wire.take();
    const s = setup();
    expect(s.answer(req)).toBe(true);
    expect(withoutId(s.frame(0))).toEqual(withoutId(fromCore));
  });

  it('IP IDs to one destination step by one, from an unpredictable start', () => {
    const s = setup();
    const req = ipv4Frame(MAC_B, MAC_A, IP_A, IP_B, IPPROTO_ICMP, icmpEcho(7, 1, patternBytes(32)));
    for (let i = 0; i < 3; i++) expect(s.answer(req)).toBe(true);
    const ids = [0, 1, 2].map((i) => ipId(s.frame(i), E));
    expect([(ids[1] - ids[0]) & 0xffff, (ids[2] - ids[1]) & 0xffff]).toEqual([1, 1]);
  });

  const req = (over: { dstMac?: number; srcMac?: number; src?: number; dst?: number; flagsFragment?: number; payload?: number; type?: number } = {}) =>
    ipv4Frame(
      over.dstMac ?? MAC_B, over.srcMac ?? MAC_A, over.src ?? IP_A, over.dst ?? IP_B, IPPROTO_ICMP,
      icmpEcho(7, 1, patternBytes(over.payload ?? 56), over.type ?? 8), { flagsFragment: over.flagsFragment ?? 0 },
    );
  const corrupt = (f: Uint8Array, at: number) => {
    const c = f.slice();
    c[at] ^= 0x10;
    return c;
  };
  const cases: Array<[string, Uint8Array, number?]> = [
    ['an IP header with options (record route)', withIpOptions(req(), [7, 7, 4, 0, 0, 0, 0, 0])],
    ['a fragment (MF set)', req({ flagsFragment: IPV4_MF })],
    ['a later fragment (offset 8)', req({ flagsFragment: 1 })],
    ['to another address', req({ dst: IP_B + 1 })],
    ['to the broadcast address', req({ dst: (IP_B | 0xff) >>> 0 })],
    ['to the broadcast MAC', req({ dstMac: BROADCAST_MAC })],
    ['to another MAC', req({ dstMac: MAC_B + 1 })],
    ['from a multicast MAC', req({ srcMac: 0x01005e000001 })],
    ['from off our subnet (the reply would need a route)', req({ src: 0x0a640001 })],
    ['from our own address', req({ src: IP_B })],
    ['from the subnet\'s broadcast address', req({ src: (IP_B | 0xff) >>> 0 })],
    ['from the subnet\'s network address', req({ src: (IP_B & 0xffffff00) >>> 0 })],
    ['an echo reply', req({ type: 0 })],
    [`larger than ${FAST_ECHO_MAX_IP_LEN} bytes of IP (a path MTU could be below it)`, req({ payload: FAST_ECHO_MAX_IP_LEN - 27 })],
    ['a bad IP header checksum', corrupt(req(), E + 8)],
    ['a bad ICMP checksum', corrupt(req(), E + 20 + 30)],
    ['a receive-offload aggregate', req(), RX_GSO],
    ['cut short (total length beyond the frame)', req().subarray(0, 60)],
  ];
  it.each(cases)('hands on %s: nothing written, nothing counted', (_what, f, flags) => {
    const s = setup();
    expect(s.answer(f, flags ?? 0)).toBe(false);
    expect(s.out.count).toBe(0);
    expect(s.counters.every((v) => v === 0)).toBe(true);
  });

  it('answers the largest request it takes, and one the device verified the checksum of', () => {
    const s = setup();
    expect(s.answer(req({ payload: FAST_ECHO_MAX_IP_LEN - 28 }), RX_CSUM_VERIFIED)).toBe(true);
    expect(s.out.lens[0]).toBe(E + FAST_ECHO_MAX_IP_LEN);
  });

  it('hands on when the reply batch is full', () => {
    const s = setup();
    const small = new FrameBatch(new Uint8Array(4096), 1, HEADROOM);
    expect(s.fast.answer(req(), 0, req().length, 0, small)).toBe(true);
    expect(s.fast.answer(req(), 0, req().length, 0, small)).toBe(false);
    expect(s.counters[C.icmp_echo_fast_path]).toBe(1);
  });
});
