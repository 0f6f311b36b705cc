/**
 * Flow control against a scripted peer: RFC 9293 3.8.6.1 zero-window probing (persist
 * timer), 3.8.6.2.2 / RFC 1122 4.2.3.3 receiver window management and window updates.
 */
import { describe, expect, it } from 'vitest';
import { Recorder, TCP_ACK, TCP_PSH, TcpPeer } from '../../helpers/tcp-peer.js';

describe('RFC 9293 3.8.6.1 zero window (sender side)', () => {
  it('RFC 9293 3.8.6.1: with a zero peer window we stop sending and probe with backoff (200, 400, 800 ms); the window opening resumes sending', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ mss: 1460, wscale: 7, sackPermitted: true, timestamps: true, rtt: 10 });
    p.sendAck({ window: 0 });
    expect(conn.snd.sndWnd).toBe(0);
    conn.send(new Uint8Array(1000));
    p.flush();
    p.expectNothing();
    const t = p.now;
    const probes: number[] = [];
    for (let i = 0; i < 3; i++) {
      // Linux's probe: an ACK carrying SEG.SEQ = SND.UNA − 1 and no data.
      const pr = p.expectSegment({ flags: TCP_ACK, seq: p.ack - 1, ack: p.seq, payloadLen: 0 }, 10_000);
      probes.push(pr.at - t);
      p.sendAck({ window: 0 }); // the peer answers each probe: still closed
    }
    expect(probes).toEqual([200, 600, 1400]);
    expect(p.counter('tcp_window_probes')).toBe(3);
    expect(conn.stateName).toBe('ESTABLISHED');
    // The window opens: the data goes at once.
    p.sendAck({ window: 100 });
    p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: p.ack, payloadLen: 1000 });
    p.expectNothing();
    expect(conn.timers.armed(1 /* T_PERSIST */)).toBe(false);
  });

  it('RFC 9293 3.8.6.1: a zero window is probed indefinitely (no ETIMEDOUT while the peer answers), the interval capped at 60 s', () => {
    const p = new TcpPeer({ tcp: { dataRetries: 3 } });
    const { conn, rec } = p.passiveOpen({ mss: 1460, wscale: 7, timestamps: true, rtt: 10 });
    p.sendAck({ window: 0 });
    conn.send(new Uint8Array(100));
    p.flush();
    let last = p.now;
    let gap = 0;
    for (let i = 0; i < 14; i++) {
      const pr = p.expectSegment({ flags: TCP_ACK, payloadLen: 0 }, 120_000);
      gap = pr.at - last;
      last = pr.at;
      p.sendAck({ window: 0 });
    }
    expect(gap).toBe(60_000);
    expect(rec.closed).toBe(false);
  });
});

describe('RFC 9293 3.8.6.2.2 receive window', () => {
  it('RFC 9293 3.8.6.2.2: when the application does not read, the advertised window shrinks to 0; consumed() reopens it with a window update', () => {
    const p = new TcpPeer({ tcp: { recvBuffer: 16384 } });
    const { conn, rec, synAck } = p.passiveOpen();
    expect(synAck.options.wscale).toBe(0);
    expect(synAck.window).toBe(16384);
    rec.autoConsume = false;
    const windows: number[] = [];
    let sent = 0;
    while (sent < 16384) {
      const n = Math.min(1448, 16384 - sent);
      p.sendData(new Uint8Array(n));
      sent += n;
      p.advance(40);
      for (const a of p.takeAll()) windows.push(a.window);
    }
    expect(rec.bytes().length).toBe(16384);
    expect(windows.at(-1)).toBe(0);
    for (let i = 1; i < windows.length; i++) expect(windows[i]).toBeLessThan(windows[i - 1]);
    // Data beyond the zero window is not accepted: dropped and ACKed with window 0.
    p.send({ flags: TCP_ACK | TCP_PSH, payload: 'more' });
    p.expectSegment({ flags: TCP_ACK, ack: p.seq, window: 0 });
    expect(rec.bytes().length).toBe(16384);
    expect(p.counter('drop_tcp_out_of_window')).toBe(1);
    // Linux probes a zero window with <SEQ=SND.UNA−1> and no data (tcp_xmit_probe_skb): answered
    // with the window, counted as a probe and not as an out-of-window drop.
    p.advance(600);
    p.send({ flags: TCP_ACK, seq: p.seq - 1, ack: p.ack });
    p.expectSegment({ flags: TCP_ACK, seq: p.ack, ack: p.seq, window: 0, payloadLen: 0 });
    expect(p.counter('tcp_probes_rx')).toBe(1);
    expect(p.counter('drop_tcp_out_of_window')).toBe(1);
    // RFC 1122 4.2.3.3 (receiver SWS): consuming less than min(MSS, buffer/2) sends no update.
    conn.consumed(100);
    p.flush();
    p.expectNothing();
    // Consuming enough opens the window: an immediate window update.
    conn.consumed(8000);
    p.flush();
    p.expectSegment({ flags: TCP_ACK, ack: p.seq, window: 8100 });
    p.sendData('more');
    expect(rec.bytes().length).toBe(16388);
  });

  it('RFC 9293 3.8.6.2.2: the right edge of the window never moves left (no shrinking) even when out-of-order data takes buffer space', () => {
    const p = new TcpPeer({ tcp: { recvBuffer: 16384 } });
    const { rec } = p.passiveOpen();
    rec.autoConsume = false;
    const s = p.seq;
    p.sendData(new Uint8Array(1000));
    p.advance(40);
    const a = p.expectSegment({ flags: TCP_ACK });
    const edge = a.ack + a.window;
    p.send({ flags: TCP_ACK, seq: s + 5000, payload: new Uint8Array(3000) });
    const b = p.expectSegment({ flags: TCP_ACK, ack: s + 1000 });
    expect(b.ack + b.window).toBeGreaterThanOrEqual(edge);
  });

  it('RFC 9293 3.8.6.2.2: bytes the application consumes inside onData keep the full window open', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen();
    const rec = new Recorder(conn);
    conn.events = rec;
    for (let i = 0; i < 20; i++) p.sendData(new Uint8Array(1448));
    p.advance(40);
    for (const a of p.takeAll()) expect(a.window).toBe((1 << 20) >> 5);
    expect(conn.rcv.unconsumed).toBe(0);
  });
});
