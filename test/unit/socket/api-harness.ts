/**
 * A StackApi for tests: a real Host on a virtual wire (for UDP) and the fake TCP endpoint
 * (src/tcp's interface, in memory), plus helpers for Node http clients over our sockets.
 */
import http from 'node:http';
import pino from 'pino';
import { parseIpv4 } from '../../../src/wire/addresses.js';
import { Host } from '../../../src/iface/host.js';
import { newCounters } from '../../../src/base/counters.js';
import type { HostConfig } from '../../../src/base/host-config.js';
import { createStackApi, type StackApi } from '../../../src/socket/stack-api.js';
import type { TcpSocket } from '../../../src/socket/tcp-socket.js';
import type { OffloadClient } from '../../../src/socket/offload.js';
import { VirtualWire } from '../../helpers/virtual-wire.js';
import { FakeTcpEndpoint, type FakeLinkOptions } from './fake-tcp.js';

/** Our address in these tests. */
export const OUR_IP_STR = '10.10.0.4';
export const OUR_IP = parseIpv4(OUR_IP_STR);

/** A worker's API over the fake TCP endpoint and a Host on a virtual wire (and `offload`'s pool, if given). */
export function makeApi(link: FakeLinkOptions = {}, worker = { index: 0, count: 1 }, offload?: OffloadClient) {
  const config: HostConfig = {
    mac: 0x020000000004, ip: OUR_IP, prefixLength: 24, gateway: 0, mtu: 1500,
    shardIndex: worker.index, shardCount: worker.count, answersArp: true, ttl: 64,
  };
  const wire = new VirtualWire();
  const host = new Host(config, wire, newCounters());
  const tcp = new FakeTcpEndpoint(OUR_IP, link);
  const stats = { notifies: 0 };
  const api: StackApi = createStackApi({
    host, tcp, notifyOutput: () => stats.notifies++, log: pino({ level: 'silent' }),
    workerIndex: worker.index, workerCount: worker.count, ...(offload ? { offload } : {}),
  });
  return { api, host, wire, tcp, stats };
}

/** A response read to the end. */
export interface FullResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  socket: TcpSocket;
  reused: boolean;
  /** The request body went out with Transfer-Encoding: chunked. */
  chunked: boolean;
}

/**
 * Sends one request with Node's http client over a TcpSocket from `api.net.connect()`
 * (or through `agent`, whose createConnection must do the same) and reads the response.
 */
export function request(
  api: StackApi,
  opts: { method?: string; path: string; headers?: http.OutgoingHttpHeaders; body?: Buffer[]; agent?: http.Agent },
): Promise<FullResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: OUR_IP_STR, port: 80, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers,
      ...(opts.agent ? { agent: opts.agent } : { createConnection: () => api.net.connect({ host: OUR_IP_STR, port: 80 }) }),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({
        status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks),
        socket: req.socket as unknown as TcpSocket, reused: req.reusedSocket,
        chunked: (req as unknown as { chunkedEncoding: boolean }).chunkedEncoding,
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const write = async () => {
      for (const c of opts.body ?? []) {
        if (!req.write(c)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    };
    void write();
  });
}

/** A keep-alive agent whose connections are our TcpSockets; counts the sockets it made. */
export function keepAliveAgent(api: StackApi): { agent: http.Agent; created: TcpSocket[] } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const created: TcpSocket[] = [];
  (agent as unknown as { createConnection: () => TcpSocket }).createConnection = () => {
    const s = api.net.connect({ host: OUR_IP_STR, port: 80 });
    created.push(s);
    return s;
  };
  return { agent, created };
}
