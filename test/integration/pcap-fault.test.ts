/**
 * The operations toolkit against a live stackd in the namespace lab, with real Linux
 * peers: `--pcap` captures a ping and an HTTP exchange that tshark reads back (echo
 * request/reply pairs, the TCP handshake in order, no checksum flagged bad), a capture
 * started and stopped at run time with stackctl (snapshot length honoured, record count
 * as reported), stackctl health and conns on a live connection, and transfers under
 * `--fault` (drop, reorder, duplicate, corrupt in both directions) that arrive
 * byte-identical while the fault counters and the stack's checksum drops count what
 * was done.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/control-client.js';
import type { ArchivedTraceInfo, ConnectionInfo } from '../../src/control/types.js';
import { patternSha256 } from '../helpers/http-pattern.js';
import { waitFor } from '../helpers/wait-for.js';
import { inNs, labDown, labUp, nsName, requireNetOrSkip } from '../helpers/lab.js';
import { startStackd, stopIfStarted, type StackdHandle } from '../helpers/stackd-process.js';
import { stackctl, tshark, type Row } from '../helpers/ops-tools.js';

const LAB = `pf${process.pid % 10000}`;
const HOST = nsName(LAB, 'host');
const C1 = nsName(LAB, 'c1');
const STACK = '10.10.0.4';
const CLIENT = '10.10.0.3';

/** Polls `check` every 50 ms until it returns true, up to `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(requireNetOrSkip())('capture, fault injection and stackctl on a live stackd', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stackd-pf-'));
    labUp(LAB, { clients: 1 });
  });

  afterAll(() => {
    labDown(LAB);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('stackd --pcap', () => {
    let stackd: StackdHandle;
    let file: string;

    beforeAll(async () => {
      file = join(dir, 'start.pcap');
      stackd = await startStackd(HOST, ['--workers', '2', '--tap', 'tap0', '--pcap', file]);
    });
    afterAll(async () => {
      await stopIfStarted(stackd);
    });

    it('tshark reads the ping and the HTTP exchange back: echo pairs, handshake in order, no bad checksum', async () => {
      expect(inNs(C1, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', STACK]).stdout).toMatch(/3 packets transmitted, 3 received/);
      const get = inNs(C1, 'bash', ['-c', `curl -s -m 20 http://${STACK}/bytes/200000 | sha256sum`]);
      expect(get.stdout.split(' ')[0]).toBe(patternSha256(200000));
      // An upload too: what the client's kernel hands over may be aggregated and checksum-partial.
      const up = inNs(C1, 'bash', ['-c', `head -c 300000 /dev/zero | curl -s -m 20 --data-binary @- http://${STACK}/sink`]);
      expect(JSON.parse(up.stdout)).toMatchObject({ bytes: 300000 });
      const status = (await stackd.stats()).pcap;
      expect(status).toMatchObject({ active: true, file, snaplen: 262144, dropped: 0 });
      const { code } = await stackd.stop(); // SIGTERM: the capture is closed with everything in it
      expect(code).toBe(0);

      const rows = tshark(file, ['frame.len', 'ip.src', 'ip.dst', '_ws.col.Protocol', 'icmp.type', 'icmp.seq', 'tcp.flags', 'tcp.srcport', 'tcp.dstport', 'tcp.checksum.status', 'ip.checksum.status', 'udp.checksum.status']);
      expect(rows.length).toBeGreaterThanOrEqual(status.records);
      const at = (pred: (r: Row) => boolean): number => rows.findIndex(pred);
      for (const seq of ['1', '2', '3']) {
        const req = at((r) => r['icmp.type'] === '8' && r['icmp.seq'] === seq && r['ip.src'] === CLIENT && r['ip.dst'] === STACK);
        const rep = at((r) => r['icmp.type'] === '0' && r['icmp.seq'] === seq && r['ip.src'] === STACK && r['ip.dst'] === CLIENT);
        expect(req, `echo request ${seq}`).toBeGreaterThanOrEqual(0);
        expect(rep, `echo reply ${seq} after its request`).toBeGreaterThan(req);
        expect(rows[req]['frame.len']).toBe('98');
      }
      const syn = at((r) => r['tcp.flags'] === '0x0002' && r['ip.src'] === CLIENT && r['tcp.dstport'] === '80');
      const port = rows[syn]?.['tcp.srcport'];
      const synAck = at((r) => r['tcp.flags'] === '0x0012' && r['ip.src'] === STACK && r['tcp.dstport'] === port);
      const ack = at((r) => r['tcp.flags'] === '0x0010' && r['ip.src'] === CLIENT && r['tcp.srcport'] === port);
      expect(syn).toBeGreaterThanOrEqual(0);
      expect(synAck).toBeGreaterThan(syn);
      expect(ack).toBeGreaterThan(synAck);
      // 0 = bad, 1 = good, 2 = not checked; every TCP and IP checksum must be good.
      const tcp = rows.filter((r) => r['tcp.checksum.status'] !== '');
      expect(tcp.length).toBeGreaterThan(100);
      expect(tcp.filter((r) => r['tcp.checksum.status'] !== '1')).toEqual([]);
      expect(rows.filter((r) => r['ip.checksum.status'] !== '' && r['ip.checksum.status'] !== '1')).toEqual([]);
      // The download went out as TSO super-frames; the capture shows the wire's segments.
      expect(rows.filter((r) => r['ip.src'] === STACK && r['tcp.srcport'] === '80').every((r) => Number(r['frame.len']) <= 1514)).toBe(true);
    });
  });

  describe('stackctl against a stackd started without --pcap', () => {
    let stackd: StackdHandle;

    beforeAll(async () => {
      stackd = await startStackd(HOST, ['--workers', '2', '--tap', 'tap0']);
    });
    afterAll(async () => {
      await stopIfStarted(stackd);
    });

    it('health: ok, exit 0; a socket nobody listens on: one line, exit 1', () => {
      const h = stackctl(stackd.control, 'health');
      expect([h.status, h.stdout, h.stderr]).toEqual([0, 'ok: I/O thread up, 2/2 workers up\n', '']);
      const none = stackctl(join(dir, 'nobody.sock'), 'stats');
      expect(none.status).toBe(1);
      expect(none.stderr).toBe(`stackctl: no stackd control socket at ${join(dir, 'nobody.sock')}: is stackd running? (--control)\n`);
    });

    it('pcap start / stop at run time: the snapshot length is honoured and the record count is what tshark reads', () => {
      const file = join(dir, 'runtime.pcap');
      const start = stackctl(stackd.control, 'pcap', 'start', file, '--snaplen', '96');
      expect(start.status, start.stderr).toBe(0);
      expect(start.stdout).toMatch(new RegExp(`^capturing to ${file} \\(snaplen 96\\)`));
      expect(inNs(C1, 'ping', ['-c', '2', '-i', '0.2', '-s', '500', '-W', '2', STACK]).stdout).toMatch(/2 received/);
      const stop = stackctl(stackd.control, 'pcap', 'stop', '--json');
      expect(stop.status, stop.stderr).toBe(0);
      const st = JSON.parse(stop.stdout) as { active: boolean; records: number; bytes: number };
      expect(st.active).toBe(false);
      expect(statSync(file).size).toBe(st.bytes);
      const rows = tshark(file, ['frame.len', 'frame.cap_len', 'icmp.type']);
      expect(rows.length).toBe(st.records);
      const echoes = rows.filter((r) => r['icmp.type'] === '8' || r['icmp.type'] === '0');
      expect(echoes.map((r) => [r['frame.len'], r['frame.cap_len']])).toEqual(Array(4).fill(['542', '96']));
    });

    it('conns shows a live connection with its id, state, worker and windows; --port filters; trace ID shows its handshake', async () => {
      // A connection that stays open: nc sends nothing for a while to the discard service.
      const nc = spawn('ip', ['netns', 'exec', C1, 'bash', '-c', `sleep 10 | nc ${STACK} 9`], { stdio: 'ignore' });
      try {
        await until('an ESTABLISHED connection to port 9', 10_000, async () => {
          const conns = JSON.parse((await controlRequest(stackd.control, '/connections')).body) as ConnectionInfo[];
          return conns.some((c) => c.local === `${STACK}:9` && c.state === 'ESTABLISHED');
        });
        const t = stackctl(stackd.control, 'conns', '--port', '9');
        expect(t.status).toBe(0);
        const lines = t.stdout.trimEnd().split('\n');
        expect(lines[0]).toMatch(/^id +state +local +peer +worker +recv-q +send-q +rtt\/rttvar ms +rto +cwnd +ssthresh +snd_wnd +rcv_wnd +mss +retrans +options$/);
        const row = lines.slice(1).map((l) => new RegExp(`^([01]\\.\\d+) +ESTABLISHED +${STACK}:9 +(${CLIENT}:\\d+) +[01] +0 +0 `).exec(l)).find((m) => m !== null);
        expect(row).toBeDefined();
        // The congestion control (NewReno, the default), then RACK's state, close the options
        // column, as ss -ti shows them; nothing was sent yet, so RACK has no min RTT.
        expect(lines.find((l) => l.includes(`${STACK}:9 `))).toMatch(/ newreno rack:\(minrtt:-,reo_wnd:0\)$/);
        expect(stackctl(stackd.control, 'conns', '--port', '7').stdout).toBe('no TCP connections\n');
        // Its trace, by the id conns showed: the handshake as this end saw it.
        const [, id, peer] = row ?? [];
        const tr = stackctl(stackd.control, 'trace', id);
        expect(tr.status).toBe(0);
        const out = tr.stdout.split('\n');
        expect(out[0]).toBe(`connection ${id}: ${STACK}:9 ↔ ${peer} on worker ${id.split('.')[0]}, ESTABLISHED (live)`);
        const events = out.slice(4).map((l) => l.trim().replace(/^\d+\.\d{3} +/, '').replace(/ +/g, ' '));
        expect(events.slice(0, 5).map((e) => e.replace(/^(in|out) (\S+) .*/, '$1 $2').replace(/^\d+ /, ''))).toEqual([
          'in S', 'state LISTEN → SYN_RECEIVED', 'out S.', 'in .', 'state SYN_RECEIVED → ESTABLISHED',
        ]);
        expect(events[0]).toMatch(/^in S 0 - 0 \d+ \d+$/); // seq 0 (relative to the peer's ISN), no ACK, no data
        expect(events[2]).toMatch(/^out S\. 0 1 0 \d+ \d+$/);
        const missing = stackctl(stackd.control, 'trace', '0.999999');
        expect([missing.status, missing.stdout]).toEqual([1, '']);
        expect(missing.stderr).toMatch(/^stackctl: \/connections\/0\.999999\/trace: no connection 0\.999999 \(closed, and its trace not archived/);
      } finally {
        nc.kill('SIGKILL');
      }
    });

    it('a connection the client resets is archived: stackctl trace lists it, and trace ID shows the RST', async () => {
      // A Node client in the client namespace opens a connection to discard and resets it
      // (resetAndDestroy: <RST>, no FIN), printing its local port.
      const script = `const s = require('net').connect(9, '${STACK}', () => { console.log(s.localPort); setTimeout(() => s.resetAndDestroy(), 200); });`;
      const r = inNs(C1, process.execPath, ['-e', script], { timeoutMs: 10_000 });
      expect(r.status, r.stderr).toBe(0);
      const peer = `${CLIENT}:${r.stdout.trim()}`;
      let id = '';
      await until('the reset connection in the archive', 10_000, async () => {
        const list = JSON.parse((await controlRequest(stackd.control, '/traces')).body) as ArchivedTraceInfo[];
        id = list.find((a) => a.remote === peer)?.id ?? '';
        return id !== '';
      });
      const listed = stackctl(stackd.control, 'trace');
      expect(listed.status).toBe(0);
      expect(listed.stdout.split('\n').some((l) => new RegExp(`^${id.replace('.', '\\.')} +CLOSED +${STACK}:9 +${peer} +reset +`).test(l))).toBe(true);
      const tr = stackctl(stackd.control, 'trace', id);
      expect(tr.status).toBe(0);
      const out = tr.stdout.split('\n');
      expect(out[0]).toMatch(new RegExp(`^connection ${id.replace('.', '\\.')}: ${STACK}:9 ↔ ${peer} on worker \\d, CLOSED \\(closed [\\d.]+ s ago, archived \\(reset\\)\\)$`));
      const rows = out.slice(4).filter((l) => l !== '').map((l) => l.trim().replace(/^\d+\.\d{3} +/, '').replace(/ +/g, ' '));
      expect(rows.at(-2)).toMatch(/^in R\.? /); // the client's reset (Linux sends RST with ACK)
      expect(rows.at(-1)).toMatch(/^\d+ state ESTABLISHED → CLOSED$/);
    });
  });

  describe("stackd --fault 'drop=2%,reorder=2%,duplicate=1%,corrupt=0.5%,seed=7'", () => {
    let stackd: StackdHandle;

    beforeAll(async () => {
      stackd = await startStackd(HOST, ['--workers', '2', '--tap', 'tap0', '--fault', 'drop=2%,reorder=2%,duplicate=1%,corrupt=0.5%,seed=7']);
    });
    afterAll(async () => {
      await stopIfStarted(stackd);
    });

    it('a 20 MB download and a 10 MB echo arrive byte-identical', () => {
      const dl = inNs(C1, 'bash', ['-c', `curl -s -m 60 http://${STACK}/bytes/20000000 | sha256sum`], { timeoutMs: 70_000 });
      expect(dl.stdout.split(' ')[0]).toBe(patternSha256(20_000_000));
      const data = Buffer.alloc(10_000_000);
      for (let i = 0; i < data.length; i += 32) createHash('sha256').update(String(i)).digest().copy(data, i);
      const file = join(dir, 'echo10');
      writeFileSync(file, data);
      const echo = inNs(C1, 'bash', ['-c', `nc -N -w 30 ${STACK} 7 < ${file} | sha256sum`], { timeoutMs: 70_000 });
      expect(echo.stdout.split(' ')[0]).toBe(createHash('sha256').update(data).digest('hex'));
    });

    it('the fault counters show every kind in both directions, and the checksum drops catch the corrupted frames', async () => {
      // Every corrupted frame is dropped by some check of the IPv4 header, of the transport
      // header's length fields, or of a checksum (a duplicated corrupted frame twice). A
      // corrupted frame can still be on its way (held for reordering, in a worker's ring)
      // when the I/O thread has counted it: wait until the drops have caught up.
      const checks = ['ipv4_checksum', 'tcp_checksum', 'udp_checksum', 'icmp_checksum', 'ipv4_version', 'ipv4_ihl', 'ipv4_total_length',
        'ipv4_truncated', 'tcp_truncated', 'tcp_bad_offset', 'udp_truncated', 'udp_length', 'icmp_truncated'];
      let caught = 0;
      const s = await waitFor(async () => {
        const st = await stackd.stats();
        caught = checks.reduce((sum, k) => sum + (st.totals[`drop_${k}`] ?? 0), 0);
        return caught >= st.faults.rx_corrupted && st;
      }, { what: 'drops for every corrupted frame', timeoutMs: 5000, intervalMs: 100, detail: () => `caught ${caught}` });
      expect(s.fault).toBe('drop=2%,corrupt=0.5%,duplicate=1%,reorder=2%,seed=7');
      for (const d of ['rx', 'tx']) for (const k of ['dropped', 'duplicated', 'reordered', 'corrupted']) expect(s.faults[`${d}_${k}`], `${d}_${k}`).toBeGreaterThan(0);
      const t = s.totals;
      expect(t.drop_ipv4_checksum + t.drop_tcp_checksum).toBeGreaterThan(0);
      expect(caught).toBeGreaterThanOrEqual(s.faults.rx_corrupted);
      expect(caught).toBeLessThanOrEqual(2 * s.faults.rx_corrupted);
      expect(t.fault_rx_dropped).toBe(s.faults.rx_dropped);
    });
  });
});
