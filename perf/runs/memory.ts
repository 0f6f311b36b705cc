/**
 * The memory run of perf/tcp-bench.ts (`--only memory`, issue 8 item 7): stackd's resident
 * memory per idle established connection. A fresh stackd; perf/hold-conns.ts in several
 * client namespaces (<lab>-c1 and extra ones: several client addresses, each within its
 * ephemeral port range) opens `--conns` connections to discard :9 in all and holds them;
 * RSS (/proc/<pid>/status VmRSS: all threads of the one process) before and while they
 * are held gives the cost per connection: taken once they have idled 30 s (V8's memory
 * reducer has then given back the heap growth of the connection burst), and also 2 s after
 * the last connect. The kernel side is not measured.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from '../../src/phy/package-root.js';
import { formatTable, mib, peakRssBytes, rssBytes, runIn, spawnIn, stackdStats, stopChild, total, waitForLine } from '../lab-bench.js';
import { STACKD_IP, type RunContext } from './context.js';

/** The data-plane threads' V8 heaps together (bytes; /stats heap gauges). */
interface Heaps {
  used: number;
  committed: number;
  external: number;
}

async function heaps(control: string): Promise<Heaps> {
  const s = await stackdStats(control);
  return { used: total(s, 'heap_used_bytes'), committed: total(s, 'heap_total_bytes'), external: total(s, 'heap_external_bytes') };
}

/** How long the held connections idle before their RSS is taken (s). */
const IDLE_SECONDS = 30;

/** At most this many connections from one client namespace (one address; below the 64 k ports and the fd limit). */
export const CONNS_PER_CLIENT = 15_000;

/** How a holder ended its connects (its 'ready' line). */
interface Ready {
  established: number;
  failed: number;
  ms: number;
  firstError: string | null;
}

/** Starts perf/hold-conns.js in `ns` for `count` connections to stackd's discard port, holding them ≤ `holdSeconds`. */
function startHolder(ns: string, count: number, holdSeconds: number): ReturnType<typeof spawnIn> {
  const script = join(packageRoot(), 'dist/perf/hold-conns.js');
  return spawnIn(ns, 'bash', ['-c', `ulimit -n ${count + 256} && exec "$0" "$@"`, process.execPath, script, '--host', STACKD_IP, '--port', '9',
    '--count', String(count), '--concurrency', '128', '--hold-seconds', String(holdSeconds)]);
}

/** Polls stackd's tcp_connections gauge (every 200 ms, ≤ `ms`) until `done` accepts it; returns the last value. */
async function waitConnections(control: string, done: (n: number) => boolean, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const n = total(await stackdStats(control), 'tcp_connections');
    if (done(n) || Date.now() > deadline) return n;
    await sleep(200);
  }
}

/**
 * The memory run for `w` workers and `conns` connections spread over `namespaces` (each
 * gets an equal share ≤ CONNS_PER_CLIENT). Records 'memory KiB/conn' and 'memory RSS held'.
 */
export async function runMemory(ctx: RunContext, w: number, conns: number, namespaces: readonly string[]): Promise<void> {
  const stackd = await ctx.freshStackd(w);
  const shares = namespaces.map((_, i) => Math.floor(conns / namespaces.length) + (i < conns % namespaces.length ? 1 : 0)).filter((n) => n > 0);
  console.log(`\n== memory, stackd --workers ${w} (pid ${stackd.pid}): ${conns} idle connections to :9 from ${shares.length} client address(es) (${shares.join(' + ')})`);
  // Warm-up: ARP from every client, and 200 connections opened and closed (JIT of the accept path).
  for (const ns of namespaces) await runIn(ns, 'ping', ['-c', '3', '-i', '0.01', '-q', STACKD_IP], 10_000);
  const warm = startHolder(namespaces[0], 200, 1);
  await waitForLine(warm, (l) => l.includes('"done"'), 30_000);
  await stopChild(warm);
  await waitConnections(stackd.control, (n) => n === 0, 10_000);
  await sleep(1000);
  const before = rssBytes(stackd.pid);
  const heapsBefore = await heaps(stackd.control);

  const holdSeconds = Math.min(3600, 120 + Math.ceil(conns / 100));
  const holders = shares.map((n, i) => startHolder(namespaces[i], n, holdSeconds));
  try {
    const t0 = Date.now();
    const lines = await Promise.all(holders.map((h, i) => waitForLine(h, (l) => l.includes('"ready"'), 60_000 + shares[i] * 5)));
    const ready = lines.map((l) => (l === null ? null : (JSON.parse(l) as Ready)));
    const established = ready.reduce((a, r) => a + (r?.established ?? 0), 0);
    const failed = ready.reduce((a, r) => a + (r?.failed ?? 0), 0);
    ready.forEach((r, i) => {
      if (r === null) ctx.note(`memory (workers ${w}): the holder in ${namespaces[i]} did not report (exit or timeout)`);
      else if (r.failed > 0) ctx.note(`memory (workers ${w}): ${r.failed} of ${shares[i]} connects from ${namespaces[i]} failed (first: ${r.firstError})`);
    });
    const held = await waitConnections(stackd.control, (n) => n >= established, 10_000);
    console.log(`  ${established} established (${failed} failed) in ${((Date.now() - t0) / 1000).toFixed(1)} s; stackd counts ${held} connections`);
    await sleep(2000); // let the last ACKs and timers settle
    const early = rssBytes(stackd.pid);
    // The connections idle on: V8's memory reducer gives back the heap growth of the
    // connection burst once the isolates have been idle a while (about 8 s and more).
    await sleep(IDLE_SECONDS * 1000 - 2000);
    const during = rssBytes(stackd.pid);
    const heapsDuring = await heaps(stackd.control);
    const perConn = (during - before) / Math.max(1, established);
    ctx.results.put('memory KiB/conn', w, 'stackd', perConn / 1024);
    ctx.results.put('memory KiB/conn 2 s', w, 'stackd', (early - before) / Math.max(1, established) / 1024);
    ctx.results.put('memory RSS held', w, 'stackd', during / 2 ** 20);
    for (const h of holders) await stopChild(h);
    const left = await waitConnections(stackd.control, (n) => n === 0, 20_000);
    await sleep(1000);
    const after = rssBytes(stackd.pid);
    console.log(formatTable(['stackd RSS', 'MiB'], [
      ['before (idle, warmed up)', mib(before)],
      [`holding ${established} connections, 2 s after the last connect`, mib(early)],
      [`holding ${established} connections, idle ${IDLE_SECONDS} s`, mib(during)],
      [`after closing them (${left} left)`, mib(after)],
      ['peak (VmHWM)', mib(peakRssBytes(stackd.pid))],
    ]));
    console.log(`  per connection: ${(perConn / 1024).toFixed(2)} KiB ((holding, idle ${IDLE_SECONDS} s - before) / ${established}); ` +
      `2 s after the last connect: ${((early - before) / Math.max(1, established) / 1024).toFixed(2)} KiB`);
    const per = (k: keyof Heaps): string => ((heapsDuring[k] - heapsBefore[k]) / Math.max(1, established) / 1024).toFixed(2);
    console.log(`  of which, per connection (idle ${IDLE_SECONDS} s): V8 heaps used ${per('used')} KiB, committed ${per('committed')} KiB, external ${per('external')} KiB ` +
      `(the data-plane threads' heaps, /stats)`);
  } finally {
    for (const h of holders) await stopChild(h);
  }
}
