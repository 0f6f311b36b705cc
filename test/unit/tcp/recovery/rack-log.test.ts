/**
 * RFC 8985 6.1 (Segment.xmit_ts of retransmissions) in RACK's transmit log
 * (src/tcp/recovery/rack-log.ts): which retransmissions share a run, and what happens when
 * more runs are outstanding than the ring first holds.
 */
import { describe, expect, it } from 'vitest';
import { RackLog, RETRANSMISSIONS_MAX, RETRANSMISSIONS_TRACKED } from '../../../../src/tcp/recovery/rack-log.js';

const SEG = 1448;
/** Two transmissions stamped at the same `now` (RackRecovery adds 2^-20 ms per transmission). */
const SAME_NOW = 2 ** -20;

describe('RFC 8985 6.1: transmit times of retransmissions', () => {
  it('retransmissions back to back at one instant share a run and its time; one sent later starts a run with its own time', () => {
    const log = new RackLog();
    log.addOriginal(0, 10 * SEG, 100);
    log.addRetransmission(0, SEG, 110);
    log.addRetransmission(SEG, 2 * SEG, 110 + SAME_NOW);
    // 0.5 ms later (the next ACK's turn), the next segment: sent then, not at 110.
    log.addRetransmission(2 * SEG, 3 * SEG, 110.5);
    const runs: Array<[number, number, number]> = [];
    for (let k = log.rtxFirst(); k >= 0; k = log.rtxNext(k)) runs.push([log.rtxStart(k), log.rtxEnd(k), log.rtxTime(k)]);
    expect(runs).toEqual([[0, 2 * SEG, 110], [2 * SEG, 3 * SEG, 110.5]]);
  });

  it('a full ring of unresolved runs grows (to RETRANSMISSIONS_MAX) instead of forgetting one; resolved runs make room first', () => {
    const log = new RackLog();
    log.addOriginal(0, 1000 * SEG, 0);
    for (let i = 0; i < RETRANSMISSIONS_TRACKED + 1; i++) expect(log.addRetransmission(2 * i * SEG, (2 * i + 1) * SEG, i)).toBe(true);
    let n = 0;
    for (let k = log.rtxFirst(); k >= 0; k = log.rtxNext(k)) n++;
    expect(n).toBe(RETRANSMISSIONS_TRACKED + 1);
    expect(log.wasRetransmitted(0)).toBe(true);
    // Everything below 2·RETRANSMISSIONS_MAX segments ACKed: those runs are resolved and their room reused.
    log.advance(2 * (RETRANSMISSIONS_TRACKED + 1) * SEG);
    for (let i = 0; i < RETRANSMISSIONS_MAX; i++) {
      const seq = (2 * (RETRANSMISSIONS_TRACKED + 1) + 2 * i) * SEG;
      expect(log.addRetransmission(seq, seq + SEG, 1000 + i)).toBe(true);
    }
    // One more than the ring can ever hold: the oldest is forgotten, and that is reported.
    expect(log.addRetransmission(990 * SEG, 991 * SEG, 5000)).toBe(false);
  });

  it('a full ring with runs resolved in its middle packs the others to the front, oldest first, and takes the new one after them', () => {
    const log = new RackLog();
    log.addOriginal(0, 1000 * SEG, 0);
    for (let i = 0; i < RETRANSMISSIONS_TRACKED; i++) log.addRetransmission(2 * i * SEG, (2 * i + 1) * SEG, i);
    for (let k = 0; k < RETRANSMISSIONS_TRACKED; k += 2) log.resolve(k);
    expect(log.addRetransmission(900 * SEG, 901 * SEG, 500)).toBe(true);
    const runs: Array<[number, number]> = [];
    for (let k = log.rtxFirst(); k >= 0; k = log.rtxNext(k)) runs.push([log.rtxStart(k), log.rtxTime(k)]);
    const expected: Array<[number, number]> = [];
    for (let i = 1; i < RETRANSMISSIONS_TRACKED; i += 2) expected.push([2 * i * SEG, i]);
    expected.push([900 * SEG, 500]);
    expect(runs).toEqual(expected);
  });
});
