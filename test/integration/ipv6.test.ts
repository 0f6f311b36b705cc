/**
 * stackd's IPv6 against the real Linux stack in the namespace lab: ping -6 to its
 * address and to its link-local address (and a 4000-byte ping that travels fragmented
 * both ways), the client's neighbour cache holding stackd's MAC, the snooping bridge
 * learning stackd's groups from its MLD reports, bad IPv6 input dropped by named reason
 * while it keeps answering, and worker 0 alone speaking for the interface.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMac } from '../../src/wire/addresses.js';
import { formatIpv6, linkLocalFromMac, solicitedNodeOf } from '../../src/wire/ipv6-address.js';
import { controlRequest } from '../../src/control/control-client.js';
import type { Ipv6Report } from '../../src/control/types.js';
import { inNs, labDown, labUp, nsName, requireNetOrSkip } from '../helpers/lab.js';
import { stackctl } from '../helpers/ops-tools.js';
import { rawIpv6Preamble } from '../helpers/raw-ipv6.js';
import { startStackd, stopIfStarted, type StackdHandle } from '../helpers/stackd-process.js';
import { waitFor } from '../helpers/wait-for.js';

const LAB = `v6${process.pid % 10000}`;
const HOST = nsName(LAB, 'host');
const C1 = nsName(LAB, 'c1');
const STACK6 = 'fd00:10:10::4';

describe.skipIf(requireNetOrSkip())('stackd over IPv6 in the namespace lab (real Linux peers)', () => {
  let stackd: StackdHandle;
  let mac = '';
  let linkLocal = '';

  beforeAll(async () => {
    labUp(LAB, { clients: 1 });
    stackd = await startStackd(HOST, ['--workers', '2', '--tap', 'tap0', '--ip6', `${STACK6}/64`]);
    mac = (await stackd.stats()).mac;
    linkLocal = formatIpv6(linkLocalFromMac(parseMac(mac)));
    // Both addresses pass duplicate address detection in every worker (1 s in worker 0, 2 s in the others) before they answer.
    await waitFor(async () => (await stackd.stats()).threads.filter((t) => t.thread.startsWith('worker-')).every((t) => t.counters.nd_dad_ok >= 2), { what: 'DAD of both addresses', timeoutMs: 10_000, intervalMs: 50 });
  });

  afterAll(async () => {
    await stopIfStarted(stackd);
    labDown(LAB);
  });

  it('the lab leaves IPv6 on in the client namespace, on its eth0, and in the bridge namespace', () => {
    for (const [ns, key] of [[C1, 'all'], [C1, 'eth0'], [HOST, 'all'], [HOST, 'br0']]) {
      const r = inNs(ns, 'cat', [`/proc/sys/net/ipv6/conf/${key}/disable_ipv6`]);
      expect(`${ns} ${key} ${r.stdout.trim()}`).toBe(`${ns} ${key} 0`);
    }
  });

  it('answers 20 pings to fd00:10:10::4 with 0% loss', () => {
    const r = inNs(C1, 'ping', ['-6', '-c', '20', '-i', '0.05', '-W', '1', '-q', STACK6], { timeoutMs: 30_000 });
    expect(r.stdout).toMatch(/20 packets transmitted, 20 received, 0% packet loss/);
  });

  it('answers pings to its link-local address (from the MAC)', () => {
    const r = inNs(C1, 'ping', ['-6', '-c', '3', '-i', '0.2', '-W', '1', `${linkLocal}%eth0`], { timeoutMs: 20_000 });
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received/);
  });

  it('answers a 4000-byte ping -6 (fragmented both ways) with identical data', () => {
    const r = inNs(C1, 'ping', ['-6', '-c', '3', '-s', '4000', '-p', 'a5c3', '-W', '2', STACK6], { timeoutMs: 20_000 });
    expect(r.stdout).toMatch(/3 packets transmitted, 3 received/);
    expect(r.stdout).toMatch(/4008 bytes from fd00:10:10::4/);
    expect(r.stdout).not.toMatch(/wrong data|DUP!/);
  });

  it("the client's neighbour cache (ip -6 neigh) holds stackd's MAC for both addresses", () => {
    const r = inNs(C1, 'ip', ['-6', 'neigh', 'show', 'dev', 'eth0']);
    const lines = r.stdout.split('\n');
    for (const addr of [STACK6, linkLocal]) {
      const line = lines.find((l) => l.startsWith(`${addr} `));
      expect(line).toBeDefined();
      expect(line).toMatch(new RegExp(`lladdr ${mac} (REACHABLE|STALE|DELAY|PROBE)`));
    }
  });

  it('GET /ipv6 shows both addresses PREFERRED and the client in the neighbour cache with its MAC', async () => {
    const r = await controlRequest(stackd.control, '/ipv6');
    expect(r.status).toBe(200);
    const v6 = JSON.parse(r.body) as Ipv6Report;
    expect(v6.addresses).toEqual([
      { address: linkLocal, prefixLength: 64, state: 'PREFERRED' },
      { address: STACK6, prefixLength: 64, state: 'PREFERRED' },
    ]);
    const client = v6.neighbours.find((n) => n.address === 'fd00:10:10::3');
    expect(client?.mac).toBe('02:42:0a:0a:00:03');
    expect(['REACHABLE', 'STALE', 'DELAY', 'PROBE']).toContain(client?.state);
    expect([v6.hopLimit, v6.mtu]).toEqual([64, 1500]);
  });

  it('POST /ipv6/addresses adds an address at run time: TENTATIVE, then PREFERRED after DAD (in worker 1 too), then answering ping -6', async () => {
    const worker1 = async () => (await stackd.stats()).threads.find((t) => t.thread === 'worker-1')?.counters ?? {};
    const okBefore = (await worker1()).nd_dad_ok;
    const r = await controlRequest(stackd.control, '/ipv6/addresses', 'POST', 2000, JSON.stringify({ address: 'fd00:10:10::9/64' }));
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as Ipv6Report).addresses.at(-1)).toEqual({ address: 'fd00:10:10::9', prefixLength: 64, state: 'TENTATIVE' });
    const stateOf = async (a: string) => (JSON.parse((await controlRequest(stackd.control, '/ipv6')).body) as Ipv6Report).addresses.find((x) => x.address === a)?.state;
    await waitFor(async () => (await stateOf('fd00:10:10::9')) === 'PREFERRED', { what: 'DAD of fd00:10:10::9', timeoutMs: 10_000, intervalMs: 50 });
    await waitFor(async () => (await worker1()).nd_dad_ok === okBefore + 1, { what: 'fd00:10:10::9 usable in worker 1', timeoutMs: 10_000, intervalMs: 50 });
    const ping = inNs(C1, 'ping', ['-6', '-c', '3', '-i', '0.2', '-W', '1', 'fd00:10:10::9'], { timeoutMs: 10_000 });
    expect(ping.stdout).toMatch(/3 received/);
    expect((await stackd.stats()).ipv6).toContainEqual({ address: 'fd00:10:10::9/64', state: 'PREFERRED' });
    const again = await controlRequest(stackd.control, '/ipv6/addresses', 'POST', 2000, JSON.stringify({ address: 'fd00:10:10::9' }));
    expect([again.status, again.body]).toEqual([409, '{"error":"fd00:10:10::9 is already an address of ours"}\n']);
  });

  it("DAD against Linux: adding the client's own address makes it DUPLICATE (the kernel defends it), in worker 1 too", async () => {
    const before = (await stackd.stats()).totals.nd_dad_duplicates;
    const worker1 = async () => (await stackd.stats()).threads.find((t) => t.thread === 'worker-1')?.counters ?? {};
    const w1 = await worker1();
    const r = await controlRequest(stackd.control, '/ipv6/addresses', 'POST', 2000, JSON.stringify({ address: 'fd00:10:10::3/64' }));
    expect(r.status).toBe(200);
    const stateOf = async () => (JSON.parse((await controlRequest(stackd.control, '/ipv6')).body) as Ipv6Report).addresses.find((x) => x.address === 'fd00:10:10::3')?.state;
    await waitFor(async () => (await stateOf()) !== 'TENTATIVE', { what: 'DAD of fd00:10:10::3', timeoutMs: 10_000, intervalMs: 50 });
    expect(await stateOf()).toBe('DUPLICATE');
    await waitFor(async () => (await worker1()).nd_dad_duplicates === w1.nd_dad_duplicates + 1, { what: 'fd00:10:10::3 DUPLICATE in worker 1', timeoutMs: 10_000, intervalMs: 50 });
    await waitFor(async () => (await stackd.stats()).totals.nd_dad_duplicates === before + 2, { what: 'both workers', timeoutMs: 10_000, intervalMs: 50 });
    expect((await worker1()).nd_dad_ok).toBe(w1.nd_dad_ok); // never usable there
    // /stats and stackctl show it as DUPLICATE, not as an address in use.
    expect((await stackd.stats()).ipv6).toContainEqual({ address: 'fd00:10:10::3/64', state: 'DUPLICATE' });
    const ctl = stackctl(stackd.control, 'stats');
    expect(ctl.stdout).toMatch(/^ipv6: .*fd00:10:10::3\/64 DUPLICATE/m);
  });

  it("stackd's MLD reports put tap0 in the snooping bridge's group table for both solicited-node groups", async () => {
    const groups = ['ff02::1:ff00:4', formatIpv6(solicitedNodeOf(linkLocalFromMac(parseMac(mac))))];
    let mdb = '';
    await waitFor(() => {
      mdb = inNs(HOST, 'bridge', ['mdb', 'show']).stdout;
      return groups.every((g) => mdb.includes(`port tap0 grp ${g} `));
    }, { what: 'tap0 in the bridge group table', timeoutMs: 10_000, intervalMs: 100, detail: () => mdb });
    expect(inNs(HOST, 'ip', ['-d', 'link', 'show', 'br0']).stdout).toMatch(/mcast_snooping 1/);
  });

  it('drops bad IPv6 input by named reason, answers with Parameter Problem where due, and keeps answering', async () => {
    // (These cross the lab's bridge only because it runs without br_netfilter for IPv6
    // too: bridge-nf-call-ip6tables=0, decision 0007.)
    const before = (await stackd.stats()).totals;
    const script = `${rawIpv6Preamble(mac, 'fd00:10:10::3', STACK6)}
def echo(data=b"x" * 16):
    m = struct.pack("!BBHHH", 128, 0, 0, 0x77, 1) + data
    c = csum(SRC + DST + struct.pack("!IxxxB", len(m), 58) + m)
    return m[:2] + struct.pack("!H", c) + m[4:]
send(ip6(58, echo())[:30])                                   # truncated
send(ip6(58, echo(), ver=5))                                 # version 5
send(ip6(58, echo(), plen=1000))                             # payload length past the frame
send(ip6(253, b"\\0" * 8))                                   # unknown next header: Parameter Problem code 1
send(ip6(43, bytes([58, 2, 0, 1]) + b"\\0" * 20 + echo()))   # routing type 0, segments left 1: code 0
send(ip6(60, bytes([58, 0, 0x5e, 0, 1, 2, 0, 0]) + echo()))  # unknown option, action 01: silent drop
# overlapping fragments: 0..1448 then 8..1456 of one packet (RFC 5722)
m = echo(b"y" * 2000)
send(ip6(44, struct.pack("!BBHI", 58, 0, 0 | 1, 99) + m[:1448]))
send(ip6(44, struct.pack("!BBHI", 58, 0, 8 | 1, 99) + m[8:1456]))
print("sent")
`;
    const r = inNs(C1, 'python3', ['-c', script], { timeoutMs: 20_000 });
    expect(r.stdout.trim()).toBe('sent');
    const named = ['drop_ipv6_truncated', 'drop_ipv6_version', 'drop_ipv6_payload_length', 'drop_ipv6_next_header',
      'drop_ipv6_routing_header', 'drop_ipv6_unknown_option', 'drop_reasm6_overlap'];
    let after = before;
    const grew = (k: string) => after[k] - before[k];
    await waitFor(async () => {
      after = (await stackd.stats()).totals;
      return named.every((k) => grew(k) >= 1) && grew('icmpv6_param_problem_tx') >= 2;
    }, {
      what: 'the stack to count the bad IPv6 frames', timeoutMs: 20_000, intervalMs: 50,
      detail: () => [...named, 'icmpv6_param_problem_tx'].map((k) => `${k} +${grew(k)}`).join(', '),
    });
    for (const k of named) expect(`${k} +${grew(k)}`).toBe(`${k} +1`);
    expect(grew('icmpv6_param_problem_tx')).toBe(2);
    expect(after.drop_internal_error).toBe(0);
    const ping = inNs(C1, 'ping', ['-6', '-c', '3', '-i', '0.2', '-W', '1', STACK6], { timeoutMs: 10_000 });
    expect(ping.stdout).toMatch(/3 received/);
  });

  it('worker 0 speaks for IPv6 (echo, DAD, MLD, advertisements); worker 1 sees only neighbour discovery and answers none of it', async () => {
    const st = await stackd.stats();
    const w = (i: number) => st.threads.find((t) => t.thread === `worker-${i}`)?.counters;
    expect(w(0)?.ipv6_rx).toBeGreaterThan(20);
    expect(w(0)?.icmpv6_echo_replies_tx).toBeGreaterThanOrEqual(26);
    expect(w(1)?.icmpv6_echo_requests_rx).toBe(0);
    expect(w(1)?.ipv6_rx).toBe((w(1)?.nd_ns_rx ?? 0) + (w(1)?.nd_na_rx ?? 0) + (w(1)?.nd_ra_rx ?? 0));
    expect([w(1)?.nd_na_tx, w(1)?.mld_reports_tx, w(1)?.nd_rs_tx]).toEqual([0, 0, 0]);
    expect(w(1)?.drop_eth_unknown_type).toBe(0);
    expect([w(0)?.nd_dad_duplicates, w(1)?.nd_dad_duplicates]).toEqual([1, 1]); // the client's address, added on purpose above; worker 1 heard the defence too
    expect(w(1)?.nd_ns_tx ?? 0).toBe(0); // no DAD probe from worker 1 (its own resolutions would be counted here too: none in this file)
    expect(st.totals.mld_reports_tx).toBeGreaterThanOrEqual(2);
  });
});
