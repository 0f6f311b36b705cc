/**
 * A parsed incoming TCP segment: one reusable instance per shard, filled by the TCP layer
 * for each segment (no allocation per segment), read by the connection.
 */
import { TcpOptions } from '../wire/tcp.js';

/** The fields of the segment being processed. */
export class InSegment {
  /** Bytes holding the segment, and the offset/length of its payload. */
  b: Uint8Array = new Uint8Array(0);
  dataOff = 0;
  dataLen = 0;
  src = 0;
  dst = 0;
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  /** Window field as sent (not yet scaled). */
  window = 0;
  /** Options (parsed). */
  readonly opts = new TcpOptions();

  /** Sequence space the segment occupies: data plus SYN and FIN (RFC 9293 3.4, SEG.LEN). */
  get segLen(): number {
    return this.dataLen + (this.flags & 0x02 ? 1 : 0) + (this.flags & 0x01 ? 1 : 0);
  }
}
