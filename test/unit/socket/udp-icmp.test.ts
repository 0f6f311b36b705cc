/**
 * UDP and ICMP errors through the dgram-like socket on a real Host over a virtual wire:
 * RFC 1122 4.1.3.3 (a port unreachable reaches a connected socket as 'error'
 * ECONNREFUSED, as Linux reports it without IP_RECVERR; an unconnected one hears nothing),
 * dgram's connect/disconnect/remoteAddress, RFC 1191 (datagrams carry DF when they fit the
 * path MTU; "fragmentation needed" lowers it and larger datagrams are then fragmented
 * without DF, like Linux's IP_PMTUDISC_WANT).
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import { hashFourTuple, shardOf } from '../../../src/base/flow-hash.js';
import { parseIpv4 } from '../../../src/wire/addresses.js';
import { monoMs } from '../../../src/util/clock.js';
import { ETH_HEADER_LEN } from '../../../src/wire/ethernet.js';
import { ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, ICMP_PORT_UNREACHABLE } from '../../../src/wire/icmp.js';
import { ipDontFragment, ipFragmentOffset, ipMoreFragments, ipTotalLength } from '../../../src/wire/ipv4.js';
import type { SocketError } from '../../../src/socket/tcp-socket.js';
import { IPPROTO_ICMP, IPPROTO_UDP, arpFrame, icmpError, ipv4Frame, udpDatagram } from '../../helpers/frames.js';
import { OUR_IP, makeApi } from './api-harness.js';

const OUR_MAC = 0x020000000004;
const PEER_MAC = 0x020000000003;
const PEER_IP = parseIpv4('10.10.0.3');
const OTHER_IP = parseIpv4('10.10.0.5');

function setup() {
  const h = makeApi();
  h.host.receive(arpFrame(0xffffffffffff, 1, PEER_MAC, PEER_IP, 0, OUR_IP), 0, 60, monoMs());
  h.wire.take();
  /** An ICMP error about `sent` (a frame we sent) from the peer's router. */
  const icmpAbout = (sent: Uint8Array, type: number, code: number, mtu = 0) => {
    const f = ipv4Frame(OUR_MAC, PEER_MAC, parseIpv4('10.10.0.1'), OUR_IP, IPPROTO_ICMP, icmpError(type, code, sent.subarray(ETH_HEADER_LEN), { mtu }));
    h.host.receive(f, 0, f.length, monoMs());
  };
  const rx = (src: number, sport: number, dport: number, data: Uint8Array) => {
    const f = ipv4Frame(OUR_MAC, PEER_MAC, src, OUR_IP, IPPROTO_UDP, udpDatagram(src, OUR_IP, sport, dport, data));
    h.host.receive(f, 0, f.length, monoMs());
  };
  return { ...h, icmpAbout, rx };
}

/** Lets nextTick and immediate callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('UDP: ICMP errors reach connected sockets (RFC 1122 4.1.3.3)', () => {
  it("RFC 1122 4.1.3.3: a port unreachable about a connected socket's datagram is emitted as 'error' recvmsg ECONNREFUSED", async () => {
    const { api, host, wire, icmpAbout } = setup();
    const s = api.dgram.createSocket('udp4');
    s.connect(7000, '10.10.0.3');
    await once(s, 'connect');
    expect(s.remoteAddress()).toEqual({ address: '10.10.0.3', family: 'IPv4', port: 7000 });
    s.send('hello');
    const [sent] = wire.take();
    expect(ipDontFragment(sent, ETH_HEADER_LEN)).toBe(true);
    const errors: SocketError[] = [];
    s.on('error', (e: SocketError) => errors.push(e));
    icmpAbout(sent, ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE);
    expect(errors).toEqual([]); // not from inside the core: on the next tick
    await settle();
    expect(errors.map((e) => [e.code, e.syscall])).toEqual([['ECONNREFUSED', 'recvmsg']]);
    expect(host.counters[C.udp_icmp_errors]).toBe(1);
    s.close();
  });

  it('an unconnected socket hears no ICMP error; an error for an unbound port is counted (drop_icmp_error_no_flow)', async () => {
    const { api, host, wire, icmpAbout } = setup();
    const s = api.dgram.createSocket('udp4');
    s.bind(6000);
    await once(s, 'listening');
    s.send('hello', 7000, '10.10.0.3');
    const [sent] = wire.take();
    let errors = 0;
    s.on('error', () => errors++);
    icmpAbout(sent, ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE);
    await settle();
    expect(errors).toBe(0);
    s.close();
    await once(s, 'close');
    icmpAbout(sent, ICMP_DEST_UNREACHABLE, ICMP_PORT_UNREACHABLE);
    expect(host.counters[C.drop_icmp_error_no_flow]).toBe(1);
  });

  it('a connected socket only hears its peer, sends without an address, and disconnect() ends that', async () => {
    const { api, wire, rx } = setup();
    const s = api.dgram.createSocket('udp4');
    s.connect(7000, '10.10.0.3');
    await once(s, 'connect');
    expect(() => s.send('x', 7000, '10.10.0.3')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }));
    const from: string[] = [];
    s.on('message', (_m, r) => from.push(`${r.address}:${r.port}`));
    const port = s.address().port;
    rx(OTHER_IP, 7000, port, Buffer.from('stranger'));
    rx(PEER_IP, 7001, port, Buffer.from('other port'));
    rx(PEER_IP, 7000, port, Buffer.from('peer'));
    expect(from).toEqual(['10.10.0.3:7000']);
    s.disconnect();
    expect(() => s.remoteAddress()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' }));
    expect(() => s.send('x')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' }));
    rx(OTHER_IP, 7000, port, Buffer.from('stranger'));
    expect(from).toEqual(['10.10.0.3:7000', '10.10.0.5:7000']);
    wire.take();
    s.close();
  });
});

describe('UDP: a connected socket is steered to its worker', () => {
  it('connect() on an unbound socket picks an ephemeral port whose flow to the peer hashes to this worker (answers and ICMP errors come here)', async () => {
    for (let index = 0; index < 4; index++) {
      const { api } = makeApi({}, { index, count: 4 });
      for (let k = 0; k < 5; k++) {
        const s = api.dgram.createSocket('udp4');
        s.connect(7000 + k, '10.10.0.3');
        await once(s, 'connect');
        expect(shardOf(hashFourTuple(OUR_IP, s.address().port, PEER_IP, 7000 + k, IPPROTO_UDP), 4)).toBe(index);
        s.close();
      }
    }
  });
});

describe('UDP: path MTU (RFC 1191, Linux IP_PMTUDISC_WANT)', () => {
  it('RFC 1191: after "fragmentation needed" (MTU 1200) a 1400-byte datagram is fragmented at 1200 without DF; one that fits keeps DF', async () => {
    const { api, host, wire, icmpAbout } = setup();
    const s = api.dgram.createSocket('udp4');
    s.bind(6000);
    await once(s, 'listening');
    s.send(Buffer.alloc(1400, 1), 7000, '10.10.0.3');
    const [big] = wire.take();
    expect(ipTotalLength(big, ETH_HEADER_LEN)).toBe(1428);
    expect(ipDontFragment(big, ETH_HEADER_LEN)).toBe(true);
    icmpAbout(big, ICMP_DEST_UNREACHABLE, ICMP_FRAG_NEEDED, 1200);
    expect(host.counters[C.pmtu_lowered]).toBe(1);
    s.send(Buffer.alloc(1400, 2), 7000, '10.10.0.3');
    const frags = wire.take();
    expect(frags.map((f) => [ipTotalLength(f, 14), ipFragmentOffset(f, 14), ipMoreFragments(f, 14), ipDontFragment(f, 14)])).toEqual([
      [1196, 0, true, false], [252, 1176, false, false],
    ]);
    s.send(Buffer.alloc(1000, 3), 7000, '10.10.0.3');
    const [small] = wire.take();
    expect(ipDontFragment(small, ETH_HEADER_LEN)).toBe(true);
    // Another destination keeps the link MTU.
    host.receive(arpFrame(0xffffffffffff, 1, 0x020000000005, OTHER_IP, 0, OUR_IP), 0, 60, monoMs());
    wire.take();
    s.send(Buffer.alloc(1400, 4), 7000, '10.10.0.5');
    const [other] = wire.take();
    expect(ipTotalLength(other, ETH_HEADER_LEN)).toBe(1428);
    s.close();
  });
});
