/**
 * Node's http server (src/services/http.ts over api.http) talking to Node's own http
 * client, both over our TcpSockets on the fake back-to-back TCP: GET / (HTML stats),
 * /bytes/N (length and every byte against the formula; 400 for bad N; streaming stops
 * when the client goes away), keep-alive (two requests on one connection), POST /sink
 * with 1 MB bodies by Content-Length and chunked (sha256), 404, a malformed request
 * (400 still delivered), server close and the idle keep-alive timeout (FIN, not RST).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BYTES_CHUNK, BYTES_MAX, BYTES_PERIOD, httpService, patternByte, patternChunk,
} from '../../../src/services/http.js';
import { OUR_IP_STR, keepAliveAgent, makeApi, request } from './api-harness.js';
import { waitFor } from '../../helpers/wait-for.js';
import { randomBytes } from './fake-tcp.js';

/** The /bytes formula, computed independently of the service (BigInt, no Math.imul). */
function formula(i: number): number {
  const j = BigInt(i % 65521);
  return Number((j * 0x9e3779b1n) % 2n ** 32n) >>> 24;
}

function setup(stats?: () => Record<string, number | string>) {
  const h = makeApi({ rcvWindow: 32 * 1024, sendBuffer: 16 * 1024, mss: 1460 });
  void httpService(stats ? { stats } : {})(h.api);
  return h;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the /bytes pattern', () => {
  it('matches hand-computed bytes', () => {
    expect(patternByte(0)).toBe(0);
    expect(patternByte(1)).toBe(158); // 0x9E3779B1 >>> 24
    expect(patternByte(65520)).toBe(150); // 65520 * 0x9E3779B1 mod 2^32 = 0x963964F0
    expect(patternByte(65521)).toBe(0); // the period wraps
    expect(patternByte(1_000_000)).toBe(234); // j = 17185: 0xEA0002D1
    expect(patternByte(BYTES_MAX - 1)).toBe(35); // j = 57599: 0x23BD174F
  });

  it('chunks are views of the pattern from any start, across the period boundary', () => {
    const starts = [0, 1, BYTES_PERIOD - 3, BYTES_PERIOD, 5 * BYTES_PERIOD + 77, BYTES_MAX - BYTES_CHUNK, 2 * BYTES_PERIOD - 1];
    for (const start of starts) {
      const c = patternChunk(start, BYTES_CHUNK);
      expect(c.length).toBe(BYTES_CHUNK);
      for (let k = 0; k < BYTES_CHUNK; k++) {
        if (c[k] !== formula(start + k)) expect([start, k, c[k]]).toEqual([start, k, formula(start + k)]);
      }
    }
    expect(() => patternChunk(0, BYTES_CHUNK + 1)).toThrow(RangeError);
  });
});

describe('HTTP service over our sockets (Node http client ⇄ Node http server)', () => {
  it('GET / returns an HTML page with the worker and the stats provider', async () => {
    const { api } = setup(() => ({ frames_in: 4242, note: '<b>' }));
    const r = await request(api, { path: '/' });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = r.body.toString();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('Served by worker 0 of 1');
    expect(html).toContain('<td>frames_in</td><td>4242</td>');
    expect(html).toContain('<td>http_requests</td><td>1</td>');
    expect(html).toContain('&#60;b&#62;'); // escaped
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
  });

  it('GET / shows the worker counters by default', async () => {
    const { api, host } = setup();
    host.counters[0] = 17; // tap_rx_frames
    const r = await request(api, { path: '/' });
    expect(r.body.toString()).toContain('<td>tap_rx_frames</td><td>17</td>');
  });

  it('GET /bytes/100000 streams exactly the pattern with Content-Length', async () => {
    const { api, tcp } = setup();
    const r = await request(api, { path: '/bytes/100000' });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('100000');
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(r.body.length).toBe(100_000);
    let bad = -1;
    for (let i = 0; i < r.body.length; i++) {
      if (r.body[i] !== formula(i)) {
        bad = i;
        break;
      }
    }
    expect(bad).toBe(-1);
    // Client and server both closed gracefully (no RST).
    await waitFor(() => tcp.links[0].a.closed && tcp.links[0].b.closed, { what: 'both ends closed' });
    expect(tcp.links[0].a.aborted || tcp.links[0].b.aborted).toBe(false);
  });

  it('GET /bytes across the period and chunk boundaries, and /bytes/0', async () => {
    const { api } = setup();
    const n = 3 * BYTES_CHUNK + 12345;
    const r = await request(api, { path: `/bytes/${n}` });
    expect(r.body.length).toBe(n);
    for (const i of [0, BYTES_PERIOD - 1, BYTES_PERIOD, BYTES_CHUNK - 1, BYTES_CHUNK, 2 * BYTES_PERIOD + 5, n - 1]) {
      expect(r.body[i]).toBe(formula(i));
    }
    const z = await request(api, { path: '/bytes/0' });
    expect(z.status).toBe(200);
    expect(z.headers['content-length']).toBe('0');
    expect(z.body.length).toBe(0);
  });

  it('answers 400 for a bad byte count', async () => {
    const { api } = setup();
    for (const arg of ['abc', '-1', '1.5', '', String(BYTES_MAX + 1), '99999999999999999']) {
      const r = await request(api, { path: `/bytes/${arg}` });
      expect(r.status, arg).toBe(400);
    }
  });

  it('GET /bytes/2^40 is accepted and stops streaming when the client goes away', async () => {
    const { api, tcp } = setup();
    const got = await new Promise<{ status: number; len: string | undefined; received: number; req: http.ClientRequest }>((resolve) => {
      const req = http.request({
        host: OUR_IP_STR, port: 80, path: `/bytes/${BYTES_MAX}`,
        createConnection: () => api.net.connect({ host: OUR_IP_STR, port: 80 }),
      }, (res) => {
        let received = 0;
        res.on('data', (d: Buffer) => {
          received += d.length;
          if (received >= 200_000) {
            res.pause();
            resolve({ status: res.statusCode!, len: res.headers['content-length'], received, req });
          }
        });
      });
      req.on('error', () => {});
      req.end();
    });
    expect(got.status).toBe(200);
    expect(got.len).toBe(String(BYTES_MAX));
    got.req.destroy();
    const link = tcp.links[0];
    await tcp.quiet(); // the reset went through and whatever the server would do after it has happened
    expect(link.b.closed).toBe(true);
    expect(link.b.callsAfterClose).toBe(0); // the server stopped writing
    expect(link.b.accepted).toBeLessThan(1_000_000); // and never ran far ahead of the client
  });

  it('keep-alive: two requests on one connection', async () => {
    const { api, tcp } = setup();
    const { agent, created } = keepAliveAgent(api);
    const r1 = await request(api, { path: '/bytes/5000', agent });
    const r2 = await request(api, { path: '/', agent });
    expect(r1.status).toBe(200);
    expect(r1.body.length).toBe(5000);
    expect(r2.status).toBe(200);
    expect(r1.headers.connection).toBe('keep-alive');
    expect(r2.reused).toBe(true);
    expect(r2.socket).toBe(r1.socket);
    expect(created.length).toBe(1);
    expect(tcp.links.length).toBe(1);
    expect(tcp.links[0].b.noDelay).toBe(true); // http.Server's noDelay default
    expect(tcp.links[0].a.keepAlive).toEqual([true, 1000]); // the agent's keepAliveMsecs
    expect(r2.body.toString()).toContain('<td>http_requests</td><td>2</td>');
    expect(r2.body.toString()).toContain('<td>http_connections</td><td>1</td>');
    agent.destroy();
  });

  it('POST /sink with a 1 MB body by Content-Length and chunked: bytes and sha256', async () => {
    const { api } = setup();
    const body = randomBytes(1_000_000, 42);
    const sha = createHash('sha256').update(body).digest('hex');
    const parts: Buffer[] = [];
    for (let o = 0; o < body.length; o += 70_001) parts.push(body.subarray(o, o + 70_001));
    const byLength = await request(api, {
      method: 'POST', path: '/sink', headers: { 'Content-Length': body.length }, body: parts,
    });
    expect(byLength.chunked).toBe(false);
    expect(byLength.status).toBe(200);
    expect(byLength.headers['content-type']).toBe('application/json');
    expect(JSON.parse(byLength.body.toString())).toEqual({ bytes: 1_000_000, sha256: sha });
    const chunked = await request(api, { method: 'POST', path: '/sink', body: parts });
    expect(chunked.chunked).toBe(true);
    expect(JSON.parse(chunked.body.toString())).toEqual({ bytes: 1_000_000, sha256: sha });
    const empty = await request(api, { method: 'POST', path: '/sink', headers: { 'Content-Length': 0 } });
    expect(JSON.parse(empty.body.toString())).toEqual({
      bytes: 0, sha256: createHash('sha256').digest('hex'),
    });
  });

  it('answers 404 for other paths and methods', async () => {
    const { api } = setup();
    for (const [method, path] of [['GET', '/nope'], ['POST', '/'], ['GET', '/sink'], ['DELETE', '/bytes/10']] as const) {
      const r = await request(api, { method, path });
      expect(r.status, `${method} ${path}`).toBe(404);
    }
  });

  it('a malformed request still gets its 400 before the connection closes', async () => {
    const { api, tcp } = setup();
    const s = api.net.connect({ host: OUR_IP_STR, port: 80 });
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.write('NOT HTTP AT ALL\r\n\r\n');
    await new Promise((r) => s.on('end', r));
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await waitFor(() => tcp.links[0].b.closed, { what: 'the server to close the connection' });
  });
});

describe('api.http server lifecycle', () => {
  it('close() stops listening, closes idle keep-alive connections with FIN and calls back', async () => {
    const { api, tcp } = makeApi();
    const server = api.http.createServer((_req, res) => res.end('ok'), 80);
    const events: string[] = [];
    server.on('listening', () => events.push('listening'));
    server.on('close', () => events.push('close'));
    await once(server, 'listening');
    expect(server.listening).toBe(true);
    expect(server.address()).toEqual({ address: OUR_IP_STR, family: 'IPv4', port: 80 });
    const { agent } = keepAliveAgent(api);
    const r = await request(api, { path: '/', agent });
    expect(r.body.toString()).toBe('ok');
    const clientEnded = new Promise((res) => r.socket.once('end', res));
    const closed = new Promise<Error | undefined>((res) => server.close(res));
    expect(tcp.listeners.has(80)).toBe(false);
    expect(server.listening).toBe(false);
    await clientEnded; // the idle connection got a FIN
    expect(await closed).toBeUndefined();
    expect(events).toEqual(['listening', 'close']);
    expect(tcp.links[0].b.aborted).toBe(false);
    expect(() => server.listen(8080)).toThrow(/kernel socket/);
    agent.destroy();
  });

  it('an idle keep-alive connection is closed with FIN after keepAliveTimeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { api, tcp } = makeApi();
    const server = api.http.createServer((_req, res) => res.end('ok'), 80);
    server.keepAliveTimeout = 2000;
    const { agent } = keepAliveAgent(api);
    const r = await request(api, { path: '/', agent });
    const ended = vi.fn();
    r.socket.on('end', ended);
    await vi.advanceTimersByTimeAsync(2999); // keepAliveTimeout + Node's 1 s buffer
    await tcp.quiet(); // a FIN sent by then would have arrived
    expect(ended).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await waitFor(() => ended.mock.calls.length === 1, { what: "the client's 'end'" });
    const link = tcp.links[0];
    expect(link.b.finQueued).toBe(true);
    expect(link.b.aborted).toBe(false);
    agent.destroy();
  });

  it('a taken port makes the http.Server emit EADDRINUSE', async () => {
    const { api } = makeApi();
    api.http.createServer(() => {}, 80);
    const second = api.http.createServer(() => {}, 80);
    const err = await new Promise<Error & { code: string }>((r) => second.on('error', r));
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toBe('listen EADDRINUSE: address already in use 0.0.0.0:80');
  });
});
