/**
 * Loader and constants for the golden frames in test/golden/ (captured from real
 * Linux traffic, see test/golden/README.md), plus a small deterministic PRNG.
 */
import { readFileSync } from 'node:fs';
import { readPcap } from '../../../src/phy/pcap.js';

/** MAC of wg-va in namespace wg-a (10.99.0.1). */
export const MAC_A = 0x02000000000a;
/** MAC of wg-vb in namespace wg-b (10.99.0.2). */
export const MAC_B = 0x02000000000b;
/** 10.99.0.1 */
export const IP_A = 0x0a630001;
/** 10.99.0.2 */
export const IP_B = 0x0a630002;

/** The frames of test/golden/NAME.pcap, in capture order. */
export function golden(name: 'arp' | 'ping' | 'ping-frag' | 'udp' | 'udp-unreach' | 'ping6' | 'ping6-frag' | 'tcp6-handshake'): Uint8Array[] {
  const bytes = new Uint8Array(readFileSync(new URL(`../../golden/${name}.pcap`, import.meta.url)));
  return readPcap(bytes).map((r) => r.frame);
}

/** Deterministic PRNG (mulberry32) returning uint32s. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Hex string of bytes, for readable byte-equality failures. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
