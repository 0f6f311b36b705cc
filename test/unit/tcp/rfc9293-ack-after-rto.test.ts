/**
 * The sequence number of a segment that carries no data, SYN or FIN (RFC 9293 3.10.7.4:
 * the receiver checks it before it looks at the ACK field). After a retransmission timeout
 * SND.NXT goes back to SND.UNA (RFC 6298 5.4, resending from the first unacknowledged
 * byte), but the peer may already hold everything up to SND.MAX: a pure ACK numbered
 * SND.NXT then lies below its RCV.NXT, is not acceptable, and its ACK field is never read.
 * Like BSD's tcp_output, a pure ACK carries SND.MAX. Without that, two sides that both
 * timed out with data the other already has answer each other's unacceptable segments
 * with unacceptable ACKs until both give up.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import { TcpPair } from '../../helpers/tcp-pair.js';
import { patternBytes } from '../../helpers/frames.js';
import { tcpSeq } from '../../../src/wire/tcp.js';
import { ipTotalLength } from '../../../src/wire/ipv4.js';

/** TCP payload bytes of an IPv4 frame (no options in IPv4 here). */
function payloadLen(f: Uint8Array): number {
  return ipTotalLength(f, 14) - 20 - ((f[14 + 20 + 12] >>> 4) << 2);
}

describe('pure ACKs after a retransmission timeout (RFC 9293 3.10.7.4, BSD tcp_output)', () => {
  it('both sides time out with data the other already has: the connection recovers instead of timing out', () => {
    // No SACK, timestamps or loss probes: the plain RFC 6298 path.
    const cfg = { tcp: { sack: false, timestamps: false, tailLossProbe: false } };
    const p = new TcpPair(cfg, cfg);
    const { client, server, c, s } = p.connect();
    const up = patternBytes(3000, 1);
    const down = patternBytes(3000, 2);
    // Every pure ACK is lost until the first RTO has fired on both sides.
    let blackout = true;
    p.fault = (f) => (blackout && payloadLen(f.frame) === 0 ? [] : [f]);
    client.send(up);
    server.send(down);
    p.run(p.now + 1);
    expect(p.countersA[C.tcp_rto_timeouts]).toBe(0);
    p.run(p.now + 1500); // the initial RTO is 1 s
    expect(p.countersA[C.tcp_rto_timeouts]).toBeGreaterThan(0);
    expect(p.countersB[C.tcp_rto_timeouts]).toBeGreaterThan(0);
    blackout = false;
    const sentBefore = p.log.length;
    p.run(p.now + 60_000);
    expect(s.bytes().equals(Buffer.from(up))).toBe(true);
    expect(c.bytes().equals(Buffer.from(down))).toBe(true);
    expect(c.closeErr).toBeUndefined();
    expect(s.closeErr).toBeUndefined();
    expect(client.stateName).toBe('ESTABLISHED');
    expect((client as unknown as { sendQueued(): number }).sendQueued()).toBe(0);
    expect((server as unknown as { sendQueued(): number }).sendQueued()).toBe(0);
    // And the pure ACKs sent after the blackout were numbered past all the data sent (SND.MAX).
    const acks = p.log.slice(sentBefore).filter((f) => f.from === 'A' && payloadLen(f.frame) === 0);
    expect(acks.length).toBeGreaterThan(0);
    for (const f of acks) expect(tcpSeq(f.frame, 34) >>> 0).toBe(((client as unknown as { snd: { iss: number } }).snd.iss + 1 + up.length) >>> 0);
  });
});
