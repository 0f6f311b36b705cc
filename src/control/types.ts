/**
 * The data the control plane serves, as plain JSON-able types. The main thread builds
 * these from the shared-memory counter blocks, the ring control words and RPC calls to
 * the threads (latency histograms); the HTTP layer only formats them. What the threads
 * themselves report (ConnectionInfo, ThreadLatency) is defined with them, in
 * src/dataplane/reports.ts, and re-exported here.
 */
import type { ArchivedTraceInfo, CongestionInfo, ConnectionInfo, ConnectionTraceInfo, Ipv6Report, RackInfo, StageLatency, ThreadLatency, TraceEvent } from '../dataplane/reports.js';
import type { CaptureStatus } from './capture-control.js';
import type { AppPoolStats } from './app-pool.js';
import type { CpuAffinityMode } from './cpu-plan.js';

export type { AppPoolStats, ArchivedTraceInfo, CaptureStatus, CongestionInfo, ConnectionInfo, ConnectionTraceInfo, RackInfo, StageLatency, ThreadLatency, TraceEvent };

/** One thread's counters. */
export interface ThreadStats {
  /** 'io' for the I/O thread, 'worker-N' for shard worker N. */
  thread: string;
  /** Every counter of that thread by name (zeros included), see src/base/counters.ts. */
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

/** An IPv6 address of /stats: 'ADDR/PREFIX' and its DAD state (null: unknown). */
export interface Ipv6AddressStatus {
  address: string;
  state: Ipv6Report['addresses'][number]['state'] | null;
}

/** GET /stats. */
export interface StatsSnapshot {
  version: string;
  uptimeSeconds: number;
  tap: string;
  ip: string;
  prefixLength: number;
  gateway: string | null;
  /** Static routes (--route), as 'DEST/PREFIX via GW'. */
  routes: string[];
  /**
   * IPv6 addresses as 'ADDR/PREFIX' (the link-local one first) with their duplicate address
   * detection state in worker 0 (GET /ipv6's; null when worker 0 did not answer), and --gateway6.
   */
  ipv6: Ipv6AddressStatus[];
  gateway6: string | null;
  mac: string;
  mtu: number;
  offload: boolean;
  workers: number;
  /** Threads that run the workers (several workers may share one: --threads). */
  workerThreads: number;
  /** --cpu-affinity, and why no data-plane thread is bound to a CPU (null when each is; control/cpu-plan.ts). */
  cpuAffinity: { mode: CpuAffinityMode; unboundBecause: string | null };
  /** The running data-plane threads ('io', then the worker threads): kernel thread id and the CPUs it may run on ("0-3,6"). */
  dataPlaneThreads: Array<{ thread: string; tid: number; cpus: string }>;
  /** The process's resident set size (VmRSS), bytes; each thread's V8 heap is in its heap_* gauges. */
  rssBytes: number;
  threads: ThreadStats[];
  /** Sum over threads of each counter (gauges summed too: e.g. total ARP entries over workers). */
  totals: Record<string, number>;
  /** Non-zero `drop_*` totals by reason (the `drop_` prefix removed). */
  drops: Record<string, number>;
  rings: RingReport[];
  /** The packet capture: its state, and frames captured / not captured (ring full) over all threads. */
  pcap: CaptureStatus & { captured: number; dropped: number };
  /** The --fault specification in effect (normalised), or null. */
  fault: string | null;
  /** Non-zero `fault_*` totals by what the injector did (the `fault_` prefix removed, e.g. rx_dropped). */
  faults: Record<string, number>;
  /** The process-wide pool behind api.offload: size, queue bound, tasks in flight, done, failed, refused. */
  appPool: AppPoolStats;
}

/** GET /latency: per thread, per stage. Stage names are documented in src/dataplane/latency.ts. */
export interface LatencyReport {
  unit: 'us';
  threads: ThreadLatency[];
}

/** What the control server asks of the running stack. */
export type { Ipv6Report };

export interface ControlSource {
  stats(): StatsSnapshot;
  latency(): Promise<LatencyReport>;
  /** Clears latency histograms in every thread (POST /latency/reset). */
  resetLatency(): Promise<void>;
  /** Every TCP connection in every worker (GET /connections). */
  connections(): Promise<ConnectionInfo[]>;
  /**
   * One connection's trace (GET /connections/<id>/trace, id `<worker>.<serial>`); throws an
   * Error with `status` 400 (malformed id) or 404 (no such connection, live or archived).
   */
  trace(id: string): Promise<ConnectionTraceInfo>;
  /** Every worker's archived traces, newest first (GET /traces). */
  archivedTraces(): Promise<ArchivedTraceInfo[]>;
  health(): { ok: boolean; workers: number; workersAlive: number; ioAlive: boolean };
  /**
   * Starts a packet capture (POST /pcap/start, body: CaptureRequest as JSON). Throws an
   * Error with `status` 400 (bad request) or 409 (already capturing).
   */
  startCapture(req: unknown): CaptureStatus;
  /** Stops it (POST /pcap/stop); throws an Error with `status` 409 when none runs. */
  stopCapture(): CaptureStatus;
  /** IPv6 addresses, routers and neighbours (GET /ipv6); throws an Error with `status` 409 when IPv6 is off. */
  ipv6(): Promise<Ipv6Report>;
  /**
   * Adds an IPv6 address at run time (POST /ipv6/addresses, body {"address": "ADDR/PREFIX"});
   * it answers after duplicate address detection. Resolves with the report (the address
   * TENTATIVE); throws an Error with `status` 400 (bad body or address) or 409 (IPv6 off,
   * address already ours).
   */
  addIpv6Address(req: unknown): Promise<Ipv6Report>;
}
