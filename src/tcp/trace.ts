/**
 * The per-connection trace (libtpa's trace and archive, in spirit): an always-on ring of a
 * connection's recent events (segments in and out with seq/ack/window/flags/length, state
 * changes, timer fires, RTOs, recovery entry and exit, tail loss probes; each with cwnd),
 * kept in numbers, not objects. No RFC; decision 0023.
 *
 * Storage: one TraceRingStore per TCP layer (shard) holds up to `slots` rings of
 * TRACE_EVENTS events each, in typed arrays allocated a chunk of rings at a time as they
 * are first needed. A connection takes a ring when it is created and gives it back when
 * it closes or moves to its TIME_WAIT record; when every ring is taken a new connection is
 * not traced (tcp_trace_untraced). A connection that went through an RTO or sent or
 * received RST has its ring copied into a bounded archive (the last `archived` traces of
 * the shard, tcp_traces_archived) when it gives it back, so its trace can still be read.
 *
 * One event: its time (float64, ms on the core's clock) and six uint32 words: kind | TCP
 * flags << 8 | aux << 16, seq, ack, window, length, cwnd.
 */
import { C, type Counters } from '../base/counters.js';
import { STATE_NAMES } from './tcp-state.js';

/** Events kept per ring (the newest overwrite the oldest). */
export const TRACE_EVENTS = 64;
/** uint32 words per event. */
const WORDS = 6;
/** Rings allocated together when a store grows. */
const CHUNK_RINGS = 64;

/** Event kinds. */
export const TE_SEG_IN = 1, TE_SEG_OUT = 2, TE_STATE = 3, TE_RTO = 4, TE_RECOVERY_ENTER = 5, TE_RECOVERY_EXIT = 6,
  TE_TLP = 7, TE_TIMER = 8;
/** Names of the kinds, as GET /connections/<id>/trace shows them. */
export const TRACE_KIND_NAMES = ['', 'in', 'out', 'state', 'rto', 'recovery-enter', 'recovery-exit', 'tlp', 'timer'] as const;
/** The "from" state of a passive open's first state change (a listener, not a connection state). */
export const TRACE_FROM_LISTEN = 15;
/** Timer names for TE_TIMER's aux (the slots of ./timers.ts). */
const TIMER_NAMES = ['rto', 'persist', 'delack', 'keepalive', 'fin-wait-2'];

/** Why a trace is archived: the connection had a retransmission timeout, or a reset (sent or received). */
export const TRACE_MARK_RTO = 1, TRACE_MARK_RST = 2;

/** A ring of events for one connection, decoded (control path only). */
export interface TraceEvent {
  /** ms on the core's clock. */
  t: number;
  kind: (typeof TRACE_KIND_NAMES)[number];
  /** Segments: TCP flags byte; others 0. */
  flags: number;
  seq: number;
  ack: number;
  /** Segments: the window field as sent (unscaled). */
  win: number;
  len: number;
  cwnd: number;
  /** state: from and to; timer: which; rto: the backoff count. */
  from?: string;
  to?: string;
  timer?: string;
  backoff?: number;
}

/** Up to `capacity` rings of TRACE_EVENTS events, grown a chunk at a time. */
export class TraceRingStore {
  private readonly times: Float64Array[] = [];
  private readonly words: Uint32Array[] = [];
  /** Next write position and events held, per ring. */
  private readonly head: Uint8Array;
  private readonly count: Uint8Array;
  private readonly chunk: number;

  constructor(readonly capacity: number) {
    this.head = new Uint8Array(capacity);
    this.count = new Uint8Array(capacity);
    this.chunk = Math.max(1, Math.min(CHUNK_RINGS, capacity));
  }

  /** Rings whose memory is allocated. */
  get allocated(): number {
    return this.times.length * this.chunk;
  }

  /** Bytes of event storage allocated. */
  get bytes(): number {
    return this.times.length * this.chunk * TRACE_EVENTS * (8 + WORDS * 4);
  }

  /** Allocates the chunk of ring `r` if needed; false past the capacity. */
  ensure(r: number): boolean {
    if (r >= this.capacity) return false;
    while (r >= this.allocated) {
      this.times.push(new Float64Array(this.chunk * TRACE_EVENTS));
      this.words.push(new Uint32Array(this.chunk * TRACE_EVENTS * WORDS));
    }
    return true;
  }

  /** Empties ring `r`. */
  clear(r: number): void {
    this.head[r] = 0;
    this.count[r] = 0;
  }

  /** Events held by ring `r`. */
  size(r: number): number {
    return this.count[r];
  }

  /** Appends an event to ring `r` (overwriting its oldest when full). */
  push(r: number, kind: number, flags: number, aux: number, now: number, seq: number, ack: number, win: number, len: number, cwnd: number): void {
    const c = (r / this.chunk) | 0;
    const h = this.head[r];
    const i = (r - c * this.chunk) * TRACE_EVENTS + h;
    this.times[c][i] = now;
    const w = this.words[c];
    const o = i * WORDS;
    w[o] = kind | (flags << 8) | (aux << 16);
    w[o + 1] = seq;
    w[o + 2] = ack;
    w[o + 3] = win;
    w[o + 4] = len;
    w[o + 5] = cwnd;
    this.head[r] = (h + 1) % TRACE_EVENTS;
    if (this.count[r] < TRACE_EVENTS) this.count[r]++;
  }

  /** Copies ring `from` of `src` over ring `to` of this store (which must be allocated). */
  copyFrom(src: TraceRingStore, from: number, to: number): void {
    const sc = (from / src.chunk) | 0;
    const so = (from - sc * src.chunk) * TRACE_EVENTS;
    const dc = (to / this.chunk) | 0;
    const d = (to - dc * this.chunk) * TRACE_EVENTS;
    this.times[dc].set(src.times[sc].subarray(so, so + TRACE_EVENTS), d);
    this.words[dc].set(src.words[sc].subarray(so * WORDS, (so + TRACE_EVENTS) * WORDS), d * WORDS);
    this.head[to] = src.head[from];
    this.count[to] = src.count[from];
  }

  /** The events of ring `r`, oldest first. */
  events(r: number): TraceEvent[] {
    const out: TraceEvent[] = [];
    const n = this.count[r];
    const c = (r / this.chunk) | 0;
    const base = (r - c * this.chunk) * TRACE_EVENTS;
    const first = (this.head[r] - n + TRACE_EVENTS) % TRACE_EVENTS;
    const w = this.words[c];
    for (let k = 0; k < n; k++) {
      const i = base + ((first + k) % TRACE_EVENTS);
      const o = i * WORDS;
      const kind = w[o] & 0xff;
      const aux = w[o] >>> 16;
      const e: TraceEvent = {
        t: this.times[c][i], kind: TRACE_KIND_NAMES[kind] ?? '', flags: (w[o] >>> 8) & 0xff,
        seq: w[o + 1], ack: w[o + 2], win: w[o + 3], len: w[o + 4], cwnd: w[o + 5],
      };
      if (kind === TE_STATE) {
        e.from = (aux & 0xf) === TRACE_FROM_LISTEN ? 'LISTEN' : STATE_NAMES[aux & 0xf];
        e.to = STATE_NAMES[(aux >>> 4) & 0xf];
      } else if (kind === TE_TIMER) {
        e.timer = TIMER_NAMES[aux] ?? String(aux);
      } else if (kind === TE_RTO) {
        e.backoff = aux;
      }
      out.push(e);
    }
    return out;
  }
}

/** What is kept about an archived connection besides its events. */
export interface ArchivedConnection {
  serial: number;
  localPort: number;
  remoteIp: number;
  remotePort: number;
  /**
   * The addresses as text when they are IPv6 (an interned id may name another address
   * once the connection is gone, base/ipv6-interner.ts); null for IPv4.
   */
  local6: string | null;
  remote6: string | null;
  /** Our ISN and the peer's, and the window scale shifts (ours, the peer's), for reading the events. */
  iss: number;
  irs: number;
  rcvWscale: number;
  sndWscale: number;
  /** TRACE_MARK_* bits. */
  marks: number;
  /** The state it left in (CLOSED, or TIME_WAIT for one that moved to its record), and when (ms). */
  state: string;
  closedAt: number;
}

/** The traces of one TCP layer: live rings handed to connections, and the archive. */
export class ConnectionTracer {
  private readonly live: TraceRingStore;
  /** Free rings (a stack) and rings ever handed out. */
  private readonly free: Int32Array;
  private freeTop = 0;
  private used = 0;
  /** Per live ring: the owner's serial and its TRACE_MARK_* bits. */
  private readonly serials: Float64Array;
  private readonly marks: Uint8Array;
  private readonly archive: TraceRingStore;
  private readonly archived: Array<ArchivedConnection | undefined>;
  /** Next archive entry to (over)write. */
  private archiveNext = 0;

  /**
   * @param slots live rings at most (connections traced at once)
   * @param archiveSize archived traces kept (the oldest is overwritten)
   */
  constructor(slots: number, archiveSize: number, private readonly counters: Counters) {
    this.live = new TraceRingStore(Math.max(0, slots));
    this.free = new Int32Array(Math.max(0, slots));
    this.serials = new Float64Array(Math.max(0, slots));
    this.marks = new Uint8Array(Math.max(0, slots));
    this.archive = new TraceRingStore(Math.max(0, archiveSize));
    this.archived = new Array<ArchivedConnection | undefined>(Math.max(0, archiveSize)).fill(undefined);
  }

  /** A ring for connection `serial`, or -1 when all are taken (counted: tcp_trace_untraced). */
  acquire(serial: number): number {
    if (this.live.capacity === 0) return -1; // tracing off
    let r: number;
    if (this.freeTop > 0) {
      r = this.free[--this.freeTop];
    } else if (this.live.ensure(this.used)) {
      r = this.used++;
    } else {
      this.counters[C.tcp_trace_untraced]++;
      return -1;
    }
    this.live.clear(r);
    this.serials[r] = serial;
    this.marks[r] = 0;
    return r;
  }

  /** Records one event in ring `r` (see the header for the fields). */
  record(r: number, kind: number, flags: number, aux: number, now: number, seq: number, ack: number, win: number, len: number, cwnd: number): void {
    this.live.push(r, kind, flags, aux, now, seq, ack, win, len, cwnd);
  }

  /** Marks ring `r` for the archive (TRACE_MARK_*). */
  mark(r: number, bits: number): void {
    this.marks[r] |= bits;
  }

  /** The TRACE_MARK_* bits of ring `r`. */
  marksOf(r: number): number {
    return this.marks[r];
  }

  /**
   * Gives ring `r` back. `info` describes the connection (null when the ring is not
   * marked); when the ring is marked its events and `info` go to the archive (the oldest
   * entry makes room).
   */
  release(r: number, info: Omit<ArchivedConnection, 'marks' | 'serial'> | null): void {
    const marks = this.marks[r];
    if (marks !== 0 && info !== null && this.archive.capacity > 0) {
      const a = this.archiveNext;
      this.archive.ensure(a);
      this.archive.copyFrom(this.live, r, a);
      this.archived[a] = { ...info, serial: this.serials[r], marks };
      this.archiveNext = (a + 1) % this.archive.capacity;
      this.counters[C.tcp_traces_archived]++;
    }
    this.free[this.freeTop++] = r;
  }

  /** The events of live ring `r`, oldest first. */
  events(r: number): TraceEvent[] {
    return this.live.events(r);
  }

  /** The archived trace of connection `serial` (the newest, if the archive holds several), or null. */
  archivedTrace(serial: number): { info: ArchivedConnection; events: TraceEvent[] } | null {
    const n = this.archived.length;
    for (let k = 1; k <= n; k++) {
      const a = (this.archiveNext - k + n) % n;
      const info = this.archived[a];
      if (info?.serial === serial) return { info, events: this.archive.events(a) };
    }
    return null;
  }

  /** Every archived connection, newest first, with its event count. */
  archivedConnections(): Array<ArchivedConnection & { events: number }> {
    const out: Array<ArchivedConnection & { events: number }> = [];
    const n = this.archived.length;
    for (let k = 1; k <= n; k++) {
      const a = (this.archiveNext - k + n) % n;
      const info = this.archived[a];
      if (info !== undefined) out.push({ ...info, events: this.archive.size(a) });
    }
    return out;
  }

  /** Rings handed out now. */
  get inUse(): number {
    return this.used - this.freeTop;
  }

  /** Bytes of event storage allocated (live rings and archive). */
  get bytes(): number {
    return this.live.bytes + this.archive.bytes;
  }
}
