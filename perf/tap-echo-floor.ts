/**
 * The floor under stackd's ping: the round trip to the smallest possible user-space
 * responder on the same TAP, next to the kernel's in the same run. One Node thread reads
 * the TAP and answers ARP and ICMP echo for 10.10.0.4 in place (no stack, no rings, no
 * second thread), either sleeping in poll() between frames (`block`, what any user-space
 * stack pays: one wake-up of a sleeping thread per request) or polling without sleeping
 * (`poll`, as busy polling does). stackd's own figure (perf/ping-rtt.js) sits above the
 * first of these; the kernel answers inside the sender's own system call and pays no
 * wake-up at all.
 *
 *   node dist/perf/tap-echo-floor.js [--count 300] [--interval 0.01] [--runs 2]
 *
 * Needs root. Builds its own lab (name `tf<pid>`), runs the responder in its host
 * namespace on tap0, pings from c1, and removes the lab afterwards, also on failure.
 * The responder is this file run with `--responder MODE SECONDS` (bounded in time).
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { TapDevice } from '../src/phy/tap.js';
import { benchLabDown, benchLabUp, installCleanup, median, nsRun, percentile, runBench, spawnIn, stopChild, waitForLine } from './lab-bench.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    interval: { type: 'string', default: '0.01' },
    runs: { type: 'string', default: '2' },
    responder: { type: 'string' },
    seconds: { type: 'string', default: '120' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const USAGE = 'usage: node dist/perf/tap-echo-floor.js [--count 300] [--interval 0.01] [--runs 2]';

/** Our responder's addresses: the lab's stackd address and a locally administered MAC. */
const MAC = [0x02, 0x00, 0x0a, 0x0a, 0x00, 0x04];
const IP = [10, 10, 0, 4];

/** Turns an ARP request for IP or an ICMP echo request to it into its reply, in place; false for anything else. */
function answerInPlace(f: Uint8Array, o: number): boolean {
  const type = (f[o + 12] << 8) | f[o + 13];
  const forUs = (at: number): boolean => f[at] === IP[0] && f[at + 1] === IP[1] && f[at + 2] === IP[2] && f[at + 3] === IP[3];
  if (type === 0x0806 && f[o + 21] === 1 && forUs(o + 38)) {
    f.copyWithin(o, o + 6, o + 12);
    f.set(MAC, o + 6);
    f[o + 21] = 2; // reply
    f.copyWithin(o + 32, o + 22, o + 32); // target = the asker's MAC and IP
    f.set(MAC, o + 22);
    f.set(IP, o + 28);
    return true;
  }
  if (type !== 0x0800 || f[o + 23] !== 1 || !forUs(o + 30)) return false;
  const icmp = o + 14 + (f[o + 14] & 15) * 4;
  if (f[icmp] !== 8) return false;
  f.copyWithin(o, o + 6, o + 12);
  f.set(MAC, o + 6);
  const src = f.slice(o + 26, o + 30);
  f.copyWithin(o + 26, o + 30, o + 34);
  f.set(src, o + 30); // the IPv4 header checksum is unchanged by the swap
  f[icmp] = 0; // echo reply: the checksum gains 0x0800 (RFC 1624)
  let c = ((f[icmp + 2] << 8) | f[icmp + 3]) + 0x0800;
  c = (c & 0xffff) + (c >> 16);
  f[icmp + 2] = c >> 8;
  f[icmp + 3] = c & 0xff;
  return true;
}

/** The responder loop (runs in the lab's host namespace): `block` sleeps in poll(), `poll` never sleeps. */
function respond(mode: string, seconds: number): void {
  const tap = TapDevice.open('tap0', { vnetHdr: false, offload: 0, mtu: 1500 });
  const buf = new Uint8Array(1 << 17);
  const offsets = new Int32Array(64), lens = new Int32Array(64), errors = new Int32Array(2);
  const outOffsets = new Int32Array(64), outLens = new Int32Array(64);
  const end = Date.now() + seconds * 1000;
  console.log('ready');
  while (Date.now() < end) {
    const n = tap.readBatch(buf, 0, buf.length, 2048, offsets, lens, 64, mode === 'poll' ? 0 : 50, -1, null);
    let w = 0;
    for (let i = 0; i < n; i++) {
      if (!answerInPlace(buf, offsets[i])) continue;
      outOffsets[w] = offsets[i];
      outLens[w++] = lens[i];
    }
    if (w > 0) tap.writeBatch(buf, outOffsets, outLens, 0, w, null, errors);
  }
  tap.close();
}

if (values.responder !== undefined) {
  respond(values.responder, Number(values.seconds));
  process.exit(0);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const labName = `tf${process.pid % 10000}`;
const cleanup = installCleanup(() => benchLabDown(labName));

function pingTimes(target: string): number[] {
  const out = nsRun(`${labName}-c1`, 'ping', ['-c', values.count, '-i', values.interval, '-W', '1', target], 300_000);
  return [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
}

async function main(): Promise<void> {
  benchLabUp(labName);
  console.log(`ping RTT, ${values.count} pings every ${values.interval} s, µs (medians of ${values.runs} runs)`);
  for (const mode of ['block', 'poll']) {
    const child = spawnIn(`${labName}-host`, process.execPath, [fileURLToPath(import.meta.url), '--responder', mode, '--seconds', '300']);
    try {
      if ((await waitForLine(child, (l) => l === 'ready', 10_000)) === null) throw new Error(`the ${mode} responder did not start`);
      nsRun(`${labName}-c1`, 'ping', ['-c', '20', '-i', '0.001', '-q', '10.10.0.4'], 60_000); // ARP and warm-up
      const r50: number[] = [], r99: number[] = [], k50: number[] = [], k99: number[] = [];
      for (let r = 0; r < Number(values.runs); r++) {
        const us = pingTimes('10.10.0.4');
        const kernel = pingTimes('10.10.0.1');
        r50.push(percentile(us, 50)); r99.push(percentile(us, 99));
        k50.push(percentile(kernel, 50)); k99.push(percentile(kernel, 99));
      }
      const [a, b, c, d] = [median(r50), median(r99), median(k50), median(k99)];
      console.log(`  responder (${mode.padEnd(5)}) p50 ${a.toFixed(0)} p99 ${b.toFixed(0)} | kernel p50 ${c.toFixed(0)} p99 ${d.toFixed(0)} | ratio p50 ${(a / c).toFixed(2)}×`);
    } finally {
      await stopChild(child);
    }
  }
}

await runBench('tap-echo-floor', main, cleanup);
