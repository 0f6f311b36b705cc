/**
 * Client side of the control plane: one HTTP request to a running stackd over the same
 * `--control` notation the server listens on (a unix socket path, or host:port), plus
 * the parser of that notation shared with the server.
 *
 * Used by the perf scripts and the CLI; errors are meant to be printed as they are
 * ("no stackd control socket at …: is stackd running? (--control)").
 */
import { request } from 'node:http';
import type { StatsSnapshot } from './types.js';

/** Where a control server listens: a unix socket path, or a TCP host and port. */
export type ListenTarget = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/**
 * Parses `--control` notation: anything containing '/' is a unix socket path;
 * otherwise `host:port` (`127.0.0.1:9090`, `localhost:0`, `[::1]:9090`). Throws on
 * anything else, naming the bad value.
 */
export function parseListen(listen: string): ListenTarget {
  if (listen.includes('/')) return { kind: 'unix', path: listen };
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  const host = m?.at(1) ?? m?.at(2); // [IPv6] or a name or IPv4 address
  const port = m ? Number(m[3]) : NaN;
  if (host === undefined || port > 65535) {
    throw new Error(`bad control address '${listen}': expected a unix socket path (containing '/') or host:port`);
  }
  return { kind: 'tcp', host, port };
}

/** Formats a TCP address back into `--control` notation (IPv6 in brackets). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Sends one HTTP request (`method` on `path`, with a JSON `body` if given) to the
 * control server at `listen` and resolves with its status and body, whatever the
 * status. Rejects with a readable Error when nothing listens there, access is denied, or
 * no complete answer arrives within `timeoutMs`.
 */
export function controlRequest(
  listen: string,
  path: string,
  method = 'GET',
  timeoutMs = 2000,
  body?: string,
): Promise<{ status: number; body: string }> {
  const target = parseListen(listen);
  const where = target.kind === 'unix' ? { socketPath: target.path } : { host: target.host, port: target.port };
  const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  return new Promise((resolve, reject) => {
    const req = request({ ...where, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => reject(describe(err, listen)));
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy(new Error(`stackd control socket at ${listen} did not answer within ${timeoutMs} ms`));
    });
    req.on('error', (err) => reject(describe(err, listen)));
    req.end(body);
  });
}

/**
 * Resolves once every worker of the stackd at `listen` finished duplicate address
 * detection of every IPv6 address (each worker's `nd_dad_ok` + `nd_dad_duplicates` in
 * /stats; about 1 s after start in worker 0, 2 s in the others, decision 0030), polling
 * every 100 ms; rejects after `timeoutMs`. For scripts that ping -6 right after starting stackd.
 */
export async function waitForIpv6Addresses(listen: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const st = JSON.parse((await controlRequest(listen, '/stats')).body) as StatsSnapshot;
    const workers = st.threads.filter((t) => t.thread.startsWith('worker-'));
    if (workers.every((t) => t.counters.nd_dad_ok + t.counters.nd_dad_duplicates >= st.ipv6.length)) return;
    if (Date.now() > deadline) throw new Error(`stackd's IPv6 addresses did not pass duplicate address detection within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Turns a socket error into the message a user can act on. */
function describe(err: NodeJS.ErrnoException, listen: string): Error {
  let message: string;
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
    case 'ENOTSOCK':
      message = `no stackd control socket at ${listen}: is stackd running? (--control)`;
      break;
    case 'EACCES':
    case 'EPERM':
      message = `permission denied on stackd control socket at ${listen} (run as root or a member of its group)`;
      break;
    default:
      message = err.message.includes(listen) ? err.message : `stackd control socket at ${listen}: ${err.message}`;
  }
  return Object.assign(new Error(message, { cause: err }), { code: err.code });
}
