/**
 * stackctl (src/cli/stackctl-run.ts, stackctl-format.ts): the text for a known state
 * (connection table, stats summary, watch rates, health, capture lines) compared as
 * exact text; --json prints the API's JSON; commands run in-process against a real
 * control server over a fake source; a bad command line or a missing socket gives one
 * line and a non-zero exit code; --help lists exactly the options the parser accepts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTER_NAMES } from '../../../src/base/counters.js';
import { STACKCTL_HELP, STACKCTL_OPTIONS, parseStackctlArgs, runStackctl, type StackctlIo } from '../../../src/cli/stackctl-run.js';
import { formatArchivedTraces, formatBitRate, formatCapture, formatCongestion, formatConnections, formatHealth, formatRack, formatStats, formatTop, formatTrace, rates, watchRow } from '../../../src/cli/stackctl-format.js';
import { startControlServer, type ControlServer } from '../../../src/control/control-server.js';
import type { ArchivedTraceInfo, CaptureStatus, ConnectionInfo, ConnectionTraceInfo, ControlSource, StatsSnapshot, TraceEvent } from '../../../src/control/types.js';
import { byClass, parseXml } from '../../helpers/xml-tree.js';

function counters(set: Record<string, number>): Record<string, number> {
  return { ...Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])), ...set };
}

const CAPTURE_OFF: CaptureStatus = { active: false, file: null, snaplen: null, maxMb: null, maxFiles: null, files: 0, records: 0, bytes: 0, error: null };

/** A snapshot whose counters are `scale` times a base (for rates between two of them). */
function snapshot(scale: number): StatsSnapshot {
  const mb = 2 ** 20;
  const io = counters({
    tap_rx_frames: 1000 * scale, tap_tx_frames: 400 * scale, tap_rx_bytes: 1_500_000 * scale, tap_tx_bytes: 250_000 * scale, drop_rx_ring_full: 2 * scale,
    heap_total_bytes: 8 * mb, heap_used_bytes: 5 * mb, heap_external_bytes: mb, busy_us: 100_000 * scale,
  });
  const w0 = counters({
    heap_total_bytes: 20 * mb, heap_used_bytes: 12.5 * mb, heap_external_bytes: 3 * mb, rx_frames: 600 * scale, tx_frames: 900 * scale,
    tap_tx_frames: 500 * scale, tap_tx_bytes: 500_000 * scale, tcp_connections: 3, tcp_passive_opens: 10 * scale, drop_tcp_checksum: 1 * scale,
    fault_rx_dropped: 5 * scale, busy_us: 1_000_000 * scale, loop_busy_us: 600_000 * scale,
  });
  // Worker 1 shares worker 0's thread (workerThreads: 1): the same loop_busy_us.
  const w1 = counters({ rx_frames: 400 * scale, tx_frames: 100 * scale, tcp_connections: 1, tcp_active_opens: 2 * scale, tcp_retransmits: 4 * scale, loop_busy_us: 600_000 * scale });
  const totals: Record<string, number> = {};
  for (const n of COUNTER_NAMES) totals[n] = io[n] + w0[n] + w1[n];
  return {
    version: '0.1.0', uptimeSeconds: 42.5, tap: 'tap0', ip: '10.10.0.4', prefixLength: 24, gateway: null, routes: [],
    ipv6: [{ address: 'fe80::ff:fe00:4/64', state: 'PREFERRED' }, { address: 'fd00:10:10::4/64', state: 'PREFERRED' }, { address: 'fd00:10:10::3/64', state: 'DUPLICATE' }], gateway6: null, mac: '02:00:00:00:00:04',
    mtu: 1500, offload: true, workers: 2, workerThreads: 1, rssBytes: 123.45 * mb,
    cpuAffinity: { mode: 'all', unboundBecause: null },
    dataPlaneThreads: [{ thread: 'io', tid: 812, cpus: '1' }, { thread: 'workers-0-1', tid: 815, cpus: '0' }],
    threads: [{ thread: 'io', counters: io }, { thread: 'worker-0', counters: w0 }, { thread: 'worker-1', counters: w1 }],
    totals, drops: { rx_ring_full: 2 * scale, tcp_checksum: scale }, rings: [],
    pcap: { ...CAPTURE_OFF, captured: 0, dropped: 0 }, fault: 'drop=1%,seed=7', faults: { rx_dropped: 5 * scale },
    appPool: { threads: 1, maxQueue: 256, started: false, inFlight: 0, highWater: 0, completed: 0, failed: 0, rejectedFull: 0 },
  };
}

const CONN: ConnectionInfo = {
  id: '1.7', worker: 1, local: '10.10.0.4:80', remote: '10.10.0.3:40000', state: 'ESTABLISHED', bytesIn: 73, bytesOut: 1442,
  srttMs: 0.512, rttvarMs: 0.25, rtoMs: 201, cwnd: 14480, ssthresh: null, sndWnd: 64512, rcvWnd: 1048576, sendQueued: 10, recvUnread: 3,
  mss: 1448, options: { timestamps: true, sack: true, sndWscale: 10, rcvWscale: 5 }, retransmitting: true, rtoBackoffs: 2,
  inRecovery: true, dupAcks: 0, cc: { name: 'newreno' },
};
const CONN2: ConnectionInfo = {
  ...CONN, id: null, worker: 0, local: '10.10.0.4:7', remote: '10.10.0.3:40001', state: 'TIME_WAIT', srttMs: 12, rttvarMs: 6, ssthresh: 28960,
  sendQueued: 0, recvUnread: 0, options: { timestamps: false, sack: false, sndWscale: 0, rcvWscale: 0 }, rtoBackoffs: 0, inRecovery: false,
  cc: undefined,
};

/** A trace across the ISN wrap (ours 2^32 − 296): handshake, data, an RTO, a recovery, a loss probe, a timer. */
const ISS = 4294967000;
const IRS = 1000;
const ev = (t: number, kind: TraceEvent['kind'], flags: number, seq: number, ack: number, win: number, len: number, cwnd: number, more: Partial<TraceEvent> = {}): TraceEvent =>
  ({ t, kind, flags, seq, ack, win, len, cwnd, ...more });
const TRACE: ConnectionTraceInfo = {
  id: '1.7', worker: 1, local: '10.10.0.4:80', remote: '10.10.0.3:40000', state: 'ESTABLISHED', live: true, traced: true, archived: null,
  iss: ISS, irs: IRS, sndWscale: 7, rcvWscale: 5,
  events: [
    ev(5000.5, 'in', 0x02, IRS, 0, 64240, 0, 14600),
    ev(5000.5, 'state', 0, 0, 0, 0, 0, 14600, { from: 'LISTEN', to: 'SYN_RECEIVED' }),
    ev(5000.6, 'out', 0x12, ISS, IRS + 1, 65535, 0, 14600),
    ev(5001.1, 'in', 0x10, IRS + 1, ISS + 1, 502, 0, 14600),
    ev(5001.1, 'state', 0, 0, 0, 0, 0, 14480, { from: 'SYN_RECEIVED', to: 'ESTABLISHED' }),
    ev(5002, 'out', 0x18, ISS + 1, IRS + 1, 1024, 1448, 14480),
    ev(5210, 'rto', 0, ISS + 1, ISS + 1449, 0, 0, 1448, { backoff: 1 }),
    ev(5210, 'out', 0x18, ISS + 1, IRS + 1, 1024, 1448, 1448),
    ev(5300, 'recovery-enter', 0, (ISS + 1449) >>> 0, (ISS + 5793) >>> 0, 0, 0, 2896),
    ev(5310, 'recovery-exit', 0, (ISS + 5793) >>> 0, (ISS + 5793) >>> 0, 0, 0, 2896),
    ev(5320, 'tlp', 0, (ISS + 5793) >>> 0, (ISS + 5893) >>> 0, 0, 0, 2896),
    ev(5360, 'timer', 0, 0, 0, 0, 0, 2896, { timer: 'delack' }),
    ev(5400, 'in', 0x14, IRS + 1, (ISS + 5893) >>> 0, 0, 0, 2896),
  ],
};

const ARCHIVED: ArchivedTraceInfo[] = [
  { id: '0.12', worker: 0, local: '10.10.0.4:80', remote: '10.10.0.3:40002', state: 'CLOSED', reasons: ['reset'], closedMsAgo: 1500, events: 9 },
  { id: '1.7', worker: 1, local: '10.10.0.4:80', remote: '10.10.0.3:40000', state: 'TIME_WAIT', reasons: ['rto', 'reset'], closedMsAgo: 62_000, events: 64 },
];

describe('stackctl text', () => {
  it('trace without an id: the archived traces, newest first', () => {
    expect(formatArchivedTraces(ARCHIVED)).toBe(
      [
        'id    closed in  local         peer             why        closed ago  events',
        '0.12  CLOSED     10.10.0.4:80  10.10.0.3:40002  reset           1.5 s       9',
        '1.7   TIME_WAIT  10.10.0.4:80  10.10.0.3:40000  rto,reset      62.0 s      64',
        '',
      ].join('\n'),
    );
    expect(formatArchivedTraces([])).toBe('no archived traces (a closed connection is archived when it had an RTO or a reset)\n');
  });

  it('trace: time since the first event, seq/ack relative to the ISNs (across the wrap), scaled windows, events in words', () => {
    expect(formatTrace(TRACE)).toBe(
      [
        'connection 1.7: 10.10.0.4:80 ↔ 10.10.0.3:40000 on worker 1, ESTABLISHED (live)',
        "13 events; seq/ack relative to the ISNs (ours 4294967000, the peer's 1000)",
        '',
        '     ms  dir  flags  seq   ack   len    win   cwnd  event',
        '  0.000   in      S    0     -     0  64240  14600',
        '  0.000                                      14600  state LISTEN → SYN_RECEIVED',
        '  0.100  out     S.    0     1     0  65535  14600',
        '  0.600   in      .    1     1     0  64256  14600',
        '  0.600                                      14480  state SYN_RECEIVED → ESTABLISHED',
        '  1.500  out     P.    1     1  1448  32768  14480',
        '209.500                                       1448  RTO fired (backoff 1), resend from 1',
        '209.500  out     P.    1     1  1448  32768   1448',
        '299.500                                       2896  recovery enter at 1449, recovery point 5793',
        '309.500                                       2896  recovery exit, ACK 5793',
        '319.500                                       2896  TLP (tail loss probe) sent, una 5793',
        '359.500                                       2896  timer delack fired',
        '399.500   in     R.    1  5893     0      0   2896',
        '',
      ].join('\n'),
    );
  });

  it('trace: an archived one says why and when it closed; an untraced one says why it has no events', () => {
    const archived = { ...TRACE, live: false, state: 'CLOSED', archived: { reasons: ['rto', 'reset'], closedMsAgo: 2500 }, events: TRACE.events.slice(0, 1) };
    expect(formatTrace(archived).split('\n')[0]).toBe('connection 1.7: 10.10.0.4:80 ↔ 10.10.0.3:40000 on worker 1, CLOSED (closed 2.5 s ago, archived (rto, reset))');
    expect(formatTrace({ ...TRACE, traced: false, events: [] })).toBe(
      'connection 1.7: 10.10.0.4:80 ↔ 10.10.0.3:40000 on worker 1, ESTABLISHED (live)\n' +
        'not traced: every trace ring of worker 1 was taken when it opened (counter tcp_trace_untraced)\n',
    );
  });

  it('conns: the ss -tni-like table, sorted by worker', () => {
    expect(formatConnections([CONN, CONN2])).toBe(
      [
        'id   state        local         peer             worker  recv-q  send-q  rtt/rttvar ms  rto   cwnd  ssthresh  snd_wnd  rcv_wnd   mss         retrans                      options',
        '-    TIME_WAIT    10.10.0.4:7   10.10.0.3:40001       0       0       0   12.000/6.000  201  14480     28960    64512  1048576  1448               -                   wscale:0,0',
        '1.7  ESTABLISHED  10.10.0.4:80  10.10.0.3:40000       1       3      10    0.512/0.250  201  14480         -    64512  1048576  1448  rto:2,recovery  ts sack wscale:10,5 newreno',
        '',
      ].join('\n'),
    );
    expect(formatConnections([])).toBe('no TCP connections\n');
  });

  it('conns: BBR\'s model in the options column, as ss -ti shows it', () => {
    const bbr = { state: 'probe_bw', btlBwBitsPerSecond: 9_612_345_678, rtPropMs: 0.12, extraAckedBytes: 14480 };
    expect(formatCongestion({ name: 'bbr', bbr })).toBe('bbr:(bw:9.61Gbps,mrtt:0.12,probe_bw,extra_acked:14480)');
    expect(formatCongestion({ name: 'bbr', bbr: { ...bbr, state: 'startup', btlBwBitsPerSecond: 0, rtPropMs: null, extraAckedBytes: 0 } }))
      .toBe('bbr:(bw:0bps,startup)');
    expect(formatCongestion({ name: 'cubic' })).toBe('cubic');
    expect(formatCongestion(undefined)).toBe('');
    expect([formatBitRate(512e6), formatBitRate(1500), formatBitRate(999)]).toEqual(['512Mbps', '1.5Kbps', '999bps']);
  });

  it('conns: RACK\'s min RTT and reordering window in the options column (ss -ti\'s minrtt, reord_seen)', () => {
    expect(formatRack({ minRttMs: 0.12, reoWndMs: 0.03, reoWndMult: 1, reorderingSeen: false })).toBe('rack:(minrtt:0.12,reo_wnd:0.03)');
    expect(formatRack({ minRttMs: 0.2, reoWndMs: 2, reoWndMult: 3, reorderingSeen: true })).toBe('rack:(minrtt:0.2,reo_wnd:2,mult:3,reord_seen)');
    expect(formatRack({ minRttMs: null, reoWndMs: 0, reoWndMult: 1, reorderingSeen: false })).toBe('rack:(minrtt:-,reo_wnd:0)');
    expect(formatRack(undefined)).toBe('');
    const row = formatConnections([{ ...CONN, rack: { minRttMs: 0.12, reoWndMs: 0, reoWndMult: 1, reorderingSeen: false } }]).split('\n')[1];
    expect(row.endsWith('ts sack wscale:10,5 newreno rack:(minrtt:0.12,reo_wnd:0)')).toBe(true);
  });

  it('stats: identity, totals, capture, faults, drops, per-thread table', () => {
    expect(formatStats(snapshot(1))).toBe(
      [
        'stackd 0.1.0 on tap0: 10.10.0.4/24, mac 02:00:00:00:00:04, mtu 1500, offload on, 2 workers on 1 thread, up 42.5 s',
        'ipv6: fe80::ff:fe00:4/64, fd00:10:10::4/64, fd00:10:10::3/64 DUPLICATE',
        'frames (tap): 1000 in, 900 out; bytes: 1.5 MB in, 750.0 kB out',
        'tcp: 4 connections and 0 in TIME_WAIT, 10 passive and 2 active opens, 4 retransmits, 0 timeouts',
        'cpus: io (tid 812) on CPU 1, workers-0-1 (tid 815) on CPU 0',
        'memory: RSS 123.5 MiB; V8 heaps of the data-plane threads 28.0 MiB (17.5 used), 4.0 MiB external',
        'capture: off',
        'fault injection: drop=1%,seed=7; rx_dropped 5',
        'app offload pool: 1 thread, queue bound 256, not started (no task yet)',
        'drops: rx_ring_full 2, tcp_checksum 1',
        '',
        'thread    tap rx  tap tx  core rx  core tx  tcp conns  drops  heap MiB',
        '--------  ------  ------  -------  -------  ---------  -----  --------',
        'io          1000     400        -        -          -      2       8.0',
        'worker-0       0     500      600      900          3      1      20.0',
        'worker-1       0       0      400      100          1      0       0.0',
        'total       1000     900     1000     1000          4      3      28.0',
        '',
      ].join('\n'),
    );
  });

  it('stats: data-plane threads not bound to CPUs say why', () => {
    const s = { ...snapshot(1), cpuAffinity: { mode: 'off' as const, unboundBecause: '--cpu-affinity off' }, dataPlaneThreads: [{ thread: 'io', tid: 7, cpus: '0-1' }] };
    expect(formatStats(s).split('\n').find((l) => l.startsWith('cpus:'))).toBe('cpus: not bound (--cpu-affinity off): io (tid 7) on CPU 0-1');
  });

  it('stats: the offload pool once it runs', () => {
    const s = { ...snapshot(1), appPool: { threads: 2, maxQueue: 64, started: true, inFlight: 3, highWater: 9, completed: 120, failed: 1, rejectedFull: 4 } };
    expect(formatStats(s).split('\n').find((l) => l.startsWith('app offload pool:'))).toBe('app offload pool: 2 threads, queue bound 64: 3 tasks in flight (at most 9), 120 done, 1 failed, 4 refused (queue full)');
  });

  it('stats --watch: per-second rates between two snapshots', () => {
    const r = rates(snapshot(1), snapshot(3), 2);
    expect(watchRow('12:00:00', r)).toEqual(['12:00:00', '1000', '900', '12.0', '6.0', '12', '4', '4', '3']);
    expect(r.drops).toEqual({ rx_ring_full: 2, tcp_checksum: 1 });
    expect(r.faults).toEqual({ rx_dropped: 5 });
    expect(r.threads).toEqual([
      { thread: 'io', framesIn: 1000, framesOut: 400, busyPercent: 10, loopPercent: null },
      { thread: 'worker-0', framesIn: 600, framesOut: 900, busyPercent: 100, loopPercent: 60 },
      { thread: 'worker-1', framesIn: 400, framesOut: 100, busyPercent: 0, loopPercent: 60 },
    ]);
    // top: per thread, frames, the share of the interval spent busy (busy_us) and, for a
    // worker, its thread's event loop (loop_busy_us: the same for the workers of a thread).
    expect(formatTop(snapshot(3), r, '12:00:00').split('\n').slice(6, 10)).toEqual([
      'thread    frames/s in  frames/s out  busy %  loop %',
      '--------  -----------  ------------  ------  ------',
      'io               1000           400    10.0       -',
      'worker-0          600           900   100.0    60.0',
    ]);
  });

  it('health and capture lines', () => {
    expect(formatHealth({ ok: true, workers: 4, workersAlive: 4, ioAlive: true })).toBe('ok: I/O thread up, 4/4 workers up\n');
    expect(formatHealth({ ok: false, workers: 4, workersAlive: 3, ioAlive: true })).toBe('NOT OK: I/O thread up, 3/4 workers up\n');
    const on: CaptureStatus = { active: true, file: '/tmp/a.pcap', snaplen: 128, maxMb: 10, maxFiles: 5, files: 2, records: 1200, bytes: 12_345_678, error: null };
    expect(formatCapture({ ...on, dropped: 7 })).toBe(
      'to /tmp/a.pcap (snaplen 128, rotating every 10 MB, keeping the last 5 files): 1200 records, 12.3 MB in 2 files, 7 frames not captured (ring full)',
    );
    expect(formatCapture({ ...on, active: false, error: 'capture stopped: ENOSPC' })).toBe(
      'off (last: /tmp/a.pcap, 1200 records in 2 files, capture stopped: ENOSPC)',
    );
  });
});

describe('stackctl command line', () => {
  const usage = (argv: string[]): string => {
    try {
      parseStackctlArgs(argv);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`no error for ${argv.join(' ')}`);
  };

  it('the control socket: --control, else $STACKD_CONTROL, else /run/stackd/<--tap>.sock', () => {
    expect(parseStackctlArgs(['health']).control).toBe('/run/stackd/tap0.sock');
    expect(parseStackctlArgs(['--tap', 'tap3', 'health']).control).toBe('/run/stackd/tap3.sock');
    expect(parseStackctlArgs(['health'], { STACKD_CONTROL: '/x/y.sock' }).control).toBe('/x/y.sock');
    expect(parseStackctlArgs(['--control', '127.0.0.1:9', 'health'], { STACKD_CONTROL: '/x/y.sock' }).control).toBe('127.0.0.1:9');
  });

  it('options and arguments per command', () => {
    expect(parseStackctlArgs(['conns', '--state', 'time-wait', '--port', '80'])).toMatchObject({ command: 'conns', state: 'TIME_WAIT', port: 80 });
    expect(parseStackctlArgs(['pcap', 'start', 'x.pcap', '--snaplen', '96', '--max-mb', '5'], {}, '/data')).toMatchObject({
      command: 'pcap-start', capture: { file: '/data/x.pcap', snaplen: 96, maxMb: 5 },
    });
    expect(parseStackctlArgs(['pcap', 'start', '/x.pcap', '--max-mb', '5', '--max-files', '4']).capture).toEqual({ file: '/x.pcap', maxMb: 5, maxFiles: 4 });
    expect(usage(['pcap', 'start', '/x.pcap', '--max-files', '4'])).toBe('--max-files: only with --max-mb (files rotate by size)');
    expect(usage(['pcap', 'stop', '--max-files', '4'])).toBe('--max-files: only with pcap start');
    expect(parseStackctlArgs(['stats', '--watch', '--interval', '0.5', '--count', '3'])).toMatchObject({ watch: true, intervalMs: 500, count: 3 });
    expect(parseStackctlArgs(['trace', '3.141'])).toMatchObject({ command: 'trace', traceId: '3.141' });
    expect(parseStackctlArgs(['trace'])).toMatchObject({ command: 'trace', traceId: null });
  });

  it('bad command lines: one line naming what is wrong', () => {
    expect(usage([])).toBe('no command (stackctl --help lists them)');
    expect(usage(['bogus'])).toBe("'bogus': unknown command (health, stats, top, conns, trace, latency, pcap; stackctl --help)");
    expect(usage(['health', 'extra'])).toBe("'extra': unexpected argument to health");
    expect(usage(['pcap'])).toBe("pcap: expected 'start FILE' or 'stop'");
    expect(usage(['pcap', 'start'])).toBe('pcap start: which file? (stackctl pcap start FILE)');
    expect(usage(['--frob', 'health'])).toBe('--frob: unknown option (stackctl --help lists them)');
    expect(usage(['health', '--watch'])).toBe('--watch: only with stats');
    expect(usage(['trace', '10.10.0.4:80'])).toBe("trace: '10.10.0.4:80' is not a connection id (<worker>.<serial>, e.g. 0.12, as stackctl conns shows)");
    expect(usage(['trace', '1.7', '1.8'])).toBe("'1.8': unexpected argument to trace");
    expect(usage(['trace', '1.7', '--port', '80'])).toBe('--port: only with conns');
    expect(usage(['stats', '--count', '2'])).toBe('--count: only with stats --watch or top');
    expect(usage(['conns', '--state', 'listening'])).toMatch(/^--state: 'listening' is not a TCP state \(closed, syn-sent, /);
    expect(usage(['conns', '--port', '0'])).toBe("--port: expected a whole number 1..65535, got '0'");
    expect(usage(['pcap', 'stop', '--snaplen', '100'])).toBe('--snaplen: only with pcap start');
    expect(usage(['stats', '--svg', 'a.svg'])).toBe('--svg: only with latency');
    expect(usage(['latency', '--svg', ''])).toBe('--svg: which file? (stackctl latency --svg FILE)');
    expect(usage(['--control', 'nohost', 'health'])).toMatch(/^--control: bad control address 'nohost'/);
  });

  it('--help lists every option the parser accepts, and no other', () => {
    const listed = [...STACKCTL_HELP.matchAll(/^ {2}(?:(-\w), )?--([a-z][a-z-]*)/gm)].map((m) => m[2]);
    expect(listed.sort()).toEqual(Object.keys(STACKCTL_OPTIONS).sort());
  });
});

describe('stackctl against a control server', () => {
  let dir: string;
  let server: ControlServer;
  let calls = 0;
  const captures: unknown[] = [];
  const source: ControlSource = {
    stats: () => snapshot(++calls),
    latency: () => Promise.resolve({ unit: 'us', threads: [{ thread: 'io', stages: { rx_dispatch: { count: 3, p50: 1, p90: 2, p99: 3, p999: 3, max: 3, mean: 1.5 } } }] }),
    resetLatency: () => Promise.resolve(),
    connections: () => Promise.resolve([CONN, CONN2]),
    archivedTraces: () => Promise.resolve(ARCHIVED),
    trace: (id) => (id === '1.7' ? Promise.resolve(TRACE) : Promise.reject(Object.assign(new Error(`no connection ${id}`), { status: 404 }))),
    health: () => ({ ok: false, workers: 2, workersAlive: 1, ioAlive: true }),
    startCapture: (req) => {
      captures.push(req);
      return { ...CAPTURE_OFF, active: true, file: (req as { file: string }).file, snaplen: 262144, files: 1, bytes: 24 };
    },
    stopCapture: () => {
      throw Object.assign(new Error('no capture is running'), { status: 409 });
    },
    ipv6: () => Promise.reject(new Error('not used by stackctl')),
    addIpv6Address: () => Promise.reject(new Error('not used by stackctl')),
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stackctl-'));
    server = await startControlServer(join(dir, 'ctl.sock'), source);
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs stackctl in-process; sleeps return at once. */
  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const io: StackctlIo = { out: (t) => void (out += t), err: (t) => void (err += t), env: {}, cwd: '/work', sleep: () => Promise.resolve(true) };
    const code = await runStackctl(['--control', server.address, ...argv], io);
    return { code, out, err };
  }

  it('conns --json prints the filtered JSON; conns the table', async () => {
    const j = await run('conns', '--json', '--port', '7');
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toEqual([CONN2]);
    expect((await run('conns', '--state', 'established')).out).toBe(formatConnections([CONN]));
  });

  it('trace ID prints the trace (--json: the API\'s JSON); an unknown id is one line, exit 1', async () => {
    expect(await run('trace', '1.7')).toEqual({ code: 0, out: formatTrace(TRACE), err: '' });
    const j = await run('trace', '1.7', '--json');
    expect(JSON.parse(j.out)).toEqual(TRACE);
    expect(await run('trace')).toEqual({ code: 0, out: formatArchivedTraces(ARCHIVED), err: '' });
    expect(JSON.parse((await run('trace', '--json')).out)).toEqual(ARCHIVED);
    expect(await run('trace', '1.99')).toEqual({ code: 1, out: '', err: 'stackctl: /connections/1.99/trace: no connection 1.99\n' });
  });

  it('health: the line, and exit 1 when a thread is down (503)', async () => {
    expect(await run('health')).toEqual({ code: 1, out: 'NOT OK: I/O thread up, 1/2 workers up\n', err: '' });
    expect(JSON.parse((await run('health', '--json')).out)).toEqual({ ok: false, workers: 2, workersAlive: 1, ioAlive: true });
  });

  it('stats --watch --count 2: a header and a row of rates per refresh; --json one line each', async () => {
    const r = await run('stats', '--watch', '--count', '2');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^time +frames\/s in +frames\/s out +Mbit\/s in +Mbit\/s out +conn\/s +tcp conns +retrans\/s +drops\/s$/);
    expect(lines.filter((l) => /^\d\d:\d\d:\d\d /.test(l))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('  drops: rx_ring_full ')).length).toBe(2);
    const j = await run('stats', '--watch', '--count', '1', '--json');
    const row = JSON.parse(j.out) as { framesIn: number; drops: Record<string, number> };
    expect(row.framesIn).toBeGreaterThan(0);
    expect(Object.keys(row.drops).sort()).toEqual(['rx_ring_full', 'tcp_checksum']);
  });

  it('latency prints the table; pcap start sends the absolute path; a refused pcap stop is one line, exit 1', async () => {
    expect((await run('latency')).out).toMatch(/^thread +stage +count +p50 µs/);
    const start = await run('pcap', 'start', 'cap.pcap', '--snaplen', '100');
    expect(start).toEqual({ code: 0, out: 'capturing to /work/cap.pcap (snaplen 262144): 0 records, 24 B in 1 file\n', err: '' });
    expect(captures).toEqual([{ file: '/work/cap.pcap', snaplen: 100 }]);
    expect(await run('pcap', 'stop')).toEqual({ code: 1, out: '', err: 'stackctl: /pcap/stop: no capture is running\n' });
  });

  it('latency --svg FILE writes the chart (resolved against the working directory) after the table; an unwritable path is one line, exit 1', async () => {
    const file = join(dir, 'lat.svg');
    const r = await run('latency', '--svg', file);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^thread +stage +count +p50 µs/);
    expect(r.out.endsWith(`chart written to ${file}\n`)).toBe(true);
    const doc = parseXml(readFileSync(file, 'utf8'));
    expect(byClass(doc, 'panel').map((p) => p.attrs['data-title'])).toEqual(['io']);
    expect(byClass(doc, 'bar').map((b) => [b.attrs['data-series'], b.attrs['data-value']])).toEqual([['p50', '1'], ['p90', '2'], ['p99', '3'], ['p99.9', '3']]);
    expect(parseStackctlArgs(['latency', '--svg', 'x.svg'], {}, dir).svg).toBe(join(dir, 'x.svg'));
    const j = await run('latency', '--json', '--svg', join(dir, 'lat2.svg'));
    expect(JSON.parse(j.out)).toMatchObject({ unit: 'us' });
    expect(existsSync(join(dir, 'lat2.svg'))).toBe(true);
    const bad = await run('latency', '--svg', join(dir, 'no', 'such', 'dir.svg'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(new RegExp(`^stackctl: --svg: cannot write ${join(dir, 'no', 'such', 'dir.svg')}: ENOENT[^\n]*\n$`));
  });

  it('a missing socket: one line, exit 1; a bad command: one line, exit 2', async () => {
    let err = '';
    const io: StackctlIo = { out: () => {}, err: (t) => void (err += t), env: {}, cwd: '/', sleep: () => Promise.resolve(true) };
    expect(await runStackctl(['--control', join(dir, 'none.sock'), 'stats'], io)).toBe(1);
    expect(err).toBe(`stackctl: no stackd control socket at ${join(dir, 'none.sock')}: is stackd running? (--control)\n`);
    const bad = await run('frobnicate');
    expect(bad.code).toBe(2);
    expect(bad.err.split('\n')).toEqual(["stackctl: 'frobnicate': unknown command (health, stats, top, conns, trace, latency, pcap; stackctl --help)", '']);
  });
});
