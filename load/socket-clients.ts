/**
 * Socket mode: the same three kinds as process mode (process-clients.ts), with Node's own
 * clients instead of programs, for rates that spawning processes cannot reach. Each client
 * is one new TCP connection (no keep-alive: `agent: false` sends Connection: close):
 *  - nc-echo:    net.connect to the echo port, write random bytes, end; the echo must be them;
 *  - curl-bytes: GET /bytes/N, hashed as it arrives, must be the service's pattern;
 *  - curl-post:  POST /sink with random bytes; the answer must name their length and sha256.
 * A client that outlives the timeout is destroyed and counts as `timeout`.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Cause, causeOfErrno, checkDownload, checkEcho, checkSinkAnswer } from './checks.js';
import { firstLine, type ClientOutcome, type ClientSpec, type RunClient } from './client.js';
import type { Kind } from './mix.js';

/** Bytes of a /sink answer kept (it is one short JSON line). */
const ANSWER_MAX = 4096;

/** Settles a client: its cause of failure (null: none), the bytes it moved, what went wrong. */
type Done = (cause: Cause, bytes: number, detail?: string) => void;

/**
 * Runs `start(done)` with a deadline: the first call of `done(cause, bytes, detail)` (or
 * the timeout, which calls `stop`) settles the client's outcome.
 */
function timed(
  kind: Kind,
  spec: ClientSpec,
  start: (done: Done) => { stop: () => void },
): Promise<ClientOutcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let settled = false;
    const done: Done = (cause, bytes, detail) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const o: ClientOutcome = { kind, cause, latencyUs: Math.max(1, Math.round((performance.now() - t0) * 1000)), bytes };
      if (cause !== null && detail !== undefined) o.detail = firstLine(detail);
      resolve(o);
    };
    let handle: { stop: () => void } | null = null;
    const timer = setTimeout(() => {
      done('timeout', 0, `no verified end within ${spec.timeoutMs} ms`);
      handle?.stop();
    }, spec.timeoutMs);
    handle = start(done);
  });
}

function errorCause(e: NodeJS.ErrnoException): Cause {
  return causeOfErrno(e.code);
}

/**
 * Ends the client on an error of the request or the response, or on a response that
 * closes before its end (the connection went away mid-body: a reset).
 */
function onFailure(x: http.ClientRequest | http.IncomingMessage, done: Done, bytes: () => number): void {
  x.on('error', (e: NodeJS.ErrnoException) => {
    done(errorCause(e), bytes(), e.message);
  });
  if (x instanceof http.IncomingMessage) {
    x.on('close', () => {
      if (!x.complete) done('reset', bytes(), 'the response ended before its last byte');
    });
  }
}

function echo(spec: ClientSpec): Promise<ClientOutcome> {
  return timed('nc-echo', spec, (done) => {
    const sent = randomBytes(spec.echoBytes);
    const got = Buffer.allocUnsafe(sent.length + 1);
    let n = 0;
    const s = net.connect({ host: spec.target, port: spec.echoPort }, () => {
      s.end(sent);
    });
    s.on('data', (b: Buffer) => {
      const take = Math.min(b.length, got.length - n);
      b.copy(got, n, 0, take);
      n += take;
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      done(errorCause(e), sent.length + n, e.message);
    });
    s.on('close', () => {
      done(checkEcho(sent, got.subarray(0, n)), sent.length + n);
    });
    return { stop: () => { s.destroy(); } };
  });
}

function download(spec: ClientSpec): Promise<ClientOutcome> {
  return timed('curl-bytes', spec, (done) => {
    const h = createHash('sha256');
    let n = 0;
    const req = http.get({ host: spec.target, port: spec.httpPort, path: `/bytes/${spec.bytes}`, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        done(`http-${res.statusCode ?? 0}`, 0);
        res.resume();
        return;
      }
      res.on('data', (b: Buffer) => {
        n += b.length;
        h.update(b);
      });
      res.on('end', () => {
        done(checkDownload(spec.bytes, n, h.digest('hex')), n);
      });
      onFailure(res, done, () => n);
    });
    onFailure(req, done, () => n);
    return { stop: () => { req.destroy(); } };
  });
}

function post(spec: ClientSpec): Promise<ClientOutcome> {
  return timed('curl-post', spec, (done) => {
    const body = randomBytes(spec.postBytes);
    const sha = createHash('sha256').update(body).digest('hex');
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length };
    const req = http.request({ host: spec.target, port: spec.httpPort, path: '/sink', method: 'POST', headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        done(`http-${res.statusCode ?? 0}`, body.length);
        res.resume();
        return;
      }
      let answer = '';
      res.on('data', (b: Buffer) => {
        if (answer.length < ANSWER_MAX) answer += b.toString('utf8', 0, ANSWER_MAX - answer.length);
      });
      res.on('end', () => {
        done(checkSinkAnswer(body.length, sha, answer), body.length);
      });
      onFailure(res, done, () => body.length);
    });
    onFailure(req, done, () => body.length);
    req.end(body);
    return { stop: () => { req.destroy(); } };
  });
}

const BY_KIND: Record<Kind, (spec: ClientSpec) => Promise<ClientOutcome>> = { 'nc-echo': echo, 'curl-bytes': download, 'curl-post': post };

/** Runs one client with Node's sockets. */
export const runSocketClient: RunClient = (kind, spec) => BY_KIND[kind](spec);
