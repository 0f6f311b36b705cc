/**
 * The kernel's side of the benchmarks: the same services as stackd (same contract, same
 * payloads), served by Node's own `net`, `http` and `dgram` modules on the Linux kernel's
 * TCP/IP stack. The perf scripts run it in a lab client namespace (`<lab>-c2`, 10.10.0.5),
 * on the same bridge as stackd's tap0, so both paths cross the same virtual switch.
 *
 *   ip netns exec <lab>-c2 node dist/perf/kernel-peer.js [--host 0.0.0.0] [--base 0]
 *
 * Services (ports are `--base` + the well-known port; ports < 1024 need root):
 *   TCP 7   echo     every byte back (pipe, back-pressure end to end)
 *   TCP 9   discard  reads and drops; the peer's FIN ends the connection
 *   TCP 19  chargen  RFC 864 lines (the same 7030-byte period as stackd), as fast as the
 *                    socket drains
 *   TCP 80  HTTP     GET / (a small page of live counters, ~1.2 KB like stackd's),
 *                    GET /bytes/N (N bytes of stackd's pattern: byte i =
 *                    Math.imul(i % 65521, 0x9E3779B1) >>> 24, 64 KiB chunks, back-pressure),
 *                    POST /sink ({"bytes": n, "sha256": hex}), else 404. Keep-alive by
 *                    default; a request with `Connection: close` gets `Connection: close`
 *                    and the server closes after the response (Node's http does this).
 *   UDP 7   echo     every datagram back to its sender
 *
 * Prints one line `kernel-peer ready <host>` on stdout once every port listens; exits on
 * SIGINT/SIGTERM (or when stdin closes, with --exit-on-stdin-close).
 */
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { chargenPeriod, runChargen } from '../src/services/chargen.js';
import { httpHandler, renderStatsPage } from '../src/services/http.js';
import type { TcpSocket } from '../src/socket/tcp-socket.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '0.0.0.0' },
    base: { type: 'string', default: '0' },
    'exit-on-stdin-close': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: ip netns exec <lab>-c2 node dist/perf/kernel-peer.js [--host 0.0.0.0] [--base 0] [--exit-on-stdin-close]');
  process.exit(0);
}
const host = values.host;
const base = Number(values.base);

const own = { http_requests: 0, http_connections: 0, http_bytes_streamed: 0, http_bytes_sunk: 0, tcp_connections: 0, udp_echoes: 0 };

/** GET /: the same shape and about the same size as stackd's page (a table of counters). */
function renderIndex(): string {
  const ru = process.resourceUsage();
  const mem = process.memoryUsage();
  const stats: Record<string, number> = {
    ...own,
    user_cpu_us: ru.userCPUTime,
    system_cpu_us: ru.systemCPUTime,
    max_rss_kb: ru.maxRSS,
    voluntary_context_switches: ru.voluntaryContextSwitches,
    involuntary_context_switches: ru.involuntaryContextSwitches,
    heap_used: mem.heapUsed,
    heap_total: mem.heapTotal,
    rss: mem.rss,
    external: mem.external,
    array_buffers: mem.arrayBuffers,
    minor_page_faults: ru.minorPageFault,
    fs_reads: ru.fsRead,
    uptime_ms: Math.round(process.uptime() * 1000),
  };
  return renderStatsPage('kernel peer', "Served by Node's http on the Linux kernel's TCP/IP stack (the benchmarks' reference).", stats);
}

const handler = httpHandler(own, renderIndex);

function listen(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

const servers: net.Server[] = [];

function tcpServer(onConn: (s: net.Socket) => void): net.Server {
  const s = net.createServer((c) => {
    own.tcp_connections++;
    c.on('error', () => {});
    onConn(c);
  });
  servers.push(s);
  return s;
}

const period = chargenPeriod();
const echo = tcpServer((c) => c.pipe(c));
const discard = tcpServer((c) => c.resume());
// runChargen needs only write/once('drain')/on/resume/writable: a net.Socket has them all.
const chargen = tcpServer((c) => runChargen(c as unknown as TcpSocket, period));
const web = http.createServer(handler);
web.on('connection', (c: net.Socket) => {
  own.http_connections++;
  c.on('error', () => {});
});
servers.push(web);

const udp = dgram.createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  own.udp_echoes++;
  udp.send(msg, rinfo.port, rinfo.address);
});
udp.on('error', (e) => console.error(`kernel-peer: udp: ${e.message}`));

await Promise.all([
  listen(echo, base + 7),
  listen(discard, base + 9),
  listen(chargen, base + 19),
  listen(web, base + 80),
  new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind({ port: base + 7, address: host }, () => {
      udp.off('error', reject);
      // Large socket buffers so a burst of echoes is not dropped by the kernel peer itself.
      try {
        udp.setRecvBufferSize(4 << 20);
        udp.setSendBufferSize(4 << 20);
      } catch {
        /* capped by net.core.rmem_max: fine */
      }
      resolve();
    });
  }),
]);
console.log(`kernel-peer ready ${host}`);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const s of servers) s.close();
  udp.close();
  // Open keep-alive or streaming connections would keep the process alive: do not wait.
  setTimeout(() => process.exit(0), 200).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
if (values['exit-on-stdin-close']) {
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
