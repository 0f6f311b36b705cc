/**
 * RFC 6937 Proportional Rate Reduction (with draft-ietf-tcpm-prr-rfc6937bis's RecoverFS =
 * pipe and safe-ACK PRR-SSRB, as Linux does it): the arithmetic of
 * src/tcp/recovery/prr.ts, the RFC's section 3 examples (20 segments in flight, one loss
 * and a burst of 15 losses) against a scripted SACK receiver, the same without SACK, and
 * a two-core transfer under loss.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import { ProportionalRateReduction } from '../../../src/tcp/recovery/prr.js';
import { lossyTransfer } from '../../helpers/lossy-transfer.js';
import { LINUX_SYN, TcpPeer, type HandshakeOptions } from '../../helpers/tcp-peer.js';

const MSS = 1000;

describe('RFC 6937 3 sndcnt (src/tcp/recovery/prr.ts)', () => {
  it('RFC 6937 3: while pipe > ssthresh, prr_out follows CEIL(prr_delivered × ssthresh / RecoverFS)', () => {
    const prr = new ProportionalRateReduction();
    prr.start(20 * MSS);
    let pipe = 20 * MSS;
    const sent: number[] = [];
    for (let ack = 1; ack <= 19; ack++) {
      prr.beginAck();
      pipe -= MSS;
      const sndcnt = prr.sendCount(MSS, false, pipe, 10 * MSS, MSS);
      if (sndcnt > 0) prr.onSent(sndcnt);
      pipe += sndcnt;
      sent.push(sndcnt / MSS);
      if (ack < 19) expect(prr.prrOut).toBe(Math.ceil((ack * 10) / 20) * MSS);
    }
    // ssthresh / RecoverFS = 1/2: one segment on every other ACK, from the first, until
    // pipe is down to ssthresh (the 19th ACK: pipe 10, nothing more).
    expect(sent).toEqual([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0]);
    expect(pipe).toBe(10 * MSS);
  });

  it('RFC 6937 3 PRR-SSRB: once pipe ≤ ssthresh a safe ACK sends what was delivered plus one segment, never past ssthresh', () => {
    const prr = new ProportionalRateReduction();
    prr.start(4 * MSS);
    prr.beginAck();
    // pipe 4 ≤ ssthresh 10: a cumulative ACK of one segment lets two go.
    expect(prr.sendCount(MSS, true, 3 * MSS, 10 * MSS, MSS)).toBe(2 * MSS);
    expect(prr.boundBySsrb).toBe(true);
    prr.onSent(2 * MSS);
    prr.beginAck();
    // A cumulative ACK of three segments: three plus one.
    expect(prr.sendCount(3 * MSS, true, 2 * MSS, 10 * MSS, MSS)).toBe(4 * MSS);
    prr.onSent(4 * MSS);
    prr.beginAck();
    // Close to ssthresh: only up to it.
    expect(prr.sendCount(MSS, true, 9 * MSS, 10 * MSS, MSS)).toBe(MSS);
    prr.onSent(MSS);
    prr.beginAck();
    expect(prr.sendCount(MSS, true, 10 * MSS, 10 * MSS, MSS)).toBe(0);
  });

  it('6937bis PRR-CRB: an ACK that does not advance SND.UNA sends no more than it delivered (packet conservation)', () => {
    const prr = new ProportionalRateReduction();
    prr.start(4 * MSS);
    prr.beginAck();
    expect(prr.sendCount(MSS, false, 3 * MSS, 10 * MSS, MSS)).toBe(MSS);
    prr.onSent(MSS);
    prr.beginAck();
    expect(prr.sendCount(2 * MSS, false, 2 * MSS, 10 * MSS, MSS)).toBe(2 * MSS);
    // What the sender already sent while processing the ACK (a fast retransmit) counts.
    prr.onSent(2 * MSS);
    prr.beginAck();
    prr.onSent(MSS);
    expect(prr.sendCount(MSS, false, 3 * MSS, 10 * MSS, MSS)).toBe(0);
  });

  it('RFC 6937 3: sndcnt is never negative nor more than the RFC bound (in whole segments), over random ACK sequences', () => {
    let x = 99;
    const rnd = (n: number) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 16) % n;
    };
    const prr = new ProportionalRateReduction();
    for (let trial = 0; trial < 200; trial++) {
      const recoverFs = (1 + rnd(40)) * MSS;
      const ssthresh = Math.max(2 * MSS, Math.floor(recoverFs / 2) + rnd(MSS));
      prr.start(recoverFs);
      let pipe = recoverFs;
      for (let ack = 0; ack < 40; ack++) {
        prr.beginAck();
        const delivered = rnd(4) * MSS;
        const safe = rnd(2) === 0;
        const extraLoss = rnd(5) === 0 ? MSS : 0;
        pipe = Math.max(0, pipe - delivered - extraLoss);
        const deliveredSoFar = prr.prrDelivered + delivered;
        const outBefore = prr.prrOut;
        const sndcnt = prr.sendCount(delivered, safe, pipe, ssthresh, MSS);
        const rfcBound = pipe > ssthresh
          ? Math.ceil((deliveredSoFar * ssthresh) / recoverFs) - outBefore
          : Math.min(ssthresh - pipe, Math.max(deliveredSoFar - outBefore, delivered) + (safe ? MSS : 0));
        expect(sndcnt).toBeGreaterThanOrEqual(0);
        expect(sndcnt % MSS).toBe(0);
        expect(sndcnt).toBeLessThanOrEqual(Math.max(0, Math.ceil(rfcBound / MSS) * MSS));
        prr.onSent(sndcnt);
        pipe += sndcnt;
      }
    }
  });
});

/**
 * A scripted receiver for `n` full segments in flight from our stack with cwnd = n
 * segments and more data queued: every segment that arrives (in order of sending, the
 * first transmission of the segments in `lost` dropped) is answered by one ACK with
 * SACK blocks (RFC 2018 4: the block of the newest segment first). Records, per ACK, the
 * segments our stack sent in answer and whether it was in recovery. With `batch` > 1 the
 * ACKs of `batch` arriving segments reach our stack as one receive batch
 * (TcpLayer.deferOutput, decision 0033): it answers at the batch's end, and the record is
 * per batch.
 */
function runScenario(n: number, lost: Set<number>, h: HandshakeOptions = LINUX_SYN, batch = 1) {
  // RFC 6937's examples assume RFC 6675's loss marking (DupThresh SACKed segments); with
  // RACK (the default) the peer's instant answers (RTT 0) would mark every hole at once.
  const p = new TcpPeer({ tcp: { recovery: 'rfc6675' } });
  const { conn } = p.passiveOpen({ ...h, rtt: 10 });
  const mss = conn.snd.mss;
  conn.snd.cc.cwnd = n * mss;
  conn.send(new Uint8Array(3 * n * mss).fill(0x42));
  p.flush();
  const una = p.ourIsn + 1;
  const index = (seq: number) => ((seq - una) >>> 0) / mss;
  const net = p.takeAll().map((s) => index(s.seq));
  expect(net.length).toBe(n);
  const received = new Set<number>();
  const transmissions = new Map<number, number>();
  for (const k of net) transmissions.set(k, 1);
  const acks: { sent: number[]; inRecovery: boolean; cwnd: number; ssthresh: number; flight: number }[] = [];
  let cum = 0;
  let guard = 0;
  while (net.length > 0 && guard++ < 1000) {
    let acked = 0;
    while (acked < batch && net.length > 0) {
      const k = net.shift()!;
      if (lost.has(k) && transmissions.get(k) === 1) continue; // dropped: no ACK
      received.add(k);
      while (received.has(cum)) cum++;
      const runs: [number, number][] = [];
      for (const r of [...received].filter((v) => v > cum).sort((a, b) => a - b)) {
        const last = runs.at(-1);
        if (last !== undefined && last[1] === r) last[1] = r + 1;
        else runs.push([r, r + 1]);
      }
      runs.sort((a, b) => (k >= a[0] && k < a[1] ? -1 : k >= b[0] && k < b[1] ? 1 : b[0] - a[0]));
      const sack = h.sackPermitted ? runs.slice(0, 3).map(([l, r]): [number, number] => [(una + l * mss) >>> 0, (una + r * mss) >>> 0]) : [];
      p.host.tcp.deferOutput = batch > 1;
      p.sendAck({ ack: (una + cum * mss) >>> 0, options: sack.length > 0 ? { sack } : {} });
      acked++;
    }
    p.host.tcp.deferOutput = false;
    if (acked === 0) continue;
    p.flush();
    const sent = p.takeAll().filter((s) => s.payload.length > 0).map((s) => index(s.seq));
    for (const s of sent) transmissions.set(s, (transmissions.get(s) ?? 0) + 1);
    net.push(...sent);
    acks.push({ sent, inRecovery: conn.snd.inRecovery, cwnd: conn.snd.cc.cwnd, ssthresh: conn.snd.cc.ssthresh, flight: conn.snd.flight() });
  }
  return { p, conn, mss, acks, cum };
}

describe('RFC 6937 3 examples: 20 segments in flight, ssthresh from NewReno (FlightSize / 2)', () => {
  it('RFC 6937 3, one loss: sending is spread over the whole recovery as CEIL(prr_delivered × ssthresh / RecoverFS), ending at pipe = cwnd = ssthresh', () => {
    const { p, conn, mss, acks } = runScenario(20, new Set([0]));
    // ACKs 1 and 2 (segments 1, 2 SACKed) each let one new segment out (pipe < cwnd),
    // ACK 3 starts recovery: FlightSize 22 → ssthresh 11; pipe = 22 − 3 SACKed − 1 lost = 18 = RecoverFS.
    expect(acks[0].sent).toEqual([20]);
    expect(acks[1].sent).toEqual([21]);
    expect(acks[2].inRecovery).toBe(true);
    expect(acks[2].sent).toEqual([0]);
    expect(acks[2].ssthresh).toBe(11 * mss);
    const rec = acks.slice(2).filter((a) => a.inRecovery);
    expect(rec.length).toBe(19); // the SACKs of segments 3..21
    let out = 0;
    let silent = 0;
    rec.forEach((a, i) => {
      out += a.sent.length;
      // CEIL(prr_delivered × 11 / 18), and never past pipe = ssthresh (the 19th ACK).
      expect(out).toBe(Math.min(Math.ceil(((i + 1) * 11) / 18), 11));
      silent = a.sent.length === 0 ? silent + 1 : 0;
      // Never two silent ACKs in a row until pipe is down to ssthresh; RFC 6675 alone
      // (cwnd = ssthresh = 11 at once) would wait for pipe < 11: 7 silent ACKs.
      if (out < 11) expect(silent).toBeLessThanOrEqual(1);
    });
    // The ACK of the retransmission ends recovery: cwnd = ssthresh, and what is in flight is ssthresh.
    const exit = acks[2 + rec.length];
    expect(exit.inRecovery).toBe(false);
    expect(exit.cwnd).toBe(11 * mss);
    expect(exit.flight).toBe(11 * mss);
    expect(out).toBe(11);
    expect(p.counter('tcp_prr_ssrb_acks')).toBe(1); // the last ACK, at pipe = ssthresh
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
    expect(conn.snd.allAcked()).toBe(true);
  });

  it('RFC 6937 3, a burst of 15 losses: PRR-SSRB sends what each ACK delivered plus one segment until pipe = ssthresh, never a burst', () => {
    const lost = new Set(Array.from({ length: 15 }, (_, i) => i));
    const { p, mss, acks, cum } = runScenario(20, lost);
    const entry = acks.findIndex((a) => a.inRecovery);
    expect(entry).toBe(2);
    expect(acks[entry].ssthresh).toBe(11 * mss);
    // pipe at entry = 22 − 3 SACKed − 15 lost = 4: the fast retransmit and one more (the
    // ACK delivered one segment: 1 + 1). RFC 6675 alone would send ssthresh − pipe = 7 at once.
    const rec = acks.slice(entry).filter((a) => a.inRecovery);
    expect(rec.map((a) => a.sent.length)).toEqual([2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    // Lost segments first (RFC 6675 NextSeg), in order, then new data.
    expect(rec.flatMap((a) => a.sent)).toEqual([...Array.from({ length: 15 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 22 + i)]);
    expect(p.counter('tcp_prr_ssrb_acks')).toBe(rec.length);
    const exit = acks.find((a, i) => i > entry && !a.inRecovery)!;
    expect(exit.cwnd).toBe(11 * mss);
    expect(exit.flight).toBe(11 * mss);
    expect(cum).toBe(60);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
  });

  it('RFC 6937 3 with ACKs in receive batches of two (decision 0033): each ACK\'s sndcnt counts, the batch sends what the two ACKs one by one would (2 + 2)', () => {
    const lost = new Set(Array.from({ length: 15 }, (_, i) => i));
    const { p, mss, acks, cum } = runScenario(20, lost, LINUX_SYN, 2);
    const entry = acks.findIndex((a) => a.inRecovery);
    const rec = acks.slice(entry).filter((a) => a.inRecovery);
    // The same per-ACK counts as one by one ([2, 2, 2, 2, 2, 2, 1, …]), summed per batch of
    // two. Without the first ACK's count kept, a batch sent 2: the second ACK's cwnd =
    // pipe + sndcnt replaced the first's, and recovery ran on a flight of two segments.
    expect(rec.slice(0, 4).map((a) => a.sent.length)).toEqual([4, 4, 4, 2]);
    expect(acks[entry].ssthresh).toBe(11 * mss);
    expect(cum).toBe(60);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
  });

  it('RFC 6937 3 without SACK: each duplicate ACK counts one segment delivered, so new data goes out from the first ACKs of recovery', () => {
    const { p, mss, acks, cum } = runScenario(20, new Set([0]), { mss: 1460, wscale: 7, timestamps: false });
    expect(mss).toBe(1460);
    const entry = acks.findIndex((a) => a.inRecovery);
    expect(entry).toBe(2);
    expect(acks[entry].sent).toEqual([0]);
    const rec = acks.slice(entry).filter((a) => a.inRecovery);
    let out = 0;
    let silent = 0;
    // RFC 5681 alone (cwnd = ssthresh = 11, pipe = 22 − duplicate ACKs) would send nothing
    // for the first 11 duplicate ACKs; PRR is never silent for more than two in a row.
    for (const a of rec) {
      out += a.sent.length;
      silent = a.sent.length === 0 ? silent + 1 : 0;
      expect(silent).toBeLessThanOrEqual(2);
    }
    expect(rec[1].sent.length).toBe(1);
    expect(out).toBe(11);
    const exit = acks.find((a, i) => i > entry && !a.inRecovery)!;
    expect(exit.cwnd).toBe(exit.ssthresh);
    expect(cum).toBe(60);
    expect(p.counter('tcp_rto_timeouts')).toBe(0);
  });
});

describe('RFC 6937 between two cores', () => {
  // RTOs of the same transfers on the commit before PRR (RFC 6675 recovery with cwnd =
  // ssthresh at once): 0, 30 and 6. The newreno 10 % one had 13 with PRR until probes were
  // armed after an ACK that left one segment in flight (decision 0031): 16 on this seed,
  // 60 → 44 over five seeds; 15 once a black-hole reduction is undone when full-size
  // segments turn out to have arrived (it had taken the MSS down to 524 here).
  // With RACK (RFC 8985 6, the default since decision 0034) the same transfers: 0, 9 and 3
  // (one seed each: which of a recovery's losses end in an RTO moves with the strategy;
  // no figure for one strategy against the other). With spurious fast retransmits undone
  // and Eifel's timestamp test for RTOs as well (decision 0035) RFC 6675's 10 % transfers
  // went from 15 and 2 RTOs to 10 and 1; RACK's stayed at 9 and 3. The cubic one under
  // RACK went from 3 to 4 when a retransmission run stopped spanning ACK turns (decision
  // 0034, amendment: over seeds 1–12 of the same transfers the RTOs were 16 before and
  // after; newreno 65 → 64), and back to 3 with both changes together. A probe of two new
  // segments rather than one (decision 0037): rfc6675 10 → 9 and 1 → 0, rack 9 → 8 and 3.
  // SACKed data kept across an RTO and not resent (decision 0041): rack cubic 3 → 2 (seeds
  // 1–12 of the 10 % transfers: rack newreno 68 → 61 RTOs, cubic 11 → 12; rfc6675 newreno
  // 66 → 68, cubic 7 → 7; retransmissions 0.3–2.8 % fewer in each of the four).
  // Retransmissions still in flight not sent again when the next recovery starts (RACK
  // only, decision 0046): rack newreno 8 → 13, cubic 2 → 4. Most of those resends were
  // spurious, but some covered a lost retransmission with nothing sent after it to show it
  // lost, which now waits for the RTO as on Linux (decision 0046 has the figures over 20
  // seeds).
  for (const [recovery, cc, lossPct, seed, rtosBefore, rtosNow] of [
    ['rfc6675', 'newreno', 3, 7, 0, 0], ['rfc6675', 'newreno', 10, 11, 30, 9], ['rfc6675', 'cubic', 10, 17, 6, 0],
    ['rack', 'newreno', 3, 7, 0, 0], ['rack', 'newreno', 10, 11, 30, 13], ['rack', 'cubic', 10, 17, 6, 4],
  ] as const) {
    it(`RFC 6937 (${recovery}): a 2 MB transfer (${cc}, ${lossPct} % loss each way) arrives byte for byte with ${rtosNow} RTOs (${rtosBefore} before PRR)`, () => {
      const { p, s, data } = lossyTransfer(cc, lossPct, seed, recovery);
      expect(s.bytes().length).toBe(data.length);
      expect(s.bytes().equals(Buffer.from(data))).toBe(true);
      expect(p.countersA[C.tcp_fast_retransmits]).toBeGreaterThan(0);
      expect(p.countersA[C.tcp_prr_ssrb_acks]).toBeGreaterThan(0);
      expect(p.countersA[C.tcp_rto_timeouts]).toBe(rtosNow);
      expect(rtosNow).toBeLessThanOrEqual(rtosBefore);
    });
  }
});
