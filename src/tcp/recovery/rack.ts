/**
 * RACK loss recovery, RFC 8985 section 6, over the SACK scoreboard of ./sack-recovery.ts:
 * a segment is lost when a segment sent after it has been delivered and a reordering
 * window has passed since, not when DupThresh segments above it were SACKed.
 *
 * - 6.1: per-segment transmit times in ./rack-log.ts (one entry per transmission: a TSO
 *   chunk is one entry; retransmissions have entries of their own).
 * - 6.2 steps 1–3: on each ACK the delivered segments (the cumulative ACK, each SACK block's
 *   highest byte, each retransmission now fully ACKed or SACKed) update RACK.xmit_ts,
 *   RACK.end_seq, RACK.rtt and RACK.min_RTT; a retransmission delivered sooner than
 *   min_RTT after it was sent, or cumulatively ACKed by an ACK whose TSecr is older than
 *   the retransmission, is taken as its original arriving and ignored (step 2).
 *   Reordering is seen when an original segment below RACK.fack (the highest delivered
 *   sequence) is delivered (step 3): SACKed, or cumulatively ACKed while neither
 *   retransmitted nor SACKed (any such segment of the ACKed range, not only its first).
 * - RACK.min_RTT is the least RTT of the last 5 minutes (a windowed minimum, as Linux).
 * - 6.2 step 4: reo_wnd = min(reo_wnd_mult · max(min_RTT / 4, REO_WND_MIN_MS),
 *   max(SRTT, REO_WND_MIN_MS)): at least 1 ms (a floor of ours); 0 before any reordering
 *   was seen when in recovery (fast, or after an RTO) or DupThresh segments' worth is
 *   SACKed; reo_wnd_mult grows by one per round trip that brings a D-SACK and returns to
 *   1 after 16 recoveries without one (reo_wnd_persist).
 * - 6.2 step 5: a segment sent before RACK's is lost once RACK.rtt + reo_wnd has passed
 *   since it was sent; otherwise the reorder timer (T_REORDER) is armed for the earliest
 *   remaining time (RFC 8985 takes the latest; the earliest marks each segment when due,
 *   and the timer is armed again for the rest). Originals are sent in sequence order, so
 *   those lost form a prefix of the log: the scoreboard marks every unSACKed byte below
 *   it lost (markLostBefore), and NextSeg() sends them. A lost retransmission is sent
 *   again at once (as ./lost-retransmit.ts does under RFC 6675). A run of retransmissions
 *   that RACK's segment lies in is judged only below it; the rest stays logged.
 * - Retransmissions stay logged until delivered, across recoveries: one still in flight
 *   is not sent again when the next recovery starts or by NextSeg
 *   (inFlightRetransmissionEnd(); Linux skips SACKED_RETRANS; decision 0046).
 * - 6.3: on an RTO the first outstanding segment is lost, and every other only if it was
 *   sent at least RACK.rtt + reo_wnd ago (its latest transmission); originals are in time
 *   order, so those form a prefix, which ends early at a retransmission sent too recently.
 *   The sender goes back to SND.UNA and resends in order only that prefix
 *   (rtoResendLimit()); the resends are logged as retransmissions, the originals after the
 *   prefix stay in the log, and a loss step 5 finds among them (once a resend is delivered)
 *   extends the resend: no fast recovery for data sent before the RTO (RFC 6582 4.1; Linux
 *   stays in CA_Loss). Until SND.UNA passes SND.MAX of the RTO ("RTO recovery"). When
 *   everything is lost, or RACK has no RTT sample yet, the log is emptied and the sender
 *   resends everything in order (go-back-N, logged as originals), as before. Either way
 *   the resend skips SACKed data, kept across the RTO (./sack-recovery.ts), unless the
 *   receiver reneged (SND.UNA SACKed): then everything is lost and resent (Linux
 *   tcp_timeout_mark_lost). RACK.min_RTT, the window multiplier and RACK.xmit_ts stay.
 *
 * The RFC 6675 DupThresh rule is off on this strategy's scoreboard; step 4's zero window
 * when DupThresh segments are SACKed before any reordering gives its effect back.
 * State is made at the first transmission of data (./rack-log.ts): an idle connection
 * holds none of it.
 */
import { C } from '../../base/counters.js';
import { SackScoreboard } from '../sack-scoreboard.js';
import type { SenderTransmit } from '../sender.js';
import { seqAdd, seqGeq, seqGt, seqLeq, seqLt, seqSub } from '../seq.js';
import { T_REORDER, type TcpTimers } from '../timers.js';
import { DUP_THRESH } from './loss-recovery.js';
import { RackLog } from './rack-log.js';
import { SackRecovery } from './sack-recovery.js';
import { resendUnsacked } from './lost-retransmit.js';
import { WindowedMin } from '../../util/windowed-min.js';

/** RFC 8985 6.2 step 4: recoveries without a D-SACK before reo_wnd_mult returns to 1. */
export const REO_WND_PERSIST = 16;
/**
 * Least reo_wnd once it is not 0 (ms). min_RTT/4 of a sub-millisecond RTT is tens of µs,
 * less than a frame queued behind a TSO chunk, a GRO batch or a scheduling turn takes to
 * come (0.1–1 ms measured in the lab, decision 0034's amendment); Linux's reorder timer
 * likewise waits at least two jiffies. The SRTT cap does not go below it.
 */
export const REO_WND_MIN_MS = 1;
/** Largest reo_wnd_mult (the window is capped at SRTT anyway). */
const REO_WND_MULT_MAX = 64;
/** No D-SACK round in progress (not a valid u32 sequence number). */
const NONE = -1;
/** Transmit-time step between transmissions in the same millisecond (see stamp()). */
const STAMP_STEP = 2 ** -20;
/** Time left below which a segment counts as due: the stamps' offsets are not waited for. */
const STAMP_SLACK = 2 ** -8;
/** How long an RTT sample may stay RACK.min_RTT (ms): Linux's tcp_min_rtt_wlen, 5 minutes. */
export const MIN_RTT_WINDOW_MS = 300_000;
/** Per ACK: which SACK blocks were new before the scoreboard took them (shared: read at once). */
const BLOCK_WAS_NEW = new Uint8Array(4);

/** RACK's per-connection variables (RFC 8985 6.1), made with the log. */
class RackVars {
  /** RACK.xmit_ts and RACK.end_seq of the most recently sent segment delivered (xmitTs -1: none yet). */
  xmitTs = -1;
  endSeq = 0;
  /** That segment was a retransmission. */
  xmitIsRtx = false;
  /** RACK.rtt: the RTT of that segment. */
  rtt = 0;
  /** RACK.min_RTT (Infinity: no sample): the least RTT of the last MIN_RTT_WINDOW_MS. */
  minRtt = Infinity;
  readonly minRttFilter = new WindowedMin(MIN_RTT_WINDOW_MS);
  /** RACK.fack: the highest sequence delivered. */
  fack = 0;
  /** The ACK being processed carried SACK blocks; RACK.fack before them (priorFackKnown: there was one). */
  ackSacked = false;
  /** The cumulative ACK of that ACK (onCumulativeAck for the same ACK follows with it). */
  sackAck = 0;
  priorFackKnown = false;
  priorFack = 0;
  reorderingSeen = false;
  reoWndMult = 1;
  reoWndPersist = 0;
  /** RACK.dsack_round: SND.NXT when a D-SACK last grew the window (NONE: none open). */
  dsackRound = NONE;
  /** SND.MAX when the last RTO fired: "RTO recovery" until SND.UNA passes it (NONE: none). */
  rtoRecoveryPoint = NONE;
  /** In that RTO recovery the sender resends only what is marked lost (6.3; false: go-back-N). */
  rtoResendsLost = false;
}

/** RACK's variables with the transmit log. */
class RackState extends RackVars {
  readonly log = new RackLog();
  stampBase = -1;
  stampN = 0;
}

/** RFC 8985 6 over the SACK scoreboard; the tail loss probe works with it as with RFC 6675. */
export class RackRecovery extends SackRecovery {
  /** The transmit log and RACK's variables, made at the first data sent. */
  private state: RackState | null = null;
  /** markLostOnRto()'s end of the lost prefix for the onRetransmitTimeout() that follows (NONE: go-back-N). */
  private rtoLostTo = NONE;

  /**
   * A transmit time that orders every transmission (RACK_sent_after() needs the order, and
   * the clock has millisecond steps): `now` plus 2^-20 ms per transmission already stamped
   * at the same `now`.
   */
  private stamp(now: number): number {
    const st = this.state as RackState;
    if (st.stampBase !== now) {
      st.stampBase = now;
      st.stampN = 0;
    }
    return now + st.stampN++ * STAMP_STEP;
  }

  private get log(): RackLog | null {
    return this.state === null ? null : this.state.log;
  }

  private get vars(): RackVars | null {
    return this.state;
  }

  private get timers(): TcpTimers {
    return this.snd.timers;
  }

  /** RACK reads losses from time: the DupThresh rule is off. */
  protected override newScoreboard(): SackScoreboard {
    const board = new SackScoreboard(this.snd.mss);
    board.dupThreshRule = false;
    return board;
  }

  /** RFC 8985 6.2 step 4's window now (ms), for tests and /connections. */
  reoWnd(): number {
    const v = this.vars;
    if (v === null || v.minRtt === Infinity) return 0;
    if (!v.reorderingSeen) {
      const snd = this.snd;
      if (snd.inRecovery || v.rtoRecoveryPoint !== NONE) return 0;
      if (this.board !== null && this.board.sackedBytes >= DUP_THRESH * snd.mss) return 0;
    }
    const w = v.reoWndMult * Math.max(v.minRtt / 4, REO_WND_MIN_MS);
    const srtt = this.snd.rtt.srtt;
    if (!(srtt > 0)) return w;
    const cap = srtt > REO_WND_MIN_MS ? srtt : REO_WND_MIN_MS;
    return w < cap ? w : cap;
  }

  /** reo_wnd_mult (RFC 8985 6.2 step 4), 1 until a D-SACK was seen. */
  get reoWndMult(): number {
    return this.vars === null ? 1 : this.vars.reoWndMult;
  }

  /** RACK.min_RTT (Infinity before a sample). */
  get minRtt(): number {
    return this.vars === null ? Infinity : this.vars.minRtt;
  }

  /** Reordering was seen on this connection (6.2 step 3; Linux's reord_seen). */
  get reorderingSeen(): boolean {
    return this.vars !== null && this.vars.reorderingSeen;
  }

  override onSent(seq: number, len: number, now: number): void {
    if (len <= 0) return;
    const state = (this.state ??= new RackState());
    // 6.3's resend of the lost prefix: retransmissions (the originals after it stay logged).
    const kept = state.rtoResendsLost && seqLt(seq, this.snd.sndMax)
      ? state.log.addRetransmission(seq, seqAdd(seq, len), this.stamp(now))
      : state.log.addOriginal(seq, seqAdd(seq, len), this.stamp(now));
    if (!kept) this.counters[C.tcp_rack_log_overflows]++;
  }

  /** The transmit log judges every retransmission by time until it is delivered, across recoveries. */
  override inFlightRetransmissionEnd(seq: number): number {
    const log = this.log;
    return log === null ? seq : log.retransmittedEnd(seq, true);
  }

  override onRetransmit(seq: number, len: number, now: number): void {
    if (this.state !== null && !this.state.log.addRetransmission(seq, seqAdd(seq, Math.max(1, len)), this.stamp(now))) {
      this.counters[C.tcp_rack_log_overflows]++;
    }
  }

  override onSackBlocks(blocks: Uint32Array, count: number, ack: number, now: number): number {
    const board = this.scoreboard();
    const m = Math.min(count, blocks.length >>> 1, BLOCK_WAS_NEW.length);
    for (let i = 0; i < m; i++) BLOCK_WAS_NEW[i] = board.isSacked(seqSub(blocks[2 * i + 1], 1) >>> 0) ? 0 : 1;
    const dsacks = board.dsackBlocks;
    const newly = super.onSackBlocks(blocks, count, ack, now);
    const v = this.vars;
    if (v === null || this.log === null) return newly;
    if (board.dsackBlocks > dsacks) this.dsackSeen(v);
    v.ackSacked = true;
    v.sackAck = ack;
    v.priorFackKnown = v.xmitTs >= 0;
    v.priorFack = v.fack;
    for (let i = 0; i < m; i++) {
      const r = blocks[2 * i + 1];
      if (BLOCK_WAS_NEW[i] === 0 || !seqGt(r, this.snd.sndUna)) continue;
      this.deliveredOriginal(v, seqSub(r, 1) >>> 0, r, now, true);
    }
    this.deliveredRetransmissions(v, now);
    return newly;
  }

  override onCumulativeAck(ack: number, now: number): void {
    const log = this.log;
    const v = this.vars;
    if (log !== null && v !== null) {
      // Step 3's reordering: the ACK filled a hole below RACK.fack that no retransmission filled.
      const from = log.start();
      // RACK.fack as it was before this ACK (its SACK blocks were taken first).
      const sameAck = v.ackSacked && v.sackAck === ack;
      const known = sameAck ? v.priorFackKnown : v.xmitTs >= 0;
      const fack = sameAck ? v.priorFack : v.fack;
      v.ackSacked = false;
      if (known && seqLt(from, fack) && this.originalFilled(log, from, seqLt(ack, fack) ? ack : fack)) {
        if (!v.reorderingSeen) this.counters[C.tcp_rack_reordering_seen]++;
        v.reorderingSeen = true;
      }
      this.deliveredOriginal(v, seqSub(ack, 1) >>> 0, ack, now, false);
      this.deliveredRetransmissions(v, now, ack);
      log.advance(ack);
      if (v.dsackRound !== NONE && seqGeq(ack, v.dsackRound)) v.dsackRound = NONE;
      if (v.rtoRecoveryPoint !== NONE && seqGeq(ack, v.rtoRecoveryPoint)) {
        v.rtoRecoveryPoint = NONE;
        v.rtoResendsLost = false;
        this.recoveryEnded(v); // step 4: "exiting Fast or RTO recovery"
      }
    }
    super.onCumulativeAck(ack, now);
    if (ack === this.snd.sndMax) this.timers.clear(T_REORDER);
    // Resending after an RTO (6.3): what this marks lost the sender's output resends.
    else if (v !== null && v.rtoResendsLost) this.detect(now, null);
    // Outside recovery only duplicate ACKs ask lossDetected(): an ACK that moved SND.UNA
    // arms the reorder timer here for holes still waiting (now, if a loss is due), or
    // clears it when the hole it waited for was filled.
    else if (!this.snd.inRecovery && this.detect(now, null)) {
      this.timers.set(T_REORDER, now);
    }
  }

  /** RFC 8985 6.2: DupThresh duplicate ACKs no longer start recovery; a segment marked lost by time does. */
  override lossDetected(now: number): boolean {
    this.detect(now, null);
    // After an RTO (6.3) a loss extends the resend while it goes on; it starts no fast recovery.
    if (this.vars !== null && this.vars.rtoResendsLost && seqLt(this.snd.sndNxt, this.snd.sndMax)) return false;
    return this.board !== null && this.board.isLost(this.snd.sndUna);
  }

  override onExitRecovery(): void {
    super.onExitRecovery();
    if (this.vars !== null) this.recoveryEnded(this.vars);
  }

  /** Step 4: a fast or RTO recovery ended; 16 without a D-SACK return reo_wnd_mult to 1. */
  private recoveryEnded(v: RackVars): void {
    if (v.dsackRound === NONE && --v.reoWndPersist <= 0) {
      v.reoWndPersist = 0;
      v.reoWndMult = 1;
    }
  }

  override detectLoss(now: number, out: SenderTransmit): void {
    this.detect(now, out);
  }

  override onLossTimer(now: number): boolean {
    this.counters[C.tcp_rack_reorder_timeouts]++;
    const marked = this.detect(now, null);
    // In recovery the sender's detectLoss() then resends lost retransmissions too.
    return marked || this.snd.inRecovery || (this.board !== null && this.board.isLost(this.snd.sndUna));
  }

  override onRetransmitTimeout(keepSacked: boolean): void {
    super.onRetransmitTimeout(keepSacked);
    const lostTo = this.rtoLostTo;
    this.rtoLostTo = NONE;
    const v = this.vars;
    const log = this.log;
    if (v !== null && log !== null && lostTo !== NONE) {
      // 6.3: the originals after the lost prefix stay; retransmissions inside it are superseded by the resend.
      this.scoreboard().markLostBefore(lostTo);
      for (let k = log.rtxFirst(); k >= 0; k = log.rtxNext(k)) if (seqLeq(log.rtxEnd(k), lostTo)) log.resolve(k);
      v.rtoResendsLost = true;
    } else {
      log?.clear();
      if (v !== null) v.rtoResendsLost = false;
    }
    if (v !== null) v.rtoRecoveryPoint = this.snd.sndMax;
    this.timers.clear(T_REORDER);
  }

  /**
   * RFC 8985 6.3 (before onRetransmitTimeout()): the first outstanding segment is lost, any
   * other only if its latest transmission is RACK.rtt + reo_wnd old. Sets where the lost
   * prefix ends, or leaves go-back-N when it is everything (or RACK has no RTT sample).
   */
  override markLostOnRto(now: number): void {
    this.rtoLostTo = NONE;
    const log = this.log;
    const v = this.vars;
    // A receiver that reneged (SND.UNA SACKed) gets everything again (Linux tcp_timeout_mark_lost).
    if (log === null || v === null || v.xmitTs < 0 || this.reneged()) return;
    const snd = this.snd;
    const una = snd.sndUna;
    const max = snd.sndMax;
    const wait = v.rtt + this.reoWnd();
    const head = seqLt(seqAdd(una, snd.mss), max) ? seqAdd(una, snd.mss) : max;
    let lostTo = head;
    const first = log.origFind(una);
    // Bytes before the first logged original were forgotten (log overflow): older, lost.
    if (first >= 0 && seqGt(log.origStart(first), lostTo)) lostTo = log.origStart(first);
    let recent = false;
    for (let k = first; k >= 0; k = log.origNext(k)) {
      if (log.origTime(k) + wait - now > STAMP_SLACK) {
        recent = true;
        break;
      }
      if (seqGt(log.origEnd(k), lostTo)) lostTo = log.origEnd(k);
    }
    // Bytes after the last logged original were sent before the log was last emptied (an
    // earlier RTO's go-back-N): old, lost.
    if (!recent) lostTo = max;
    // A retransmission in the prefix sent too recently ends it (its Segment.xmit_ts is that one's).
    for (let k = log.rtxFirst(); k >= 0; k = log.rtxNext(k)) {
      if (log.rtxTime(k) + wait - now <= STAMP_SLACK) continue;
      const s = seqGt(log.rtxStart(k), head) ? log.rtxStart(k) : head;
      if (seqLt(s, lostTo) && seqGt(log.rtxEnd(k), s)) lostTo = s;
    }
    if (seqLt(lostTo, max)) this.rtoLostTo = lostTo;
  }

  /** While resending after an RTO under 6.3: up to what is marked lost; -1 (go-back-N) otherwise. */
  override rtoResendLimit(): number {
    const v = this.vars;
    if (v === null || !v.rtoResendsLost) return -1;
    return this.scoreboard().lostUpTo(this.snd.sndUna);
  }

  /**
   * Step 3 for a cumulative ACK: some byte of [from, to) was neither retransmitted nor
   * SACKed, so its original transmission is what the ACK delivered. Every such segment
   * counts (RFC 8985: "for each Segment newly acknowledged"), not only the first: when the
   * hole's first segment was retransmitted at once (reo_wnd 0 before any reordering),
   * the rest of it coming in late is the reordering to see.
   */
  private originalFilled(log: RackLog, from: number, to: number): boolean {
    const board = this.board;
    let p = from >>> 0;
    while (seqLt(p, to)) {
      let q = log.retransmittedEnd(p);
      if (q === p && board !== null) q = board.sackedEnd(p);
      if (q === p) return true;
      p = q;
    }
    return false;
  }

  /** Step 4: a D-SACK grows the window once per round trip. */
  private dsackSeen(v: RackVars): void {
    if (v.dsackRound !== NONE && seqGeq(this.snd.sndUna, v.dsackRound)) v.dsackRound = NONE;
    if (v.dsackRound !== NONE) return;
    v.dsackRound = this.snd.sndNxt;
    if (v.reoWndMult < REO_WND_MULT_MAX) v.reoWndMult++;
    v.reoWndPersist = REO_WND_PERSIST;
  }

  /**
   * Steps 2–3 for the original transmission holding byte `seq` (delivered up to `end`);
   * `sacked`: a new SACK block's top (below RACK.fack it shows reordering; the cumulative
   * ACK's is checked by onCumulativeAck at the hole it filled).
   */
  private deliveredOriginal(v: RackVars, seq: number, end: number, now: number, sacked: boolean): void {
    const log = this.log;
    if (log === null) return;
    const ts = log.originalTime(seq);
    if (ts < 0) return;
    if (sacked && v.priorFackKnown && seqLt(end, v.priorFack) && !log.wasRetransmitted(seq)) {
      if (!v.reorderingSeen) this.counters[C.tcp_rack_reordering_seen]++;
      v.reorderingSeen = true;
    }
    if (log.wasRetransmitted(seq)) return; // ambiguous: the retransmission's entry speaks for it
    this.delivered(v, ts, end, now, false);
  }

  /**
   * Steps 2–3 for the logged retransmissions: one wholly ACKed (below `ack`) or SACKed (one
   * block covers it) is resolved; a run SACKed in part counts as delivered up to the top of
   * what is SACKed inside it (the rest of the run may still be lost).
   */
  private deliveredRetransmissions(v: RackVars, now: number, ack = this.snd.sndUna): void {
    const log = this.log;
    const board = this.board;
    if (log === null) return;
    for (let k = log.rtxFirst(); k >= 0; k = log.rtxNext(k)) {
      const s = log.rtxStart(k);
      const e = log.rtxEnd(k);
      if (seqLeq(e, ack)) {
        log.resolve(k);
        // Step 2: an ACK echoing a TSval older than the retransmission's was sent for what
        // filled the hole before it, the original (TS.Recent is the TSval of the segment
        // that filled the hole, RFC 7323 4.3). SACKed segments do not update TS.Recent, so
        // the rule is for cumulative ACKs only.
        const tsEcr = this.snd.ackTsEcr;
        if (tsEcr < 0 || tsEcr >= Math.floor(log.rtxTime(k))) this.delivered(v, log.rtxTime(k), e, now, true);
        continue;
      }
      // Wholly SACKed (from the cumulative ACK on): one block covers it. Its first and last
      // bytes SACKed are not enough, a segment between may be lost again.
      if (board !== null && !seqLt(board.sackedEnd(seqLt(s, ack) ? ack : s), e)) {
        log.resolve(k);
        this.delivered(v, log.rtxTime(k), e, now, true);
        continue;
      }
      // Delivered up to the top of what is SACKed inside the run (a segment in its middle
      // counts: those before it in the run were sent before it).
      const top = board === null ? s : board.sackedTopIn(s, e);
      // Only a delivery further into the run than counted before (RFC 8985: segments newly
      // SACKed): the same SACKed top on a later ACK would count again at a resend's time.
      if (seqGt(top, s) && log.deliveredTo(k, top)) {
        this.delivered(v, log.rtxTime(k), top, now, true);
      }
    }
  }

  /** RFC 8985 6.2 steps 2 and 3 for one delivered segment sent at `ts` ending at `end`. */
  private delivered(v: RackVars, ts: number, end: number, now: number, retransmitted: boolean): void {
    const rtt = now > ts ? now - ts : 0;
    if (retransmitted && rtt < v.minRtt) return; // step 2: the original's ACK, most likely
    v.minRtt = v.minRttFilter.update(now, rtt);
    if (seqGt(end, v.fack) || v.xmitTs < 0) v.fack = end;
    if (v.xmitTs < 0 || ts > v.xmitTs || (ts === v.xmitTs && seqGt(end, v.endSeq))) {
      v.xmitTs = ts;
      v.endSeq = end;
      v.rtt = rtt;
      v.xmitIsRtx = retransmitted;
    }
  }

  /**
   * RFC 8985 6.2 step 5: marks lost what was sent before RACK's segment and has waited
   * RACK.rtt + reo_wnd; resends lost retransmissions (with `out`); arms or clears the
   * reorder timer for what is still waiting. True when it marked bytes lost.
   */
  private detect(now: number, out: SenderTransmit | null): boolean {
    const log = this.log;
    const v = this.vars;
    if (log === null || v === null || v.xmitTs < 0) return false;
    const snd = this.snd;
    const board = this.scoreboard();
    const reoWnd = this.reoWnd();
    const wait = v.rtt + reoWnd;
    let timeout = Infinity;
    // Originals: in sequence order and in time order; those lost form a prefix.
    const lostFrom = board.lostUpTo(snd.sndUna);
    let lostTo = lostFrom;
    for (let k = log.origFind(lostFrom); k >= 0; k = log.origNext(k)) {
      const ts = log.origTime(k);
      let end = log.origEnd(k);
      if (ts > v.xmitTs) break;
      if (ts === v.xmitTs) {
        // The same transmission (a TSO chunk) as RACK's segment: only the bytes below it.
        if (!seqLt(log.origStart(k), v.endSeq)) break;
        if (seqGt(end, v.endSeq)) end = v.endSeq;
      }
      const remaining = ts + wait - now;
      if (remaining > STAMP_SLACK) {
        timeout = remaining;
        break;
      }
      lostTo = end;
    }
    const marked = seqGt(lostTo, lostFrom);
    if (marked) {
      this.counters[C.tcp_rack_marked_lost]++;
      board.markLostBefore(lostTo);
    }
    // Retransmissions: each is its own segment in time.
    for (let k = log.rtxFirst(); k >= 0; k = log.rtxNext(k)) {
      const ts = log.rtxTime(k);
      const runEnd = log.rtxEnd(k);
      let e = runEnd;
      // RACK_sent_after(): the same time only within one run, by sequence number. RACK's
      // segment inside this run: only the part of the run below it is judged now.
      if (ts > v.xmitTs || (ts === v.xmitTs && !seqLt(log.rtxStart(k), v.endSeq))) continue;
      if (ts === v.xmitTs && seqGt(e, v.endSeq)) e = v.endSeq;
      // One sent in this very millisecond is not judged yet (with reo_wnd 0 it would be
      // lost as soon as it went out), but the timer is armed for the next: when the ACKs
      // stop here, nothing else would judge it before the RTO.
      const judged = Math.floor(ts) + 1;
      const remaining = (ts + wait > judged ? ts + wait : judged) - now;
      if (remaining > STAMP_SLACK) {
        if (remaining < timeout) timeout = remaining;
        continue;
      }
      if (out === null) continue;
      // Nothing of the judged part left to send: the run is done with only if that part was
      // all of it (the rest of a run cut at RACK's segment waits for a later delivery).
      if (!resendUnsacked(this.snd, this.board, this.counters, log.rtxStart(k), e, now, out)) {
        if (e === runEnd) log.resolve(k);
      } else log.retimed(k, this.stamp(now));
    }
    if (timeout === Infinity) this.timers.clear(T_REORDER);
    else this.timers.set(T_REORDER, now + timeout);
    return marked;
  }
}
