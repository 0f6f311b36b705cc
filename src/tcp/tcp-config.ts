/**
 * TCP tunables and limits, with the defaults a Linux peer expects. Every limit here is
 * enforced somewhere with a counter when it is hit.
 */

/** Tunables of one shard's TCP. */
export interface TcpConfig {
  /** Send buffer per connection (bytes). */
  sendBuffer: number;
  /** Receive buffer per connection (bytes): bounds the advertised window and out-of-order data. */
  recvBuffer: number;
  /** Maximum segment lifetime; TIME_WAIT lasts 2×MSL (RFC 9293 3.4.2). */
  mslMs: number;
  /** FIN_WAIT_2 timeout (Linux tcp_fin_timeout). */
  finWait2Ms: number;
  /** Delayed ACK timeout (RFC 1122 4.2.3.2: < 0.5 s; Linux uses 40 ms). */
  delayedAckMs: number;
  /** Retransmissions of a SYN / SYN-ACK before giving up (Linux tcp_syn_retries 6). */
  synRetries: number;
  /** Retransmissions of data before giving up and resetting (RFC 1122 R2 ≥ 100 s). */
  dataRetries: number;
  /** Keepalive: interval between probes and probes before giving up (Linux: 75 s, 9). */
  keepaliveIntervalMs: number;
  keepaliveProbes: number;
  /** Half-open connections per listener (SYN queue); beyond it, SYN cookies. */
  synQueue: number;
  /** Connections per shard (all states); beyond it new SYNs are dropped (counted). */
  maxConnections: number;
  /** TIME_WAIT connections per shard (Linux tcp_max_tw_buckets); beyond it they close at once. */
  maxTimeWait: number;
  /** Out-of-order segments kept per connection. */
  maxOooSegments: number;
  /** Congestion control: 'newreno' (default) or 'cubic'. */
  congestionControl: 'newreno' | 'cubic';
  /** Offer/accept window scaling, timestamps, SACK (RFC 7323, RFC 2018). */
  windowScaling: boolean;
  timestamps: boolean;
  sack: boolean;
}

/** Defaults: Linux-like behaviour at modest memory. */
export const DEFAULT_TCP_CONFIG: TcpConfig = {
  sendBuffer: 1 << 20,
  recvBuffer: 1 << 20,
  mslMs: 30_000,
  finWait2Ms: 60_000,
  delayedAckMs: 40,
  synRetries: 6,
  dataRetries: 10,
  keepaliveIntervalMs: 75_000,
  keepaliveProbes: 9,
  synQueue: 256,
  maxConnections: 32_768,
  maxTimeWait: 16_384,
  maxOooSegments: 256,
  congestionControl: 'newreno',
  windowScaling: true,
  timestamps: true,
  sack: true,
};

/** Window scale shift we offer so that `recvBuffer` fits in the 16-bit window field. */
export function windowScaleFor(recvBuffer: number): number {
  let shift = 0;
  while (shift < 14 && 65535 * 2 ** shift < recvBuffer) shift++;
  return shift;
}
