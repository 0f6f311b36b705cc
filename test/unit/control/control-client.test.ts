/**
 * The control client: `--control` notation parsing and the errors a user sees when no
 * stackd answers (missing socket, refused port, silent server).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controlRequest, formatHostPort, parseListen } from '../../../src/control/control-client.js';

describe('parseListen', () => {
  it('treats anything with a slash as a socket path and the rest as host:port', () => {
    expect(parseListen('/run/stackd/tap0.sock')).toEqual({ kind: 'unix', path: '/run/stackd/tap0.sock' });
    expect(parseListen('./x.sock')).toEqual({ kind: 'unix', path: './x.sock' });
    expect(parseListen('127.0.0.1:9090')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 9090 });
    expect(parseListen('localhost:0')).toEqual({ kind: 'tcp', host: 'localhost', port: 0 });
    expect(parseListen('[::1]:9090')).toEqual({ kind: 'tcp', host: '::1', port: 9090 });
  });

  it('rejects malformed addresses', () => {
    for (const bad of ['9090', 'host', 'host:', ':9090', '::1:9090', 'host:70000', 'host:-1', '[::1]']) {
      expect(() => parseListen(bad), bad).toThrow(`bad control address '${bad}'`);
    }
  });

  it('formats IPv6 hosts in brackets', () => {
    expect(formatHostPort('::1', 80)).toBe('[::1]:80');
    expect(formatHostPort('127.0.0.1', 80)).toBe('127.0.0.1:80');
  });
});

describe('controlRequest errors', () => {
  let dir: string | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await new Promise((r) => server!.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
    server = dir = undefined;
  });

  it('says stackd is not running when the socket does not exist', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stackd-client-'));
    const path = join(dir, 'tap0.sock');
    await expect(controlRequest(path, '/health')).rejects.toThrow(
      `no stackd control socket at ${path}: is stackd running? (--control)`,
    );
  });

  it('says the same when a TCP port refuses', async () => {
    // Learn a free port, then free it again.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    await expect(controlRequest(`127.0.0.1:${port}`, '/health')).rejects.toThrow(
      `no stackd control socket at 127.0.0.1:${port}: is stackd running? (--control)`,
    );
  });

  it('times out on a server that never answers', async () => {
    dir = mkdtempSync(join(tmpdir(), 'stackd-client-'));
    const path = join(dir, 'mute.sock');
    server = createServer((sock) => sock.resume()); // reads, never answers
    await new Promise<void>((r) => server!.listen(path, r));
    await expect(controlRequest(path, '/health', 'GET', 100)).rejects.toThrow(
      `stackd control socket at ${path} did not answer within 100 ms`,
    );
  });
});
