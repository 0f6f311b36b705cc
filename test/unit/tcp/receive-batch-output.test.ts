/**
 * Output deferred over a receive batch (TcpLayer.deferOutput, set by the shard worker while
 * more frames wait in its RX ring): an ESTABLISHED connection with nothing out of order
 * answers once, at the batch's end (flushDirty), like Linux's one ACK per GRO aggregate;
 * out-of-order data (RFC 5681 4.2) and segments that move the connection out of
 * ESTABLISHED are answered at once, as without a batch.
 */
import { describe, expect, it } from 'vitest';
import { TCP_ACK, TcpPeer } from '../../helpers/tcp-peer.js';

const full = (n = 1448) => new Uint8Array(n).fill(0x61);

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
