/**
 * TIME_WAIT as compact records (RFC 9293 3.6 and 3.4.2: 2·MSL after an active close), like
 * Linux's inet_timewait_sock: once a connection reaches TIME_WAIT nothing of it is needed
 * but what answers the peer — the 4-tuple, the sequence numbers of a final ACK, the window
 * and timestamps it carries, and when the record ends. A record is ~50 bytes in typed
 * arrays plus its index entry: no buffers, no socket, no timer-heap entry, no objects the
 * garbage collector has to trace, so the cost of a connection does not grow with the
 * number of connections in TIME_WAIT.
 *
 * Records sit on one list ordered by their end (2·MSL is the same for all, so a new or
 * restarted record goes to the tail): expiry looks only at the head. The table is
 * bounded (`capacity`, Linux tcp_max_tw_buckets): when it is full the oldest record is
 * dropped to make room (the caller counts it), so new connections are always served.
 *
 * A record is named by its slot and a generation that changes when the slot is freed,
 * so a holder of an old (slot, generation) can tell that its record is gone (`alive`).
 */
import { seqGt, seqSub } from './seq.js';
import { localKey } from './demux-key.js';

/** References on interned addresses (base/ipv6-interner.ts Ipv6Interner). */
export interface AddressRefs {
  acquire(ip: number): void;
  release(ip: number): void;
}

/** For a layer without IPv6: IPv4 addresses need no references. */
export const NO_ADDRESS_REFS: AddressRefs = { acquire: () => {}, release: () => {} };

/** No record (slot index). */
export const NO_RECORD = -1;
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
  /** localKey(localIp, localPort) (./demux-key.ts) → (remoteIp·65536 + remotePort) → slot. */
  private readonly index = new Map<number, Map<number, number>>();

  /**
   * @param capacity most records held (0: TIME_WAIT is skipped altogether)
   * @param addresses takes a reference on each record's remote address while it is held
   *   (interned IPv6 addresses; IPv4 ones are ignored)
   */
  constructor(readonly capacity: number, private readonly addresses: AddressRefs = NO_ADDRESS_REFS) {}

  /** The slot of the record for this 4-tuple, or NO_RECORD. */
  lookup(localIp: number, localPort: number, remoteIp: number, remotePort: number): number {
    return this.index.get(localKey(localIp, localPort))?.get(remoteIp * 65536 + remotePort) ?? NO_RECORD;
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
    if (this.size >= this.capacity) {
      this.remove(this.head);
      this.evicted = 1;
    }
    const old = this.lookup(localIp, localPort, remoteIp, remotePort);
    if (old !== NO_RECORD) this.remove(old);
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
    const lk = localKey(localIp, localPort);
    let m = this.index.get(lk);
    if (m === undefined) {
      m = new Map();
      this.index.set(lk, m);
    }
    m.set(remoteIp * 65536 + remotePort, s);
    this.size++;
    return s;
  }

  /** Records the last add() dropped to make room (0 or 1). */
  evicted = 0;

  /** Ends the record in `slot` now. */
  remove(slot: number): void {
    if (slot === NO_RECORD) return;
    const lk = localKey(this.localIp[slot], this.localPort[slot]);
    const m = this.index.get(lk);
    if (m !== undefined) {
      m.delete(this.remoteIp[slot] * 65536 + this.remotePort[slot]);
      if (m.size === 0) this.index.delete(lk);
    }
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
    for (let s = n - 1; s >= old; s--) {
      this.next[s] = this.free;
      this.free = s;
    }
    this.slots = n;
  }
}
