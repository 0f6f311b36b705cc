/**
 * Lost retransmissions during SACK recovery, which RFC 6675 cannot see (they would wait
 * for the RTO). Like Linux's tcp_mark_lost_retrans before RACK, and RFC 8985 6.2's rule
 * applied to retransmissions: a retransmission is lost when data sent after it, DupThresh
 * segments' worth beyond the SND.MAX it was sent at, has been SACKed while it is neither
 * ACKed nor SACKed. It is sent again at once (Linux tcp_lost_retransmits).
 *
 * Retransmissions are remembered as runs: consecutive retransmissions sent at the same
 * SND.MAX (NextSeg walking a burst loss segment by segment) extend one run, so a whole
 * lost GRO aggregate (~45 segments against a Linux receiver) is one entry. Bounded: the
 * last RUNS_TRACKED runs of the recovery are remembered (a ring); older ones fall back to
 * the RTO. (A ring of single retransmissions, 32 long, forgot the early ones of a 45-segment
 * burst before the SACKs could show them lost: every RTO of a lossy lab download.)
 */
import { C, type Counters } from '../../base/counters.js';
import { TCP_PSH } from '../../wire/tcp.js';
import type { SackScoreboard } from '../sack-scoreboard.js';
import type { SenderTransmit } from '../sender.js';
import { seqAdd, seqGeq, seqLt, seqSub } from '../seq.js';
import { DUP_THRESH, type RecoverySender } from './loss-recovery.js';

/** Runs of retransmissions remembered per recovery. */
export const RUNS_TRACKED = 32;
/** A slot whose retransmissions all arrived (not a valid u32 sequence number). */
const RESOLVED = -1;

/** The retransmissions of the current SACK recovery, and the rule that finds them lost. */
export class LostRetransmits {
  /**
   * Per run: first and end sequence number ([start, end); start RESOLVED once all of it
   * arrived) and SND.MAX when it was (last) sent; made at the first retransmission (most
   * connections have none).
   */
  private runs: Float64Array | null = null;
  private count = 0;
  private next = 0;
  /** The slot of the run the last retransmission went into (-1: none since clear()). */
  private last = -1;

  constructor(
    private readonly snd: RecoverySender,
    private readonly board: SackScoreboard,
    private readonly counters: Counters,
  ) {}

  /** Forgets the retransmissions (recovery starts or ends, or the RTO fired). */
  clear(): void {
    this.count = 0;
    this.next = 0; // the slots 0..count-1 are the ones detect() reads
    this.last = -1;
  }

  /** Remembers a retransmission of `len` bytes at `seq`, sent now (at the current SND.MAX). */
  note(seq: number, len: number): void {
    const runs = (this.runs ??= new Float64Array(3 * RUNS_TRACKED));
    const sndMax = this.snd.sndMax;
    const end = seqAdd(seq, Math.max(1, len));
    const j = this.last;
    if (j >= 0 && runs[3 * j] !== RESOLVED && runs[3 * j + 1] === seq && runs[3 * j + 2] === sndMax) {
      runs[3 * j + 1] = end;
      return;
    }
    const i = this.next;
    this.next = (i + 1) % RUNS_TRACKED;
    runs[3 * i] = seq >>> 0;
    runs[3 * i + 1] = end;
    runs[3 * i + 2] = sndMax;
    this.last = i;
    if (this.count < RUNS_TRACKED) this.count++;
  }

  /** Sends again, at once, every remembered retransmission the SACKs now show lost. */
  detect(now: number, out: SenderTransmit): void {
    const runs = this.runs;
    if (this.count === 0 || runs === null) return;
    const snd = this.snd;
    const hi = this.board.highestSacked(snd.sndUna);
    const margin = DUP_THRESH * snd.mss;
    for (let k = 0; k < this.count; k++) {
      const start = runs[3 * k];
      if (start === RESOLVED) continue;
      const end = runs[3 * k + 1];
      if (seqGeq(snd.sndUna, end)) {
        runs[3 * k] = RESOLVED; // it all arrived
        continue;
      }
      if (seqSub(hi, runs[3 * k + 2]) < margin) continue;
      // Lost: every piece of the run neither ACKed nor SACKed goes again.
      runs[3 * k + 2] = snd.sndMax;
      if (!resendUnsacked(snd, this.board, this.counters, start, end, now, out)) runs[3 * k] = RESOLVED;
    }
  }

}

/**
 * Sends again every MSS-sized piece of [start, end) that is neither ACKed nor SACKed (no
 * scoreboard: nothing is SACKed), no more than the send buffer holds of each; counted in
 * tcp_lost_retransmits (and tcp_retransmits when it went out). Returns false when nothing
 * was left to send. Shared by LostRetransmits and RACK (./rack.ts).
 */
export function resendUnsacked(
  snd: RecoverySender, board: SackScoreboard | null, counters: Counters, start: number, end: number, now: number, out: SenderTransmit,
): boolean {
  let any = false;
  for (let s = seqLt(start, snd.sndUna) ? snd.sndUna : start; seqLt(s, end);) {
    const len = Math.min(snd.mss, seqSub(end, s));
    if (board === null || !board.isSacked(s)) {
      any = true;
      const off = seqSub(s, snd.sndUna);
      const n = Math.min(len, snd.buf.length - off);
      counters[C.tcp_lost_retransmits]++;
      if (n > 0 && out.transmitData(s, TCP_PSH, off, n, now)) counters[C.tcp_retransmits]++;
    }
    s = seqAdd(s, len);
  }
  return any;
}
