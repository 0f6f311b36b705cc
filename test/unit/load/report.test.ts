/**
 * stackd-load's report (load/report.ts): per-kind counts and latency percentiles from
 * the outcomes, failures by cause and by kind with a few examples, /stats deltas, and the
 * text rendering.
 */
import { describe, expect, it } from 'vitest';
import type { ClientOutcome } from '../../../load/client.js';
import { Aggregate, MAX_EXAMPLES, counterDeltas, formatReport, type LoadReport } from '../../../load/report.js';

const ok = (kind: ClientOutcome['kind'], ms: number, bytes = 100): ClientOutcome => ({ kind, cause: null, latencyUs: ms * 1000, bytes });
const bad = (kind: ClientOutcome['kind'], cause: string, detail = ''): ClientOutcome => ({ kind, cause, latencyUs: 5, bytes: 777, detail }); // bytes of failures are not counted

describe('Aggregate', () => {
  it('counts per kind; latency percentiles of the successful clients; failures by cause and kind', () => {
    const agg = new Aggregate();
    for (let i = 1; i <= 100; i++) {
      agg.start('nc-echo');
      agg.add(ok('nc-echo', i)); // 1..100 ms
    }
    for (let i = 0; i < 4; i++) agg.start('curl-post');
    agg.add(ok('curl-post', 7, 65536));
    agg.add(bad('curl-post', 'refused', 'curl: (7) Failed to connect'));
    agg.add(bad('curl-post', 'http-503'));
    agg.start('curl-bytes');
    agg.add(bad('curl-bytes', 'refused'));
    expect(agg.completed).toBe(104);
    const s = agg.summary();
    expect(s).toMatchObject({ started: 105, completed: 104, ok: 101, failed: 3 });
    const echo = s.kinds['nc-echo']!;
    expect(echo).toMatchObject({ started: 100, ok: 100, failed: 0, bytes: 10_000 });
    // HDR histogram: within its precision of the exact figures (50 ms, 99 ms, 100 ms).
    expect(echo.p50Ms).toBeCloseTo(50, 0);
    expect(echo.p99Ms).toBeCloseTo(99, 0);
    expect(echo.maxMs).toBeCloseTo(100, 0);
    expect(s.kinds['curl-post']).toMatchObject({ started: 4, ok: 1, failed: 2, bytes: 65536, p50Ms: 7, maxMs: 7 });
    // No successful client: no latency figures.
    expect(s.kinds['curl-bytes']).toMatchObject({ started: 1, ok: 0, failed: 1, p50Ms: 0, p99Ms: 0, maxMs: 0 });
    expect(s.failures).toEqual({ refused: 2, 'http-503': 1 });
    expect(s.failuresByKind).toEqual({ 'curl-post': { refused: 1, 'http-503': 1 }, 'curl-bytes': { refused: 1 } });
    expect(s.examples).toEqual([
      { kind: 'curl-post', cause: 'refused', detail: 'curl: (7) Failed to connect' },
      { kind: 'curl-post', cause: 'http-503', detail: '' },
      { kind: 'curl-bytes', cause: 'refused', detail: '' },
    ]);
  });

  it(`keeps at most ${MAX_EXAMPLES} failure examples`, () => {
    const agg = new Aggregate();
    for (let i = 0; i < 20; i++) agg.add(bad('nc-echo', 'timeout'));
    expect(agg.summary().examples).toHaveLength(MAX_EXAMPLES);
    expect(agg.summary().failures).toEqual({ timeout: 20 });
  });
});

describe('counterDeltas', () => {
  it('after − before for the counters that changed, new ones included', () => {
    expect(counterDeltas({ a: 1, b: 5, c: 2 }, { a: 1, b: 9, c: 0, d: 3 })).toEqual({ b: 4, c: -2, d: 3 });
  });
});

describe('formatReport', () => {
  const agg = new Aggregate();
  agg.start('nc-echo');
  agg.add(ok('nc-echo', 12, 2048));
  agg.start('curl-bytes');
  agg.add(bad('curl-bytes', 'wrong-bytes'));
  const report: LoadReport = {
    target: '10.10.0.4', mode: 'process', mix: 'nc-echo:1,curl-bytes:1',
    caps: { clients: 2, total: 2, durationMs: 1000, timeoutMs: 1000, batch: 1 },
    stoppedBy: 'total', elapsedMs: 250, peakAlive: 2, connPerSec: 8, ...agg.summary(),
    stats: { deltas: { tcp_passive_opens: 2, tcp_established_total: 2, drop_tcp_out_of_window: 1, tcp_rx_bytes: 2048 } },
  };

  it('says what ran, a table per kind, the failures and the stack counters', () => {
    expect(formatReport(report)).toBe([
      'stackd-load: 2 clients (process mode, at most 2 at once, peak 2) against 10.10.0.4, mix nc-echo:1,curl-bytes:1; 0.25 s, stopped by total; 8 conn/s',
      'kind        started  ok  failed  p50 ms  p99 ms  max ms  bytes',
      '----------  -------  --  ------  ------  ------  ------  -----',
      // 12 ms as the HDR histogram's bucket holding it reports it
      'nc-echo           1   1       0   12.01   12.01   12.01   2 kB',
      'curl-bytes        1   0       1       0       0       0    0 B',
      'failures: wrong-bytes 1 (curl-bytes 1)',
      '  e.g. curl-bytes: wrong-bytes',
      'stackd /stats over the run: tcp_passive_opens +2, tcp_established_total +2, tcp_resets_rx +0, tcp_resets_tx +0, tcp_retransmits +0, tcp_rto_timeouts +0, tcp_rx_bytes +2048, tcp_tx_bytes +0',
      'stackd drops over the run: tcp_out_of_window +1',
      '',
    ].join('\n'));
  });

  it('without --control: no stats lines; when they could not be read: why', () => {
    expect(formatReport({ ...report, stats: null })).not.toContain('stackd /stats');
    expect(formatReport({ ...report, stats: null, statsError: 'no stackd control socket at /x: is stackd running? (--control)' }))
      .toContain('stackd /stats: not read (no stackd control socket at /x: is stackd running? (--control))\n');
  });
});
