/**
 * Connection holder (run inside a lab namespace by perf/runs/memory.ts): opens --count
 * TCP connections to HOST:PORT on the kernel's stack, at most --concurrency connecting at
 * once, sends nothing, and holds them idle; prints one JSON line when every connect has
 * finished ({"event":"ready", established, failed, ms, firstError}), then holds until
 * SIGTERM/SIGINT or --hold-seconds, closes them all and prints {"event":"done", ...}.
 *
 *   ip netns exec <lab>-c1 node dist/perf/hold-conns.js --host 10.10.0.4 [--port 9]
 *       [--count 5000] [--concurrency 200] [--connect-timeout-ms 5000] [--hold-seconds 300]
 *
 * Bounded: --count ≤ 60000 (one address's ephemeral ports; the file-descriptor limit
 * applies too: the caller raises `ulimit -n`), a connect that has not completed in
 * --connect-timeout-ms counts as failed, and the holder exits after --hold-seconds
 * whatever happens. Connections the server closes are counted (closedByPeer).
 */
import net from 'node:net';
import { parseArgs } from 'node:util';

const USAGE = 'usage: hold-conns --host ADDR [--port 9] [--count 1..60000] [--concurrency 1..2000] [--connect-timeout-ms 100..60000] [--hold-seconds 1..3600]';
const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string', default: '9' },
    count: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '200' },
    'connect-timeout-ms': { type: 'string', default: '5000' },
    'hold-seconds': { type: 'string', default: '300' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const host = values.host;
const port = Number(values.port);
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const connectTimeout = Number(values['connect-timeout-ms']);
const holdSeconds = Number(values['hold-seconds']);
if (!host || !(port >= 1 && port <= 65535) || !(count >= 1 && count <= 60_000) || !(concurrency >= 1 && concurrency <= 2000) ||
  !(connectTimeout >= 100 && connectTimeout <= 60_000) || !(holdSeconds >= 1 && holdSeconds <= 3600)) {
  console.error(USAGE);
  process.exit(2);
}

const held: net.Socket[] = [];
let started = 0;
let established = 0;
let failed = 0;
let closedByPeer = 0;
let firstError: string | null = null;
let stopping = false;
const t0 = performance.now();

/** Opens one connection; resolves when it is established or has failed. */
function openOne(): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let done = false;
    const settle = (ok: boolean, why?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ok) {
        established++;
        held.push(s);
      } else {
        failed++;
        firstError ??= why ?? 'failed';
        s.destroy();
      }
      resolve();
    };
    const timer = setTimeout(() => {
      settle(false, `connect timeout ${connectTimeout} ms`);
    }, connectTimeout);
    s.once('connect', () => {
      settle(true);
    });
    s.on('error', (e) => {
      settle(false, e.message);
    });
    s.once('close', () => {
      if (done && !stopping && held.includes(s)) closedByPeer++;
    });
    s.resume(); // discard anything the server sends
  });
}

async function worker(): Promise<void> {
  while (started < count && !stopping) {
    started++;
    await openOne();
  }
}

function report(event: string): void {
  console.log(JSON.stringify({ event, established, failed, closedByPeer, ms: Math.round(performance.now() - t0), firstError }));
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  clearTimeout(holdTimer);
  for (const s of held) s.destroy();
  report('done');
  process.exit(0);
}
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, stop);
const holdTimer = setTimeout(stop, holdSeconds * 1000);

await Promise.all(Array.from({ length: Math.min(concurrency, count) }, () => worker()));
report('ready');
