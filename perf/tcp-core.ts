/**
 * The TCP core alone, one thread, no network: two Hosts on an in-memory link
 * (phy/memory-link.ts, no fault, 0.05 ms delay) and one bulk transfer from A to B, to
 * see what the core costs per segment (data segments and their ACKs, both ends' work).
 *
 *   node dist/perf/tcp-core.js [--mb 256] [--runs 5] [--trace-slots N] [--impl DIR]
 *   node --expose-gc dist/perf/tcp-core.js --idle N [--trace-slots N] [--impl DIR]
 *
 * --trace-slots sets TcpConfig.traceSlots (0: the connection trace off, decision 0023);
 * --impl DIR imports the core from DIR/dist/src instead, to compare another build (e.g.
 * the commit before a change). Prints CPU time (user + system, not wall time: other work
 * on the machine disturbs it less) per segment and MB/s per CPU second, median of --runs,
 * and the best run's figure; then, when the build has the connection trace, the cost of
 * recording one event alone (ConnectionTracer.record, 10^7 calls over 256 rings).
 * --idle N instead opens N connections from A to B, leaves them idle and prints the heap
 * they take per connection end (V8 heap used plus array buffers, after a full GC, over
 * both ends, divided by 2N; the trace slab of each layer included).
 * Figures, not assertions.
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '256' },
    runs: { type: 'string', default: '5' },
    'trace-slots': { type: 'string' },
    impl: { type: 'string' },
    idle: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node dist/perf/tcp-core.js [--mb 256] [--runs 5] [--trace-slots N] [--impl DIR] | --idle N (node --expose-gc)');
  process.exit(0);
}
const mb = Number(values.mb);
const runs = Number(values.runs);
const traceSlots = values['trace-slots'] === undefined ? undefined : Number(values['trace-slots']);
if (!(mb >= 1 && mb <= 16384) || !(runs >= 1 && runs <= 50) || (traceSlots !== undefined && !(traceSlots >= 0 && traceSlots <= 1 << 20))) {
  console.error('tcp-core: --mb 1..16384, --runs 1..50, --trace-slots 0..1048576');
  process.exit(2);
}

const root = values.impl === undefined ? join(import.meta.dirname, '..', 'src') : join(resolve(values.impl), 'dist', 'src');
const load = async <T>(p: string): Promise<T> => (await import(pathToFileURL(join(root, p)).href)) as T;
const { LinkDriver } = await load<typeof import('../src/iface/link-driver.js')>('iface/link-driver.js');
const { MemoryLink } = await load<typeof import('../src/phy/memory-link.js')>('phy/memory-link.js');
const { newCounters, C } = await load<typeof import('../src/base/counters.js')>('base/counters.js');

/** Two hosts on a link, A (10.0.0.1) and B (10.0.0.2), and a loop that moves frames and timers. */
function pair() {
  const clock = { now: 1000 };
  const link = new MemoryLink({ clock: () => clock.now, delay: 0.05 });
  const base = { prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 };
  const tcp = traceSlots === undefined ? {} : { traceSlots };
  const ca = newCounters();
  const cb = newCounters();
  const a = new LinkDriver(link.a, { ...base, mac: 0x020000000a01, ip: 0x0a000001 }, ca, () => {}, { tcp });
  const b = new LinkDriver(link.b, { ...base, mac: 0x020000000b02, ip: 0x0a000002 }, cb, () => {}, { tcp });
  a.host.tcp.clock = () => clock.now;
  b.host.tcp.clock = () => clock.now;
  const drivers = { A: a, B: b };
  /** Moves frames and timers until `done()` or nothing is left to do. */
  const run = (done: () => boolean): void => {
    for (let step = 0; !done() && step < 1e8; step++) {
      a.host.tcp.flushDirty(clock.now);
      a.flush();
      b.host.tcp.flushDirty(clock.now);
      b.flush();
      const next = link.peek();
      const timer = Math.min(a.host.nextDeadline(), b.host.nextDeadline());
      if (next !== null && next.at <= timer) {
        clock.now = Math.max(clock.now, next.at);
        drivers[next.to].receive(clock.now, 1);
        continue;
      }
      if (timer === Infinity) break;
      clock.now = Math.max(clock.now, timer);
      a.host.poll(clock.now);
      b.host.poll(clock.now);
    }
  };
  return { a, b, ca, cb, run };
}

/** Heap bytes per connection end with `n` idle connections (see the header). */
function idleCost(n: number): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('--idle needs node --expose-gc');
  const p = pair();
  let accepted = 0;
  p.b.host.tcp.listen(80, 65535, () => {
    accepted++;
  });
  const used = (): number => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const held: unknown[] = [];
  held.push(p.a.host.tcp.connect(0x0a000002, 80)); // ARP and the first allocations
  p.run(() => accepted >= 1);
  const before = used();
  for (let i = 0; i < n; i++) held.push(p.a.host.tcp.connect(0x0a000002, 80));
  p.run(() => accepted >= n + 1);
  if (accepted < n + 1) throw new Error(`only ${accepted - 1} of ${n} connections opened`);
  const per = (used() - before) / (2 * n);
  if (held.length !== n + 1) throw new Error('lost a handle');
  return per;
}

if (values.idle !== undefined) {
  const n = Number(values.idle);
  if (!(n >= 1 && n <= 28000)) {
    console.error('tcp-core: --idle 1..28000');
    process.exit(2);
  }
  console.log(
    `tcp-core${values.impl === undefined ? '' : ` (${values.impl})`}${traceSlots === undefined ? '' : `, traceSlots ${traceSlots}`}: ` +
      `${n} idle connections: ${idleCost(n).toFixed(0)} bytes of heap per connection end`,
  );
  process.exit(0);
}

/** One transfer of `bytes`: [seconds, segments A and B sent]. */
function once(bytes: number): [number, number] {
  const { a, b, ca, cb, run } = pair();
  let received = 0;
  b.host.tcp.listen(80, 16, (conn) => {
    conn.events = {
      onConnect() {}, onEnd() {}, onWritable() {}, onClose() {},
      onData(_b, _o, len) {
        received += len;
        conn.consumed(len);
      },
    };
  });
  const chunk = new Uint8Array(64 * 1024);
  const conn = a.host.tcp.connect(0x0a000002, 80);
  if (conn === null) throw new Error('connect failed');
  let queued = 0;
  const fill = (): void => {
    while (queued < bytes) {
      const n = conn.send(chunk.subarray(0, Math.min(chunk.length, bytes - queued)));
      if (n === 0) break;
      queued += n;
    }
  };
  conn.events = { onConnect: fill, onWritable: fill, onData() {}, onEnd() {}, onClose() {} };
  const c0 = process.cpuUsage();
  run(() => received >= bytes);
  const c1 = process.cpuUsage(c0);
  const s = (c1.user + c1.system) / 1e6;
  if (received < bytes) throw new Error(`transfer stopped at ${received} of ${bytes} bytes`);
  return [s, ca[C.tcp_segments_tx] + cb[C.tcp_segments_tx]];
}

const bytes = mb * 1_000_000;
once(Math.min(bytes, 8_000_000)); // warm-up
const results: Array<[number, number]> = [];
for (let i = 0; i < runs; i++) results.push(once(bytes));
results.sort((x, y) => x[0] / x[1] - y[0] / y[1]);
const ns = ([s, segs]: [number, number]): string => ((s * 1e9) / segs).toFixed(0);
const [s, segs] = results[results.length >> 1];
console.log(
  `tcp-core${values.impl === undefined ? '' : ` (${values.impl})`}${traceSlots === undefined ? '' : `, traceSlots ${traceSlots}`}: ` +
    `${mb} MB, ${segs} segments: ${ns([s, segs])} ns CPU per segment, ${(bytes / s / 1e6).toFixed(0)} MB per CPU second ` +
    `(median of ${runs}; best ${ns(results[0])} ns)`,
);

/** ns of CPU per ConnectionTracer.record() call, or null when the build has no trace. */
async function recordCost(): Promise<number | null> {
  let mod: typeof import('../src/tcp/trace.js');
  try {
    mod = await load<typeof import('../src/tcp/trace.js')>('tcp/trace.js');
  } catch {
    return null;
  }
  const t = new mod.ConnectionTracer(256, 0, newCounters());
  for (let i = 0; i < 256; i++) t.acquire(i);
  const n = 10_000_000;
  let best = Infinity;
  for (let run = 0; run < runs; run++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) t.record(i & 255, mod.TE_SEG_OUT, 0x10, 0, i, i, i + 1, 1024, 1448, 14480);
    const c1 = process.cpuUsage(c0);
    best = Math.min(best, ((c1.user + c1.system) * 1000) / n);
  }
  return best;
}
const rec = await recordCost();
if (rec !== null) console.log(`  one trace event recorded: ${rec.toFixed(1)} ns CPU (best of ${runs})`);
