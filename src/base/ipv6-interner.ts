/**
 * IPv6 addresses as numbers for the transports: one family-tagged number type for both
 * families (decision 0030). A value below 2^32 is an IPv4 address (uint32, as before);
 * an IPv6 address is interned in this bounded, reference-counted table of one Host and
 * is represented as 2^32 + id. Map keys such as `remoteIp * 65536 + port` stay exact
 * integers (below 2^53) and the IPv4 hot path is unchanged.
 *
 * The table keeps the four words of each address (wire/ipv6-address.ts layout) in one
 * Uint32Array, a reference count per id, and an index from a 30-bit hash of the words to
 * the head of a collision chain (Map with small-integer keys: no allocation per lookup).
 * `internAt` reads an address straight from packet bytes. Holders (a TCP connection, a
 * TIME_WAIT record, a UDP socket's peer, a packet being handled) take a reference and
 * give it back; an id whose count falls to 0 is free for another address.
 *
 * Bounded: `capacity` ids; interning a new address into a full table fails (returns -1)
 * and is counted (drop_ipv6_interner_full): the packet that needed it is dropped.
 */
import { readU32 } from '../wire/addresses.js';
import type { Ipv6Address } from '../wire/ipv6-address.js';
import { C, type Counters } from './counters.js';

/** The first number that is not an IPv4 address: IPv6 ids start here. */
export const IPV6_ID_BASE = 2 ** 32;

/** True when the transport address `ip` is an interned IPv6 address (2^32 + id). */
export function isIpv6Id(ip: number): boolean {
  return ip >= IPV6_ID_BASE;
}

/**
 * A transport address as a per-object field holds it: an IPv4 address as the int32 of its
 * bits (V8 keeps it inside the object; a uint32 above 2^31, every address in 128/1 such as
 * 192.168/16 or 172.16/12, would be a boxed double in every object of the class), an IPv6
 * id as it is. `addressFromField` gives the transport address back.
 */
export function addressToField(ip: number): number {
  return ip < IPV6_ID_BASE ? ip | 0 : ip;
}

/** The transport address held by `addressToField`. */
export function addressFromField(v: number): number {
  return v < IPV6_ID_BASE ? v >>> 0 : v;
}

/** No chain link. */
const NONE = -1;

/** 30-bit hash of an IPv6 address's four words (a small integer: Map keys stay unboxed). */
export function hashWords(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ w1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ w3, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}

/** The interned IPv6 addresses of one Host. */
export class Ipv6Interner {
  /** Ids in use. */
  size = 0;
  private readonly words: Uint32Array;
  private readonly refs: Int32Array;
  /** Collision chain through ids, and the free list (through the same array while free). */
  private readonly next: Int32Array;
  private readonly hashOf: Int32Array;
  private readonly heads = new Map<number, number>();
  private free = NONE;
  /**
   * Called with 2^32 + id when an id is freed: what is keyed by the id (a path MTU
   * estimate) must go, since the id may name another address next.
   */
  onFree: ((ip: number) => void) | null = null;

  constructor(readonly capacity: number, private readonly counters: Counters) {
    this.words = new Uint32Array(capacity * 4);
    this.refs = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.hashOf = new Int32Array(capacity);
    for (let i = capacity - 1; i >= 0; i--) {
      this.next[i] = this.free;
      this.free = i;
    }
  }

  /** The 2^32 + id of the address at b[o..o+16) with one more reference, or -1 when the table is full (counted). */
  internAt(b: Uint8Array, o: number): number {
    return this.internWords(readU32(b, o), readU32(b, o + 4), readU32(b, o + 8), readU32(b, o + 12));
  }

  /** The 2^32 + id of `a` with one more reference, or -1 when the table is full (counted). */
  intern(a: Readonly<Ipv6Address>): number {
    return this.internWords(a[0], a[1], a[2], a[3]);
  }

  /** The 2^32 + id of the address at b[o..o+16) if it is interned (no reference taken), else -1. */
  findAt(b: Uint8Array, o: number): number {
    const w0 = readU32(b, o), w1 = readU32(b, o + 4), w2 = readU32(b, o + 8), w3 = readU32(b, o + 12);
    const id = this.find(hashWords(w0, w1, w2, w3), w0, w1, w2, w3);
    return id === NONE ? -1 : IPV6_ID_BASE + id;
  }

  /** One more reference to an interned address (ignored for IPv4 addresses). */
  acquire(ip: number): void {
    if (ip >= IPV6_ID_BASE) this.refs[ip - IPV6_ID_BASE]++;
  }

  /** Gives back one reference (ignored for IPv4 addresses); the id is freed at zero. */
  release(ip: number): void {
    if (ip < IPV6_ID_BASE) return;
    const id = ip - IPV6_ID_BASE;
    if (--this.refs[id] > 0) return;
    this.unlink(id);
    this.next[id] = this.free;
    this.free = id;
    this.size--;
    this.counters[C.ipv6_interned_addresses] = this.size;
    if (this.onFree !== null) this.onFree(ip);
  }

  /** Word `i` (0..3) of an interned address. */
  word(ip: number, i: number): number {
    return this.words[(ip - IPV6_ID_BASE) * 4 + i];
  }

  /** Copies an interned address into `out` (returned). */
  copyInto(ip: number, out: Ipv6Address): Ipv6Address {
    const w = (ip - IPV6_ID_BASE) * 4;
    out[0] = this.words[w];
    out[1] = this.words[w + 1];
    out[2] = this.words[w + 2];
    out[3] = this.words[w + 3];
    return out;
  }

  /** References held on an interned address (tests, /stats). */
  refsOf(ip: number): number {
    return this.refs[ip - IPV6_ID_BASE];
  }

  private internWords(w0: number, w1: number, w2: number, w3: number): number {
    const h = hashWords(w0, w1, w2, w3);
    let id = this.find(h, w0, w1, w2, w3);
    if (id !== NONE) {
      this.refs[id]++;
      return IPV6_ID_BASE + id;
    }
    id = this.free;
    if (id === NONE) {
      this.counters[C.drop_ipv6_interner_full]++;
      return -1;
    }
    this.free = this.next[id];
    const w = id * 4;
    this.words[w] = w0;
    this.words[w + 1] = w1;
    this.words[w + 2] = w2;
    this.words[w + 3] = w3;
    this.refs[id] = 1;
    this.hashOf[id] = h;
    this.next[id] = this.heads.get(h) ?? NONE;
    this.heads.set(h, id);
    this.size++;
    this.counters[C.ipv6_interned_addresses] = this.size;
    return IPV6_ID_BASE + id;
  }

  private find(h: number, w0: number, w1: number, w2: number, w3: number): number {
    const words = this.words;
    for (let id = this.heads.get(h) ?? NONE; id !== NONE; id = this.next[id]) {
      const w = id * 4;
      if (words[w] === w0 && words[w + 1] === w1 && words[w + 2] === w2 && words[w + 3] === w3) return id;
    }
    return NONE;
  }

  private unlink(id: number): void {
    const h = this.hashOf[id];
    let cur = this.heads.get(h) ?? NONE;
    if (cur === id) {
      const n = this.next[id];
      if (n === NONE) this.heads.delete(h);
      else this.heads.set(h, n);
      return;
    }
    while (cur !== NONE) {
      const n = this.next[cur];
      if (n === id) {
        this.next[cur] = this.next[id];
        return;
      }
      cur = n;
    }
  }
}
