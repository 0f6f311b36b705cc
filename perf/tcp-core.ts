/**
 * The TCP core alone, one thread, no network: two Hosts on an in-memory link
 * (phy/memory-link.ts, no fault, 0.05 ms delay) and one bulk transfer from A to B, to
 * see what the core costs per segment (data segments and their ACKs, both ends' work).
 *
 *   node dist/perf/tcp-core.js [--mb 256] [--runs 5] [--trace-slots N] [--impl DIR]
 *
 * --trace-slots sets TcpConfig.traceSlots (0: the connection trace off, decision 0023);
 * --impl DIR imports the core from DIR/dist/src instead, to compare another build (e.g.
 * the commit before a change). Prints ns per segment and MB/s, median of --runs, and the
 * best run's ns per segment (the least disturbed by other work on the machine).
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
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node dist/perf/tcp-core.js [--mb 256] [--runs 5] [--trace-slots N] [--impl DIR]');
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

/** One transfer of `bytes`: [seconds, segments A and B sent]. */
function once(bytes: number): [number, number] {
  let now = 1000;
  const link = new MemoryLink({ clock: () => now, delay: 0.05 });
  const base = { prefixLength: 24, gateway: 0, mtu: 1500, shardIndex: 0, shardCount: 1, answersArp: true, ttl: 64 };
  const tcp = traceSlots === undefined ? {} : { traceSlots };
  const ca = newCounters();
  const cb = newCounters();
  const a = new LinkDriver(link.a, { ...base, mac: 0x020000000a01, ip: 0x0a000001 }, ca, () => {}, { tcp });
  const b = new LinkDriver(link.b, { ...base, mac: 0x020000000b02, ip: 0x0a000002 }, cb, () => {}, { tcp });
  a.host.tcp.clock = () => now;
  b.host.tcp.clock = () => now;
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
  const drivers = { A: a, B: b };
  const t0 = process.hrtime.bigint();
  for (let step = 0; received < bytes && step < 1e8; step++) {
    a.host.tcp.flushDirty(now);
    a.flush();
    b.host.tcp.flushDirty(now);
    b.flush();
    const next = link.peek();
    const timer = Math.min(a.host.nextDeadline(), b.host.nextDeadline());
    if (next !== null && next.at <= timer) {
      now = Math.max(now, next.at);
      drivers[next.to].receive(now, 1);
      continue;
    }
    if (timer === Infinity) break;
    now = Math.max(now, timer);
    a.host.poll(now);
    b.host.poll(now);
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
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
    `${mb} MB, ${segs} segments: ${ns([s, segs])} ns per segment, ${(bytes / s / 1e6).toFixed(0)} MB/s (median of ${runs}; best ${ns(results[0])} ns)`,
);
