/**
 * lab/lab.sh end to end: builds real network namespaces, a bridge, a TAP and veths, checks
 * them from the kernel's point of view, repairs a damaged lab, and removes everything.
 * Needs root, /dev/net/tun and iproute2; skipped otherwise, except in CI where a missing
 * capability fails the file (see requireNetOrSkip in test/helpers/lab.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LAB_ADDR,
  LAB_SCRIPT,
  inNs,
  labDown,
  labUp,
  listNamespaces,
  nsName,
  outputOf,
  requireNetOrSkip,
  runLab,
} from '../helpers/lab.js';

const skip = requireNetOrSkip();

const LAB = `lt${process.pid % 10000}`;
const LAB_B = `${LAB}b`; // a second lab, up at the same time
const LAB_F = `${LAB}f`; // a lab whose "up" is made to fail half-way

interface PingStats {
  transmitted: number;
  received: number;
  lossPct: number;
}

function parsePing(out: string): PingStats | undefined {
  const m = /(\d+) packets transmitted, (\d+) received.*?([\d.]+)% packet loss/.exec(out);
  if (!m) return undefined;
  return { transmitted: Number(m[1]), received: Number(m[2]), lossPct: Number(m[3]) };
}

function ping(ns: string, dst: string, count = 3): PingStats | undefined {
  const r = inNs(ns, 'ping', ['-n', '-c', String(count), '-i', '0.2', '-W', '1', dst]);
  return parsePing(outputOf(r.stdout));
}

function status(lab: string): { code: number | null; out: string } {
  const r = runLab(['--name', lab, 'status']);
  return { code: r.status, out: r.stdout };
}

/** Root-namespace view: interface names and every 10.x IPv4 address. */
function rootSnapshot(): { links: string[]; tenAddrs: string[] } {
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8', timeout: 10_000 })
    .stdout.split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
  const tenAddrs = spawnSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8', timeout: 10_000 })
    .stdout.split('\n')
    .map((l) => l.trim().split(/\s+/)[3] ?? '')
    .filter((a) => a.startsWith('10.'))
    .sort();
  return { links, tenAddrs };
}

/** `ip -j -d link show dev DEV` inside a namespace, parsed. */
function linkJson(ns: string, dev: string): Record<string, unknown> | undefined {
  const r = spawnSync('ip', ['-n', ns, '-j', '-d', 'link', 'show', 'dev', dev], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (r.status !== 0) return undefined;
  return (JSON.parse(r.stdout) as Record<string, unknown>[])[0];
}

function bridgePorts(ns: string): string[] {
  const r = spawnSync('ip', ['-n', ns, '-j', 'link', 'show', 'master', 'br0'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return (JSON.parse(r.stdout || '[]') as { ifname: string }[]).map((l) => l.ifname).sort();
}

describe.skipIf(skip)('lab/lab.sh', () => {
  let rootBefore: ReturnType<typeof rootSnapshot>;
  let firstStatus = '';

  beforeAll(() => {
    for (const l of [LAB, LAB_B, LAB_F]) labDown(l); // leftovers of a crashed earlier run
    rootBefore = rootSnapshot();
  });

  afterAll(() => {
    for (const l of [LAB, LAB_B, LAB_F]) {
      try {
        labDown(l);
      } catch (e) {
        console.error(e);
      }
    }
  });

  it('up twice: exit 0 both times, identical status, status exit 0', () => {
    const up1 = runLab(['--name', LAB, 'up']);
    expect(up1.status, up1.stderr).toBe(0);
    expect(up1.stdout).toContain(`+ ip netns add ${nsName(LAB, 'host')}`);
    const s1 = status(LAB);
    expect(s1.code, s1.out).toBe(0);
    expect(s1.out).toContain('status: up');

    const up2 = runLab(['--name', LAB, 'up']);
    expect(up2.status, up2.stderr).toBe(0);
    expect(up2.stdout).not.toContain('+ ip '); // nothing left to do the second time
    const s2 = status(LAB);
    expect(s2.code).toBe(0);
    expect(s2.out).toBe(s1.out);
    firstStatus = s1.out;
  });

  it('client c1 reaches the kernel host on the bridge (ping 10.10.0.1, 0% loss)', () => {
    const st = ping(nsName(LAB, 'c1'), LAB_ADDR.host);
    expect(st).toBeDefined();
    expect(st?.received).toBe(st?.transmitted);
    expect(st?.lossPct).toBe(0);
  });

  it('tap0 exists in the host namespace, is a TAP, is up and is a port of br0', () => {
    const host = nsName(LAB, 'host');
    const tap = linkJson(host, 'tap0');
    expect(tap).toBeDefined();
    expect(tap?.master).toBe('br0');
    expect(tap?.flags as string[]).toContain('UP');
    const info = tap?.linkinfo as { info_kind?: string; info_data?: { type?: string } } | undefined;
    expect(info?.info_kind).toBe('tun');
    expect(info?.info_data?.type).toBe('tap');
    expect(bridgePorts(host)).toEqual(['tap0', 'veth-c1']);
    // The client side: eth0 with 10.10.0.3/24 and a default route via 10.10.0.1.
    const c1 = nsName(LAB, 'c1');
    const addr = inNs(c1, 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    expect(addr.stdout).toContain(`${LAB_ADDR.c1}/${LAB_ADDR.prefixLen}`);
    expect(inNs(c1, 'ip', ['route', 'show', 'default']).stdout).toContain(`via ${LAB_ADDR.host}`);
  });

  it('IPv6 as planned: c1 holds fd00:10:10::3/64 (no DAD), the host no global IPv6 address; ip_forward=0 in the host namespace', () => {
    const global6 = (ns: string) =>
      spawnSync('ip', ['-n', ns, '-6', '-o', 'addr', 'show', 'scope', 'global'], { encoding: 'utf8' }).stdout
        .split('\n').filter((l) => l !== '').map((l) => l.split(/\s+/).slice(1, 4).join(' ').replace(/ inet6/, ''));
    expect(global6(nsName(LAB, 'c1'))).toEqual(['eth0 fd00:10:10::3/64']);
    expect(global6(nsName(LAB, 'host'))).toEqual([]);
    for (const ns of [nsName(LAB, 'host'), nsName(LAB, 'c1')]) {
      expect(inNs(ns, 'cat', ['/proc/sys/net/ipv6/conf/all/disable_ipv6']).stdout.trim(), ns).toBe('0');
      expect(inNs(ns, 'cat', ['/proc/sys/net/ipv6/conf/default/accept_dad']).stdout.trim(), ns).toBe('0');
    }
    expect(spawnSync('ip', ['-n', nsName(LAB, 'c1'), '-6', '-o', 'addr', 'show', 'tentative'], { encoding: 'utf8' }).stdout).toBe('');
    const fwd = inNs(nsName(LAB, 'host'), 'cat', ['/proc/sys/net/ipv4/ip_forward']);
    expect(fwd.stdout.trim()).toBe('0');
  });

  it('a second lab can be up at the same time without interfering', () => {
    labUp(LAB_B, { clients: 2, vnetHdr: true });
    expect(status(LAB_B).code).toBe(0);
    expect(status(LAB).out).toBe(firstStatus);
    expect(bridgePorts(nsName(LAB_B, 'host'))).toEqual(['tap0', 'veth-c1', 'veth-c2']);
    expect(bridgePorts(nsName(LAB, 'host'))).toEqual(['tap0', 'veth-c1']);
    const vh = linkJson(nsName(LAB_B, 'host'), 'tap0')?.linkinfo as { info_data?: { vnet_hdr?: boolean } };
    expect(vh.info_data?.vnet_hdr).toBe(true);
    // Same addresses, separate L2 domains: B's c2 (10.10.0.5) answers in B, not in A.
    expect(ping(nsName(LAB_B, 'c1'), '10.10.0.5', 1)?.lossPct).toBe(0);
    expect(ping(nsName(LAB, 'c1'), '10.10.0.5', 1)?.lossPct).toBe(100);
    labDown(LAB_B);
    expect(listNamespaces().filter((n) => n.startsWith(`${LAB_B}-`))).toEqual([]);
  });

  it('the root namespace gained no interface and no 10.x address', () => {
    const now = rootSnapshot();
    expect(now.links.filter((l) => !rootBefore.links.includes(l))).toEqual([]);
    expect(now.tenAddrs.filter((a) => !rootBefore.tenAddrs.includes(a))).toEqual([]);
  });

  it('half torn down (client namespace deleted by hand): status says so, up repairs it', () => {
    const c1 = nsName(LAB, 'c1');
    expect(spawnSync('ip', ['netns', 'del', c1]).status).toBe(0);
    const broken = status(LAB);
    expect(broken.code).toBe(1);
    expect(broken.out).toContain(`namespace ${c1} missing`);

    const up = runLab(['--name', LAB, '--quiet', 'up']);
    expect(up.status, up.stderr).toBe(0);
    const fixed = status(LAB);
    expect(fixed.code).toBe(0);
    expect(fixed.out).toBe(firstStatus);
    expect(ping(c1, LAB_ADDR.host)?.lossPct).toBe(0);
  });

  it('a step failing during up tears the lab down and exits non-zero', () => {
    const r = runLab(['--name', LAB_F, '--quiet', 'up'], {
      env: { ...process.env, STACKD_LAB_TEST_FAIL_ON: 'veth-c1 master' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/up' failed .*veth-c1 master br0/);
    expect(r.stderr).toContain('tearing lab');
    expect(listNamespaces().filter((n) => n.startsWith(`${LAB_F}-`))).toEqual([]);
  });

  it('refuses clearly when not root', () => {
    const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
    if (!hasSetpriv) return; // nothing to drop privileges with; covered by hand
    // The script goes in on stdin (bash -s), so "nobody" need not be able to read the repo.
    const r = spawnSync(
      'setpriv',
      ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'bash', '-s', '--', '--name', LAB, 'up'],
      { encoding: 'utf8', timeout: 30_000, input: readFileSync(LAB_SCRIPT, 'utf8'), cwd: '/' }, // nor its working directory
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/must run as root/);
    expect(status(LAB).code).toBe(0); // and it did not touch the lab
  });

  it('down removes the namespaces; a second down is a no-op with exit 0', () => {
    const d1 = runLab(['--name', LAB, 'down']);
    expect(d1.status, d1.stderr).toBe(0);
    expect(listNamespaces().filter((n) => n === nsName(LAB, 'host') || n === nsName(LAB, 'c1'))).toEqual([]);
    const d2 = runLab(['--name', LAB, 'down']);
    expect(d2.status).toBe(0);
    expect(d2.stdout).toContain('nothing to remove');
    expect(status(LAB).code).toBe(1);
    const now = rootSnapshot();
    expect(now.links.filter((l) => !rootBefore.links.includes(l))).toEqual([]);
    expect(now.tenAddrs.filter((a) => !rootBefore.tenAddrs.includes(a))).toEqual([]);
  });
});
