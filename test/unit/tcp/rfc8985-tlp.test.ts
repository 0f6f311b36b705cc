/**
 * RFC 8985 section 7 tail loss probes, and the one rule of section 6.2 this sender uses
 * with them: a delivered probe makes the unSACKed data sent before it lost. Scripted
 * Linux-like peer, virtual clock (test/helpers/tcp-peer.ts).
 *
 * The handshakes below take 10 ms, which gives SRTT = 10 ms, RTO = 200 ms (the floor),
 * PTO = 2·SRTT = 20 ms with more than one segment in flight.
 */
import { describe, expect, it } from 'vitest';
import { TCP_ACK, TCP_PSH, TcpPeer } from '../../helpers/tcp-peer.js';

const MSS = 1460;
/** Payload per segment: the MSS less 12 bytes of timestamp option. */
const SEG = MSS - 12;
const SACK_TS = { mss: MSS, wscale: 7, sackPermitted: true, timestamps: true, rtt: 10 };

function established(tcp: Record<string, unknown> = {}, h: typeof SACK_TS | Omit<typeof SACK_TS, 'sackPermitted'> = SACK_TS) {
  const p = new TcpPeer({ tcp });
  const { conn, rec } = p.passiveOpen(h);
  expect(conn.snd.rtt.srtt).toBe(10);
  expect(conn.snd.rtt.rto).toBe(200);
  return { p, conn, rec };
}

/** Sends `n` full segments from our side and returns their sequence numbers (the peer ACKs nothing). */
function burst(p: TcpPeer, conn: ReturnType<typeof established>['conn'], n: number): number[] {
  conn.send(new Uint8Array(n * SEG));
  p.flush();
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) seqs.push(p.expectSegment({ flags: TCP_ACK | (i === n - 1 ? TCP_PSH : 0), payloadLen: SEG }).seq);
  return seqs;
}

describe('RFC 8985 7: tail loss probe', () => {
  it('RFC 8985 7.2/7.3: a stalled tail is probed 2·SRTT after the last ACK by resending the last segment; the ACK it draws ends the episode, no RTO', () => {
    const { p, conn } = established();
    const t = p.now;
    const seqs = burst(p, conn, 3);
    p.expectNothing(t + 19);
    const probe = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: seqs[2], payloadLen: SEG }, 1);
    expect(probe.at - t).toBe(20);
    expect(p.counter('tcp_loss_probes')).toBe(1);
    expect(p.counter('tcp_retransmits')).toBe(1);
    // Everything had arrived; only the ACK was lost. The probe's ACK covers it all.
    p.sendAck({ ack: seqs[2] + SEG });
    p.expectNothing(p.now + 5000);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
    expect(conn.snd.cc.cwnd).toBeGreaterThanOrEqual(10 * SEG); // a probe is not a congestion event
  });

  it('RFC 8985 7.4 + 6.2: the probe is SACKed but the data before it is missing: that data is lost, SACK recovery resends it at once (no RTO)', () => {
    const { p, conn } = established();
    const t0 = p.now;
    const seqs = burst(p, conn, 4);
    const probe = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: seqs[3], payloadLen: SEG }, 25);
    expect(probe.at - t0).toBe(20);
    // The peer got only the probe: a duplicate ACK with one SACK block.
    p.sendAck({ ack: seqs[0], options: { sack: [[seqs[3], seqs[3] + SEG]] } });
    const t = p.now;
    // cwnd = ssthresh = FlightSize/2 = 2 segments; the lost ones do not count in pipe.
    for (let i = 0; i < 2; i++) {
      const r = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: seqs[i], payloadLen: SEG });
      expect(r.at).toBe(t);
    }
    p.expectNothing();
    p.sendAck({ ack: seqs[2], options: { sack: [[seqs[3], seqs[3] + SEG]] } });
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: seqs[2], payloadLen: SEG });
    expect(p.counter('tcp_loss_probe_recoveries')).toBe(1);
    expect(p.counter('tcp_sack_recoveries')).toBe(1);
    expect(conn.snd.inRecovery).toBe(true);
    p.sendAck({ ack: seqs[3] + SEG });
    expect(conn.snd.inRecovery).toBe(false);
    p.expectNothing(p.now + 5000);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
  });

  it('RFC 8985 7.3 with RFC 1122 4.2.3.2: with new data waiting and room in the peer window, the probe is two new segments, which a delayed-ACK receiver answers at once', () => {
    const { p, conn } = established();
    const iw = conn.snd.cc.cwnd / SEG;
    expect(iw).toBe(10);
    conn.send(new Uint8Array(15 * SEG)); // cwnd-limited: 10 go, 5 wait
    p.flush();
    const first = p.takeAll();
    expect(first).toHaveLength(10);
    const next = (first[9].seq + SEG) >>> 0;
    const t = p.now;
    // One segment alone is what a receiver whose ACK of the flight was lost holds for its
    // delayed ACK (40 ms at Linux); two full-sized ones are ACKed at once.
    const probe = p.expectSegment({ flags: TCP_ACK, seq: next, payloadLen: SEG }, 25);
    expect(probe.at).toBe(t + 20);
    p.expectSegment({ flags: TCP_ACK, seq: (next + SEG) >>> 0, payloadLen: SEG });
    p.expectNothing(p.now + 1);
    expect(p.counter('tcp_loss_probes')).toBe(1);
    expect(p.counter('tcp_retransmits')).toBe(0);
  });

  it('RFC 8985 7.3: with one segment of new data waiting, the probe is that segment', () => {
    const { p, conn } = established();
    conn.send(new Uint8Array(11 * SEG)); // cwnd-limited: 10 go, 1 waits
    p.flush();
    const first = p.takeAll();
    expect(first).toHaveLength(10);
    const next = (first[9].seq + SEG) >>> 0;
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: next, payloadLen: SEG }, 25);
    p.expectNothing(p.now + 1);
    expect(p.counter('tcp_loss_probes')).toBe(1);
  });

  it('RFC 8985 7.2: the PTO runs from the last ACK; application writes that send nothing (cwnd full) do not postpone it', () => {
    const { p, conn } = established();
    const t = p.now;
    conn.send(new Uint8Array(12 * SEG)); // IW 10 goes, 2 wait for cwnd
    p.flush();
    expect(p.takeAll()).toHaveLength(10);
    for (let i = 1; i <= 3; i++) {
      p.advanceTo(t + 5 * i);
      conn.send(new Uint8Array(100)); // queued behind the full cwnd: nothing is sent
      p.flush();
      p.expectNothing();
    }
    const probe = p.expectSegment({ flags: TCP_ACK, payloadLen: SEG }, 20);
    expect(probe.at - t).toBe(20);
    expect(p.counter('tcp_loss_probes')).toBe(1);
  });

  it('RFC 8985 7.2: with one segment in flight the PTO adds WCDelAckT; past the RTO there is no probe, the RTO fires as usual', () => {
    const { p, conn } = established();
    const t = p.now;
    conn.send(new Uint8Array(100));
    p.flush();
    const d = p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 100 });
    // 2·SRTT + 200 ms = 220 ms > RTO 200 ms: the RTO comes first.
    const r = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: d.seq, payloadLen: 100 }, 500);
    expect(r.at - t).toBe(200);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
    expect(p.counter('tcp_loss_probes')).toBe(0);
  });

  it('RFC 8985 7.2: an ACK that leaves one segment in flight and lets more go arms the PTO for what is then in flight (no WCDelAckT), not the RTO', () => {
    const { p, conn } = established();
    conn.send(new Uint8Array(30 * SEG));
    p.flush();
    const first = p.takeAll();
    expect(first).toHaveLength(10);
    // All but the last segment ACKed: slow start lets 18 more go; then the ACKs stop.
    p.sendAck({ ack: first[9].seq });
    const t = p.now;
    expect(p.takeAll()).toHaveLength(18);
    const probe = p.expectSegment({ flags: TCP_ACK }, 300);
    expect(probe.at - t).toBeLessThan(50); // a probe at 2·SRTT, not the RTO at 200 ms
    expect(p.counter('tcp_loss_probes')).toBe(1);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
  });

  it('RFC 8985 7.2 after an RTO: the ACK of the retransmission lets two segments go and arms a probe for them (a loss of both is not a second RTO)', () => {
    const { p, conn } = established();
    conn.send(new Uint8Array(40 * SEG));
    p.flush();
    const s0 = p.takeAll()[0].seq;
    p.sendAck({ ack: s0 + 5 * SEG });
    p.takeAll();
    // The rest is lost, the probe (two new segments) too: the RTO resends the first unACKed segment.
    const lost = p.expectSegment({ flags: TCP_ACK, payloadLen: SEG }, 50);
    p.expectSegment({ flags: TCP_ACK, seq: (lost.seq + SEG) >>> 0, payloadLen: SEG });
    const rto = p.expectSegment({ flags: TCP_ACK, seq: s0 + 5 * SEG, payloadLen: SEG }, 300);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
    p.advanceTo(rto.at);
    p.sendAck({ ack: s0 + 6 * SEG });
    const t = p.now;
    expect(p.takeAll().map((o) => o.seq - s0)).toEqual([6 * SEG, 7 * SEG]);
    const probe = p.expectSegment({ flags: TCP_ACK }, 300);
    expect(probe.at - t).toBeLessThan(50);
    expect(p.counter('tcp_loss_probes')).toBe(2);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
  });

  it('one probe per episode: an unanswered probe is followed by the RTO, not by more probes', () => {
    const { p, conn } = established();
    const t = p.now;
    const seqs = burst(p, conn, 3);
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: seqs[2] }, 25);
    // RTO re-armed at the probe: 20 + 200 ms, then go-back-N from SND.UNA.
    const r = p.expectSegment({ flags: TCP_ACK, seq: seqs[0], payloadLen: SEG }, 1000);
    expect(r.at - t).toBe(220);
    expect(p.counter('tcp_loss_probes')).toBe(1);
    expect(p.counter('tcp_rto_timeouts')).toBe(1);
  });

  it('no probe without SACK (RFC 8985 7.2 needs it to tell what the probe repaired), nor when tailLossProbe is off', () => {
    for (const [tcp, h] of [[{}, { mss: MSS, wscale: 7, timestamps: true, rtt: 10 }], [{ tailLossProbe: false }, SACK_TS]] as const) {
      const { p, conn } = established(tcp, h);
      const t = p.now;
      const seqs = burst(p, conn, 3);
      const r = p.expectSegment({ flags: TCP_ACK, seq: seqs[0], payloadLen: SEG }, 1000);
      expect(r.at - t).toBe(200);
      expect(p.counter('tcp_loss_probes')).toBe(0);
    }
  });
});

describe('lost retransmissions (RFC 6675 cannot see them; Linux tcp_mark_lost_retrans, RFC 8985 6.2)', () => {
  it('a retransmission is lost when DupThresh segments sent after it are SACKed: it is sent again at once (tcp_lost_retransmits), no RTO', () => {
    // RFC 6675's strategy (RACK finds lost retransmissions by time: rfc8985-rack.test.ts).
    const { p, conn } = established({ recovery: 'rfc6675' });
    const t0 = p.now;
    conn.send(new Uint8Array(40 * SEG));
    p.flush();
    const first = p.takeAll();
    expect(first).toHaveLength(10);
    const s0 = first[0].seq;
    let high = s0 + SEG; // the peer holds [s0 + SEG, high) and never the first two copies of s0
    let s0Copies = 1;
    let delivered = first.slice(1);
    let thirdCopyAt = -1;
    for (let round = 0; round < 200 && thirdCopyAt < 0; round++) {
      for (const d of delivered) {
        if (d.seq === s0) continue;
        if (d.seq + d.payload.length > high) high = d.seq + d.payload.length;
        p.sendAck({ ack: s0, options: { sack: [[s0 + SEG, high]] } });
      }
      delivered = [];
      for (const o of p.takeAll()) {
        if (o.seq === s0 && o.payload.length > 0) {
          s0Copies++;
          if (s0Copies === 3) thirdCopyAt = o.at;
        } else if (o.payload.length > 0) {
          delivered.push(o);
        }
      }
      if (delivered.length === 0 && thirdCopyAt < 0) p.advance(1);
    }
    expect(s0Copies).toBe(3);
    expect(p.counter('tcp_lost_retransmits')).toBe(1);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
    expect(thirdCopyAt - t0).toBeLessThan(200); // well before the RTO
    // The third copy arrives: everything up to `high` is ACKed.
    p.sendAck({ ack: high });
    expect(conn.snd.sndUna).toBe(high >>> 0);
  });
});
