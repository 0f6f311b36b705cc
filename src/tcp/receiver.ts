/**
 * The receive half of a connection: RCV.NXT, the advertised window, out-of-order data,
 * the ACK policy (delayed ACK), SACK blocks to report, and the timestamp state used for
 * PAWS.
 *
 * RFC 9293 3.10.7.4 (segment text, acceptability), 3.8.6.2.2 (receiver SWS avoidance;
 * never shrink the window's right edge), RFC 1122 4.2.3.2 (delayed ACK: at least every
 * second full-sized segment, ≤ 500 ms — we use 40 ms; like Linux, at once when more than
 * one full-sized segment's worth is unacknowledged), RFC 5681 4.2 (immediate ACK for
 * out-of-order data and for data filling a hole), RFC 7323 4.3 (TS.Recent), 5 (PAWS),
 * RFC 2018 4 (SACK blocks). Out-of-order data inside a receive batch: after the first
 * DupThresh (3) ACKs for one RCV.NXT, the rest of the batch's may share one ACK at its
 * end (`compressOooAck`, Linux's SACK compression, tcp_comp_sack_nr 44).
 */
import { ReassemblyQueue } from './reassembly-queue.js';
import { seqAdd, seqGt, seqLeq, seqLt, seqSub } from './seq.js';


/** Where a receiver delivers in-order bytes (the connection, which hands them to its socket). */
export interface DataSink {
  /** `b[off, off+len)`, valid during the call only. */
  deliverData(b: Uint8Array, off: number, len: number): void;
}
/** What the receiver decided about acknowledging. */
export const ACK_NONE = 0, ACK_DELAYED = 1, ACK_NOW = 2;
/** Out-of-order ACKs sent at once for one RCV.NXT before compression may start: the sender's DupThresh. */
export const OOO_ACKS_AT_ONCE = 3;
/** Most out-of-order ACKs folded into one (Linux tcp_comp_sack_nr). */
export const OOO_ACKS_COMPRESSED_MAX = 44;
/** Longest an out-of-order ACK is held back (ms; Linux tcp_comp_sack_delay_ns), and at most this share of the RTT. */
export const OOO_ACK_HOLD_MAX_MS = 1;
export const OOO_ACK_HOLD_RTT_SHARE = 1 / 20;

/** Receive-side state of one connection. */
export class TcpReceiver {
  /*
   * Sequence numbers and timestamps live in `…I32` fields as int32 and are read as
   * uint32 through accessors (see seq.ts).
   */
  /** Initial receive sequence number (the peer's ISN). */
  #irsI32 = 0;
  /** Next sequence number expected (RCV.NXT). */
  #rcvNxtI32 = 0;
  /** Our window scale shift (what we told the peer in our SYN). */
  #wscale: number;
  /** Bytes handed to the application and not yet consumed by it. */
  #unconsumed = 0;
  /** Right edge of the last window we advertised (RCV.NXT + RCV.WND at that time). */
  #advRightEdgeI32 = 0;
  /** Out-of-order data; made at the first out-of-order segment (most connections never see one). */
  #ooo: ReassemblyQueue | null = null;
  private readonly maxOooSegments: number;
  /** The peer's FIN has been received and processed (RCV.NXT moved past it). */
  #finReceived = false;
  /** Sequence number of a FIN seen beyond a hole, while pendingFin. */
  #pendingFinSeqI32 = 0;
  private pendingFin = false;
  /** In-order bytes received since our last ACK. */
  private bytesSinceAck = 0;
  /** An ACK is owed (delayed ACK armed). */
  #ackPending = false;
  /** Timestamps: TS.Recent and the RCV.NXT of our last ACK (Last.ACK.sent). */
  #tsRecentI32 = 0;
  private tsRecentSet = false;
  #lastAckSentI32 = 0;
  /** Set by receive(): out-of-order data was dropped for lack of room. */
  #oooDropped = false;
  /** Set by receive(): the segment was out of order. */
  #wasOutOfOrder = false;
  /** RFC 2883: duplicate bytes [dsackLeft, dsackRight) to report in the next SACK option, while dsackHeld. */
  #dsackLeftI32 = 0;
  #dsackRightI32 = 0;
  private dsackHeld = false;
  /** SACK compression's state; made with the first out-of-order segment, as the queue is. */
  #oooAcks: OooAckState | null = null;

  private get advRightEdge(): number {
    return this.#advRightEdgeI32 >>> 0;
  }

  private set advRightEdge(v: number) {
    this.#advRightEdgeI32 = v | 0;
  }

  private get lastAckSent(): number {
    return this.#lastAckSentI32 >>> 0;
  }

  private set lastAckSent(v: number) {
    this.#lastAckSentI32 = v | 0;
  }

  private get pendingFinSeq(): number {
    return this.#pendingFinSeqI32 >>> 0;
  }

  private set pendingFinSeq(v: number) {
    this.#pendingFinSeqI32 = v | 0;
  }

  private get dsackLeft(): number {
    return this.#dsackLeftI32 >>> 0;
  }

  private set dsackLeft(v: number) {
    this.#dsackLeftI32 = v | 0;
  }

  private get dsackRight(): number {
    return this.#dsackRightI32 >>> 0;
  }

  private set dsackRight(v: number) {
    this.#dsackRightI32 = v | 0;
  }

  /**
   * @param capacity receive buffer (bytes): bounds the window and out-of-order data
   * @param wscale our window scale shift, offered in our SYN (0: none)
   * @param segments where the payload per segment now is read (the sender's MSS, for receiver SWS avoidance)
   */
  constructor(readonly capacity: number, maxOooSegments: number, wscale: number, private readonly segments: { readonly mss: number }) {
    this.#wscale = wscale;
    this.maxOooSegments = maxOooSegments;
  }

  /** Out-of-order segments held (0: none). */
  get oooSegments(): number {
    return this.#ooo === null ? 0 : this.#ooo.segments;
  }

  /** A duplicate segment arrived and its D-SACK block (RFC 2883) has not been sent yet. */
  get dsackPending(): boolean {
    return this.dsackHeld;
  }

  /**
   * RFC 2018 4: the SACK blocks of the out-of-order data into out (left, right, …), at most
   * `max`; returns how many. RFC 2883 4: a duplicate received since the last call comes
   * first (a D-SACK block, reported once), then the blocks of the out-of-order data (the
   * one holding the duplicate first, when it is out of order, as the most recent).
   */
  sackBlocks(out: Uint32Array, max: number): number {
    let n = 0;
    if (this.dsackHeld && max > 0 && out.length >= 2) {
      out[0] = this.dsackLeft;
      out[1] = this.dsackRight;
      this.dsackHeld = false;
      n = 1;
    }
    if (this.#ooo === null) return n;
    return this.#ooo.sackBlocks(out, max, n);
  }

  /** RFC 2883: remembers [left, right) as received twice (the latest duplicate wins). */
  noteDuplicate(left: number, right: number): void {
    this.dsackLeft = left;
    this.dsackRight = right;
    this.dsackHeld = true;
  }

  /** The peer's ISN (IRS). */
  get irs(): number {
    return this.#irsI32 >>> 0;
  }

  private set irs(v: number) {
    this.#irsI32 = v | 0;
  }

  /** RCV.NXT. */
  get rcvNxt(): number {
    return this.#rcvNxtI32 >>> 0;
  }

  private set rcvNxt(v: number) {
    this.#rcvNxtI32 = v | 0;
  }

  /** Our window scale shift (0 when the peer did not offer scaling). */
  get wscale(): number {
    return this.#wscale;
  }

  /** Bytes delivered to the application and not yet consumed (they hold the window shut). */
  get unconsumed(): number {
    return this.#unconsumed;
  }

  /** The peer's FIN has been received in order. */
  get finReceived(): boolean {
    return this.#finReceived;
  }

  /** An ACK is owed and waits for the delayed-ACK timer. */
  get ackPending(): boolean {
    return this.#ackPending;
  }

  /** TS.Recent (RFC 7323 4.3): the TSval to echo. */
  get tsRecent(): number {
    return this.#tsRecentI32 >>> 0;
  }

  private set tsRecent(v: number) {
    this.#tsRecentI32 = v | 0;
  }

  /** Set by receive(): out-of-order data was dropped for lack of room. */
  get oooDropped(): boolean {
    return this.#oooDropped;
  }

  /** Set by receive(): the segment was out of order. */
  get wasOutOfOrder(): boolean {
    return this.#wasOutOfOrder;
  }

  /** RFC 7323 2.2: the peer did not offer window scaling, so our windows go unscaled too. */
  noWindowScaling(): void {
    this.#wscale = 0;
  }

  /**
   * A connection made from a SYN cookie (RFC 4987 3.6): the SYN-ACK that advertised our
   * window left no record, so take its right edge as RCV.NXT + window().
   */
  assumeWindowAdvertised(): void {
    this.advRightEdge = seqAdd(this.rcvNxt, this.window());
  }

  /** An ACK is owed but may wait for the delayed-ACK timer (RFC 1122 4.2.3.2). */
  delayAck(): void {
    this.#ackPending = true;
  }

  /** The application consumed `n` delivered bytes: they no longer hold the window shut. */
  consumed(n: number): void {
    this.#unconsumed = Math.max(0, this.#unconsumed - n);
  }

  /** Free receive space now (bytes). */
  freeSpace(): number {
    return Math.max(0, this.capacity - this.#unconsumed - (this.#ooo === null ? 0 : this.#ooo.bytes));
  }

  /**
   * The window to advertise now, in bytes: free space, but never moving the right edge
   * back (RFC 9293 3.8.6.2.2) and opening only in steps of at least min(capacity/2, MSS)
   * (receiver-side silly window syndrome avoidance).
   */
  window(): number {
    const free = this.freeSpace();
    const current = Math.max(0, seqSub(this.advRightEdge, this.rcvNxt));
    if (free <= current) return current; // cannot shrink
    const step = Math.min(this.capacity >>> 1, this.segments.mss);
    // Also from a zero window (RFC 1122 4.2.3.3): reopening it by a few bytes is exactly
    // the silly window the rule is there to prevent.
    if (free - current < step) return current;
    return free;
  }

  /** The 16-bit window field to send (scaled; a SYN's window is never scaled). */
  windowField(isSyn: boolean): number {
    const w = this.window();
    if (isSyn) return Math.min(65535, w);
    return Math.min(65535, Math.floor(w / (1 << this.#wscale)));
  }

  /**
   * Records that an ACK with the current RCV.NXT is being sent, advertising `windowBytes`
   * (the scaled field times 2^wscale: exactly what the peer will compute).
   */
  /**
   * Whether the ACK that out-of-order data calls for (RFC 5681 4.2) may wait for the end
   * of the receive batch, folded into one with the batch's others: only for a segment that
   * continued the block of the one before (a new block, i.e. a new hole, is reported at
   * once: a folded ACK carries only the 3–4 most recent blocks), not for the first
   * OOO_ACKS_AT_ONCE ACKs of one RCV.NXT (the sender's fast retransmit counts them), not
   * when a D-SACK is to be reported, not beyond OOO_ACKS_COMPRESSED_MAX folded in a row,
   * and not once min(1 ms, RTT/20) has passed since the first one held back (`srttMs` 0:
   * no RTT yet, nothing held), Linux tcp_comp_sack's bounds. The ACK goes at the end of
   * the batch of frames that arrived together, or with the first segment past the bound.
   */
  compressOooAck(now: number, srttMs: number): boolean {
    const st = this.#oooAcks;
    if (st === null) return false;
    if (this.rcvNxt !== st.rcvNxt) {
      st.rcvNxt = this.rcvNxt;
      st.atOnce = 0;
    }
    if (st.atOnce < OOO_ACKS_AT_ONCE) {
      st.atOnce++;
      return false;
    }
    if (!this.#wasOutOfOrder || !st.extendsLast || this.dsackHeld) return false;
    if (st.folded >= OOO_ACKS_COMPRESSED_MAX) return false;
    const hold = Math.min(OOO_ACK_HOLD_MAX_MS, srttMs * OOO_ACK_HOLD_RTT_SHARE);
    if (hold <= 0) return false;
    if (st.folded === 0) st.foldStart = now;
    else if (now - st.foldStart > hold) return false;
    st.folded++;
    return true;
  }

  noteAckSent(windowBytes: number): void {
    if (this.#oooAcks !== null) this.#oooAcks.folded = 0;
    this.lastAckSent = this.rcvNxt;
    const edge = seqAdd(this.rcvNxt, windowBytes);
    if (seqGt(edge, this.advRightEdge)) this.advRightEdge = edge;
    this.bytesSinceAck = 0;
    this.#ackPending = false;
  }

  /** Starts the receive sequence space at the peer's ISN (SYN received). */
  synchronize(irs: number): void {
    this.irs = irs;
    this.rcvNxt = seqAdd(irs, 1);
    this.advRightEdge = this.rcvNxt;
    this.lastAckSent = this.rcvNxt;
  }

  /**
   * RFC 9293 3.10.7.4 first check, the acceptability test: does the segment occupy
   * anything inside the receive window? (A zero-length segment at RCV.NXT is acceptable.)
   */
  acceptable(seq: number, segLen: number): boolean {
    const wnd = Math.max(0, seqSub(this.advRightEdge, this.rcvNxt));
    if (segLen === 0) {
      if (wnd === 0) return seq === this.rcvNxt;
      return seqLeq(this.rcvNxt, seq) && seqLt(seq, seqAdd(this.rcvNxt, wnd)) || seq === this.rcvNxt;
    }
    if (wnd === 0) return false;
    const end = seqAdd(seq, segLen - 1);
    const rightEdge = seqAdd(this.rcvNxt, wnd);
    return (seqLeq(this.rcvNxt, seq) && seqLt(seq, rightEdge)) || (seqLeq(this.rcvNxt, end) && seqLt(end, rightEdge));
  }

  /** RFC 7323 4.3 (2): update TS.Recent from a segment that covers Last.ACK.sent. */
  updateTsRecent(seq: number, tsVal: number): void {
    if (seqLeq(seq, this.lastAckSent) && (!this.tsRecentSet || seqGeqTs(tsVal, this.tsRecent))) {
      this.tsRecent = tsVal;
      this.tsRecentSet = true;
    }
  }

  /** RFC 7323 5.3: true if the segment's TSval is older than TS.Recent (PAWS rejects it). */
  pawsReject(tsVal: number): boolean {
    return this.tsRecentSet && seqSub(tsVal, this.tsRecent) < 0;
  }

  /** How many ticks of the peer's timestamp clock `tsVal` lies behind TS.Recent (negative: ahead). */
  tsBehindRecent(tsVal: number): number {
    return seqSub(this.tsRecent, tsVal);
  }

  /**
   * Takes the segment's text. Delivers in-order bytes to `sink` (and any that the
   * out-of-order queue then makes contiguous), queues out-of-order bytes, trims what lies
   * outside the window. `fin` is set when the segment carries FIN. Returns how to ACK.
   * Sets `oooDropped` when out-of-order data did not fit.
   */
  receive(
    seq: number, b: Uint8Array, off: number, len: number, fin: boolean, mss: number,
    sink: DataSink,
  ): number {
    this.#oooDropped = false;
    this.#wasOutOfOrder = false;
    // Trim the front: bytes before RCV.NXT were received already.
    let s = seq;
    let o = off;
    let n = len;
    const before = seqSub(this.rcvNxt, s);
    // RFC 2883: a (partial) duplicate is reported, in an ACK sent at once (Linux does too).
    const duplicate = before > 0 && n > 0;
    if (duplicate) this.noteDuplicate(s, before >= n ? seqAdd(s, n) : this.rcvNxt);
    if (before > 0) {
      if (before >= n) {
        n = 0;
        s = this.rcvNxt;
      } else {
        o += before;
        n -= before;
        s = this.rcvNxt;
      }
    }
    // Trim the tail to the window we offered.
    const room = Math.max(0, seqSub(this.advRightEdge, s));
    let finHere = fin;
    if (n > room) {
      n = room;
      finHere = false; // the FIN lies beyond what we accept
    }
    if (n === 0 && !finHere) return len > 0 ? ACK_NOW : ACK_NONE; // duplicate data: ACK it (RFC 9293)
    if (s !== this.rcvNxt) {
      // Out of order: keep it for later, ACK at once (RFC 5681 4.2) with SACK.
      this.#wasOutOfOrder = true;
      const ooo = (this.#ooo ??= new ReassemblyQueue(this.capacity, this.maxOooSegments));
      const stored = n > 0 ? ooo.insert(s, b, o, n, this.rcvNxt, this.freeSpace() + ooo.bytes) : 0;
      if (stored < 0) this.#oooDropped = true;
      else if (stored === 0 && n > 0 && ooo.holds(s, seqAdd(s, n))) this.noteDuplicate(s, seqAdd(s, n));
      // Continuing the block the last out-of-order segment made: the next ACK's first SACK
      // block (the most recent, RFC 2018 4) reports both, so an ACK folded away hides nothing.
      const st = (this.#oooAcks ??= new OooAckState());
      st.extendsLast = stored > 0 && s === st.lastEnd;
      st.lastEnd = seqAdd(s, n);
      if (finHere) {
        this.pendingFinSeq = seqAdd(s, n);
        this.pendingFin = true;
      }
      return ACK_NOW;
    }
    const hadHole = this.oooSegments > 0;
    // Account for the bytes before delivering them: an application may call consumed()
    // from inside deliverData(), which must find them counted (else the window leaks).
    if (n > 0) {
      this.#unconsumed += n;
      this.rcvNxt = seqAdd(this.rcvNxt, n);
      sink.deliverData(b, o, n);
    }
    if (hadHole && this.#ooo !== null) {
      this.drainTo = sink;
      this.rcvNxt = this.#ooo.drain(this.rcvNxt, (this.drainSink ??= this.makeDrainSink()));
    }
    if (finHere || (this.pendingFin && this.rcvNxt === this.pendingFinSeq)) {
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.#finReceived = true;
      this.pendingFin = false;
      return ACK_NOW;
    }
    if (hadHole) return ACK_NOW; // filled (part of) a hole: tell the sender at once
    // Like Linux (__tcp_ack_snd_check): ACK at once when more than one full-sized
    // segment's worth arrived since the last ACK (so at least every second full-sized
    // segment, and a full segment plus a partial one is not held back); a GRO'd
    // super-segment counts for all it carries.
    this.bytesSinceAck += n;
    if (this.bytesSinceAck > mss || duplicate) return ACK_NOW;
    return ACK_DELAYED;
  }
  /**
   * Where the out-of-order queue's bytes go once contiguous: the current receive()'s sink,
   * through one callback made when the first hole is filled (not one per connection or
   * per call: an idle connection holds no closure).
   */
  private drainTo: DataSink | null = null;
  private drainSink: ((b: Uint8Array, off: number, len: number) => void) | null = null;
  private makeDrainSink(): (b: Uint8Array, off: number, len: number) => void {
    return (b, off, len) => {
      this.#unconsumed += len;
      this.drainTo?.deliverData(b, off, len);
    };
  }
}

/** TSval comparison modulo 2^32 (RFC 7323 5.2). */
function seqGeqTs(a: number, b: number): boolean {
  return seqSub(a, b) >= 0;
}

/** What SACK compression (TcpReceiver.compressOooAck) keeps between segments. */
class OooAckState {
  /** RCV.NXT of the out-of-order ACKs being counted, how many of them went at once, how many were folded since the last ACK sent. */
  rcvNxt = 0;
  atOnce = 0;
  folded = 0;
  /** When the first ACK folded since the last one sent was held back (ms). */
  foldStart = 0;
  /** The end of the last out-of-order segment stored, and whether the latest one continued it. */
  lastEnd = 0;
  extendsLast = false;
}
