/**
 * Renders a LatencyReport (GET /latency) as a fixed-width text table for terminals:
 * one row per thread and stage, times in microseconds with one decimal. Used by
 * perf/stage-latency.ts and `stackctl latency`.
 */
import { formatTable } from '../util/text-table.js';
import type { LatencyReport } from './types.js';

const HEADER = ['thread', 'stage', 'count', 'p50 µs', 'p90 µs', 'p99 µs', 'p99.9 µs', 'max µs'];
/** Columns after the first two are numbers and right-aligned. */
const TEXT_COLUMNS = 2;

/**
 * Formats `report` as aligned columns separated by two spaces, a header row and one
 * row per (thread, stage) in report order, newline-terminated. A stage with no samples
 * shows '-' for its times; a report with no stages says so.
 */
export function formatLatencyTable(report: LatencyReport): string {
  const rows: string[][] = [];
  for (const { thread, stages } of report.threads) {
    for (const [stage, l] of Object.entries(stages)) {
      const us = (v: number) => (l.count === 0 ? '-' : v.toFixed(1));
      rows.push([thread, stage, String(l.count), us(l.p50), us(l.p90), us(l.p99), us(l.p999), us(l.max)]);
    }
  }
  if (rows.length === 0) return 'no latency samples\n';
  return formatTable(HEADER, rows, { leftColumns: TEXT_COLUMNS, rule: false }) + '\n';
}
