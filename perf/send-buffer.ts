/**
 * The send buffer alone (src/tcp/send-buffer.ts), one thread, no network: what the copy
 * into pooled blocks costs per byte against the bytes sent (docs/decisions/0013).
 *
 *   node dist/perf/send-buffer.js [--bytes 1073741824] [--runs 5] [--at 66] [--impl DIR]
 *
 * A bulk sender's life, in a loop until --bytes went through: the application writes
 * 64 KiB chunks while there is space (1 MiB buffer); the sender copies out every unsent
 * byte in segments of SEG bytes into a SharedArrayBuffer at a frame's payload offset
 * (--at, default 66: Ethernet, IPv4, TCP with timestamps; as into the TX ring; V8 copies
 * into a SharedArrayBuffer several times faster at an 8-byte-aligned offset, so --at 64
 * shows the send buffer's own share better); the peer ACKs every
 * second segment. SEG = 65160 (a TSO super-segment of 45 × 1448) and 1448 (no offload).
 * --impl DIR imports SendBuffer from DIR/dist/src/tcp/send-buffer.js instead, to compare
 * another build (same API). Prints MB/s and ns per 64 KiB written, median of --runs, and
 * how many pooled blocks had to be made (util/block-pool.ts).
 * Figures, not assertions.
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SendBuffer } from '../src/tcp/send-buffer.js';
import { blockPoolStats } from '../src/util/block-pool.js';

const { values } = parseArgs({
  options: {
    bytes: { type: 'string', default: String(1 << 30) },
    runs: { type: 'string', default: '5' },
    impl: { type: 'string' },
    at: { type: 'string', default: '66' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node dist/perf/send-buffer.js [--bytes 1073741824] [--runs 5] [--at 66] [--impl DIR]');
  process.exit(0);
}
const total = Number(values.bytes);
const runs = Number(values.runs);
if (!(total >= 1 << 20 && total <= 2 ** 36) || !(runs >= 1 && runs <= 50) || !(Number(values.at) >= 0 && Number(values.at) <= 4096)) {
  console.error('bad flags: --bytes 1 MiB..64 GiB, --runs 1..50, --at 0..4096');
  process.exit(2);
}

type Impl = typeof SendBuffer;
const Impl: Impl = values.impl
  ? ((await import(pathToFileURL(join(resolve(values.impl), 'dist/src/tcp/send-buffer.js')).href)) as { SendBuffer: Impl }).SendBuffer
  : SendBuffer;

const CHUNK = 65536;
const PAYLOAD_AT = Number(values.at);

/** One run: seconds to push `total` bytes through a buffer with segments of `seg` bytes. */
function run(seg: number): number {
  const sb = new Impl(1 << 20);
  const app = Buffer.alloc(CHUNK, 0x5a);
  const dst = new Uint8Array(new SharedArrayBuffer(PAYLOAD_AT + 65536 + 64));
  let written = 0;
  let sent = 0; // offset after sndUna of the next unsent byte
  let segsSinceAck = 0;
  let ackable = 0;
  const t0 = process.hrtime.bigint();
  while (written < total || sb.length > 0) {
    while (written < total && sb.space >= CHUNK) written += sb.write(app);
    while (sent < sb.length) {
      const len = Math.min(seg, sb.length - sent);
      sb.copyOut(sent, len, dst, PAYLOAD_AT);
      sent += len;
      ackable += len;
      if (++segsSinceAck === 2) {
        sb.ack(ackable);
        sent -= ackable;
        ackable = 0;
        segsSinceAck = 0;
      }
    }
    if (ackable > 0) {
      sb.ack(ackable);
      sent -= ackable;
      ackable = 0;
      segsSinceAck = 0;
    }
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`send buffer ${values.impl ?? '(this build)'}: ${total} bytes per run, ${runs} runs, payload at ${PAYLOAD_AT}; load ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (const seg of [65160, 1448]) {
  run(seg); // warm-up
  const secs: number[] = [];
  for (let r = 0; r < runs; r++) secs.push(run(seg));
  const s = median(secs);
  console.log(`  segments of ${String(seg).padStart(5)} B: ${(total / s / 1e6).toFixed(0).padStart(6)} MB/s, ${((s * 1e9) / (total / CHUNK)).toFixed(0).padStart(6)} ns per 64 KiB written`);
}
if (!values.impl) {
  const p = blockPoolStats();
  console.log(`  pooled blocks made ${p.created}, left to the GC ${p.dropped} (over all runs)`);
}
