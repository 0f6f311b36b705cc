/**
 * Lost-retransmission detection (src/tcp/recovery/lost-retransmit.ts): a retransmission
 * is lost when data sent DupThresh segments after it is SACKed while it is not; it is sent
 * again at once. Also across recoveries: what the previous recovery remembered must not
 * hide (or be resent instead of) what this one retransmits.
 */
import { describe, expect, it } from 'vitest';
import { C, newCounters } from '../../../../src/base/counters.js';
import { LostRetransmits } from '../../../../src/tcp/recovery/lost-retransmit.js';
import type { RecoverySender } from '../../../../src/tcp/recovery/loss-recovery.js';
import { SackScoreboard } from '../../../../src/tcp/sack-scoreboard.js';
import { SendBuffer } from '../../../../src/tcp/send-buffer.js';
import type { SenderTransmit } from '../../../../src/tcp/sender.js';

const MSS = 1000;

/** A sender at SND.UNA = 0 holding `bytes`, with SND.MAX settable; and what it transmits. */
function setup(bytes: number) {
  const buf = new SendBuffer(1 << 20);
  buf.write(new Uint8Array(bytes));
  const snd = { sndUna: 0, sndNxt: bytes, sndMax: bytes, mss: MSS, buf } as unknown as RecoverySender & { sndMax: number; sndUna: number };
  const board = new SackScoreboard(MSS);
  const counters = newCounters();
  const sent: number[] = [];
  const out = { transmitData: (seq: number) => (sent.push(seq), true) } as unknown as SenderTransmit;
  return { snd, board, counters, sent, out, lr: new LostRetransmits(snd, board, counters) };
}

/** SACKs [left, right) on the board (blocks as the peer would send them). */
function sack(board: SackScoreboard, sndMax: number, left: number, right: number): void {
  board.update(0, sndMax, Uint32Array.of(left, right), 1);
}

describe('lost retransmissions', () => {
  it('resends a retransmission once DupThresh segments sent after it are SACKed, and only then', () => {
    const t = setup(20 * MSS);
    t.lr.note(0, MSS); // retransmitted at SND.MAX = 20 000
    sack(t.board, 20 * MSS, 1 * MSS, 20 * MSS);
    t.lr.detect(1, t.out);
    expect(t.sent).toEqual([]); // nothing sent after it has been SACKed yet
    t.snd.sndMax = 25 * MSS; // new data went out after the retransmission
    sack(t.board, 25 * MSS, 20 * MSS, 23 * MSS);
    t.lr.detect(2, t.out);
    expect(t.sent).toEqual([0]);
    expect(t.counters[C.tcp_lost_retransmits]).toBe(1);
  });

  it('after clear() (a new recovery) the new retransmission is the one watched, not a stale one', () => {
    const t = setup(40 * MSS);
    // An earlier recovery retransmitted five segments, then ended.
    for (let k = 0; k < 5; k++) t.lr.note(k * MSS, MSS);
    t.lr.clear();
    t.board.clear();
    // This recovery retransmits the segment at 30 000 (sent at SND.MAX 40 000) and it is lost.
    t.lr.note(30 * MSS, MSS);
    t.snd.sndMax = 45 * MSS;
    sack(t.board, 45 * MSS, 31 * MSS, 45 * MSS);
    t.lr.detect(1, t.out);
    expect(t.sent).toEqual([30 * MSS]);
  });
});

describe('lost retransmissions remembered as runs', () => {
  it('45 consecutive retransmissions at one SND.MAX are one run: the 4th, lost, is found after 44 more were noted', () => {
    const t = setup(100 * MSS);
    for (let k = 0; k < 45; k++) t.lr.note(k * MSS, MSS);
    t.snd.sndMax = 105 * MSS;
    // Everything but the 4th arrived, and new data sent after the retransmissions.
    sack(t.board, 105 * MSS, 4 * MSS, 104 * MSS);
    t.snd.sndUna = 3 * MSS;
    t.board.advance(3 * MSS);
    t.lr.detect(1, t.out);
    expect(t.sent).toEqual([3 * MSS]);
    expect(t.counters[C.tcp_lost_retransmits]).toBe(1);
    // Once it arrives the run is resolved: nothing more is sent.
    t.snd.sndUna = 104 * MSS;
    t.board.advance(104 * MSS);
    t.snd.sndMax = 110 * MSS;
    t.lr.detect(2, t.out);
    expect(t.sent).toEqual([3 * MSS]);
  });

  it('a retransmission at another SND.MAX or not contiguous starts a new run', () => {
    const t = setup(110 * MSS);
    t.snd.sndMax = 100 * MSS;
    t.lr.note(0, MSS);
    t.lr.note(2 * MSS, MSS); // not contiguous
    t.snd.sndMax = 104 * MSS;
    t.lr.note(3 * MSS, MSS); // contiguous but sent after new data
    // Three segments sent after the first two are SACKed, not yet three after the third.
    sack(t.board, 104 * MSS, 4 * MSS, 103 * MSS);
    t.lr.detect(1, t.out);
    expect(t.sent).toEqual([0, 2 * MSS]);
  });
});
