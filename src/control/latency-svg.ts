/**
 * Renders a LatencyReport (GET /latency) as an SVG chart for a browser: one panel per
 * thread, one group of four bars per stage (p50, p90, p99, p99.9), all panels on one log
 * scale in microseconds, the sample count under each stage. Used by
 * `perf/stage-latency.ts --svg FILE` and `stackctl latency --svg FILE`; the text form is
 * latency-table.ts.
 */
import { renderBarChart, type BarChart } from '../util/svg-chart.js';
import type { LatencyReport } from './types.js';

/** The series of every stage, in the order of the bars. */
export const LATENCY_SERIES = ['p50', 'p90', 'p99', 'p99.9'] as const;

/** A compact count: 950, 37.5k, 1.2M. */
function count(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/**
 * The chart of `report` titled `title` (with `subtitle` under it, e.g. where and when
 * it was taken). A stage without samples shows 'n/a' bars; a thread without stages is
 * an empty panel.
 */
export function latencyChartSvg(report: LatencyReport, title = 'stackd per-stage latency', subtitle?: string): string {
  const chart: BarChart = {
    title,
    series: LATENCY_SERIES,
    sharedAxis: true,
    panels: report.threads.map(({ thread, stages }) => ({
      title: thread,
      unit: 'µs',
      scale: 'log' as const,
      groups: Object.entries(stages).map(([stage, l]) => ({
        label: stage,
        note: `n=${count(l.count)}`,
        values: l.count === 0 ? [null, null, null, null] : [l.p50, l.p90, l.p99, l.p999],
      })),
    })),
  };
  if (subtitle !== undefined) chart.subtitle = subtitle;
  return renderBarChart(chart);
}
