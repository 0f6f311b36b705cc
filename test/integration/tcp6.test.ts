/**
 * TCP and UDP over IPv6 against the real Linux stack in the namespace lab (decision
 * 0030): nc -6 echo and a 50 MB round trip through echo checked by sha256, curl -6
 * GET /bytes/N checked by sha256, 200 concurrent IPv6 clients with stackd on 2 workers,
 * IPv4 clients of the same dual-stack services, UDP echo over IPv6, a closed port refused
 * over IPv6, bad TCP/UDP over IPv6 dropped by named reason, /connections listing the
 * IPv6 peers in RFC 5952 form, and the echo and a download again under 3 % random loss each
 * way (issue 12's loss run over IPv6).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/control-client.js';
import type { ConnectionInfo } from '../../src/control/types.js';
import { bashIn as sh, inNs, labDown, labUp, nsName, requireNetOrSkip } from '../helpers/lab.js';
import { writeRandomFile } from '../helpers/random-file.js';
import { rawIpv6Preamble } from '../helpers/raw-ipv6.js';
import { stackctl, tshark } from '../helpers/ops-tools.js';
import { startStackd, stopIfStarted, type StackdHandle } from '../helpers/stackd-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { patternSha256 } from '../helpers/http-pattern.js';

const LAB = `t6${process.pid % 10000}`;
const HOST = nsName(LAB, 'host');
const C1 = nsName(LAB, 'c1');
const STACK6 = 'fd00:10:10::4';
const CLIENT6 = 'fd00:10:10::3';
const MB = 1024 * 1024;

describe.skipIf(requireNetOrSkip())('TCP and UDP over IPv6 with real Linux clients (nc -6, curl -6)', () => {
  let stackd: StackdHandle;
  let dir: string;
  let file50: string;
  let sha50: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stackd-tcp6-'));
    file50 = join(dir, 'random50');
    sha50 = writeRandomFile(file50, 50 * MB);
    labUp(LAB, { clients: 1 });
    stackd = await startStackd(HOST, ['--workers', '2', '--tap', 'tap0', '--ip6', `${STACK6}/64`, '--services', 'echo,http,udp-echo,discard']);
    // Both addresses pass duplicate address detection in every worker (1 s in worker 0, 2 s in the others) before they answer.
    await waitFor(async () => (await stackd.stats()).threads.filter((t) => t.thread.startsWith('worker-')).every((t) => t.counters.nd_dad_ok >= 2), { what: 'DAD of both addresses', timeoutMs: 10_000, intervalMs: 50 });
  }, 120_000);

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB);
    rmSync(dir, { recursive: true, force: true });
  });

  it('nc -6 echo round trip', () => {
    const r = sh(C1, `printf 'hello over tcp6\\n' | nc -6 -N -w 5 ${STACK6} 7`);
    expect(r.stdout).toBe('hello over tcp6\n');
  });

  it('a 50 MB file through echo over IPv6 comes back byte-identical (nc -6, sha256)', () => {
    const r = sh(C1, `nc -6 -N -w 30 ${STACK6} 7 < ${file50} | sha256sum`, 180_000);
    expect(r.stdout.split(' ')[0]).toBe(sha50);
  });

  it('curl -6 http://[fd00:10:10::4]/bytes/N: size and sha256 as the pattern says, sent in TSO6 super-segments', async () => {
    const n = 20 * MB + 17;
    const before = (await stackd.stats()).totals;
    const r = sh(C1, `curl -6 -s -m 60 'http://[${STACK6}]/bytes/${n}' | tee >(wc -c >&2) | sha256sum`);
    expect(r.stdout.split(' ')[0]).toBe(patternSha256(n));
    expect(r.stderr.trim()).toBe(String(n));
    const after = (await stackd.stats()).totals;
    // Bytes per segment written: far above the MSS (1428) when the kernel segments for us.
    expect((after.tcp_tx_bytes - before.tcp_tx_bytes) / (after.tcp_segments_tx - before.tcp_segments_tx)).toBeGreaterThan(4000);
  });

  it('the same services answer IPv4 clients (dual stack)', () => {
    const r = sh(C1, `printf 'hello over tcp4\\n' | nc -4 -N -w 5 10.10.0.4 7; curl -4 -s -m 10 -o /dev/null -w '%{http_code}\\n' http://10.10.0.4/`);
    expect(r.stdout).toBe('hello over tcp4\n200\n');
  });

  it('200 concurrent IPv6 clients (curl -6 and nc -6) all succeed, spread over the 2 workers', async () => {
    const opens = async () => (await stackd.stats()).threads.filter((t) => t.thread.startsWith('worker-')).map((t) => t.counters.tcp_passive_opens);
    const before = await opens();
    const curl = sh(C1, `for i in $(seq 1 200); do curl -6 -s -m 30 -o /dev/null -w '%{http_code}\\n' 'http://[${STACK6}]/' & done; wait`);
    expect(curl.stdout.trim().split('\n').filter((l) => l === '200')).toHaveLength(200);
    const nc = sh(C1, `for i in $(seq 1 200); do (printf "client $i\\n" | nc -6 -N -w 20 ${STACK6} 7) & done; wait`);
    const lines = nc.stdout.trim().split('\n').sort();
    expect(lines).toHaveLength(200);
    expect(new Set(lines).size).toBe(200);
    const after = await opens();
    const perWorker = after.map((v, i) => v - before[i]);
    expect(perWorker).toHaveLength(2);
    for (const n of perWorker) expect(n).toBeGreaterThan(100);
    let left: ConnectionInfo[] = [];
    await waitFor(async () => {
      const conns = JSON.parse((await controlRequest(stackd.control, '/connections')).body) as ConnectionInfo[];
      left = conns.filter((c) => c.state !== 'TIME_WAIT');
      return left.length === 0;
    }, { what: 'only TIME_WAIT connections left', timeoutMs: 20_000, intervalMs: 50, detail: () => JSON.stringify(left.slice(0, 5)) });
  });

  it('/connections shows an IPv6 peer in RFC 5952 form', async () => {
    // A client that stays connected for 4 s in the background (its output detached from ours).
    const hold = inNs(C1, 'bash', ['-c', `(sleep 4 | nc -6 -w 6 ${STACK6} 9 >/dev/null 2>&1 &); echo started`], { timeoutMs: 10_000 });
    expect(hold.stdout.trim()).toBe('started');
    let conns: ConnectionInfo[] = [];
    await waitFor(async () => {
      conns = JSON.parse((await controlRequest(stackd.control, '/connections')).body) as ConnectionInfo[];
      return conns.some((c) => c.local.endsWith(':9') && c.state === 'ESTABLISHED');
    }, { what: 'the discard connection', timeoutMs: 5000, intervalMs: 50 });
    const c = conns.find((x) => x.local.endsWith(':9') && x.state === 'ESTABLISHED');
    expect(c?.local).toBe(`[${STACK6}]:9`);
    expect(c?.remote).toMatch(new RegExp(`^\\[${CLIENT6}\\]:\\d+$`));
    const t = stackctl(stackd.control, 'conns', '--port', '9');
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(new RegExp(`\\n[01]\\.\\d+ +ESTABLISHED +\\[${STACK6}\\]:9 +\\[${CLIENT6}\\]:\\d+ +[01] `));
  });

  it('a capture (stackctl pcap) holds the IPv6 TCP exchange; tshark reads it with no checksum flagged bad', () => {
    const file = join(dir, 'v6.pcap');
    const start = stackctl(stackd.control, 'pcap', 'start', file);
    expect(start.status, start.stderr).toBe(0);
    const r = sh(C1, `curl -6 -s -m 10 'http://[${STACK6}]/bytes/200000' | wc -c`);
    expect(r.stdout.trim()).toBe('200000');
    const stop = stackctl(stackd.control, 'pcap', 'stop', '--json');
    expect(stop.status, stop.stderr).toBe(0);
    const rows = tshark(file, ['ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.len', 'tcp.checksum.status']).filter((x) => x['tcp.srcport'] !== '');
    const fromUs = rows.filter((x) => x['ipv6.src'] === STACK6 && x['tcp.srcport'] === '80');
    expect(fromUs.reduce((n, x) => n + Number(x['tcp.len']), 0)).toBeGreaterThan(200000);
    expect(rows.filter((x) => x['ipv6.src'] === CLIENT6).length).toBeGreaterThan(2);
    expect(rows.filter((x) => x['tcp.checksum.status'] === '0')).toEqual([]); // 0: bad (2: unverified, 1: good)
  });

  it('UDP echo over IPv6 (and over IPv4 on the same socket)', () => {
    const script = `
import socket
for fam, addr in ((socket.AF_INET6, "${STACK6}"), (socket.AF_INET, "10.10.0.4")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(b"udp over %d" % fam, (addr, 7))
    print(s.recvfrom(100)[0].decode())
`;
    const r = inNs(C1, 'python3', ['-c', script], { timeoutMs: 20_000 });
    expect(r.stdout).toBe('udp over 10\nudp over 2\n');
  });

  it('4000-byte UDP datagrams over IPv6 (fragments both ways) from 8 ports come back whole, whichever worker owns the flow', async () => {
    const before = (await stackd.stats()).totals;
    const script = `
import socket
ok = 0
for port in range(41000, 41008):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("${CLIENT6}", port))
    s.settimeout(3)
    msg = bytes((port + i) & 0xff for i in range(4000))
    s.sendto(msg, ("${STACK6}", 7))
    ok += s.recvfrom(8000)[0] == msg
print(ok)
`;
    const r = inNs(C1, 'python3', ['-c', script], { timeoutMs: 40_000 });
    expect(r.stdout.trim()).toBe('8');
    const after = (await stackd.stats()).totals;
    expect(after.ipv6_reassembled - before.ipv6_reassembled).toBeGreaterThanOrEqual(8);
    // Worker 0 reassembles them all; the flows of worker 1 go back through the I/O thread.
    expect(after.ipv6_reassembled_foreign - before.ipv6_reassembled_foreign).toBeGreaterThan(0);
  });

  it('a closed port is refused over IPv6 (TCP RST; ICMPv6 port unreachable for UDP)', () => {
    const script = `
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(3)
try:
    s.connect(("${STACK6}", 4444)); print("connected")
except ConnectionRefusedError: print("refused")
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.settimeout(3)
u.connect(("${STACK6}", 4444))
u.send(b"x")
try:
    u.recv(10); print("answer")
except ConnectionRefusedError: print("unreachable")
`;
    const r = inNs(C1, 'python3', ['-c', script], { timeoutMs: 20_000 });
    expect(r.stdout).toBe('refused\nunreachable\n');
  });

  it('drops bad TCP and UDP over IPv6 by named reason and keeps serving', async () => {
    const before = (await stackd.stats()).totals;
    const mac = (await stackd.stats()).mac;
    const script = `${rawIpv6Preamble(mac, CLIENT6, STACK6)}
syn = struct.pack("!HHIIBBHHH", 40000, 7, 1, 0, 5 << 4, 2, 65535, 0x1234, 0)
send(ip6(6, syn))                                              # TCP, bad checksum
send(ip6(6, syn[:12]))                                         # TCP, truncated header
send(ip6(17, struct.pack("!HHHH", 40000, 7, 12, 0) + b"abcd")) # UDP, zero checksum (mandatory over IPv6)
send(ip6(17, struct.pack("!HHHH", 40000, 7, 40, 1) + b"abcd")) # UDP, length past the packet
print("sent")
`;
    const r = inNs(C1, 'python3', ['-c', script], { timeoutMs: 20_000 });
    expect(r.stdout.trim()).toBe('sent');
    const named = ['drop_tcp_checksum', 'drop_tcp_truncated', 'drop_udp6_zero_checksum', 'drop_udp_length'];
    let after = before;
    const grew = (k: string) => after[k] - before[k];
    await waitFor(async () => {
      after = (await stackd.stats()).totals;
      return named.every((k) => grew(k) >= 1);
    }, { what: 'the bad segments counted', timeoutMs: 10_000, intervalMs: 50, detail: () => named.map((k) => `${k} +${grew(k)}`).join(', ') });
    for (const k of named) expect(`${k} +${grew(k)}`).toBe(`${k} +1`);
    expect(after.drop_internal_error).toBe(0);
    const again = sh(C1, `printf 'still here\\n' | nc -6 -N -w 5 ${STACK6} 7`);
    expect(again.stdout).toBe('still here\n');
  });
  describe('under 3 % random loss each way (nftables inet table in the client namespace: IPv6 too)', () => {
    beforeAll(() => {
      const rules = `
table inet lossy6 {
  chain in { type filter hook input priority 0; meta nfproto ipv6 numgen random mod 100 < 3 drop; }
  chain out { type filter hook output priority 0; meta nfproto ipv6 numgen random mod 100 < 3 drop; }
}`;
      const r = inNs(C1, 'nft', ['-f', '-'], { input: rules });
      expect(r.status, r.stderr).toBe(0);
    });

    afterAll(() => {
      inNs(C1, 'nft', ['delete', 'table', 'inet', 'lossy6']);
    });

    it('the 50 MB file through echo over IPv6 still comes back byte-identical, with retransmissions', async () => {
      const before = (await stackd.stats()).totals;
      const r = sh(C1, `nc -6 -N -w 60 ${STACK6} 7 < ${file50} | sha256sum`, 240_000);
      expect(r.stdout.split(' ')[0]).toBe(sha50);
      const after = (await stackd.stats()).totals;
      expect(after.tcp_retransmits - before.tcp_retransmits).toBeGreaterThan(0);
      expect(after.tcp6_segments_rx - before.tcp6_segments_rx).toBeGreaterThan(1000);
    });

    it('a 20 MB download over IPv6 still arrives byte-identical', () => {
      const r = sh(C1, `curl -6 -s -m 200 'http://[${STACK6}]/bytes/${20 * MB}' | sha256sum`, 240_000);
      expect(r.stdout.split(' ')[0]).toBe(patternSha256(20 * MB));
    });
  });
});
