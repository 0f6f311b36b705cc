/**
 * What `stackctl` prints (src/cli/stackctl.ts), as pure functions of the control API's
 * JSON (src/control/types.ts), so that the text for a known state can be tested: the
 * health line, the stats summary, the rates of `stats --watch` and `top`, the `ss
 * -tni`-like connection table, and the capture lines. Tables use util/text-table.ts.
 */
import type { CaptureStatus, ConnectionInfo, StatsSnapshot } from '../control/types.js';
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
  const rot = p.maxMb === null ? '' : `, rotating every ${p.maxMb} MB`;
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

/** `stackctl stats`: identity, capture, fault injection, a per-thread table, drops by reason. */
export function formatStats(s: StatsSnapshot): string {
  const header = ['thread', 'tap rx', 'tap tx', 'core rx', 'core tx', 'tcp conns', 'drops'];
  const rows = s.threads.map((t) => {
    const c = t.counters;
    const worker = t.thread !== 'io';
    return [
      t.thread, n(c.tap_rx_frames), n(c.tap_tx_frames), worker ? n(c.rx_frames) : '-', worker ? n(c.tx_frames) : '-',
      worker ? n(c.tcp_connections) : '-', n(dropsOf(c)),
    ];
  });
  const tot = s.totals;
  rows.push(['total', n(tot.tap_rx_frames), n(tot.tap_tx_frames), n(tot.rx_frames), n(tot.tx_frames), n(tot.tcp_connections), n(dropsOf(tot))]);
  return [
    `stackd ${s.version} on ${s.tap}: ${s.ip}/${s.prefixLength}${s.gateway ? ` via ${s.gateway}` : ''}, mac ${s.mac}, mtu ${s.mtu}, ` +
      `offload ${s.offload ? 'on' : 'off'}, ${s.workers} worker${s.workers === 1 ? '' : 's'}, up ${s.uptimeSeconds} s`,
    `ipv6: ${s.ipv6.join(', ')}${s.gateway6 !== null ? ` via ${s.gateway6}` : ''}`,
    `frames (tap): ${n(tot.tap_rx_frames)} in, ${n(tot.tap_tx_frames)} out; bytes: ${formatBytes(counter(tot, 'tap_rx_bytes'))} in, ${formatBytes(counter(tot, 'tap_tx_bytes'))} out`,
    `tcp: ${n(tot.tcp_connections)} connections and ${n(tot.tcp_time_wait)} in TIME_WAIT, ${n(tot.tcp_passive_opens)} passive and ` +
      `${n(tot.tcp_active_opens)} active opens, ${n(tot.tcp_retransmits)} retransmits, ${n(tot.tcp_rto_timeouts)} timeouts`,
    `capture: ${formatCapture(s.pcap)}`,
    `fault injection: ${s.fault === null ? 'off' : `${s.fault}; ${byReason(s.faults)}`}`,
    `drops: ${byReason(s.drops)}`,
    '',
    formatTable(header, rows),
    '',
  ].join('\n');
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
  /** Per thread: frames in and out per second (tap frames for io, core frames for workers). */
  threads: Array<{ thread: string; framesIn: number; framesOut: number }>;
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
      };
    }),
    tcpConnections: counter(cur.totals, 'tcp_connections'),
  };
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
  const rows = r.threads.map((t) => [t.thread, t.framesIn.toFixed(0), t.framesOut.toFixed(0)]);
  return [
    `stackd ${s.version} on ${s.tap} ${s.ip}, ${s.workers} worker${s.workers === 1 ? '' : 's'}, up ${s.uptimeSeconds} s — ${time}`,
    '',
    formatTable(WATCH_HEADER.slice(1), [watchRow(time, r).slice(1)], { leftColumns: 0 }),
    '',
    formatTable(['thread', 'frames/s in', 'frames/s out'], rows),
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
    'state', 'local', 'peer', 'worker', 'recv-q', 'send-q', 'rtt/rttvar ms', 'rto', 'cwnd', 'ssthresh', 'snd_wnd', 'rcv_wnd', 'mss',
    'retrans', 'options',
  ];
  const sorted = [...conns].sort((a, b) => a.worker - b.worker || a.local.localeCompare(b.local) || a.remote.localeCompare(b.remote));
  const rows = sorted.map((c) => {
    const retrans = [c.rtoBackoffs > 0 ? `rto:${c.rtoBackoffs}` : '', c.inRecovery ? 'recovery' : ''].filter((x) => x !== '').join(',');
    const o = c.options;
    const opts = [o.timestamps ? 'ts' : '', o.sack ? 'sack' : '', `wscale:${o.sndWscale},${o.rcvWscale}`].filter((x) => x !== '').join(' ');
    return [
      c.state, c.local, c.remote, String(c.worker), String(c.recvUnread), String(c.sendQueued),
      `${c.srttMs.toFixed(3)}/${c.rttvarMs.toFixed(3)}`, String(c.rtoMs), String(c.cwnd), c.ssthresh === null ? '-' : String(c.ssthresh),
      String(c.sndWnd), String(c.rcvWnd), String(c.mss), retrans === '' ? '-' : retrans, opts,
    ];
  });
  return formatTable(header, rows, { leftColumns: 3, rule: false }) + '\n';
}

/** The answer to `pcap start` / `pcap stop`. */
export function formatCaptureChange(p: CaptureStatus): string {
  if (p.active) return `capturing ${formatCapture(p)}\n`;
  return `capture stopped: ${p.file}, ${p.records} records, ${formatBytes(p.bytes)} in ${p.files} file${p.files === 1 ? '' : 's'}${p.error ? ` (${p.error})` : ''}\n`;
}
