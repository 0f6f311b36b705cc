/**
 * ICMP errors from a real Linux host reaching stackd's sockets (RFC 1122 4.1.3.3 and
 * 4.2.3.9): an application in stackd (test/integration/fixtures/icmp-probe-app.mjs, on
 * 2 workers) sends from a connected UDP socket to a closed port of the lab's client, whose
 * kernel answers with port unreachable: the socket's 'error' is ECONNREFUSED. A TCP
 * connect to a port the client rejects with an ICMP port unreachable (nftables `reject`)
 * fails at once with ECONNREFUSED instead of retrying its SYN for two minutes; one the
 * client rejects with a TCP RST fails the same way, as before.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_ADDR, inNs, labDown, labUp, nsName, requireNetOrSkip } from '../helpers/lab.js';
import { startStackd, stopIfStarted, type StackdHandle } from '../helpers/stackd-process.js';
import { PORT as PROBE_PORT } from './fixtures/icmp-probe-app.mjs';

const LAB = `ie${process.pid % 10000}`;
const HOST = nsName(LAB, 'host');
const C1 = nsName(LAB, 'c1');
const PROBE_APP = fileURLToPath(new URL('./fixtures/icmp-probe-app.mjs', import.meta.url));

/** Asks the probe app in stackd to try `kind` to the client's `port`; its one-line answer. */
function probe(kind: 'udp' | 'tcp', port: number): string {
  const r = inNs(C1, 'bash', ['-c', `printf '%s\\n' '${kind} ${LAB_ADDR.c1} ${port}' | nc -w 15 ${LAB_ADDR.stack} ${PROBE_PORT}`], { timeoutMs: 20_000 });
  return r.stdout.trim();
}

describe.skipIf(requireNetOrSkip())('ICMP errors from Linux reach stackd\'s sockets', () => {
  let stackd: StackdHandle;

  beforeAll(async () => {
    labUp(LAB, { clients: 1 });
    const nft = inNs(C1, 'nft', ['-f', '-'], {
      input: 'table ip probe {\n chain input {\n  type filter hook input priority 0;\n  tcp dport 9997 reject with icmp type port-unreachable\n }\n}\n',
    });
    if (nft.status !== 0) throw new Error(`nft: ${nft.stderr}`);
    stackd = await startStackd(HOST, ['--workers', '2', '--tap', 'tap0', '--app', PROBE_APP]);
  });

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB);
  });

  it('RFC 1122 4.1.3.3: a datagram from a connected UDP socket to a closed port: the kernel\'s port unreachable makes the socket emit ECONNREFUSED', async () => {
    const before = (await stackd.stats()).totals;
    expect(probe('udp', 9999)).toBe('ECONNREFUSED');
    const after = (await stackd.stats()).totals;
    expect(after.udp_icmp_errors - before.udp_icmp_errors).toBe(1);
    expect(after.drop_icmp_error_no_flow).toBe(0);
  });

  it('RFC 1122 4.2.3.9: a connect() answered by ICMP port unreachable fails at once with ECONNREFUSED (a hard error while opening)', async () => {
    const before = (await stackd.stats()).totals;
    expect(probe('tcp', 9997)).toBe('ECONNREFUSED');
    const after = (await stackd.stats()).totals;
    expect(after.tcp_icmp_hard_errors - before.tcp_icmp_hard_errors).toBe(1);
  });

  it('a connect() to a closed port without the firewall is refused by RST, as before', () => {
    expect(probe('tcp', 9996)).toBe('ECONNREFUSED');
  });
});
