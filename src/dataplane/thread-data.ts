/**
 * What the main thread hands each thread at start (workerData), and the shared control
 * words. Everything here is structured-cloneable; SharedArrayBuffers are shared, not copied.
 */
import type { MessagePort } from 'node:worker_threads';
import type { FaultConfig } from '../phy/fault-spec.js';
import type { Ipv6Settings, StaticRoute } from '../base/host-config.js';
import type { ArchivedTraceInfo, ConnectionInfo, ConnectionTraceInfo, Ipv6Report, ThreadLatency } from './reports.js';
import type { EcnMode } from '../tcp/ecn.js';
import type { CongestionControlName } from '../tcp/congestion/congestion-control.js';

/** Index of the words in the shared control Int32Array: non-zero asks every thread to stop. */
export const CTL_STOP = 0;
/** The capture word: the snapshot length while a capture runs, 0 when off (phy/capture-device.ts). */
export const CTL_CAPTURE = 1;
/** Frames the threads' fault injectors transmitted (--fault), shared so that a reordered frame waits for any thread's next one. */
export const CTL_FAULT_TX_FRAMES = 2;
/** Number of control words. */
export const CTL_WORDS = 4;

/**
 * What every shard worker's stack takes unchanged from stackd's command line: one
 * definition for the parsed arguments (cli/args.ts), the supervisor's settings
 * (control/supervisor.ts) and each worker's data, copied from one to the next by
 * workerStackSettings().
 */
export interface WorkerStackSettings {
  /** Built-in services to start (e.g. 'udp-echo', 'echo', 'http'; --service). */
  services: string[];
  /** Application modules to load (absolute paths; --app). */
  apps: string[];
  /** Level of the workers' loggers (--log-level). */
  logLevel: string;
  /** TCP congestion control (TcpConfig.congestionControl; --cc). */
  congestionControl: CongestionControlName;
  /** RFC 3168 ECN (TcpConfig.ecn; --ecn). */
  ecn: EcnMode;
  /** Loss recovery with SACK (TcpConfig.recovery; --recovery). */
  recovery: 'rack' | 'rfc6675';
  /** IPv6 addresses each worker's TCP and UDP refer to at once (HostLimits.ipv6Addresses; --max-ipv6-peers). */
  maxIpv6Peers: number;
  /** Connections each worker traces at once (TcpConfig.traceSlots; --trace-slots; 0: none). */
  traceSlots: number;
  /** How long after a frame a worker polls its RX ring before it sleeps (µs; --busy-poll; 0: never). */
  busyPollUs: number;
}

/** The WorkerStackSettings of `s` (a larger settings object), on their own. */
export function workerStackSettings(s: WorkerStackSettings): WorkerStackSettings {
  return {
    services: s.services,
    apps: s.apps,
    logLevel: s.logLevel,
    congestionControl: s.congestionControl,
    ecn: s.ecn,
    recovery: s.recovery,
    maxIpv6Peers: s.maxIpv6Peers,
    traceSlots: s.traceSlots,
    busyPollUs: s.busyPollUs,
  };
}

/** Link-level settings common to the threads. */
export interface LinkSettings {
  /** TAP device name. */
  tap: string;
  /** Our IPv4 address and prefix. */
  ip: number;
  prefixLength: number;
  /** Default gateway (0: none). */
  gateway: number;
  /** Static routes (--route), in the order given. */
  routes: StaticRoute[];
  /** IPv6 addresses and default router (the link-local address is derived by the stack). */
  ipv6: Ipv6Settings;
  /** Our MAC (48-bit). */
  mac: number;
  /** IP MTU. */
  mtu: number;
  /** Open the TAP with a virtio-net header (IFF_VNET_HDR). */
  vnetHdr: boolean;
  /** TUNSETOFFLOAD flags to request (0 = none). */
  offload: number;
}

/** workerData of the I/O thread. */
export interface IoThreadData {
  link: LinkSettings;
  /** RX rings (I/O thread → worker i) and TX rings (worker i → I/O thread: re-injected datagrams). */
  rxRings: SharedArrayBuffer[];
  txRings: SharedArrayBuffer[];
  /** All counter blocks; the I/O thread writes block 0. */
  counters: SharedArrayBuffer;
  /** Shared control words (CTL_*). */
  control: SharedArrayBuffer;
  /** eventfd the workers signal when the I/O thread sleeps and they published TX records. */
  wakeFd: number;
  /** Worker i's eventfd, signalled when it sleeps and RX records were published for it: one per worker thread (decision 0055). */
  shardWakeFds: number[];
  /** This thread's capture ring (dataplane/capture-ring.ts). */
  captureRing: SharedArrayBuffer;
  /** Fault injection on this thread's device (--fault), or null. */
  fault: FaultConfig | null;
  /** After a frame, poll the TAP and the TX rings this long before sleeping (µs; --busy-poll, 0: never). */
  busyPollUs: number;
  /** Make this thread SCHED_OTHER as it starts (the main thread made the process SCHED_BATCH; --batch-helpers, decision 0049). */
  schedOther: boolean;
  /** The CPU this thread binds itself to as it starts, or null (control/cpu-plan.ts, decision 0053). */
  cpu: number | null;
  /**
   * The CPU of the worker thread that runs shard i, or null: this thread leaves the CPUs of
   * busy ones (dataplane/io-thread-placement.ts, decision 0054). All null when it is bound.
   */
  shardCpus: Array<number | null>;
  /** comlink endpoint for control RPC. */
  rpc: MessagePort;
}

/** workerData of shard worker `index`. */
export interface ShardWorkerData extends WorkerStackSettings {
  index: number;
  count: number;
  link: LinkSettings;
  rxRing: SharedArrayBuffer;
  txRing: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  control: SharedArrayBuffer;
  /** The I/O thread's eventfd (signalled when it sleeps and TX records were published). */
  wakeFd: number;
  /**
   * This worker's eventfd: its event loop wakes when the I/O thread signals it (RX records
   * for a sleeping worker). The workers of one thread share it (decision 0055).
   */
  rxWakeFd: number;
  /** The TAP fd (opened by the I/O thread); the worker writes its frames to it directly. */
  tapFd: number;
  /** This worker's share of the process's TCP connection and TIME_WAIT limits. */
  maxConnections: number;
  maxTimeWait: number;
  /** This worker's capture ring (dataplane/capture-ring.ts). */
  captureRing: SharedArrayBuffer;
  /** Fault injection on this worker's direct transmit path (--fault), or null. */
  fault: FaultConfig | null;
  rpc: MessagePort;
  /** This worker's port to the process-wide offload pool of the main thread (api.offload). */
  offload: MessagePort;
  /**
   * Whether this worker writes its thread's V8 heap into its heap_* gauges: the first
   * worker of each thread (workers sharing a thread share its heap; decision 0029).
   */
  reportsHeap: boolean;
}

/** workerData of a thread that runs one or more shard workers (control/thread-plan.ts). */
export interface ShardThreadData {
  shards: ShardWorkerData[];
  /** Make this thread SCHED_OTHER as it starts (the main thread made the process SCHED_BATCH; --batch-helpers, decision 0049). */
  schedOther: boolean;
  /** The CPU this thread binds itself to as it starts, or null (control/cpu-plan.ts, decision 0053). */
  cpu: number | null;
}

/** The RPC surface every thread exposes to the main thread through comlink. */
export interface ThreadRpc {
  latency(): ThreadLatency;
  resetLatency(): void;
  /** Debug view of the ARP cache (workers; the I/O thread returns []). */
  arpEntries(): Array<[string, string, number]>;
  /** TCP connections of this worker (the I/O thread returns []). */
  connections(): ConnectionInfo[];
  /** The trace of this worker's connection `serial`, live or archived; null when unknown (the I/O thread: always). */
  trace(serial: number): ConnectionTraceInfo | null;
  /** This worker's archived traces, newest first (the I/O thread returns []). */
  archivedTraces(): ArchivedTraceInfo[];
  /** IPv6 state of the worker that runs IPv6 (worker 0); null elsewhere or when it is off. */
  ipv6(): Ipv6Report | null;
  /**
   * Adds "ADDR[/PREFIX]" to worker 0's addresses, which starts its duplicate address
   * detection; null when done, else the HTTP status and why not.
   */
  addIpv6Address(text: string): { status: 400 | 409; error: string } | null;
}

/** A thread's first message: ready (with what it got from the kernel, and the errno code if it could not make itself SCHED_OTHER), or why it could not start. */
export type ThreadHello =
  | {
      type: 'ready';
      offload?: number;
      tapFd?: number;
      schedError?: string;
      /** The thread's kernel id, the CPUs it may run on, and why it could not bind itself to its CPU. */
      tid: number;
      cpus: number[];
      affinityError?: string;
    }
  | { type: 'error'; code: string; message: string };
