/**
 * The main thread's view of a running stack: creates the shared memory (rings, counter
 * blocks, control words), starts the I/O thread and the threads that run the shard
 * workers (several workers per thread when they outnumber the CPUs: thread-plan.ts),
 * answers the control plane from shared memory (counters, ring words) and comlink RPC
 * (latency, connections; one port per worker), restarts a crashed thread with its
 * workers, and shuts everything down.
 */
import { configureDataPlaneIsolates, ioHeapLimits, workerHeapLimits } from './heap-limits.js';
import { readFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { Logger } from 'pino';
import {
  COUNTER_NAMES, allocateCounterBlocks, counterBlock, countersToObject,
} from '../base/counters.js';
import { createRingBuffer, ringStats } from '../dataplane/ring.js';
import { CAPTURE_RING_BYTES } from '../dataplane/capture-ring.js';
import { batchProcessThreads } from '../dataplane/thread-scheduling.js';
import { formatFaultSpec, type FaultConfig } from '../phy/fault-spec.js';
import { loadTapAddon, type TapAddon } from '../phy/tap.js';
import {
  CTL_CAPTURE, CTL_STOP, CTL_WORDS, type IoThreadData, type LinkSettings, type ShardThreadData, type ShardWorkerData, type ThreadHello, type ThreadRpc,
  type WorkerStackSettings, workerStackSettings,
} from '../dataplane/thread-data.js';
import { formatIpv4, formatMac } from '../wire/addresses.js';
import { formatIpv6, linkLocalFromMac } from '../wire/ipv6-address.js';
import { parseIpv6Assignment } from '../base/host-config.js';
import { IPV6_MIN_MTU } from '../wire/ipv6.js';
import { packageRoot } from '../phy/package-root.js';
import { CaptureController, type CaptureStatus } from './capture-control.js';
import { AppPool, type AppPoolOptions } from './app-pool.js';
import { shardsOfThread, threadsFor } from './thread-plan.js';
import { type CpuAffinityMode, type CpuPlan, formatCpuList, planCpus } from './cpu-plan.js';
import type { ArchivedTraceInfo, ConnectionInfo, ConnectionTraceInfo, ControlSource, Ipv6Report, LatencyReport, RingReport, StatsSnapshot } from './types.js';

/** Bytes of each ring's data area. */
export const RING_BYTES = 4 * 1024 * 1024;

/** What the supervisor needs to start a stack. */
export interface StackSettings extends WorkerStackSettings {
  link: LinkSettings;
  workers: number;
  /** Threads that run the workers (--threads; 0: as many as the CPUs allow, control/thread-plan.ts). */
  threads: number;
  /** TCP connections and TIME_WAIT records for the process (split evenly over the workers). */
  maxConnections: number;
  maxTimeWait: number;
  /** Fault injection in every thread (--fault), or null. */
  fault: FaultConfig | null;
  /** The process-wide pool behind api.offload (--app-threads, --app-queue). */
  appPool: AppPoolOptions;
  /** Make every thread but the data plane's SCHED_BATCH (--batch-helpers; dataplane/thread-scheduling.ts). */
  batchHelpers: boolean;
  /** Bind each data-plane thread to a CPU of its own when there are enough (--cpu-affinity; control/cpu-plan.ts). */
  cpuAffinity: CpuAffinityMode;
}

/** A thread the supervisor runs, or one shard worker on it (the workers of a thread share its Worker, each with its own RPC port). */
interface ThreadHandle {
  name: string;
  worker: Worker;
  rpc: Comlink.Remote<ThreadRpc>;
  alive: boolean;
}

/** Error raised when a thread cannot start (e.g. the TAP cannot be opened). */
export class StartError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** The package version, from package.json. */
export function stackdVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** A running stack (I/O thread + shard workers) and its control source. */
export class Supervisor implements ControlSource {
  private readonly addon: TapAddon = loadTapAddon();
  private readonly rxRings: SharedArrayBuffer[] = [];
  private readonly txRings: SharedArrayBuffer[] = [];
  /** Capture rings: the I/O thread's, then worker i's at 1 + i. */
  private readonly captureRings: SharedArrayBuffer[] = [];
  private readonly capture: CaptureController;
  /** One pool for the whole process; every shard worker reaches it through its own port. */
  private readonly appPool: AppPool;
  private readonly counters: SharedArrayBuffer;
  private readonly control = new SharedArrayBuffer(CTL_WORDS * 4);
  private readonly ctl = new Int32Array(this.control);
  private readonly wakeFd: number;
  /**
   * Worker i's wake-up eventfd: its thread's, which all the workers of a thread share
   * (decision 0055); kept across restarts of the thread.
   */
  private readonly shardWakeFds: number[] = [];
  /** The distinct wake-up eventfds, one per worker thread. */
  private readonly threadWakeFds: number[] = [];
  /** The TAP fd the I/O thread opened (-1 before); workers write to it; closed by stop(). */
  private tapFd = -1;
  private io: ThreadHandle | null = null;
  /** Worker i (each with its own RPC; workers on one thread share its Worker). */
  private readonly shards: Array<ThreadHandle | null> = [];
  /** Threads that run the workers (control/thread-plan.ts). */
  private readonly threadCount: number;
  /** The CPU of each data-plane thread (control/cpu-plan.ts). */
  private readonly cpuPlan: CpuPlan;
  /** Each running data-plane thread by name ('io', 'worker-0', 'workers-0-2'): its kernel id and the CPUs it may run on. */
  private readonly placement = new Map<string, { tid: number; cpus: number[] }>();
  private readonly started = Date.now();
  private stopping = false;
  private readonly restarts: number[] = [];
  private readonly version = stackdVersion();

  constructor(private readonly settings: StackSettings, private readonly log: Logger) {
    for (let i = 0; i < settings.workers; i++) {
      this.rxRings.push(createRingBuffer(RING_BYTES));
      this.txRings.push(createRingBuffer(RING_BYTES));
    }
    for (let t = 0; t <= settings.workers; t++) this.captureRings.push(createRingBuffer(CAPTURE_RING_BYTES));
    this.capture = new CaptureController(this.captureRings, this.ctl, CTL_CAPTURE);
    this.appPool = new AppPool(settings.appPool);
    this.counters = allocateCounterBlocks(1 + settings.workers);
    this.wakeFd = this.addon.eventfd();
    this.threadCount = threadsFor(settings.workers, settings.threads, availableParallelism());
    for (let t = 0; t < this.threadCount; t++) {
      const fd = this.addon.eventfd();
      this.threadWakeFds.push(fd);
      for (const i of shardsOfThread(t, this.threadCount, settings.workers)) this.shardWakeFds[i] = fd;
    }
    // The process's CPUs, read on the main thread (never bound) before any thread starts.
    this.cpuPlan = planCpus(settings.cpuAffinity, this.addon.threadAffinity(0), this.threadCount);
    for (let i = 0; i < settings.workers; i++) this.shards.push(null);
  }

  /** Starts the I/O thread (opening the TAP), then the workers. Rejects with StartError. */
  async start(): Promise<void> {
    configureDataPlaneIsolates();
    // libuv starts its thread pool at its first task, from the thread that queues it; a pool
    // started by a data-plane thread (an application's fs or zlib call) would inherit its
    // CPU and its SCHED_OTHER. Start it here: its threads are helpers like V8's.
    await access(packageRoot());
    if (this.settings.batchHelpers) {
      // Before the data-plane threads start: they inherit SCHED_BATCH and leave it at once.
      const r = batchProcessThreads(this.addon);
      if (r.failed > 0) this.log.warn({ threads: r.failed, code: r.firstError }, 'could not make the helper threads SCHED_BATCH: they may preempt the data plane');
    }
    const ioChan = new MessageChannel();
    const ioData: IoThreadData = {
      link: this.settings.link,
      rxRings: this.rxRings,
      txRings: this.txRings,
      counters: this.counters,
      control: this.control,
      wakeFd: this.wakeFd,
      shardWakeFds: this.shardWakeFds,
      captureRing: this.captureRings[0],
      fault: this.settings.fault,
      busyPollUs: this.settings.busyPollUs,
      schedOther: this.settings.batchHelpers,
      cpu: this.cpuPlan.io,
      shardCpus: this.shardCpus(),
      rpc: ioChan.port2,
    };
    this.io = await this.spawnIo(ioData, ioChan);
    for (let t = 0; t < this.threadCount; t++) await this.startThread(t);
    this.log.info(
      {
        tap: this.settings.link.tap, ip: formatIpv4(this.settings.link.ip), mac: formatMac(this.settings.link.mac),
        workers: this.settings.workers, threads: this.threadCount,
        cpus: this.cpuPlan.unboundBecause ?? this.placementText(),
      },
      'stack up',
    );
    const cpus = availableParallelism();
    if (this.threadCount + 1 > cpus) {
      // Measured on 2 vCPUs (docs/benchmarks.md): 4 worker threads served 0.5–0.7 of the
      // HTTP requests/s of 1, every thread taking turns on the CPUs.
      this.log.warn({ threads: this.threadCount, cpus }, 'more data-plane threads (worker threads + I/O thread) than CPUs: fewer --threads are likely faster here');
    }
  }

  /** "io on CPU 1, worker-0 on CPU 0": where each running data-plane thread may run. */
  private placementText(): string {
    return [...this.placement].map(([name, p]) => `${name} on CPU ${formatCpuList(p.cpus)}`).join(', ');
  }

  /** The CPU of the thread that runs each shard (null: not bound); all null when the I/O thread is bound itself. */
  private shardCpus(): Array<number | null> {
    const cpus = new Array<number | null>(this.settings.workers).fill(null);
    if (this.cpuPlan.io !== null) return cpus;
    for (let t = 0; t < this.threadCount; t++) {
      for (const s of shardsOfThread(t, this.threadCount, this.settings.workers)) cpus[s] = this.cpuPlan.workerThreads[t];
    }
    return cpus;
  }

  /** The CPUs a data-plane thread may run on now (the I/O thread's change under load), or those it said at start. */
  private cpusNow(p: { tid: number; cpus: number[] }): number[] {
    try {
      return this.addon.threadAffinity(p.tid);
    } catch {
      return p.cpus; // exited meanwhile (a restart under way)
    }
  }

  /** Threads that run the workers. */
  get threads(): number {
    return this.threadCount;
  }

  /** Each worker's share of --max-connections. */
  private workerMaxConnections(): number {
    return Math.ceil(this.settings.maxConnections / this.settings.workers);
  }

  /** What worker `i` is started with; its RPC and offload ports are port2 of the two channels. */
  private shardData(i: number, chan: MessageChannel, offload: MessageChannel, reportsHeap: boolean): ShardWorkerData {
    return {
      index: i,
      count: this.settings.workers,
      link: this.settings.link,
      rxRing: this.rxRings[i],
      txRing: this.txRings[i],
      counters: this.counters,
      control: this.control,
      wakeFd: this.wakeFd,
      rxWakeFd: this.shardWakeFds[i],
      tapFd: this.tapFd,
      ...workerStackSettings(this.settings),
      maxConnections: this.workerMaxConnections(),
      maxTimeWait: Math.ceil(this.settings.maxTimeWait / this.settings.workers),
      captureRing: this.captureRings[1 + i],
      fault: this.settings.fault,
      rpc: chan.port2,
      offload: offload.port2,
      reportsHeap,
    };
  }

  /**
   * Starts thread `t` with its workers (control/thread-plan.ts) and records a handle per
   * worker. Rejects with StartError; a thread that exits later is restarted with all its
   * workers.
   */
  private async startThread(t: number): Promise<void> {
    const shardIdx = shardsOfThread(t, this.threadCount, this.settings.workers);
    const chans = shardIdx.map(() => new MessageChannel());
    const offloads = shardIdx.map(() => new MessageChannel());
    for (const o of offloads) this.appPool.attach(o.port1);
    const data: ShardThreadData = {
      shards: shardIdx.map((i, k) => this.shardData(i, chans[k], offloads[k], k === 0)),
      schedOther: this.settings.batchHelpers,
      cpu: this.cpuPlan.workerThreads[t],
    };
    const name = shardIdx.length === 1 ? `worker-${shardIdx[0]}` : `workers-${shardIdx.join('-')}`;
    const closePorts = (): void => {
      for (const c of chans) c.port1.close();
      for (const o of offloads) o.port1.close();
    };
    const handles: ThreadHandle[] = [];
    const worker = await this.spawnThread(name, 'shard-worker.js', data, [...chans.map((c) => c.port2), ...offloads.map((o) => o.port2)],
      workerHeapLimits(this.workerMaxConnections() * shardIdx.length), () => {
        for (const h of handles) h.alive = false;
        closePorts();
        if (!this.stopping) void this.restartThread(t);
      });
    shardIdx.forEach((i, k) => {
      const h: ThreadHandle = { name: `worker-${i}`, worker, rpc: Comlink.wrap<ThreadRpc>(nodeEndpoint(chans[k].port1)), alive: true };
      handles.push(h);
      this.shards[i] = h;
    });
  }

  /** Starts the I/O thread; its handle. */
  private async spawnIo(data: IoThreadData, chan: MessageChannel): Promise<ThreadHandle> {
    let handle: ThreadHandle | null = null;
    const worker = await this.spawnThread('io', 'io-thread.js', data, [chan.port2], ioHeapLimits(), () => {
      if (handle !== null) handle.alive = false;
      chan.port1.close();
    });
    handle = { name: 'io', worker, rpc: Comlink.wrap<ThreadRpc>(nodeEndpoint(chan.port1)), alive: true };
    return handle;
  }

  /**
   * Starts a thread from dist/workers/`file` with `data` (transferring `transfer`) and
   * resolves with it once it says it is ready; rejects with StartError if it cannot start.
   * `onExit` runs when it exits.
   */
  private spawnThread(name: string, file: string, data: object, transfer: MessagePort[], limits: ResourceLimits, onExit: () => void): Promise<Worker> {
    const worker = new Worker(join(packageRoot(), 'dist', 'workers', file), { workerData: data, transferList: transfer, name, resourceLimits: limits });
    return new Promise((resolve, reject) => {
      worker.once('message', (m: ThreadHello) => {
        if (m.type === 'ready') {
          // The I/O thread reports the offload it got from the kernel.
          if (m.offload !== undefined) this.settings.link.offload = m.offload;
          if (m.tapFd !== undefined) this.tapFd = m.tapFd;
          if (m.schedError !== undefined) this.log.warn({ thread: name, code: m.schedError }, 'a data-plane thread could not make itself SCHED_OTHER');
          if (m.affinityError !== undefined) this.log.warn({ thread: name, code: m.affinityError, cpus: formatCpuList(m.cpus) }, 'a data-plane thread could not bind itself to its CPU');
          this.placement.set(name, { tid: m.tid, cpus: m.cpus });
          resolve(worker);
        } else reject(new StartError(m.code, m.message));
      });
      worker.on('error', (e) => {
        this.log.error({ thread: name, err: e }, 'thread crashed');
        reject(new StartError('ETHREAD', `${name} failed: ${e.message}`));
      });
      worker.on('exit', (code) => {
        if (!this.stopping) this.log.error({ thread: name, code }, 'thread exited');
        this.placement.delete(name);
        onExit();
      });
    });
  }

  /** Restarts a crashed thread of workers, at most 5 times a minute; beyond that the stack stops. */
  private async restartThread(t: number): Promise<void> {
    const shardIdx = shardsOfThread(t, this.threadCount, this.settings.workers);
    const i = shardIdx[0];
    const now = Date.now();
    while (this.restarts.length > 0 && this.restarts[0] < now - 60_000) this.restarts.shift();
    if (this.restarts.length >= 5) {
      this.log.fatal({ shard: i }, 'workers keep crashing; stopping');
      process.kill(process.pid, 'SIGTERM');
      return;
    }
    this.restarts.push(now);
    for (const s of shardIdx) this.shards[s] = null;
    try {
      await this.startThread(t);
      this.log.warn({ shard: i, shards: shardIdx }, 'worker restarted');
    } catch (e) {
      this.log.error({ shard: i, shards: shardIdx, err: e }, 'worker restart failed');
    }
  }

  /** Stops all threads (stop word, wake-ups, then terminate after a grace period). */
  async stop(graceMs = 1500): Promise<void> {
    this.stopping = true;
    Atomics.store(this.ctl, CTL_STOP, 1);
    this.addon.eventfdSignal(this.wakeFd);
    // The offload pool stops alongside the threads (tasks still waiting are refused).
    const poolClosed = this.appPool.close();
    // Wake sleeping workers so they see the stop word.
    for (const fd of this.threadWakeFds) this.addon.eventfdSignal(fd);
    const all = [...new Set([this.io, ...this.shards].filter((t): t is ThreadHandle => t !== null).map((t) => t.worker))];
    await Promise.all(
      all.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.threadId < 0) {
              resolve();
              return;
            }
            const timer = setTimeout(() => void w.terminate().then(() => resolve()), graceMs);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
    this.capture.close(); // the threads are gone: everything they captured is in the rings
    await poolClosed;
    this.addon.close(this.wakeFd);
    for (const fd of this.threadWakeFds) this.addon.close(fd);
    if (this.tapFd >= 0) {
      this.addon.close(this.tapFd);
      this.tapFd = -1;
    }
  }

  /** GET /health. */
  health(): { ok: boolean; workers: number; workersAlive: number; ioAlive: boolean } {
    const workersAlive = this.shards.filter((s) => s?.alive).length;
    const ioAlive = this.io?.alive ?? false;
    return { ok: ioAlive && workersAlive === this.settings.workers, workers: this.settings.workers, workersAlive, ioAlive };
  }

  /** GET /stats, read from shared memory without RPC. */
  stats(): StatsSnapshot {
    const n = this.settings.workers;
    const threads = [];
    const totals: Record<string, number> = {};
    for (const name of COUNTER_NAMES) totals[name] = 0;
    for (let t = 0; t <= n; t++) {
      const counters = countersToObject(counterBlock(this.counters, t));
      for (const k of COUNTER_NAMES) totals[k] += counters[k];
      threads.push({ thread: t === 0 ? 'io' : `worker-${t - 1}`, counters });
    }
    const drops: Record<string, number> = {};
    const faults: Record<string, number> = {};
    for (const [k, v] of Object.entries(totals)) {
      if (k.startsWith('drop_') && v !== 0) drops[k.slice(5)] = v;
      if (k.startsWith('fault_') && v !== 0) faults[k.slice(6)] = v;
    }
    const rings: RingReport[] = [];
    const add = (name: string, sab: SharedArrayBuffer) => {
      const s = ringStats(sab);
      rings.push({ name, capacity: s.capacity, used: s.used, highWater: s.highWater, fullDrops: s.fullDrops, records: s.records });
    };
    this.rxRings.forEach((sab, i) => add(`rx-${i}`, sab));
    this.txRings.forEach((sab, i) => add(`tx-${i}`, sab));
    const l = this.settings.link;
    return {
      version: this.version,
      uptimeSeconds: Math.round((Date.now() - this.started) / 100) / 10,
      tap: l.tap,
      ip: formatIpv4(l.ip),
      prefixLength: l.prefixLength,
      gateway: l.gateway !== 0 ? formatIpv4(l.gateway) : null,
      routes: l.routes.map((r) => `${formatIpv4(r.dest)}/${r.prefixLength} via ${formatIpv4(r.gateway)}`),
      // (none when the MTU is below IPv6's 1280: the core leaves IPv6 off)
      // (states come from worker 0 through GET /ipv6: the control server fills them in)
      ipv6: l.mtu < IPV6_MIN_MTU ? [] : [`${formatIpv6(linkLocalFromMac(l.mac))}/64`, ...l.ipv6.addresses.map((a) => `${formatIpv6(a.address)}/${a.prefixLength}`)]
        .map((address) => ({ address, state: null })),
      gateway6: l.ipv6.gateway !== null ? formatIpv6(l.ipv6.gateway) : null,
      mac: formatMac(l.mac),
      mtu: l.mtu,
      offload: l.offload !== 0,
      workers: n,
      workerThreads: this.threadCount,
      cpuAffinity: { mode: this.settings.cpuAffinity, unboundBecause: this.cpuPlan.unboundBecause },
      dataPlaneThreads: [...this.placement].map(([thread, p]) => ({ thread, tid: p.tid, cpus: formatCpuList(this.cpusNow(p)) })),
      rssBytes: process.memoryUsage.rss(),
      threads,
      totals,
      drops,
      rings,
      pcap: { ...this.capture.status(), captured: totals.pcap_frames, dropped: totals.pcap_dropped },
      fault: this.settings.fault === null ? null : formatFaultSpec(this.settings.fault),
      faults,
      appPool: this.appPool.stats(),
    };
  }

  /** POST /pcap/start: throws CaptureError (400, 409). */
  startCapture(req: unknown): CaptureStatus {
    const s = this.capture.start(req);
    this.log.info({ file: s.file, snaplen: s.snaplen, maxMb: s.maxMb }, 'capture started');
    return s;
  }

  /** POST /pcap/stop: throws CaptureError (409) when no capture runs. */
  stopCapture(): CaptureStatus {
    const s = this.capture.stop();
    this.log.info({ file: s.file, records: s.records, files: s.files, error: s.error }, 'capture stopped');
    return s;
  }

  /** GET /latency: asks every live thread for its histograms. */
  async latency(): Promise<LatencyReport> {
    const all = [this.io, ...this.shards].filter((t): t is ThreadHandle => t !== null && t.alive);
    const threads = await Promise.all(all.map((t) => withTimeout(t.rpc.latency(), 2000, t.name)));
    return { unit: 'us', threads };
  }

  /** GET /connections: every worker's TCP connections. */
  async connections(): Promise<ConnectionInfo[]> {
    const all = this.shards.filter((t): t is ThreadHandle => t !== null && t.alive);
    const parts = await Promise.all(all.map((t) => withTimeout(t.rpc.connections(), 2000, t.name)));
    return parts.flat();
  }

  /**
   * GET /connections/<id>/trace: asks worker W for its connection S (id `W.S`, as
   * /connections shows it). Throws an Error with `status` 400 for a malformed id, 404 when
   * no worker W or it knows no such connection (closed and not archived).
   */
  async trace(id: string): Promise<ConnectionTraceInfo> {
    const m = /^(\d{1,4})\.(\d{1,15})$/.exec(id);
    if (m === null) throw withStatus(400, `'${id}' is not a connection id (<worker>.<serial>, as stackctl conns shows it)`);
    const shard = this.shards.at(Number(m[1]));
    if (shard === undefined || shard === null || !shard.alive) throw withStatus(404, `no connection ${id}: no worker ${m[1]} running`);
    const t = await withTimeout(shard.rpc.trace(Number(m[2])), 2000, shard.name);
    if (t === null) throw withStatus(404, `no connection ${id} (closed, and its trace not archived: only those with an RTO or a reset are)`);
    return t;
  }

  /** GET /traces: every worker's archived traces, newest first. */
  async archivedTraces(): Promise<ArchivedTraceInfo[]> {
    const all = this.shards.filter((t): t is ThreadHandle => t !== null && t.alive);
    const parts = await Promise.all(all.map((t) => withTimeout(t.rpc.archivedTraces(), 2000, t.name)));
    return parts.flat().sort((a, b) => a.closedMsAgo - b.closedMsAgo);
  }

  /** GET /ipv6: asks worker 0, which runs IPv6; 409 when IPv6 is off (an MTU below 1280). */
  async ipv6(): Promise<Ipv6Report> {
    const w0 = this.shards.at(0);
    if (w0 === undefined || w0 === null || !w0.alive) throw Object.assign(new Error('worker 0 is not running'), { status: 503 });
    const r = await withTimeout(w0.rpc.ipv6(), 2000, w0.name);
    if (r === null) throw Object.assign(new Error('IPv6 is off: the MTU is below 1280 (RFC 8200 5)'), { status: 409 });
    return r;
  }

  /**
   * POST /ipv6/addresses: every worker but 0 adds the address as TENTATIVE and watches for
   * an answer to worker 0's probe (NdLayer.watchDad, decision 0030); then worker 0 adds it
   * and sends the probe — in that order, so that no worker can miss the defence of a
   * duplicate. Each worker checks the request the same way; worker 0's refusal is the
   * answer. /stats lists the address from now on.
   */
  async addIpv6Address(req: unknown): Promise<Ipv6Report> {
    const text = typeof req === 'object' && req !== null && 'address' in req ? req.address : undefined;
    if (typeof text !== 'string') throw Object.assign(new Error('expected {"address": "ADDR/PREFIX"}'), { status: 400 });
    const w0 = this.shards.at(0);
    if (w0 === undefined || w0 === null || !w0.alive) throw Object.assign(new Error('worker 0 is not running'), { status: 503 });
    const others = this.shards.slice(1).filter((t): t is ThreadHandle => t !== null && t.alive);
    const answers = await Promise.all(others.map((t) => withTimeout(t.rpc.addIpv6Address(text), 2000, t.name)));
    const refused = await withTimeout(w0.rpc.addIpv6Address(text), 2000, w0.name);
    if (refused !== null) throw Object.assign(new Error(refused.error), { status: refused.status });
    answers.forEach((r, i) => {
      if (r !== null) this.log.warn({ address: text, worker: others[i].name, error: r.error }, 'a worker refused the IPv6 address');
    });
    const a = parseIpv6Assignment(text);
    if (typeof a !== 'string') this.settings.link.ipv6.addresses.push(a);
    this.log.info({ address: text }, 'IPv6 address added, duplicate address detection started');
    return this.ipv6();
  }

  /** POST /latency/reset. */
  async resetLatency(): Promise<void> {
    const all = [this.io, ...this.shards].filter((t): t is ThreadHandle => t !== null && t.alive);
    await Promise.all(all.map((t) => withTimeout(t.rpc.resetLatency(), 2000, t.name)));
  }
}

/** An Error the control server answers with `status`. */
function withStatus(status: number, message: string): Error {
  return Object.assign(new Error(message), { status });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
