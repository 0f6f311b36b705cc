/**
 * The StackApi: notifyOutput coalescing, net.connect (success, refused, no local port,
 * bad host, timeout option), TcpServer (listening/connection/close ordering, EADDRINUSE,
 * close waiting for connections, ERR_SERVER_NOT_RUNNING, allowHalfOpen), worker info.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { coalesce } from '../../../src/socket/stack-api.js';
import type { TcpSocket } from '../../../src/socket/tcp-socket.js';
import { OUR_IP_STR, makeApi } from './api-harness.js';
import { waitFor } from '../../helpers/wait-for.js';

describe('coalesce', () => {
  it('calls the hook once per microtask turn however often it is asked', async () => {
    let n = 0;
    const notify = coalesce(() => n++);
    for (let i = 0; i < 100; i++) notify();
    expect(n).toBe(0);
    await Promise.resolve();
    expect(n).toBe(1);
    notify();
    notify();
    await Promise.resolve();
    expect(n).toBe(2);
  });
});

describe('api.net.connect', () => {
  it("connects, emits 'connect' (callback) and reports output after writes", async () => {
    const { api, tcp, stats } = makeApi();
    const accepted: TcpSocket[] = [];
    await once(api.net.createServer(undefined, (s) => accepted.push(s)).listen(5555), 'listening');
    const before = stats.notifies;
    const connected: string[] = [];
    const c = api.net.connect({ host: OUR_IP_STR, port: 5555, timeout: 1234 }, () => connected.push('cb'));
    expect(c.connecting).toBe(true);
    expect(c.readyState).toBe('opening');
    expect(c.timeout).toBe(1234);
    expect(c.remoteAddress).toBe(OUR_IP_STR);
    expect(c.localPort).toBe(49152);
    c.write('a');
    c.write('b');
    await Promise.resolve();
    expect(stats.notifies - before).toBe(1); // connect + writes in one turn: one notification
    await waitFor(() => connected.length === 1 && accepted.length === 1, { what: 'the connect callback and the accept' });
    expect(c.connecting).toBe(false);
    expect(accepted[0].remotePort).toBe(49152);
    expect(accepted[0].localPort).toBe(5555);
    await waitFor(() => accepted[0].bytesRead === 2, { what: 'the server to read 2 bytes' });
    expect(tcp.links[0].b.delivered).toBe(2);
    c.destroy();
    accepted[0].destroy();
  });

  it('ECONNREFUSED when nothing listens: error like Node, then close(true)', async () => {
    const { api } = makeApi();
    const c = api.net.connect({ host: OUR_IP_STR, port: 81 });
    const log: string[] = [];
    let err: (Error & { code?: string; errno?: number; syscall?: string; address?: string; port?: number }) | undefined;
    c.on('error', (e) => { err = e; log.push('error'); });
    c.on('close', (h: boolean) => log.push(`close:${h}`));
    c.on('connect', () => log.push('connect'));
    await waitFor(() => log.includes('close:true'), { what: "'close'", detail: () => log.join(' ') });
    expect(log).toEqual(['error', 'close:true']);
    expect(err).toMatchObject({
      code: 'ECONNREFUSED', errno: -111, syscall: 'connect', address: OUR_IP_STR, port: 81,
      message: `connect ECONNREFUSED ${OUR_IP_STR}:81`,
    });
    expect(c.connecting).toBe(false);
  });

  it('EADDRNOTAVAIL when no local port is free, EINVAL for a host that is not an IPv4 address', async () => {
    const { api, tcp } = makeApi();
    tcp.exhausted = true;
    const codes: string[] = [];
    api.net.connect({ host: OUR_IP_STR, port: 80 }).on('error', (e: Error & { code: string }) => codes.push(e.code));
    api.net.connect({ host: 'localhost', port: 80 }).on('error', (e: Error & { code: string }) => codes.push(`${e.code}:${e.message}`));
    await waitFor(() => codes.length === 2, { what: 'both errors', detail: () => codes.join(' ') });
    expect(codes).toEqual(['EADDRNOTAVAIL', 'EINVAL:connect EINVAL localhost:80']);
    expect(() => api.net.connect({ host: OUR_IP_STR, port: 0 })).toThrow(RangeError);
  });
});

describe('TcpServer', () => {
  it("listen emits 'listening' next tick; a taken port emits EADDRINUSE", async () => {
    const { api } = makeApi();
    const s1 = api.net.createServer(undefined, () => {});
    const log: string[] = [];
    s1.listen(7777, () => log.push('listening'));
    expect(log).toEqual([]);
    expect(s1.listening).toBe(true);
    await once(s1, 'listening');
    expect(log).toEqual(['listening']);
    expect(s1.address()).toEqual({ address: OUR_IP_STR, family: 'IPv4', port: 7777 });
    const s2 = api.net.createServer(undefined, () => {});
    const e = await new Promise<Error & { code: string }>((r) => s2.on('error', r).listen(7777));
    expect(e.code).toBe('EADDRINUSE');
    expect(s2.listening).toBe(false);
    expect(() => s1.listen(7778)).toThrow(expect.objectContaining({ code: 'ERR_SERVER_ALREADY_LISTEN' }));
  });

  it("close() stops accepting at once and emits 'close' after the last connection closes", async () => {
    const { api, tcp } = makeApi();
    const accepted: TcpSocket[] = [];
    const server = api.net.createServer(undefined, (s) => accepted.push(s));
    await once(server.listen(8000), 'listening');
    const c = api.net.connect({ host: OUR_IP_STR, port: 8000 });
    await waitFor(() => accepted.length === 1, { what: 'the accept' });
    // Issue 8 item 3: an idle accepted connection carries no per-connection closures: the
    // server counts it without a 'close' listener, and the socket is its connection's
    // event sink.
    expect(accepted[0].listenerCount('close')).toBe(0);
    expect(server.connections).toBe(1);
    expect(tcp.links.some((l) => l.a.events === accepted[0] || l.b.events === accepted[0])).toBe(true);
    const counts: number[] = [];
    server.getConnections((_e, n) => counts.push(n));
    const log: string[] = [];
    server.close((err) => log.push(`cb:${err === undefined ? 'ok' : err.message}`));
    expect(tcp.listeners.has(8000)).toBe(false);
    expect(server.address()).toBe(null);
    await tcp.quiet(); // nothing more happens by itself
    expect(log).toEqual([]); // a connection is still open
    accepted[0].resume();
    c.resume();
    c.end();
    await waitFor(() => log.length === 1, { what: 'the close callback' });
    expect(log).toEqual(['cb:ok']);
    expect(counts).toEqual([1]);
    expect(server.connections).toBe(0);
    // Connecting again is refused.
    const c2 = api.net.connect({ host: OUR_IP_STR, port: 8000 });
    const e = await new Promise<Error & { code: string }>((r) => c2.on('error', r));
    expect(e.code).toBe('ECONNREFUSED');
  });

  it('close() on a server that is not listening calls back with ERR_SERVER_NOT_RUNNING', async () => {
    const { api } = makeApi();
    const s = api.net.createServer(undefined, () => {});
    const err = await new Promise<Error | undefined>((r) => s.close(r));
    expect(err).toMatchObject({ code: 'ERR_SERVER_NOT_RUNNING' });
  });

  it('accepted sockets follow the allowHalfOpen option', async () => {
    const { api } = makeApi();
    const seen: TcpSocket[] = [];
    api.net.createServer({ allowHalfOpen: true }, (s) => seen.push(s)).listen(8100);
    api.net.createServer(undefined, (s) => seen.push(s)).listen(8101);
    api.net.connect({ host: OUR_IP_STR, port: 8100 });
    await waitFor(() => seen.length === 1, { what: 'the accept on 8100' });
    api.net.connect({ host: OUR_IP_STR, port: 8101 });
    await waitFor(() => seen.length === 2, { what: 'the accept on 8101' });
    expect(seen.map((s) => s.allowHalfOpen)).toEqual([true, false]);
  });
});

describe('worker information', () => {
  it('exposes worker index/count and the counters', () => {
    const { api, host } = makeApi({}, { index: 2, count: 4 });
    expect(api.worker).toEqual({ index: 2, count: 4 });
    host.counters[1] = 99; // tap_rx_bytes
    expect(api.counters().tap_rx_bytes).toBe(99);
  });
});
