/**
 * The control plane's HTTP face: a small `node:http` server on a unix socket (the
 * default, e.g. /run/stackd/tap0.sock) or host:port, serving what a ControlSource
 * reports about the running stack.
 *
 *   GET  /health          200 {"ok":true,...} or 503 when a thread is down
 *   GET  /stats           the StatsSnapshot, pretty JSON (IPv6 addresses with their DAD state)
 *   GET  /metrics         Prometheus text exposition (prom-client, private registry)
 *   GET  /latency         the LatencyReport, pretty JSON
 *   POST /latency/reset   204
 *   GET  /connections     every TCP connection, pretty JSON
 *   GET  /connections/<id>/trace   one connection's recent events (id `<worker>.<serial>`
 *                         from /connections; also a closed one whose trace was archived)
 *   GET  /traces          the archived traces (closed connections with an RTO or a reset)
 *   POST /pcap/start      body {"file": "/abs/path.pcap", "snaplen": N, "maxMb": M}: 200 and
 *                         the capture status; 400 for a bad body, 409 when one runs
 *   POST /pcap/stop       200 and the capture status; 409 when none runs
 *   GET  /ipv6            IPv6 addresses (DAD state), default routers, neighbour cache;
 *                         409 when IPv6 is off
 *   POST /ipv6/addresses  body {"address": "ADDR/PREFIX"}: adds it (DAD starts), 200 and
 *                         the report; 400 for a bad body or address, 409 when IPv6 is
 *                         off or the address is ours already
 *
 * Unknown paths get 404, wrong methods 405 with `allow`, a body over 64 KiB 413; an
 * error with a `status` (4xx) from the source gives that status with its message, any
 * other error a 500 with the message, and the server carries on.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import pino from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { COUNTER_NAMES, GAUGE_NAMES } from '../base/counters.js';
import { formatHostPort, parseListen } from './control-client.js';
import type { ControlSource, LatencyReport, StatsSnapshot } from './types.js';

/** A running control server. */
export interface ControlServer {
  /** The socket path, or `host:port` with the real port (`[::1]:9090` for IPv6). */
  address: string;
  /** Stops accepting, drops open connections and removes the unix socket file. */
  close(): Promise<void>;
}

/** A response before it is written. */
interface Reply {
  status: number;
  type?: string;
  body?: string;
  headers?: Record<string, string>;
}

/** Every route as `METHOD /path`, listed in 404 bodies. */
export const CONTROL_ROUTES: readonly string[] = [
  'GET /health', 'GET /stats', 'GET /metrics', 'GET /latency', 'POST /latency/reset', 'GET /connections', 'GET /connections/<id>/trace',
  'GET /traces', 'POST /pcap/start', 'POST /pcap/stop', 'GET /ipv6', 'POST /ipv6/addresses',
];

/** GET /connections/<id>/trace. */
const TRACE_PATH = /^\/connections\/([^/]+)\/trace$/;

/** A percent-encoded path segment, decoded; a malformed one is a 400. */
function pathSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw Object.assign(new Error(`'${s}': malformed percent-encoding in the path`), { status: 400 });
  }
}

/** Largest request body read (bytes); a longer one is answered 413. */
const MAX_BODY = 64 * 1024;

const JSON_TYPE = 'application/json';
const QUANTILES = [['0.5', 'p50'], ['0.9', 'p90'], ['0.99', 'p99'], ['0.999', 'p999']] as const;

/**
 * Starts the control server on `listen` (a unix socket path, anything containing '/',
 * or host:port with port 0 allowed). For a socket path the parent directory is created
 * (0755), a stale socket left by a dead stackd is removed, and a live one is refused
 * with an Error of code 'EADDRINUSE'; the socket is made 0660.
 */
export async function startControlServer(
  listen: string,
  source: ControlSource,
  log: pino.Logger = pino({ level: 'silent' }),
): Promise<ControlServer> {
  const target = parseListen(listen);
  const metrics = createMetrics(source);

  // A route may answer at once or later; a throw either way is caught in handle().
  const routes: Record<string, { method: 'GET' | 'POST'; run: (body: string) => Reply | Promise<Reply> }> = {
    '/health': {
      method: 'GET',
      run: () => {
        const { ok, ...rest } = source.health();
        return json(ok ? 200 : 503, { ok, ...rest });
      },
    },
    '/stats': { method: 'GET', run: async () => json(200, await withIpv6States(source), 2) },
    '/metrics': { method: 'GET', run: async () => ({ status: 200, ...(await metrics()) }) },
    '/latency': { method: 'GET', run: async () => json(200, await source.latency(), 2) },
    '/connections': { method: 'GET', run: async () => json(200, await source.connections(), 2) },
    '/traces': { method: 'GET', run: async () => json(200, await source.archivedTraces(), 2) },
    '/latency/reset': {
      method: 'POST',
      run: async () => {
        await source.resetLatency();
        return { status: 204 };
      },
    },
    '/pcap/start': {
      method: 'POST',
      run: (body) => {
        let req: unknown;
        try {
          req = JSON.parse(body);
        } catch {
          return json(400, { error: 'the body is not JSON: expected {"file": "/path/to/file.pcap", "snaplen": N, "maxMb": M}' });
        }
        return json(200, source.startCapture(req), 2);
      },
    },
    '/pcap/stop': { method: 'POST', run: () => json(200, source.stopCapture(), 2) },
    '/ipv6': { method: 'GET', run: async () => json(200, await source.ipv6(), 2) },
    '/ipv6/addresses': {
      method: 'POST',
      run: async (body) => {
        let req: unknown;
        try {
          req = JSON.parse(body);
        } catch {
          return json(400, { error: 'the body is not JSON: expected {"address": "ADDR/PREFIX"}' });
        }
        return json(200, await source.addIpv6Address(req), 2);
      },
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const traceOf = TRACE_PATH.exec(path);
    const route = Object.hasOwn(routes, path)
      ? routes[path]
      : traceOf !== null
        ? { method: 'GET' as const, run: async () => json(200, await source.trace(pathSegment(traceOf[1])), 2) }
        : undefined;
    const body = await readBody(req);
    let reply: Reply;
    if (!route) {
      reply = json(404, { error: 'not found', routes: CONTROL_ROUTES });
    } else if (req.method !== route.method && !(req.method === 'HEAD' && route.method === 'GET')) {
      const allow = route.method === 'GET' ? 'GET, HEAD' : route.method;
      reply = { ...json(405, { error: 'method not allowed', allow }), headers: { allow } };
    } else if (body === null) {
      reply = json(413, { error: `request body over ${MAX_BODY} bytes` });
    } else {
      try {
        reply = await route.run(body);
      } catch (err) {
        const status = (err as { status?: unknown }).status;
        if (typeof status === 'number' && status >= 400 && status < 500) {
          reply = json(status, { error: (err as Error).message });
        } else {
          log.error({ err, path }, 'control request failed');
          reply = json(500, { error: err instanceof Error ? err.message : String(err) });
        }
      }
    }
    log.debug({ method: req.method, path, status: reply.status }, 'control request');
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.type) headers['content-type'] = reply.type;
    res.writeHead(reply.status, headers);
    res.end(reply.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'control response failed');
      res.destroy();
    });
  });

  let address: string;
  if (target.kind === 'unix') {
    await prepareSocketPath(target.path);
    await listenOn(server, { path: target.path });
    await chmod(target.path, 0o660);
    address = target.path;
  } else {
    await listenOn(server, { host: target.host, port: target.port });
    const a = server.address();
    address = a && typeof a === 'object' ? formatHostPort(a.address, a.port) : listen;
  }
  log.info({ address }, 'control server listening');

  let closing: Promise<void> | undefined;
  return {
    address,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(async () => {
        if (target.kind === 'unix') await unlink(target.path).catch(() => {});
      })),
  };
}

/** The request body as text, or null when it is longer than MAX_BODY (the rest is discarded). */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}

/** A JSON reply, compact or indented, newline-terminated. */
function json(status: number, value: unknown, indent?: number): Reply {
  return { status, type: JSON_TYPE, body: JSON.stringify(value, null, indent) + '\n' };
}

/** Listens, turning the first 'error' into a rejection. */
function listenOn(server: Server, opts: { path: string } | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Makes `path` ready to listen on: creates its directory, and removes an old socket
 * file unless a live server answers there (then throws EADDRINUSE). A path that exists
 * but is not a socket is left alone and refused.
 */
async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const st = await lstat(path).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return;
  if (!st.isSocket()) {
    throw Object.assign(new Error(`control socket path ${path} exists and is not a socket; refusing to replace it`), {
      code: 'EEXIST',
    });
  }
  if (await answers(path)) {
    throw Object.assign(
      new Error(`control socket ${path} is in use: another stackd seems to be running (choose another --control)`),
      { code: 'EADDRINUSE' },
    );
  }
  await unlink(path);
}

/** Whether something accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ path });
    sock.setTimeout(1000, () => {
      sock.destroy();
      resolve(true); // accepted into a backlog but slow: still someone's socket
    });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * The stats snapshot with the DAD state of each IPv6 address filled in from the IPv6
 * report (worker 0's address table: TENTATIVE, PREFERRED or DUPLICATE), so that a duplicate
 * is not shown as if it were in use; states stay null when the report fails.
 */
async function withIpv6States(source: ControlSource): Promise<StatsSnapshot> {
  const s = source.stats();
  if (s.ipv6.length === 0) return s;
  const report = await source.ipv6().catch(() => null);
  if (report === null) return s;
  for (const a of s.ipv6) {
    const text = a.address.slice(0, a.address.indexOf('/'));
    a.state = report.addresses.find((r) => r.address === text)?.state ?? null;
  }
  return s;
}

/**
 * Builds the /metrics registry. Each scrape takes one stats snapshot and one latency
 * report, then renders every family from them through collect() callbacks; scrapes are
 * serialized so that a slow latency RPC cannot mix two snapshots.
 */
function createMetrics(source: ControlSource): () => Promise<{ type: string; body: string }> {
  const reg = new Registry();
  let stats: StatsSnapshot | undefined;
  let latency: LatencyReport | undefined;
  // The collect() callbacks run only inside a scrape, which sets both first.
  const scraped = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('metrics collected outside a scrape');
    return v;
  };
  const s = (): StatsSnapshot => scraped(stats);
  const lat = (): LatencyReport => scraped(latency);

  type Labels = Record<string, string>;
  const family = (
    type: 'counter' | 'gauge',
    name: string,
    help: string,
    labelNames: string[],
    samples: () => Array<[Labels, number]>,
  ): void => {
    if (type === 'counter') {
      new Counter({
        name, help, labelNames, registers: [reg],
        collect(this: Counter) {
          this.reset();
          for (const [labels, v] of samples()) this.inc(labels, v);
        },
      });
    } else {
      new Gauge({
        name, help, labelNames, registers: [reg],
        collect(this: Gauge) {
          this.reset();
          for (const [labels, v] of samples()) this.set(labels, v);
        },
      });
    }
  };

  for (const counter of COUNTER_NAMES) {
    const gauge = GAUGE_NAMES.has(counter);
    family(gauge ? 'gauge' : 'counter', gauge ? `stackd_${counter}` : `stackd_${counter}_total`,
      `stackd counter ${counter}, per thread`, ['thread'],
      () => s().threads.flatMap((t): Array<[Labels, number]> => {
        const v = t.counters[counter];
        return typeof v === 'number' ? [[{ thread: t.thread }, v]] : [];
      }));
  }
  family('counter', 'stackd_drops_total', 'Frames and datagrams dropped, by reason, summed over threads', ['reason'], () => {
    const sums = new Map<string, number>();
    for (const t of s().threads) {
      for (const [name, v] of Object.entries(t.counters)) {
        if (name.startsWith('drop_')) sums.set(name.slice(5), (sums.get(name.slice(5)) ?? 0) + v);
      }
    }
    return [...sums].map(([reason, v]) => [{ reason }, v]);
  });
  const ring = (pick: (r: StatsSnapshot['rings'][number]) => number) => () =>
    s().rings.map((r): [Labels, number] => [{ ring: r.name }, pick(r)]);
  family('gauge', 'stackd_ring_used_bytes', 'Bytes in use in each SPSC ring', ['ring'], ring((r) => r.used));
  family('gauge', 'stackd_ring_high_water_bytes', 'Highest ring occupancy seen', ['ring'], ring((r) => r.highWater));
  family('gauge', 'stackd_ring_capacity_bytes', 'Ring capacity', ['ring'], ring((r) => r.capacity));
  family('counter', 'stackd_ring_full_drops_total', 'Records dropped because the ring was full', ['ring'], ring((r) => r.fullDrops));
  family('gauge', 'stackd_app_pool_in_flight', 'api.offload tasks running or queued in the process-wide pool', [], () => [[{}, s().appPool.inFlight]]);
  family('counter', 'stackd_app_pool_tasks_total', 'api.offload tasks by outcome (rejected_full: refused, the queue was full)', ['result'],
    () => [[{ result: 'completed' }, s().appPool.completed], [{ result: 'failed' }, s().appPool.failed], [{ result: 'rejected_full' }, s().appPool.rejectedFull]]);
  family('gauge', 'stackd_workers', 'Number of shard workers', [], () => [[{}, s().workers]]);
  family('gauge', 'stackd_uptime_seconds', 'Seconds since stackd started', [], () => [[{}, s().uptimeSeconds]]);
  family('gauge', 'stackd_info', 'stackd build and interface identity (always 1)', ['version', 'tap', 'ip', 'mac'],
    () => [[{ version: s().version, tap: s().tap, ip: s().ip, mac: s().mac }, 1]]);
  const stages = () => lat().threads.flatMap((t) => Object.entries(t.stages).map(([stage, l]) => ({ thread: t.thread, stage, l })));
  family('gauge', 'stackd_stage_latency_microseconds', 'Per-stage processing latency quantiles since the last reset',
    ['thread', 'stage', 'quantile'],
    () => stages().flatMap(({ thread, stage, l }) =>
      QUANTILES.map(([quantile, key]): [Labels, number] => [{ thread, stage, quantile }, l[key]])));
  family('gauge', 'stackd_stage_latency_microseconds_count', 'Latency samples per stage since the last reset',
    ['thread', 'stage'], () => stages().map(({ thread, stage, l }): [Labels, number] => [{ thread, stage }, l.count]));

  let queue: Promise<unknown> = Promise.resolve();
  const scrape = async () => {
    stats = source.stats();
    latency = await source.latency();
    try {
      return { type: reg.contentType, body: await reg.metrics() };
    } finally {
      stats = latency = undefined;
    }
  };
  return () => {
    const run = queue.then(scrape);
    queue = run.catch(() => {});
    return run;
  };
}
