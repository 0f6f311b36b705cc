/**
 * UdpSocket (dgram-like) on a real Host over a virtual wire: bind and 'listening',
 * 'message' with a copied Buffer and rinfo, send() producing the exact datagram, errors
 * (EADDRINUSE, EMSGSIZE, EINVAL, ENETUNREACH), ephemeral and implicit binds, close()
 * releasing the port, and the udp-echo service through the API.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { BUILTIN_SERVICES } from '../../../src/services/index.js';
import { C } from '../../../src/base/counters.js';
import { parseIpv4 } from '../../../src/wire/addresses.js';
import { monoMs } from '../../../src/util/clock.js';
import { ETH_HEADER_LEN } from '../../../src/wire/ethernet.js';
import { ipDst, ipProtocol, ipSrc } from '../../../src/wire/ipv4.js';
import { udpDstPort, udpLength, udpSrcPort } from '../../../src/wire/udp.js';
import type { RemoteInfo } from '../../../src/socket/udp-socket.js';
import { IPPROTO_UDP, arpFrame, ipv4Frame, udpDatagram } from '../../helpers/frames.js';
import { OUR_IP, makeApi } from './api-harness.js';
import { waitFor } from '../../helpers/wait-for.js';

const OUR_MAC = 0x020000000004;
const PEER_MAC = 0x020000000003;
const PEER_IP = parseIpv4('10.10.0.3');

function setup() {
  const h = makeApi();
  // The peer introduces itself (ARP request): our replies then go out without resolution.
  h.host.receive(arpFrame(0xffffffffffff, 1, PEER_MAC, PEER_IP, 0, OUR_IP), 0, 60, monoMs()); // the socket sends at monoMs()
  h.wire.take();
  const rx = (sport: number, dport: number, data: Uint8Array) => {
    const f = ipv4Frame(OUR_MAC, PEER_MAC, PEER_IP, OUR_IP, IPPROTO_UDP, udpDatagram(PEER_IP, OUR_IP, sport, dport, data));
    h.host.receive(f, 0, f.length, monoMs());
    return f;
  };
  /** The UDP datagrams we sent: [srcPort, dstPort, payload, dstIp]. */
  const sent = () => h.wire.take().map((f) => {
    const ip = ETH_HEADER_LEN;
    expect(ipProtocol(f, ip)).toBe(IPPROTO_UDP);
    expect(ipSrc(f, ip)).toBe(OUR_IP);
    const u = ip + 20;
    return { sport: udpSrcPort(f, u), dport: udpDstPort(f, u), data: Buffer.from(f.subarray(u + 8, u + udpLength(f, u))), dst: ipDst(f, ip) };
  });
  return { ...h, rx, sent };
}

describe('UdpSocket', () => {
  it("binds, receives 'message' with a copy and rinfo, and sends exact datagrams", async () => {
    const { api, rx, sent, stats } = setup();
    const s = api.dgram.createSocket('udp4');
    const events: string[] = [];
    s.on('listening', () => events.push('listening'));
    const msgs: Array<[Buffer, RemoteInfo]> = [];
    s.on('message', (m: Buffer, r: RemoteInfo) => msgs.push([m, r]));
    s.bind(5000);
    expect(events).toEqual([]); // later, as dgram
    await once(s, 'listening');
    expect(events).toEqual(['listening']);
    expect(s.address()).toEqual({ address: '10.10.0.4', family: 'IPv4', port: 5000 });
    const frame = rx(40000, 5000, Buffer.from('ping 1'));
    frame.fill(0); // the core's buffer is reused: the message must be a copy
    expect(msgs.length).toBe(1);
    expect(msgs[0][0].toString()).toBe('ping 1');
    expect(msgs[0][1]).toEqual({ address: '10.10.0.3', family: 'IPv4', port: 40000, size: 6 });
    const before = stats.notifies;
    const results: Array<[Error | null, number]> = [];
    s.send('pong', 40000, '10.10.0.3', (e, n) => results.push([e, n]));
    s.send(new Uint8Array([1, 2, 3]), 40001, '10.10.0.3');
    expect(sent()).toEqual([
      { sport: 5000, dport: 40000, data: Buffer.from('pong'), dst: PEER_IP },
      { sport: 5000, dport: 40001, data: Buffer.from([1, 2, 3]), dst: PEER_IP },
    ]);
    await waitFor(() => results.length === 1, { what: 'the send callback' });
    expect(results).toEqual([[null, 4]]);
    expect(stats.notifies - before).toBe(1); // two sends, one coalesced notification
  });

  it('reports EADDRINUSE, EMSGSIZE, EINVAL and ENETUNREACH like dgram', async () => {
    const { api } = setup();
    const a = api.dgram.createSocket('udp4').bind(6000);
    const b = api.dgram.createSocket('udp4');
    const err = await new Promise<Error & { code: string }>((r) => b.on('error', r).bind(6000));
    expect(err.code).toBe('EADDRINUSE');
    expect(err.message).toBe('bind EADDRINUSE 0.0.0.0:6000');
    const codes: string[] = [];
    const cb = (e: Error | null) => codes.push((e as Error & { code: string }).code);
    a.send(Buffer.alloc(65508), 1, '10.10.0.3', cb);
    a.send('x', 1, 'not-an-ip', cb);
    a.send('x', 1, '192.168.1.1', cb); // off-subnet, no gateway
    await waitFor(() => codes.length === 3, { what: 'three send callbacks', detail: () => codes.join(' ') });
    expect(codes).toEqual(['EMSGSIZE', 'EINVAL', 'ENETUNREACH']);
    expect(() => a.send('x', 0, '10.10.0.3')).toThrow(RangeError);
  });

  it('bind() without a port and send() on an unbound socket take ephemeral ports', () => {
    const { api, sent } = setup();
    const a = api.dgram.createSocket('udp4').bind();
    const pa = a.address().port;
    expect(pa).toBeGreaterThanOrEqual(49152);
    const b = api.dgram.createSocket('udp4');
    b.send('hi', 9999, '10.10.0.3');
    const pb = b.address().port;
    expect(pb).toBeGreaterThanOrEqual(49152);
    expect(pb).not.toBe(pa);
    expect(sent()).toEqual([{ sport: pb, dport: 9999, data: Buffer.from('hi'), dst: PEER_IP }]);
  });

  it('close() releases the port: later datagrams get port unreachable', async () => {
    const { api, rx, host, wire } = setup();
    const s = api.dgram.createSocket('udp4').bind(7000);
    const got: string[] = [];
    s.on('message', (m: Buffer) => got.push(m.toString()));
    rx(1, 7000, Buffer.from('a'));
    const closed = new Promise((r) => s.close(() => r(undefined)));
    rx(1, 7000, Buffer.from('b'));
    await closed;
    expect(got).toEqual(['a']);
    expect(host.counters[C.drop_udp_no_port]).toBe(1);
    const frames = wire.take();
    expect(frames.length).toBe(1);
    expect(ipProtocol(frames[0], ETH_HEADER_LEN)).toBe(1); // ICMP port unreachable
    expect(frames[0][ETH_HEADER_LEN + 20]).toBe(3); // destination unreachable
    expect(frames[0][ETH_HEADER_LEN + 21]).toBe(3); // port
  });

  it('throws ERR_SOCKET_DGRAM_NOT_RUNNING after close', () => {
    const { api } = setup();
    const s = api.dgram.createSocket('udp4').bind(7001);
    s.close();
    expect(() => s.address()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
    expect(() => s.send('x', 1, '10.10.0.3')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }));
    expect(() => api.dgram.createSocket('udp5' as 'udp4')).toThrow(TypeError);
  });

  it('the udp-echo service answers each datagram from port 7', async () => {
    const { api, rx, sent } = setup();
    await BUILTIN_SERVICES['udp-echo'](api);
    rx(33333, 7, Buffer.from('echo me'));
    rx(33334, 7, Buffer.alloc(3000, 0x5a)); // fragmented on the way out
    const out = sent();
    expect(out[0]).toEqual({ sport: 7, dport: 33333, data: Buffer.from('echo me'), dst: PEER_IP });
    expect(out.length).toBeGreaterThan(1);
  });
});
