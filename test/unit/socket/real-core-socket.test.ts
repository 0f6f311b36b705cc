/**
 * The socket API's net.Socket contract over the real TCP core (two Hosts on the in-memory
 * link of test/helpers/tcp-pair.ts, with a virtual clock), the same behaviours
 * tcp-socket.test.ts checks against the hand-written fake: data both ways then 'end' and
 * 'close', half-close, RST on destroy with unread data and a graceful close otherwise,
 * ECONNREFUSED from a real RST, ETIMEDOUT when the peer goes silent.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import type { TcpSocket } from '../../../src/socket/tcp-socket.js';
import { TcpPair } from '../../helpers/tcp-pair.js';
import { waitFor } from '../../helpers/wait-for.js';
import { randomBytes } from './fake-tcp.js';
import { apiOf, drive } from './real-core-harness.js';

const PORT = 4000;

/** A connected pair of sockets: `a` on host A (the client), `b` accepted on host B. */
async function connected(opts: { allowHalfOpen?: boolean; pair?: TcpPair } = {}) {
  const pair = opts.pair ?? new TcpPair();
  let b: TcpSocket | undefined;
  apiOf(pair.b).net.createServer({ allowHalfOpen: opts.allowHalfOpen ?? false }, (s) => { b = s; }).listen(PORT);
  const stop = drive(pair);
  const a = apiOf(pair.a).net.connect({ host: '10.0.0.2', port: PORT, allowHalfOpen: opts.allowHalfOpen ?? false });
  await waitFor(() => b !== undefined && !a.connecting, { what: 'the connection to be accepted and connected' });
  return { pair, a, b: b!, stop };
}

/** Events of a socket as 'name' strings, and the bytes it read. */
function record(s: TcpSocket, name: string, log: string[]) {
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  for (const ev of ['end', 'finish']) s.on(ev, () => log.push(`${name}:${ev}`));
  s.on('close', (hadError: boolean) => log.push(`${name}:close(${hadError})`));
  s.on('error', (e: Error & { code?: string }) => log.push(`${name}:error(${e.code})`));
  return { bytes: () => Buffer.concat(chunks) };
}

describe('net.Socket over the real TCP core', () => {
  it('moves data both ways byte-identically, then ends and closes on both sides', async () => {
    const { a, b, stop, pair } = await connected({ allowHalfOpen: true });
    const log: string[] = [];
    const ra = record(a, 'a', log);
    const rb = record(b, 'b', log);
    const toB = randomBytes(700_001, 1);
    const toA = randomBytes(500_003, 2);
    a.end(toB);
    b.end(toA);
    await waitFor(() => log.includes('a:close(false)') && log.includes('b:close(false)'), { what: "both sides' close", detail: () => log.join(' ') });
    expect(rb.bytes().equals(toB)).toBe(true);
    expect(ra.bytes().equals(toA)).toBe(true);
    expect([a.bytesWritten, b.bytesRead, b.bytesWritten, a.bytesRead]).toEqual([toB.length, toB.length, toA.length, toA.length]);
    expect(log.filter((e) => e.endsWith(':end'))).toHaveLength(2);
    expect(pair.countersA[C.tcp_resets_tx] + pair.countersB[C.tcp_resets_tx]).toBe(0);
    await stop();
  });

  it('half-close: with allowHalfOpen the ended side keeps reading until the peer ends too', async () => {
    const { a, b, stop } = await connected({ allowHalfOpen: true });
    const log: string[] = [];
    const ra = record(a, 'a', log);
    record(b, 'b', log);
    a.end('question');
    await waitFor(() => log.includes('b:end'), { what: "b's 'end'" });
    expect(b.readyState).toBe('writeOnly');
    expect(a.readyState).toBe('readOnly');
    b.end('the answer');
    await waitFor(() => log.includes('a:close(false)') && log.includes('b:close(false)'), { what: "both sides' close", detail: () => log.join(' ') });
    expect(ra.bytes().toString()).toBe('the answer');
    await stop();
  });

  it('destroy() with unread data sends RST: the peer gets ECONNRESET and close(true)', async () => {
    const { a, b, stop, pair } = await connected();
    const log: string[] = [];
    record(b, 'b', log);
    a.pause();
    b.write('unread by a');
    await waitFor(() => a.readableLength === 11, { what: 'the 11 bytes unread at a' });
    a.destroy();
    await waitFor(() => log.includes('b:close(true)'), { what: "b's close(true)", detail: () => log.join(' ') });
    expect(log).toContain('b:error(ECONNRESET)');
    expect(pair.countersA[C.tcp_resets_tx]).toBe(1);
    await stop();
  });

  it('destroy() with nothing unread closes like close(2): queued data, then FIN, no error', async () => {
    const { a, b, stop, pair } = await connected();
    const log: string[] = [];
    const rb = record(b, 'b', log);
    const data = randomBytes(300_000, 3);
    a.write(data);
    a.destroy();
    await waitFor(() => log.includes('b:close(false)'), { what: "b's close", detail: () => log.join(' ') });
    expect(rb.bytes().equals(data)).toBe(true);
    expect(log).toEqual(['b:end', 'b:finish', 'b:close(false)']);
    expect(pair.countersA[C.tcp_resets_tx]).toBe(0);
    await stop();
  });

  it('connecting to a port nobody listens on: ECONNREFUSED from the peer\'s RST, then close(true)', async () => {
    const pair = new TcpPair();
    const stop = drive(pair);
    const a = apiOf(pair.a).net.connect({ host: '10.0.0.2', port: 9999 });
    const errs: Array<Error & { code?: string; syscall?: string; port?: number }> = [];
    a.on('error', (e) => errs.push(e));
    const closed = new Promise<boolean>((r) => a.on('close', r));
    expect(await closed).toBe(true);
    expect(errs.map((e) => [e.code, e.syscall, e.port, e.message])).toEqual([
      ['ECONNREFUSED', 'connect', 9999, 'connect ECONNREFUSED 10.0.0.2:9999'],
    ]);
    expect(pair.countersB[C.tcp_resets_tx]).toBe(1);
    await stop();
  });

  it('a peer that goes silent: ETIMEDOUT after the retries, and the pending write callback fails', async () => {
    const cfg = { tcp: { dataRetries: 3 } };
    const { a, stop, pair } = await connected({ pair: new TcpPair(cfg, cfg) });
    pair.fault = () => []; // the link goes dead
    const log: string[] = [];
    record(a, 'a', log);
    let writeErr: (Error & { code?: string }) | null | undefined;
    // More than the send buffer holds: the write's callback waits for room that never comes.
    a.write(randomBytes(4_000_000, 4), (e) => { writeErr = e; });
    await waitFor(() => log.includes('a:close(true)'), { what: "a's close(true)", timeoutMs: 30_000, detail: () => log.join(' ') });
    expect(log).toContain('a:error(ETIMEDOUT)');
    expect(pair.countersA[C.tcp_timeouts]).toBe(1);
    expect(writeErr?.code).toBe('ETIMEDOUT');
    await stop();
  });
});
