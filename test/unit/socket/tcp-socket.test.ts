/**
 * TcpSocket over the fake back-to-back connection pair: Duplex semantics (data both ways,
 * 'end' after all data, half-close, 'finish' after FIN is queued), destroy/reset and the
 * errors the peer sees, back-pressure in both directions (receive window closes when
 * the reader pauses; write() returns false; resume drains everything), the idle timer
 * with fake timers, and the net.Socket properties.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseIpv4 } from '../../../src/wire/addresses.js';
import { TcpSocket, type TcpSocketOptions } from '../../../src/socket/tcp-socket.js';
import { waitFor } from '../../helpers/wait-for.js';
import { FakeLink, prng, randomBytes, type FakeLinkOptions } from './fake-tcp.js';

const A_IP = parseIpv4('10.10.0.3');
const B_IP = parseIpv4('10.10.0.4');

function pair(link: FakeLinkOptions = {}, aOpts: TcpSocketOptions = {}, bOpts: TcpSocketOptions = {}) {
  const l = new FakeLink(A_IP, 40000, B_IP, 80, link);
  const notes = { a: 0, b: 0 };
  const a = new TcpSocket(l.a, { notify: () => notes.a++, ...aOpts });
  const b = new TcpSocket(l.b, { notify: () => notes.b++, ...bOpts });
  return { l, a, b, notes };
}

/** Collects everything a socket emits as 'data', plus an ordered event log. */
function record(s: TcpSocket, name: string, log: string[]) {
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  for (const ev of ['end', 'finish', 'close', 'error']) {
    s.on(ev, (x?: unknown) => {
      const extra = ev === 'close' ? `(${String(x)})` : ev === 'error' ? `(${(x as { code?: string }).code})` : '';
      log.push(`${name}:${ev}${extra}`);
    });
  }
  return { bytes: () => Buffer.concat(chunks) };
}

/** Writes `data` in random-size chunks honouring back-pressure, then ends. */
async function writeAll(s: TcpSocket, data: Buffer, seed: number, maxChunk = 20_000, end = true): Promise<void> {
  const rnd = prng(seed);
  let off = 0;
  while (off < data.length) {
    const n = Math.min(data.length - off, 1 + Math.floor(rnd() * maxChunk));
    const ok = s.write(data.subarray(off, off + n));
    off += n;
    if (!ok) await new Promise((r) => s.once('drain', r));
  }
  if (end) s.end();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('TcpSocket data transfer', () => {
  it('moves large random payloads both ways byte-identically, then ends and closes', async () => {
    // allowHalfOpen: whichever side finishes first must not end the other's writes.
    const half = { allowHalfOpen: true };
    const { l, a, b } = pair({ sendBuffer: 6000, rcvWindow: 9000, mss: 1000 }, half, half);
    const log: string[] = [];
    const ra = record(a, 'a', log);
    const rb = record(b, 'b', log);
    const toB = randomBytes(1_000_003, 1);
    const toA = randomBytes(777_777, 2);
    await Promise.all([writeAll(a, toB, 11), writeAll(b, toA, 12)]);
    await waitFor(() => log.includes('a:close(false)') && log.includes('b:close(false)'), { what: "both sides' close", detail: () => log.join(' ') });
    expect(rb.bytes().equals(toB)).toBe(true);
    expect(ra.bytes().equals(toA)).toBe(true);
    expect(a.bytesWritten).toBe(toB.length);
    expect(b.bytesRead).toBe(toB.length);
    expect(b.bytesWritten).toBe(toA.length);
    expect(a.bytesRead).toBe(toA.length);
    // Delivered bytes were reported consumed (the last turn's report may find the
    // connection already closed), and the window was never exceeded.
    expect(l.b.consumedTotal).toBeGreaterThan(toB.length - 9000);
    expect(l.a.consumedTotal).toBeGreaterThan(toA.length - 9000);
    expect(l.b.maxUnconsumed).toBeLessThanOrEqual(9000);
    expect(l.a.callsAfterClose + l.b.callsAfterClose).toBe(0);
    expect(l.a.aborted || l.b.aborted).toBe(false);
    // 'end' only after all data; 'close' last on each side.
    expect(log.filter((e) => e.startsWith('a:')).at(-1)).toBe('a:close(false)');
    expect(log.filter((e) => e.startsWith('b:')).at(-1)).toBe('b:close(false)');
    expect(log.filter((e) => e.endsWith(':end')).length).toBe(2);
    expect(a.readyState).toBe('closed');
  });

  it("emits 'end' on the peer's FIN only after every byte, and 'finish' once FIN is queued", async () => {
    const { l, a, b } = pair({ rcvWindow: 4096, mss: 512 });
    const log: string[] = [];
    const rb = record(b, 'b', log);
    const data = randomBytes(50_000, 3);
    let finQueuedAtFinish: boolean | undefined;
    a.on('finish', () => { finQueuedAtFinish = l.a.finQueued; });
    let bytesAtEnd = -1;
    b.on('end', () => { bytesAtEnd = rb.bytes().length; });
    a.end(data);
    await waitFor(() => bytesAtEnd >= 0, { what: "b's 'end'" });
    expect(bytesAtEnd).toBe(data.length);
    expect(finQueuedAtFinish).toBe(true);
    expect(rb.bytes().equals(data)).toBe(true);
  });

  it('copies delivered bytes (the connection reuses its buffer after onData)', async () => {
    const { a, b } = pair({ mss: 100 });
    const got: Buffer[] = [];
    b.on('data', (d: Buffer) => got.push(d));
    const data = randomBytes(1000, 4);
    a.write(data);
    await waitFor(() => b.bytesRead === 1000, { what: 'b to read 1000 bytes', detail: () => `${b.bytesRead} read` });
    expect(Buffer.concat(got).equals(data)).toBe(true);
  });
});

describe('half-close', () => {
  it('with allowHalfOpen the ended side keeps reading until the peer ends too', async () => {
    const { a, b } = pair({}, { allowHalfOpen: true }, { allowHalfOpen: true });
    const log: string[] = [];
    const ra = record(a, 'a', log);
    record(b, 'b', log);
    a.end('question');
    await waitFor(() => log.includes('b:end'), { what: "b's 'end'" });
    expect(b.writable).toBe(true);
    expect(b.readyState).toBe('writeOnly');
    expect(a.readyState).toBe('readOnly');
    b.write('answer part 1, ');
    await waitFor(() => ra.bytes().length === 15, { what: 'the first part at a' }); // a separate delivery before the FIN
    b.end('part 2');
    await waitFor(() => log.includes('a:close(false)') && log.includes('b:close(false)'), { what: "both sides' close", detail: () => log.join(' ') });
    expect(ra.bytes().toString()).toBe('answer part 1, part 2');
    expect(log.indexOf('b:end')).toBeLessThan(log.indexOf('a:end'));
    expect(log.filter((e) => e.startsWith('a:'))).toEqual(['a:finish', 'a:end', 'a:close(false)']);
  });

  it('without allowHalfOpen (the default) the peer ends its side after its queued writes', async () => {
    const { a, b } = pair({ rcvWindow: 2048, mss: 500 });
    const log: string[] = [];
    const ra = record(a, 'a', log);
    record(b, 'b', log);
    const tail = randomBytes(30_000, 5);
    b.write(tail); // queued before the FIN arrives: must still reach a, then b's FIN
    a.end();
    await waitFor(() => log.includes('a:close(false)') && log.includes('b:close(false)'), { what: "both sides' close", detail: () => log.join(' ') });
    expect(ra.bytes().equals(tail)).toBe(true);
    expect(log.indexOf('b:end')).toBeLessThan(log.indexOf('b:finish'));
    expect(log.indexOf('b:finish')).toBeLessThan(log.indexOf('a:end'));
  });
});

describe('destroy and errors', () => {
  it('destroy() with unread data sends RST: the peer gets ECONNRESET and close(hadError)', async () => {
    const { l, a, b } = pair();
    const log: string[] = [];
    record(a, 'a', log);
    let err: (Error & { code?: string; errno?: number; syscall?: string }) | undefined;
    b.on('error', (e) => { err = e; });
    b.on('close', (hadError: boolean) => log.push(`b:close(${hadError})`));
    a.pause();
    b.write('unread by a');
    await waitFor(() => a.readableLength === 11, { what: 'the 11 bytes unread at a' });
    a.destroy();
    await waitFor(() => log.includes('b:close(true)') && log.includes('a:close(false)'), { what: "b's close(true) and a's close(false)", detail: () => log.join(' ') });
    expect(l.a.aborted).toBe(true);
    expect(err?.code).toBe('ECONNRESET');
    expect(err?.message).toBe('read ECONNRESET');
    expect(err?.syscall).toBe('read');
    expect(err?.errno).toBe(-104);
    expect(b.destroyed).toBe(true);
    expect(l.a.callsAfterClose).toBe(0);
  });

  it('resetAndDestroy() always sends RST', async () => {
    const { l, a, b } = pair();
    const codes: string[] = [];
    b.on('error', (e: Error & { code: string }) => codes.push(e.code));
    const closed = new Promise<boolean>((r) => b.on('close', r));
    a.on('close', () => {});
    a.resetAndDestroy();
    expect(await closed).toBe(true);
    expect(codes).toEqual(['ECONNRESET']);
    expect(l.a.aborted).toBe(true);
    expect(a.destroyed).toBe(true);
  });

  it('destroy() with nothing unread closes like close(2): queued data then FIN, no error', async () => {
    const { l, a, b } = pair({ rcvWindow: 1000, mss: 300 });
    const log: string[] = [];
    const rb = record(b, 'b', log);
    const data = randomBytes(5000, 6);
    a.write(data); // the send buffer holds it all
    expect(l.a.accepted).toBe(data.length);
    a.destroy();
    await waitFor(() => log.includes('b:close(false)'), { what: "b's close", detail: () => log.join(' ') });
    expect(rb.bytes().equals(data)).toBe(true);
    expect(l.a.aborted).toBe(false);
    expect(l.a.callsAfterClose + l.b.callsAfterClose).toBe(0);
    expect(log).toEqual(['b:end', 'b:finish', 'b:close(false)']);
  });

  it('data arriving after a graceful destroy() is answered with RST (RFC 1122 4.2.2.13)', async () => {
    const { l, a, b } = pair({}, {}, { allowHalfOpen: true });
    const errs: string[] = [];
    b.on('error', (e: Error & { code: string }) => errs.push(e.code));
    b.on('end', () => b.write('late data'));
    b.resume();
    a.destroy();
    await waitFor(() => b.destroyed, { what: 'b destroyed by the RST' });
    expect(l.a.aborted).toBe(true);
    expect(errs).toEqual(['ECONNRESET']);
  });

  it('destroy(err) emits that error then close(true)', async () => {
    const { a } = pair();
    const log: string[] = [];
    a.on('error', (e) => log.push(`error:${e.message}`));
    a.on('close', (h: boolean) => log.push(`close:${h}`));
    const closed = new Promise((r) => a.once('close', r)); // the last event a socket emits
    a.destroy(new Error('boom'));
    await closed;
    expect(log).toEqual(['error:boom', 'close:true']);
  });

  it('a connection timeout surfaces as ETIMEDOUT and pending write callbacks fail', async () => {
    const { l, a } = pair({ sendBuffer: 100, rcvWindow: 100 });
    const errs: string[] = [];
    a.on('error', (e: Error & { code: string }) => errs.push(e.message));
    let writeErr: Error | null | undefined;
    a.write(randomBytes(10_000, 7), (e) => { writeErr = e; });
    await l.quiet(); // the send buffer and b's window are full: the write is pending
    expect(writeErr).toBeUndefined();
    const closed = new Promise((r) => a.once('close', r));
    l.a.fail('ETIMEDOUT');
    await closed;
    expect(errs).toEqual(['read ETIMEDOUT']);
    expect((writeErr as Error & { code: string }).code).toBe('ETIMEDOUT');
  });
});

describe('back-pressure', () => {
  it('a paused reader closes the window; write() returns false; resume drains everything', async () => {
    const WINDOW = 8192;
    const SNDBUF = 4096;
    const HWM = 16384;
    const { l, a, b } = pair({ rcvWindow: WINDOW, sendBuffer: SNDBUF, mss: 1000 }, { writableHighWaterMark: HWM });
    b.pause();
    const chunk = randomBytes(1024, 8);
    const sent: Buffer[] = [];
    let writes = 0;
    while (a.write(chunk)) {
      sent.push(chunk);
      writes++;
      if (writes > 1000) throw new Error('write() never returned false');
    }
    sent.push(chunk);
    await l.quiet(); // everything the link would move has moved
    // Nothing consumed: the receive window is full and the reader's buffer holds it.
    expect(l.b.unconsumed).toBe(WINDOW);
    expect(l.b.consumedTotal).toBe(0);
    expect(b.readableLength).toBe(WINDOW);
    expect(b.bytesRead).toBe(WINDOW);
    // What left the writer's stream: at most window + send buffer.
    expect(a.bytesWritten).toBe(WINDOW + SNDBUF);
    expect(l.a.accepted).toBe(a.bytesWritten);
    expect(a.bytesWritten).toBeLessThan(sent.length * 1024);
    expect(a.writableLength).toBeLessThanOrEqual(HWM + 1024);
    expect(a.writableNeedDrain).toBe(true);
    // Another pump (the event that would move more bytes) moves nothing.
    l.schedule();
    await l.quiet();
    expect(a.bytesWritten).toBe(WINDOW + SNDBUF);
    expect(l.b.unconsumed).toBe(WINDOW);
    // Resume: everything arrives and 'drain' fires.
    const got: Buffer[] = [];
    b.on('data', (d: Buffer) => got.push(d));
    const drained = new Promise((r) => a.once('drain', r));
    b.resume();
    await drained;
    await waitFor(() => b.bytesRead === sent.length * 1024, { what: 'b to read everything', detail: () => `${b.bytesRead} of ${sent.length * 1024}` });
    expect(Buffer.concat(got).equals(Buffer.concat(sent))).toBe(true);
    expect(l.b.consumedTotal).toBe(sent.length * 1024);
  });

  it('paused-mode read(n) reports exactly the bytes taken from the buffer', async () => {
    const { l, a, b } = pair({ rcvWindow: 4000, mss: 1000 });
    a.write(randomBytes(10_000, 9));
    await waitFor(() => l.b.unconsumed === 4000, { what: "b's window to fill" });
    expect(l.b.consumedTotal).toBe(0);
    const r1 = b.read(1500) as Buffer;
    expect(r1.length).toBe(1500);
    await Promise.resolve(); // reports are summed per microtask turn
    expect(l.b.consumedTotal).toBe(1500);
    const calls = l.b.consumedCalls;
    expect((b.read(100) as Buffer).length).toBe(100);
    expect((b.read(50) as Buffer).length).toBe(50);
    expect(l.b.consumedTotal).toBe(1500);
    await Promise.resolve();
    expect(l.b.consumedTotal).toBe(1650);
    expect(l.b.consumedCalls).toBe(calls + 1);
    expect(l.b.unconsumed).toBe(2350);
  });

  it('pipe() to a slow writable keeps the receive window bounded', async () => {
    const { l, a, b } = pair({ rcvWindow: 3000, mss: 700 }, {}, { readableHighWaterMark: 1024 });
    const { Writable } = await import('node:stream');
    const got: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 1024,
      write(c: Buffer, _e, cb) { got.push(c); setTimeout(cb, 1); },
    });
    const data = randomBytes(60_000, 10);
    b.pipe(slow);
    a.end(data);
    await new Promise((r) => slow.on('finish', r));
    expect(Buffer.concat(got).equals(data)).toBe(true);
    expect(l.b.maxUnconsumed).toBeLessThanOrEqual(3000);
  });
});

describe('idle timeout', () => {
  it("emits 'timeout' after ms without reads or writes, with one lazily re-armed timer", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { l, a, b } = pair();
    b.resume();
    let fired = 0;
    a.setTimeout(1000, () => fired++);
    let total = 0;
    a.on('timeout', () => total++);
    await vi.advanceTimersByTimeAsync(999);
    expect(total).toBe(0);
    // Activity at t=999 pushes the deadline to t=1999.
    for (let i = 0; i < 100; i++) a.write('x');
    await l.quiet();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(total).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(total).toBe(1);
    expect(fired).toBe(1);
    // It does not repeat without activity…
    await vi.advanceTimersByTimeAsync(5000);
    expect(total).toBe(1);
    // …but activity re-arms it; the once-listener is gone.
    a.write('y');
    await l.quiet();
    await vi.advanceTimersByTimeAsync(1000);
    expect(total).toBe(2);
    expect(fired).toBe(1);
    // Received data counts as activity too.
    await vi.advanceTimersByTimeAsync(600);
    b.write('z');
    await l.quiet();
    await vi.advanceTimersByTimeAsync(600);
    expect(total).toBe(2);
    await vi.advanceTimersByTimeAsync(400);
    expect(total).toBe(3);
    // 0 disables.
    a.setTimeout(0);
    a.write('w');
    await l.quiet();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(total).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('net.Socket surface', () => {
  it('reports addresses, state and passes options to the connection', async () => {
    const { l, a, b, notes } = pair();
    expect(a.remoteAddress).toBe('10.10.0.4');
    expect(a.remotePort).toBe(80);
    expect(a.remoteFamily).toBe('IPv4');
    expect(a.localAddress).toBe('10.10.0.3');
    expect(a.localPort).toBe(40000);
    expect(a.address()).toEqual({ address: '10.10.0.3', family: 'IPv4', port: 40000 });
    expect(b.address()).toEqual({ address: '10.10.0.4', family: 'IPv4', port: 80 });
    expect(a.readyState).toBe('open');
    expect(a.pending).toBe(false);
    expect(a.connecting).toBe(false);
    expect(a.setNoDelay()).toBe(a);
    expect(l.a.noDelay).toBe(true);
    a.setNoDelay(false);
    expect(l.a.noDelay).toBe(false);
    a.setKeepAlive(true, 30_000);
    expect(l.a.keepAlive).toEqual([true, 30_000]);
    a.setKeepAlive(true);
    expect(l.a.keepAlive).toEqual([true, 7_200_000]);
    expect(a.ref()).toBe(a);
    expect(a.unref()).toBe(a);
    expect(notes.a).toBe(4);
    const closed = Promise.all([once(a, 'close'), once(b, 'close')]);
    a.destroy();
    b.destroy();
    await closed;
    expect(a.readyState).toBe('closed');
    expect(a.pending).toBe(true);
    expect(a.remoteAddress).toBe('10.10.0.4'); // kept after close, as net does
  });

  it("an active open queues writes until 'connect', then emits connect and ready", async () => {
    const l = new FakeLink(A_IP, 40001, B_IP, 7);
    const a = new TcpSocket(l.a, { connecting: true });
    const log: string[] = [];
    a.on('connect', () => log.push('connect'));
    a.on('ready', () => log.push(`ready:${a.readyState}`));
    expect(a.readyState).toBe('opening');
    expect(a.pending).toBe(true);
    a.write('early ');
    a.end('bird');
    await l.quiet(); // where the writes would have reached the connection
    expect(l.a.accepted).toBe(0);
    expect(l.a.finQueued).toBe(false);
    const b = new TcpSocket(l.b, { allowHalfOpen: true });
    const got: Buffer[] = [];
    b.on('data', (d: Buffer) => got.push(d));
    const ended = new Promise((r) => b.on('end', r));
    l.a.events.onConnect();
    expect(log).toEqual(['connect', 'ready:readOnly']); // end() was called: not writable
    await ended;
    expect(Buffer.concat(got).toString()).toBe('early bird');
  });
});
