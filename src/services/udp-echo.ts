/**
 * UDP echo service (RFC 862): every datagram to the port is sent back to its sender.
 * Runs in every shard worker; each worker answers the flows steered to it.
 */
import type { Host } from '../iface/host.js';

/** The well-known echo port. */
export const ECHO_PORT = 7;

/** Binds the UDP echo service on `port` of `host`. */
export function startUdpEcho(host: Host, port = ECHO_PORT): void {
  const udp = host.udp;
  udp.bind(port, (b, off, len, srcIp, srcPort, _dstIp, dstPort, now) => {
    udp.send(srcIp, srcPort, dstPort, b, off, len, now);
  });
}
