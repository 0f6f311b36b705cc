/**
 * The TCP services as StackApps over the fake back-to-back TCP: echo (RFC 862: bytes
 * back identical, back-pressure through pipe), discard (RFC 863: everything consumed,
 * nothing sent), chargen (RFC 864: the 72-character rotating lines, paced by the
 * client's reading, stopping on close or reset), the registry and loadAppModule().
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tcpEchoService } from '../../../src/services/tcp-echo.js';
import { discardService } from '../../../src/services/discard.js';
import { CHARGEN_LINE_CHARS, chargenPeriod, chargenService } from '../../../src/services/chargen.js';
import { BUILTIN_SERVICES, loadAppModule } from '../../../src/services/index.js';
import type { TcpSocket } from '../../../src/socket/tcp-socket.js';
import { OUR_IP_STR, makeApi } from './api-harness.js';
import { waitFor } from '../../helpers/wait-for.js';
import { prng, randomBytes } from './fake-tcp.js';

function collect(s: TcpSocket): { bytes: () => Buffer; ended: Promise<void>; closed: Promise<boolean> } {
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  return {
    bytes: () => Buffer.concat(chunks),
    ended: new Promise((r) => s.once('end', () => r())),
    closed: new Promise((r) => s.once('close', r)),
  };
}

describe('echo (RFC 862)', () => {
  it('sends every byte back, identical, then closes after our FIN', async () => {
    const { api, tcp } = makeApi({ rcvWindow: 5000, sendBuffer: 3000, mss: 900 });
    await tcpEchoService()(api);
    const c = api.net.connect({ host: OUR_IP_STR, port: 7 });
    const got = collect(c);
    const data = randomBytes(300_000, 21);
    const rnd = prng(5);
    for (let o = 0; o < data.length;) {
      const n = Math.min(data.length - o, 1 + Math.floor(rnd() * 9000));
      if (!c.write(data.subarray(o, o + n))) await new Promise((r) => c.once('drain', r));
      o += n;
    }
    c.end();
    await got.ended;
    expect(got.bytes().equals(data)).toBe(true);
    expect(await got.closed).toBe(false);
    expect(tcp.links[0].a.aborted || tcp.links[0].b.aborted).toBe(false);
  });

  it('a client that does not read its echoes stops the server reading (windows close)', async () => {
    const WINDOW = 4000;
    const SNDBUF = 2000;
    const { api, tcp } = makeApi({ rcvWindow: WINDOW, sendBuffer: SNDBUF, mss: 1000 });
    await tcpEchoService()(api);
    const c = api.net.connect({ host: OUR_IP_STR, port: 7 });
    c.pause();
    const data = randomBytes(100_000, 22);
    expect(c.write(data)).toBe(false); // one big write: the stream holds what TCP does not take
    await tcp.quiet(); // everything the links would move has moved
    const link = tcp.links[0];
    // The client's window is full of echoes, the server holds the rest unread: its window closes too.
    expect(link.a.unconsumed).toBe(WINDOW);
    expect(link.b.unconsumed).toBe(WINDOW);
    const inFlight = c.bytesWritten;
    link.schedule(); // another pump, the event that would move more bytes, moves nothing
    await tcp.quiet();
    expect(c.bytesWritten).toBe(inFlight);
    expect(link.b.unconsumed).toBe(WINDOW);
    // Bounded: both windows, both send buffers and the server's writable buffer (16 KiB + a chunk).
    expect(inFlight).toBeLessThanOrEqual(2 * WINDOW + 2 * SNDBUF + 16384 + 1000);
    expect(inFlight).toBeLessThan(data.length);
    // Reading resumes the whole chain.
    const got = collect(c);
    c.resume(); // pause() was explicit: a 'data' listener alone does not resume
    c.end();
    await got.ended;
    expect(got.bytes().equals(data)).toBe(true);
  });
});

describe('discard (RFC 863)', () => {
  it('consumes everything and sends nothing', async () => {
    const { api, tcp } = makeApi({ rcvWindow: 3000, sendBuffer: 3000 });
    await discardService()(api);
    const c = api.net.connect({ host: OUR_IP_STR, port: 9 });
    const got = collect(c);
    const data = randomBytes(1_000_000, 23);
    c.end(data);
    await got.ended;
    expect(got.bytes().length).toBe(0);
    const link = tcp.links[0];
    expect(link.b.consumedTotal).toBe(1_000_000);
    expect(link.b.maxUnconsumed).toBeLessThanOrEqual(3000);
    expect(await got.closed).toBe(false);
  });
});

describe('chargen (RFC 864)', () => {
  const period = chargenPeriod();

  it('the period is 95 lines of 72 rotating printable characters and CR LF', () => {
    expect(period.length).toBe(95 * 74);
    const lines = period.toString('latin1').split('\r\n');
    expect(lines.length).toBe(96);
    expect(lines[95]).toBe('');
    expect(lines[0]).toBe(' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg');
    expect(lines[1]).toBe('!"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh');
    expect(lines[94]).toBe('~ !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdef');
    for (const l of lines.slice(0, 95)) expect(l.length).toBe(CHARGEN_LINE_CHARS);
  });

  it('streams the pattern as fast as the client reads, and stops when the client closes', async () => {
    const { api, tcp } = makeApi({ rcvWindow: 8000, sendBuffer: 4000, mss: 1460 });
    await chargenService()(api);
    const c = api.net.connect({ host: OUR_IP_STR, port: 19 });
    c.pause();
    await tcp.quiet(); // the server wrote all it could
    const link = tcp.links[0];
    // Not reading: the server is stuck at window + send buffer, its writes wait for 'drain'.
    expect(link.a.unconsumed).toBe(8000);
    expect(link.b.accepted).toBe(8000 + 4000);
    const chunks: Buffer[] = [];
    let n = 0;
    c.on('data', (d: Buffer) => {
      chunks.push(d);
      n += d.length;
      if (n >= 200_000 && !c.destroyed) c.end();
    });
    c.resume();
    await new Promise((r) => c.once('close', r));
    const got = Buffer.concat(chunks);
    expect(got.length).toBeGreaterThanOrEqual(200_000);
    for (let i = 0; i < got.length; i++) {
      if (got[i] !== period[i % period.length]) throw new Error(`byte ${i} differs`);
    }
    await tcp.quiet(); // the close went through and whatever chargen would do after it has happened
    expect(link.b.closed).toBe(true);
    expect(link.b.callsAfterClose).toBe(0); // it stopped writing: no send() on the closed connection
  });

  it('survives a rude abort (RST) from the client', async () => {
    const { api, tcp } = makeApi({ rcvWindow: 8000, sendBuffer: 4000 });
    await chargenService()(api);
    const c = api.net.connect({ host: OUR_IP_STR, port: 19 });
    await waitFor(() => c.bytesRead > 0, { what: 'the first chargen bytes' });
    c.resetAndDestroy();
    const link = tcp.links[0];
    await tcp.quiet(); // the RST went through and whatever chargen would do after it has happened
    expect(link.b.closed).toBe(true);
    expect(link.a.aborted).toBe(true);
    expect(link.b.callsAfterClose).toBe(0);
  });
});

describe('registry and user applications', () => {
  it('starting every built-in service listens on 7, 9, 19 and 80', async () => {
    const { api, tcp } = makeApi();
    for (const app of Object.values(BUILTIN_SERVICES)) await app(api);
    expect([...tcp.listeners.keys()].sort((x, y) => x - y)).toEqual([7, 9, 19, 80]);
  });

  it('loadAppModule imports a default-exported function and rejects anything else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stackd-app-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'good.mjs'), 'export default function app(api) { api.log.info("hi"); }\n');
    writeFileSync(join(dir, 'bad.mjs'), 'export default 42;\n');
    writeFileSync(join(dir, 'none.mjs'), 'export const x = 1;\n');
    const app = await loadAppModule(join(dir, 'good.mjs'));
    expect(app.name).toBe('app');
    await expect(loadAppModule(join(dir, 'bad.mjs'))).rejects.toThrow(/default export is number/);
    await expect(loadAppModule(join(dir, 'none.mjs'))).rejects.toThrow(/default export is missing/);
    await expect(loadAppModule(join(dir, 'missing.mjs'))).rejects.toThrow(/cannot load application/);
  });
});
