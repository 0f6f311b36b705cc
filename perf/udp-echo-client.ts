/**
 * UDP echo load client (run inside a lab namespace by perf/udp-echo-rate.ts): keeps a
 * window of W datagrams outstanding towards HOST:PORT, spread over F sockets (F flows, so
 * stackd's flow hash can spread them over its workers), for S seconds, and prints one JSON
 * line: echoes/s, losses, echo RTT percentiles.
 *
 *   ip netns exec <lab>-c1 node dist/perf/udp-echo-client.js --host 10.10.0.4
 *       [--port 7] [--window 32] [--size 64] [--seconds 5] [--flows 4]
 *       [--loss-timeout-ms 200] [--warmup 0.5]
 *
 * Each datagram carries its sequence number in its first 4 bytes (size ≥ 8). An echo
 * frees its slot and the next datagram goes out on the same socket. A datagram not echoed
 * within --loss-timeout-ms counts as lost and is replaced, so the window never starves.
 * Echoes are counted during the S measured seconds (after --warmup); datagrams still
 * outstanding at the end are waited for --loss-timeout-ms, then counted as lost.
 * Bounded: at most W datagrams in flight, at most S + warmup + 1 s of sending.
 */
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string', default: '7' },
    window: { type: 'string', default: '32' },
    size: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '5' },
    flows: { type: 'string', default: '4' },
    'loss-timeout-ms': { type: 'string', default: '200' },
    warmup: { type: 'string', default: '0.5' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const USAGE = 'usage: udp-echo-client --host ADDR [--port 7] [--window 1..4096] [--size 8..65507] [--seconds ≤120] [--flows 1..64] [--loss-timeout-ms 10..5000] [--warmup ≤10]';
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const host = values.host;
const port = Number(values.port);
const window = Number(values.window);
const size = Number(values.size);
const seconds = Number(values.seconds);
const flows = Number(values.flows);
const lossTimeout = Number(values['loss-timeout-ms']);
const warmupMs = Number(values.warmup) * 1000;
if (!host || !(window >= 1 && window <= 4096) || !(size >= 8 && size <= 65507) || !(seconds > 0 && seconds <= 120) ||
  !(flows >= 1 && flows <= 64) || !(lossTimeout >= 10 && lossTimeout <= 5000) || !(warmupMs >= 0 && warmupMs <= 10_000)) {
  console.error(USAGE);
  process.exit(2);
}

interface Flow {
  sock: dgram.Socket;
  /** seq → send time (ms, performance.now()). */
  outstanding: Map<number, number>;
}

let nextSeq = 1;
let sending = true;
let measuring = false;
let sent = 0;
let received = 0; // echoes during the measured interval
let lost = 0; // losses detected during the measured interval or at the end
let late = 0; // echoes of datagrams already counted lost
const rtts: number[] = [];
const template = Buffer.alloc(size, 0x5a);

function sendOne(f: Flow): void {
  if (!sending) return;
  const seq = nextSeq++ >>> 0;
  const buf = Buffer.from(template);
  buf.writeUInt32BE(seq, 0);
  f.outstanding.set(seq, performance.now());
  if (measuring) sent++;
  f.sock.send(buf);
}

const flowList: Flow[] = [];
await Promise.all(
  Array.from({ length: flows }, () => new Promise<void>((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const f: Flow = { sock, outstanding: new Map() };
    sock.on('error', (e) => {
      console.error(`udp-echo-client: ${e.message}`);
    });
    sock.on('message', (msg) => {
      if (msg.length < 4) return;
      const seq = msg.readUInt32BE(0);
      const t = f.outstanding.get(seq);
      if (t === undefined) {
        late++;
        return;
      }
      f.outstanding.delete(seq);
      if (measuring) {
        received++;
        if (rtts.length < 1_000_000) rtts.push(performance.now() - t);
      }
      sendOne(f);
    });
    sock.once('error', reject);
    sock.connect(port, host, () => {
      sock.off('error', reject);
      try {
        sock.setRecvBufferSize(1 << 20);
      } catch {
        /* capped by rmem_max */
      }
      flowList.push(f);
      resolve();
    });
  })),
);

// Loss detection and window refill.
const sweeper = setInterval(() => {
  const now = performance.now();
  for (const f of flowList) {
    for (const [seq, t] of f.outstanding) {
      if (now - t < lossTimeout) break; // insertion order = send order
      f.outstanding.delete(seq);
      if (measuring) lost++;
      sendOne(f);
    }
  }
}, Math.max(5, Math.floor(lossTimeout / 4)));

// Fill the window round-robin over the flows.
for (let i = 0; i < window; i++) sendOne(flowList[i % flows]);

await new Promise((r) => setTimeout(r, warmupMs));
measuring = true;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, seconds * 1000));
const elapsed = (performance.now() - t0) / 1000;
const echoes = received;
measuring = false;
sending = false;
// Let the last window come back, then whatever is still outstanding is lost.
await new Promise((r) => setTimeout(r, lossTimeout));
clearInterval(sweeper);
let tail = 0;
for (const f of flowList) {
  tail += f.outstanding.size;
  f.sock.close();
}
rtts.sort((a, b) => a - b);
const pct = (p: number): number => (rtts.length === 0 ? NaN : rtts[Math.min(rtts.length - 1, Math.ceil((p / 100) * rtts.length) - 1)]);
console.log(JSON.stringify({
  host, size, window, flows, seconds: elapsed,
  sent, echoes, echoesPerSecond: echoes / elapsed, lost: lost + tail, late,
  rttP50us: pct(50) * 1000, rttP99us: pct(99) * 1000,
}));
