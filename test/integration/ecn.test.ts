/**
 * ECN (RFC 3168, src/tcp/ecn.ts) against the Linux TCP in the lab's client namespace,
 * which asks for ECN (net.ipv4.tcp_ecn=1 there): the negotiation and ECT(0) data seen in
 * stackd's counters; a download and an upload with nftables in the client namespace
 * setting CE on 2 % of the ECT packets (kernel-side, independent of our code), which
 * arrive byte for byte with ECE, CWR and cwnd reductions on the side that sent the data;
 * and `--ecn on`: stackd's own active opens (an application's net.connect) ask for ECN
 * and get it from the kernel.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternSha256 } from '../helpers/http-pattern.js';
import { inNs, labDown, labUp, nsName, requireNetOrSkip } from '../helpers/lab.js';
import { startStackd, stopIfStarted, type StackdHandle } from '../helpers/stackd-process.js';
import { PORT as APP_PORT, patternByte } from './fixtures/ecn-connect-app.mjs';

const LAB = `ec${process.pid % 10000}`;
const HOST = nsName(LAB, 'host');
const C1 = nsName(LAB, 'c1');
const STACK = '10.10.0.4';
const CLIENT = '10.10.0.3';
const MB = 1024 * 1024;
const APP = fileURLToPath(new URL('./fixtures/ecn-connect-app.mjs', import.meta.url));

function sh(ns: string, script: string, timeoutMs = 120_000) {
  return inNs(ns, 'bash', ['-c', script], { timeoutMs });
}

/** nftables in the client namespace: CE on 2 % of the ECT(0) packets going `dir` ('in': from stackd, 'out': to it). */
function markCe(dir: 'in' | 'out'): void {
  const hook = dir === 'in' ? 'input' : 'output';
  const match = dir === 'in' ? `ip saddr ${STACK}` : `ip daddr ${STACK}`;
  const rules = `
table ip ecnmark {
  chain c { type filter hook ${hook} priority 0; ${match} ip ecn ect0 numgen random mod 100 < 2 ip ecn set ce counter; }
}`;
  const r = inNs(C1, 'nft', ['-f', '-'], { input: rules });
  expect(r.status, r.stderr).toBe(0);
}

/** Packets the CE rule marked (its counter), then the table removed. */
function unmark(): number {
  const r = inNs(C1, 'nft', ['list', 'table', 'ip', 'ecnmark']);
  inNs(C1, 'nft', ['delete', 'table', 'ip', 'ecnmark']);
  return Number(/counter packets (\d+)/.exec(r.stdout)?.[1] ?? -1);
}

/** The change of stackd's counter totals over `run` (what it returns is passed through). */
async function countersOver<T>(stackd: StackdHandle, run: () => T): Promise<{ result: T; d: (name: string) => number }> {
  const before = (await stackd.stats()).totals;
  const result = run();
  const after = (await stackd.stats()).totals;
  return { result, d: (k) => (after[k] ?? 0) - (before[k] ?? 0) };
}

describe.skipIf(requireNetOrSkip())('ECN with the Linux TCP as the peer (tcp_ecn=1 in the client namespace)', () => {
  let stackd: StackdHandle;

  beforeAll(async () => {
    labUp(LAB, { clients: 1 });
    const r = inNs(C1, 'sysctl', ['-w', 'net.ipv4.tcp_ecn=1']);
    expect(r.status, r.stderr).toBe(0);
    stackd = await startStackd(HOST, ['--workers', '2', '--tap', 'tap0', '--ecn', 'on', '--app', APP]);
  }, 60_000);

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB);
  });

  it('a download: the kernel’s ECN-setup SYN is answered, our data goes out ECT(0), no CE means no ECE', async () => {
    const { result: r, d } = await countersOver(stackd, () => sh(C1, `curl -s -m 60 http://${STACK}/bytes/${10 * MB} | sha256sum`));
    expect(r.stdout.split(' ')[0]).toBe(patternSha256(10 * MB));
    expect(d('tcp_ecn_negotiated')).toBe(1);
    expect(d('tcp_ecn_ect_tx')).toBeGreaterThan(10);
    expect(d('tcp_ecn_ece_rx')).toBe(0);
    expect(d('tcp_ecn_cwnd_reductions')).toBe(0);
  });

  it('a download with CE on 2 % of our ECT packets: byte-identical, the kernel echoes ECE, we reduce cwnd and send CWR', async () => {
    markCe('in');
    const { result: r, d } = await countersOver(stackd, () => sh(C1, `curl -s -m 100 http://${STACK}/bytes/${30 * MB} | sha256sum`, 120_000));
    const marked = unmark();
    expect(r.stdout.split(' ')[0]).toBe(patternSha256(30 * MB));
    expect(marked).toBeGreaterThan(0);
    expect(d('tcp_ecn_negotiated')).toBe(1);
    expect(d('tcp_ecn_ece_rx')).toBeGreaterThan(0);
    expect(d('tcp_ecn_cwnd_reductions')).toBeGreaterThan(0);
    expect(d('tcp_ecn_cwnd_reductions')).toBeLessThanOrEqual(marked);
    expect(d('tcp_ecn_cwr_tx')).toBeGreaterThan(0);
    expect(d('tcp_ecn_cwr_tx')).toBeLessThanOrEqual(d('tcp_ecn_cwnd_reductions') + d('tcp_fast_retransmits') + d('tcp_rto_timeouts'));
  });

  it('an upload with CE on 2 % of the kernel’s ECT packets: byte-identical, we echo ECE until the kernel’s CWR', async () => {
    markCe('out');
    const post = `head -c ${30 * MB} /dev/zero | curl -s -m 100 -H 'Content-Type: application/octet-stream' --data-binary @- http://${STACK}/sink`;
    const { result: r, d } = await countersOver(stackd, () => sh(C1, post, 120_000));
    const marked = unmark();
    expect(JSON.parse(r.stdout)).toEqual({ bytes: 30 * MB, sha256: createHash('sha256').update(Buffer.alloc(30 * MB)).digest('hex') });
    expect(marked).toBeGreaterThan(0);
    expect(d('tcp_ecn_negotiated')).toBe(1);
    expect(d('tcp_ecn_ce_rx')).toBeGreaterThan(0);
    expect(d('tcp_ecn_ece_tx')).toBeGreaterThan(0);
    expect(d('tcp_ecn_cwr_rx')).toBeGreaterThan(0);
  });

  it('--ecn on: an application’s net.connect sends an ECN-setup SYN, the kernel accepts, the upload arrives with ECT(0)', async () => {
    const bytes = 5 * MB;
    const expected = createHash('sha256');
    const block = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) block[i] = patternByte(i);
    expected.update(block);
    // The kernel listens in the client namespace; the app connects to it when asked.
    const { result: r, d } = await countersOver(stackd, () => sh(C1, `
      timeout 60 nc -d -l -p 9000 | sha256sum > /tmp/${LAB}-ecn-upload &
      for i in $(seq 200); do ss -Hltn 'sport = :9000' | grep -q . && break; sleep 0.05; done
      echo "${CLIENT} 9000 ${bytes}" | timeout 60 nc -N ${STACK} ${APP_PORT}
      wait
      cat /tmp/${LAB}-ecn-upload; rm -f /tmp/${LAB}-ecn-upload`, 90_000));
    expect(r.stdout).toContain(`sent ${bytes}`);
    expect(r.stdout).toContain(expected.digest('hex'));
    expect(d('tcp_active_opens')).toBe(1);
    // Negotiated twice: the control connection (the kernel asked) and the app's connect (we asked).
    expect(d('tcp_ecn_negotiated')).toBe(2);
    expect(d('tcp_ecn_ect_tx')).toBeGreaterThan(10);
  });
});
