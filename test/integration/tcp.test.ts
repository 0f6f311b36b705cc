/**
 * TCP against the real Linux TCP, from the lab's client namespace: nc echo, a 50 MB
 * round trip through echo, curl GET / and a 100 MB download checked byte for byte, a
 * 100 MB POST to /sink, 1000 sequential connections, 200 concurrent curl and nc clients
 * spread over 4 workers, wrk, and the 50 MB transfers again under 3% random loss each way
 * (an nftables rule in the client namespace: kernel-side, independent of our code), plus
 * under that loss an application (test/fixtures/buffer-reuse-app.mjs) that refills one
 * buffer in each write callback, as Node's write contract allows.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/control-client.js';
import type { ConnectionInfo } from '../../src/control/types.js';
import { bashIn as sh, inNs, labDown, labUp, nsName, requireNetOrSkip } from '../helpers/lab.js';
import { writeRandomFile } from '../helpers/random-file.js';
import { startStackd, stopIfStarted, type StackdHandle } from '../helpers/stackd-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { stackctl } from '../helpers/ops-tools.js';
import { DEFAULT_BLOCKS, PORT as REUSE_PORT, expectedStream } from '../fixtures/buffer-reuse-app.mjs';

const LAB = `tc${process.pid % 10000}`;
const HOST = nsName(LAB, 'host');
const C1 = nsName(LAB, 'c1');
const STACK = '10.10.0.4';
const MB = 1024 * 1024;
/** An application that refills one buffer in each write callback (Node's write contract). */
const REUSE_APP = fileURLToPath(new URL('../fixtures/buffer-reuse-app.mjs', import.meta.url));

/** sha256 of the first n bytes of GET /bytes/N's pattern: byte i = (j·0x9E3779B1 mod 2^32) >> 24, j = i mod 65521. */
function patternSha256(n: number): string {
  const period = Buffer.alloc(65521);
  for (let j = 0; j < 65521; j++) period[j] = Math.imul(j, 0x9e3779b1) >>> 24;
  const h = createHash('sha256');
  let left = n;
  while (left > 0) {
    const k = Math.min(left, period.length);
    h.update(period.subarray(0, k));
    left -= k;
  }
  return h.digest('hex');
}

describe.skipIf(requireNetOrSkip())('TCP with real Linux clients (nc, curl, wrk)', () => {
  let stackd: StackdHandle;
  let dir: string;
  let file50: string;
  let sha50: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stackd-tcp-'));
    file50 = join(dir, 'random50');
    sha50 = writeRandomFile(file50, 50 * MB);
    labUp(LAB, { clients: 1 });
    stackd = await startStackd(HOST, ['--workers', '4', '--tap', 'tap0', '--app', REUSE_APP]);
  });

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs with virtio-net offload: the kernel hands us GRO super-frames and takes our TSO ones', async () => {
    expect((await stackd.stats()).offload).toBe(true);
  });

  it('nc echo round trip', () => {
    const r = sh(C1, `printf 'hello over tcp\\n' | nc -N -w 5 ${STACK} 7`);
    expect(r.stdout).toBe('hello over tcp\n');
  });

  it('a 50 MB random file through echo comes back byte-identical (nc -N)', async () => {
    const before = (await stackd.stats()).threads[0].counters;
    const r = sh(C1, `nc -N -w 20 ${STACK} 7 < ${file50} | sha256sum`);
    expect(r.stdout.split(' ')[0]).toBe(sha50);
    const after = (await stackd.stats()).threads[0].counters;
    // GRO: on average far more than one MTU per frame read from the TAP.
    const avg = (after.tap_rx_bytes - before.tap_rx_bytes) / (after.tap_rx_frames - before.tap_rx_frames);
    expect(avg).toBeGreaterThan(3000);
  });

  it('curl GET / answers 200 with the stats page', () => {
    const r = sh(C1, `curl -s -m 10 -w '\\n%{http_code}' http://${STACK}/`);
    expect(r.stdout).toMatch(/<h1>stackd<\/h1>/);
    expect(r.stdout.trim().split('\n').pop()).toBe('200');
  });

  it('curl GET /bytes/104857600: size and sha256 as the pattern says', () => {
    const r = sh(C1, `curl -s -m 60 http://${STACK}/bytes/104857600 | tee >(wc -c >&2) | sha256sum`);
    expect(r.stdout.split(' ')[0]).toBe(patternSha256(104857600));
    expect(r.stderr.trim()).toBe('104857600');
  });

  it('POST /sink of 100 MB answers the byte count and sha256', () => {
    const r = sh(C1, `cat ${file50} ${file50} | curl -s -m 60 -H 'Content-Type: application/octet-stream' --data-binary @- http://${STACK}/sink`);
    const expected = createHash('sha256');
    const d = readFileSync(file50);
    expected.update(d).update(d);
    expect(JSON.parse(r.stdout)).toEqual({ bytes: 100 * MB, sha256: expected.digest('hex') });
  });

  it('1000 sequential short connections all succeed', () => {
    const script = `
import socket
ok = 0
for i in range(1000):
    s = socket.create_connection(("${STACK}", 7), timeout=5)
    msg = b"conn %d\\n" % i
    s.sendall(msg)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        d = s.recv(100)
        if not d: break
        got += d
    s.close()
    ok += got == msg
print(ok)
`;
    const r = inNs(C1, 'python3', ['-c', script], { timeoutMs: 120_000 });
    expect(r.stdout.trim()).toBe('1000');
  });

  it('200 concurrent curl and 200 concurrent nc clients all succeed, spread over 4 workers', async () => {
    const before = (await stackd.stats()).threads.map((t) => t.counters.tcp_passive_opens);
    const curl = sh(C1, `for i in $(seq 1 200); do curl -s -m 30 -o /dev/null -w '%{http_code}\\n' http://${STACK}/ & done; wait`);
    expect(curl.stdout.trim().split('\n').filter((l) => l === '200')).toHaveLength(200);
    const nc = sh(C1, `for i in $(seq 1 200); do (printf "client $i\\n" | nc -N -w 20 ${STACK} 7) & done; wait`);
    const lines = nc.stdout.trim().split('\n').sort();
    expect(lines).toHaveLength(200);
    expect(new Set(lines).size).toBe(200);
    const after = (await stackd.stats()).threads.map((t) => t.counters.tcp_passive_opens);
    const perWorker = after.slice(1).map((v, i) => v - before[i + 1]);
    expect(perWorker).toHaveLength(4);
    for (const n of perWorker) expect(n).toBeGreaterThan(20);
    // Afterwards nothing is left but TIME_WAIT (the clients closed first, so there is none
    // here): the last ACKs of our FINs may still be on their way, so wait for that state.
    let left: ConnectionInfo[] = [];
    await waitFor(async () => {
      const conns = JSON.parse((await controlRequest(stackd.control, '/connections')).body) as ConnectionInfo[];
      left = conns.filter((c) => c.state !== 'TIME_WAIT');
      return left.length === 0;
    }, { what: 'only TIME_WAIT connections left', timeoutMs: 20_000, intervalMs: 50, detail: () => JSON.stringify(left.slice(0, 5)) });
  });

  it('wrk for 10 s with keep-alive: no socket errors', () => {
    const r = sh(C1, `wrk -t2 -c32 -d10s http://${STACK}/`, 60_000);
    expect(r.stdout).toMatch(/requests in/);
    expect(r.stdout).not.toMatch(/Socket errors/);
    expect(r.stdout).not.toMatch(/Non-2xx/);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
    expect(rps).toBeGreaterThan(100);
  });

  describe('under 3% random loss each way (nftables in the client namespace)', () => {
    beforeAll(() => {
      const rules = `
table inet lossy {
  chain in { type filter hook input priority 0; numgen random mod 100 < 3 drop; }
  chain out { type filter hook output priority 0; numgen random mod 100 < 3 drop; }
}`;
      const r = inNs(C1, 'nft', ['-f', '-'], { input: rules });
      expect(r.status, r.stderr).toBe(0);
    });

    afterAll(() => {
      inNs(C1, 'nft', ['delete', 'table', 'inet', 'lossy']);
    });

    it('the 50 MB echo still comes back byte-identical', async () => {
      const before = (await stackd.stats()).totals;
      const r = sh(C1, `nc -N -w 60 ${STACK} 7 < ${file50} | sha256sum`, 240_000);
      expect(r.stdout.split(' ')[0]).toBe(sha50);
      const after = (await stackd.stats()).totals;
      expect(after.tcp_retransmits - before.tcp_retransmits).toBeGreaterThan(0);
    });

    it('a 50 MB download still arrives byte-identical', () => {
      const r = sh(C1, `curl -s -m 200 http://${STACK}/bytes/${50 * MB} | sha256sum`, 240_000);
      expect(r.stdout.split(' ')[0]).toBe(patternSha256(50 * MB));
    });

    it('an application that refills one buffer in each write callback: what arrives is what it wrote', async () => {
      const expected = expectedStream(DEFAULT_BLOCKS);
      const before = (await stackd.stats()).totals;
      const r = sh(C1, `nc -d -w 30 ${STACK} ${REUSE_PORT} | tee >(wc -c >&2) | sha256sum`, 120_000);
      expect(Number(r.stderr.trim())).toBe(expected.length);
      expect(r.stdout.split(' ')[0]).toBe(createHash('sha256').update(expected).digest('hex'));
      const after = (await stackd.stats()).totals;
      expect(after.tcp_retransmits - before.tcp_retransmits).toBeGreaterThan(0);
    });
  });
});

describe.skipIf(requireNetOrSkip())('TCP without offload (--no-offload: plain MTU-sized frames, checksums in software)', () => {
  const LAB2 = `tn${process.pid % 10000}`;
  let stackd: StackdHandle;

  beforeAll(async () => {
    labUp(LAB2, { clients: 1 });
    stackd = await startStackd(nsName(LAB2, 'host'), ['--workers', '2', '--tap', 'tap0', '--no-offload']);
  });

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB2);
  });

  it('reports offload off, echoes 20 MB and serves 100 MB byte-identical', async () => {
    expect((await stackd.stats()).offload).toBe(false);
    const c1 = nsName(LAB2, 'c1');
    const echo = sh(c1, `head -c 20971520 /dev/zero | tr '\\0' 'x' | nc -N -w 20 ${STACK} 7 | sha256sum`);
    const expected = createHash('sha256').update(Buffer.alloc(20971520, 'x')).digest('hex');
    expect(echo.stdout.split(' ')[0]).toBe(expected);
    const dl = sh(c1, `curl -s -m 60 http://${STACK}/bytes/104857600 | sha256sum`);
    expect(dl.stdout.split(' ')[0]).toBe(patternSha256(104857600));
    const st = await stackd.stats();
    // Without GRO every frame the stack reads is at most MTU-sized.
    expect(st.totals.tap_rx_bytes / st.totals.tap_rx_frames).toBeLessThanOrEqual(1514);
  });
});


describe.skipIf(requireNetOrSkip())('TCP with --cc bbr under 3% random loss each way, segment by segment (client offloads off)', () => {
  const LAB3 = `tb${process.pid % 10000}`;
  let stackd: StackdHandle;

  beforeAll(async () => {
    labUp(LAB3, { clients: 1 });
    const c1 = nsName(LAB3, 'c1');
    // The client receives and sends single segments, and loses 3 % of them each way.
    const off = sh(c1, 'for i in $(ls /sys/class/net); do [ "$i" = lo ] || ethtool -K "$i" gro off gso off tso off; done');
    expect(off.status, off.stderr).toBe(0);
    const r = inNs(c1, 'nft', ['-f', '-'], { input: `
table inet lossy {
  chain in { type filter hook input priority 0; numgen random mod 100 < 3 drop; }
  chain out { type filter hook output priority 0; numgen random mod 100 < 3 drop; }
}` });
    expect(r.status, r.stderr).toBe(0);
    stackd = await startStackd(nsName(LAB3, 'host'), ['--workers', '1', '--tap', 'tap0', '--cc', 'bbr']);
  });

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB3);
  });

  it('a 50 MB download arrives byte-identical, its losses repaired (retransmissions and SACK recoveries counted)', async () => {
    const before = (await stackd.stats()).totals;
    const dl = sh(nsName(LAB3, 'c1'), `curl -s -m 200 http://${STACK}/bytes/${50 * MB} | sha256sum`, 240_000);
    expect(dl.stdout.split(' ')[0]).toBe(patternSha256(50 * MB));
    const after = (await stackd.stats()).totals;
    const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    expect(d('tcp_retransmits')).toBeGreaterThan(100); // ~3 % of ~36 000 segments were lost
    expect(d('tcp_sack_recoveries')).toBeGreaterThan(0);
  });

  it('/connections and stackctl conns show BBR\'s model during a download (bw, mrtt, state) and RACK\'s min RTT, as ss -ti does', async () => {
    // A download held open by a rate-limited client (20 MB at 2 MB/s), killed once seen.
    const curl = spawn('ip', ['netns', 'exec', nsName(LAB3, 'c1'), 'curl', '-s', '--limit-rate', '2M', '-o', '/dev/null', `http://${STACK}/bytes/${20 * MB}`], { stdio: 'ignore' });
    try {
      let seen: ConnectionInfo | undefined;
      await waitFor(async () => {
        const conns = JSON.parse((await controlRequest(stackd.control, '/connections')).body) as ConnectionInfo[];
        seen = conns.find((c) => c.local === `${STACK}:80` && c.state === 'ESTABLISHED' && (c.cc?.bbr?.btlBwBitsPerSecond ?? 0) > 0);
        return seen !== undefined && seen.cc?.bbr?.rtPropMs !== null;
      }, { what: 'a download whose BBR model has a rate and an RTprop', timeoutMs: 20_000, intervalMs: 100 });
      expect(seen?.cc?.name).toBe('bbr');
      expect(['startup', 'drain', 'probe_bw', 'probe_rtt']).toContain(seen?.cc?.bbr?.state);
      const t = stackctl(stackd.control, 'conns', '--port', '80');
      expect(t.status).toBe(0);
      expect(t.stdout).toMatch(/ bbr:\(bw:[\d.]+[KMG]?bps,mrtt:[\d.]+,(startup|drain|probe_bw|probe_rtt)(,extra_acked:\d+)?\) rack:\(minrtt:[\d.]+,reo_wnd:[\d.]+(,mult:\d+)?(,reord_seen)?\)$/m);
      // RACK (the default recovery) shows its minimum RTT, as ss -ti shows minrtt.
      expect(seen?.rack?.minRttMs).toBeGreaterThan(0);
      expect(seen?.rack?.reoWndMult).toBeGreaterThanOrEqual(1);
    } finally {
      curl.kill();
    }
  });
});
