/**
 * The socket API over the real TCP core (src/tcp via test/helpers/tcp-pair.ts: two Hosts
 * on a virtual link with a virtual clock), not the fake: Node's http client on host A
 * talks to the http service on host B through a keep-alive agent — GET /bytes/1000000,
 * POST /sink 1 MB by Content-Length and chunked, GET / — and afterwards every
 * connection is gone on both hosts with no RST sent. Also a paused reader that closes
 * the real receive window. The clock advances only when the test drives the link.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import type { Host } from '../../../src/iface/host.js';
import type { TcpSocket } from '../../../src/socket/tcp-socket.js';
import { httpService, patternByte } from '../../../src/services/http.js';
import { ETH_HEADER_LEN } from '../../../src/wire/ethernet.js';
import { tcpWindow } from '../../../src/wire/tcp.js';
import { TcpPair } from '../../helpers/tcp-pair.js';
import { waitFor } from '../../helpers/wait-for.js';
import { randomBytes } from './fake-tcp.js';
import { apiOf, drive } from './real-core-harness.js';

describe('socket API over the real TCP core', () => {
  it('HTTP keep-alive: 1 MB down, 2 × 1 MB up, then every connection closes without RST', async () => {
    const pair = new TcpPair();
    const apiA = apiOf(pair.a);
    void httpService()(apiOf(pair.b));
    const stop = drive(pair);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const made: TcpSocket[] = [];
    (agent as unknown as { createConnection: () => TcpSocket }).createConnection = () => {
      made.push(apiA.net.connect({ host: '10.0.0.2', port: 80 }));
      return made.at(-1)!;
    };
    const req = (method: string, path: string, body?: Buffer, chunked = false) =>
      new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
        const headers = body && !chunked ? { 'content-length': body.length } : {};
        const r = http.request({ host: '10.0.0.2', port: 80, method, path, agent, headers }, (res) => {
          const c: Buffer[] = [];
          res.on('data', (d: Buffer) => c.push(d));
          res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(c) }));
        });
        r.on('error', reject);
        if (body) for (let o = 0; o < body.length; o += 65536) r.write(body.subarray(o, o + 65536));
        r.end();
      });
    const g = await req('GET', '/bytes/1000000');
    expect(g.status).toBe(200);
    expect(g.body.length).toBe(1_000_000);
    for (let i = 0; i < g.body.length; i++) if (g.body[i] !== patternByte(i)) throw new Error(`byte ${i}`);
    const body = randomBytes(1_000_000, 3);
    const sha = createHash('sha256').update(body).digest('hex');
    expect(JSON.parse((await req('POST', '/sink', body)).body.toString())).toEqual({ bytes: 1_000_000, sha256: sha });
    expect(JSON.parse((await req('POST', '/sink', body, true)).body.toString())).toEqual({ bytes: 1_000_000, sha256: sha });
    expect((await req('GET', '/')).body.toString()).toContain('<td>http_connections</td><td>1</td>');
    expect(made.length).toBe(1);
    agent.destroy(); // the client closes its idle connection
    const states = (h: Host) => [...h.tcp.connections()].map((x) => x.stateName).join(',');
    // The server application answers the FIN with its own (CLOSE_WAIT, LAST_ACK, gone)...
    await waitFor(() => [...pair.b.tcp.connections()].length === 0, {
      what: "the server's side to close", detail: () => `A: ${states(pair.a)}; B: ${states(pair.b)}`,
    });
    // ...and the client's TIME_WAIT ends: each look moves the clock 100 s on.
    await waitFor(() => {
      pair.run(pair.now + 100_000);
      return [...pair.a.tcp.connections()].length === 0;
    }, { what: "the client's TIME_WAIT to end", detail: () => `A: ${states(pair.a)}` });
    await stop();
    expect([...pair.a.tcp.connections()].length).toBe(0);
    expect([...pair.b.tcp.connections()].length).toBe(0);
    expect(pair.countersA[C.tcp_resets_tx] + pair.countersB[C.tcp_resets_tx]).toBe(0);
  });

  it('a paused reader closes the real receive window; resuming delivers every byte', async () => {
    const pair = new TcpPair();
    const apiA = apiOf(pair.a);
    const apiB = apiOf(pair.b);
    const accepted: TcpSocket[] = [];
    apiB.net.createServer(undefined, (s) => {
      s.pause();
      accepted.push(s);
    }).listen(5001);
    const stop = drive(pair);
    const c = apiA.net.connect({ host: '10.0.0.2', port: 5001 });
    const data = randomBytes(4_000_000, 9);
    c.write(data);
    const s = await waitFor(() => accepted[0], { what: 'the accept' });
    // B's last segment advertises a zero window: the server application read nothing.
    const lastWindowOfB = () => {
      const f = pair.log.findLast((x) => x.from === 'B')?.frame;
      return f === undefined ? -1 : tcpWindow(f, ETH_HEADER_LEN + 20);
    };
    await waitFor(() => s.bytesRead > 0 && lastWindowOfB() === 0, {
      what: 'B to advertise a zero window', detail: () => `${s.bytesRead} read, window ${lastWindowOfB()}`,
    });
    const stalled = s.bytesRead;
    // Two virtual seconds on (persist probes go out, at least 200 ms apart), nothing more arrives.
    const t = pair.now;
    await waitFor(() => pair.now >= t + 2000, { what: 'the virtual clock 2 s on' });
    expect(s.bytesRead).toBe(stalled);
    expect(lastWindowOfB()).toBe(0);
    // The window closed well short of 4 MB, with what arrived held unread.
    expect(stalled).toBe(s.readableLength);
    expect(stalled).toBeGreaterThan(0);
    expect(stalled).toBeLessThan(data.length);
    expect(c.writableNeedDrain).toBe(true);
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    const ended = new Promise((r) => s.on('end', r));
    s.resume();
    c.end();
    const resumedAt = pair.now;
    await ended;
    const took = pair.now - resumedAt;
    await stop();
    expect(Buffer.concat(got).equals(data)).toBe(true);
    // The window update went out when the application read (no wait for a persist probe,
    // whose first interval is at least 200 ms).
    expect(took).toBeLessThan(200);
  });
});
