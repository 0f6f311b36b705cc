/**
 * The socket API over IPv6 on the real core (decision 0030): a server listening without a
 * host takes both families and reports IPv4 peers as IPv4-mapped (`::ffff:a.b.c.d`,
 * family 'IPv6') like Node's on `::`; connect({ host }) to an IPv6 literal; a 'udp6'
 * socket hears both families; listen({ host: '0.0.0.0' }) and { ipv6Only } take one.
 */
import { describe, expect, it } from 'vitest';
import type { TcpSocket } from '../../../src/socket/tcp-socket.js';
import type { RemoteInfo } from '../../../src/socket/udp-socket.js';
import { udpEchoService } from '../../../src/services/index.js';
import { TcpPair } from '../../helpers/tcp-pair.js';
import { waitFor } from '../../helpers/wait-for.js';
import { apiOf, drive } from './real-core-harness.js';
import { UdpSocket } from '../../../src/socket/udp-socket.js';
import { flowHashOfFrame, shardOf } from '../../../src/base/flow-hash.js';
import { NH_UDP } from '../../../src/wire/ipv6.js';
import { NA_OVERRIDE, NA_SOLICITED } from '../../../src/wire/ndp.js';
import { ndFrame } from '../../helpers/frames6.js';
import { OUR_IP6, OUR_MAC, PEER_IP6, PEER_MAC, T0, setup6 } from '../../helpers/host6.js';

/** Connects from A to host:port, sends `text` and collects what comes back until `want` bytes. */
async function echoOnce(apiA: ReturnType<typeof apiOf>, host: string, port: number, text: string): Promise<{ got: string; s: TcpSocket }> {
  const s = apiA.net.connect({ host, port });
  let got = '';
  s.on('data', (d: Buffer) => (got += d.toString()));
  s.write(text);
  await waitFor(() => got.length >= text.length, { what: `echo from ${host}` });
  return { got, s };
}

describe('sockets over IPv6 and dual stack', () => {
  it('a server without a host answers IPv4 and IPv6 clients; IPv4 peers read as ::ffff:a.b.c.d', async () => {
    const pair = new TcpPair({}, {}, { ipv6: true });
    const apiA = apiOf(pair.a);
    const apiB = apiOf(pair.b);
    const peers: { address?: string; family?: string; local?: string }[] = [];
    const server = apiB.net.createServer(undefined, (s) => {
      peers.push({ address: s.remoteAddress, family: s.remoteFamily, local: s.localAddress });
      s.pipe(s);
    });
    server.listen(7);
    const stop = drive(pair);
    try {
      await waitFor(() => server.listening, { what: 'listening' });
      expect(server.address()).toEqual({ address: '::', family: 'IPv6', port: 7 });
      const v6 = await echoOnce(apiA, 'fd00::b', 7, 'over six');
      expect(v6.got).toBe('over six');
      expect(v6.s.remoteAddress).toBe('fd00::b');
      expect(v6.s.remoteFamily).toBe('IPv6');
      expect(v6.s.address()).toEqual({ address: 'fd00::a', family: 'IPv6', port: v6.s.localPort });
      const v4 = await echoOnce(apiA, '10.0.0.2', 7, 'over four');
      expect(v4.got).toBe('over four');
      expect(v4.s.remoteFamily).toBe('IPv4'); // the client side is not dual-stack
      const mapped = await echoOnce(apiA, '::ffff:10.0.0.2', 7, 'mapped');
      expect(mapped.got).toBe('mapped');
      expect(peers).toEqual([
        { address: 'fd00::a', family: 'IPv6', local: 'fd00::b' },
        { address: '::ffff:10.0.0.1', family: 'IPv6', local: '::ffff:10.0.0.2' },
        { address: '::ffff:10.0.0.1', family: 'IPv6', local: '::ffff:10.0.0.2' },
      ]);
      for (const s of [v6.s, v4.s, mapped.s]) s.destroy();
    } finally {
      await stop();
    }
  });

  it("listen({ host: '0.0.0.0' }) refuses IPv6 clients and { ipv6Only } refuses IPv4 ones (RST: ECONNREFUSED)", async () => {
    const pair = new TcpPair({}, {}, { ipv6: true });
    const apiA = apiOf(pair.a);
    const apiB = apiOf(pair.b);
    apiB.net.createServer(undefined, (s) => s.pipe(s)).listen({ port: 4, host: '0.0.0.0' });
    apiB.net.createServer(undefined, (s) => s.pipe(s)).listen({ port: 6, ipv6Only: true });
    const stop = drive(pair);
    try {
      const errors: string[] = [];
      for (const [host, port] of [['fd00::b', 4], ['10.0.0.2', 6]] as const) {
        const s = apiA.net.connect({ host, port });
        s.on('error', (e: Error & { code?: string }) => errors.push(`${host} ${e.code}`));
      }
      await waitFor(() => errors.length === 2, { what: 'two refusals' });
      expect(errors.sort()).toEqual(['10.0.0.2 ECONNREFUSED', 'fd00::b ECONNREFUSED']);
      expect((await echoOnce(apiA, '10.0.0.2', 4, 'four')).got).toBe('four');
      expect((await echoOnce(apiA, 'fd00::b', 6, 'six')).got).toBe('six');
    } finally {
      await stop();
    }
  });

  it("the udp-echo service ('udp6') answers both families; rinfo reads as Node's", async () => {
    const pair = new TcpPair({}, {}, { ipv6: true });
    const apiA = apiOf(pair.a);
    await udpEchoService()(apiOf(pair.b));
    const stop = drive(pair);
    try {
      const s = apiA.dgram.createSocket('udp6');
      const got: [string, RemoteInfo][] = [];
      s.on('message', (m, r) => got.push([m.toString(), r]));
      s.bind(5000);
      s.send('to six', 7, 'fd00::b');
      s.send('to four', 7, '10.0.0.2');
      await waitFor(() => got.length === 2, { what: 'two echoes' });
      expect(got.sort((x, y) => x[0].localeCompare(y[0]))).toEqual([
        ['to four', { address: '::ffff:10.0.0.2', family: 'IPv6', port: 7, size: 7 }],
        ['to six', { address: 'fd00::b', family: 'IPv6', port: 7, size: 6 }],
      ]);
      const four = apiA.dgram.createSocket('udp4');
      const err = await new Promise<Error & { code?: string }>((r) => four.send('x', 7, 'fd00::b', (e) => r(e as Error)));
      expect(err.code).toBe('EINVAL');
      s.close();
      four.close();
      await waitFor(() => pair.a.interner?.size === 0, { what: 'addresses given back' });
    } finally {
      await stop();
    }
  });

  it('connect to an IPv6 address on a worker without IPv6 fails with ENETUNREACH', async () => {
    const pair = new TcpPair();
    const s = apiOf(pair.a).net.connect({ host: 'fd00::b', port: 7 });
    const e = await new Promise<Error & { code?: string }>((r) => s.on('error', r));
    expect(e.code).toBe('ENETUNREACH');
    expect(s.remoteFamily).toBe('IPv6');
  });
});


describe('a connected udp6 socket in shard 3 of 4', () => {
  it("binds a port whose IPv6 flow the I/O thread steers back to its shard (the peer's answers reach it)", () => {
    const s = setup6({ speaks: false, shard: [3, 4] });
    s.host.startIpv6(T0);
    for (let i = 0; i < 4; i++) {
      const u = new UdpSocket(s.host, () => {}, 'udp6');
      u.connect(5000 + i, 'fd00:10:10::3');
      u.send('x');
    }
    s.rx(ndFrame(136, PEER_MAC, PEER_IP6, OUR_IP6, PEER_IP6, { lla: PEER_MAC, flags: NA_SOLICITED | NA_OVERRIDE, dstMac: OUR_MAC }), T0 + 2010);
    const sent = s.sent().filter((f) => f.nextHeader === NH_UDP);
    expect(sent).toHaveLength(4);
    for (const f of sent) expect(shardOf(flowHashOfFrame(f.frame, 0, f.frame.length), 4)).toBe(3);
  });
});
