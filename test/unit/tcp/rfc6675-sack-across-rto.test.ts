/**
 * The SACK scoreboard across a retransmission timeout: RFC 6675 5.1 (RFC 2018 8 lets the
 * receiver renege, so the sender may keep SACK information across an RTO only with a test
 * for reneging, Errata 1610) as Linux does it (`tcp_timeout_mark_lost()`: SACKed segments
 * are not marked lost and not resent, unless the segment at SND.UNA is SACKed — the receiver
 * reneged — which clears every SACKed mark; `tcp_check_sack_reneging()`: an ACK that moves
 * SND.UNA onto a SACKed segment brings the RTO forward to max(SRTT / 2, 10 ms)).
 *
 * A scripted receiver (test/helpers/tcp-peer.ts) holds what reached it byte by byte and
 * answers each round of our segments with one ACK: the cumulative ACK and up to three SACK
 * blocks, as a Linux receiver reports them. Virtual clock, RTT 10 ms, RTO 200 ms, tail loss
 * probes off (the T_RTO slot holds the RTO itself).
 */
import { describe, expect, it } from 'vitest';
import type { SackRecovery } from '../../../src/tcp/recovery/sack-recovery.js';
import { seqAdd, seqSub } from '../../../src/tcp/seq.js';
import { T_RTO } from '../../../src/tcp/timers.js';
import { patternBytes } from '../../helpers/frames.js';
import { TcpPeer, type OutSegment } from '../../helpers/tcp-peer.js';

const MSS = 1460;
const SEG = MSS - 12;
const SACK_TS = { mss: MSS, wscale: 7, sackPermitted: true, timestamps: true, rtt: 10 };
const RECOVERIES = ['rack', 'rfc6675'] as const;

/** The receiving end: the bytes that reached it, and the ACK it sends for them. */
class ScriptedReceiver {
  readonly got: Uint8Array;
  readonly have: Uint8Array;
  /** Offsets (from the first data byte) of every data segment received, in order. */
  readonly offsets: number[] = [];

  constructor(readonly p: TcpPeer, readonly base: number, total: number) {
    this.got = new Uint8Array(total);
    this.have = new Uint8Array(total);
  }

  /** Takes the data segments for which `arrives(offset)` is true. */
  receive(segs: OutSegment[], arrives: (off: number) => boolean = () => true): void {
    for (const s of segs) {
      if (s.payload.length === 0) continue;
      const off = seqSub(s.seq, this.base);
      this.offsets.push(off);
      if (!arrives(off)) continue;
      this.got.set(s.payload, off);
      this.have.fill(1, off, off + s.payload.length);
    }
  }

  /** The first byte not received (the cumulative ACK's offset). */
  cumulative(): number {
    const i = this.have.indexOf(0);
    return i < 0 ? this.have.length : i;
  }

  /** Forgets everything above the cumulative ACK (RFC 2018 8: the receiver reneges). */
  renege(): void {
    this.have.fill(0, this.cumulative());
  }

  /** Sends the ACK: cumulative, and the received ranges above it as SACK blocks (at most 3, highest first). */
  ack(): void {
    const blocks: Array<[number, number]> = [];
    let i = this.cumulative();
    while (i < this.have.length) {
      while (i < this.have.length && this.have[i] === 0) i++;
      const l = i;
      while (i < this.have.length && this.have[i] === 1) i++;
      if (i > l) blocks.push([seqAdd(this.base, l), seqAdd(this.base, i)]);
    }
    const sack = blocks.reverse().slice(0, 3);
    const ack = seqAdd(this.base, this.cumulative());
    this.p.sendAck(sack.length > 0 ? { ack, options: { sack } } : { ack });
  }

  /** Rounds: our segments arrive (all of them), 10 ms later one ACK; until we send nothing. Returns the offsets sent. */
  rounds(max = 30): number[] {
    const sent: number[] = [];
    for (let r = 0; r < max; r++) {
      const out = this.p.takeAll().filter((s) => s.payload.length > 0);
      if (out.length === 0) break;
      for (const s of out) sent.push(seqSub(s.seq, this.base));
      this.receive(out);
      this.p.advance(10);
      this.ack();
    }
    return sent;
  }
}

function setup(recovery: (typeof RECOVERIES)[number], segments: number) {
  const p = new TcpPeer({ tcp: { recovery, tailLossProbe: false } });
  const { conn } = p.passiveOpen(SACK_TS);
  const sack = (conn.snd as unknown as { sackRecovery: SackRecovery }).sackRecovery;
  // One segment ACKed 10 ms later: RACK.min_RTT 10 ms, as on a path that has carried data.
  conn.send(new Uint8Array(100));
  p.flush();
  p.takeAll();
  p.advance(10);
  p.sendAck({ ack: conn.snd.sndNxt });
  const data = patternBytes(segments * SEG, 11);
  conn.snd.cc.cwnd = segments * SEG;
  const base = conn.snd.sndNxt;
  conn.send(data);
  p.flush();
  const first = p.takeAll();
  expect(first.filter((s) => s.payload.length > 0)).toHaveLength(segments);
  const rx = new ScriptedReceiver(p, base, data.length);
  return { p, conn, sack, data, first, rx, t0: p.now };
}

describe('RFC 6675 5.1 / Linux tcp_timeout_mark_lost: SACKed data is kept across an RTO', () => {
  for (const recovery of RECOVERIES) {
    it(`${recovery}: an RTO with SACKed data above the holes resends only the holes; cwnd goes to one segment; byte-exact`, () => {
      const { p, conn, sack, data, first, rx, t0 } = setup(recovery, 10);
      // Only segments 5 and 6 get through; their SACK comes just before the RTO (a slow ACK path).
      rx.receive(first, (off) => off === 5 * SEG || off === 6 * SEG);
      p.advance(199);
      rx.ack();
      expect(p.takeAll()).toEqual([]);
      expect(p.counter('tcp_rto_timeouts')).toBe(0);
      p.advanceTo(conn.timers.deadline(T_RTO));
      expect(p.now).toBe(t0 + 200);
      expect(p.counter('tcp_rto_timeouts')).toBe(1);
      expect(conn.snd.cc.cwnd).toBe(SEG); // RFC 5681 3.1: one segment after an RTO, as before
      expect(sack.isSacked(seqAdd(rx.base, 5 * SEG))).toBe(true);
      const resent = rx.rounds();
      expect(resent.map((o) => o / SEG)).toEqual([0, 1, 2, 3, 4, 7, 8, 9]);
      expect(rx.got).toEqual(data);
      expect(conn.snd.sndUna >>> 0).toBe(seqAdd(rx.base, data.length) >>> 0);
      expect(p.counter('tcp_retransmits')).toBe(8);
      expect(p.counter('tcp_rto_timeouts')).toBe(1);
      expect(p.counter('tcp_sack_renegings')).toBe(0);
    });

    it(`${recovery}: a receiver that reneges (the cumulative ACK stops at a SACKed segment, no SACK for it) brings the RTO forward (Linux tcp_check_sack_reneging), which clears the scoreboard and resends everything; byte-exact`, () => {
      const { p, conn, sack, data, first, rx, t0 } = setup(recovery, 6);
      // Segments 3 and 4 get through and are SACKed; 0-2 and 5 are lost.
      rx.receive(first, (off) => off === 3 * SEG || off === 4 * SEG);
      p.advance(199);
      rx.ack();
      p.advanceTo(conn.timers.deadline(T_RTO));
      expect(p.now).toBe(t0 + 200);
      expect(p.counter('tcp_rto_timeouts')).toBe(1);
      expect(p.counter('tcp_sack_renegings')).toBe(0); // SND.UNA itself was not SACKed
      // The receiver drops what it held out of order, then the resends come in.
      rx.renege();
      let sent: number[] = [];
      for (let r = 0; r < 5 && p.counter('tcp_rto_timeouts') === 1; r++) {
        const out = p.takeAll().filter((s) => s.payload.length > 0);
        sent.push(...out.map((s) => seqSub(s.seq, rx.base) / SEG));
        rx.receive(out);
        p.advance(10);
        rx.ack();
        if (sack.isSacked(conn.snd.sndUna)) {
          // SND.UNA moved onto a SACKed segment: the RTO comes max(SRTT / 2, 10 ms) later.
          expect(conn.timers.deadline(T_RTO)).toBe(p.now + 10);
          p.advanceTo(conn.timers.deadline(T_RTO));
        }
      }
      expect(sent).not.toContain(3);
      expect(p.counter('tcp_rto_timeouts')).toBe(2);
      expect(p.counter('tcp_sack_renegings')).toBe(1);
      expect(sack.isSacked(seqAdd(rx.base, 4 * SEG))).toBe(false);
      sent = rx.rounds().map((o) => o / SEG);
      expect(sent).toContain(3);
      expect(sent).toContain(4);
      expect(rx.got).toEqual(data);
      expect(conn.snd.sndUna >>> 0).toBe(seqAdd(rx.base, data.length) >>> 0);
      expect(p.counter('tcp_rto_timeouts')).toBe(2);
    });
  }

  it('newreno (no SACK): an RTO still resends everything outstanding in order (go-back-N), also what the receiver holds', () => {
    const p = new TcpPeer({ tcp: { tailLossProbe: false } });
    const { conn } = p.passiveOpen({ ...SACK_TS, sackPermitted: false });
    const data = patternBytes(6 * SEG, 12);
    conn.snd.cc.cwnd = 6 * SEG;
    const base = conn.snd.sndNxt;
    conn.send(data);
    p.flush();
    const rx = new ScriptedReceiver(p, base, data.length);
    rx.receive(p.takeAll(), (off) => off === 4 * SEG);
    p.advance(199);
    rx.ack();
    p.advanceTo(conn.timers.deadline(T_RTO));
    expect(rx.rounds().map((o) => o / SEG)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rx.got).toEqual(data);
  });
});
