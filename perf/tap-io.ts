/**
 * Micro-benchmark of the native TAP binding: TapDevice.writeBatch and readBatch frames/s
 * at 64- and 1514-byte frames (figures, not a test). Run as root after `npm run build`:
 *
 *   node dist/perf/tap-io.js [seconds-per-case]
 *
 * It creates a network namespace wt-perf-<pid>, re-runs itself inside it (`ip netns exec`),
 * opens a TAP there (10.98.0.1/24 on the kernel side, static neighbour 10.98.0.2), and:
 *   - write: writes UDP frames 10.98.0.2 -> 10.98.0.1:5555 (a bound kernel socket) in
 *     batches of 64; the kernel counters (InDatagrams + RcvbufErrors) show it handled them.
 *   - read: a sender process in the namespace floods UDP to 10.98.0.2 (bounded in count
 *     and time); the benchmark reads the frames the kernel puts on the TAP. On 2 cores this
 *     is mostly sender-bound, so
 *   - drain: the sender first fills a 60000-deep TAP queue with the reader idle, then only
 *     the draining is timed (reader-bound: the cost of readBatch per frame).
 * Everything stays in the namespace, which is deleted at the end.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TapDevice } from '../src/phy/tap.js';

const TAP = 'wt-perf0';
const BATCH = 64;

/** UDP counters of the current namespace from /proc/net/snmp (InDatagrams counts at recvmsg time). */
function udpCounters(): { inDatagrams: number; rcvbufErrors: number } {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const keys = lines[0].split(/\s+/);
  const vals = lines[1].split(/\s+/).map(Number);
  return { inDatagrams: vals[keys.indexOf('InDatagrams')], rcvbufErrors: vals[keys.indexOf('RcvbufErrors')] };
}

function sum16(b: Uint8Array, start: number, end: number, acc = 0): number {
  for (let i = start; i < end; i += 2) acc += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

/** An Ethernet/IPv4/UDP frame of `frameLen` bytes (>= 60) 10.98.0.2:4000 -> 10.98.0.1:5555. */
function udpFrame(dstMac: number[], frameLen: number): Uint8Array {
  const f = new Uint8Array(frameLen);
  f.set(dstMac, 0);
  f.set([2, 0, 0, 0, 0, 2, 0x08, 0x00], 6);
  const ipLen = frameLen - 14;
  const udpLen = ipLen - 20;
  f.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 98, 0, 2, 10, 98, 0, 1], 14);
  const c = fold(sum16(f, 14, 34));
  f[24] = c >> 8;
  f[25] = c & 0xff;
  f.set([4000 >> 8, 4000 & 0xff, 5555 >> 8, 5555 & 0xff, udpLen >> 8, udpLen & 0xff, 0, 0], 34);
  for (let i = 42; i < frameLen; i++) f[i] = i & 0xff;
  const u = fold(sum16(f, 34, frameLen, sum16(f, 26, 34) + 17 + udpLen)) || 0xffff;
  f[40] = u >> 8;
  f[41] = u & 0xff;
  return f;
}

interface Row {
  op: string;
  frame: number;
  frames: number;
  seconds: number;
  note: string;
}

function benchWrite(dev: TapDevice, dstMac: number[], frameLen: number, seconds: number): Row {
  const buf = new Uint8Array(BATCH * 2048);
  const offs = new Int32Array(BATCH);
  const lens = new Int32Array(BATCH);
  const f = udpFrame(dstMac, frameLen);
  for (let i = 0; i < BATCH; i++) {
    buf.set(f, i * 2048);
    offs[i] = i * 2048;
    lens[i] = frameLen;
  }
  const errors = new Int32Array(2);
  const before = udpCounters().rcvbufErrors;
  let frames = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let now = t0;
  while (now < deadline) {
    for (let k = 0; k < 16; k++) frames += dev.writeBatch(buf, offs, lens, 0, BATCH, null, errors);
    now = performance.now();
  }
  const dropped = udpCounters().rcvbufErrors - before;
  return {
    op: 'write',
    frame: frameLen,
    frames,
    seconds: (now - t0) / 1000,
    note: `kernel UDP RcvbufErrors +${dropped} (socket left undrained: the whole RX path ran); write errors ${errors[0]}`,
  };
}

const SENDER = `
import socket, sys, time
size, max_count, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(('10.98.0.2', 9))
p = b'x' * size
n = 0
end = time.monotonic() + secs
while n < max_count and time.monotonic() < end:
    for _ in range(256):
        try:
            s.send(p)
        except OSError:
            pass
    n += 256
print(n)
`;

async function benchRead(dev: TapDevice, frameLen: number, seconds: number): Promise<Row> {
  const maxFrame = 1514;
  const buf = new Uint8Array(BATCH * 1536 + maxFrame);
  const offs = new Int32Array(BATCH);
  const lens = new Int32Array(BATCH);
  for (let i = 0; i < 200 && dev.readBatch(buf, 0, buf.length, maxFrame, offs, lens, BATCH, 0, -1, null) > 0; i++);
  const payload = frameLen - 42;
  const sender = spawn('python3', ['-c', SENDER, String(payload), '50000000', String(seconds + 1)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let sent = '';
  sender.stdout.on('data', (d: Buffer) => (sent += d.toString()));
  const exited = new Promise<void>((r) => sender.once('exit', () => r()));
  // Give the sender a moment to start, then count for `seconds`.
  await new Promise((r) => setTimeout(r, 300));
  let frames = 0;
  let bad = 0;
  let calls = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let now = t0;
  while (now < deadline) {
    const n = dev.readBatch(buf, 0, buf.length, maxFrame, offs, lens, BATCH, 10, -1, null);
    calls++;
    if (n > 0) {
      frames += n;
      for (let i = 0; i < n; i++) if (lens[i] !== frameLen) bad++;
    }
    now = performance.now();
  }
  const t1 = performance.now();
  // The sender stops by itself (count/time bound); the kill is a backstop.
  const backstop = setTimeout(() => sender.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(backstop);
  const txDrops = readFileSync(`/sys/class/net/${TAP}/statistics/tx_dropped`, 'utf8').trim();
  return {
    op: 'read',
    frame: frameLen,
    frames,
    seconds: (t1 - t0) / 1000,
    note: `avg batch ${(frames / calls).toFixed(1)}; sender sent ${sent.trim() || '?'} in ${seconds + 1} s; tap tx_dropped ${txDrops} (cumulative); wrong-size ${bad}`,
  };
}

/**
 * Reader-bound figure: with the reader idle, a sender fills the TAP's queue (txqueuelen
 * raised to 60000), then the backlog is drained and only the draining is timed. Rounds
 * repeat until `seconds` of reading or 8 rounds.
 */
function benchDrain(dev: TapDevice, frameLen: number, seconds: number): Row {
  const maxFrame = 1514;
  const buf = new Uint8Array(BATCH * 1536 + maxFrame);
  const offs = new Int32Array(BATCH);
  const lens = new Int32Array(BATCH);
  execFileSync('ip', ['link', 'set', 'dev', TAP, 'txqueuelen', '60000']);
  let frames = 0;
  let readMs = 0;
  let bad = 0;
  try {
    for (let round = 0; round < 8 && readMs < seconds * 1000; round++) {
      for (let i = 0; i < 2000 && dev.readBatch(buf, 0, buf.length, maxFrame, offs, lens, BATCH, 0, -1, null) > 0; i++);
      // Bounded: 50000 datagrams, 10 s at most.
      spawnSync('python3', ['-c', SENDER, String(frameLen - 42), '50000', '10'], { timeout: 15_000 });
      const t0 = performance.now();
      for (let i = 0; i < 100_000; i++) {
        const n = dev.readBatch(buf, 0, buf.length, maxFrame, offs, lens, BATCH, 0, -1, null);
        if (n <= 0) break;
        frames += n;
        for (let j = 0; j < n; j++) if (lens[j] !== frameLen) bad++;
      }
      readMs += performance.now() - t0;
    }
  } finally {
    execFileSync('ip', ['link', 'set', 'dev', TAP, 'txqueuelen', '1000']);
  }
  return { op: 'drain', frame: frameLen, frames, seconds: readMs / 1000, note: `backlog of up to 50000 read in batches of ${BATCH}; wrong-size ${bad}` };
}

async function inner(seconds: number): Promise<void> {
  const dev = TapDevice.open(TAP, { mtu: 1500 });
  try {
    execFileSync('ip', ['addr', 'add', '10.98.0.1/24', 'dev', TAP]);
    execFileSync('ip', ['neigh', 'replace', '10.98.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', TAP, 'nud', 'permanent']);
    const mac = readFileSync(`/sys/class/net/${TAP}/address`, 'utf8').trim().split(':').map((h) => parseInt(h, 16));
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(5555, '10.98.0.1', r));
    const rows: Row[] = [];
    for (const size of [64, 1514]) rows.push(benchWrite(dev, mac, size, seconds));
    sock.close();
    const havePython = spawnSync('python3', ['-c', '0']).status === 0;
    if (havePython) {
      for (const size of [64, 1514]) rows.push(await benchRead(dev, size, seconds));
      for (const size of [64, 1514]) rows.push(benchDrain(dev, size, seconds));
    }
    else console.log('python3 not found: skipping the read cases (the kernel-side sender is a python loop)');
    console.log(`TAP ${TAP}, batches of ${BATCH}, ${seconds} s per case, node ${process.version}`);
    console.log('op     frame  frames/s    Mbit/s   us/frame  notes');
    for (const r of rows) {
      const fps = r.frames / r.seconds;
      console.log(
        `${r.op.padEnd(6)} ${String(r.frame).padStart(5)}  ${Math.round(fps).toString().padStart(9)}  ${((fps * r.frame * 8) / 1e6).toFixed(0).padStart(7)}  ${(1e6 / fps).toFixed(2).padStart(8)}  ${r.note}`,
      );
    }
  } finally {
    dev.close();
  }
}

async function outer(seconds: number): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('tap-io needs root (it creates a network namespace and a TAP)');
    process.exit(1);
  }
  const ns = `wt-perf-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, fileURLToPath(import.meta.url), '--inner', String(seconds)], { stdio: 'inherit' });
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds * 6 + 30) * 1000);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(timer);
    if (code !== 0) process.exitCode = 1;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

const args = process.argv.slice(2);
if (args[0] === '--help' || args[0] === '-h') console.log('usage: node dist/perf/tap-io.js [seconds-per-case]   (root: builds namespace wt-perf-<pid>)');
else if (args[0] === '--inner') await inner(Number(args[1] ?? 2));
else await outer(Number(args[0] ?? 2));
