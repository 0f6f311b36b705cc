/**
 * Grouped bar charts as standalone SVG 1.1 text (viewable in a browser, no script, no
 * DOM needed to write them): panels stacked vertically, each with its own value axis
 * (linear, or log with one tick per decade), groups of bars along it, one bar per series
 * in each group, a legend, and a <title> tooltip on every bar. Used for the per-stage
 * latency chart (control/latency-svg.ts) and the benchmark results (perf/tcp-bench.ts).
 *
 * Every name lands in the document escaped (XML 1.0: `&`, `<`, `>`, quotes; characters
 * XML cannot carry become U+FFFD), so thread, stage or metric names cannot break it.
 * Elements carry class and data-* attributes (data-series, data-value, data-label,
 * data-title) so a test or a script can read the series back with an XML parser.
 * Plain text over a library: decision 0005.
 */

/** One panel: groups of bars against one value axis. */
export interface BarPanel {
  /** Shown above the panel, e.g. 'io' or 'bulk upload'. */
  title: string;
  /** The unit of the values, shown on the axis, e.g. 'µs' or 'Gbit/s'. */
  unit: string;
  /** 'log': one tick per decade (values ≤ 0 cannot be drawn and show as 'n/a'). */
  scale: 'linear' | 'log';
  /** One group per label, with one value per series (null or NaN: no bar, 'n/a'; undefined: not measured, nothing drawn). */
  groups: readonly BarGroup[];
}

/** One group of bars, e.g. one stage, or one worker count. */
export interface BarGroup {
  label: string;
  /** A second, smaller line under the label (e.g. a sample count). */
  note?: string;
  values: readonly (number | null | undefined)[];
}

/** A chart: a title, the series (legend, bar colours) and the panels. */
export interface BarChart {
  title: string;
  /** A line under the title (e.g. the command and the time). */
  subtitle?: string;
  /** One name per bar of a group, in order. */
  series: readonly string[];
  panels: readonly BarPanel[];
  /** The value above each bar (readable for a few series; default false). */
  valueLabels?: boolean;
  /** One axis range for all panels of the same scale and unit, so that they compare (default false). */
  sharedAxis?: boolean;
}

/** Colours of the series, in order (repeats past the eighth). */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#9c755f'];
const BAR_W = 16;
const GROUP_PAD = 14;
const LEFT = 70;
const RIGHT = 20;
const PLOT_H = 200;
const PANEL_TOP = 34;
const PANEL_BOTTOM = 44;
const CHAR_W = 6.2;

/**
 * `s` safe as XML character data and attribute values: the five special characters as
 * entities, characters XML 1.0 does not allow (C0 controls other than tab/LF/CR, lone
 * surrogates, U+FFFE/U+FFFF) as U+FFFD.
 */
export function escapeXml(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex -- matching the control characters is the point
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A value for a label: about three significant digits, no exponent. */
export function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1).replace(/\.0$/, '');
  if (a >= 1) return v.toFixed(2).replace(/\.?0+$/, '');
  if (a === 0) return '0';
  return String(Number(v.toPrecision(3)));
}

/** A tick label: 1, 10, 100, 1k, 10k, 1M, 0.1, 0.01 ... */
export function formatTick(v: number): string {
  if (v >= 1e6) return `${formatValue(v / 1e6)}M`;
  if (v >= 1e3) return `${formatValue(v / 1e3)}k`;
  return formatValue(v);
}

/** An axis: where values map and which ticks it shows. */
interface Axis {
  scale: 'linear' | 'log';
  min: number;
  max: number;
  ticks: number[];
}

/** Decades 10^a ≤ lo … 10^b ≥ hi (at least one decade) for positive lo ≤ hi. */
export function logAxis(lo: number, hi: number): { min: number; max: number; ticks: number[] } {
  let a = Math.floor(Math.log10(lo));
  let b = Math.ceil(Math.log10(hi));
  if (b <= a) b = a + 1;
  if (b - a > 12) a = b - 12; // at most 12 decades: smaller values sit on the floor
  const ticks: number[] = [];
  for (let k = a; k <= b; k++) ticks.push(Number((10 ** k).toPrecision(12)));
  return { min: ticks[0], max: ticks[ticks.length - 1], ticks };
}

/** 0 … a round maximum ≥ hi with a 1/2/5 × 10^k step, about five ticks. */
export function linearAxis(hi: number): { min: number; max: number; ticks: number[] } {
  if (!(hi > 0)) return { min: 0, max: 1, ticks: [0, 0.5, 1] };
  const raw = hi / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const n = Math.ceil(hi / step - 1e-9);
  const ticks = Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(12)));
  return { min: 0, max: ticks[ticks.length - 1], ticks };
}

function drawable(v: number | null | undefined, scale: 'linear' | 'log'): v is number {
  return v !== null && v !== undefined && Number.isFinite(v) && (scale === 'log' ? v > 0 : v >= 0);
}

function axisFor(scale: 'linear' | 'log', values: number[]): Axis {
  if (values.length === 0) return { scale, ...(scale === 'log' ? logAxis(1, 10) : linearAxis(1)) };
  const hi = Math.max(...values);
  return { scale, ...(scale === 'log' ? logAxis(Math.min(...values), hi) : linearAxis(hi)) };
}

/** Height in px above the axis floor of `v` on `axis`, 0 … PLOT_H. */
function heightOf(axis: Axis, v: number): number {
  const f = axis.scale === 'log'
    ? (Math.log10(v) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min))
    : (v - axis.min) / (axis.max - axis.min);
  return Math.max(0, Math.min(1, f)) * PLOT_H;
}

const r1 = (x: number): string => String(Math.round(x * 10) / 10);

/** Panels are laid out in columns up to this width (px), then wrap to the next row. */
const MAX_WIDTH = 1280;

/** Width of one group of bars in `p`: room for the bars and for its label. */
function groupWidth(p: BarPanel, nSeries: number): number {
  return Math.max(nSeries * BAR_W + GROUP_PAD, ...p.groups.map((g) => Math.max(g.label.length, g.note?.length ?? 0) * CHAR_W + GROUP_PAD));
}

/** Width of a panel: its axis labels, its groups, a margin. */
function panelWidth(p: BarPanel, nSeries: number): number {
  return LEFT + Math.max(1, p.groups.length) * groupWidth(p, nSeries) + RIGHT;
}

/** Appends panel `p` drawn against `axis` with its top-left corner at (x0, y0). */
function renderPanel(out: string[], chart: BarChart, p: BarPanel, axis: Axis, x0: number, y0: number): void {
  const nSeries = Math.max(1, chart.series.length);
  const gw = groupWidth(p, nSeries);
  const right = panelWidth(p, nSeries) - RIGHT;
  const floor = PANEL_TOP + PLOT_H;
  out.push(`<g class="panel" data-title="${escapeXml(p.title)}" data-scale="${p.scale}" data-unit="${escapeXml(p.unit)}" transform="translate(${r1(x0)},${r1(y0)})">`);
  out.push(`<text class="panel-title" x="${LEFT}" y="18" font-size="13" font-weight="bold">${escapeXml(p.title)}` +
    `<tspan dx="5" font-weight="normal" fill="#555555">(${escapeXml(p.unit)}${p.scale === 'log' ? ', log scale' : ''})</tspan></text>`);
  out.push(`<g class="axis" data-scale="${p.scale}">`);
  for (const t of axis.ticks) {
    const y = floor - heightOf(axis, t);
    out.push(`<g class="tick" data-value="${t}"><line x1="${LEFT}" y1="${r1(y)}" x2="${r1(right)}" y2="${r1(y)}" stroke="#dddddd"/>` +
      `<text x="${LEFT - 6}" y="${r1(y + 4)}" text-anchor="end" fill="#333333">${escapeXml(formatTick(t))}</text></g>`);
  }
  out.push(`<line x1="${LEFT}" y1="${PANEL_TOP}" x2="${LEFT}" y2="${floor}" stroke="#333333"/>`);
  out.push(`<line x1="${LEFT}" y1="${floor}" x2="${r1(right)}" y2="${floor}" stroke="#333333"/>`);
  out.push('</g>');
  p.groups.forEach((g, gi) => {
    const gx = LEFT + gi * gw;
    const bx0 = gx + (gw - nSeries * BAR_W) / 2;
    out.push(`<g class="group" data-label="${escapeXml(g.label)}">`);
    chart.series.forEach((s, si) => {
      const v = g.values[si];
      const x = bx0 + si * BAR_W;
      if (v === undefined) return;
      if (!drawable(v, p.scale)) {
        out.push(`<text class="missing" data-series="${escapeXml(s)}" x="${r1(x + BAR_W / 2)}" y="${floor - 4}" text-anchor="middle" font-size="8" fill="#999999">n/a</text>`);
        return;
      }
      const h = heightOf(axis, v);
      out.push(`<rect class="bar" data-series="${escapeXml(s)}" data-value="${v}" x="${r1(x + 1)}" y="${r1(floor - h)}" width="${BAR_W - 2}" height="${r1(h)}" fill="${PALETTE[si % PALETTE.length]}">` +
        `<title>${escapeXml(`${p.title} / ${g.label} / ${s}: ${formatValue(v)} ${p.unit}`)}</title></rect>`);
      if (chart.valueLabels) {
        out.push(`<text class="value" x="${r1(x + BAR_W / 2)}" y="${r1(floor - h - 3)}" text-anchor="middle" font-size="9">${escapeXml(formatValue(v))}</text>`);
      }
    });
    out.push(`<text class="group-label" x="${r1(gx + gw / 2)}" y="${floor + 15}" text-anchor="middle">${escapeXml(g.label)}</text>`);
    if (g.note !== undefined) out.push(`<text class="group-note" x="${r1(gx + gw / 2)}" y="${floor + 28}" text-anchor="middle" font-size="9" fill="#666666">${escapeXml(g.note)}</text>`);
    out.push('</g>');
  });
  out.push('</g>');
}

/**
 * The chart as an SVG document (with an XML declaration), newline-terminated: title,
 * subtitle, legend, then the panels in document order, laid out left to right in as many
 * equal columns as fit in MAX_WIDTH px, top to bottom.
 */
export function renderBarChart(chart: BarChart): string {
  const nSeries = Math.max(1, chart.series.length);
  const cellW = Math.max(0, ...chart.panels.map((p) => panelWidth(p, nSeries)));
  const columns = Math.max(1, Math.min(chart.panels.length, Math.floor(MAX_WIDTH / Math.max(1, cellW))));
  const rows = Math.ceil(chart.panels.length / columns);
  const legendWidth = chart.series.reduce((w, s) => w + 24 + s.length * CHAR_W + 12, 0);
  const width = Math.ceil(Math.max(480, columns * cellW, LEFT + legendWidth, LEFT + chart.title.length * 8.5, LEFT + (chart.subtitle?.length ?? 0) * CHAR_W + RIGHT));
  const headerH = chart.subtitle ? 74 : 58;
  const panelH = PANEL_TOP + PLOT_H + PANEL_BOTTOM;
  const height = headerH + rows * panelH + 10;

  // Axes: per panel, or one per (scale, unit) over all panels when shared.
  const values = (ps: readonly BarPanel[], scale: 'linear' | 'log'): number[] =>
    ps.flatMap((p) => p.groups.flatMap((g) => g.values.filter((v): v is number => drawable(v, scale))));
  const axes = chart.panels.map((p) =>
    axisFor(p.scale, values(chart.sharedAxis ? chart.panels.filter((q) => q.scale === p.scale && q.unit === p.unit) : [p], p.scale)));

  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<title>${escapeXml(chart.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text class="title" x="${LEFT}" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`);
  if (chart.subtitle) out.push(`<text class="subtitle" x="${LEFT}" y="40" fill="#555555">${escapeXml(chart.subtitle)}</text>`);
  out.push('<g class="legend">');
  let lx = LEFT;
  const ly = headerH - 14;
  chart.series.forEach((s, i) => {
    out.push(`<g class="legend-item" data-series="${escapeXml(s)}"><rect x="${r1(lx)}" y="${ly - 9}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>` +
      `<text x="${r1(lx + 16)}" y="${ly + 1}">${escapeXml(s)}</text></g>`);
    lx += 24 + s.length * CHAR_W + 12;
  });
  out.push('</g>');
  chart.panels.forEach((p, pi) => {
    renderPanel(out, chart, p, axes[pi], (pi % columns) * cellW, headerH + Math.floor(pi / columns) * panelH);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
