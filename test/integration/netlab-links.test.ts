/**
 * lab/netlab.sh lessons (a) and (b): two namespaces on a bare veth pair, and several on a
 * bridge. Checks what the kernel sees (link types, peers, bridge ports, learned MACs),
 * that traffic flows, that the commands are printed, that "up" is idempotent and repairs,
 * that a failing "up" leaves nothing behind, and that "down" removes everything.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNs, labDown, listNamespaces, netlab, nsName, requireNetOrSkip, runNetlab } from '../helpers/lab.js';

const skip = requireNetOrSkip();
const LAB = `nl${process.pid % 10000}`;
const mine = () => listNamespaces().filter((n) => n.startsWith(`${LAB}-`)).sort();

function linkJson(ns: string, dev: string): Record<string, unknown> {
  const r = spawnSync('ip', ['-n', ns, '-j', '-d', 'link', 'show', 'dev', dev], { encoding: 'utf8' });
  return (JSON.parse(r.stdout) as Record<string, unknown>[])[0];
}

function pingOk(ns: string, dst: string): boolean {
  const r = inNs(ns, 'ping', ['-n', '-c', '2', '-i', '0.2', '-W', '1', dst], { timeoutMs: 10_000 });
  return /2 packets transmitted, 2 received/.test(r.stdout);
}

describe.skipIf(skip)('lab/netlab.sh: veth and bridge lessons', () => {
  beforeAll(() => {
    runNetlab(['--name', LAB, 'down']);
    labDown(LAB);
  });
  afterAll(() => {
    runNetlab(['--name', LAB, 'down']);
    labDown(LAB);
  });

  it('(a) veth: prints the ip commands; va and vb are the two ends of one veth and ping each other', () => {
    const r = netlab(LAB, 'veth', 'up');
    const va = nsName(LAB, 'va');
    const vb = nsName(LAB, 'vb');
    expect(r.stdout).toContain(`+ ip netns add ${va}`);
    expect(r.stdout).toContain(`+ ip -n ${va} link add eth0 type veth peer name eth0 netns ${vb}`);
    expect(r.stdout).toContain(`+ ip -n ${va} addr add 10.1.0.1/24 dev eth0`);
    const a = linkJson(va, 'eth0');
    expect((a.linkinfo as { info_kind: string }).info_kind).toBe('veth');
    expect(a.link_netnsid).toBeDefined(); // its peer lives in another namespace (vb)
    expect(pingOk(va, '10.1.0.2')).toBe(true);
    expect(pingOk(vb, '10.1.0.1')).toBe(true);
    expect(runNetlab(['--name', LAB, 'veth', 'status']).status).toBe(0);
  });

  it('(a) up again changes nothing; with one end deleted by hand, up repairs the pair', () => {
    expect(netlab(LAB, 'veth', 'up').stdout).not.toMatch(/^\+ /m);
    expect(spawnSync('ip', ['-n', nsName(LAB, 'vb'), 'link', 'del', 'eth0']).status).toBe(0); // takes both ends
    expect(runNetlab(['--name', LAB, 'veth', 'status']).status).toBe(1);
    netlab(LAB, 'veth', 'up');
    expect(pingOk(nsName(LAB, 'va'), '10.1.0.2')).toBe(true);
  });

  it('(b) bridge: 4 namespaces on br0 in <lab>-sw reach each other; the bridge learns their MACs', () => {
    const r = netlab(LAB, 'bridge', 'up', ['--ports', '4']);
    const sw = nsName(LAB, 'sw');
    expect(r.stdout).toContain(`+ ip -n ${sw} link add br0 type bridge stp_state 0`);
    expect(r.stdout).toContain(`+ ip -n ${sw} link set veth-p1 master br0`);
    const ports = (JSON.parse(spawnSync('ip', ['-n', sw, '-j', 'link', 'show', 'master', 'br0'], { encoding: 'utf8' }).stdout) as { ifname: string }[])
      .map((p) => p.ifname)
      .sort();
    expect(ports).toEqual(['veth-p1', 'veth-p2', 'veth-p3', 'veth-p4']);
    for (const [from, to] of [['p1', '10.2.0.12'], ['p1', '10.2.0.14'], ['p3', '10.2.0.11'], ['p4', '10.2.0.13']] as const) {
      expect(pingOk(nsName(LAB, from), to), `${from} -> ${to}`).toBe(true);
    }
    // The switch learned where each host sits: p1's MAC on port veth-p1.
    const mac = (linkJson(nsName(LAB, 'p1'), 'eth0').address as string).toLowerCase();
    const fdb = spawnSync('bridge', ['-n', sw, 'fdb', 'show', 'br', 'br0'], { encoding: 'utf8' }).stdout.toLowerCase();
    expect(fdb).toMatch(new RegExp(`^${mac} dev veth-p1 `, 'm'));
  });

  it('(b) up with fewer ports removes the extra ones', () => {
    netlab(LAB, 'bridge', 'up', ['--ports', '2']);
    expect(mine().filter((n) => /-p\d+$/.test(n))).toEqual([nsName(LAB, 'p1'), nsName(LAB, 'p2')]);
  });

  it('a failing step during up removes what that lesson built (exit 1, no half state)', () => {
    runNetlab(['--name', LAB, 'bridge', 'down']);
    const r = runNetlab(['--name', LAB, '--ports', '3', 'bridge', 'up'], {
      env: { ...process.env, STACKD_NETLAB_TEST_FAIL_ON: 'veth-p3 master' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("'bridge up' failed");
    expect(mine().filter((n) => /-(sw|p\d+)$/.test(n))).toEqual([]);
    expect(mine()).toEqual([nsName(LAB, 'va'), nsName(LAB, 'vb')]); // the other lesson is untouched
  });

  it('bad input: unknown lesson, --ports out of range, nat without a lab: clear errors, exit 2', () => {
    const bad = [
      [['--name', LAB, 'tunnel', 'up'], "unknown lesson 'tunnel'"],
      [['--name', LAB, '--ports', '99', 'bridge', 'up'], '--ports must be 2..20'],
      [['--name', LAB, 'nat', 'up'], `run first  bash lab/lab.sh --name ${LAB} up`],
      [['--name', LAB, 'veth'], 'veth needs an action'],
    ] as const;
    for (const [args, msg] of bad) {
      const r = runNetlab([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(msg);
    }
    expect(mine()).toEqual([nsName(LAB, 'va'), nsName(LAB, 'vb')]);
  });

  it('down removes every namespace of the lessons; a second down is a no-op', () => {
    netlab(LAB, 'bridge', 'up');
    netlab(LAB, 'down');
    expect(mine()).toEqual([]);
    expect(netlab(LAB, 'down').stdout).not.toMatch(/^\+ /m);
  });
});
