/**
 * The pieces of perf/tcp-bench.ts that need no lab: the results store (medians over runs,
 * or means for counts, failed runs left out, the stackd-only metrics without kernel columns,
 * the metrics against another stack, the text tables and the SVG chart), and the parser of the kernel's /proc/net counters.
 */
import { describe, expect, it } from 'vitest';
import { parseProcNetCounters } from '../../perf/lab-bench.js';
import { BenchResults, type MetricSpec } from '../../perf/runs/results.js';
import { byClass, parseXml } from '../helpers/xml-tree.js';

const SPECS: MetricSpec[] = [
  { key: 'upload', title: 'bulk upload, Gbit/s', short: 'upload', unit: 'Gbit/s', digits: 3, withCpu: true },
  { key: 'ping p99', title: 'ping p99, µs', short: 'ping p99', unit: 'µs', digits: 0, log: true },
  { key: 'memory KiB/conn', title: 'RSS per connection, KiB', short: 'RSS/conn', unit: 'KiB', digits: 2, stackdOnly: true },
  { key: 'never measured', title: 'absent', short: 'absent', unit: 'x', digits: 0 },
];

function sample(): BenchResults {
  const r = new BenchResults();
  for (const [s, k] of [[1.0, 2.0], [3.0, NaN], [2.0, 4.0]] as const) {
    r.put('upload', 1, 'stackd', s);
    r.put('upload', 1, 'kernel', k);
  }
  r.putCpu('upload', 1, 'stackd', 99.6);
  r.putCpu('upload', 1, 'kernel', 50.2);
  r.put('ping p99', 1, 'stackd', 1570);
  r.put('ping p99', 1, 'kernel', 144);
  r.put('ping p99', 4, 'stackd', 2200);
  r.put('ping p99', 4, 'kernel', NaN);
  r.put('memory KiB/conn', 1, 'stackd', 6.789);
  return r;
}

describe('BenchResults', () => {
  it('medians leave failed (NaN) runs out; the tables show stackd, kernel, ratio, CPU, and n/a', () => {
    const r = sample();
    expect(r.median('upload', 1, 'stackd')).toBe(2);
    expect(r.median('upload', 1, 'kernel')).toBe(2); // nearest rank of [2, 4]
    expect(r.pairedRatio('upload', 1)).toBe(0.5); // runs 1 and 3: 1/2 and 2/4; run 2's kernel failed
    expect(r.tables(SPECS)).toBe([
      '',
      'bulk upload, Gbit/s',
      'workers  stackd  kernel  stackd/kernel  paired ratio  stackd CPU %core  peer CPU %core',
      '-------  ------  ------  -------------  ------------  ----------------  --------------',
      '1         2.000   2.000           1.00          0.50               100              50',
      '',
      'ping p99, µs',
      'workers  stackd  kernel  stackd/kernel',
      '-------  ------  ------  -------------',
      '1          1570     144          10.90',
      '4          2200     n/a            n/a',
      '',
      'RSS per connection, KiB',
      'workers  stackd',
      '-------  ------',
      '1          6.79',
      '',
    ].join('\n'));
  });

  it('the chart: one panel per measured metric, one group per worker count, no kernel bar where it is not measured', () => {
    const doc = parseXml(sample().chart(SPECS, 'tcp-bench', 'test'));
    const panels = byClass(doc, 'panel');
    expect(panels.map((p) => [p.attrs['data-title'], p.attrs['data-scale'], p.attrs['data-unit']])).toEqual([
      ['upload', 'linear', 'Gbit/s'], ['ping p99', 'log', 'µs'], ['RSS/conn', 'linear', 'KiB'],
    ]);
    expect(byClass(panels[1], 'group').map((g) => g.attrs['data-label'])).toEqual(['1 worker', '4 workers']);
    const bars = (i: number) => byClass(panels[i], 'bar').map((b) => [b.attrs['data-series'], Number(b.attrs['data-value'])]);
    expect(bars(1)).toEqual([['stackd', 1570], ['kernel', 144], ['stackd', 2200]]);
    expect(byClass(panels[1], 'missing').map((m) => m.attrs['data-series'])).toEqual(['kernel']);
    expect(bars(2)).toEqual([['stackd', 6.789]]);
    expect(byClass(panels[2], 'missing')).toEqual([]);
  });

  it('a metric against another stack (--gvisor) names that stack in its table and stays out of the chart', () => {
    const specs: MetricSpec[] = [{ key: 'ping p50 gvisor', title: 'ping p50 against gVisor, µs', short: 'ping vs gVisor', unit: 'µs', digits: 0, against: 'gvisor' }];
    const r = new BenchResults();
    r.put('ping p50 gvisor', 1, 'stackd', 150);
    r.put('ping p50 gvisor', 1, 'kernel', 200);
    expect(r.tables(specs)).toBe([
      '',
      'ping p50 against gVisor, µs',
      'workers  stackd  gvisor  stackd/gvisor',
      '-------  ------  ------  -------------',
      '1           150     200           0.75',
      '',
    ].join('\n'));
    expect(byClass(parseXml(r.chart(specs, 'tcp-bench', 'test')), 'panel')).toEqual([]);
  });
});

describe('BenchResults, metrics summed up by their mean', () => {
  const specs: MetricSpec[] = [
    { key: 'download s', title: 'download, seconds per transfer', short: 'time', unit: 's', digits: 2 },
    { key: 'download RTOs', title: 'download, RTOs per transfer', short: 'RTOs', unit: 'RTOs', digits: 1, summary: 'mean' },
  ];

  it('a count per run (RTOs per transfer) is reported as the mean of the runs that did not fail; times stay medians', () => {
    const r = new BenchResults();
    for (const [s, k, rs, rk] of [[0.21, 0.12, 0, 0], [1.13, 0.05, 1, 0], [0.11, 0.04, 2, 0], [NaN, 0.06, NaN, 1]] as const) {
      r.put('download s', 1, 'stackd', s);
      r.put('download s', 1, 'kernel', k);
      r.put('download RTOs', 1, 'stackd', rs);
      r.put('download RTOs', 1, 'kernel', rk);
    }
    expect(r.summary(specs[0], 1, 'stackd')).toBe(0.21);
    expect(r.summary(specs[1], 1, 'stackd')).toBe(1);
    expect(r.summary(specs[1], 1, 'kernel')).toBe(0.25);
    expect(r.tables(specs)).toBe([
      '',
      'download, seconds per transfer',
      'workers  stackd  kernel  stackd/kernel',
      '-------  ------  ------  -------------',
      '1          0.21    0.05           4.20',
      '',
      'download, RTOs per transfer',
      'workers  stackd  kernel  stackd/kernel',
      '-------  ------  ------  -------------',
      '1           1.0     0.3           4.00',
      '',
    ].join('\n'));
    const doc = parseXml(r.chart(specs, 'tcp-bench', 'test'));
    expect(byClass(byClass(doc, 'panel')[1], 'bar').map((b) => Number(b.attrs['data-value']))).toEqual([1, 0.25]);
  });

  it('a metric whose every run failed is n/a', () => {
    const r = new BenchResults();
    r.put('download RTOs', 1, 'stackd', NaN);
    expect(Number.isNaN(r.summary(specs[1], 1, 'stackd'))).toBe(true);
  });
});

describe('parseProcNetCounters', () => {
  it('pairs name and value lines by their prefix, for snmp and netstat alike', () => {
    const text = [
      'Ip: Forwarding DefaultTTL InReceives',
      'Ip: 1 64 1234',
      'Icmp: InMsgs InErrors',
      'Icmp: 5 0',
      'Tcp: RtoAlgorithm ActiveOpens PassiveOpens MaxConn',
      'Tcp: 1 10 79592 -1',
      'TcpExt: SyncookiesSent TW TCPTimeWaitOverflow',
      'TcpExt: 0 48 4386',
      '',
    ].join('\n');
    expect(parseProcNetCounters(text)).toEqual({
      'Ip.Forwarding': 1, 'Ip.DefaultTTL': 64, 'Ip.InReceives': 1234, 'Icmp.InMsgs': 5, 'Icmp.InErrors': 0,
      'Tcp.RtoAlgorithm': 1, 'Tcp.ActiveOpens': 10, 'Tcp.PassiveOpens': 79592, 'Tcp.MaxConn': -1,
      'TcpExt.SyncookiesSent': 0, 'TcpExt.TW': 48, 'TcpExt.TCPTimeWaitOverflow': 4386,
    });
    expect(parseProcNetCounters('')).toEqual({});
  });
});
