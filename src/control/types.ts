/**
 * The data the control plane serves, as plain JSON-able types. The main thread builds
 * these from the shared-memory counter blocks, the ring control words and RPC calls to
 * the threads (latency histograms); the HTTP layer only formats them.
 */

/** One thread's counters. */
export interface ThreadStats {
  /** 'io' for the I/O thread, 'worker-N' for shard worker N. */
  thread: string;
  /** Every counter of that thread by name (zeros included), see src/stack/counters.ts. */
  counters: Record<string, number>;
}

/** Occupancy and drops of one SPSC ring. */
export interface RingReport {
  /** e.g. 'rx-0' (I/O thread → worker 0), 'tx-0' (worker 0 → I/O thread). */
  name: string;
  capacity: number;
  used: number;
  highWater: number;
  fullDrops: number;
  records: number;
}

/** GET /stats. */
export interface StatsSnapshot {
  version: string;
  uptimeSeconds: number;
  tap: string;
  ip: string;
  prefixLength: number;
  gateway: string | null;
  mac: string;
  mtu: number;
  offload: boolean;
  workers: number;
  threads: ThreadStats[];
  /** Sum over threads of each counter (gauges summed too: e.g. total ARP entries over workers). */
  totals: Record<string, number>;
  /** Non-zero `drop_*` totals by reason (the `drop_` prefix removed). */
  drops: Record<string, number>;
  rings: RingReport[];
}

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

/** GET /latency: per thread, per stage. Stage names are documented in src/dataplane/latency.ts. */
export interface LatencyReport {
  unit: 'us';
  threads: Array<{ thread: string; stages: Record<string, StageLatency> }>;
}

/** One TCP connection in GET /connections. */
export interface ConnectionInfo {
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
  retransmitting: boolean;
}

/** What the control server asks of the running stack. */
export interface ControlSource {
  stats(): StatsSnapshot;
  latency(): Promise<LatencyReport>;
  /** Clears latency histograms in every thread (POST /latency/reset). */
  resetLatency(): Promise<void>;
  /** Every TCP connection in every worker (GET /connections). */
  connections(): Promise<ConnectionInfo[]>;
  health(): { ok: boolean; workers: number; workersAlive: number; ioAlive: boolean };
}
