/**
 * perf/tcp-bench.ts --loss without a lab: the nftables rulesets of both loss models
 * (perf/runs/path-loss.ts: on the lab bridge, or segment by segment with the direction
 * towards the client at its own interface), the parser of their counters, the check of the
 * client port's offloads (perf/runs/client-offloads.ts), and which end's counters each of
 * the four bulk transfers reports (perf/runs/transfer-figures.ts).
 */
import { describe, expect, it } from 'vitest';
import { allCpusMask, featuresNotOff, PORT_FEATURES_OFF } from '../../perf/runs/client-offloads.js';
import { clientIngressLossRules, parsePathCounts, pathLine, pathLossRules } from '../../perf/runs/path-loss.js';
import { transferDelta, transferEnds, transferFigures, transferLine, type CounterReading } from '../../perf/runs/transfer-figures.js';

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
    expect(r).not.toContain('bridge_to_client');
  });

  it('segments model: the bridge drops only from the client and counts what it forwards towards it; c1 drops at its ingress', () => {
    const r = pathLossRules(7, 'segments');
    expect(r).toContain('meta protocol { ip, ip6 } iifname "veth-c1" jump from_client');
    expect(r).toContain('meta protocol { ip, ip6 } oifname "veth-c1" jump bridge_to_client');
    expect(r.match(/numgen random mod 100 < 7 jump \w+/g)).toEqual(['numgen random mod 100 < 7 jump from_client_drop']);
    expect(r.match(/^\s+drop$/gm)).toHaveLength(1);
    expect(r).not.toMatch(/counter name "to_client_/);
    expect(r).not.toContain('bridge_to_client_gso_dropped');
    expect(r.match(/counter name "bridge_to_client_\w+"/g)).toEqual([
      'counter name "bridge_to_client_small"', 'counter name "bridge_to_client_mtu"', 'counter name "bridge_to_client_gso"']);
    const c = clientIngressLossRules(7);
    expect(c).toMatch(/^table netdev benchloss \{/);
    expect(c).toContain('type filter hook ingress device "eth0" priority 0; policy accept;');
    expect(c).toContain('meta protocol { ip, ip6 } jump to_client');
    expect(c.match(/numgen random mod 100 < 7 jump \w+/g)).toEqual(['numgen random mod 100 < 7 jump to_client_drop']);
    expect(c.match(/^\s+drop$/gm)).toHaveLength(1);
    expect(c).toContain('meta length > 1500 counter name "to_client_gso_dropped"');
    expect(c).not.toContain('from_client');
  });

  it('refuses a percentage nftables would not mean and a bad port name', () => {
    expect(() => pathLossRules(2.5)).toThrow(RangeError);
    expect(() => pathLossRules(101)).toThrow(RangeError);
    expect(() => pathLossRules(3, 'frames', 'veth"; flush ruleset')).toThrow(RangeError);
    expect(() => clientIngressLossRules(-1)).toThrow(RangeError);
    expect(() => clientIngressLossRules(3, 'eth0" ; flush ruleset')).toThrow(RangeError);
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

  it('sums the bridge table of <lab>-host and the netdev table of c1, and prints what br0 forwarded towards c1', () => {
    const host = (n: number): string => JSON.stringify({ nftables: [
      { counter: { family: 'bridge', name: 'from_client_mtu', table: 'benchloss', handle: 1, packets: 100 * n, bytes: 0 } },
      { counter: { family: 'bridge', name: 'from_client_mtu_dropped', table: 'benchloss', handle: 2, packets: 3 * n, bytes: 0 } },
      { counter: { family: 'bridge', name: 'bridge_to_client_gso', table: 'benchloss', handle: 3, packets: 20 * n, bytes: 0 } },
      { counter: { family: 'bridge', name: 'bridge_to_client_mtu', table: 'benchloss', handle: 4, packets: 5 * n, bytes: 0 } },
    ] });
    const client = (n: number): string => JSON.stringify({ nftables: [
      { counter: { family: 'netdev', name: 'to_client_mtu', table: 'benchloss', handle: 1, packets: 700 * n, bytes: 0 } },
      { counter: { family: 'netdev', name: 'to_client_mtu_dropped', table: 'benchloss', handle: 2, packets: 21 * n, bytes: 0 } },
      { counter: { family: 'netdev', name: 'to_client_small', table: 'benchloss', handle: 3, packets: 2 * n, bytes: 0 } },
    ] });
    const a = parsePathCounts(host(1), client(1));
    expect(a.to_client.seen).toEqual({ small: 2, mtu: 700, gso: 0 });
    expect(a.to_client.dropped).toEqual({ small: 0, mtu: 21, gso: 0 });
    expect(a.from_client.seen).toEqual({ small: 0, mtu: 100, gso: 0 });
    expect(a.bridge_to_client).toEqual({ small: 0, mtu: 5, gso: 20 });
    const b = parsePathCounts(host(3), client(3));
    expect(pathLine(a, b, 'segments')).toBe("path: to c1 (at c1's eth0) 0 aggregates (0 dropped), 1400 segments (42 dropped), 4 small (0 dropped); " +
      'from c1 0 aggregates (0 dropped), 200 segments (6 dropped), 0 small (0 dropped); br0 forwarded to c1 40 aggregates, 10 segments, 0 small');
  });
});

describe('client offloads', () => {
  const ethtoolK = `Features for veth-c1:
rx-checksumming: on
tx-checksumming: on
tcp-segmentation-offload: off
\ttx-tcp-segmentation: off
generic-segmentation-offload: off
generic-receive-offload: on
large-receive-offload: off [fixed]
`;

  it('names the port features that are not off, and a feature ethtool did not list', () => {
    expect(featuresNotOff(ethtoolK, PORT_FEATURES_OFF)).toEqual(['generic-receive-offload']);
    expect(featuresNotOff(ethtoolK.replace('generic-receive-offload: on', 'generic-receive-offload: off'), PORT_FEATURES_OFF)).toEqual([]);
    expect(featuresNotOff('', ['tcp-segmentation-offload'])).toEqual(['tcp-segmentation-offload']);
    expect(featuresNotOff(ethtoolK, ['tx-tcp-segmentation', 'large-receive-offload'])).toEqual([]);
  });

  it('writes the RPS mask of every CPU as sysfs reads it', () => {
    expect(allCpusMask(1)).toBe('1');
    expect(allCpusMask(2)).toBe('3');
    expect(allCpusMask(12)).toBe('fff');
    expect(allCpusMask(31)).toBe('7fffffff');
    expect(() => allCpusMask(0)).toThrow(RangeError);
    expect(() => allCpusMask(32)).toThrow(RangeError);
  });
});

describe('transfer figures', () => {
  /** A reading where every source has its own values, so a figure read from the wrong one shows. */
  function reading(scale: number): CounterReading {
    return {
      stackd: { tcp_rto_timeouts: 1 * scale, tcp_fast_retransmits: 2 * scale, tcp_retransmits: 3 * scale, tcp_dsacks_rx: 4 * scale,
        tcp_fast_retransmit_undos: 5 * scale, tcp_rto_undos: 6 * scale, tcp_ooo_segments: 7 * scale, tcp_syn_timeouts: 8 * scale },
      c1: { 'TcpExt.TCPTimeouts': 10 * scale, 'TcpExt.TCPSackRecovery': 20 * scale, 'TcpExt.TCPRenoRecovery': 1 * scale, 'Tcp.RetransSegs': 30 * scale,
        'TcpExt.TCPDSACKRecv': 40 * scale, 'TcpExt.TCPDSACKUndo': 50 * scale, 'TcpExt.TCPFullUndo': 1 * scale, 'TcpExt.TCPPartialUndo': 1 * scale,
        'TcpExt.TCPLossUndo': 60 * scale, 'TcpExt.TCPOFOQueue': 70 * scale, 'TcpExt.TCPSynRetrans': 80 * scale },
      c2: { 'TcpExt.TCPTimeouts': 100 * scale, 'TcpExt.TCPSackRecovery': 200 * scale, 'Tcp.RetransSegs': 300 * scale,
        'TcpExt.TCPDSACKRecv': 400 * scale, 'TcpExt.TCPDSACKUndo': 500 * scale, 'TcpExt.TCPLossUndo': 600 * scale, 'TcpExt.TCPOFOQueue': 700 * scale,
        'TcpExt.TCPSynRetrans': 800 * scale },
    };
  }

  it('reads the sender and the receiver of each of the four transfers from its own process or namespace', () => {
    expect(transferEnds('stackd', 'upload')).toEqual({ sender: 'c1', receiver: 'stackd' });
    expect(transferEnds('stackd', 'download')).toEqual({ sender: 'stackd', receiver: 'c1' });
    expect(transferEnds('kernel', 'upload')).toEqual({ sender: 'c1', receiver: 'c2' });
    expect(transferEnds('kernel', 'download')).toEqual({ sender: 'c2', receiver: 'c1' });
    const r = reading(1);
    expect(transferFigures('stackd', 'upload', r)).toEqual({ rtos: 10, recoveries: 21, retransmits: 30, dsacks: 40, fastUndos: 52, rtoUndos: 60, outOfOrder: 7, handshakes: 88 });
    expect(transferFigures('stackd', 'download', r)).toEqual({ rtos: 1, recoveries: 2, retransmits: 3, dsacks: 4, fastUndos: 5, rtoUndos: 6, outOfOrder: 70, handshakes: 88 });
    expect(transferFigures('kernel', 'upload', r)).toEqual({ rtos: 10, recoveries: 21, retransmits: 30, dsacks: 40, fastUndos: 52, rtoUndos: 60, outOfOrder: 700, handshakes: 880 });
    expect(transferFigures('kernel', 'download', r)).toEqual({ rtos: 100, recoveries: 200, retransmits: 300, dsacks: 400, fastUndos: 500, rtoUndos: 600, outOfOrder: 70, handshakes: 880 });
  });

  it('prints the difference between two readings', () => {
    expect(transferLine('stackd', 'upload', reading(1), reading(3))).toBe(
      'sender (c1): RTOs 20, fast recoveries 42, retransmissions 60, D-SACKs 80, undos 104 fast / 120 RTO; receiver (stackd): out of order 14; ' +
      'handshake retransmissions (both ends) 176');
  });

  it('gives the same difference as figures (the RTOs tcp-bench sums up under --loss)', () => {
    expect(transferDelta('stackd', 'upload', reading(1), reading(3))).toEqual({
      rtos: 20, recoveries: 42, retransmits: 60, dsacks: 80, fastUndos: 104, rtoUndos: 120, outOfOrder: 14, handshakes: 176,
    });
  });
});
