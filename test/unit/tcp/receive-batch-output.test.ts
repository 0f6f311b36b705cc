/**
 * Output deferred over a receive batch (TcpLayer.deferOutput, set by the shard worker while
 * more frames wait in its RX ring): an ESTABLISHED connection with nothing out of order
 * answers once, at the batch's end (flushDirty), like Linux's one ACK per GRO aggregate;
 * out-of-order data (RFC 5681 4.2) is answered at once for the sender's first DupThresh
 * duplicate ACKs, the rest of the batch's folded into one with SACK (Linux's SACK
 * compression); segments that move the connection out of ESTABLISHED at once.
 */
import { describe, expect, it } from 'vitest';
import { LINUX_SYN, TCP_ACK, TcpPeer } from '../../helpers/tcp-peer.js';

const full = (n = 1448) => new Uint8Array(n).fill(0x61);

/** An established connection whose RTT estimate is 10 ms (the handshake's ACK came 10 ms after our SYN-ACK). */
function withRtt(): TcpPeer {
  const p = new TcpPeer();
  p.passiveOpen({ ...LINUX_SYN, rtt: 10 });
  return p;
}

describe('receive batches', () => {
  it('eight in-order full-sized segments in one batch get one ACK, at the batch end, for all of them', () => {
    const p = new TcpPeer();
    p.passiveOpen();
    p.host.tcp.deferOutput = true;
    for (let i = 0; i < 8; i++) p.sendData(full());
    expect(p.takeAll()).toEqual([]); // nothing while the batch lasts
    p.host.tcp.deferOutput = false;
    p.flush();
    const acks = p.takeAll();
    expect(acks.map((s) => [s.flags, s.ack])).toEqual([[TCP_ACK, p.seq]]);
    // Without a batch, the same eight segments are ACKed every second one (RFC 1122 4.2.3.2).
    for (let i = 0; i < 8; i++) p.sendData(full());
    expect(p.takeAll()).toHaveLength(4);
  });

  it('the data an ACK batch lets out goes in one burst at the batch end', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen();
    conn.send(new Uint8Array(20 * 1448).fill(0x62));
    p.flush();
    const first = p.takeAll();
    expect(first.length).toBeGreaterThan(0);
    p.host.tcp.deferOutput = true;
    for (const s of first) p.sendAck({ ack: (s.seq + s.payload.length) >>> 0 });
    expect(p.takeAll()).toEqual([]);
    p.host.tcp.deferOutput = false;
    p.flush();
    const burst = p.takeAll();
    expect(burst.length).toBeGreaterThan(0);
    expect(burst.every((s) => s.payload.length > 0)).toBe(true); // new data, no pure ACKs
  });

  it('RFC 5681 4.2: out-of-order data is ACKed at once (a duplicate ACK with SACK), even in a batch', () => {
    const p = new TcpPeer();
    p.passiveOpen();
    p.host.tcp.deferOutput = true;
    const s = p.seq;
    p.send({ flags: TCP_ACK, seq: (s + 1448) >>> 0, payload: full() });
    p.expectSegment({ flags: TCP_ACK, ack: s });
    p.host.tcp.deferOutput = false;
  });

  it('Linux SACK compression: ten segments beyond a hole in one batch get DupThresh (3) duplicate ACKs at once, then one at the batch end whose SACK block covers all ten', () => {
    const p = withRtt();
    p.host.tcp.deferOutput = true;
    const s = p.seq;
    for (let i = 1; i <= 10; i++) p.send({ flags: TCP_ACK, seq: (s + i * 1448) >>> 0, payload: full() });
    const atOnce = p.takeAll();
    expect(atOnce.map((x) => [x.flags, x.ack, x.sack.length > 0])).toEqual([[TCP_ACK, s, true], [TCP_ACK, s, true], [TCP_ACK, s, true]]);
    p.host.tcp.deferOutput = false;
    p.flush();
    const last = p.takeAll();
    expect(last.map((x) => [x.flags, x.ack])).toEqual([[TCP_ACK, s]]);
    expect(last[0].sack[0]).toEqual([(s + 1448) >>> 0, (s + 11 * 1448) >>> 0]);
    expect(p.counter('tcp_sack_compressed')).toBe(7);
    // The segment that fills the hole is ACKed at the batch end (nothing is out of order any more).
    p.host.tcp.deferOutput = true;
    p.send({ flags: TCP_ACK, seq: s, payload: full() });
    expect(p.takeAll()).toEqual([]);
    p.host.tcp.deferOutput = false;
    p.flush();
    expect(p.takeAll().map((x) => x.ack)).toEqual([(s + 11 * 1448) >>> 0]);
  });

  it('SACK compression folds only segments that continue the last block: one that opens a new block (a second hole) is ACKed at once, so no block goes unreported', () => {
    const p = withRtt();
    p.host.tcp.deferOutput = true;
    const s = p.seq;
    const seg = (i: number) => p.send({ flags: TCP_ACK, seq: (s + i * 1448) >>> 0, payload: full() });
    for (let i = 1; i <= 5; i++) seg(i); // 3 at once, 2 folded
    expect(p.takeAll()).toHaveLength(3);
    seg(7); // segment 6 is missing: a new block
    const newBlock = p.takeAll();
    expect(newBlock).toHaveLength(1);
    expect(newBlock[0].sack[0]).toEqual([(s + 7 * 1448) >>> 0, (s + 8 * 1448) >>> 0]);
    expect(newBlock[0].sack[1]).toEqual([(s + 1448) >>> 0, (s + 6 * 1448) >>> 0]);
    seg(8); // continues it: folded
    expect(p.takeAll()).toEqual([]);
    p.host.tcp.deferOutput = false;
    p.flush();
    expect(p.takeAll()[0].sack[0]).toEqual([(s + 7 * 1448) >>> 0, (s + 9 * 1448) >>> 0]);
  });

  it('SACK compression holds an ACK back at most min(1 ms, RTT/20): with a 10 ms RTT, a segment 0.6 ms after the first one held is ACKed at once', () => {
    const p = withRtt();
    p.host.tcp.deferOutput = true;
    const s = p.seq;
    const seg = (i: number) => p.send({ flags: TCP_ACK, seq: (s + i * 1448) >>> 0, payload: full() });
    for (let i = 1; i <= 4; i++) seg(i); // 3 at once, the 4th held
    expect(p.takeAll()).toHaveLength(3);
    p.now += 0.4; // the same receive batch, 0.4 ms later (no batch end in between)
    seg(5); // within 0.5 ms: held
    expect(p.takeAll()).toEqual([]);
    p.now += 0.2;
    seg(6); // 0.6 ms after the first held: past the bound, the ACK goes now
    expect(p.takeAll().map((x) => x.sack[0])).toEqual([[(s + 1448) >>> 0, (s + 7 * 1448) >>> 0]]);
    p.host.tcp.deferOutput = false;
  });

  it('without an RTT estimate nothing is held back (Linux compresses by RTT/20)', () => {
    const p = new TcpPeer();
    p.passiveOpen(); // the scripted peer answered our SYN-ACK in the same instant: RTT 0
    p.host.tcp.deferOutput = true;
    const s = p.seq;
    for (let i = 1; i <= 6; i++) p.send({ flags: TCP_ACK, seq: (s + i * 1448) >>> 0, payload: full() });
    expect(p.takeAll()).toHaveLength(6);
    p.host.tcp.deferOutput = false;
  });

  it('without SACK every out-of-order segment is ACKed at once in a batch too (the duplicate ACKs are all the sender learns)', () => {
    const p = new TcpPeer();
    p.passiveOpen({ mss: 1460, sackPermitted: false, timestamps: true, wscale: 7 });
    p.host.tcp.deferOutput = true;
    const s = p.seq;
    for (let i = 1; i <= 6; i++) p.send({ flags: TCP_ACK, seq: (s + i * 1448) >>> 0, payload: full() });
    expect(p.takeAll()).toHaveLength(6);
    p.host.tcp.deferOutput = false;
  });

  it('a FIN in a batch is answered at once (the connection leaves ESTABLISHED)', () => {
    const p = new TcpPeer();
    p.passiveOpen();
    p.host.tcp.deferOutput = true;
    p.sendData(full(100));
    expect(p.takeAll()).toEqual([]);
    p.sendFin();
    p.expectSegment({ flags: TCP_ACK, ack: p.seq });
    p.host.tcp.deferOutput = false;
  });
});
