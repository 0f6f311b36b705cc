/**
 * What the data-plane threads report to the main thread over RPC (ThreadRpc): the
 * per-stage latency of a thread, the TCP connections of a worker, a connection's trace
 * and the IPv6 state of worker 0, as plain JSON-able types. The control plane serves them
 * as they are (src/control/types.ts).
 */
import type { TraceEvent } from '../tcp/trace.js';

export type { TraceEvent };

/** Percentiles of one stage in microseconds. */
export interface StageLatency {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** One thread's per-stage latency (stage names: src/dataplane/latency.ts). */
export interface ThreadLatency {
  thread: string;
  stages: Record<string, StageLatency>;
}

/** One TCP connection in GET /connections. */
export interface ConnectionInfo {
  /**
   * `<worker>.<serial>`: what GET /connections/<id>/trace and `stackctl trace` take; null
   * for a TIME_WAIT record (the connection itself is gone; see its archived trace, if any).
   */
  id: string | null;
  worker: number;
  local: string;
  remote: string;
  state: string;
  bytesIn: number;
  bytesOut: number;
  /** Smoothed RTT and current RTO (ms). */
  srttMs: number;
  rtoMs: number;
  /** Congestion window and slow-start threshold (bytes; ssthresh null while infinite). */
  cwnd: number;
  ssthresh: number | null;
  /** Peer's window (bytes, scaled) and the window we advertise (bytes). */
  sndWnd: number;
  rcvWnd: number;
  /** Bytes queued to send (unacked + unsent) and delivered but unread. */
  sendQueued: number;
  recvUnread: number;
  mss: number;
  options: { timestamps: boolean; sack: boolean; sndWscale: number; rcvWscale: number };
  /** In loss recovery (SACK/fast recovery) or after a retransmission timeout. */
  retransmitting: boolean;
  /** RTT variation (ms, RFC 6298 RTTVAR). */
  rttvarMs: number;
  /** Consecutive retransmission timeouts without progress (the RTO backoff exponent). */
  rtoBackoffs: number;
  /** In SACK or NewReno fast recovery. */
  inRecovery: boolean;
  /** Duplicate ACKs counted since the last new ACK. */
  dupAcks: number;
  /** TIME_WAIT only: ms until the record ends (a TIME_WAIT entry is a compact record: the other figures are 0). */
  timeWaitMs?: number;
  /** The congestion control and, for BBR, its model (as `ss -ti` shows them); absent for TIME_WAIT. */
  cc?: CongestionInfo;
  /** RACK's state (RFC 8985 6.2), as `ss -ti` shows minrtt and reord_seen; absent without RACK. */
  rack?: RackInfo;
}

/** A connection's RACK loss detection as GET /connections shows it. */
export interface RackInfo {
  /** RACK.min_RTT (ms; null before a sample). */
  minRttMs: number | null;
  /** The reordering window now (ms): 0 in recovery until reordering is seen (6.2 step 4). */
  reoWndMs: number;
  /** reo_wnd_mult: grows by one per round trip that brings a D-SACK. */
  reoWndMult: number;
  /** Reordering was seen on this connection. */
  reorderingSeen: boolean;
}

/** A connection's congestion control as GET /connections shows it. */
export interface CongestionInfo {
  /** newreno, cubic or bbr. */
  name: string;
  /** BBR's model: state, BtlBw (bits/s), RTprop (ms; null before a sample), the ACK-aggregation allowance (bytes). */
  bbr?: { state: string; btlBwBitsPerSecond: number; rtPropMs: number | null; extraAckedBytes: number };
}

/** GET /traces: one archived trace (a closed connection that had an RTO or a reset), without its events. */
export interface ArchivedTraceInfo {
  id: string;
  worker: number;
  local: string;
  remote: string;
  /** The state it closed in (CLOSED, or TIME_WAIT when it moved to its record). */
  state: string;
  /** rto, reset. */
  reasons: string[];
  closedMsAgo: number;
  events: number;
}

/** GET /connections/<id>/trace: a connection's recent events (src/tcp/trace.ts). */
export interface ConnectionTraceInfo {
  id: string;
  worker: number;
  local: string;
  remote: string;
  /** The state now, or the state it closed in (archived). */
  state: string;
  /** Still open (false: the trace comes from the archive). */
  live: boolean;
  /** Whether it has a ring (false: every ring of the worker was taken when it opened; no events). */
  traced: boolean;
  /** Archived: why it was kept (rto, reset) and how long ago it closed (ms); null while live. */
  archived: { reasons: string[]; closedMsAgo: number } | null;
  /** Our ISN and the peer's (the events' sequence numbers are absolute), and the window scale shifts. */
  iss: number;
  irs: number;
  sndWscale: number;
  rcvWscale: number;
  /** Events, oldest first; `t` in ms on the worker's monotonic clock. */
  events: TraceEvent[];
}

/** GET /ipv6: what worker 0, which runs IPv6, knows (decision 0025). Times are from now, ms. */
export interface Ipv6Report {
  /** Our addresses with their duplicate address detection state. */
  addresses: Array<{ address: string; prefixLength: number; state: 'TENTATIVE' | 'PREFERRED' | 'DUPLICATE' }>;
  /** Default routers from router advertisements, and when their lifetime ends. */
  routers: Array<{ address: string; expiresInMs: number }>;
  /** The neighbour cache: MAC (null while INCOMPLETE), RFC 4861 state, when its timer fires. */
  neighbours: Array<{ address: string; mac: string | null; state: string; isRouter: boolean; timerInMs: number | null }>;
  /** Hop limit and link MTU used for IPv6 (a router advertisement may change them). */
  hopLimit: number;
  mtu: number;
}
