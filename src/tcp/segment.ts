/**
 * A parsed incoming TCP segment: the header's description (wire/tcp-repr.ts, filled by
 * TcpRepr.parse) plus where it came from. One reusable instance per shard, filled by the
 * TCP layer for each segment (no allocation per segment), read by the connection.
 */
import { TCP_FIN, TCP_SYN } from '../wire/tcp.js';
import { TcpRepr } from '../wire/tcp-repr.js';

/** The segment being processed. */
export class InSegment extends TcpRepr {
  /** Bytes holding the segment (the payload is b[dataOff .. dataOff + dataLen)). */
  b: Uint8Array = new Uint8Array(0);
  /** Source and destination IPv4 addresses. */
  src = 0;
  dst = 0;
  /** The IP header's ECN field (wire/ipv4.ts ECN_*: CE is a congestion mark, RFC 3168 5). */
  ipEcn = 0;

  /** Sequence space the segment occupies: data plus SYN and FIN (RFC 9293 3.4, SEG.LEN). */
  get segLen(): number {
    return this.dataLen + (this.flags & TCP_SYN ? 1 : 0) + (this.flags & TCP_FIN ? 1 : 0);
  }
}
