/**
 * The SVG charts (src/util/svg-chart.ts, src/control/latency-svg.ts): the documents parse
 * as well-formed XML with a real XML parser (saxes), carry the expected series (one group
 * per stage per thread, the four percentiles, log-scale decade ticks), place bars by their
 * values, and escape odd names.
 */
import { describe, expect, it } from 'vitest';
import { LATENCY_SERIES, latencyChartSvg } from '../../src/control/latency-svg.js';
import type { LatencyReport } from '../../src/control/types.js';
import { escapeXml, formatTick, linearAxis, logAxis, renderBarChart } from '../../src/util/svg-chart.js';
import { byClass, findAll, parseXml, textOf, type XmlElement } from '../helpers/xml-tree.js';

const stage = (count: number, p50: number, p90: number, p99: number, p999: number) => ({ count, p50, p90, p99, p999, max: p999 * 2, mean: p50 });

const REPORT: LatencyReport = {
  unit: 'us',
  threads: [
    { thread: 'io', stages: { rx_dispatch: stage(37500, 19, 74.9, 130.4, 3209.2), tx_queue: stage(18759, 1887.2, 3917.8, 11968.5, 27426.8) } },
    { thread: 'worker-0', stages: { rx_queue: stage(37500, 2220, 11239.4, 16957.4, 28622.8), process: stage(18566, 0.4, 193.5, 520.2, 3293.2), idle: stage(0, 0, 0, 0, 0) } },
  ],
};

const bars = (g: XmlElement): XmlElement[] => byClass(g, 'bar');
const y = (e: XmlElement): number => Number(e.attrs.y);

describe('latencyChartSvg', () => {
  const svg = latencyChartSvg(REPORT, 'latency under load', 'stackd --workers 1');
  const doc = parseXml(svg);

  it('is a well-formed SVG document with the title and subtitle', () => {
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')).toBe(true);
    expect(doc.name).toBe('svg');
    expect(doc.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(Number(doc.attrs.width)).toBeGreaterThan(0);
    expect(doc.attrs.viewBox).toBe(`0 0 ${doc.attrs.width} ${doc.attrs.height}`);
    expect(textOf(byClass(doc, 'title')[0])).toBe('latency under load');
    expect(textOf(byClass(doc, 'subtitle')[0])).toBe('stackd --workers 1');
  });

  it('has one panel per thread, one group per stage, four percentile bars per group with their values', () => {
    const panels = byClass(doc, 'panel');
    expect(panels.map((p) => p.attrs['data-title'])).toEqual(['io', 'worker-0']);
    expect(panels.map((p) => byClass(p, 'group').map((g) => g.attrs['data-label']))).toEqual([
      ['rx_dispatch', 'tx_queue'],
      ['rx_queue', 'process', 'idle'],
    ]);
    expect(byClass(doc, 'legend-item').map((l) => l.attrs['data-series'])).toEqual(['p50', 'p90', 'p99', 'p99.9']);
    expect(LATENCY_SERIES).toEqual(['p50', 'p90', 'p99', 'p99.9']);
    for (const [pi, t] of REPORT.threads.entries()) {
      for (const [gi, [name, l]] of Object.entries(t.stages).entries()) {
        const g = byClass(panels[pi], 'group')[gi];
        if (l.count === 0) {
          expect(bars(g)).toEqual([]);
          expect(byClass(g, 'missing').map((m) => m.attrs['data-series'])).toEqual([...LATENCY_SERIES]);
          continue;
        }
        expect(bars(g).map((b) => [b.attrs['data-series'], Number(b.attrs['data-value'])])).toEqual([
          ['p50', l.p50], ['p90', l.p90], ['p99', l.p99], ['p99.9', l.p999],
        ]);
        expect(textOf(byClass(g, 'group-note')[0])).toBe(`n=${l.count >= 1e4 ? `${(l.count / 1000).toFixed(1)}k` : l.count}`);
        // Tooltips name thread, stage, percentile and value.
        expect(textOf(findAll(bars(g)[2], (e) => e.name === 'title')[0])).toBe(`${t.thread} / ${name} / p99: ${l.p99 >= 100 ? l.p99.toFixed(0) : l.p99} µs`);
      }
    }
  });

  it('draws every panel on one log axis with a tick per decade, higher percentiles taller', () => {
    const axes = byClass(doc, 'axis');
    expect(axes.map((a) => a.attrs['data-scale'])).toEqual(['log', 'log']);
    // Values span 0.4 … 28622.8 µs: decades 0.1 … 100000 on both panels.
    for (const a of axes) expect(byClass(a, 'tick').map((t) => Number(t.attrs['data-value']))).toEqual([0.1, 1, 10, 100, 1000, 10000, 100000]);
    expect(byClass(axes[0], 'tick').map((t) => textOf(t))).toEqual(['0.1', '1', '10', '100', '1k', '10k', '100k']);
    const tickY = new Map(byClass(axes[0], 'tick').map((t) => [Number(t.attrs['data-value']), Number(findAll(t, (e) => e.name === 'line')[0].attrs.y1)]));
    const decade = tickY.get(1)! - tickY.get(10)!;
    expect(decade).toBeGreaterThan(0);
    // A bar's top sits at log10(value) between the decade ticks (1 px rounding).
    const rx = bars(byClass(doc, 'group')[0]);
    expect(y(rx[0])).toBeCloseTo(tickY.get(10)! - Math.log10(19 / 10) * decade, 0);
    expect(y(rx[3])).toBeCloseTo(tickY.get(1000)! - Math.log10(3209.2 / 1000) * decade, 0);
    for (const g of byClass(doc, 'group')) {
      const ys = bars(g).map(y);
      for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeLessThanOrEqual(ys[i - 1]);
    }
  });

  it('an empty report is still a well-formed document', () => {
    const empty = parseXml(latencyChartSvg({ unit: 'us', threads: [] }));
    expect(byClass(empty, 'panel')).toEqual([]);
    expect(byClass(empty, 'legend-item')).toHaveLength(4);
  });
});

describe('renderBarChart', () => {
  it('escapes odd names in text and attributes, and replaces characters XML cannot carry', () => {
    const odd = `a<b>&"c'\u0001 é 🚀 \uD800`;
    const svg = renderBarChart({
      title: odd,
      subtitle: '</svg>',
      series: [odd, 'kernel'],
      valueLabels: true,
      panels: [{ title: odd, unit: '<µs>', scale: 'log', groups: [{ label: odd, note: '&amp;', values: [12, 3400] }] }],
    });
    const doc = parseXml(svg); // throws on any well-formedness error
    const cleaned = `a<b>&"c'\uFFFD é 🚀 \uFFFD`;
    expect(textOf(byClass(doc, 'title')[0])).toBe(cleaned);
    expect(textOf(byClass(doc, 'subtitle')[0])).toBe('</svg>');
    expect(byClass(doc, 'panel')[0].attrs['data-title']).toBe(cleaned);
    expect(byClass(doc, 'panel')[0].attrs['data-unit']).toBe('<µs>');
    const g = byClass(doc, 'group')[0];
    expect(g.attrs['data-label']).toBe(cleaned);
    expect(textOf(byClass(g, 'group-note')[0])).toBe('&amp;');
    expect(bars(g).map((b) => b.attrs['data-series'])).toEqual([cleaned, 'kernel']);
    expect(byClass(doc, 'value').map(textOf)).toEqual(['12', '3400']);
    expect(escapeXml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&apos;');
  });

  it('a linear panel: ticks from 0 by a round step, bar heights proportional, n/a for a failed value, nothing for one not measured', () => {
    const doc = parseXml(renderBarChart({
      title: 'bulk', series: ['stackd', 'kernel'],
      panels: [
        { title: 'upload', unit: 'Gbit/s', scale: 'linear', groups: [{ label: '1 worker', values: [1.5, 3] }, { label: '2 workers', values: [NaN, 2.4] }] },
        { title: 'RSS', unit: 'MiB', scale: 'linear', groups: [{ label: '1 worker', values: [690, undefined] }] },
      ],
    }));
    const rss = byClass(doc, 'panel')[1];
    expect(bars(rss).map((b) => b.attrs['data-series'])).toEqual(['stackd']);
    expect(byClass(rss, 'missing')).toEqual([]);
    expect(byClass(rss, 'tick').map((t) => Number(t.attrs['data-value']))).toEqual([0, 200, 400, 600, 800]);
    const ticks = byClass(byClass(doc, 'panel')[0], 'tick').map((t) => Number(t.attrs['data-value']));
    expect(ticks).toEqual([0, 1, 2, 3]);
    const [one, two] = byClass(doc, 'group');
    const h = bars(one).map((b) => Number(b.attrs.height));
    expect(h[1] / h[0]).toBeCloseTo(2, 2);
    expect(byClass(two, 'missing').map((m) => m.attrs['data-series'])).toEqual(['stackd']);
    expect(bars(two).map((b) => b.attrs['data-series'])).toEqual(['kernel']);
  });

  it('axes: decades around the values, at least one; round linear steps', () => {
    expect(logAxis(19, 3209).ticks).toEqual([10, 100, 1000, 10000]);
    expect(logAxis(100, 100).ticks).toEqual([100, 1000]);
    expect(logAxis(0.004, 0.03).ticks).toEqual([0.001, 0.01, 0.1]);
    expect(linearAxis(7447).ticks).toEqual([0, 2000, 4000, 6000, 8000]);
    expect(linearAxis(0).ticks).toEqual([0, 0.5, 1]);
    expect([0.01, 1, 1000, 25000, 2e6].map(formatTick)).toEqual(['0.01', '1', '1k', '25k', '2M']);
  });
});
