/**
 * `npm run demo`: the stack working end to end in the namespace lab.
 *
 * First the programs it runs (ip, ping, nc, curl): if any is missing it prints one line
 * naming the Debian packages to install and exits 1 before touching anything. Then: lab
 * up → `stackd --workers 4 --tap tap0 --ip6 fd00:10:10::4/64` in the lab's host namespace →
 * from the client: 100 pings, a 4000-byte ping (fragmented both ways), ping -6 to the IPv6
 * address and to the link-local one with the client's neighbour entry, a UDP echo with nc,
 * a TCP echo with nc (RFC 862), `curl /bytes/N` with its sha256 checked against the pattern → a short
 * /stats summary → stackd stopped, lab down. Exits 1 if any step or check fails.
 * Needs root (namespaces and a TAP) and a build (`npm install` does it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest, waitForIpv6Addresses } from '../src/control/control-client.js';
import type { StatsSnapshot } from '../src/control/types.js';
import { packageRoot } from '../src/phy/package-root.js';
import { BYTES_CHUNK, patternChunk } from '../src/services/http.js';
import { DEMO_TOOLS, installHint, missingTools } from './demo-tools.js';

const LAB = process.env.STACKD_LAB ?? 'demo';
const HOST = `${LAB}-host`;
const CLIENT = `${LAB}-c1`;
const STACK = '10.10.0.4';
const STACK6 = 'fd00:10:10::4';
const root = packageRoot();
const lab = join(root, 'lab', 'lab.sh');
/** Bytes fetched from /bytes/N. */
const BYTES_N = 10_000_000;

function step(title: string): void {
  process.stdout.write(`\n\x1b[1m== ${title}\x1b[0m\n`);
}

/** Runs a command, shows it and its output (unless `quiet`: binary output), returns stdout. */
function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; quiet?: boolean } = {}): Buffer {
  process.stdout.write(`$ ${[cmd, ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { input: opts.input, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 4 * BYTES_N });
  if (r.pid === 0) throw r.error ?? new Error(`${cmd} did not start`); // then stdout and stderr are null
  if (!opts.quiet) process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
  return r.stdout;
}

/** sha256 of the first n bytes of the /bytes pattern (src/services/http.ts). */
function patternSha256(n: number): string {
  const h = createHash('sha256');
  for (let o = 0; o < n; o += BYTES_CHUNK) h.update(patternChunk(o, Math.min(BYTES_CHUNK, n - o)));
  return h.digest('hex');
}

function expect(cond: boolean, what: string): void {
  if (!cond) throw new Error(`check failed: ${what}`);
  process.stdout.write(`\x1b[32mok\x1b[0m ${what}\n`);
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the demo needs root (network namespaces and a TAP device)');
  const dir = mkdtempSync(join(tmpdir(), 'stackd-demo-'));
  const control = join(dir, 'control.sock');
  let stackd: ReturnType<typeof spawn> | null = null;
  try {
    step('lab up: bridge 10.10.0.1/24 with tap0, client 10.10.0.3 and fd00:10:10::3 (namespaces only)');
    run('bash', [lab, '--name', LAB, 'up']);

    step(`stackd --workers 4 --tap tap0 --ip6 ${STACK6}/64 (in the lab host namespace, owning 10.10.0.4 and ${STACK6})`);
    stackd = spawn('ip', ['netns', 'exec', HOST, process.execPath, join(root, 'dist/src/cli/stackd.js'),
      '--workers', '4', '--tap', 'tap0', '--ip6', `${STACK6}/64`, '--control', control, '--log-level', 'warn'], { stdio: ['ignore', 'inherit', 'inherit'] });
    const deadline = Date.now() + 15_000;
    for (;;) {
      const ok = await controlRequest(control, '/health').then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() > deadline || stackd.exitCode !== null) throw new Error('stackd did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    process.stdout.write(`stackd is up; control API on ${control}\n`);

    step('100 pings from the client');
    const p = run('ip', ['netns', 'exec', CLIENT, 'ping', '-c', '100', '-i', '0.01', '-q', STACK]).toString();
    expect(/100 received, 0% packet loss/.test(p), '100 pings, 0% loss');

    step('a 4000-byte ping (travels as 3 IPv4 fragments each way)');
    const big = run('ip', ['netns', 'exec', CLIENT, 'ping', '-c', '3', '-s', '4000', STACK]).toString();
    expect(/3 received/.test(big) && !/wrong data/.test(big), '4000-byte pings answered with identical data');

    step('ping -6: the IPv6 address and the link-local one (from the MAC); the client learnt our MAC by neighbour discovery');
    await waitForIpv6Addresses(control);
    const st6 = JSON.parse((await controlRequest(control, '/stats')).body) as StatsSnapshot;
    const linkLocal = st6.ipv6[0].address.replace(/\/64$/, '');
    const p6 = run('ip', ['netns', 'exec', CLIENT, 'ping', '-6', '-c', '3', '-i', '0.2', STACK6]).toString();
    expect(/3 received/.test(p6), `ping -6 ${STACK6} answered`);
    const ll = run('ip', ['netns', 'exec', CLIENT, 'ping', '-6', '-c', '3', '-i', '0.2', `${linkLocal}%eth0`]).toString();
    expect(/3 received/.test(ll), `ping -6 ${linkLocal}%eth0 answered`);
    const neigh = run('ip', ['netns', 'exec', CLIENT, 'ip', '-6', 'neigh', 'show', STACK6, 'dev', 'eth0']).toString();
    expect(neigh.includes(`lladdr ${st6.mac}`), `ip -6 neigh: ${STACK6} is at ${st6.mac}`);

    step('UDP echo on port 7 with nc -u');
    const echo = run('ip', ['netns', 'exec', CLIENT, 'nc', '-u', '-w1', STACK, '7'], { input: 'hello, stackd\n' }).toString();
    expect(echo === 'hello, stackd\n', 'UDP echo returned the same bytes');

    step('TCP echo on port 7 with nc (RFC 862; -N sends FIN after the input)');
    const line = 'hello over TCP, from the Linux client\n';
    const tcpEcho = run('ip', ['netns', 'exec', CLIENT, 'nc', '-N', '-w', '5', STACK, '7'], { input: line }).toString();
    expect(tcpEcho === line, 'TCP echo returned the same bytes');

    step(`curl http://${STACK}/bytes/${BYTES_N}, checked by sha256`);
    const body = run('ip', ['netns', 'exec', CLIENT, 'curl', '-sS', '-m', '30', `http://${STACK}/bytes/${BYTES_N}`], { quiet: true });
    const got = createHash('sha256').update(body).digest('hex');
    const want = patternSha256(BYTES_N);
    process.stdout.write(`received ${body.length} bytes\nsha256 received ${got}\nsha256 expected ${want}\n`);
    expect(body.length === BYTES_N && got === want, `${BYTES_N} bytes, sha256 as the /bytes pattern says`);

    step('/stats summary');
    const st = JSON.parse((await controlRequest(control, '/stats')).body) as StatsSnapshot;
    process.stdout.write(`workers: ${st.workers}, mac ${st.mac}, ip ${st.ip}/${st.prefixLength}\n`);
    for (const t of st.threads) {
      const c = t.counters;
      process.stdout.write(
        t.thread === 'io'
          ? `  io        tap rx ${c.tap_rx_frames} frames / tx ${c.tap_tx_frames} frames\n`
          : `  ${t.thread.padEnd(9)} rx ${c.rx_frames} frames, tx ${c.tx_frames} frames, echo replies ${c.icmp_echo_replies_tx}, udp ${c.udp_rx}, tcp accepted ${c.tcp_passive_opens}\n`,
      );
    }
    process.stdout.write(`  drops: ${JSON.stringify(st.drops)}\n`);
    expect(st.workers === 4, '/stats shows 4 workers');
  } finally {
    step('cleanup: stop stackd, lab down');
    const child = stackd;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    }
    spawnSync('bash', [lab, '--name', LAB, '--quiet', 'down'], { stdio: 'inherit' });
    rmSync(dir, { recursive: true, force: true });
  }
}

const missing = missingTools(Object.keys(DEMO_TOOLS), process.env.PATH ?? '');
if (missing.length > 0) {
  process.stderr.write(`${installHint(missing)}\n`); // one line, and nothing touched
  process.exitCode = 1;
} else {
  main().then(
    () => process.stdout.write('\n\x1b[32mdemo passed\x1b[0m\n'),
    (e: unknown) => {
      process.stderr.write(`\ndemo failed: ${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
