/**
 * TIME_WAIT as compact records (RFC 9293 3.6 and 3.4.2: 2·MSL after an active close), like
 * Linux's inet_timewait_sock: once a connection reaches TIME_WAIT nothing of it is needed
 * but what answers the peer — the 4-tuple, the sequence numbers of a final ACK, the window
 * and timestamps it carries, and when the record ends. A record is ~60 bytes in typed
 * arrays, its index entry included: no buffers, no socket, no timer-heap entry, no objects
 * the garbage collector has to trace, so the cost of a connection does not grow with the
 * number of connections in TIME_WAIT.
 *
 * Records sit on one list ordered by their end (2·MSL is the same for all, so a new or
 * restarted record goes to the tail): expiry looks only at the head. The table is
 * bounded (`capacity`, Linux tcp_max_tw_buckets): when it is full the oldest record is
 * dropped to make room (the caller counts it), so new connections are always served.
 *
 * A record is named by its slot and a generation that changes when the slot is freed,
 * so a holder of an old (slot, generation) can tell that its record is gone (`alive`).
 *
 * The 4-tuple index is an open-addressing hash table over the slots (linear probing,
 * deletion by backward shift, at most half full, rebuilt when the slots double): no
 * object per record, where a Map of Maps keyed by remote address · 65536 + port held a
 * heap number per record and rehashed its backing store as records came and went.
 */
import { seqGt, seqSub } from './seq.js';
import { localKey } from './demux-key.js';
import { fmix32 } from '../base/flow-hash.js';

/** References on interned addresses (base/ipv6-interner.ts Ipv6Interner). */
export interface AddressRefs {
  acquire(ip: number): void;
  release(ip: number): void;
}

/** For a layer without IPv6: IPv4 addresses need no references. */
export const NO_ADDRESS_REFS: AddressRefs = { acquire: () => {}, release: () => {} };

/** No record (slot index). */
export const NO_RECORD = -1;
/** An empty bucket of the index. */
const EMPTY = -1;

/**
 * The index's hash of a 4-tuple: `lk` its localKey (below 2^37), `remoteIp` an IPv4
 * address or 2^32 + an interned IPv6 id (below 2^33); murmur3's finaliser over the words.
 */
export function tupleHash(lk: number, remoteIp: number, remotePort: number): number {
  let h = Math.imul((remoteIp >>> 0) ^ 0x27d4eb2d, 0xcc9e2d51);
  h = Math.imul(h ^ (remotePort | (Math.floor(remoteIp / 4294967296) << 16)), 0x1b873593);
  h = Math.imul(h ^ (lk >>> 0), 0xcc9e2d51) ^ Math.floor(lk / 4294967296);
  return fmix32(h >>> 0);
}
/** Slots allocated at first, doubled as needed up to the capacity. */
const INITIAL_SLOTS = 256;

/** The TIME_WAIT records of one TCP layer. */
export class TimeWaitTable {
  /** Records held now. */
  size = 0;
  private slots = 0;
  private localPort = new Uint16Array(0);
  private remotePort = new Uint16Array(0);
  /** Float64: an IPv6 address is 2^32 + id (base/ipv6-interner.ts); both are held by reference. */
  private remoteIp = new Float64Array(0);
  private localIp = new Float64Array(0);
  private sndMax = new Uint32Array(0);
  private rcvNxt = new Uint32Array(0);
  private tsRecent = new Uint32Array(0);
  private tsOffset = new Uint32Array(0);
  private window = new Uint16Array(0);
  private timestamps = new Uint8Array(0);
  private ends = new Float64Array(0);
  private generation = new Uint32Array(0);
  /** The time-ordered list (doubly linked through slots) and the free list (through `next`). */
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private head = NO_RECORD;
  private tail = NO_RECORD;
  private free = NO_RECORD;
  /** Each slot's tupleHash, and the index: buckets holding slots (EMPTY: none), a power of two long. */
  private hash = new Uint32Array(0);
  private buckets = new Int32Array(1).fill(EMPTY);
  private mask = 0;

  /**
   * @param capacity most records held (0: TIME_WAIT is skipped altogether)
   * @param addresses takes a reference on each record's remote address while it is held
   *   (interned IPv6 addresses; IPv4 ones are ignored)
   */
  constructor(readonly capacity: number, private readonly addresses: AddressRefs = NO_ADDRESS_REFS) {}

  /** The slot of the record for this 4-tuple, or NO_RECORD. */
  lookup(localIp: number, localPort: number, remoteIp: number, remotePort: number): number {
    return this.find(tupleHash(localKey(localIp, localPort), remoteIp, remotePort), localIp, localPort, remoteIp, remotePort);
  }

  /** lookup() with the 4-tuple's hash `h` already computed. */
  private find(h: number, localIp: number, localPort: number, remoteIp: number, remotePort: number): number {
    const b = this.buckets;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = b[i];
      if (s === EMPTY) return NO_RECORD;
      if (
        this.hash[s] === h && this.remotePort[s] === remotePort && this.remoteIp[s] === remoteIp &&
        this.localPort[s] === localPort && this.localIp[s] === localIp
      ) return s;
    }
  }

  /**
   * Adds a record ending at `end` (ms) and returns its slot; when the table is full the
   * oldest record is dropped first (`evicted` tells how many were). Capacity 0: NO_RECORD.
   */
  add(
    localIp: number, localPort: number, remoteIp: number, remotePort: number,
    sndMax: number, rcvNxt: number, window: number, timestamps: boolean, tsRecent: number, tsOffset: number, end: number,
  ): number {
    if (this.capacity <= 0) return NO_RECORD;
    this.evicted = 0;
    // A record of the same 4-tuple gives way first: only a table still full drops its oldest.
    const h = tupleHash(localKey(localIp, localPort), remoteIp, remotePort);
    const old = this.find(h, localIp, localPort, remoteIp, remotePort);
    if (old !== NO_RECORD) this.remove(old);
    if (this.size >= this.capacity) {
      this.remove(this.head);
      this.evicted = 1;
    }
    const s = this.takeSlot();
    this.localPort[s] = localPort;
    this.remotePort[s] = remotePort;
    this.remoteIp[s] = remoteIp;
    this.localIp[s] = localIp;
    this.addresses.acquire(remoteIp);
    this.addresses.acquire(localIp);
    this.sndMax[s] = sndMax;
    this.rcvNxt[s] = rcvNxt;
    this.window[s] = window;
    this.timestamps[s] = timestamps ? 1 : 0;
    this.tsRecent[s] = tsRecent;
    this.tsOffset[s] = tsOffset;
    this.ends[s] = end;
    this.append(s);
    this.hash[s] = h;
    this.index(s);
    this.size++;
    return s;
  }

  /** Records the last add() dropped to make room (0 or 1). */
  evicted = 0;

  /** Ends the record in `slot` now. */
  remove(slot: number): void {
    if (slot === NO_RECORD) return;
    this.unindex(slot);
    this.unlink(slot);
    this.addresses.release(this.remoteIp[slot]);
    this.addresses.release(this.localIp[slot]);
    this.generation[slot] = (this.generation[slot] + 1) >>> 0;
    this.next[slot] = this.free;
    this.free = slot;
    this.size--;
  }

  /** The record in `slot` lasts until `end` again (a retransmitted FIN restarts 2·MSL). */
  restart(slot: number, end: number): void {
    this.ends[slot] = end;
    this.unlink(slot);
    this.append(slot);
  }

  /** The generation of `slot` now (it changes when the slot is freed). */
  generationOf(slot: number): number {
    return this.generation[slot];
  }

  /** True while the record named (slot, generation) is held. */
  alive(slot: number, generation: number): boolean {
    return slot >= 0 && slot < this.slots && this.generation[slot] === generation;
  }

  /** When the oldest record ends (ms), or Infinity. */
  nextEnd(): number {
    return this.head === NO_RECORD ? Infinity : this.ends[this.head];
  }

  /** Ends every record due at `now`; returns how many. */
  expire(now: number): number {
    let n = 0;
    while (this.head !== NO_RECORD && this.ends[this.head] <= now) {
      this.remove(this.head);
      n++;
    }
    return n;
  }

  /**
   * RFC 9293 3.10.7.4 / Linux tcp_timewait_state_process: may a SYN with `seq` (and `tsVal`
   * when it carries timestamps) open a new connection over this record? As Linux: with
   * timestamps on both, an older TSval is refused (PAWS), a newer one or a higher sequence
   * number will do; without, only a sequence number above RCV.NXT.
   */
  acceptsSyn(slot: number, seq: number, hasTimestamp: boolean, tsVal: number): boolean {
    if (this.timestamps[slot] === 1 && hasTimestamp) {
      const d = seqSub(tsVal, this.tsRecent[slot]);
      if (d < 0) return false;
      return d > 0 || seqGt(seq, this.rcvNxt[slot]);
    }
    return seqGt(seq, this.rcvNxt[slot]);
  }

  // What an ACK from the record carries.
  /** SND.MAX: the sequence number of our ACKs. */
  seqOf(slot: number): number {
    return this.sndMax[slot];
  }
  /** RCV.NXT: past the peer's FIN. */
  ackOf(slot: number): number {
    return this.rcvNxt[slot];
  }
  /** The window field of our ACKs (as last advertised, already scaled down). */
  windowOf(slot: number): number {
    return this.window[slot];
  }
  /** Timestamps negotiated: then TS.Recent and our clock's offset for the address pair. */
  timestampsOf(slot: number): boolean {
    return this.timestamps[slot] === 1;
  }
  tsRecentOf(slot: number): number {
    return this.tsRecent[slot];
  }
  tsOffsetOf(slot: number): number {
    return this.tsOffset[slot];
  }
  /** The 4-tuple and the end of a record (for /connections). */
  localPortOf(slot: number): number {
    return this.localPort[slot];
  }
  localIpOf(slot: number): number {
    return this.localIp[slot];
  }
  remoteIpOf(slot: number): number {
    return this.remoteIp[slot];
  }
  remotePortOf(slot: number): number {
    return this.remotePort[slot];
  }
  endOf(slot: number): number {
    return this.ends[slot];
  }

  /** Every held record's slot, oldest first. */
  *records(): IterableIterator<number> {
    for (let s = this.head; s !== NO_RECORD; s = this.next[s] ?? NO_RECORD) yield s;
  }

  private append(s: number): void {
    this.prev[s] = this.tail;
    this.next[s] = NO_RECORD;
    if (this.tail !== NO_RECORD) this.next[this.tail] = s;
    else this.head = s;
    this.tail = s;
  }

  private unlink(s: number): void {
    const p = this.prev[s];
    const n = this.next[s];
    if (p !== NO_RECORD) this.next[p] = n;
    else this.head = n;
    if (n !== NO_RECORD) this.prev[n] = p;
    else this.tail = p;
  }

  /** Puts `s` (its hash set) in the first free bucket from its home. */
  private index(s: number): void {
    const b = this.buckets;
    const mask = this.mask;
    let i = this.hash[s] & mask;
    while (b[i] !== EMPTY) i = (i + 1) & mask;
    b[i] = s;
  }

  /** Takes `s` out of the index, moving back the records after it that may go nearer their home (backward shift). */
  private unindex(s: number): void {
    const b = this.buckets;
    const mask = this.mask;
    let i = this.hash[s] & mask;
    while (b[i] !== s) {
      if (b[i] === EMPTY) return; // not indexed
      i = (i + 1) & mask;
    }
    for (let j = (i + 1) & mask; b[j] !== EMPTY; j = (j + 1) & mask) {
      const t = b[j];
      // t may fill the hole at i when i lies on its probe path: from its home up to j.
      if (((j - (this.hash[t] & mask)) & mask) >= ((j - i) & mask)) {
        b[i] = t;
        i = j;
      }
    }
    b[i] = EMPTY;
  }

  private takeSlot(): number {
    if (this.free === NO_RECORD) this.grow();
    const s = this.free;
    this.free = this.next[s] ?? NO_RECORD;
    return s;
  }

  /** Doubles the arrays (up to the capacity) and puts the new slots on the free list. */
  private grow(): void {
    const old = this.slots;
    const n = Math.min(this.capacity, Math.max(INITIAL_SLOTS, old * 2));
    const grown = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.localPort = grown(this.localPort, (k) => new Uint16Array(k));
    this.remotePort = grown(this.remotePort, (k) => new Uint16Array(k));
    this.remoteIp = grown(this.remoteIp, (k) => new Float64Array(k));
    this.localIp = grown(this.localIp, (k) => new Float64Array(k));
    this.sndMax = grown(this.sndMax, (k) => new Uint32Array(k));
    this.rcvNxt = grown(this.rcvNxt, (k) => new Uint32Array(k));
    this.tsRecent = grown(this.tsRecent, (k) => new Uint32Array(k));
    this.tsOffset = grown(this.tsOffset, (k) => new Uint32Array(k));
    this.window = grown(this.window, (k) => new Uint16Array(k));
    this.timestamps = grown(this.timestamps, (k) => new Uint8Array(k));
    this.ends = grown(this.ends, (k) => new Float64Array(k));
    this.generation = grown(this.generation, (k) => new Uint32Array(k));
    this.prev = grown(this.prev, (k) => new Int32Array(k));
    this.next = grown(this.next, (k) => new Int32Array(k));
    this.hash = grown(this.hash, (k) => new Uint32Array(k));
    for (let s = n - 1; s >= old; s--) {
      this.next[s] = this.free;
      this.free = s;
    }
    this.slots = n;
    // The index at most half full: a power of two of at least twice the slots, rebuilt.
    let buckets = 1;
    while (buckets < 2 * n) buckets *= 2;
    this.buckets = new Int32Array(buckets).fill(EMPTY);
    this.mask = buckets - 1;
    for (let r = this.head; r !== NO_RECORD; r = this.next[r]) this.index(r);
  }
}
