/**
 * Lost retransmissions during SACK recovery, which RFC 6675 cannot see (they would wait
 * for the RTO). Like Linux's tcp_mark_lost_retrans before RACK, and RFC 8985 6.2's rule
 * applied to a single segment: a retransmission is lost when data sent after it, DupThresh
 * segments' worth beyond the SND.MAX it was sent at, has been SACKed while it is neither
 * ACKed nor SACKed. It is sent again at once (Linux tcp_lost_retransmits).
 *
 * Bounded: the last RETRANSMITS_TRACKED retransmissions of the recovery are remembered
 * (a ring); older ones fall back to the RTO.
 */
import { C, type Counters } from '../../base/counters.js';
import { TCP_PSH } from '../../wire/tcp.js';
import type { SackScoreboard } from '../sack-scoreboard.js';
import type { SenderTransmit } from '../sender.js';
import { seqLt, seqSub } from '../seq.js';
import { DUP_THRESH, type RecoverySender } from './loss-recovery.js';

/** Retransmissions remembered per recovery. */
export const RETRANSMITS_TRACKED = 32;
/** A slot whose retransmission arrived (not a valid u32 sequence number). */
const RESOLVED = -1;

/** The retransmissions of the current SACK recovery, and the rule that finds them lost. */
export class LostRetransmits {
  /**
   * First sequence number of each retransmission (RESOLVED once it arrived), and SND.MAX
   * when each was (last) sent; made at the first retransmission (most connections have none).
   */
  private seqs: Float64Array | null = null;
  private sentAtMax: Float64Array | null = null;
  private count = 0;
  private next = 0;

  constructor(
    private readonly snd: RecoverySender,
    private readonly board: SackScoreboard,
    private readonly counters: Counters,
  ) {}

  /** Forgets the retransmissions (recovery starts or ends, or the RTO fired). */
  clear(): void {
    this.count = 0;
    this.next = 0; // the slots 0..count-1 are the ones detect() reads
  }

  /** Remembers a retransmission starting at `seq`, sent now (at the current SND.MAX). */
  note(seq: number): void {
    const i = this.next;
    this.next = (i + 1) % RETRANSMITS_TRACKED;
    this.seqs ??= new Float64Array(RETRANSMITS_TRACKED);
    this.sentAtMax ??= new Float64Array(RETRANSMITS_TRACKED);
    this.seqs[i] = seq;
    this.sentAtMax[i] = this.snd.sndMax;
    if (this.count < RETRANSMITS_TRACKED) this.count++;
  }

  /** Sends again, at once, every remembered retransmission the SACKs now show lost. */
  detect(now: number, out: SenderTransmit): void {
    const seqs = this.seqs;
    const sentAtMax = this.sentAtMax;
    if (this.count === 0 || seqs === null || sentAtMax === null) return;
    const snd = this.snd;
    const hi = this.board.highestSacked(snd.sndUna);
    const margin = DUP_THRESH * snd.mss;
    for (let k = 0; k < this.count; k++) {
      const seq = seqs[k];
      if (seq === RESOLVED) continue;
      if (seqLt(seq, snd.sndUna) || this.board.isSacked(seq)) {
        seqs[k] = RESOLVED; // it arrived
        continue;
      }
      if (seqSub(hi, sentAtMax[k]) < margin) continue;
      this.counters[C.tcp_lost_retransmits]++;
      sentAtMax[k] = snd.sndMax;
      const off = seqSub(seq, snd.sndUna);
      const len = Math.min(snd.mss, snd.buf.length - off);
      if (len > 0 && out.transmitData(seq, TCP_PSH, off, len, now)) this.counters[C.tcp_retransmits]++;
    }
  }
}
