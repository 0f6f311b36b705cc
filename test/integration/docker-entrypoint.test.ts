/**
 * docker/stack-entrypoint.sh, unchanged, in the lab's container-like namespace
 * (`lab.sh --container-stack up`): <lab>-stack has an eth0 on the lab bridge holding
 * 10.10.0.4/24, as Docker gives the stack container. The entrypoint must refuse bad
 * setups cleanly (no tun device, no NET_ADMIN, the address in use, a busy tap, a failing
 * step), hand the address from the kernel to stackd, and survive a restart; Linux clients
 * then reach stackd (ping, arping, UDP echo, the load script). HTTP is gated on the TCP
 * probe (now asserted: TCP landed with issue 3).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/control-client.js';
import {
  ENTRYPOINT_SCRIPT,
  LAB_ADDR,
  LAB_SCRIPT,
  inNs,
  labDown,
  labUp,
  listNamespaces,
  nsName,
  requireNetOrSkip,
  runLab,
  stackdHasTcp,
} from '../helpers/lab.js';
import { spawnHealthy } from '../helpers/stackd-process.js';
import { builtFile } from '../helpers/built.js';

const skip = requireNetOrSkip();
const LAB = `dk${process.pid % 10000}`;
const STACK = nsName(LAB, 'stack');
const C1 = nsName(LAB, 'c1');
const C2 = nsName(LAB, 'c2');
const ADDR = LAB_ADDR.stack;
const LOAD_SCRIPT = fileURLToPath(new URL('../../docker/load.sh', import.meta.url));
const DIR = mkdtempSync(join(tmpdir(), 'stackd-dk-'));
const CONTROL = join(DIR, 'control.sock');
// The environment the entrypoint sees, as in the image: node on PATH, a control socket.
const ENV: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
  STACKD_CONTROL: CONTROL,
  STACKD_ARGS: '--log-level warn',
  STACKD_WORKERS: '2',
};

/** Runs the entrypoint to completion (for the cases where it must refuse). */
function entrypointOnce(env: NodeJS.ProcessEnv = {}, wrap: string[] = []) {
  return spawnSync('ip', ['netns', 'exec', STACK, ...wrap, 'bash', ENTRYPOINT_SCRIPT], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...ENV, ...env },
  });
}

interface Running {
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<number | null>;
}

/** Starts the entrypoint the way a user would (`lab.sh exec stack docker/stack-entrypoint.sh`)
 *  and waits for stackd's /health. The pid stays the same through every exec, so it is stackd's. */
async function startEntrypoint(): Promise<Running> {
  const p = await spawnHealthy('entrypoint', 'bash', [LAB_SCRIPT, '--name', LAB, 'exec', 'stack', ENTRYPOINT_SCRIPT], CONTROL, ENV);
  return { proc: p.proc, output: p.output, stop: async () => (await p.stop()).code };
}

/** Interface names and IPv4 addresses (`dev addr/len`) in the stack namespace. */
function stackState(): { links: string[]; addrs: string[]; routes: string } {
  const links = spawnSync('ip', ['-n', STACK, '-o', 'link', 'show'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
  const addrs = spawnSync('ip', ['-n', STACK, '-4', '-o', 'addr', 'show'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => `${l.trim().split(/\s+/)[1]} ${l.trim().split(/\s+/)[3]}`)
    .sort();
  const routes = spawnSync('ip', ['-n', STACK, '-4', 'route', 'show'], { encoding: 'utf8' }).stdout;
  return { links, addrs, routes };
}

const PRISTINE = {
  links: ['eth0', 'lo'],
  addrs: [`eth0 ${ADDR}/24`, 'lo 127.0.0.1/8'],
};

function macOf(ns: string, dev: string): string {
  const j = JSON.parse(spawnSync('ip', ['-n', ns, '-j', 'link', 'show', 'dev', dev], { encoding: 'utf8' }).stdout) as { address: string }[];
  return j[0].address.toLowerCase();
}

function master(ns: string, dev: string): string | undefined {
  const j = JSON.parse(spawnSync('ip', ['-n', ns, '-j', 'link', 'show', 'dev', dev], { encoding: 'utf8' }).stdout) as { master?: string }[];
  return j[0]?.master;
}

/** Root-namespace view: links, and every private IPv4 address or route. */
function rootSnapshot(): { links: string[]; priv: string[] } {
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '').filter(Boolean).sort();
  const priv = [
    ...spawnSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim().split(/\s+/)[3] ?? ''),
    ...spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).stdout.split('\n'),
  ].filter((a) => /(^|\s)(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(a)).sort();
  return { links, priv };
}

describe.skipIf(skip)('docker/stack-entrypoint.sh in the container-like lab (lab.sh --container-stack)', () => {
  let ep: Running | undefined;
  let rootBefore: ReturnType<typeof rootSnapshot>;

  beforeAll(() => {
    labDown(LAB);
    rootBefore = rootSnapshot();
    labUp(LAB, { clients: 2, containerStack: true });
  });

  afterAll(async () => {
    await ep?.stop();
    try {
      labDown(LAB);
    } finally {
      rmSync(DIR, { recursive: true, force: true });
    }
  });

  it('before: the stack namespace looks like a fresh container (eth0 10.10.0.4/24 + default route, kernel answers)', () => {
    expect(stackState()).toMatchObject(PRISTINE);
    expect(stackState().routes).toContain(`default via ${LAB_ADDR.host} dev eth0`);
    const r = inNs(C1, 'arping', ['-c', '1', '-w', '1', '-I', 'eth0', ADDR], { timeoutMs: 10_000 });
    expect(r.stdout.toLowerCase()).toContain(`from ${macOf(STACK, 'eth0')} (${ADDR})`);
    const st = runLab(['--name', LAB, 'status']);
    expect(st.status, st.stdout).toBe(0);
    expect(st.stdout).toContain('kernel owns it: entrypoint not run yet');
  });

  it('lab half torn down (stack namespace deleted by hand): status says so, --container-stack up repairs it', () => {
    expect(spawnSync('ip', ['netns', 'del', STACK]).status).toBe(0);
    const broken = runLab(['--name', LAB, 'status']);
    expect(broken.status).toBe(1);
    const up = runLab(['--name', LAB, '--container-stack', 'up']);
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toContain(`+ ip netns add ${STACK}`);
    expect(up.stdout).toContain(`+ ip -n ${STACK} addr add 10.10.0.4/24 dev eth0`);
    expect(stackState()).toMatchObject(PRISTINE);
    expect(runLab(['--name', LAB, 'status']).status).toBe(0);
  });

  it('no /dev/net/tun: a clear message, exit 3, nothing changed', () => {
    const r = entrypointOnce({ STACKD_TUN_DEV: '/nonexistent/tun' });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('/nonexistent/tun is missing');
    expect(r.stderr).toContain('--device /dev/net/tun');
    expect(stackState()).toMatchObject(PRISTINE);
  });

  it('no CAP_NET_ADMIN: a clear message, exit 3, nothing changed', () => {
    const r = entrypointOnce({}, ['setpriv', '--bounding-set', '-net_admin', '--inh-caps', '-net_admin']);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('no CAP_NET_ADMIN');
    expect(r.stderr).toContain('--cap-add NET_ADMIN');
    expect(stackState()).toMatchObject(PRISTINE);
  });

  it('address already in use (another host answers ARP for 10.10.0.4): exit 4, names the MAC, nothing changed', () => {
    expect(spawnSync('ip', ['-n', C2, 'addr', 'add', `${ADDR}/32`, 'dev', 'eth0']).status).toBe(0);
    try {
      const r = entrypointOnce();
      expect(r.status).toBe(4);
      expect(r.stderr).toContain(`${ADDR} is already in use on the network: ${macOf(C2, 'eth0')} answers ARP`);
    } finally {
      spawnSync('ip', ['-n', C2, 'addr', 'del', `${ADDR}/32`, 'dev', 'eth0']);
    }
    expect(stackState()).toMatchObject(PRISTINE);
  });

  it('a step failing half-way rolls every change back (trap): address, route, no br0/tap0', () => {
    const r = entrypointOnce({ STACKD_ENTRYPOINT_TEST_FAIL_ON: 'tap0 master br0' });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('+ ip addr del 10.10.0.4/24 dev eth0'); // it got that far ...
    expect(r.stderr).toContain('rolling back');
    const s = stackState(); // ... and is back where it started
    expect(s).toMatchObject(PRISTINE);
    expect(s.routes).toContain(`default via ${LAB_ADDR.host} dev eth0`);
    expect(inNs(STACK, 'cat', ['/sys/class/net/eth0/ifalias']).stdout.trim()).toBe(''); // saved state undone too
  });

  it('runs: prints each command, bridges eth0 and tap0, the kernel lets go of 10.10.0.4, stackd is healthy', async () => {
    ep = await startEntrypoint();
    const out = ep.output();
    for (const line of [
      '+ ip tuntap add dev tap0 mode tap',
      '+ ip link add br0 address 02:42:0a:0a:00:04 type bridge stp_state 0 forward_delay 0',
      '+ ip addr del 10.10.0.4/24 dev eth0',
      '+ ip link set dev eth0 master br0',
      '+ ip link set dev tap0 master br0',
      `--ip 10.10.0.4/24 --gateway ${LAB_ADDR.host} --control ${CONTROL} --workers 2 --tap tap0 --log-level warn`,
    ]) {
      expect(out).toContain(line);
    }
    const s = stackState();
    expect(s.links).toEqual(['br0', 'eth0', 'lo', 'tap0']);
    expect(s.addrs).toEqual(['lo 127.0.0.1/8']); // 10.10.0.4 is gone from the kernel
    expect(master(STACK, 'eth0')).toBe('br0');
    expect(master(STACK, 'tap0')).toBe('br0');
    const st = runLab(['--name', LAB, 'status']);
    expect(st.stdout).toContain('entrypoint has run: stackd owns 10.10.0.4');
    expect(st.stdout).toContain('tap0  carrier (stackd attached)');
  });

  it('c1 pings 10.10.0.4 with 0% loss', () => {
    const r = inNs(C1, 'ping', ['-n', '-c', '20', '-i', '0.05', '-W', '1', ADDR], { timeoutMs: 20_000 });
    expect(r.stdout).toMatch(/20 packets transmitted, 20 received, 0% packet loss/);
  });

  it("arping gets stackd's MAC, not the kernel MAC of the stack namespace's eth0", async () => {
    const mac = ((JSON.parse((await controlRequest(CONTROL, '/stats')).body) as { mac: string }).mac).toLowerCase();
    const eth0 = macOf(STACK, 'eth0');
    expect(mac).not.toBe(eth0);
    const r = inNs(C1, 'arping', ['-c', '2', '-W', '0.2', '-w', '3', '-I', 'eth0', ADDR], { timeoutMs: 15_000 });
    const out = r.stdout.toLowerCase();
    expect(out).toMatch(/2 packets transmitted, 2 packets received/);
    expect(out).toContain(`from ${mac} (${ADDR})`);
    expect(out).not.toContain(eth0);
  });

  it('echoes UDP on port 7 to nc -u', () => {
    const r = inNs(C1, 'bash', ['-c', `printf 'through the entrypoint\\n' | nc -u -n -w1 ${ADDR} 7`], { timeoutMs: 10_000 });
    expect(r.stdout).toBe('through the entrypoint\n');
  });

  it('a second entrypoint while stackd runs refuses: tap0 in use, exit 4', () => {
    const r = entrypointOnce({ STACKD_CONTROL: join(DIR, 'second.sock') });
    expect(r.status).toBe(4);
    expect(r.stderr).toContain('tap0 is in use');
    // Nor does the lab switch back to tap0-in-host under a running stack.
    const sw = runLab(['--name', LAB, '--no-container-stack', 'up']);
    expect(sw.status).toBe(2);
    expect(sw.stderr).toContain(`processes run in ${STACK}`);
    expect(stackState().links).toEqual(['br0', 'eth0', 'lo', 'tap0']);
  });

  it('docker/load.sh (the load profile) from c1: stackd-load 4 at once, 12 in all, with ping and UDP; no failure, no loss', () => {
    builtFile('load/stackd-load.js');
    const t0 = Date.now();
    const r = inNs(C1, 'bash', [LOAD_SCRIPT], {
      timeoutMs: 40_000,
      env: {
        ...ENV, LOAD_CLIENTS: '4', LOAD_TOTAL: '12', LOAD_DURATION: '5', LOAD_BYTES: '64K', LOAD_CONTROL: CONTROL,
        LOAD_PINGS: '10', LOAD_PING_INTERVAL: '0.02', LOAD_DATAGRAMS: '10',
      },
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('stackd-load: 12 clients (process mode, at most 4 at once, peak 4) against 10.10.0.4');
    expect(r.stdout).toContain('\nfailures: none\n');
    expect(r.stdout).toMatch(/\nstackd \/stats over the run: tcp_passive_opens \+12, tcp_established_total \+12,/);
    expect(r.stdout).toContain('load: ping  10/10 echo replies (0% lost)');
    expect(r.stdout).toContain('load: udp   10/10 echoes (0% lost)');
    expect(r.stdout).toMatch(/load: ok\n$/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('docker/load.sh refuses unbounded settings (exit 2)', () => {
    for (const [k, v] of [
      ['LOAD_CLIENTS', '0'], ['LOAD_CLIENTS', '1025'], ['LOAD_TOTAL', '0'], ['LOAD_DURATION', '601'], ['LOAD_PINGS', 'x'], ['LOAD_MODE', 'x'],
    ] as const) {
      const r = spawnSync('bash', [LOAD_SCRIPT], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, [k]: v } });
      expect(r.status, `${k}=${v}`).toBe(2);
      expect(r.stderr).toContain(`${k} must be`);
    }
  });

  it('curl http://10.10.0.4/ answers 2xx (stackd\'s HTTP service over its TCP)', () => {
    expect(stackdHasTcp(C1)).toBe(true);
    const r = inNs(C1, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', `http://${ADDR}/`], { timeoutMs: 10_000 });
    expect(r.stdout).toMatch(/^2\d\d$/);
  });

  it('restart: stop stackd, run the entrypoint again (tap0 and br0 exist, address already removed)', async () => {
    expect(await ep!.stop()).toBe(0);
    ep = undefined;
    ep = await startEntrypoint();
    const out = ep.output();
    expect(out).toContain('restart: 10.10.0.4/24 already removed from eth0');
    expect(out).toContain('tap0 already exists (restart?): reusing it');
    expect(out).toContain('br0 already exists (restart?): reusing it');
    expect(out).not.toContain('+ ip tuntap add');
    expect(out).toContain(`--ip 10.10.0.4/24 --gateway ${LAB_ADDR.host}`);
    expect(stackState().links).toEqual(['br0', 'eth0', 'lo', 'tap0']);
    const r = inNs(C1, 'ping', ['-n', '-c', '5', '-i', '0.1', '-W', '1', ADDR], { timeoutMs: 10_000 });
    expect(r.stdout).toMatch(/5 packets transmitted, 5 received, 0% packet loss/);
    // lab.sh up on the running lab leaves the stack alone (never gives 10.10.0.4 back to the kernel).
    const up = runLab(['--name', LAB, 'up']);
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).not.toContain('+ ip ');
    expect(stackState().addrs).toEqual(['lo 127.0.0.1/8']);
  });

  it('lab down stops stackd and removes every namespace; the root namespace gained nothing', async () => {
    const d = runLab(['--name', LAB, '--quiet', 'down']);
    expect(d.status, d.stderr).toBe(0);
    expect(await ep!.stop()).not.toBeUndefined();
    ep = undefined;
    expect(listNamespaces().filter((n) => n.startsWith(`${LAB}-`))).toEqual([]);
    const now = rootSnapshot();
    expect(now.links.filter((l) => !rootBefore.links.includes(l))).toEqual([]);
    expect(now.priv.filter((a) => !rootBefore.priv.includes(a))).toEqual([]);
  });
});
