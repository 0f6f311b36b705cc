/**
 * The first-level key of the TCP demux tables (./tcp-layer.ts connections, ./time-wait.ts
 * records). A connection is its full 4-tuple (RFC 9293 3.1). Over IPv4 this stack has one
 * local address, so the local port alone was enough; over IPv6 it holds several (the
 * link-local one, each `--ip6`), and a peer may use one source port towards two of them
 * at once (Linux picks ephemeral ports per destination). So for an IPv6 local address the
 * key also names which of ours it is, by its interned id (decision 0030): the port plus
 * 65536 × (id + 1), an exact integer below 2^37. IPv4 keys stay the bare port.
 */
import { IPV6_ID_BASE } from '../base/ipv6-interner.js';

/** The first-level demux key of local address `localIp` and port `localPort`. */
export function localKey(localIp: number, localPort: number): number {
  return localIp >= IPV6_ID_BASE ? localPort + 65536 * (localIp - IPV6_ID_BASE + 1) : localPort;
}
