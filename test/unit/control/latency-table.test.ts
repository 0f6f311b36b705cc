/**
 * The fixed-width latency table printed by perf/stage-latency.ts, compared as exact text.
 */
import { describe, expect, it } from 'vitest';
import { formatLatencyTable } from '../../../src/control/latency-table.js';
import type { LatencyReport } from '../../../src/control/types.js';

describe('formatLatencyTable', () => {
  it('aligns one row per thread and stage, in µs with one decimal', () => {
    const report: LatencyReport = {
      unit: 'us',
      threads: [
        {
          thread: 'io',
          stages: { tap_read: { count: 1200, p50: 2, p90: 3.25, p99: 10.04, p999: 48.96, max: 120, mean: 2.5 } },
        },
        {
          thread: 'worker-0',
          stages: {
            rx: { count: 7, p50: 0.5, p90: 1, p99: 1.5, p999: 1.5, max: 1.55, mean: 0.7 },
            udp_deliver: { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 },
          },
        },
      ],
    };
    expect(formatLatencyTable(report)).toBe(
      [
        'thread    stage        count  p50 µs  p90 µs  p99 µs  p99.9 µs  max µs',
        'io        tap_read      1200     2.0     3.3    10.0      49.0   120.0',
        'worker-0  rx               7     0.5     1.0     1.5       1.5     1.6',
        'worker-0  udp_deliver      0       -       -       -         -       -',
        '',
      ].join('\n'),
    );
  });

  it('says so when there are no stages', () => {
    expect(formatLatencyTable({ unit: 'us', threads: [] })).toBe('no latency samples\n');
    expect(formatLatencyTable({ unit: 'us', threads: [{ thread: 'io', stages: {} }] })).toBe('no latency samples\n');
  });
});
