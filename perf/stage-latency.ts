/**
 * Prints the per-stage latency histograms of a running stackd (GET /latency on its
 * control socket) as a table, or as raw JSON; `--svg FILE` also writes them as an SVG
 * chart (p50/p90/p99/p99.9 per stage per thread, log scale; control/latency-svg.ts).
 *
 *   node dist/perf/stage-latency.js [--control PATH|HOST:PORT] [--reset [--wait SECONDS]] [--json] [--svg FILE]
 *
 * `--reset` clears the histograms first (POST /latency/reset) and `--wait` lets traffic
 * accumulate before reading. Exit status: 0 ok, 1 stackd unreachable or refused (or the
 * SVG file cannot be written), 2 bad flags.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { controlRequest } from '../src/control/control-client.js';
import { latencyChartSvg } from '../src/control/latency-svg.js';
import { formatLatencyTable } from '../src/control/latency-table.js';
import type { LatencyReport } from '../src/control/types.js';

const USAGE =
  'usage: node dist/perf/stage-latency.js [--control PATH|HOST:PORT] [--reset [--wait SECONDS]] [--json] [--svg FILE]';

/** Flags as parsed, or a one-line complaint. */
function parseFlags(argv: string[]): { control: string; reset: boolean; wait: number; json: boolean; svg: string | undefined; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      control: { type: 'string', default: '/run/stackd/tap0.sock' },
      reset: { type: 'boolean', default: false },
      wait: { type: 'string', default: '0' },
      json: { type: 'boolean', default: false },
      svg: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const wait = Number(values.wait);
  if (!/^\d+(\.\d+)?$/.test(values.wait) || !Number.isFinite(wait)) {
    throw new Error(`--wait expects a number of seconds >= 0, got '${values.wait}'`);
  }
  if (values.svg === '') throw new Error('--svg expects a file name');
  return { control: values.control, reset: values.reset, wait, json: values.json, svg: values.svg, help: values.help };
}

/** Runs the script; resolves with the exit status. */
async function main(argv: string[]): Promise<number> {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    console.error(`stage-latency: ${(err as Error).message}`);
    return 2;
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    if (flags.reset) {
      const r = await controlRequest(flags.control, '/latency/reset', 'POST');
      if (r.status !== 204) throw new Error(`POST /latency/reset answered ${r.status}: ${r.body.trim()}`);
      if (flags.wait > 0) await sleep(flags.wait * 1000);
    }
    const res = await controlRequest(flags.control, '/latency');
    if (res.status !== 200) throw new Error(`GET /latency answered ${res.status}: ${res.body.trim()}`);
    if (flags.json) process.stdout.write(res.body.endsWith('\n') ? res.body : res.body + '\n');
    else process.stdout.write(formatLatencyTable(JSON.parse(res.body) as LatencyReport));
    if (flags.svg !== undefined) {
      const subtitle = `${flags.control}, ${new Date().toISOString()}${flags.reset && flags.wait > 0 ? `, over ${flags.wait} s` : ''}`;
      writeFileSync(flags.svg, latencyChartSvg(JSON.parse(res.body) as LatencyReport, 'stackd per-stage latency', subtitle));
      console.error(`stage-latency: wrote ${flags.svg}`);
    }
    return 0;
  } catch (err) {
    console.error(`stage-latency: ${(err as Error).message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
