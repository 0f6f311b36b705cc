/**
 * What `stackctl` prints (src/cli/stackctl.ts), as pure functions of the control API's
 * JSON (src/control/types.ts), so that the text for a known state can be tested: the
 * health line, the stats summary, the rates of `stats --watch` and `top`, the `ss
 * -tni`-like connection table, a connection's trace, and the capture lines. Tables use
 * util/text-table.ts.
 */
import type { AppPoolStats, ArchivedTraceInfo, CaptureStatus, CongestionInfo, ConnectionInfo, ConnectionTraceInfo, RackInfo, StatsSnapshot, TraceEvent } from '../control/types.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../wire/tcp.js';
import { formatTable } from '../util/text-table.js';

/** GET /health's body. */
export interface HealthReport {
  ok: boolean;
  workers: number;
  workersAlive: number;
  ioAlive: boolean;
}

/** One line: ok or not, and which threads are up. */
export function formatHealth(h: HealthReport): string {
  return `${h.ok ? 'ok' : 'NOT OK'}: I/O thread ${h.ioAlive ? 'up' : 'DOWN'}, ${h.workersAlive}/${h.workers} workers up\n`;
}

/** A counter as digits (0 when missing). */
function n(v: number | undefined): string {
  return String(v ?? 0);
}

/** Counter `name` of a counters object from the API, 0 when that stackd has no such counter. */
function counter(m: Readonly<Partial<Record<string, number>>>, name: string): number {
  return m[name] ?? 0;
}

/** Bytes in B, kB, MB, GB (powers of 1000, one decimal above B). */
export function formatBytes(b: number): string {
  if (b < 1000) return `${b} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = b / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** The capture part of the summary: off, or where it writes and how much. */
export function formatCapture(p: CaptureStatus & { captured?: number; dropped?: number }): string {
  const lost = p.dropped !== undefined && p.dropped > 0 ? `, ${p.dropped} frames not captured (ring full)` : '';
  if (!p.active) {
    const last = p.file === null ? '' : ` (last: ${p.file}, ${p.records} records in ${p.files} file${p.files === 1 ? '' : 's'}${p.error ? `, ${p.error}` : ''})`;
    return `off${last}${lost}`;
  }
  const rot = p.maxMb === null ? '' : `, rotating every ${p.maxMb} MB${p.maxFiles === null ? '' : `, keeping the last ${p.maxFiles} files`}`;
  return `to ${p.file} (snaplen ${p.snaplen}${rot}): ${p.records} records, ${formatBytes(p.bytes)} in ${p.files} file${p.files === 1 ? '' : 's'}${lost}`;
}

/** name value pairs on one line, largest first: "tcp_checksum 3, rx_ring_full 1". */
function byReason(m: Record<string, number>): string {
  const e = Object.entries(m).filter(([, v]) => v !== 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return e.length === 0 ? 'none' : e.map(([k, v]) => `${k} ${v}`).join(', ');
}

/** Sum of a thread's drop_* counters. */
function dropsOf(c: Record<string, number>): number {
  let s = 0;
  for (const [k, v] of Object.entries(c)) if (k.startsWith('drop_')) s += v;
  return s;
}

/** Bytes as MiB with one decimal. */
function mib(b: number): string {
  return (b / 2 ** 20).toFixed(1);
}

/** The api.offload pool (decision 0021): size, whether it started, tasks in flight and done, refusals. */
export function formatAppPool(p: AppPoolStats): string {
  const size = `${p.threads} thread${p.threads === 1 ? '' : 's'}, queue bound ${p.maxQueue}`;
  if (!p.started) return `${size}, not started (no task yet)`;
  return `${size}: ${p.inFlight} tasks in flight (at most ${p.highWater}), ${p.completed} done, ${p.failed} failed, ${p.rejectedFull} refused (queue full)`;
}

/** `stackctl stats`: identity, memory, capture, fault injection, the offload pool, a per-thread table, drops by reason. */
export function formatStats(s: StatsSnapshot): string {
  const header = ['thread', 'tap rx', 'tap tx', 'core rx', 'core tx', 'tcp conns', 'drops', 'heap MiB'];
  const rows = s.threads.map((t) => {
    const c = t.counters;
    const worker = t.thread !== 'io';
    return [
      t.thread, n(c.tap_rx_frames), n(c.tap_tx_frames), worker ? n(c.rx_frames) : '-', worker ? n(c.tx_frames) : '-',
      worker ? n(c.tcp_connections) : '-', n(dropsOf(c)), mib(counter(c, 'heap_total_bytes')),
    ];
  });
  const tot = s.totals;
  rows.push([
    'total', n(tot.tap_rx_frames), n(tot.tap_tx_frames), n(tot.rx_frames), n(tot.tx_frames), n(tot.tcp_connections), n(dropsOf(tot)),
    mib(counter(tot, 'heap_total_bytes')),
  ]);
  return [
    `stackd ${s.version} on ${s.tap}: ${s.ip}/${s.prefixLength}${s.gateway ? ` via ${s.gateway}` : ''}` +
      `${s.routes.length > 0 ? ` (routes: ${s.routes.join(', ')})` : ''}, mac ${s.mac}, mtu ${s.mtu}, ` +
      `offload ${s.offload ? 'on' : 'off'}, ${s.workers} worker${s.workers === 1 ? '' : 's'} on ${s.workerThreads} thread${s.workerThreads === 1 ? '' : 's'}, ` +
      `up ${s.uptimeSeconds} s`,
    `ipv6: ${s.ipv6.map((a) => (a.state === null || a.state === 'PREFERRED' ? a.address : `${a.address} ${a.state}`)).join(', ')}` +
      (s.gateway6 !== null ? ` via ${s.gateway6}` : ''),
    `frames (tap): ${n(tot.tap_rx_frames)} in, ${n(tot.tap_tx_frames)} out; bytes: ${formatBytes(counter(tot, 'tap_rx_bytes'))} in, ${formatBytes(counter(tot, 'tap_tx_bytes'))} out`,
    `tcp: ${n(tot.tcp_connections)} connections and ${n(tot.tcp_time_wait)} in TIME_WAIT, ${n(tot.tcp_passive_opens)} passive and ` +
      `${n(tot.tcp_active_opens)} active opens, ${n(tot.tcp_retransmits)} retransmits, ${n(tot.tcp_rto_timeouts)} timeouts`,
    `cpus: ${formatPlacement(s)}`,
    `memory: RSS ${mib(s.rssBytes)} MiB; V8 heaps of the data-plane threads ${mib(counter(tot, 'heap_total_bytes'))} MiB ` +
      `(${mib(counter(tot, 'heap_used_bytes'))} used), ${mib(counter(tot, 'heap_external_bytes'))} MiB external`,
    `capture: ${formatCapture(s.pcap)}`,
    `fault injection: ${s.fault === null ? 'off' : `${s.fault}; ${byReason(s.faults)}`}`,
    `app offload pool: ${formatAppPool(s.appPool)}`,
    `drops: ${byReason(s.drops)}`,
    '',
    formatTable(header, rows),
    '',
  ].join('\n');
}

/** Where the data-plane threads run: "io (tid 812) on CPU 1, worker-0 (tid 815) on CPU 0", or why they are not bound. */
export function formatPlacement(s: Pick<StatsSnapshot, 'cpuAffinity' | 'dataPlaneThreads'>): string {
  const where = s.dataPlaneThreads.map((t) => `${t.thread} (tid ${t.tid}) on CPU ${t.cpus}`).join(', ');
  if (s.cpuAffinity.unboundBecause === null) return where;
  return `not bound (${s.cpuAffinity.unboundBecause}): ${where}`;
}

/** Rates between two snapshots `dt` seconds apart. */
export interface Rates {
  framesIn: number;
  framesOut: number;
  bitsIn: number;
  bitsOut: number;
  connections: number;
  retransmits: number;
  /** Per drop reason (without drop_), per second; only non-zero ones. */
  drops: Record<string, number>;
  /** Per fault (rx_dropped, …), per second; only non-zero ones. */
  faults: Record<string, number>;
  /**
   * Per thread: frames in and out per second (tap frames for io, core frames for workers),
   * the share of the interval it was busy rather than parked (%, from busy_us), and for a
   * worker the share its thread's event loop was busy (%, from loop_busy_us: its turns and
   * also its applications' work, which carries a download's transmits; shared by the
   * workers of one thread), null for the I/O thread.
   */
  threads: Array<{ thread: string; framesIn: number; framesOut: number; busyPercent: number; loopPercent: number | null }>;
  /** Gauges of the newer snapshot. */
  tcpConnections: number;
}

/** Per-second rates of the counters between `prev` and `cur`. */
export function rates(prev: StatsSnapshot, cur: StatsSnapshot, dt: number): Rates {
  const d = (k: string): number => (counter(cur.totals, k) - counter(prev.totals, k)) / dt;
  const per = (prefix: string): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const k of Object.keys(cur.totals)) {
      if (!k.startsWith(prefix)) continue;
      const v = d(k);
      if (v !== 0) out[k.slice(prefix.length)] = v;
    }
    return out;
  };
  return {
    framesIn: d('tap_rx_frames'),
    framesOut: d('tap_tx_frames'),
    bitsIn: d('tap_rx_bytes') * 8,
    bitsOut: d('tap_tx_bytes') * 8,
    connections: d('tcp_passive_opens') + d('tcp_active_opens'),
    retransmits: d('tcp_retransmits'),
    drops: per('drop_'),
    faults: per('fault_'),
    threads: cur.threads.map((t, i) => {
      const p = prev.threads[i]?.counters ?? {};
      const inK = t.thread === 'io' ? 'tap_rx_frames' : 'rx_frames';
      const outK = t.thread === 'io' ? 'tap_tx_frames' : 'tx_frames';
      return {
        thread: t.thread,
        framesIn: (counter(t.counters, inK) - counter(p, inK)) / dt,
        framesOut: (counter(t.counters, outK) - counter(p, outK)) / dt,
        busyPercent: percentOf(t.counters, p, 'busy_us', dt),
        loopPercent: t.thread === 'io' ? null : percentOf(t.counters, p, 'loop_busy_us', dt),
      };
    }),
    tcpConnections: counter(cur.totals, 'tcp_connections'),
  };
}

/** The growth of µs counter `k` from `prev` to `cur` as a share of `dt` seconds (%, 0..100). */
function percentOf(cur: Record<string, number>, prev: Record<string, number>, k: string, dt: number): number {
  return Math.min(100, Math.max(0, (counter(cur, k) - counter(prev, k)) / (dt * 1e4)));
}

/** Columns of `stats --watch`, one row per interval. */
export const WATCH_HEADER = ['time', 'frames/s in', 'frames/s out', 'Mbit/s in', 'Mbit/s out', 'conn/s', 'tcp conns', 'retrans/s', 'drops/s'];

/** One `stats --watch` row. */
export function watchRow(time: string, r: Rates): string[] {
  const drops = Object.values(r.drops).reduce((a, b) => a + b, 0);
  return [
    time, r.framesIn.toFixed(0), r.framesOut.toFixed(0), (r.bitsIn / 1e6).toFixed(1), (r.bitsOut / 1e6).toFixed(1),
    r.connections.toFixed(0), String(r.tcpConnections), r.retransmits.toFixed(0), drops.toFixed(0),
  ];
}

/** Rates by reason on one line: "tcp_checksum 3.0/s, …", or 'none'. */
export function formatRatesByReason(m: Record<string, number>): string {
  const e = Object.entries(m).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return e.length === 0 ? 'none' : e.map(([k, v]) => `${k} ${v.toFixed(1)}/s`).join(', ');
}

/** `stackctl top`: one screen of rates (the caller clears the terminal before it). */
export function formatTop(s: StatsSnapshot, r: Rates, time: string): string {
  const rows = r.threads.map((t) => [
    t.thread, t.framesIn.toFixed(0), t.framesOut.toFixed(0), t.busyPercent.toFixed(1), t.loopPercent === null ? '-' : t.loopPercent.toFixed(1),
  ]);
  return [
    `stackd ${s.version} on ${s.tap} ${s.ip}, ${s.workers} worker${s.workers === 1 ? '' : 's'}, up ${s.uptimeSeconds} s — ${time}`,
    '',
    formatTable(WATCH_HEADER.slice(1), [watchRow(time, r).slice(1)], { leftColumns: 0 }),
    '',
    formatTable(['thread', 'frames/s in', 'frames/s out', 'busy %', 'loop %'], rows),
    '',
    `drops: ${formatRatesByReason(r.drops)}`,
    `faults: ${s.fault === null ? 'off' : formatRatesByReason(r.faults)}`,
    `capture: ${formatCapture(s.pcap)}`,
    '',
  ].join('\n');
}

/** The `ss -tni`-like connection table, sorted by worker, local, then remote address. */
export function formatConnections(conns: readonly ConnectionInfo[]): string {
  if (conns.length === 0) return 'no TCP connections\n';
  const header = [
    'id', 'state', 'local', 'peer', 'worker', 'recv-q', 'send-q', 'rtt/rttvar ms', 'rto', 'cwnd', 'ssthresh', 'snd_wnd', 'rcv_wnd', 'mss',
    'retrans', 'options',
  ];
  const sorted = [...conns].sort((a, b) => a.worker - b.worker || a.local.localeCompare(b.local) || a.remote.localeCompare(b.remote));
  const rows = sorted.map((c) => {
    const retrans = [c.rtoBackoffs > 0 ? `rto:${c.rtoBackoffs}` : '', c.inRecovery ? 'recovery' : ''].filter((x) => x !== '').join(',');
    const o = c.options;
    const opts = [o.timestamps ? 'ts' : '', o.sack ? 'sack' : '', `wscale:${o.sndWscale},${o.rcvWscale}`, formatCongestion(c.cc), formatRack(c.rack)]
      .filter((x) => x !== '').join(' ');
    return [
      c.id ?? '-', c.state, c.local, c.remote, String(c.worker), String(c.recvUnread), String(c.sendQueued),
      `${c.srttMs.toFixed(3)}/${c.rttvarMs.toFixed(3)}`, String(c.rtoMs), String(c.cwnd), c.ssthresh === null ? '-' : String(c.ssthresh),
      String(c.sndWnd), String(c.rcvWnd), String(c.mss), retrans === '' ? '-' : retrans, opts,
    ];
  });
  return formatTable(header, rows, { leftColumns: 4, rule: false }) + '\n';
}

/** RACK's state as `ss -ti` would put it: `rack:(minrtt:0.12,reo_wnd:0.03)`, with `,mult:N` after a D-SACK and `,reord_seen`; '' without RACK. */
export function formatRack(r: RackInfo | undefined): string {
  if (r === undefined) return '';
  const parts = [`minrtt:${r.minRttMs === null ? '-' : r.minRttMs}`, `reo_wnd:${r.reoWndMs}`];
  if (r.reoWndMult > 1) parts.push(`mult:${r.reoWndMult}`);
  if (r.reorderingSeen) parts.push('reord_seen');
  return `rack:(${parts.join(',')})`;
}

/** The congestion control as `ss -ti` names it: `newreno`, or `bbr:(bw:9.61Gbps,mrtt:0.12,probe_bw,extra_acked:14480)`. */
export function formatCongestion(cc: CongestionInfo | undefined): string {
  if (cc === undefined) return '';
  const b = cc.bbr;
  if (b === undefined) return cc.name;
  const parts = [`bw:${formatBitRate(b.btlBwBitsPerSecond)}`];
  if (b.rtPropMs !== null) parts.push(`mrtt:${b.rtPropMs}`);
  parts.push(b.state);
  if (b.extraAckedBytes > 0) parts.push(`extra_acked:${b.extraAckedBytes}`);
  return `${cc.name}:(${parts.join(',')})`;
}

/** Bits per second with three significant digits and a unit: 9.61Gbps, 512Mbps, 0bps. */
export function formatBitRate(bps: number): string {
  const units: Array<[number, string]> = [[1e9, 'Gbps'], [1e6, 'Mbps'], [1e3, 'Kbps']];
  for (const [scale, unit] of units) if (bps >= scale) return `${Number((bps / scale).toPrecision(3))}${unit}`;
  return `${Math.round(bps)}bps`;
}

/** `stackctl trace` without an id: the archived traces, newest first. */
export function formatArchivedTraces(list: readonly ArchivedTraceInfo[]): string {
  if (list.length === 0) return 'no archived traces (a closed connection is archived when it had an RTO or a reset)\n';
  const rows = list.map((a) => [a.id, a.state, a.local, a.remote, a.reasons.join(','), `${(a.closedMsAgo / 1000).toFixed(1)} s`, String(a.events)]);
  return formatTable(['id', 'closed in', 'local', 'peer', 'why', 'closed ago', 'events'], rows, { leftColumns: 5, rule: false }) + '\n';
}

/** TCP flags as tcpdump writes them: S, F, R, P, then '.' for ACK ("S.", "P.", "F."). */
export function formatTcpFlags(f: number): string {
  return (f & TCP_SYN ? 'S' : '') + (f & TCP_FIN ? 'F' : '') + (f & TCP_RST ? 'R' : '') + (f & TCP_PSH ? 'P' : '') + (f & TCP_ACK ? '.' : '');
}

/** What a non-segment event says, sequence numbers relative to our ISN. */
function traceNote(e: TraceEvent, rel: (v: number) => number): string {
  switch (e.kind) {
    case 'state':
      return `state ${e.from ?? '?'} → ${e.to ?? '?'}`;
    case 'rto':
      return `RTO fired (backoff ${e.backoff ?? 0}), resend from ${rel(e.seq)}`;
    case 'recovery-enter':
      return `recovery enter at ${rel(e.seq)}, recovery point ${rel(e.ack)}`;
    case 'recovery-exit':
      return `recovery exit, ACK ${rel(e.seq)}`;
    case 'tlp':
      return `TLP (tail loss probe) sent, una ${rel(e.seq)}`;
    case 'timer':
      return `timer ${e.timer ?? '?'} fired`;
    default:
      return e.kind;
  }
}

/**
 * `stackctl trace ID`: a compact tcpdump/ss mix, one line per event: time in ms since the
 * first event, direction, flags, seq and ack relative to the ISNs (ours for what we send,
 * the peer's for what we receive), payload length, window (scaled, except on a SYN), cwnd,
 * and what the non-segment events are (state changes, RTO, recovery, loss probes, timers).
 */
export function formatTrace(t: ConnectionTraceInfo): string {
  const when = t.live ? 'live' : `closed ${(t.archived?.closedMsAgo ?? 0) / 1000} s ago, archived (${t.archived?.reasons.join(', ') ?? ''})`;
  const head = `connection ${t.id}: ${t.local} ↔ ${t.remote} on worker ${t.worker}, ${t.state} (${when})`;
  if (!t.traced) return `${head}\nnot traced: every trace ring of worker ${t.worker} was taken when it opened (counter tcp_trace_untraced)\n`;
  if (t.events.length === 0) return `${head}\nno events\n`;
  const ours = (v: number): number => (v - t.iss) >>> 0;
  const theirs = (v: number): number => (v - t.irs) >>> 0;
  const t0 = t.events[0].t;
  const rows = t.events.map((e) => {
    const ms = (e.t - t0).toFixed(3);
    if (e.kind !== 'in' && e.kind !== 'out') return [ms, '', '', '', '', '', '', String(e.cwnd)];
    const out = e.kind === 'out';
    const seq = out ? ours(e.seq) : theirs(e.seq);
    const ack = e.flags & TCP_ACK ? String(out ? theirs(e.ack) : ours(e.ack)) : '-';
    const win = e.flags & TCP_SYN ? e.win : e.win * 2 ** (out ? t.rcvWscale : t.sndWscale);
    return [ms, out ? 'out' : 'in', formatTcpFlags(e.flags), String(seq), ack, String(e.len), String(win), String(e.cwnd)];
  });
  // The figures right-aligned, then the note of a non-segment event, left-aligned.
  const lines = formatTable(['ms', 'dir', 'flags', 'seq', 'ack', 'len', 'win', 'cwnd'], rows, { leftColumns: 0, rule: false }).split('\n');
  const width = Math.max(...lines.map((l) => l.length));
  const notes = ['event', ...t.events.map((e) => (e.kind === 'in' || e.kind === 'out' ? '' : traceNote(e, ours)))];
  const table = lines.map((l, i) => (notes[i] === '' ? l : `${l.padEnd(width)}  ${notes[i]}`));
  return [
    head,
    `${t.events.length} events; seq/ack relative to the ISNs (ours ${t.iss}, the peer's ${t.irs})`,
    '',
    ...table,
    '',
  ].join('\n');
}

/** The answer to `pcap start` / `pcap stop`. */
export function formatCaptureChange(p: CaptureStatus): string {
  if (p.active) return `capturing ${formatCapture(p)}\n`;
  return `capture stopped: ${p.file}, ${p.records} records, ${formatBytes(p.bytes)} in ${p.files} file${p.files === 1 ? '' : 's'}${p.error ? ` (${p.error})` : ''}\n`;
}
