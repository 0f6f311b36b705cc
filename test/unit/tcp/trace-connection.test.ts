/**
 * The per-connection trace (src/tcp/trace.ts) of a scripted connection between two cores
 * on a virtual link: the handshake, a lost segment repaired by fast recovery, a lost tail
 * that two RTOs repair, and the close; then the archive, which keeps
 * the trace of the connection that had an RTO after it moved to TIME_WAIT.
 */
import { describe, expect, it } from 'vitest';
import { TRACE_MARK_RST, TRACE_MARK_RTO, type TraceEvent } from '../../../src/tcp/trace.js';
import { C } from '../../../src/base/counters.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../../src/wire/tcp.js';
import { IP_B, TcpPair, type Flight } from '../../helpers/tcp-pair.js';
import { TcpPeer, asTcpConnection } from '../../helpers/tcp-peer.js';

/** TCP payload bytes of a frame from the link (0 for anything but IPv4/TCP). */
function payloadOf(f: Flight): number {
  const b = f.frame;
  if (b[12] !== 0x08 || b[13] !== 0x00 || b[23] !== 6) return 0;
  const ihl = (b[14] & 0xf) * 4;
  const ipLen = (b[16] << 8) | b[17];
  return ipLen - ihl - (b[14 + ihl + 12] >> 4) * 4;
}

/** One line per event, for comparing sequences: "out S", "state SYN_SENT>ESTABLISHED", "rto". */
function line(e: TraceEvent): string {
  if (e.kind === 'state') return `state ${e.from}>${e.to}`;
  if (e.kind === 'in' || e.kind === 'out') {
    const f = (e.flags & TCP_SYN ? 'S' : '') + (e.flags & TCP_FIN ? 'F' : '') + (e.flags & TCP_RST ? 'R' : '') + (e.flags & TCP_PSH ? 'P' : '') + (e.flags & TCP_ACK ? '.' : '');
    return `${e.kind} ${f}${e.len > 0 ? ` ${e.len}` : ''}`;
  }
  if (e.kind === 'timer') return `timer ${e.timer}`;
  return e.kind;
}

describe('connection trace: handshake, loss, recovery, RTO, archive', () => {
  it('records the events of both ends in order, with seq/ack/window/cwnd, and archives the trace of the end that had an RTO', () => {
    const pair = new TcpPair();
    pair.delay = 5;
    const t0 = pair.now;
    const { client, server } = pair.connect(80);
    const c = asTcpConnection(client);
    const s = asTcpConnection(server);
    const tracer = pair.a.tcp.tracer;
    expect(c.traceSlot).toBeGreaterThanOrEqual(0);

    // The handshake, as the client saw it: exact numbers.
    const hs = tracer.events(c.traceSlot);
    expect(hs.map(line)).toEqual(['state CLOSED>SYN_SENT', 'out S', 'in S.', 'state SYN_SENT>ESTABLISHED', 'out .']);
    expect(hs[1]).toMatchObject({ t: t0, seq: c.snd.iss, ack: 0, len: 0 });
    expect(hs[2]).toMatchObject({ t: t0 + 10, seq: c.rcv.irs, ack: (c.snd.iss + 1) >>> 0 });
    expect(hs[1].win).toBe(65535); // a SYN's window is not scaled
    expect(hs[4]).toMatchObject({ seq: (c.snd.iss + 1) >>> 0, ack: (c.rcv.irs + 1) >>> 0 });
    expect(hs[4].cwnd).toBe(c.snd.cc.cwnd);
    // The server's side: LISTEN → SYN_RECEIVED on the SYN, ESTABLISHED on the ACK.
    expect(pair.b.tcp.tracer.events(s.traceSlot).map(line)).toEqual([
      'in S', 'state LISTEN>SYN_RECEIVED', 'out S.', 'in .', 'state SYN_RECEIVED>ESTABLISHED',
    ]);

    // Loss: the second of six data segments is dropped once; the SACKed segments above it
    // make it a fast recovery (RFC 6675), which ends when the cumulative ACK covers all.
    const mss = c.snd.mss;
    const isn = c.snd.iss;
    let dataFrames = 0;
    pair.fault = (f) => (f.from === 'A' && payloadOf(f) > 0 && ++dataFrames === 2 ? [] : [f]);
    client.send(new Uint8Array(6 * mss));
    pair.run();
    expect(server.sendQueued()).toBe(0);
    const loss = tracer.events(c.traceSlot).slice(5);
    expect(loss.map(line)).toEqual([
      'out . 1448', 'out . 1448', 'out . 1448', 'out . 1448', 'out . 1448', 'out P. 1448',
      'in .', 'in .', 'in .', 'recovery-enter', 'out P. 1448', 'in .', 'in .', 'recovery-exit',
    ]);
    expect(loss.slice(0, 6).map((e) => e.seq - isn - 1)).toEqual([0, 1, 2, 3, 4, 5].map((k) => k * mss));
    expect(loss[6].ack).toBe((isn + 1 + mss) >>> 0); // the first segment, then duplicates of that ACK
    expect(loss[9]).toMatchObject({ seq: (isn + 1 + mss) >>> 0, ack: (isn + 1 + 6 * mss) >>> 0 }); // SND.UNA, recovery point
    expect(loss[9].cwnd).toBeLessThan(loss[8].cwnd); // the cut, recorded with the entry
    expect(loss[10].seq).toBe((isn + 1 + mss) >>> 0); // the hole, sent again
    expect(loss[13].seq).toBe((isn + 1 + 6 * mss) >>> 0);
    expect(tracer.marksOf(c.traceSlot)).toBe(0);

    // A lost tail: the segment and its first retransmission are dropped; two RTOs, the
    // second with the backed-off timer, then the ACK.
    dataFrames = 0;
    pair.fault = (f) => (f.from === 'A' && payloadOf(f) > 0 && ++dataFrames <= 2 ? [] : [f]);
    client.send(new Uint8Array(100));
    pair.run();
    expect(server.sendQueued()).toBe(0);
    const tail = tracer.events(c.traceSlot).slice(5 + loss.length);
    expect(tail.map(line)).toEqual(['out P. 100', 'rto', 'out P. 100', 'rto', 'out P. 100', 'in .']);
    expect(tail.map((e) => e.t - tail[0].t)).toEqual([0, 200, 200, 600, 600, 650]);
    expect(tail[1]).toMatchObject({ backoff: 1, cwnd: mss }); // RFC 5681 3.1: one segment after the timeout
    expect(tail[3]).toMatchObject({ backoff: 2, seq: tail[0].seq });
    expect(tail[5].ack).toBe(c.snd.sndMax);
    expect(tracer.marksOf(c.traceSlot)).toBe(TRACE_MARK_RTO);

    // The close (both at once): the client ends in TIME_WAIT and gives its ring back; it
    // had an RTO, so its trace goes to the archive with what reads it (ISNs, addresses).
    pair.fault = null;
    const serial = c.serial;
    client.close();
    server.close();
    pair.run(pair.now + 1000);
    expect(c.traceSlot).toBe(-1);
    const archived = pair.a.tcp.traceOf(serial);
    if (archived === null || !('archived' in archived)) throw new Error('not archived');
    expect(archived.archived).toMatchObject({
      serial, state: 'TIME_WAIT', localPort: c.localPort, remoteIp: IP_B, remotePort: 80, iss: isn, irs: c.rcv.irs, marks: TRACE_MARK_RTO,
    });
    expect(archived.events.slice(25).map(line)).toEqual([
      'state ESTABLISHED>FIN_WAIT_1', 'out F.', 'in F.', 'state FIN_WAIT_1>CLOSING', 'out .', 'in .', 'state CLOSING>TIME_WAIT',
    ]);
    expect(pair.countersA[C.tcp_traces_archived]).toBe(1);
    // The server had no RTO and no reset: its ring is simply freed, nothing archived.
    expect(pair.b.tcp.traceOf(s.serial)).toBeNull();
    expect(pair.countersB[C.tcp_traces_archived]).toBe(0);
    expect(pair.b.tcp.tracer.inUse).toBe(0);
  });

  it('archives the trace of a connection that was reset, at either end; an untraced connection is counted', () => {
    const pair = new TcpPair({ tcp: { traceSlots: 1 } });
    const { client, server } = pair.connect(80);
    const c = asTcpConnection(client);
    const s = asTcpConnection(server);
    client.abort(); // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>
    pair.run();
    const mine = pair.a.tcp.traceOf(c.serial);
    const theirs = pair.b.tcp.traceOf(s.serial);
    if (mine === null || !('archived' in mine) || theirs === null || !('archived' in theirs)) throw new Error('not archived');
    expect(mine.archived).toMatchObject({ state: 'CLOSED', marks: TRACE_MARK_RST });
    expect(mine.events.map(line).slice(-2)).toEqual(['out R.', 'state ESTABLISHED>CLOSED']);
    expect(theirs.events.map(line).slice(-2)).toEqual(['in R.', 'state ESTABLISHED>CLOSED']);
    // One ring per side: a second connection while the first holds it is not traced.
    pair.connect(81);
    const third = asTcpConnection(pair.connect(82).client);
    expect(third.traceSlot).toBe(-1);
    expect(pair.countersA[C.tcp_trace_untraced]).toBe(1);
    expect(pair.a.tcp.traceOf(third.serial)).toMatchObject({ traced: false, events: [] });
  });
});

describe('connection trace: loss probes and timers (scripted Linux-like peer)', () => {
  it('records the tail loss probe before the segment it resends, and a delayed-ACK timer fire before its ACK', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen({ mss: 1460, wscale: 7, sackPermitted: true, timestamps: true, rtt: 10 });
    const tracer = p.host.tcp.tracer;
    const start = tracer.events(conn.traceSlot).length;
    conn.send(new Uint8Array(3 * 1448));
    p.flush();
    const sent = p.takeAll();
    expect(sent.length).toBe(3);
    // The peer ACKs nothing: 2·SRTT later the last segment is probed (RFC 8985 7.3).
    const probe = p.expectSegment({ flags: TCP_ACK | TCP_PSH, seq: sent[2].seq }, 100);
    p.sendAck({ ack: (sent[2].seq + 1448) >>> 0 });
    // Data from the peer, one small segment: our ACK waits for the delayed-ACK timer.
    p.send({ flags: TCP_ACK | TCP_PSH, seq: p.seq, payload: 'x' });
    const ack = p.expectSegment({ flags: TCP_ACK }, 1000);
    const ev = tracer.events(conn.traceSlot).slice(start);
    expect(ev.map(line)).toEqual(['out . 1448', 'out . 1448', 'out P. 1448', 'tlp', 'out P. 1448', 'in .', 'in P. 1', 'timer delack', 'out .']);
    expect(ev[3]).toMatchObject({ t: probe.at, seq: sent[0].seq, ack: (sent[2].seq + 1448) >>> 0 }); // SND.UNA, SND.MAX
    expect(ev[7].t).toBe(ack.at);
    expect(ev[7].t - ev[6].t).toBe(40); // delayedAckMs
    expect(tracer.marksOf(conn.traceSlot)).toBe(0); // a probe is not an RTO: nothing to archive
  });
});
