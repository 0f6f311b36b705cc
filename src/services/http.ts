/**
 * HTTP service (port 80) on Node's own http.Server over our TCP (decision 0008):
 *  - `GET /`         a small HTML page with live statistics of the worker that served it;
 *  - `GET /bytes/N`  N bytes (0 ≤ N ≤ 2^40, else 400) of a fixed pattern: byte i is
 *                    `(j * 0x9E3779B1 mod 2^32) >>> 24` with `j = i mod 65521`, streamed in
 *                    64 KiB chunks honouring back-pressure, with Content-Length N;
 *  - `POST /sink`    reads the body (Content-Length or chunked) and answers
 *                    `{"bytes": n, "sha256": "<hex>"}`;
 *  - anything else   404.
 * Keep-alive is on (HTTP/1.1 persistent connections, RFC 9112 9.3).
 */
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { StackApi, StackApp } from '../socket/stack-api.js';

/** The well-known HTTP port. */
export const HTTP_PORT = 80;

/** The /bytes pattern's period (the largest prime below 2^16). */
export const BYTES_PERIOD = 65521;
/** Bytes per chunk written for /bytes. */
export const BYTES_CHUNK = 65536;
/** Largest N accepted by /bytes. */
export const BYTES_MAX = 2 ** 40;

/** Byte i of the /bytes pattern. */
export function patternByte(i: number): number {
  return Math.imul(i % BYTES_PERIOD, 0x9e3779b1) >>> 24;
}

/**
 * The pattern's period followed by its first BYTES_CHUNK bytes again, so that the bytes
 * from any index, up to a chunk long, are one subarray (no copy per chunk).
 */
function buildTable(): Buffer {
  const t = Buffer.alloc(BYTES_PERIOD + BYTES_CHUNK);
  // By the formula all the way (the tail is longer than the period: no self-copy).
  for (let i = 0; i < t.length; i++) t[i] = patternByte(i);
  return t;
}

let table: Buffer | undefined;

/** Bytes [start, start+len) of the pattern (len ≤ BYTES_CHUNK), as a view of the shared table. */
export function patternChunk(start: number, len: number): Buffer {
  if (len > BYTES_CHUNK) throw new RangeError(`chunk too long: ${len}`);
  table ??= buildTable();
  const p = start % BYTES_PERIOD;
  return table.subarray(p, p + len);
}

/** How long a rendered GET / page is served before it is rendered again (ms). */
export const INDEX_REFRESH_MS = 100;

/** What GET / shows: any flat record of numbers or strings. */
export type StatsProvider = () => Record<string, number | string>;

/** Options of the HTTP service. */
export interface HttpServiceOptions {
  port?: number;
  /** Statistics for GET / (default: this worker's non-zero counters). */
  stats?: StatsProvider;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Per-worker request counters of the service, shown on GET /. */
export interface ServiceCounters {
  http_requests: number;
  http_connections: number;
  http_bytes_streamed: number;
  http_bytes_sunk: number;
}

/**
 * The GET / page: a title, one line saying who serves it, and a table of counters. The
 * benchmarks' kernel peer renders its page with this too, so both serve the same shape.
 */
export function renderStatsPage(title: string, servedBy: string, stats: Record<string, number | string>): string {
  const rows = Object.entries(stats)
    .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(String(v))}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(servedBy)}</p>
<table>
<tr><th>counter</th><th>value</th></tr>
${rows}
</table>
<p><a href="/bytes/1048576">/bytes/1048576</a> · POST /sink</p>
</body></html>
`;
}

function renderIndex(api: StackApi, own: ServiceCounters, stats: Record<string, number | string>): string {
  return renderStatsPage(
    'stackd',
    `Served by worker ${api.worker.index} of ${api.worker.count} (a TCP/IP stack in TypeScript).`,
    { ...own, ...stats },
  );
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  const b = Buffer.from(body);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': b.length });
  res.end(b);
}

/** Streams `n` pattern bytes to `res`, waiting for 'drain' whenever write() returns false. */
function streamBytes(res: http.ServerResponse, n: number, own: ServiceCounters): void {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(n) });
  let i = 0;
  let stopped = false;
  res.on('close', () => {
    stopped = true;
  });
  const pump = (): void => {
    while (!stopped) {
      if (i >= n) {
        res.end();
        return;
      }
      const len = Math.min(BYTES_CHUNK, n - i);
      const chunk = patternChunk(i, len);
      i += len;
      own.http_bytes_streamed += len;
      if (i >= n) {
        res.end(chunk);
        return;
      }
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

/**
 * The service's request handler (GET /, GET /bytes/N, POST /sink, else 404) for any
 * Node http.Server: stackd's service and the benchmarks' kernel peer share it, so both
 * serve exactly the same contract. `index` renders GET /.
 */
export function httpHandler(own: ServiceCounters, index: () => string): http.RequestListener {
  // GET / is rendered at most every INDEX_REFRESH_MS: a page of live counters does not
  // need to be rebuilt per request, and under wrk rendering it was ~9 % of a worker's time.
  let page: Buffer | null = null;
  let pageAt = 0;
  return (req, res) => {
    own.http_requests++;
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method === 'GET' && path === '/') {
      const now = performance.now();
      if (page === null || now - pageAt >= INDEX_REFRESH_MS) {
        page = Buffer.from(index());
        pageAt = now;
      }
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': page.length });
      res.end(page);
      return;
    }
    if (req.method === 'GET' && path.startsWith('/bytes/')) {
      const arg = path.slice('/bytes/'.length);
      const n = /^\d{1,13}$/.test(arg) ? Number(arg) : NaN;
      if (!(n >= 0 && n <= BYTES_MAX)) {
        send(res, 400, 'text/plain; charset=utf-8', `bad byte count '${arg}' (0..${BYTES_MAX})\n`);
        return;
      }
      streamBytes(res, n, own);
      return;
    }
    if (req.method === 'POST' && path === '/sink') {
      const h = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        h.update(c);
      });
      req.on('end', () => {
        own.http_bytes_sunk += bytes;
        send(res, 200, 'application/json', `${JSON.stringify({ bytes, sha256: h.digest('hex') })}\n`);
      });
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  };
}

/** Makes the HTTP service as a StackApp. */
export function httpService(opts: HttpServiceOptions = {}): StackApp {
  const port = opts.port ?? HTTP_PORT;
  return (api: StackApi) => {
    const own: ServiceCounters = { http_requests: 0, http_connections: 0, http_bytes_streamed: 0, http_bytes_sunk: 0 };
    const stats: StatsProvider = opts.stats ?? (() => {
      const c = api.counters();
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(c)) if (v !== 0) out[k] = v;
      return out;
    });
    const handler = httpHandler(own, () => renderIndex(api, own, stats()));
    const server = api.http.createServer(handler, port);
    server.on('connection', () => own.http_connections++);
    server.on('error', (e) => api.log.error({ err: e.message, port }, 'http: cannot listen'));
  };
}
