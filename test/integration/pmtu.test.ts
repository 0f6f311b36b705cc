/**
 * Path MTU discovery against a real Linux router: the lab's bridge, a router namespace
 * (forwarding on, its interface toward the far client at MTU 1280) and a far client whose
 * own interface says 1500, so its SYN offers MSS 1460 and only the router knows the path
 * is narrower. stackd (2 workers, a --route to the far network via the router) must learn it from the router's
 * ICMP "fragmentation needed" (RFC 1191): a 20 MB download completes byte-exact, and the
 * counters show the ICMP was taken (steered to the worker of the quoted flow) and the MSS
 * lowered. UDP too: a 1400-byte echo reply meets the same router, which reports it, and
 * the next reply goes out fragmented at 1280 (Linux IP_PMTUDISC_WANT).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNs, labDown, labUp, nsName, requireNetOrSkip, ROUTER_ADDR, routerUp } from '../helpers/lab.js';
import { patternSha256 } from '../helpers/http-pattern.js';
import { startStackd, stopIfStarted, type StackdHandle } from '../helpers/stackd-process.js';

const LAB = `pm${process.pid % 10000}`;
const HOST = nsName(LAB, 'host');
const RT = nsName(LAB, 'rt');
const FAR = nsName(LAB, 'far');
const STACK = '10.10.0.4';
const FAR_MTU = 1280;

function sh(ns: string, script: string, timeoutMs = 120_000) {
  return inNs(ns, 'bash', ['-c', script], { timeoutMs });
}

describe.skipIf(requireNetOrSkip())('path MTU discovery through a Linux router with a 1280-byte next hop', () => {
  let stackd: StackdHandle;

  beforeAll(async () => {
    labUp(LAB, { clients: 1 });
    routerUp(LAB, FAR_MTU);
    // The far network through the router by a static route (no default gateway: --route's LPM table).
    stackd = await startStackd(HOST, ['--workers', '2', '--tap', 'tap0', '--route', `10.20.0.0/24 via ${ROUTER_ADDR.lan}`]);
  });

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB);
  });

  it('the lab is as described: the router forwards, its far interface has MTU 1280, the client 1500; stackd routes 10.20.0.0/24 through it', async () => {
    const s = await stackd.stats();
    expect([s.gateway, s.routes]).toEqual([null, [`10.20.0.0/24 via ${ROUTER_ADDR.lan}`]]);
    expect(sh(RT, 'cat /proc/sys/net/ipv4/ip_forward').stdout.trim()).toBe('1');
    expect(sh(RT, 'cat /sys/class/net/far0/mtu').stdout.trim()).toBe(String(FAR_MTU));
    expect(sh(FAR, 'cat /sys/class/net/eth0/mtu').stdout.trim()).toBe('1500');
    // Small packets pass both ways through the router.
    expect(sh(FAR, `ping -c 1 -W 2 ${STACK}`).status).toBe(0);
  });

  it('RFC 1191: a 20 MB download to the far client completes byte-exact, after the router\'s "fragmentation needed" lowered the MSS', async () => {
    const n = 20_000_000;
    const before = (await stackd.stats()).totals;
    const r = sh(FAR, `curl -s -m 60 http://${STACK}/bytes/${n} | tee >(wc -c >&2) | sha256sum`);
    expect(r.stderr.trim()).toBe(String(n));
    expect(r.stdout.split(' ')[0]).toBe(patternSha256(n));
    const after = (await stackd.stats()).totals;
    const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    expect(d('icmp_frag_needed_rx')).toBeGreaterThanOrEqual(1);
    expect(d('pmtu_lowered')).toBeGreaterThanOrEqual(1);
    expect(d('tcp_mss_lowered')).toBeGreaterThanOrEqual(1);
    // It was the ICMP, not black-hole detection after RTOs, that found the path MTU.
    expect(d('tcp_pmtu_black_holes')).toBe(0);
    // Every ICMP reached the worker that owns the flow it quotes (steered by the quoted 4-tuple).
    expect(d('drop_icmp_error_no_flow')).toBe(0);
    expect(d('drop_icmp_error_bad_seq')).toBe(0);
    expect(after.pmtu_entries).toBeGreaterThanOrEqual(1);
    // The router saw no datagram it could not forward after the first few (rate-limited ICMPs aside).
    const frag = sh(RT, "nstat -az IcmpOutDestUnreachs | awk '/IcmpOutDestUnreachs/ {print $2}'");
    expect(Number(frag.stdout.trim())).toBeLessThan(20);
  });

  it('RFC 1191: 8 downloads at once over both workers complete byte-exact (the router rate-limits its ICMPs; each worker learns from its own)', async () => {
    const n = 4_000_000;
    const before = (await stackd.stats()).totals;
    const r = sh(FAR, `for i in 1 2 3 4 5 6 7 8; do (curl -s -m 60 http://${STACK}/bytes/${n} | sha256sum) & done; wait`);
    expect(r.stdout.trim().split('\n').map((l) => l.split(' ')[0])).toEqual(new Array<string>(8).fill(patternSha256(n)));
    const after = (await stackd.stats()).totals;
    const d = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    // Found by ICMP (the worker the 20 MB download warmed, and the other one from its own
    // report), not by black-hole detection.
    expect(d('tcp_pmtu_black_holes')).toBe(0);
  });

  it('RFC 1191 / IP_PMTUDISC_WANT: a 1400-byte UDP echo is answered (fragmented at 1280) once the router has reported the path', () => {
    // Up to 5 tries, 1 s each: the first reply (1428 bytes, DF) is the one the router reports.
    const script = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
msg = bytes(range(256)) * 5 + bytes(120)
got = 0
lost = 0
for i in range(5):
    s.sendto(msg, ('${STACK}', 7))
    try:
        data, _ = s.recvfrom(4096)
        if data == msg:
            got += 1
            break
    except socket.timeout:
        lost += 1
print(got, lost)
`;
    const r = inNs(FAR, 'python3', ['-c', script], { timeoutMs: 15_000 });
    const [got, lost] = r.stdout.trim().split(' ').map(Number);
    expect(got, r.stderr).toBe(1);
    expect(lost).toBeLessThanOrEqual(1);
  });
});
