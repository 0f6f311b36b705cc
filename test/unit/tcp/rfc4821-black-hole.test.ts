/**
 * Black-hole detection (RFC 4821 / RFC 8899, in Linux tcp_mtu_probing=1's simple form),
 * against a scripted peer behind a path that drops large segments without an ICMP: after
 * pmtuBlackHoleRtos consecutive RTOs of a full-size segment the path MTU goes down a step
 * (1200, RFC 8899 BASE_PLPMTU; then 576) and the retransmission goes out at the smaller size.
 */
import { describe, expect, it } from 'vitest';
import { LINUX_SYN, PEER_IP, TCP_ACK, TCP_PSH, TcpPeer } from '../../helpers/tcp-peer.js';

function stalled(tcp: { pmtuBlackHoleRtos?: number } = {}) {
  const p = new TcpPeer({ tcp });
  const { conn } = p.passiveOpen(LINUX_SYN);
  conn.send(new Uint8Array(3 * 1448));
  p.flush();
  const first = p.takeAll();
  return { p, conn, first };
}

describe('RFC 4821 / RFC 8899: black-hole detection', () => {
  it('RFC 8899 5.1.2: the third RTO in a row of a full-size segment resends it at BASE_PLPMTU (1200 − 52 = 1148), the sixth at 576 − 52', () => {
    const { p, conn, first } = stalled();
    expect(first.map((s) => s.payload.length)).toEqual([1448, 1448, 1448]);
    const sizes: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = p.expectSegment({ flags: TCP_ACK, seq: first[0].seq }, 120_000);
      sizes.push(r.payload.length);
      p.takeAll();
    }
    expect(sizes).toEqual([1448, 1448, 1148, 1148, 1148, 524]);
    expect(p.counter('tcp_pmtu_black_holes')).toBe(2);
    expect(p.host.ipOut.pathMtu.mtuFor(PEER_IP, p.now)).toBe(576);
    expect(conn.stateName).toBe('ESTABLISHED');
    // Once the path carries the small segments, the data gets through at that size.
    p.sendAck({ ack: first[0].seq + 524 });
    const rest = p.takeAll();
    expect(rest.length).toBeGreaterThan(0);
    expect(rest.every((s) => s.payload.length <= 524)).toBe(true);
  });

  it('pmtuBlackHoleRtos 0 turns it off: every retransmission stays full-size', () => {
    const { p, first } = stalled({ pmtuBlackHoleRtos: 0 });
    for (let i = 0; i < 5; i++) {
      p.expectSegment({ flags: TCP_ACK, seq: first[0].seq, payloadLen: 1448 }, 120_000);
      p.takeAll();
    }
    expect(p.counter('tcp_pmtu_black_holes')).toBe(0);
  });

  it('a small segment timing out is no sign of a black hole: the MSS stays', () => {
    const p = new TcpPeer();
    const { conn } = p.passiveOpen(LINUX_SYN);
    conn.send(new Uint8Array(100));
    p.flush();
    for (let i = 0; i < 5; i++) p.expectSegment({ flags: TCP_ACK | TCP_PSH, payloadLen: 100 }, 120_000);
    expect(p.counter('tcp_pmtu_black_holes')).toBe(0);
    expect(conn.snd.mss).toBe(1448);
  });
});

describe('black-hole detection undone when the large segments did arrive', () => {
  /** Three RTOs of the first segment: the third lowers the PMTU to 1200 and resends at 1148. */
  function lowered() {
    const { p, conn, first } = stalled();
    for (let i = 0; i < 3; i++) {
      p.expectSegment({ flags: TCP_ACK, seq: first[0].seq }, 120_000);
      p.takeAll();
    }
    expect(conn.snd.mss).toBe(1148);
    return { p, conn, first };
  }

  it('an ACK beyond what was resent at the smaller size covers full-size originals: the PMTU and the MSS go back up (only ACKs were lost)', () => {
    const { p, conn, first } = lowered();
    p.sendAck({ ack: first[0].seq + 3 * 1448 });
    expect(p.counter('tcp_pmtu_black_hole_undos')).toBe(1);
    expect(p.host.ipOut.pathMtu.mtuFor(PEER_IP, p.now)).toBe(1500);
    conn.send(new Uint8Array(2 * 1448));
    p.flush();
    expect(p.takeAll().map((s) => s.payload.length)).toEqual([1448, 1448]);
  });

  it('an ACK of only the smaller retransmission proves nothing: the PMTU stays down', () => {
    const { p, conn, first } = lowered();
    p.sendAck({ ack: first[0].seq + 1148 });
    expect(p.counter('tcp_pmtu_black_hole_undos')).toBe(0);
    expect(p.host.ipOut.pathMtu.mtuFor(PEER_IP, p.now)).toBe(1200);
    expect(conn.snd.mss).toBe(1148);
  });
});
