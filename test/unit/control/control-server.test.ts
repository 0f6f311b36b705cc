/**
 * The control server over a unix socket in a fresh temp dir (and 127.0.0.1:0), with a
 * fake ControlSource of fixed numbers: routes, status codes, bodies, the Prometheus
 * exposition, error handling and socket-file lifecycle.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controlRequest } from '../../../src/control/control-client.js';
import { startControlServer, type ControlServer } from '../../../src/control/control-server.js';
import type { ControlSource, Ipv6Report, LatencyReport, StatsSnapshot } from '../../../src/control/types.js';
import { COUNTER_NAMES } from '../../../src/base/counters.js';

/** A full counter record: zeros except `set`. */
function counters(set: Record<string, number>): Record<string, number> {
  return { ...Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])), ...set };
}

const SNAPSHOT: StatsSnapshot = {
  version: '0.1.0',
  uptimeSeconds: 42.5,
  tap: 'tap0',
  ip: '10.0.0.2',
  prefixLength: 24,
  gateway: '10.0.0.1',
  routes: ['10.20.0.0/24 via 10.0.0.254'],
  ipv6: [{ address: 'fe80::ff:fe00:1/64', state: null }, { address: 'fd00:10:10::4/64', state: null }],
  gateway6: null,
  mac: '02:00:00:00:00:01',
  mtu: 1500,
  offload: false,
  workers: 2,
  workerThreads: 1,
  cpuAffinity: { mode: 'off', unboundBecause: '--cpu-affinity off' },
  dataPlaneThreads: [{ thread: 'io', tid: 100, cpus: '0-1' }, { thread: 'workers-0-1', tid: 101, cpus: '0-1' }],
  rssBytes: 100 * 2 ** 20,
  threads: [
    { thread: 'io', counters: counters({ tap_rx_frames: 12, tap_rx_bytes: 1500, drop_rx_ring_full: 1 }) },
    { thread: 'worker-0', counters: counters({ rx_frames: 7, drop_ipv4_checksum: 2, arp_cache_entries: 4 }) },
    { thread: 'worker-1', counters: counters({ rx_frames: 5, drop_ipv4_checksum: 1 }) },
  ],
  totals: counters({ tap_rx_frames: 12, tap_rx_bytes: 1500, rx_frames: 12, drop_rx_ring_full: 1, drop_ipv4_checksum: 3, arp_cache_entries: 4 }),
  drops: { rx_ring_full: 1, ipv4_checksum: 3 },
  rings: [
    { name: 'rx-0', capacity: 1048576, used: 2048, highWater: 65536, fullDrops: 1, records: 3 },
    { name: 'tx-0', capacity: 1048576, used: 0, highWater: 4096, fullDrops: 0, records: 0 },
  ],
  pcap: { active: false, file: null, snaplen: null, maxMb: null, maxFiles: null, files: 0, records: 0, bytes: 0, error: null, captured: 0, dropped: 0 },
  fault: null,
  faults: {},
  appPool: { threads: 1, maxQueue: 256, started: true, inFlight: 2, highWater: 5, completed: 40, failed: 1, rejectedFull: 3 },
};

const LATENCY: LatencyReport = {
  unit: 'us',
  threads: [
    { thread: 'worker-0', stages: { ipv4: { count: 100, p50: 1.5, p90: 3, p99: 12.5, p999: 40, max: 55.25, mean: 2.1 } } },
  ],
};

const HEALTH = { ok: true, workers: 2, workersAlive: 2, ioAlive: true };

/** The error `p` rejects with; throws (failing the test) when it resolves. */
async function rejectionOf(p: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  try {
    await p;
  } catch (e) {
    return e as NodeJS.ErrnoException;
  }
  throw new Error('expected a rejection');
}

const IPV6: Ipv6Report = {
  addresses: [{ address: 'fe80::ff:fe00:1', prefixLength: 64, state: 'PREFERRED' }, { address: 'fd00:10:10::4', prefixLength: 64, state: 'TENTATIVE' }],
  routers: [{ address: 'fe80::1', expiresInMs: 1_799_000 }],
  neighbours: [{ address: 'fd00:10:10::3', mac: '02:42:0a:0a:00:03', state: 'REACHABLE', isRouter: false, timerInMs: 29_000 }],
  hopLimit: 64,
  mtu: 1500,
};

/** A fake source; override members per test. Capture requests are kept in `captures`. */
function fakeSource(over: Partial<ControlSource> = {}): ControlSource & { resets: number; captures: unknown[]; added: unknown[] } {
  const status = { active: true, file: '/tmp/c.pcap', snaplen: 262144, maxMb: null, maxFiles: null, files: 1, records: 0, bytes: 24, error: null };
  const src = {
    resets: 0,
    captures: [] as unknown[],
    added: [] as unknown[],
    startCapture: (req: unknown) => {
      src.captures.push(req);
      return { ...status };
    },
    stopCapture: () => {
      throw Object.assign(new Error('no capture is running'), { status: 409 });
    },
    stats: () => structuredClone(SNAPSHOT),
    latency: () => Promise.resolve(structuredClone(LATENCY)),
    resetLatency: () => {
      src.resets++;
      return Promise.resolve();
    },
    health: () => ({ ...HEALTH }),
    connections: () => Promise.resolve([]),
    archivedTraces: () => Promise.resolve([]),
    trace: (id: string) => Promise.reject(Object.assign(new Error(`no connection ${id}`), { status: 404 })),
    ipv6: () => Promise.resolve(structuredClone(IPV6)),
    addIpv6Address: (req: unknown) => {
      src.added.push(req);
      return Promise.resolve(structuredClone(IPV6));
    },
    ...over,
  };
  return src;
}

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request to a unix socket path or host:port, with headers. */
function http(listen: string, path: string, method = 'GET'): Promise<Res> {
  const where = listen.includes('/')
    ? { socketPath: listen }
    : { host: listen.slice(0, listen.lastIndexOf(':')), port: Number(listen.slice(listen.lastIndexOf(':') + 1)) };
  return new Promise((resolve, reject) => {
    const req = request({ ...where, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Checks Prometheus text format 0.0.4 line by line: HELP/TYPE comments, samples
 * `name{l="v",...} value` with a TYPE seen before for that exact name, no repeated
 * series. Returns the TYPE of each family.
 */
function parseExposition(text: string): Map<string, string> {
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
  const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|NaN|[+-]Inf)';
  const sample = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?\\})? (${VALUE})$`);
  const types = new Map<string, string>();
  const seen = new Set<string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (new RegExp(`^# HELP (${NAME}) (.*)$`).test(line)) continue;
    let m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (m) {
      expect(types.has(m[1]), `TYPE twice: ${line}`).toBe(false);
      types.set(m[1], m[2]);
      continue;
    }
    m = sample.exec(line);
    expect(m, `not a valid exposition line: ${JSON.stringify(line)}`).not.toBeNull();
    expect(types.has(m![1]), `sample before its TYPE: ${line}`).toBe(true);
    const series = `${m![1]}{${m!.at(2) ?? ''}}`;
    expect(seen.has(series), `repeated series: ${series}`).toBe(false);
    seen.add(series);
  }
  return types;
}

let dir: string;
let servers: ControlServer[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stackd-control-'));
  servers = [];
});

afterEach(async () => {
  for (const s of servers) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(source: ControlSource, listen = join(dir, 'run', 'stackd', 'tap0.sock'), log?: pino.Logger) {
  const s = await startControlServer(listen, source, log);
  servers.push(s);
  return s;
}

describe('routes', () => {
  it('GET /connections returns the source\'s connections as JSON', async () => {
    const row = {
      id: '1.4', worker: 1, local: '10.10.0.4:80', remote: '10.10.0.3:40000', state: 'ESTABLISHED', bytesIn: 73, bytesOut: 1442,
      srttMs: 0.5, rtoMs: 200, cwnd: 14480, ssthresh: null, sndWnd: 64512, rcvWnd: 1048576, sendQueued: 0, recvUnread: 0,
      mss: 1448, options: { timestamps: true, sack: true, sndWscale: 10, rcvWscale: 5 }, retransmitting: false,
      rttvarMs: 0.25, rtoBackoffs: 0, inRecovery: false, dupAcks: 0,
    };
    const s = await start(fakeSource({ connections: () => Promise.resolve([row]) }));
    const r = await controlRequest(s.address, '/connections');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual([row]);
  });

  it('GET /connections/<id>/trace asks the source for that id (decoded); its 4xx keeps its status; other methods 405', async () => {
    const asked: string[] = [];
    const trace = {
      id: '0.3', worker: 0, local: '10.10.0.4:80', remote: '10.10.0.3:40000', state: 'ESTABLISHED', live: true, traced: true, archived: null,
      iss: 1, irs: 2, sndWscale: 7, rcvWscale: 7, events: [{ t: 1, kind: 'out' as const, flags: 2, seq: 1, ack: 0, win: 65535, len: 0, cwnd: 14600 }],
    };
    const s = await start(fakeSource({
      trace: (id) => {
        asked.push(id);
        return id === '0.3' ? Promise.resolve(trace) : Promise.reject(Object.assign(new Error(`no connection ${id}`), { status: 404 }));
      },
    }));
    const ok = await controlRequest(s.address, '/connections/0.3/trace');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual(trace);
    const missing = await http(s.address, '/connections/0%2E9/trace');
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('{"error":"no connection 0.9"}\n');
    expect(asked).toEqual(['0.3', '0.9']);
    expect((await http(s.address, '/connections/%E0%A4%A/trace')).status).toBe(400);
    expect((await http(s.address, '/connections/0.3/trace', 'POST')).status).toBe(405);
    expect((await http(s.address, '/connections/0.3/trace/x')).status).toBe(404);
  });

  it('GET /traces returns the source\'s archived traces', async () => {
    const list = [{ id: '1.9', worker: 1, local: '10.10.0.4:80', remote: '10.10.0.3:40000', state: 'CLOSED', reasons: ['reset'], closedMsAgo: 5, events: 7 }];
    const s = await start(fakeSource({ archivedTraces: () => Promise.resolve(list) }));
    const r = await controlRequest(s.address, '/traces');
    expect([r.status, JSON.parse(r.body)]).toEqual([200, list]);
  });

  it('GET /health answers 200 with the health object when ok', async () => {
    const s = await start(fakeSource());
    const res = await http(s.address, '/health');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toBe('{"ok":true,"workers":2,"workersAlive":2,"ioAlive":true}\n');
  });

  it('GET /health answers 503 when a thread is down', async () => {
    const s = await start(fakeSource({ health: () => ({ workersAlive: 1, ok: false, workers: 2, ioAlive: true }) }));
    const res = await http(s.address, '/health');
    expect(res.status).toBe(503);
    expect(res.body).toBe('{"ok":false,"workersAlive":1,"workers":2,"ioAlive":true}\n');
  });

  it('GET /stats is the snapshot as JSON indented by 2', async () => {
    const s = await start(fakeSource());
    const res = await http(s.address, '/stats?pretty=1');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const withStates = { ...SNAPSHOT, ipv6: [{ address: 'fe80::ff:fe00:1/64', state: 'PREFERRED' }, { address: 'fd00:10:10::4/64', state: 'TENTATIVE' }] };
    expect(JSON.parse(res.body)).toEqual(withStates);
    expect(res.body).toBe(JSON.stringify(withStates, null, 2) + '\n');
    expect(res.body.split('\n')[1]).toBe('  "version": "0.1.0",');
  });

  it('GET /stats shows each IPv6 address with its DAD state from the IPv6 report (a DUPLICATE one as such); null states when the report fails', async () => {
    const dup: Ipv6Report = { ...IPV6, addresses: [IPV6.addresses[0], { address: 'fd00:10:10::4', prefixLength: 64, state: 'DUPLICATE' }] };
    const s = await start(fakeSource({ ipv6: () => Promise.resolve(structuredClone(dup)) }));
    const res = await http(s.address, '/stats');
    expect((JSON.parse(res.body) as StatsSnapshot).ipv6).toEqual([{ address: 'fe80::ff:fe00:1/64', state: 'PREFERRED' }, { address: 'fd00:10:10::4/64', state: 'DUPLICATE' }]);
    const noReport = await start(fakeSource({ ipv6: () => Promise.reject(new Error('worker-0 did not answer within 2000 ms')) }), join(dir, 'nov6.sock'));
    const r2 = await http(noReport.address, '/stats');
    expect([r2.status, (JSON.parse(r2.body) as StatsSnapshot).ipv6]).toEqual([200, SNAPSHOT.ipv6]);
  });

  it('HEAD /stats answers 200 with no body', async () => {
    const s = await start(fakeSource());
    const res = await http(s.address, '/stats', 'HEAD');
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
  });

  it('GET /latency is the report; POST /latency/reset answers 204 and resets', async () => {
    const src = fakeSource();
    const s = await start(src);
    const lat = await http(s.address, '/latency');
    expect(lat.status).toBe(200);
    expect(lat.headers['content-type']).toBe('application/json');
    expect(lat.body).toBe(JSON.stringify(LATENCY, null, 2) + '\n');
    const reset = await http(s.address, '/latency/reset', 'POST');
    expect(reset.status).toBe(204);
    expect(reset.body).toBe('');
    expect(src.resets).toBe(1);
  });

  it('unknown paths get 404 with the list of routes', async () => {
    const s = await start(fakeSource());
    const res = await http(s.address, '/nope');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toBe(
      '{"error":"not found","routes":["GET /health","GET /stats","GET /metrics","GET /latency","POST /latency/reset","GET /connections",' +
        '"GET /connections/<id>/trace","GET /traces",' +
        '"POST /pcap/start","POST /pcap/stop","GET /ipv6","POST /ipv6/addresses"]}\n',
    );
  });

  it('POST /pcap/start hands the JSON body to the source and answers its status; a 4xx error from the source keeps its status', async () => {
    const src = fakeSource();
    const s = await start(src);
    const body = { file: '/tmp/c.pcap', snaplen: 128, maxMb: 2 };
    const r = await controlRequest(s.address, '/pcap/start', 'POST', 2000, JSON.stringify(body));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ active: true, file: '/tmp/c.pcap' });
    expect(src.captures).toEqual([body]);
    const stop = await controlRequest(s.address, '/pcap/stop', 'POST');
    expect([stop.status, stop.body]).toEqual([409, '{"error":"no capture is running"}\n']);
  });

  it('GET /ipv6 is the IPv6 report as JSON; a source whose IPv6 is off answers 409 with the reason', async () => {
    const s = await start(fakeSource());
    const res = await http(s.address, '/ipv6');
    expect([res.status, res.headers['content-type']]).toEqual([200, 'application/json']);
    expect(JSON.parse(res.body)).toEqual(IPV6);
    const off = await start(fakeSource({ ipv6: () => Promise.reject(Object.assign(new Error('IPv6 is off: the MTU is below 1280 (RFC 8200 5)'), { status: 409 })) }), join(dir, 'off.sock'));
    const r = await http(off.address, '/ipv6');
    expect([r.status, r.body]).toEqual([409, '{"error":"IPv6 is off: the MTU is below 1280 (RFC 8200 5)"}\n']);
  });

  it('POST /ipv6/addresses hands the JSON body to the source and answers the report; a body that is not JSON is 400', async () => {
    const src = fakeSource();
    const s = await start(src);
    const r = await controlRequest(s.address, '/ipv6/addresses', 'POST', 2000, JSON.stringify({ address: 'fd00:10:10::9/64' }));
    expect([r.status, JSON.parse(r.body)]).toEqual([200, IPV6]);
    expect(src.added).toEqual([{ address: 'fd00:10:10::9/64' }]);
    const bad = await controlRequest(s.address, '/ipv6/addresses', 'POST', 2000, 'fd00::9');
    expect(bad.status).toBe(400);
    expect(src.added).toHaveLength(1);
  });

  it('POST /pcap/start: a body that is not JSON is 400, one over 64 KiB 413', async () => {
    const src = fakeSource();
    const s = await start(src);
    const bad = await controlRequest(s.address, '/pcap/start', 'POST', 2000, '{file: x');
    expect(bad.status).toBe(400);
    expect((JSON.parse(bad.body) as { error: string }).error).toMatch(/^the body is not JSON/);
    const big = await controlRequest(s.address, '/pcap/start', 'POST', 2000, JSON.stringify({ file: 'x'.repeat(70_000) }));
    expect(big.status).toBe(413);
    expect(src.captures).toEqual([]);
  });

  it('wrong methods get 405 with allow', async () => {
    const s = await start(fakeSource());
    const post = await http(s.address, '/stats', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(post.body).toBe('{"error":"method not allowed","allow":"GET, HEAD"}\n');
    const get = await http(s.address, '/latency/reset', 'GET');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect(get.body).toBe('{"error":"method not allowed","allow":"POST"}\n');
  });

  it('a throwing source gives 500 with the message, is logged, and the server carries on', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'error' }, new Writable({ write: (c, _e, cb) => { lines.push(String(c)); cb(); } }));
    const s = await start(
      fakeSource({
        stats: () => {
          throw new Error('counter block gone');
        },
        latency: async () => Promise.reject(new Error('worker-1 did not answer')),
      }),
      undefined,
      log,
    );
    const res = await http(s.address, '/stats');
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toBe('{"error":"counter block gone"}\n');
    const lat = await http(s.address, '/latency');
    expect(lat.status).toBe(500);
    expect(lat.body).toBe('{"error":"worker-1 did not answer"}\n');
    const metrics = await http(s.address, '/metrics');
    expect(metrics.status).toBe(500);
    expect((await http(s.address, '/health')).status).toBe(200);
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0]) as { level: number; msg: string; path: string; err: { message: string } };
    expect([first.level, first.msg, first.path, first.err.message]).toEqual([50, 'control request failed', '/stats', 'counter block gone']);
  });
});

describe('GET /metrics', () => {
  it('serves the Prometheus exposition built from stats and latency', async () => {
    const s = await start(fakeSource());
    const res = await http(s.address, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const types = parseExposition(res.body);
    const lines = res.body.split('\n');
    for (const line of [
      '# TYPE stackd_tap_rx_frames_total counter',
      'stackd_tap_rx_frames_total{thread="io"} 12',
      'stackd_tap_rx_frames_total{thread="worker-0"} 0',
      'stackd_rx_frames_total{thread="worker-1"} 5',
      '# TYPE stackd_arp_cache_entries gauge',
      'stackd_arp_cache_entries{thread="worker-0"} 4',
      'stackd_drop_ipv4_checksum_total{thread="worker-0"} 2',
      '# TYPE stackd_drops_total counter',
      'stackd_drops_total{reason="ipv4_checksum"} 3',
      'stackd_drops_total{reason="rx_ring_full"} 1',
      'stackd_drops_total{reason="udp_no_port"} 0',
      '# TYPE stackd_ring_used_bytes gauge',
      'stackd_ring_used_bytes{ring="rx-0"} 2048',
      'stackd_ring_high_water_bytes{ring="rx-0"} 65536',
      'stackd_ring_capacity_bytes{ring="tx-0"} 1048576',
      '# TYPE stackd_ring_full_drops_total counter',
      'stackd_ring_full_drops_total{ring="rx-0"} 1',
      '# TYPE stackd_app_pool_in_flight gauge',
      'stackd_app_pool_in_flight 2',
      '# TYPE stackd_app_pool_tasks_total counter',
      'stackd_app_pool_tasks_total{result="completed"} 40',
      'stackd_app_pool_tasks_total{result="failed"} 1',
      'stackd_app_pool_tasks_total{result="rejected_full"} 3',
      '# TYPE stackd_workers gauge',
      'stackd_workers 2',
      'stackd_uptime_seconds 42.5',
      'stackd_info{version="0.1.0",tap="tap0",ip="10.0.0.2",mac="02:00:00:00:00:01"} 1',
      '# TYPE stackd_stage_latency_microseconds gauge',
      'stackd_stage_latency_microseconds{thread="worker-0",stage="ipv4",quantile="0.5"} 1.5',
      'stackd_stage_latency_microseconds{thread="worker-0",stage="ipv4",quantile="0.9"} 3',
      'stackd_stage_latency_microseconds{thread="worker-0",stage="ipv4",quantile="0.99"} 12.5',
      'stackd_stage_latency_microseconds{thread="worker-0",stage="ipv4",quantile="0.999"} 40',
      'stackd_stage_latency_microseconds_count{thread="worker-0",stage="ipv4"} 100',
    ]) {
      expect(lines, line).toContain(line);
    }
    // Every counter is a family: gauges without _total, the rest counters with it.
    expect(types.get('stackd_arp_pending_packets')).toBe('gauge');
    expect(types.has('stackd_arp_cache_entries_total')).toBe(false);
    expect(types.get('stackd_drop_internal_error_total')).toBe('counter');
    expect([...types.keys()].filter((n) => /^stackd_\w+_total$/.test(n) && types.get(n) !== 'counter')).toEqual([]);
    // A drops series for every drop_ counter name, and no others.
    const reasons = lines.filter((l) => l.startsWith('stackd_drops_total{')).length;
    expect(reasons).toBe(COUNTER_NAMES.filter((n) => n.startsWith('drop_')).length);
  });

  it('reads the source at scrape time', async () => {
    let frames = 12;
    const s = await start(
      fakeSource({
        stats: () => {
          const snap = structuredClone(SNAPSHOT);
          snap.threads[0].counters.tap_rx_frames = frames;
          return snap;
        },
      }),
    );
    expect((await http(s.address, '/metrics')).body).toContain('\nstackd_tap_rx_frames_total{thread="io"} 12\n');
    frames = 99;
    expect((await http(s.address, '/metrics')).body).toContain('\nstackd_tap_rx_frames_total{thread="io"} 99\n');
  });
});

describe('unix socket lifecycle', () => {
  it('creates the directory, makes the socket 0660 and removes it on close', async () => {
    const path = join(dir, 'run', 'stackd', 'tap0.sock');
    const s = await startControlServer(path, fakeSource());
    expect(s.address).toBe(path);
    expect(statSync(join(dir, 'run', 'stackd')).isDirectory()).toBe(true);
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o660);
    await s.close();
    expect(existsSync(path)).toBe(false);
    await s.close(); // idempotent
  });

  it('replaces a stale socket file left by a dead process', async () => {
    const path = join(dir, 'stale.sock');
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [
        '-e',
        `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
      ]);
      child.on('error', reject);
      child.on('exit', () => resolve());
    });
    expect(statSync(path).isSocket()).toBe(true);
    const s = await start(fakeSource(), path);
    expect((await http(s.address, '/health')).status).toBe(200);
  });

  it('refuses a path where a live server answers, and leaves that server alone', async () => {
    const path = join(dir, 'tap0.sock');
    const first = await start(fakeSource(), path);
    const err = await rejectionOf(startControlServer(path, fakeSource()));
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toBe(
      `control socket ${path} is in use: another stackd seems to be running (choose another --control)`,
    );
    expect((await http(first.address, '/health')).status).toBe(200);
  });

  it('refuses to replace a path that is not a socket', async () => {
    const path = join(dir, 'file.sock');
    writeFileSync(path, 'keep me');
    const err = await rejectionOf(startControlServer(path, fakeSource()));
    expect(err.code).toBe('EEXIST');
    expect(statSync(path).isFile()).toBe(true);
  });
});

describe('host:port', () => {
  it('listens on 127.0.0.1 with port 0 and reports the real port', async () => {
    const s = await start(fakeSource(), '127.0.0.1:0');
    expect(s.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(s.address).not.toBe('127.0.0.1:0');
    expect(await controlRequest(s.address, '/health')).toEqual({
      status: 200,
      body: '{"ok":true,"workers":2,"workersAlive":2,"ioAlive":true}\n',
    });
  });

  it('rejects an address that is neither a path nor host:port', async () => {
    await expect(startControlServer('tap0.sock', fakeSource())).rejects.toThrow(
      "bad control address 'tap0.sock': expected a unix socket path (containing '/') or host:port",
    );
  });
});
