/**
 * TCP tunables and limits, with the defaults a Linux peer expects. Every limit here is
 * enforced somewhere with a counter when it is hit.
 *
 * RFC 5961 7 (challenge ACK throttling: Linux tcp_challenge_ack_limit), Linux
 * tcp_invalid_ratelimit (ACKs for invalid segments), tcp_max_orphans, tcp_orphan_retries.
 */
import type { EcnMode } from './ecn.js';

/** Tunables of one shard's TCP. */
export interface TcpConfig {
  /** Send buffer per connection (bytes), as it starts. */
  sendBuffer: number;
  /**
   * Most the send buffer grows to (bytes; Linux tcp_wmem[2], there 4 MiB): towards twice
   * the congestion window while the buffer, not the window, holds the sender back
   * (./send-buffer-tuning.ts). 4 MiB, as Linux: a flow holds at most 256 KiB of the
   * worker's TX ring (dataplane/tx-path.ts), so its bursts no longer fill it (decisions
   * 0048, 0050). At or below `sendBuffer`: the buffer stays at `sendBuffer`.
   */
  sendBufferMax: number;
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
  /**
   * Connections per shard (every state but TIME_WAIT); beyond it a new SYN is answered with
   * RST and an active open fails (counted: drop_tcp_conn_limit).
   */
  maxConnections: number;
  /**
   * TIME_WAIT records per shard (Linux tcp_max_tw_buckets, ./time-wait.ts); when full the
   * oldest record ends early (counted: drop_tcp_time_wait_limit); 0: no TIME_WAIT at all.
   */
  maxTimeWait: number;
  /** Out-of-order segments kept per connection. */
  maxOooSegments: number;
  /**
   * Challenge ACKs (RFC 5961 3.2 RST, 4.2 SYN) per second for the whole shard, shared by
   * all its connections (RFC 5961 7; Linux tcp_challenge_ack_limit). Beyond it no ACK is
   * sent (tcp_challenge_acks_suppressed). Infinity: no limit; 0: none sent. Each
   * connection is limited first by invalidAckIntervalMs (below).
   */
  challengeAckLimit: number;
  /**
   * Per connection, at most one ACK per this many ms in reply to invalid segments: out of
   * window, PAWS-rejected, ACK too old, and challenge ACKs (RFC 5961 3.2/4.2) counted in
   * the same interval (Linux tcp_invalid_ratelimit and last_oow_ack_time; challenge ACKs
   * over it: tcp_challenge_acks_conn_limited). Like Linux, segments
   * that carry data or FIN (and no SYN) are always answered: they are retransmissions, not
   * part of an ACK loop. Suppressed ones: tcp_invalid_acks_suppressed. 0: no limit.
   */
  invalidAckIntervalMs: number;
  /**
   * Orphans (close()d connections still finishing) per shard (Linux tcp_max_orphans).
   * A close() that would make more is answered with RST instead (tcp_orphans_overflow_resets).
   */
  maxOrphans: number;
  /**
   * Retransmission timeouts of an orphan before it gives up and resets, instead of
   * dataRetries (Linux tcp_orphan_retries; its 0 default means 8). Counted in
   * tcp_timeouts and tcp_orphan_timeouts.
   */
  orphanRetries: number;
  /** Congestion control: 'newreno' (default) or 'cubic'. */
  congestionControl: 'newreno' | 'cubic' | 'bbr';
  /** Offer/accept window scaling, timestamps, SACK (RFC 7323, RFC 2018). */
  windowScaling: boolean;
  timestamps: boolean;
  sack: boolean;
  /**
   * RFC 8985 7 tail loss probes (Linux tcp_early_retrans ≥ 3): when the last ACK stalls,
   * probe after ~2·SRTT instead of waiting for the RTO (needs SACK).
   */
  tailLossProbe: boolean;
  /**
   * Loss recovery when SACK is negotiated: 'rack' (RFC 8985 6, losses marked by time with
   * a reordering window; the default, as on Linux: decision 0034) or 'rfc6675' (DupThresh
   * SACKed segments above a hole). Without SACK it is NewReno either way.
   */
  recovery: 'rack' | 'rfc6675';
  /**
   * Connections traced at once per shard (./trace.ts: one ring of the last 64 events each,
   * 2 KiB, allocated 64 rings at a time as needed); beyond it a new connection is not
   * traced (counted: tcp_trace_untraced). 0: no trace.
   */
  traceSlots: number;
  /** Traces of closed connections kept per shard (those that had an RTO or a reset; the oldest goes). */
  traceArchive: number;
  /**
   * Black-hole detection (RFC 4821 / RFC 8899 in Linux tcp_mtu_probing's simple form): after
   * this many consecutive retransmission timeouts of a full-size segment, the path MTU
   * towards the peer is taken down a step (1200 bytes, RFC 8899's BASE_PLPMTU, then 576)
   * as if an ICMP had said so, since a path that drops large packets without telling
   * looks just like that (tcp_pmtu_black_holes). 0: off.
   */
  pmtuBlackHoleRtos: number;
  /**
   * ECN (RFC 3168, ./ecn.ts; Linux tcp_ecn): 'accept' (default, Linux's 2) uses it when the
   * peer's SYN asks; 'on' also asks in our SYNs; 'off' never.
   */
  ecn: EcnMode;
}

/** Defaults: Linux-like behaviour at modest memory. */
export const DEFAULT_TCP_CONFIG: TcpConfig = {
  sendBuffer: 1 << 20,
  sendBufferMax: 4 << 20,
  recvBuffer: 1 << 20,
  mslMs: 30_000,
  finWait2Ms: 60_000,
  delayedAckMs: 40,
  synRetries: 6,
  dataRetries: 10,
  keepaliveIntervalMs: 75_000,
  keepaliveProbes: 9,
  synQueue: 256,
  maxConnections: 262_144,
  maxTimeWait: 131_072,
  maxOooSegments: 256,
  challengeAckLimit: 1000,
  invalidAckIntervalMs: 500,
  maxOrphans: 4096,
  orphanRetries: 8,
  congestionControl: 'newreno',
  windowScaling: true,
  timestamps: true,
  sack: true,
  tailLossProbe: true,
  recovery: 'rack',
  traceSlots: 1024,
  traceArchive: 32,
  pmtuBlackHoleRtos: 3,
  ecn: 'accept',
};

/** Window scale shift we offer so that `recvBuffer` fits in the 16-bit window field. */
export function windowScaleFor(recvBuffer: number): number {
  let shift = 0;
  while (shift < 14 && 65535 * 2 ** shift < recvBuffer) shift++;
  return shift;
}
