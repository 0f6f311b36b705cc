/**
 * What stackd-load reports: per kind the clients started, succeeded and failed, latency
 * p50/p99/max (Node's HDR histograms, perf_hooks.createHistogram) and bytes; failures by
 * cause; conn/s over the run; the stack's own /stats counters as deltas over the run.
 * Rendered as text (a table and a few lines) or as JSON.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { formatTable } from '../src/util/text-table.js';
import type { ClientOutcome } from './client.js';
import { KINDS, type Kind } from './mix.js';

/** Failure examples kept (cause and what the client said), for a first look. */
export const MAX_EXAMPLES = 5;

/** One kind's figures. */
export interface KindSummary {
  started: number;
  ok: number;
  failed: number;
  /** Latency of finished clients (ms): median, 99th percentile, largest. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Payload bytes the successful clients moved (and checked). */
  bytes: number;
}

/** The stack's counters over the run (GET /stats on --control, before and after). */
export interface StatsDelta {
  /** Every `totals` counter that changed, after − before. */
  deltas: Record<string, number>;
}

/** Why the run stopped starting clients. */
export type StopReason = 'total' | 'duration' | 'signal';

/** The whole report (what --json prints). */
export interface LoadReport {
  target: string;
  mode: string;
  mix: string;
  caps: { clients: number; total: number; durationMs: number; timeoutMs: number; batch: number };
  stoppedBy: StopReason;
  elapsedMs: number;
  started: number;
  completed: number;
  ok: number;
  failed: number;
  /** Most clients alive at once. */
  peakAlive: number;
  /** Finished clients (ok or not) per second of the run. */
  connPerSec: number;
  kinds: Partial<Record<Kind, KindSummary>>;
  /** Failures by cause, all kinds together. */
  failures: Record<string, number>;
  /** Failures by kind, then cause. */
  failuresByKind: Partial<Record<Kind, Record<string, number>>>;
  examples: Array<{ kind: Kind; cause: string; detail: string }>;
  /** null without --control. */
  stats: StatsDelta | null;
  /** Why the stack's counters could not be read, if they could not. */
  statsError?: string;
}

interface KindAcc {
  started: number;
  ok: number;
  failed: number;
  bytes: number;
  hist: RecordableHistogram;
  failures: Map<string, number>;
}

const round = (x: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Collects outcomes as batches finish (see the file header). */
export class Aggregate {
  private readonly kinds = new Map<Kind, KindAcc>();
  private readonly examples: LoadReport['examples'] = [];

  private acc(kind: Kind): KindAcc {
    let a = this.kinds.get(kind);
    if (a === undefined) {
      a = { started: 0, ok: 0, failed: 0, bytes: 0, hist: createHistogram(), failures: new Map() };
      this.kinds.set(kind, a);
    }
    return a;
  }

  /** A client of `kind` was started. */
  start(kind: Kind): void {
    this.acc(kind).started++;
  }

  /** A client finished. */
  add(o: ClientOutcome): void {
    const a = this.acc(o.kind);
    if (o.cause === null) {
      a.ok++;
      a.bytes += o.bytes;
      a.hist.record(Math.max(1, Math.round(o.latencyUs)));
      return;
    }
    a.failed++;
    a.failures.set(o.cause, (a.failures.get(o.cause) ?? 0) + 1);
    if (this.examples.length < MAX_EXAMPLES) this.examples.push({ kind: o.kind, cause: o.cause, detail: o.detail ?? '' });
  }

  /** A whole batch was lost (its pool thread failed): every client in it failed with `cause`. */
  lose(kinds: readonly Kind[], cause: string, detail: string): void {
    for (const kind of kinds) this.add({ kind, cause, latencyUs: 1, bytes: 0, detail });
  }

  /** Clients finished so far (ok or not). */
  get completed(): number {
    let n = 0;
    for (const a of this.kinds.values()) n += a.ok + a.failed;
    return n;
  }

  /** The report's figures (latency of successful clients only). */
  summary(): Pick<LoadReport, 'started' | 'completed' | 'ok' | 'failed' | 'kinds' | 'failures' | 'failuresByKind' | 'examples'> {
    const out: ReturnType<Aggregate['summary']> = {
      started: 0, completed: 0, ok: 0, failed: 0, kinds: {}, failures: {}, failuresByKind: {}, examples: [...this.examples],
    };
    for (const kind of KINDS) {
      const a = this.kinds.get(kind);
      if (a === undefined) continue;
      const ms = (us: number): number => (a.hist.count === 0 ? 0 : round(us / 1000, 2));
      out.kinds[kind] = {
        started: a.started, ok: a.ok, failed: a.failed, bytes: a.bytes,
        p50Ms: ms(a.hist.percentile(50)), p99Ms: ms(a.hist.percentile(99)), maxMs: ms(a.hist.max),
      };
      out.started += a.started;
      out.ok += a.ok;
      out.failed += a.failed;
      if (a.failures.size > 0) out.failuresByKind[kind] = Object.fromEntries(a.failures);
      for (const [cause, n] of a.failures) out.failures[cause] = (out.failures[cause] ?? 0) + n;
    }
    out.completed = out.ok + out.failed;
    return out;
  }
}

/** after − before for every counter that changed. */
export function counterDeltas(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const delta = v - (before[k] ?? 0);
    if (delta !== 0) d[k] = delta;
  }
  return d;
}

/** The counters the text report names (TCP's view of the connections); --json has them all. */
export const SHOWN_COUNTERS = [
  'tcp_passive_opens', 'tcp_established_total', 'tcp_resets_rx', 'tcp_resets_tx', 'tcp_retransmits', 'tcp_rto_timeouts',
  'tcp_rx_bytes', 'tcp_tx_bytes',
] as const;

const fmtBytes = (n: number): string => (n >= 1e9 ? `${round(n / 1e9, 2)} GB` : n >= 1e6 ? `${round(n / 1e6, 1)} MB` : n >= 1e3 ? `${round(n / 1e3, 1)} kB` : `${n} B`);

/** "a 3 (x 2, y 1), b 1" from counts by name, largest first. */
function byCount(m: Record<string, number>): Array<[string, number]> {
  return Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** The report as text lines. */
export function formatReport(r: LoadReport): string {
  const lines: string[] = [];
  const c = r.caps;
  lines.push(
    `stackd-load: ${r.started} clients (${r.mode} mode, at most ${c.clients} at once, peak ${r.peakAlive}) against ${r.target}, ` +
      `mix ${r.mix}; ${round(r.elapsedMs / 1000, 2)} s, stopped by ${r.stoppedBy}; ${round(r.connPerSec)} conn/s`,
  );
  const rows = KINDS.flatMap((k) => {
    const s = r.kinds[k];
    if (s === undefined) return [];
    return [[k, String(s.started), String(s.ok), String(s.failed), String(s.p50Ms), String(s.p99Ms), String(s.maxMs), fmtBytes(s.bytes)]];
  });
  lines.push(formatTable(['kind', 'started', 'ok', 'failed', 'p50 ms', 'p99 ms', 'max ms', 'bytes'], rows));
  if (r.failed === 0) lines.push('failures: none');
  else {
    const parts = byCount(r.failures).map(([cause, n]) => {
      const per = KINDS.flatMap((k) => {
        const v = r.failuresByKind[k]?.[cause];
        return v === undefined ? [] : [`${k} ${v}`];
      });
      return `${cause} ${n} (${per.join(', ')})`;
    });
    lines.push(`failures: ${parts.join('; ')}`);
    for (const e of r.examples) lines.push(`  e.g. ${e.kind}: ${e.cause}${e.detail === '' ? '' : `: ${e.detail}`}`);
  }
  if (r.stats !== null) {
    const d = r.stats.deltas;
    const shown = SHOWN_COUNTERS.map((k) => `${k} +${d[k] ?? 0}`);
    const drops = byCount(Object.fromEntries(Object.entries(d).filter(([k]) => k.startsWith('drop_')))).map(([k, v]) => `${k.slice(5)} +${v}`);
    lines.push(`stackd /stats over the run: ${shown.join(', ')}`);
    lines.push(`stackd drops over the run: ${drops.length === 0 ? 'none' : drops.join(', ')}`);
  } else if (r.statsError !== undefined) {
    lines.push(`stackd /stats: not read (${r.statsError})`);
  }
  return lines.join('\n') + '\n';
}
