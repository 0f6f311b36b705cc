/**
 * perf/tcp-bench.ts --loss without a lab: the nftables ruleset that drops frames on the
 * lab bridge (perf/runs/path-loss.ts), the parser of its counters, and which end's counters
 * each of the four bulk transfers reports (perf/runs/transfer-figures.ts).
 */
import { describe, expect, it } from 'vitest';
import { parsePathCounts, pathLine, pathLossRules } from '../../perf/runs/path-loss.js';
import { transferEnds, transferFigures, transferLine, type CounterReading } from '../../perf/runs/transfer-figures.js';

describe('path loss rules', () => {
  it('hooks the bridge forward path and drops P % of IPv4/IPv6 frames each way through the client port', () => {
    const r = pathLossRules(7);
    expect(r).toMatch(/^table bridge benchloss \{/);
    expect(r).toContain('type filter hook forward priority 0; policy accept;');
    expect(r).toContain('meta protocol { ip, ip6 } iifname "veth-c1" jump from_client');
    expect(r).toContain('meta protocol { ip, ip6 } oifname "veth-c1" jump to_client');
    expect(r.match(/numgen random mod 100 < 7 jump (to|from)_client_drop/g)).toEqual([
      'numgen random mod 100 < 7 jump to_client_drop', 'numgen random mod 100 < 7 jump from_client_drop']);
    expect(r.match(/^\s+drop$/gm)).toHaveLength(2);
    expect(r).not.toMatch(/hook (input|output)/);
  });

  it('refuses a percentage nftables would not mean and a bad port name', () => {
    expect(() => pathLossRules(2.5)).toThrow(RangeError);
    expect(() => pathLossRules(101)).toThrow(RangeError);
    expect(() => pathLossRules(3, 'veth"; flush ruleset')).toThrow(RangeError);
  });

  it('reads the named counters of nft -j and prints the difference by direction and size', () => {
    const json = (gso: number, gsoDropped: number): string => JSON.stringify({ nftables: [
      { metainfo: { version: '1.0.6' } },
      { counter: { family: 'bridge', name: 'to_client_gso', table: 'benchloss', handle: 6, packets: gso, bytes: 0 } },
      { counter: { family: 'bridge', name: 'to_client_gso_dropped', table: 'benchloss', handle: 7, packets: gsoDropped, bytes: 0 } },
      { counter: { family: 'bridge', name: 'from_client_small', table: 'benchloss', handle: 8, packets: 40, bytes: 0 } },
      { counter: { family: 'bridge', name: 'to_client_gso', table: 'other', handle: 9, packets: 999, bytes: 0 } },
    ] });
    const a = parsePathCounts(json(10, 1));
    expect(a.to_client.seen.gso).toBe(10);
    expect(a.to_client.dropped.gso).toBe(1);
    expect(a.from_client.seen).toEqual({ small: 40, mtu: 0, gso: 0 });
    const b = parsePathCounts(json(35, 3));
    expect(pathLine(a, b)).toBe('path: to c1 25 aggregates (2 dropped), 0 segments (0 dropped), 0 small (0 dropped); ' +
      'from c1 0 aggregates (0 dropped), 0 segments (0 dropped), 0 small (0 dropped)');
  });
});

describe('transfer figures', () => {
  /** A reading where every source has its own values, so a figure read from the wrong one shows. */
  function reading(scale: number): CounterReading {
    return {
      stackd: { tcp_rto_timeouts: 1 * scale, tcp_fast_retransmits: 2 * scale, tcp_retransmits: 3 * scale, tcp_dsacks_rx: 4 * scale,
        tcp_fast_retransmit_undos: 5 * scale, tcp_rto_undos: 6 * scale, tcp_ooo_segments: 7 * scale },
      c1: { 'TcpExt.TCPTimeouts': 10 * scale, 'TcpExt.TCPSackRecovery': 20 * scale, 'TcpExt.TCPRenoRecovery': 1 * scale, 'Tcp.RetransSegs': 30 * scale,
        'TcpExt.TCPDSACKRecv': 40 * scale, 'TcpExt.TCPDSACKUndo': 50 * scale, 'TcpExt.TCPFullUndo': 1 * scale, 'TcpExt.TCPPartialUndo': 1 * scale,
        'TcpExt.TCPLossUndo': 60 * scale, 'TcpExt.TCPOFOQueue': 70 * scale },
      c2: { 'TcpExt.TCPTimeouts': 100 * scale, 'TcpExt.TCPSackRecovery': 200 * scale, 'Tcp.RetransSegs': 300 * scale,
        'TcpExt.TCPDSACKRecv': 400 * scale, 'TcpExt.TCPDSACKUndo': 500 * scale, 'TcpExt.TCPLossUndo': 600 * scale, 'TcpExt.TCPOFOQueue': 700 * scale },
    };
  }

  it('reads the sender and the receiver of each of the four transfers from its own process or namespace', () => {
    expect(transferEnds('stackd', 'upload')).toEqual({ sender: 'c1', receiver: 'stackd' });
    expect(transferEnds('stackd', 'download')).toEqual({ sender: 'stackd', receiver: 'c1' });
    expect(transferEnds('kernel', 'upload')).toEqual({ sender: 'c1', receiver: 'c2' });
    expect(transferEnds('kernel', 'download')).toEqual({ sender: 'c2', receiver: 'c1' });
    const r = reading(1);
    expect(transferFigures('stackd', 'upload', r)).toEqual({ rtos: 10, recoveries: 21, retransmits: 30, dsacks: 40, fastUndos: 52, rtoUndos: 60, outOfOrder: 7 });
    expect(transferFigures('stackd', 'download', r)).toEqual({ rtos: 1, recoveries: 2, retransmits: 3, dsacks: 4, fastUndos: 5, rtoUndos: 6, outOfOrder: 70 });
    expect(transferFigures('kernel', 'upload', r)).toEqual({ rtos: 10, recoveries: 21, retransmits: 30, dsacks: 40, fastUndos: 52, rtoUndos: 60, outOfOrder: 700 });
    expect(transferFigures('kernel', 'download', r)).toEqual({ rtos: 100, recoveries: 200, retransmits: 300, dsacks: 400, fastUndos: 500, rtoUndos: 600, outOfOrder: 70 });
  });

  it('prints the difference between two readings', () => {
    expect(transferLine('stackd', 'upload', reading(1), reading(3))).toBe(
      'sender (c1): RTOs 20, fast recoveries 42, retransmissions 60, D-SACKs 80, undos 104 fast / 120 RTO; receiver (stackd): out of order 14');
  });
});
