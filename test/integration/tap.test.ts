/**
 * Integration tests of the native TAP binding (native/tap.c via src/phy/tap.ts)
 * against the real kernel: TUNSETIFF/TUNSETVNETHDRSZ/TUNSETOFFLOAD/TUNSETPERSIST,
 * SIOCSIFMTU/SIOCSIFFLAGS, read/readv/write/writev of Ethernet frames with and without the
 * virtio_net_hdr, poll + eventfd wake-ups, and the errno -> TapError mapping.
 *
 * Everything runs in a network namespace made per file (wt-<pid>). The test process opens
 * its TAPs (down, unnumbered) and immediately moves them into that namespace with
 * `ip link set ... netns`; the fd keeps working there. Steps that must TUNSETIFF or ioctl
 * inside the namespace run fixtures/tap-child.mjs under `ip netns exec`.
 * Needs root and /dev/net/tun: skipped otherwise, but with CI=true a missing capability fails.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TAP_MAX_GSO_FRAME,
  TUN_F_CSUM,
  TUN_F_TSO4,
  TapDevice,
  TapError,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VNET_HDR_LEN,
  loadTapAddon,
  READ_DRAIN_WAKE,
  READ_POLL_FIRST,
  toTapError,
} from '../../src/phy/tap.js';
import { packageRoot } from '../../src/phy/package-root.js';
import { waitFor } from '../helpers/wait-for.js';
import { nodeAsNobody, unprivilegedTunFailure } from '../helpers/unprivileged.js';
import { worldReadableCopy } from '../helpers/world-readable-copy.js';

const isRoot = process.getuid?.() === 0;
const haveTun = existsSync('/dev/net/tun');
const canRun = isRoot && haveTun;

const NS = `wt-${process.pid}`;
const TAP = `wt-t${process.pid}`; // plain TAP, 10.99.0.1/24, static neighbour 10.99.0.2
const VTAP = `wt-v${process.pid}`; // vnet-header TAP, 10.99.1.1/24, static neighbour 10.99.1.2
const STACK_MAC = '02:00:00:00:00:02';
const FIX = join(packageRoot(), 'test/integration/fixtures');

// ------------------------------------------------------------------ helpers

const children = new Set<ChildProcess>();

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
}

function linkInfo(name: string): { address: string; mtu: number; flags: string[] } | undefined {
  const r = spawnSync('ip', ['-n', NS, '-j', 'link', 'show', 'dev', name], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return undefined;
  return (JSON.parse(r.stdout) as { address: string; mtu: number; flags: string[] }[])[0];
}

interface ChildResult {
  ok: boolean;
  code?: string;
  errno?: number;
  syscall?: string;
  message?: string;
  results: unknown[];
}

/**
 * Runs fixtures/tap-child.mjs in the namespace (optionally behind a wrapper like setpriv,
 * and from another copy of the package: `root`, also the child's working directory).
 */
function tapChild(steps: object[], wrapper: string[] = [], root?: string): ChildResult {
  const script = root === undefined ? join(FIX, 'tap-child.mjs') : join(root, 'test/integration/fixtures/tap-child.mjs');
  const r = spawnSync('ip', ['netns', 'exec', NS, ...wrapper, process.execPath, script, JSON.stringify(steps)], {
    encoding: 'utf8',
    timeout: 15_000,
    cwd: root,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`tap-child failed (status ${r.status}): ${r.stdout} ${r.stderr}`);
  return JSON.parse(line) as ChildResult;
}

/** The native error a child reported, as the Error the addon would have thrown in-process. */
function childError(r: ChildResult): Error {
  return Object.assign(new Error(r.message), { code: r.code, errno: r.errno, syscall: r.syscall });
}

/** The TapError toTapError makes of a child's error for `ifname` (fails the test when it makes another kind). */
function childTapError(r: ChildResult, ifname: string): TapError {
  const e = toTapError(childError(r), ifname);
  if (!(e instanceof TapError)) throw new Error(`expected a TapError, got ${e.name}: ${e.message}`);
  return e;
}

/** Spawns fixtures/ns-peer.mjs in the namespace; its stdout lines collect in `lines`. */
function peer(args: string[]): { proc: ChildProcess; lines: string[]; waitLines: (what: string, ready: (lines: string[]) => boolean) => Promise<void> } {
  const proc = spawn('ip', ['netns', 'exec', NS, process.execPath, join(FIX, 'ns-peer.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  const lines: string[] = [];
  let partial = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d: string) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  const waitLines = async (what: string, ready: (l: string[]) => boolean): Promise<void> => {
    await waitFor(() => ready(lines), { what: `peer ${args.join(' ')}: ${what}`, detail: () => `lines so far: ${lines.join(' | ')}` });
  };
  return { proc, lines, waitLines };
}

function killChild(p: ChildProcess): void {
  if (p.exitCode === null && p.signalCode === null && p.pid !== undefined) p.kill('SIGKILL');
}

const align16 = (n: number): number => (n + 15) & ~15;

function macBytes(mac: string): number[] {
  return mac.split(':').map((h) => parseInt(h, 16));
}

function ipBytes(a: string): number[] {
  return a.split('.').map(Number);
}

function sum16(b: Uint8Array, start: number, end: number, acc = 0): number {
  for (let i = start; i < end; i += 2) acc += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

/** Ethernet + IPv4 + (UDP | TCP) frame with correct checksums. */
function buildFrame(o: {
  dstMac: string;
  srcMac: string;
  srcIp: string;
  dstIp: string;
  proto: 17 | 6;
  l4: Uint8Array; // L4 header + payload, checksum field zero
}): Uint8Array {
  const f = new Uint8Array(14 + 20 + o.l4.length);
  f.set(macBytes(o.dstMac), 0);
  f.set(macBytes(o.srcMac), 6);
  f[12] = 0x08;
  f[13] = 0x00;
  const ipLen = 20 + o.l4.length;
  f.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0x12, 0x34, 0x40, 0, 64, o.proto, 0, 0, ...ipBytes(o.srcIp), ...ipBytes(o.dstIp)], 14);
  const ipc = fold(sum16(f, 14, 34));
  f[24] = ipc >> 8;
  f[25] = ipc & 0xff;
  f.set(o.l4, 34);
  const pseudo = sum16(f, 26, 34) + o.proto + o.l4.length;
  const c = fold(sum16(f, 34, f.length, pseudo));
  const at = 34 + (o.proto === 17 ? 6 : 16);
  const cc = o.proto === 17 && c === 0 ? 0xffff : c;
  f[at] = cc >> 8;
  f[at + 1] = cc & 0xff;
  return f;
}

function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const u = new Uint8Array(8 + payload.length);
  const len = u.length;
  u.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, len >> 8, len & 0xff, 0, 0]);
  u.set(payload, 8);
  return u;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

interface VnetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

function decodeVnet(v: Uint8Array, i: number): VnetHdr {
  const dv = new DataView(v.buffer, v.byteOffset + i * VNET_HDR_LEN, VNET_HDR_LEN);
  return {
    flags: dv.getUint8(0),
    gsoType: dv.getUint8(1),
    hdrLen: dv.getUint16(2, true),
    gsoSize: dv.getUint16(4, true),
    csumStart: dv.getUint16(6, true),
    csumOffset: dv.getUint16(8, true),
  };
}

// ------------------------------------------------------------------ tests

describe.runIf(process.env.CI === 'true')('tap prerequisites (CI)', () => {
  it('has root and /dev/net/tun (a missing capability fails in CI instead of skipping)', () => {
    expect({ isRoot, haveTun }).toEqual({ isRoot: true, haveTun: true });
  });
});

describe.skipIf(!canRun)('tap binding (root, netns)', () => {
  // One SharedArrayBuffer-backed view with a non-zero byteOffset: offsets must be relative
  // to the view, and the addon must accept SAB memory.
  const sab = new SharedArrayBuffer(512 * 1024);
  const buf = new Uint8Array(sab, 64, 256 * 1024);
  const offs = new Int32Array(64);
  const lens = new Int32Array(64);
  const vnet = new Uint8Array(64 * VNET_HDR_LEN);
  let dev: TapDevice | undefined;
  let vdev: TapDevice | undefined;
  let tapMac = '';
  let vtapMac = '';
  let wakeFd = -1;

  function drain(d: TapDevice, v: Uint8Array | null): void {
    for (let i = 0; i < 100 && d.readBatch(buf, 0, buf.length, TAP_MAX_GSO_FRAME, offs, lens, 64, 0, -1, v) > 0; i++);
  }

  beforeAll(() => {
    ip('netns', 'add', NS);
    execFileSync('ip', ['netns', 'exec', NS, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { timeout: 10_000 });
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    // Opened down in the test's namespace and moved into NS at once: no address, no traffic outside NS.
    dev = TapDevice.open(TAP, { up: false });
    ip('link', 'set', 'dev', TAP, 'netns', NS);
    vdev = TapDevice.open(VTAP, { up: false, vnetHdr: true, offload: TUN_F_CSUM | TUN_F_TSO4 });
    ip('link', 'set', 'dev', VTAP, 'netns', NS);
    for (const [name, net] of [
      [TAP, '10.99.0'],
      [VTAP, '10.99.1'],
    ] as const) {
      ip('-n', NS, 'addr', 'add', `${net}.1/24`, 'dev', name);
      ip('-n', NS, 'link', 'set', 'dev', name, 'mtu', '1500', 'up');
      ip('-n', NS, 'neigh', 'replace', `${net}.2`, 'lladdr', STACK_MAC, 'dev', name, 'nud', 'permanent');
    }
    tapMac = linkInfo(TAP)!.address;
    vtapMac = linkInfo(VTAP)!.address;
    wakeFd = loadTapAddon().eventfd();
  });

  afterAll(() => {
    for (const p of children) killChild(p);
    dev?.close();
    vdev?.close();
    if (wakeFd >= 0) loadTapAddon().close(wakeFd);
    spawnSync('ip', ['netns', 'del', NS], { timeout: 10_000 });
  });

  it('opens the TAPs with the requested names and flags', () => {
    expect(dev!.name).toBe(TAP);
    expect(dev!.fd).toBeGreaterThanOrEqual(0);
    expect(dev!.vnetHdr).toBe(false);
    expect(vdev!.vnetHdr).toBe(true);
    expect(linkInfo(TAP)!.flags).toContain('UP');
    expect(linkInfo(TAP)!.flags).toContain('LOWER_UP'); // carrier: our fd is attached
  });

  it('(a) writeBatch: UDP frames reach a kernel socket in the namespace intact', async () => {
    const rx = peer(['udp-recv', '10.99.0.1', '5555', '3', '5000']);
    await rx.waitLines("'ready'", (l) => l.includes('ready'));
    const payloads = [new TextEncoder().encode('hello'), new Uint8Array(100).map((_, i) => i), new Uint8Array(1472).map((_, i) => (i * 7) & 0xff)];
    let off = 0;
    payloads.forEach((p, i) => {
      const f = buildFrame({ dstMac: tapMac, srcMac: STACK_MAC, srcIp: '10.99.0.2', dstIp: '10.99.0.1', proto: 17, l4: udp(4000, 5555, p) });
      buf.set(f, off);
      offs[i] = off;
      lens[i] = f.length;
      off = align16(off + f.length);
    });
    expect(lens[2]).toBe(1514);
    const errors = new Int32Array(2);
    expect(dev!.writeBatch(buf, offs, lens, 0, 1, null, errors)).toBe(1);
    expect(dev!.writeBatch(buf, offs, lens, 1, 2, null, errors)).toBe(2); // `first` indexes offsets/lens
    expect(Array.from(errors)).toEqual([0, 0]);
    await rx.waitLines('3 datagrams', (l) => l.filter((x) => x.startsWith('{')).length >= 3);
    const got = rx.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { hex: string; from: string });
    expect(got.map((g) => g.hex)).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
    expect(got.every((g) => g.from === '10.99.0.2:4000')).toBe(true);
    killChild(rx.proc);
  });

  it('(b) readBatch: echo requests the kernel sends arrive as one aligned batch', () => {
    drain(dev!, null);
    const ping = spawnSync('ip', ['netns', 'exec', NS, 'ping', '-c', '3', '-W', '1', '-i', '0.2', '10.99.0.2'], { timeout: 15_000 });
    expect(ping.status).toBe(1); // nobody answers: 3 sent, 0 received
    const start = 3; // unaligned start: the first frame lands exactly there
    const n = dev!.readBatch(buf, start, buf.length, 1514, offs, lens, 64, 0, -1, null);
    expect(n).toBeGreaterThanOrEqual(3);
    const echo: number[] = [];
    for (let i = 0; i < n; i++) {
      const o = offs[i];
      expect(o).toBe(i === 0 ? start : align16(offs[i - 1] + lens[i - 1]));
      if (i > 0) expect(o % 16).toBe(0);
      const isEcho = buf[o + 12] === 0x08 && buf[o + 13] === 0x00 && buf[o + 23] === 1 && buf[o + 34] === 8;
      if (isEcho) echo.push(i);
    }
    expect(echo.length).toBe(3);
    for (const [k, i] of echo.entries()) {
      const o = offs[i];
      expect(lens[i]).toBe(14 + 20 + 8 + 56); // default ping: 56 data bytes
      expect(Array.from(buf.subarray(o, o + 6))).toEqual(macBytes(STACK_MAC));
      expect(Array.from(buf.subarray(o + 6, o + 12))).toEqual(macBytes(tapMac));
      expect(Array.from(buf.subarray(o + 26, o + 34))).toEqual([...ipBytes('10.99.0.1'), ...ipBytes('10.99.0.2')]);
      expect((buf[o + 40] << 8) | buf[o + 41]).toBe(k + 1); // icmp_seq 1, 2, 3
    }
  });

  it('(b) readBatch honours maxCount and the room left before end', () => {
    drain(dev!, null);
    spawnSync('ip', ['netns', 'exec', NS, 'ping', '-c', '3', '-W', '1', '-i', '0.2', '10.99.0.2'], { timeout: 15_000 });
    expect(dev!.readBatch(buf, 0, buf.length, 1514, offs, lens, 2, 0, -1, null)).toBe(2);
    const t0 = performance.now();
    expect(dev!.readBatch(buf, 0, 1513, 1514, offs, lens, 64, 500, -1, null)).toBe(0); // no room: no read, no wait
    expect(performance.now() - t0).toBeLessThan(100);
    expect(dev!.readBatch(buf, 0, buf.length, 1514, offs, lens, 64, 0, -1, null)).toBeGreaterThanOrEqual(1);
  });

  it('(c) readBatch on an idle tap returns 0 after ~timeoutMs', () => {
    drain(dev!, null);
    const t0 = performance.now();
    expect(dev!.readBatch(buf, 0, buf.length, 1514, offs, lens, 64, 200, wakeFd, null)).toBe(0);
    const dt = performance.now() - t0;
    expect(dt).toBeGreaterThanOrEqual(190);
    expect(dt).toBeLessThan(600);
    const t1 = performance.now();
    expect(dev!.readBatch(buf, 0, buf.length, 1514, offs, lens, 64, 0, wakeFd, null)).toBe(0);
    expect(performance.now() - t1).toBeLessThan(50);
  });

  it('(c) eventfdSignal from another thread wakes a blocked readBatch early', async () => {
    const a = loadTapAddon();
    drain(dev!, null);
    a.eventfdDrain(wakeFd);
    const flags = new Int32Array(new SharedArrayBuffer(16));
    const w = new Worker(join(FIX, 'wake-worker.mjs'), {
      workerData: { addonPath: join(packageRoot(), 'build/Release/stackd_tap.node'), sab: flags.buffer, fd: wakeFd },
    });
    const exited = new Promise((r) => w.once('exit', r));
    expect(Atomics.wait(flags, 0, 0, 10_000)).not.toBe('timed-out'); // the worker is running
    // The worker signals once it sees this thread blocked in poll(2), i.e. inside readBatch.
    const t0 = performance.now();
    const n = dev!.readBatch(buf, 0, buf.length, 1514, offs, lens, 64, 20_000, wakeFd, null);
    const dt = performance.now() - t0;
    await exited;
    expect(n).toBe(0);
    expect(Atomics.load(flags, 3)).toBe(0); // the worker saw readBatch blocked before it signalled
    expect(Atomics.load(flags, 2)).toBe(1);
    expect(dt).toBeLessThan(15_000); // it returned on the wake-up, not at its own 20 s timeout
    expect(a.pollReadable(wakeFd, 0)).toBe(true); // readBatch does not drain the wake fd
    expect(a.eventfdDrain(wakeFd)).toBe(1);
    expect(a.pollReadable(wakeFd, 0)).toBe(false);
    // Already signalled: returns at once.
    a.eventfdSignal(wakeFd);
    const t1 = performance.now();
    expect(dev!.readBatch(buf, 0, buf.length, 1514, offs, lens, 64, 5000, wakeFd, null)).toBe(0);
    expect(performance.now() - t1).toBeLessThan(100);
    a.eventfdDrain(wakeFd);
  });

  it('(c) READ_POLL_FIRST | READ_DRAIN_WAKE: queued frames are read after the poll; a wake-up ends the wait and empties the eventfd', () => {
    const a = loadTapAddon();
    const both = READ_POLL_FIRST | READ_DRAIN_WAKE;
    drain(dev!, null);
    a.eventfdDrain(wakeFd);
    spawnSync('ip', ['netns', 'exec', NS, 'ping', '-c', '3', '-W', '1', '-i', '0.2', '10.99.0.2'], { timeout: 15_000 });
    // Frames are waiting: poll() returns at once and the reads take them all.
    const t0 = performance.now();
    expect(dev!.readBatch(buf, 0, buf.length, 1514, offs, lens, 64, 5000, wakeFd, null, both)).toBeGreaterThanOrEqual(3);
    expect(performance.now() - t0).toBeLessThan(1000);
    // A signalled wake fd ends the wait with nothing read, and is left empty.
    a.eventfdSignal(wakeFd);
    a.eventfdSignal(wakeFd);
    const t1 = performance.now();
    expect(dev!.readBatch(buf, 0, buf.length, 1514, offs, lens, 64, 5000, wakeFd, null, both)).toBe(0);
    expect(performance.now() - t1).toBeLessThan(1000);
    expect(a.pollReadable(wakeFd, 0)).toBe(false);
    expect(a.eventfdDrain(wakeFd)).toBe(0);
    // Without READ_DRAIN_WAKE the wake-up is left for the caller.
    a.eventfdSignal(wakeFd);
    expect(dev!.readBatch(buf, 0, buf.length, 1514, offs, lens, 64, 5000, wakeFd, null, READ_POLL_FIRST)).toBe(0);
    expect(a.eventfdDrain(wakeFd)).toBe(1);
    // Nothing there and a timeout: the wait runs out.
    const t2 = performance.now();
    expect(dev!.readBatch(buf, 0, buf.length, 1514, offs, lens, 64, 150, wakeFd, null, both)).toBe(0);
    expect(performance.now() - t2).toBeGreaterThanOrEqual(140);
  });

  it('(d) vnet header mode: NEEDS_CSUM on a SYN, vnet writes, then a TCPv4 GSO super-frame', async () => {
    const d = vdev!;
    drain(d, vnet);
    const client = peer(['tcp-send', '10.99.1.2', '80', '14600', '4000']);
    /** Reads batches (each read waits up to 100 ms for a frame) until a frame matches; its index in the last batch. */
    const find = (what: string, pred: (i: number) => boolean): Promise<number> => waitFor(() => {
      const n = d.readBatch(buf, 0, buf.length, TAP_MAX_GSO_FRAME, offs, lens, 64, 100, -1, vnet);
      expect(n).toBeGreaterThanOrEqual(0);
      for (let i = 0; i < n; i++) if (pred(i)) return i;
      return undefined;
    }, { what, timeoutMs: 10_000 });
    const isTcp = (i: number): boolean => buf[offs[i] + 12] === 0x08 && buf[offs[i] + 13] === 0 && buf[offs[i] + 23] === 6;
    // The kernel's SYN towards 10.99.1.2:80 (once the peer process has started and connects).
    const s = await find("the kernel's SYN", (i) => isTcp(i) && buf[offs[i] + 47] === 0x02);
    const synHdr = decodeVnet(vnet, s);
    expect(synHdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM).toBe(VIRTIO_NET_HDR_F_NEEDS_CSUM); // TUN_F_CSUM: partial csum
    expect(synHdr.gsoType).toBe(VIRTIO_NET_HDR_GSO_NONE);
    expect(synHdr.csumStart).toBe(34); // Ethernet + IPv4
    expect(synHdr.csumOffset).toBe(16); // tcphdr.check
    const so = offs[s];
    const cport = (buf[so + 34] << 8) | buf[so + 35];
    const cseq = u32(buf, so + 38);
    // Answer SYN-ACK (MSS 1460, no window scaling, no timestamps) through a vnet writeBatch.
    const tcp = new Uint8Array(24);
    const ack = (cseq + 1) >>> 0;
    tcp.set([0, 80, cport >> 8, cport & 0xff, 0, 0, 0x03, 0xe8, ack >>> 24, (ack >>> 16) & 0xff, (ack >>> 8) & 0xff, ack & 0xff, 6 << 4, 0x12, 0xff, 0xff, 0, 0, 0, 0, 2, 4, 0x05, 0xb4]);
    const synack = buildFrame({ dstMac: vtapMac, srcMac: STACK_MAC, srcIp: '10.99.1.2', dstIp: '10.99.1.1', proto: 6, l4: tcp });
    const wo = 128 * 1024;
    buf.set(synack, wo);
    const wOffs = Int32Array.of(wo);
    const wLens = Int32Array.of(synack.length);
    const wVnet = new Uint8Array(VNET_HDR_LEN); // flags 0, GSO_NONE: the kernel checks our checksum
    const errors = new Int32Array(2);
    expect(d.writeBatch(buf, wOffs, wLens, 0, 1, wVnet, errors)).toBe(1);
    expect(Array.from(errors)).toEqual([0, 0]);
    // The kernel ACKs and sends its first flight (initial cwnd 10 x 1460) as a TSO frame.
    const g = await find('a TSO super-frame', (i) => isTcp(i) && decodeVnet(vnet, i).gsoType !== VIRTIO_NET_HDR_GSO_NONE);
    if (process.env.WT_DEBUG) console.log('gso frame', lens[g], decodeVnet(vnet, g));
    await client.waitLines("'connected'", (l) => l.includes('connected'));
    killChild(client.proc);
    const h = decodeVnet(vnet, g);
    expect(h.gsoType).toBe(VIRTIO_NET_HDR_GSO_TCPV4);
    expect(h.gsoSize).toBe(1460);
    expect(h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM).toBe(VIRTIO_NET_HDR_F_NEEDS_CSUM);
    expect(h.csumStart).toBe(34);
    expect(h.csumOffset).toBe(16);
    expect(h.hdrLen).toBeGreaterThanOrEqual(54);
    expect(lens[g]).toBeGreaterThan(1514);
    expect(lens[g]).toBeLessThanOrEqual(TAP_MAX_GSO_FRAME);
    expect(buf[offs[g] + 54]).toBe(0x78); // payload 'x'
  });

  it('(d) writeGatherWithHeaders: frames ending in pieces of other memory reach a kernel socket intact (decision 0051)', async () => {
    const d = vdev!;
    const rx = peer(['udp-recv', '10.99.1.1', '5557', '2', '5000']);
    await rx.waitLines("'ready'", (l) => l.includes('ready'));
    const payloads = [new Uint8Array(3000).map((_, i) => (i * 13) & 0xff), new Uint8Array(40).map((_, i) => i + 1)];
    const pieces: Uint8Array[] = [];
    const pOff = new Int32Array(4);
    const pLen = new Int32Array(4);
    const pFirst = new Int32Array(2);
    const pCount = new Int32Array(2);
    let off = 0;
    payloads.forEach((p, i) => {
      const f = buildFrame({ dstMac: vtapMac, srcMac: STACK_MAC, srcIp: '10.99.1.2', dstIp: '10.99.1.1', proto: 17, l4: udp(4000, 5557, p) });
      // A zero virtio_net_hdr (the kernel checks our checksum), then the headers in `buf`.
      buf.fill(0, off, off + VNET_HDR_LEN);
      buf.set(f.subarray(0, 42), off + VNET_HDR_LEN);
      offs[i] = off;
      lens[i] = VNET_HDR_LEN + 42;
      off = align16(off + VNET_HDR_LEN + 42);
      // The payload in two pieces of other arrays, the second at an offset into its array.
      const cut = 42 + Math.floor(p.length / 3);
      const second = new Uint8Array(f.length - cut + 5);
      second.set(f.subarray(cut), 5);
      pFirst[i] = pieces.length;
      pCount[i] = 2;
      pOff[pieces.length] = 0;
      pLen[pieces.length] = cut - 42;
      pieces.push(f.slice(42, cut));
      pOff[pieces.length] = 5;
      pLen[pieces.length] = f.length - cut;
      pieces.push(second);
    });
    const errors = new Int32Array(2);
    expect(d.writeGatherWithHeaders(buf, offs, lens, 0, 2, pFirst, pCount, pieces, pOff, pLen, errors)).toBe(2);
    expect(Array.from(errors)).toEqual([0, 0]);
    await rx.waitLines('2 datagrams', (l) => l.filter((x) => x.startsWith('{')).length >= 2);
    const got = rx.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { hex: string });
    expect(got.map((g) => g.hex)).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
    killChild(rx.proc);
    // A piece outside its array is refused before anything is written.
    pLen[1] = 1 << 20;
    expect(() => d.writeGatherWithHeaders(buf, offs, lens, 0, 1, pFirst, pCount, pieces, pOff, pLen, errors)).toThrow(RangeError);
  });

  it('(e) EBUSY: the TAP held by this process cannot be opened by another one', () => {
    const r = tapChild([{ op: 'open', name: TAP, vnet: false }]);
    expect(r).toMatchObject({ ok: false, code: 'EBUSY', syscall: 'TUNSETIFF' });
    const e = childTapError(r, TAP);
    expect(e).toBeInstanceOf(TapError);
    expect(e.code).toBe('EBUSY');
    expect(e.message).toContain(`${TAP} is in use by another process`);
  });

  it('(e) EINVAL: a persistent multi-queue TAP or a TUN of that name', () => {
    const mq = `wt-m${process.pid}`;
    const tun = `wt-u${process.pid}`;
    ip('-n', NS, 'tuntap', 'add', 'mode', 'tap', 'multi_queue', 'name', mq);
    ip('-n', NS, 'tuntap', 'add', 'mode', 'tun', 'name', tun);
    for (const name of [mq, tun]) {
      const r = tapChild([{ op: 'open', name, vnet: false }]);
      expect(r).toMatchObject({ ok: false, code: 'EINVAL', syscall: 'TUNSETIFF' });
      const e = childTapError(r, name);
      expect(e.code).toBe('EINVAL');
      expect(e.message).toMatch(/multi-queue TAP, a TUN device/);
    }
    ip('-n', NS, 'tuntap', 'del', 'mode', 'tap', 'multi_queue', 'name', mq);
    ip('-n', NS, 'tuntap', 'del', 'mode', 'tun', 'name', tun);
  });

  it('(e) EPERM without CAP_NET_ADMIN (root with an empty capability bounding set)', () => {
    const r = tapChild([{ op: 'open', name: `wt-e${process.pid}`, vnet: false }], ['setpriv', '--bounding-set=-all', '--inh-caps=-all']);
    expect(r).toMatchObject({ ok: false, code: 'EPERM', syscall: 'TUNSETIFF' });
    const e = childTapError(r, `wt-e${process.pid}`);
    expect(e.code).toBe('EPERM');
    expect(e.message).toContain('opening /dev/net/tun needs root or CAP_NET_ADMIN');
  });

  it('(e) EACCES (or EPERM where /dev/net/tun is 0666) for an unprivileged user', (ctx) => {
    const nobody = nodeAsNobody();
    if ('why' in nobody) {
      // Under CI a skip is a failure: there the unprivileged run must be possible.
      if (process.env.CI === 'true') throw new Error(`this test must run in CI: ${nobody.why}`);
      return ctx.skip();
    }
    // uid 65534 runs a world-readable copy of the fixture and the addon, wherever the checkout is.
    const copy = worldReadableCopy(['package.json', 'test/integration/fixtures/tap-child.mjs', 'build/Release/stackd_tap.node']);
    try {
      const r = tapChild([{ op: 'open', name: `wt-e${process.pid}`, vnet: false }], nobody.prefix, copy.root);
      expect(r).toMatchObject({ ok: false, ...unprivilegedTunFailure() });
      expect(childTapError(r, 'x').message).toContain('opening /dev/net/tun needs root or CAP_NET_ADMIN');
    } finally {
      copy.remove();
    }
  });

  it('(e) ENOENT when /dev/net/tun is missing (private mount namespace hides it)', () => {
    const r = spawnSync(
      'ip',
      ['netns', 'exec', NS, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs wt-empty /dev/net && exec "$0" "$@"`, process.execPath, join(FIX, 'tap-child.mjs'), JSON.stringify([{ op: 'open', name: 'wt-x', vnet: false }])],
      { encoding: 'utf8', timeout: 15_000 },
    );
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
    expect(res).toMatchObject({ ok: false, code: 'ENOENT', syscall: 'open' });
    expect(childTapError(res, 'x').message).toContain('/dev/net/tun is missing: load the tun module or pass --device /dev/net/tun to the container');
  });

  it('(e) TapDevice.open maps a too-long name to TapError EINVAL; bad arguments throw TypeError/RangeError', () => {
    let err: unknown;
    try {
      TapDevice.open('wt-this-name-is-too-long', { up: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TapError);
    expect((err as TapError).code).toBe('EINVAL');
    expect((err as TapError).message).toContain('too long');
    expect(() => TapDevice.open('wt-x', { offload: TUN_F_CSUM | TUN_F_TSO4 })).toThrow(/needs vnetHdr/);
    const a = loadTapAddon();
    expect(() => a.readBatch('3' as unknown as number, buf, 0, 10, 1, offs, lens, 1, 0, -1, null)).toThrow(TypeError);
    expect(() => a.readBatch(dev!.fd, new Int32Array(4) as unknown as Uint8Array, 0, 10, 1, offs, lens, 1, 0, -1, null)).toThrow(TypeError);
    expect(() => a.readBatch(dev!.fd, buf, 0, buf.length + 1, 1514, offs, lens, 1, 0, -1, null)).toThrow(RangeError);
    expect(() => a.writeBatch(dev!.fd, buf, offs, lens, 60, 10, null, new Int32Array(2))).toThrow(RangeError);
    expect(() => dev!.readBatch(buf, 0, 10, 1, offs, lens, 1, 0, -1, vnet)).toThrow(TypeError); // vnet on a plain TAP
  });

  it('(e) writeBatch skips and counts frames the kernel rejects (EINVAL runt, EIO link down)', () => {
    const errors = new Int32Array(2);
    offs[0] = 0;
    lens[0] = 4; // shorter than an Ethernet header
    expect(dev!.writeBatch(buf, offs, lens, 0, 1, null, errors)).toBe(1);
    expect(Array.from(errors)).toEqual([1, 22]);
    ip('-n', NS, 'link', 'set', 'dev', TAP, 'down');
    try {
      const f = buildFrame({ dstMac: tapMac, srcMac: STACK_MAC, srcIp: '10.99.0.2', dstIp: '10.99.0.1', proto: 17, l4: udp(4000, 5556, new Uint8Array(8)) });
      buf.set(f, 0);
      offs[0] = 0;
      offs[1] = 0;
      lens[0] = lens[1] = f.length;
      expect(dev!.writeBatch(buf, offs, lens, 0, 2, null, errors)).toBe(2);
      expect(Array.from(errors)).toEqual([3, 5]); // EIO
      expect(dev!.readBatch(buf, 0, buf.length, 1514, offs, lens, 64, 0, -1, null)).toBeLessThanOrEqual(0);
    } finally {
      ip('-n', NS, 'link', 'set', 'dev', TAP, 'up');
      ip('-n', NS, 'neigh', 'replace', '10.99.0.2', 'lladdr', STACK_MAC, 'dev', TAP, 'nud', 'permanent');
    }
  });

  it('attaches to a persistent TAP made by `ip tuntap add`, and linkUp sets MTU and IFF_UP', () => {
    const p = `wt-p${process.pid}`;
    ip('-n', NS, 'tuntap', 'add', 'mode', 'tap', 'name', p);
    expect(linkInfo(p)!.flags).not.toContain('UP');
    const r = tapChild([{ op: 'open', name: p, vnet: false }, { op: 'linkUp', mtu: 1400 }]);
    expect(r.ok).toBe(true);
    expect((r.results[0] as { name: string }).name).toBe(p);
    const info = linkInfo(p)!;
    expect(info.mtu).toBe(1400);
    expect(info.flags).toContain('UP');
    // linkUp with mtu 0 leaves the MTU alone.
    expect(tapChild([{ op: 'open', name: p, vnet: true }, { op: 'linkUp', mtu: 0 }]).ok).toBe(true);
    expect(linkInfo(p)!.mtu).toBe(1400);
    ip('-n', NS, 'tuntap', 'del', 'mode', 'tap', 'name', p);
  });

  it('setPersist keeps a TAP after its fd closes, and unsetting it lets it go', () => {
    const q = `wt-q${process.pid}`;
    expect(tapChild([{ op: 'open', name: q, vnet: false }]).ok).toBe(true);
    expect(linkInfo(q)).toBeUndefined(); // non-persistent: gone with the child
    expect(tapChild([{ op: 'open', name: q, vnet: false }, { op: 'persist', on: true }]).ok).toBe(true);
    expect(linkInfo(q)).toBeDefined();
    expect(tapChild([{ op: 'open', name: q, vnet: false }, { op: 'persist', on: false }]).ok).toBe(true);
    expect(linkInfo(q)).toBeUndefined();
  });

  it('close() is idempotent and a closed device reads -EBADF', () => {
    const d = dev!;
    dev = undefined;
    d.close();
    d.close();
    expect(d.closed).toBe(true);
    expect(d.fd).toBe(-1);
    expect(d.readBatch(buf, 0, buf.length, 1514, offs, lens, 64, 0, -1, null)).toBe(-9); // -EBADF
    expect(linkInfo(TAP)).toBeUndefined(); // non-persistent: gone with its fd
  });
});
