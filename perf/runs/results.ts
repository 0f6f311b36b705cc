/**
 * The results of perf/tcp-bench.ts: one value per run for each (metric, worker count,
 * side), reported as medians (or means, for counts) in one text table per metric (stackd,
 * kernel, ratio; for bulk transfers also the median of the runs' own ratios) and,
 * with --svg, as grouped bars (src/util/svg-chart.ts): one panel per metric, one group per
 * worker count, stackd and kernel side by side.
 */
import { renderBarChart, type BarChart, type BarPanel } from '../../src/util/svg-chart.js';
import { formatTable, median } from '../lab-bench.js';

/**
 * Which side served the load: stackd, or the stack it is compared with, the kernel (or,
 * for a metric with `against`, that stack: values of the other side are stored as 'kernel').
 */
export type Target = 'stackd' | 'kernel';

/** How one metric is reported. */
export interface MetricSpec {
  /** The key values are stored under. */
  key: string;
  /** The table's title line. */
  title: string;
  /** Short name and unit for the chart panel. */
  short: string;
  unit: string;
  digits: number;
  /** Chart on a log axis (latencies spanning decades). */
  log?: boolean;
  /**
   * Add the column of paired ratios (the median over runs of each run's stackd / kernel,
   * the two measured back to back) and the serving process's CPU columns (stored under
   * the same key with putCpu). For the bulk transfers, whose single values swing with the
   * machine's slow periods of several seconds.
   */
  withCpu?: boolean;
  /** The kernel is not measured for this metric (no kernel column nor ratio). */
  stackdOnly?: boolean;
  /** The other side is this stack, not the kernel (its column and the ratio are named after it; not in the chart). */
  against?: string;
  /** How the runs are summed up: their median (default) or their mean (counts per run, such as RTOs per transfer). */
  summary?: 'median' | 'mean';
}

type Store = Map<string, Map<number, Record<Target, number[]>>>;

function add(store: Store, key: string, w: number, t: Target, v: number): void {
  let m = store.get(key);
  if (!m) store.set(key, (m = new Map<number, Record<Target, number[]>>()));
  let r = m.get(w);
  if (!r) m.set(w, (r = { stackd: [], kernel: [] }));
  r[t].push(v);
}

const fmt = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const med = (xs: readonly number[] | undefined): number => median((xs ?? []).filter(Number.isFinite));
const mean = (xs: readonly number[] | undefined): number => {
  const ok = (xs ?? []).filter(Number.isFinite);
  return ok.length === 0 ? NaN : ok.reduce((a, b) => a + b, 0) / ok.length;
};

/** Values per metric, worker count and side. */
export class BenchResults {
  private readonly values: Store = new Map();
  private readonly cpu: Store = new Map();

  /** Records one run's value (NaN: the run failed). */
  put(key: string, w: number, t: Target, v: number): void {
    add(this.values, key, w, t, v);
  }

  /** Records the serving process's CPU (% of a core) of one run. */
  putCpu(key: string, w: number, t: Target, pct: number): void {
    add(this.cpu, key, w, t, pct);
  }

  /** The median of the finite values recorded (NaN if none). */
  median(key: string, w: number, t: Target): number {
    return med(this.values.get(key)?.get(w)?.[t]);
  }

  /** The median over runs of stackd / kernel of the same run (runs where either failed left out). */
  pairedRatio(key: string, w: number): number {
    const r = this.values.get(key)?.get(w);
    if (!r) return NaN;
    const n = Math.min(r.stackd.length, r.kernel.length);
    const ratios: number[] = [];
    for (let i = 0; i < n; i++) ratios.push(r.stackd[i] / r.kernel[i]);
    return med(ratios);
  }

  /** What a metric reports for (w, t): the median of its runs, or their mean (MetricSpec.summary). */
  summary(s: MetricSpec, w: number, t: Target): number {
    return s.summary === 'mean' ? mean(this.values.get(s.key)?.get(w)?.[t]) : this.median(s.key, w, t);
  }

  /** One text table per metric that has values, in `specs` order, each preceded by a blank line and its title. */
  tables(specs: readonly MetricSpec[]): string {
    let out = '';
    for (const s of specs) {
      const m = this.values.get(s.key);
      if (!m) continue;
      const other = s.against ?? 'kernel';
      const header = s.stackdOnly ? ['workers', 'stackd'] : ['workers', 'stackd', other, `stackd/${other}`];
      if (s.withCpu) header.push('paired ratio', 'stackd CPU %core', 'peer CPU %core');
      const rows = [...m.keys()].map((w) => {
        const v = this.summary(s, w, 'stackd');
        const k = this.summary(s, w, 'kernel');
        const row = s.stackdOnly ? [String(w), fmt(v, s.digits)] : [String(w), fmt(v, s.digits), fmt(k, s.digits), fmt(v / k, 2)];
        if (s.withCpu) {
          const c = this.cpu.get(s.key)?.get(w);
          row.push(fmt(this.pairedRatio(s.key, w), 2), fmt(med(c?.stackd), 0), fmt(med(c?.kernel), 0));
        }
        return row;
      });
      out += `\n${s.title}\n${formatTable(header, rows)}\n`;
    }
    return out;
  }

  /** The SVG chart of every metric that has values. */
  chart(specs: readonly MetricSpec[], title: string, subtitle: string): string {
    const panels: BarPanel[] = [];
    for (const s of specs) {
      const m = this.values.get(s.key);
      if (!m || s.against !== undefined) continue;
      panels.push({
        title: s.short,
        unit: s.unit,
        scale: s.log ? 'log' : 'linear',
        groups: [...m.keys()].map((w) => ({
          label: `${w} worker${w === 1 ? '' : 's'}`,
          values: [this.summary(s, w, 'stackd'), s.stackdOnly ? undefined : this.summary(s, w, 'kernel')],
        })),
      });
    }
    const chart: BarChart = { title, subtitle, series: ['stackd', 'kernel'], panels, valueLabels: true };
    return renderBarChart(chart);
  }
}
