/**
 * lab/netlab.sh lessons (c) NAT, (d) port forwarding and (e) isolation, on a lab with
 * stackd on tap0 (started with --gateway 10.10.0.1 so it answers off-subnet peers):
 * - a client reaches a kernel server in <lab>-wan, which sees it as 192.168.100.1
 *   (masqueraded); without the MASQUERADE rule it cannot, and "nat up" repairs that;
 * - Docker-style DNAT: udp <host address>:8007 -> stackd 10.10.0.4:7 from the outside,
 *   from a client (hairpin) and from the host namespace itself (OUTPUT chain); the HTTP
 *   variant (tcp 8080 -> 10.10.0.4:80) asserts the TCP probe first;
 * - two networks on two bridges cannot reach each other until DOCKER-USER allows it.
 * All rules live in the lab's namespaces; the root namespace gains nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_ADDR, inNs, labDown, labUp, listNamespaces, netlab, nsName, requireNetOrSkip, runLab, runNetlab, stackdHasTcp } from '../helpers/lab.js';
import { startStackd, type StackdHandle } from '../helpers/stackd-process.js';
import { waitFor } from '../helpers/wait-for.js';

const skip = requireNetOrSkip();
const LAB = `nl${process.pid % 10000}n`;
const HOST = nsName(LAB, 'host');
const C1 = nsName(LAB, 'c1');
const WAN = nsName(LAB, 'wan');
const NET2 = nsName(LAB, 'net2');
const WAN_HOST = '192.168.100.1';
const WAN_PEER = '192.168.100.2';

function iptablesSave(ns: string): string {
  return spawnSync('ip', ['netns', 'exec', ns, 'iptables-save'], { encoding: 'utf8' }).stdout
    .split('\n')
    .filter((l) => l.startsWith('-A ') || (l.startsWith(':') && !/^:(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING) ACCEPT/.test(l)))
    .join('\n');
}

/** A kernel TCP server (nc -l) in `ns` that prints who connected; the client sends one line. */
async function connectThroughNat(clientNs: string, port: number): Promise<{ server: string; client: number | null }> {
  const srv = spawn('ip', ['netns', 'exec', WAN, 'timeout', '8', 'nc', '-v', '-l', '-n', '-p', String(port), '-w', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  srv.stdout.on('data', (d: Buffer) => (out += d.toString()));
  srv.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<void>((r) => srv.once('exit', () => r()));
  let exited = false;
  void done.then(() => (exited = true));
  await waitFor(() => {
    if (exited) throw new Error(`nc -l exited before listening: ${out}`);
    return out.includes('Listening');
  }, { what: "nc -l's 'Listening' line", timeoutMs: 8_000, detail: () => out });
  const c = inNs(clientNs, 'bash', ['-c', `echo hello-from-${clientNs} | timeout 5 nc -n -N -w 2 ${WAN_PEER} ${port}`], { timeoutMs: 10_000 });
  if (c.status !== 0) srv.kill('SIGTERM');
  await done;
  return { server: out, client: c.status };
}

/** One datagram with nc -u from `ns` to addr:port; resolves to what came back (nc waits 1 s idle). */
function udpVia(ns: string, addr: string, port: number, msg: string): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', ns, 'bash', '-c', `printf '${msg}\\n' | timeout 5 nc -u -n -w1 ${addr} ${port}`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.once('exit', () => resolve(out));
  });
}

/** One ping; a lost one costs 0.5 s (replies on these links take well under a millisecond). */
function pingOk(ns: string, dst: string): boolean {
  const r = inNs(ns, 'ping', ['-n', '-c', '1', '-W', '0.5', dst], { timeoutMs: 10_000 });
  return /1 packets transmitted, 1 received/.test(r.stdout);
}

function rootPrivate(): string[] {
  return [
    ...spawnSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim().split(/\s+/)[3] ?? ''),
    ...spawnSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).stdout.split('\n'),
    ...spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? ''),
  ].filter(Boolean).sort();
}

describe.skipIf(skip)('lab/netlab.sh: NAT, port forwarding and isolation around stackd', () => {
  let stackd: StackdHandle | undefined;
  let rootBefore: string[];

  beforeAll(async () => {
    runNetlab(['--name', LAB, 'down']);
    labDown(LAB);
    rootBefore = rootPrivate();
    labUp(LAB, { clients: 1 });
    stackd = await startStackd(HOST, ['--workers', '2', '--tap', 'tap0', '--gateway', LAB_ADDR.host]);
  });

  afterAll(async () => {
    await stackd?.stop();
    runNetlab(['--name', LAB, 'down']);
    labDown(LAB);
  });

  it('(c) nat up prints Docker\'s steps; the client reaches <lab>-wan, which sees 192.168.100.1 (masqueraded)', async () => {
    const r = netlab(LAB, 'nat', 'up');
    expect(r.stdout).toContain(`+ ip netns exec ${HOST} sysctl -qw net.ipv4.ip_forward=1`);
    expect(r.stdout).toContain(`+ ip netns exec ${HOST} iptables -t nat -A POSTROUTING -s 10.10.0.0/24 ! -o br0 -j MASQUERADE`);
    // The outside has no way back to 10.10.0.0/24 but the NAT.
    expect(spawnSync('ip', ['-n', WAN, '-4', 'route', 'show'], { encoding: 'utf8' }).stdout).not.toContain('10.10.');
    const { server, client } = await connectThroughNat(C1, 9000);
    expect(client).toBe(0);
    expect(server).toMatch(new RegExp(`Connection received on ${WAN_HOST.replace(/\./g, '\\.')} \\d+`));
    expect(server).toContain(`hello-from-${C1}`);
    expect(server).not.toContain(LAB_ADDR.c1);
  });

  it('(c) without the MASQUERADE rule the connection fails; nat up puts it back', async () => {
    const del = spawnSync('ip', ['netns', 'exec', HOST, 'iptables', '-t', 'nat', '-D', 'POSTROUTING', '-s', '10.10.0.0/24', '!', '-o', 'br0', '-j', 'MASQUERADE']);
    expect(del.status).toBe(0);
    expect(runNetlab(['--name', LAB, 'nat', 'status']).status).toBe(1);
    const broken = await connectThroughNat(C1, 9001);
    expect(broken.client).not.toBe(0);
    expect(broken.server).not.toContain('Connection received');
    const up = netlab(LAB, 'nat', 'up');
    expect(up.stdout.match(/^\+ .*$/gm)).toEqual([`+ ip netns exec ${HOST} iptables -t nat -A POSTROUTING -s 10.10.0.0/24 ! -o br0 -j MASQUERADE`]);
    expect((await connectThroughNat(C1, 9002)).server).toContain(`Connection received on ${WAN_HOST}`);
  });

  it('(d) portfwd: udp 8007 on the host\'s addresses reaches stackd\'s echo (outside, client hairpin, host itself)', async () => {
    const r = netlab(LAB, 'portfwd', 'up');
    expect(r.stdout).toContain(`+ ip netns exec ${HOST} iptables -t nat -A DOCKER -p udp --dport 8007 -j DNAT --to-destination 10.10.0.4:7`);
    expect(r.stdout).toContain(`+ ip netns exec ${HOST} iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER`);
    const got = await Promise.all([
      udpVia(WAN, WAN_HOST, 8007, 'from-outside'), // PREROUTING DNAT; stackd replies via --gateway
      udpVia(C1, LAB_ADDR.host, 8007, 'from-client'), // hairpin: DNAT + MASQUERADE
      udpVia(HOST, WAN_HOST, 8007, 'from-host-wan'), // OUTPUT DNAT
      udpVia(HOST, LAB_ADDR.host, 8007, 'from-host-br0'),
      udpVia(WAN, WAN_HOST, 8008, 'nobody'), // a port that is not published stays closed
    ]);
    expect(got).toEqual(['from-outside\n', 'from-client\n', 'from-host-wan\n', 'from-host-br0\n', '']);
  });

  it('(d) curl http://<host address>:8080/ reaches stackd\'s HTTP on 10.10.0.4:80', () => {
    expect(stackdHasTcp(C1)).toBe(true);
    const curl = (ns: string, addr: string) =>
      inNs(ns, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', `http://${addr}:8080/`], { timeoutMs: 10_000 }).stdout;
    expect(curl(WAN, WAN_HOST)).toMatch(/^2\d\d$/);
    expect(curl(HOST, WAN_HOST)).toMatch(/^2\d\d$/);
    expect(curl(HOST, LAB_ADDR.host)).toMatch(/^2\d\d$/);
    expect(curl(C1, LAB_ADDR.host)).toMatch(/^2\d\d$/);
  });

  it('(e) isolation: 10.10.0.0/24 and 10.20.0.0/24 cannot talk until DOCKER-USER allows it', async () => {
    const r = netlab(LAB, 'isolation', 'up');
    expect(r.stdout).toContain(`+ ip netns exec ${HOST} iptables -t filter -A DOCKER-ISOLATION-STAGE-2 -o br1 -j DROP`);
    expect(r.stdout).toContain(`+ ip netns exec ${HOST} iptables -t filter -I FORWARD 1 -j DOCKER-USER`);
    // Both networks reach their own gateway ...
    expect(pingOk(C1, LAB_ADDR.host)).toBe(true);
    expect(pingOk(NET2, '10.20.0.1')).toBe(true);
    // ... but not each other, in either direction.
    expect(pingOk(C1, '10.20.0.3')).toBe(false);
    expect(pingOk(NET2, LAB_ADDR.c1)).toBe(false);
    const allow = netlab(LAB, 'isolation', 'allow');
    expect(allow.stdout).toContain(`+ ip netns exec ${HOST} iptables -t filter -I DOCKER-USER 1 -i br0 -o br1 -j ACCEPT`);
    expect(pingOk(C1, '10.20.0.3')).toBe(true);
    expect(pingOk(NET2, LAB_ADDR.c1)).toBe(true);
    expect(runNetlab(['--name', LAB, 'isolation', 'status']).stdout).toContain('allowed: yes');
    netlab(LAB, 'isolation', 'deny');
    expect(pingOk(C1, '10.20.0.3')).toBe(false);
    // Isolation does not break NAT or port forwarding (they do not cross br0 <-> br1).
    expect(await udpVia(WAN, WAN_HOST, 8007, 'still-forwarded')).toBe('still-forwarded\n');
  });

  it('netlab down restores the lab exactly: no rules, forwarding off, no wan/net2; lab down leaves the root untouched', async () => {
    netlab(LAB, 'down');
    expect(iptablesSave(HOST)).toBe('');
    expect(inNs(HOST, 'cat', ['/proc/sys/net/ipv4/ip_forward']).stdout.trim()).toBe('0');
    expect(listNamespaces().filter((n) => n.startsWith(`${LAB}-`)).sort()).toEqual([C1, HOST].sort());
    const st = runLab(['--name', LAB, 'status']);
    expect(st.status, st.stdout).toBe(0);
    expect(st.stdout).not.toContain('netlab namespaces');
    // stackd kept answering throughout.
    expect(pingOk(C1, LAB_ADDR.stack)).toBe(true);
    // lab.sh down also removes netlab namespaces left behind.
    netlab(LAB, 'nat', 'up');
    await stackd?.stop();
    stackd = undefined;
    labDown(LAB);
    expect(listNamespaces().filter((n) => n.startsWith(`${LAB}-`))).toEqual([]);
    expect(rootPrivate()).toEqual(rootBefore);
  });
});
