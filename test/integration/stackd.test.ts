/**
 * stackd against the real Linux stack, in the namespace lab: ping (100 and a 4000-byte
 * one that travels fragmented), arping, UDP echo with nc, port unreachable seen by a
 * Linux client, bad frames dropped and counted by reason while the stack keeps answering,
 * /stats with 4 workers, the threads' scheduling classes (with and without
 * --no-batch-helpers), and a clean SIGTERM shutdown.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNs, labDown, labUp, nsName, requireNetOrSkip } from '../helpers/lab.js';
import { startStackd, stopIfStarted, threadCpus, threadPolicies, type StackdHandle } from '../helpers/stackd-process.js';
import { formatCpuList } from '../../src/control/cpu-plan.js';
import { waitFor } from '../helpers/wait-for.js';

const LAB = `sd${process.pid % 10000}`;
const HOST = nsName(LAB, 'host');
const C1 = nsName(LAB, 'c1');
const STACK = '10.10.0.4';

describe.skipIf(requireNetOrSkip())('stackd in the namespace lab (real Linux peers)', () => {
  let stackd: StackdHandle;

  beforeAll(async () => {
    labUp(LAB, { clients: 2 });
    stackd = await startStackd(HOST, ['--workers', '4', '--tap', 'tap0']);
  });

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB);
  });

  it('answers 100 pings with 0% loss, from the I/O thread (decision 0045: no worker on the path of a plain echo)', async () => {
    const before = (await stackd.stats()).threads[0].counters.icmp_echo_fast_path;
    const r = inNs(C1, 'ping', ['-c', '100', '-i', '0.01', '-W', '1', '-q', STACK], { timeoutMs: 30_000 });
    expect(r.stdout).toMatch(/100 packets transmitted, 100 received, 0% packet loss/);
    const st = await stackd.stats();
    expect(st.threads[0].thread).toBe('io');
    expect(st.threads[0].counters.icmp_echo_fast_path - before).toBe(100);
  });

  it('answers a 4000-byte ping (fragmented both ways) with identical data', () => {
    const r = inNs(C1, 'ping', ['-c', '3', '-s', '4000', '-p', 'a5c3', '-W', '2', STACK], { timeoutMs: 20_000 });
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(r.stdout).toMatch(/4008 bytes from 10\.10\.0\.4/);
    // ping reports corrupted data as "wrong data byte"; none may appear.
    expect(r.stdout).not.toMatch(/wrong data|DUP!/);
  });

  it('answers arping with exactly one reply per request, from our MAC', async () => {
    const r = inNs(C1, 'arping', ['-c', '3', '-w', '5', '-I', 'eth0', STACK], { timeoutMs: 20_000 });
    // Debian's arping (Thomas Habets'): "3 packets transmitted, 3 packets received, 0% unanswered (0 extra)";
    // "(0 extra)" means no request got a second reply (one worker answers, not four).
    expect(r.stdout).toMatch(/3 packets transmitted, 3 packets received, +0% unanswered \(0 extra\)/);
    const mac = (await stackd.stats()).mac;
    expect(r.stdout.toLowerCase()).toContain(`60 bytes from ${mac} (10.10.0.4)`);
  });

  it('echoes UDP on port 7 to nc -u', () => {
    const r = inNs(C1, 'bash', ['-c', `printf 'hello from linux\\n' | nc -u -w1 ${STACK} 7`], { timeoutMs: 10_000 });
    expect(r.stdout).toBe('hello from linux\n');
  });

  it('echoes UDP datagrams from many source ports, spread over the workers', async () => {
    const script = `
import socket
ok = 0
for i in range(64):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    msg = ("datagram %d " % i).encode() * 10
    s.sendto(msg, ("${STACK}", 7))
    data, _ = s.recvfrom(4096)
    ok += data == msg
    s.close()
print(ok)
`;
    const r = inNs(C1, 'python3', ['-c', script], { timeoutMs: 30_000 });
    expect(r.stdout.trim()).toBe('64');
    const st = await stackd.stats();
    const perWorker = st.threads.filter((t) => t.thread.startsWith('worker-')).map((t) => t.counters.udp_rx);
    expect(perWorker).toHaveLength(4);
    expect(perWorker.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
  });

  it('a Linux client sees port unreachable for a closed UDP port', () => {
    const script = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(("${STACK}", 9999))
s.send(b"anyone?")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
`;
    const r = inNs(C1, 'python3', ['-c', script], { timeoutMs: 10_000 });
    expect(r.stdout.trim()).toBe('refused');
  });

  it('drops bad frames by named reason and keeps answering', async () => {
    const before = (await stackd.stats()).totals;
    // Raw frames from the client's eth0 (AF_PACKET), addressed to stackd's MAC.
    const mac = (await stackd.stats()).mac;
    const script = `
import socket, struct, random
dst = bytes.fromhex("${mac.replace(/:/g, '')}")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
src = s.getsockname()[4]
def csum(b):
    if len(b) % 2: b += b"\\0"
    t = sum(struct.unpack("!%dH" % (len(b)//2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return (~t) & 0xffff
def ip(payload, proto=1, ihl=5, total=None, ver=4, bad_sum=False, frag=0, ident=1):
    total = total if total is not None else 20 + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", (ver << 4) | ihl, 0, total, ident, frag, 64, proto, 0,
                    socket.inet_aton("10.10.0.3"), socket.inet_aton("${STACK}"))
    c = csum(h)
    if bad_sum: c ^= 0xffff
    h = h[:10] + struct.pack("!H", c) + h[12:]
    return h + payload
def eth(t, body):
    s.send(dst + src + struct.pack("!H", t) + body)
echo = b"\\x08\\x00\\xf7\\xff" + b"\\0" * 4
eth(0x0800, b"\\x45\\x00")                              # truncated IPv4
eth(0x0800, ip(echo, bad_sum=True))                     # bad header checksum
eth(0x0800, ip(echo, ihl=4))                            # IHL < 5
eth(0x0800, ip(echo, total=1400))                       # total length beyond the frame
eth(0x0800, ip(echo, ver=6))                            # wrong version
eth(0x0806, b"\\x00\\x01\\x08\\x00\\x05\\x04" + b"\\0" * 22)  # ARP with hlen 5
# overlapping fragments: 0..1480 then 8..1488
eth(0x0800, ip(b"A" * 1480, proto=17, frag=0x2000, ident=77))
eth(0x0800, ip(b"B" * 1480, proto=17, frag=0x2000 | 1, ident=77))
# oversized: offset 8189*8 + 1000 > 65535
eth(0x0800, ip(b"C" * 1000, proto=17, frag=8189, ident=78))
random.seed(7)
for i in range(200):
    eth(random.choice([0x0800, 0x0806, 0x1234]), bytes(random.getrandbits(8) for _ in range(random.randint(0, 120))))
print("sent")
`;
    const r = inNs(C1, 'python3', ['-c', script], { timeoutMs: 20_000 });
    expect(r.stdout.trim()).toBe('sent');
    // The frames cross the bridge and the I/O thread into the workers: wait until the stack
    // has read all 209 and every named reason has counted its frame.
    const named = ['drop_ipv4_truncated', 'drop_ipv4_checksum', 'drop_ipv4_ihl', 'drop_ipv4_total_length', 'drop_ipv4_version',
      'drop_arp_malformed', 'drop_reasm_overlap', 'drop_reasm_oversize'];
    let after = before;
    const grew = (k: string) => after[k] - before[k];
    await waitFor(async () => {
      after = (await stackd.stats()).totals;
      return grew('tap_rx_frames') >= 209 && named.every((k) => grew(k) >= 1);
    }, {
      what: 'the stack to read and count the bad frames', timeoutMs: 20_000, intervalMs: 50,
      detail: () => ['tap_rx_frames', ...named].map((k) => `${k} +${grew(k)}`).join(', '),
    });
    expect(grew('drop_ipv4_truncated')).toBeGreaterThanOrEqual(1);
    expect(grew('drop_ipv4_checksum')).toBeGreaterThanOrEqual(1);
    expect(grew('drop_ipv4_ihl')).toBeGreaterThanOrEqual(1);
    expect(grew('drop_ipv4_total_length')).toBeGreaterThanOrEqual(1);
    expect(grew('drop_ipv4_version')).toBeGreaterThanOrEqual(1);
    expect(grew('drop_arp_malformed')).toBeGreaterThanOrEqual(1);
    expect(grew('drop_reasm_overlap')).toBe(1);
    expect(grew('drop_reasm_oversize')).toBeGreaterThanOrEqual(1);
    expect(after.drop_internal_error).toBe(0);
    const ping = inNs(C1, 'ping', ['-c', '3', '-i', '0.2', '-W', '1', STACK], { timeoutMs: 10_000 });
    expect(ping.stdout).toMatch(/3 received/);
  });

  it('runs its 4 workers on min(4, CPUs - 1) threads, so the threads never outnumber the CPUs by default (no warning)', async () => {
    const threads = Math.max(1, Math.min(4, availableParallelism() - 1));
    expect((await stackd.stats()).workerThreads).toBe(threads);
    expect(stackd.output().includes('more data-plane threads')).toBe(false);
  });

  it('runs the data plane (the I/O thread and each worker thread) as SCHED_OTHER and every other thread, the main one first, as SCHED_BATCH (decision 0049)', async () => {
    const { workerThreads } = await stackd.stats();
    const pid = stackd.proc.pid!;
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('node'); // ip netns exec ran it in place
    const policies = threadPolicies(pid);
    expect(policies.get(pid)).toBe(3);
    const other = [...policies.values()].filter((p) => p === 0).length;
    const batch = [...policies.values()].filter((p) => p === 3).length;
    expect(other).toBe(1 + workerThreads);
    expect(batch).toBe(policies.size - other);
    expect(batch).toBeGreaterThanOrEqual(2); // the main thread and V8's helpers at least
  });

  it('binds each worker thread to a CPU of its own from the process mask, and no other thread: the I/O thread stays free (decision 0053)', async () => {
    const pid = stackd.proc.pid!;
    const all = threadCpus(pid, pid); // the main thread is never bound: the process's CPUs
    // At rest the I/O thread may run anywhere (decision 0054: it narrows its set only while a worker thread sends bulk data).
    const st = await waitFor(async () => {
      const s = await stackd.stats();
      return s.dataPlaneThreads.length > 0 && threadCpus(pid, s.dataPlaneThreads[0].tid).length === all.length && s;
    }, { what: 'the I/O thread free to run on every CPU' });
    expect(st.dataPlaneThreads[0].thread).toBe('io');
    if (st.workerThreads === 1) expect(st.dataPlaneThreads[1].thread).toBe('workers-0-1-2-3');
    expect(st.dataPlaneThreads).toHaveLength(1 + st.workerThreads);
    const cpus = st.dataPlaneThreads.map((t) => threadCpus(pid, t.tid));
    expect(st.dataPlaneThreads.map((t) => t.cpus)).toEqual(cpus.map((c) => formatCpuList(c)));
    const workers = cpus.slice(1);
    if (all.length >= 1 + st.workerThreads) {
      expect(st.cpuAffinity).toEqual({ mode: 'workers', unboundBecause: null });
      expect(workers).toEqual(all.slice(0, st.workerThreads).map((c) => [c])); // worker thread t: the t-th CPU
    } else {
      expect(st.cpuAffinity.unboundBecause).toMatch(/data-plane threads/);
      expect(workers.every((c) => c.length === all.length)).toBe(true);
    }
    // Every other thread (the I/O thread, V8's helpers, libuv's pool) may still run anywhere.
    const dataPlane = new Set(st.dataPlaneThreads.slice(1).map((t) => t.tid));
    for (const tid of threadPolicies(pid).keys()) if (!dataPlane.has(tid)) expect(threadCpus(pid, tid), `thread ${tid}`).toEqual(all);
    expect(stackd.output().includes('could not bind')).toBe(false);
  });

  it('while a worker thread sends a download the I/O thread leaves its CPU, and takes it back once the download ends (decision 0054)', async () => {
    const pid = stackd.proc.pid!;
    const all = threadCpus(pid, pid);
    const st = await stackd.stats();
    const io = st.dataPlaneThreads[0].tid;
    const workerCpus = new Set(st.dataPlaneThreads.slice(1).flatMap((t) => threadCpus(pid, t.tid)));
    const bound = st.cpuAffinity.unboundBecause === null;
    const counter = async (): Promise<number> => (await stackd.stats()).threads[0].counters.io_cpu_moves;
    const movesBefore = await counter();
    // A download of up to 64 GiB keeps the worker thread busy until it is stopped.
    const curl = spawn('ip', ['netns', 'exec', C1, 'curl', '-s', '-m', '60', '-o', '/dev/null', `http://${STACK}/bytes/${64 * 2 ** 30}`], { stdio: 'ignore' });
    try {
      if (bound) {
        const away = await waitFor(() => {
          const cpus = threadCpus(pid, io);
          return cpus.every((c) => !workerCpus.has(c)) && cpus;
        }, { what: 'the I/O thread off the worker thread\'s CPU', detail: () => `on ${formatCpuList(threadCpus(pid, io))}` });
        expect(away).toEqual(all.filter((c) => !workerCpus.has(c)));
        expect((await stackd.stats()).dataPlaneThreads[0].cpus).toBe(formatCpuList(away)); // /stats says where it is now
      }
    } finally {
      curl.kill();
    }
    await waitFor(() => threadCpus(pid, io).length === all.length, { what: 'the I/O thread free again' });
    // Away and back (twice that if the worker rested in between); unbound worker threads (a single CPU): never.
    const moves = (await counter()) - movesBefore;
    expect(moves % 2).toBe(0);
    if (bound) expect(moves).toBeGreaterThanOrEqual(2);
    else expect(moves).toBe(0);
  });

  it('/stats shows 4 workers, per-thread frames and ring marks; /metrics and /latency answer', async () => {
    const st = await stackd.stats();
    expect(st.workers).toBe(4);
    expect(st.threads.map((t) => t.thread)).toEqual(['io', 'worker-0', 'worker-1', 'worker-2', 'worker-3']);
    expect(st.threads[0].counters.tap_rx_frames).toBeGreaterThan(100);
    expect(st.totals.icmp_echo_replies_tx).toBeGreaterThanOrEqual(100);
    expect(st.rings).toHaveLength(8);
    expect(st.rings.every((r) => r.highWater > 0 || r.records === 0)).toBe(true);
    expect(st.totals.arp_cache_entries).toBeGreaterThanOrEqual(1);
    // Every data-plane thread reports its V8 heap, once (workers sharing a thread: its first
    // one); the process its RSS, which holds them all.
    const reporting = st.threads.filter((t) => t.counters.heap_total_bytes > 1 << 20).map((t) => t.thread);
    expect(reporting).toHaveLength(1 + st.workerThreads);
    expect(reporting[0]).toBe('io');
    expect(st.rssBytes).toBeGreaterThan(st.totals.heap_total_bytes);
    // busy_us (stackctl top's busy %): every thread worked, and an all but idle stack spent
    // most of its life parked, which is not counted.
    for (const t of st.threads) {
      expect(t.counters.busy_us, t.thread).toBeGreaterThan(0);
      expect(t.counters.busy_us, t.thread).toBeLessThan(0.5 * st.uptimeSeconds * 1e6);
    }
    const { controlRequest } = await import('../../src/control/control-client.js');
    const m = await controlRequest(stackd.control, '/metrics');
    expect(m.status).toBe(200);
    expect(m.body).toMatch(/^stackd_tap_rx_frames_total\{thread="io"\} \d+$/m);
    expect(m.body).toMatch(/^stackd_workers 4$/m);
    const l = JSON.parse((await controlRequest(stackd.control, '/latency')).body) as { threads: Array<{ thread: string; stages: Partial<Record<string, { count: number }>> }> };
    expect(l.threads).toHaveLength(5);
    // Replies are written by the I/O thread (busy worker) or by the worker itself (idle
    // worker, tx-path.ts): the end-to-end stage is recorded wherever the write happened.
    const totals = l.threads.reduce((n, t) => n + (t.stages.total?.count ?? 0), 0);
    expect(totals).toBeGreaterThan(100);
    expect(st.totals.tx_direct_frames + st.totals.tx_ring_frames).toBe(st.totals.tx_frames);
  });

  it('shuts down on SIGTERM within 2 s and releases the TAP', async () => {
    const { code, ms } = await stackd.stop();
    expect(code).toBe(0);
    expect(ms).toBeLessThan(2000);
    const link = inNs(HOST, 'ip', ['link', 'show', 'tap0']);
    expect(link.stdout).toMatch(/NO-CARRIER/);
  });
});

describe.skipIf(requireNetOrSkip())('stackd --busy-poll (a worker and the I/O thread poll after traffic, then sleep)', () => {
  const LAB2 = `sb${process.pid % 10000}`;
  let stackd: StackdHandle;

  beforeAll(async () => {
    labUp(LAB2, { clients: 1 });
    stackd = await startStackd(nsName(LAB2, 'host'), ['--workers', '1', '--tap', 'tap0', '--busy-poll', '100000']);
  });

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB2);
  });

  const polls = async (): Promise<number> => (await stackd.stats()).totals.worker_busy_polls;

  it('polls between pings 10 ms apart, stops polling 100 ms after the last frame, and a sleeping worker still answers', async () => {
    const c1 = nsName(LAB2, 'c1');
    // 600 bytes of payload: beyond what the I/O thread answers itself (decision 0045), so
    // every echo goes to the worker.
    const r = inNs(c1, 'ping', ['-c', '20', '-i', '0.01', '-s', '600', '-W', '1', '-q', STACK], { timeoutMs: 20_000 });
    expect(r.stdout).toMatch(/20 packets transmitted, 20 received/);
    expect(await polls()).toBeGreaterThan(0);
    // Once frames stop, the count stops growing: the worker went to sleep.
    let last = -1;
    await waitFor(async () => {
      const now = await polls();
      const still = now === last;
      last = now;
      return still;
    }, { what: 'worker_busy_polls to stop growing', timeoutMs: 10_000, intervalMs: 300 });
    const wakeups = (await stackd.stats()).totals.worker_wakeups;
    // Pings 200 ms apart each find the worker asleep (the window is 100 ms): woken, answered.
    const again = inNs(c1, 'ping', ['-c', '3', '-i', '0.2', '-s', '600', '-W', '1', '-q', STACK], { timeoutMs: 10_000 });
    expect(again.stdout).toMatch(/3 packets transmitted, 3 received/);
    expect((await stackd.stats()).totals.worker_wakeups).toBeGreaterThan(wakeups);
  });

  it('the I/O thread polls too: plain pings, which it answers itself, keep it polling; once they stop it sleeps, and a ping wakes it', async () => {
    const c1 = nsName(LAB2, 'c1');
    const io = async () => (await stackd.stats()).threads[0].counters;
    const before = await io();
    const r = inNs(c1, 'ping', ['-c', '20', '-i', '0.01', '-W', '1', '-q', STACK], { timeoutMs: 20_000 });
    expect(r.stdout).toMatch(/20 packets transmitted, 20 received/);
    const after = await io();
    expect(after.icmp_echo_fast_path - before.icmp_echo_fast_path).toBe(20);
    expect(after.io_busy_polls).toBeGreaterThan(before.io_busy_polls);
    let last = -1;
    await waitFor(async () => {
      const now = (await io()).io_busy_polls;
      const still = now === last;
      last = now;
      return still;
    }, { what: 'io_busy_polls to stop growing', timeoutMs: 10_000, intervalMs: 300 });
    const again = inNs(c1, 'ping', ['-c', '3', '-i', '0.2', '-W', '1', '-q', STACK], { timeoutMs: 10_000 });
    expect(again.stdout).toMatch(/3 packets transmitted, 3 received/);
  });
});

describe.skipIf(requireNetOrSkip())('stackd --no-batch-helpers', () => {
  const LAB3 = `sn${process.pid % 10000}`;
  let stackd: StackdHandle;

  beforeAll(async () => {
    labUp(LAB3, { clients: 1 });
    stackd = await startStackd(nsName(LAB3, 'host'), ['--workers', '2', '--threads', '2', '--tap', 'tap0', '--no-batch-helpers']);
  });

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB3);
  });

  it('leaves every thread SCHED_OTHER, as it started', async () => {
    expect((await stackd.stats()).workerThreads).toBe(2);
    const policies = threadPolicies(stackd.proc.pid!);
    expect(policies.size).toBeGreaterThan(3);
    expect([...policies.values()].every((p) => p === 0)).toBe(true);
  });
});
