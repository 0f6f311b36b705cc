/**
 * A shard worker's thin shell around the protocol core: RX ring → Host → link device.
 *
 * The worker keeps its event loop (applications, timers and RPC run here too) and sleeps
 * in it: after a burst it spins briefly on its RX ring (and those of the other workers on
 * its thread), raises the ring's sleeping flag and returns to the loop with the next timer
 * deadline armed; the I/O thread signals the thread's eventfd only when it finds the flag
 * raised, and the loop runs the worker again straight from epoll_wait (phy/loop-waker.ts,
 * decision 0026). The workers of one thread share the eventfd and the deadline, and their
 * flags are raised only once all of them have parked (shared-loop-waker.ts, decision
 * 0055). While busy it yields to the
 * loop every BATCH frames or SLICE_MS. Frames it sends go through a TxPath: transmitted
 * to the device by this thread when it is idle, handed to the I/O thread through the TX
 * ring (published once per batch, eventfd wake only if it sleeps) when it is busy
 * (decision 0011). Re-injected datagrams always go through the ring.
 */
import { performance } from 'node:perf_hooks';
import { C, counterBlock, type Counters } from '../base/counters.js';
import { Host } from '../iface/host.js';
import { holdsFrames, type HoldingLinkDevice, type LinkDevice } from '../base/link.js';
import { parseIpv6Assignment, type HostConfig } from '../base/host-config.js';
import { DEFAULT_TTL } from '../base/host-config.js';
import { formatIpv4, formatMac } from '../wire/addresses.js';
import { formatIpv6 } from '../wire/ipv6-address.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, writeEthernetHeader } from '../wire/ethernet.js';
import { builtinService, loadAppModule } from '../services/index.js';
import { createStackApi } from '../socket/stack-api.js';
import { SocketAddresses } from '../socket/socket-addresses.js';
import { OffloadClient } from '../socket/offload.js';
import type { ArchivedTraceInfo, CongestionInfo, ConnectionInfo, ConnectionTraceInfo, RackInfo } from './reports.js';
import { Bbr } from '../tcp/congestion/bbr.js';
import { RackRecovery } from '../tcp/recovery/rack.js';
import type { LossRecovery } from '../tcp/recovery/loss-recovery.js';
import type { CongestionControl } from '../tcp/congestion/congestion-control.js';
import type { TcpConnection } from '../tcp/connection.js';
import { TRACE_MARK_RST, TRACE_MARK_RTO, type ArchivedConnection } from '../tcp/trace.js';
import type { Logger } from 'pino';
import { monoMs } from '../util/clock.js';
import { copyBytes } from '../util/copy-bytes.js';
import { S_PROCESS, S_RX_QUEUE, StageLatencyRecorder } from './latency.js';
import { KIND_FRAME, KIND_REINJECT, recordKind, recordRxFlags } from './ring-records.js';
import { DirectWriter } from './direct-writer.js';
import { HeapGauges } from './heap-gauges.js';
import { TxPath } from './tx-path.js';
import { RingConsumer, RingProducer } from './ring.js';
import type { LoopWaker } from '../phy/loop-waker.js';
import { CTL_STOP, type ShardWorkerData, type ThreadRpc } from './thread-data.js';


/** Frames handled before the worker lets its event loop run other work. */
const BATCH = 64;
/** Longest sleep without checking timers and the stop flag (ms). */
const MAX_SLEEP_MS = 250;
/** Longest run before the worker lets its event loop run other work (ms). */
const SLICE_MS = 2;
/** How often a worker publishes loop_busy_us, its thread's event-loop utilization (ms). */
const LOOP_BUSY_PERIOD_MS = 2;

/**
 * The RX rings of the workers that run on this thread (decision 0029). A worker that runs
 * out of frames does not spin on its own ring while another one here has frames waiting:
 * they cannot run until it returns to the loop.
 */
const threadRings: RingConsumer[] = [];
/**
 * The TX rings of the workers on this thread. The I/O thread raises the sleeping flag of
 * every TX ring when it sleeps; the first worker here to find its own raised clears its
 * siblings' too before it wakes the I/O thread (decision 0055), which then reads every
 * ring: one eventfd write per sleep of the I/O thread and per worker thread, not one per
 * worker.
 */
const threadTxRings: RingProducer[] = [];

/** Clears the I/O thread's sleeping flag on the TX rings in `rings` other than `own` (it is about to be woken). */
export function claimSiblingWakes(own: RingProducer, rings: readonly RingProducer[]): void {
  for (let i = 0; i < rings.length; i++) if (rings[i] !== own) rings[i].claimSleeping();
}

/** Whether a ring in `rings` other than `own` has records waiting (a worker on the same thread has frames). */
export function siblingHasFrames(own: RingConsumer, rings: readonly RingConsumer[]): boolean {
  for (let i = 0; i < rings.length; i++) {
    const r = rings[i];
    if (r !== own && !r.isEmpty()) return true;
  }
  return false;
}

/** Polls before a worker sleeps (the rings' own spin, ring.ts DEFAULT_SPINS). */
const SPIN_POLLS = 2000;

/**
 * Spins before the worker sleeps, over the rings of every worker on this thread: true as
 * soon as `own` has records (the worker goes on); false when a sibling has some, at once
 * (the worker returns to the loop, where the sibling runs), or after SPIN_POLLS polls in
 * all. One worker's spin thus covers its siblings instead of each spinning in turn.
 */
export function spinForFrames(own: RingConsumer, rings: readonly RingConsumer[], polls = SPIN_POLLS): boolean {
  if (rings.length <= 1) return own.spin(polls);
  if (siblingHasFrames(own, rings)) return false;
  for (let i = 0; i < polls; i += rings.length) {
    if (!own.isEmpty()) return true;
    if (siblingHasFrames(own, rings)) return false;
  }
  return false;
}

/** The running shard: owns the Host and the loop. */
export class ShardWorker {
  readonly host: Host;
  /** Address text for /connections and traces (IPv6 in RFC 5952 form). */
  private readonly addresses: SocketAddresses;
  readonly counters: Counters;
  readonly latency = new StageLatencyRecorder();
  private readonly rx: RingConsumer;
  /** Frames for the I/O thread to write, and re-injected datagrams. */
  private readonly tx: RingProducer;
  /** Frames this worker transmits itself. */
  private readonly writer: DirectWriter;
  private readonly txPath: TxPath;
  private readonly control: Int32Array;
  /** The device when it holds frames back to send later (fault injection's delay), else null. */
  private readonly holding: HoldingLinkDevice | null;
  /** This worker's end of the offload pool (api.offload); closed when the loop ends. */
  private readonly offload: OffloadClient;
  /** This thread's heap gauges, kept by the thread's first worker only (null for the others). */
  private readonly heap: HeapGauges | null;
  /** TAP read time of the frame being processed (0: none). */
  private curT0 = 0;

  /**
   * @param device the link this worker transmits to directly (the TAP the I/O thread opened)
   * @param wakeIo wakes the I/O thread when it sleeps and TX records were published
   * @param waker where the worker sleeps: its event loop, woken by the I/O thread or a deadline
   */
  constructor(
    private readonly data: ShardWorkerData,
    device: LinkDevice,
    private readonly wakeIo: () => void,
    private readonly waker: LoopWaker,
  ) {
    this.counters = counterBlock(data.counters, 1 + data.index);
    this.rx = new RingConsumer(data.rxRing);
    threadRings.push(this.rx);
    this.tx = new RingProducer(data.txRing);
    threadTxRings.push(this.tx);
    this.control = new Int32Array(data.control);
    this.offload = new OffloadClient(data.offload);
    this.heap = data.reportsHeap ? new HeapGauges(this.counters) : null;
    this.busyPollMs = data.busyPollUs / 1000;
    this.holding = holdsFrames(device) ? device : null;
    this.writer = new DirectWriter(device, this.counters, this.latency);
    // Write directly when idle (nothing else waiting in the RX ring), else hand frames
    // to the I/O thread (tx-path.ts, decision 0011).
    const rx = this.rx;
    // Busy (more frames waiting, or answering a batch of several at its end): the ring, for
    // the I/O thread to write in parallel; idle: write directly (decision 0011). TxPath
    // writes bulk frames directly either way, without asking (decision 0047).
    this.txPath = new TxPath(this.tx, this.writer, () => this.batchFrames <= 1 && rx.isEmpty(), this.counters);
    const config: HostConfig = {
      mac: data.link.mac,
      ip: data.link.ip,
      prefixLength: data.link.prefixLength,
      gateway: data.link.gateway,
      routes: data.link.routes,
      mtu: data.link.mtu,
      shardIndex: data.index,
      shardCount: data.count,
      answersArp: data.index === 0,
      ttl: DEFAULT_TTL,
      device: device.capabilities,
      // IPv6 in every shard: TCP/UDP flows by 4-tuple, neighbour discovery to all, the
      // rest to shard 0, which alone speaks for the interface (decision 0030).
      ipv6: data.link.ipv6,
    };
    this.host = new Host(config, this.txPath, this.counters, (b, off, len, etherType) => this.reinject(b, off, len, etherType), {
      tcp: {
        congestionControl: data.congestionControl, ecn: data.ecn, recovery: data.recovery, maxConnections: data.maxConnections, maxTimeWait: data.maxTimeWait,
        traceSlots: data.traceSlots,
      },
      ipv6Addresses: data.maxIpv6Peers,
    });
    this.host.tcp.clock = monoMs;
    this.addresses = new SocketAddresses(this.host.interner);
    // Application calls (socket writes, reads that open the window, closes) mark
    // connections dirty; flush them once per microtask turn and wake the loop so that a
    // new, earlier timer deadline is honoured.
    let pending = false;
    const flushSoon = (): void => {
      pending = false;
      const now = monoMs();
      this.host.tcp.flushDirty(now);
      this.flush();
      this.rearmIfSooner(now);
    };
    this.host.tcp.onDirty = () => {
      if (!pending) {
        pending = true;
        queueMicrotask(flushSoon);
      }
    };
  }

  /**
   * When the worker's current sleep ends at the latest (ms): set when it goes to sleep (at
   * most MAX_SLEEP_MS ahead), -Infinity while it runs, so that a flush re-arms the waker
   * only when the new earliest deadline comes sooner.
   */
  private parkedUntil = -Infinity;

  /** The worker's logger (set by startApps). */
  private log: Logger | null = null;
  /** The connection-limit refusals already logged, and when the count is looked at next (ms). */
  private refusalsLogged = 0;
  private limitsCheckAt = 0;

  /** Starts the built-in services and applications in this worker; they log to `log`. */
  async startApps(log: Logger): Promise<void> {
    this.log = log;
    const api = createStackApi({
      offload: this.offload,
      host: this.host,
      tcp: this.host.tcp,
      notifyOutput: () => this.host.tcp.onDirty(),
      log,
      workerIndex: this.data.index,
      workerCount: this.data.count,
    });
    for (const name of this.data.services) {
      const app = builtinService(name);
      if (app) await app(api);
    }
    for (const path of this.data.apps) await (await loadAppModule(path))(api);
  }

  /** The RPC surface for the main thread. */
  rpc(): ThreadRpc {
    return {
      latency: () => ({ thread: `worker-${this.data.index}`, stages: this.latency.report() }),
      resetLatency: () => this.latency.reset(),
      arpEntries: () =>
        this.host.arp.cache.entriesSnapshot().map(([ip, mac, exp]) => [formatIpv4(ip), formatMac(mac), Math.round(exp - monoMs())]),
      ipv6: () => {
        const nd = this.host.nd;
        if (nd === null) return null;
        const now = monoMs();
        return {
          addresses: nd.addresses.entries.map((e) => ({ address: formatIpv6(e.address), prefixLength: e.prefixLength, state: e.state })),
          routers: nd.routers.map((r) => ({ address: formatIpv6(r.address), expiresInMs: Math.round(r.expires - now) })),
          neighbours: nd.cache.snapshot(now).map((n) => ({
            address: formatIpv6(n.address), mac: n.mac < 0 ? null : formatMac(n.mac), state: n.state, isRouter: n.isRouter,
            timerInMs: Number.isFinite(n.deadline) ? Math.round(n.deadline - now) : null,
          })),
          hopLimit: nd.hopLimit,
          mtu: nd.mtu,
        };
      },
      addIpv6Address: (text: string) => {
        const nd = this.host.nd;
        if (nd === null) return { status: 409, error: 'IPv6 is off: the MTU is below 1280 (RFC 8200 5)' };
        const a = parseIpv6Assignment(text);
        if (typeof a === 'string') return { status: 400, error: a };
        if (nd.addresses.find(a.address) !== undefined) return { status: 409, error: `${formatIpv6(a.address)} is already an address of ours` };
        nd.addAddress(a.address, a.prefixLength, monoMs());
        this.flush(); // the MLD report and the DAD solicitation
        this.rearmIfSooner(monoMs()); // DAD's deadline may come before the worker's sleep ends
        return null;
      },
      connections: () => {
        const now = monoMs();
        const w = this.data.index;
        const names = this.addresses;
        return [
          ...[...this.host.tcp.connections()].map((c) => connectionInfo(c, w, names)),
          ...[...this.host.tcp.timeWaitRecords()].map((r) => timeWaitInfo(r, w, now, names)),
        ];
      },
      trace: (serial) => this.traceInfo(serial),
      archivedTraces: () => this.archivedTraces(),
    };
  }

  /** GET /connections/<worker>.<serial>/trace for this worker's connection `serial`. */
  private traceInfo(serial: number): ConnectionTraceInfo | null {
    const t = this.host.tcp.traceOf(serial);
    if (t === null) return null;
    const w = this.data.index;
    const base = { id: `${w}.${serial}`, worker: w, events: t.events };
    if ('conn' in t) {
      const c = t.conn;
      return {
        ...base, local: this.addresses.endpoint(c.localIp, c.localPort), remote: this.addresses.endpoint(c.remoteIp, c.remotePort), state: c.stateName,
        live: true, traced: t.traced, archived: null, iss: c.snd.iss, irs: c.rcv.irs, sndWscale: c.snd.wscale, rcvWscale: c.rcv.wscale,
      };
    }
    const a = t.archived;
    const { reasons, closedMsAgo } = this.archivedSummary(a);
    return {
      ...base, ...this.archivedEndpoints(a), state: a.state,
      live: false, traced: true, archived: { reasons, closedMsAgo },
      iss: a.iss, irs: a.irs, sndWscale: a.sndWscale, rcvWscale: a.rcvWscale,
    };
  }

  /** GET /traces for this worker: its archived traces, newest first. */
  private archivedTraces(): ArchivedTraceInfo[] {
    const w = this.data.index;
    return this.host.tcp.tracer.archivedConnections().map((a) => ({
      id: `${w}.${a.serial}`, worker: w, ...this.archivedEndpoints(a),
      state: a.state, ...this.archivedSummary(a), events: a.events,
    }));
  }

  /** The endpoints of an archived connection as text (its IPv6 addresses were kept as text). */
  private archivedEndpoints(a: ArchivedConnection): { local: string; remote: string } {
    const local = a.local6 === null ? this.addresses.endpoint(this.host.config.ip, a.localPort) : `[${a.local6}]:${a.localPort}`;
    const remote = a.remote6 === null ? this.addresses.endpoint(a.remoteIp, a.remotePort) : `[${a.remote6}]:${a.remotePort}`;
    return { local, remote };
  }

  /** Why an archived trace was kept (rto, reset) and how long ago its connection closed (ms). */
  private archivedSummary(a: ArchivedConnection): { reasons: string[]; closedMsAgo: number } {
    const reasons = [a.marks & TRACE_MARK_RTO ? 'rto' : '', a.marks & TRACE_MARK_RST ? 'reset' : ''].filter((r) => r !== '');
    return { reasons, closedMsAgo: Math.max(0, Math.round(monoMs() - a.closedAt)) };
  }

  /** Resolves with the loop's end once the stop word is set. */
  private stopped: (() => void) | null = null;

  /** Runs until the stop word is set. */
  run(): Promise<void> {
    return new Promise((resolve) => {
      this.stopped = resolve;
      this.busySince = monoMs();
      this.host.startIpv6(monoMs()); // shard 0 runs DAD; the others take the addresses as usable
      if (this.host.config.answersArp) {
        this.host.arp.announce();
        this.flush();
      }
      const rx = this.rx;
      this.waker.open(this.turn, {
        // Since when it has had work: its oldest frame's queueing; segments waiting for TX room at once.
        workSince: () => (this.host.tcp.txBlocked > 0 ? -Infinity : rx.peekT1()),
        raise: () => rx.setSleeping(),
        lower: () => rx.clearSleeping(),
      });
      this.turn();
    });
  }

  /**
   * One turn of the worker: called by the waker (frames arrived, or a deadline passed) or
   * by setImmediate after a busy slice. Works until there is nothing left, then spins
   * briefly, raises the RX ring's sleeping flag and returns to the event loop with the
   * next deadline armed.
   */
  private readonly turn = (): void => {
    if (this.stopped === null) return;
    const start = monoMs();
    if (this.parkedUntil !== -Infinity) this.busySince = start; // the sleep was not work
    this.parkedUntil = -Infinity;
    this.rx.clearSleeping();
    const sliceEnd = start + SLICE_MS;
    for (;;) {
      if (Atomics.load(this.control, CTL_STOP) !== 0) {
        this.finish();
        return;
      }
      const n = this.step();
      const t = monoMs();
      this.counters[C.busy_us] += (t - this.busySince) * 1000;
      this.busySince = t;
      if (t >= this.loopBusyDueAt) {
        // Read by the I/O thread over windows of 20 ms or more (io-thread-placement.ts):
        // once a few ms is enough, and spares a result object per batch.
        this.loopBusyDueAt = t + LOOP_BUSY_PERIOD_MS;
        this.counters[C.loop_busy_us] = performance.eventLoopUtilization().active * 1000;
      }
      if (n >= BATCH || t >= sliceEnd) {
        // Busy: let timers, RPC and applications run between batches (counted as busy).
        this.yieldTurn();
        return;
      }
      if (n > 0) this.lastFrameAt = t;
      if (spinForFrames(this.rx, threadRings)) continue;
      if (t - this.lastFrameAt < this.busyPollMs) {
        // Busy polling (--busy-poll): stay awake through event-loop turns instead of sleeping.
        this.counters[C.worker_busy_polls]++;
        this.yieldTurn();
        return;
      }
      if (this.host.tcp.txBlocked > 0) {
        // Connections hold segments the full TX ring refused: the I/O thread wakes this
        // worker when it frees room (RingConsumer.roomWanted), or there is room already.
        this.tx.wantRoom();
        if (this.txPath.canResume()) continue;
      }
      // The shared waker of a thread's workers raises the flag when the thread sleeps.
      if (!this.waker.raisesFlag && !this.rx.setSleeping()) continue;
      const wait = Math.max(0, Math.min(MAX_SLEEP_MS, this.nextWake() - t));
      this.parkedUntil = t + wait;
      this.counters[C.worker_wakeups]++;
      this.waker.arm(wait);
      return;
    }
  };

  /** Runs the next turn after the event loop's other work (a busy worker yields). */
  private yieldTurn(): void {
    this.waker.yielding?.();
    setImmediate(this.turn);
  }

  /**
   * busy_us: the time the worker is not asleep in its event loop — its own work and the
   * loop turns it yields to between batches (applications, RPC). Work that applications
   * do while the worker sleeps counts as idle.
   */
  private busySince = monoMs();
  /** When loop_busy_us is next published (ms). */
  private loopBusyDueAt = -Infinity;

  /** When the worker last handled a frame (ms): busy polling lasts busyPollMs from it. */
  private lastFrameAt = -Infinity;
  /** How long after a frame the worker polls its RX ring instead of sleeping (ms; --busy-poll). */
  private readonly busyPollMs: number;

  /** Frames of the receive batch being handled (drain, and the output at its end); 0 between batches. */
  private batchFrames = 0;

  /** Handles what the RX ring holds (up to BATCH frames), the due timers and the output. Returns frames handled. */
  private step(): number {
    const n = this.drain(); // leaves batchFrames at n for the output at the batch's end
    const now = monoMs();
    this.host.tcp.flushDirty(now);
    this.batchFrames = 0;
    if (this.host.nextDeadline() <= now) this.host.poll(now);
    const tcp = this.host.tcp;
    if (tcp.txBlocked > 0 && this.txPath.canResume()) tcp.retryBlocked(now);
    this.flush();
    const held = this.holding;
    if (held !== null && held.nextDue() <= now) held.releaseDue(now);
    if (now >= this.limitsCheckAt) this.warnAboutLimits(now);
    this.heap?.update(now);
    return n;
  }

  /** Ends the loop: the waker and the offload port close, so the thread's event loop can end. */
  private finish(): void {
    const done = this.stopped;
    this.stopped = null;
    this.rx.clearSleeping();
    const i = threadRings.indexOf(this.rx);
    if (i >= 0) threadRings.splice(i, 1);
    const j = threadTxRings.indexOf(this.tx);
    if (j >= 0) threadTxRings.splice(j, 1);
    this.waker.close();
    this.offload.close();
    done?.();
  }

  /** Logs (at most every 10 s) the new clients the connection limit refused since the last time. */
  private warnAboutLimits(now: number): void {
    this.limitsCheckAt = now + 10_000;
    const refused = this.counters[C.drop_tcp_conn_limit];
    if (refused <= this.refusalsLogged) return;
    this.log?.warn(
      { worker: this.data.index, refused: refused - this.refusalsLogged, maxConnections: this.data.maxConnections },
      'connection limit reached: new clients refused with RST (--max-connections)',
    );
    this.refusalsLogged = refused;
  }

  /** Re-arms the waker when the worker sleeps past its earliest deadline (a flush or an RPC made a sooner one). */
  private rearmIfSooner(now: number): void {
    const due = this.nextWake();
    if (this.parkedUntil > due) {
      this.parkedUntil = due;
      this.waker.arm(Math.max(0, due - now));
    }
  }

  /** When the loop must run next: the core's next timer, or the next frame the device holds back (ms). */
  private nextWake(): number {
    const d = this.host.nextDeadline();
    const h = this.holding !== null ? this.holding.nextDue() : Infinity;
    return d < h ? d : h;
  }

  /** Handles up to BATCH frames from the RX ring. */
  private drain(): number {
    const rx = this.rx;
    const buf = rx.buf;
    let n = 0;
    let off: number;
    while (n < BATCH && (off = rx.next()) >= 0) {
      n++;
      this.batchFrames = n;
      const now = monoMs();
      this.curT0 = rx.t0;
      this.txPath.cause = rx.t0;
      this.latency.record(S_RX_QUEUE, now - rx.t1);
      if (recordKind(rx.kind) === KIND_FRAME) {
        // More frames behind this one: connections may answer at the batch's end (step()'s flushDirty).
        this.host.tcp.deferOutput = !rx.isEmpty();
        this.host.receive(buf, off, rx.length, now, recordRxFlags(rx.kind));
        this.latency.record(S_PROCESS, monoMs() - now);
        // Write what this frame caused now rather than at the end of the batch: a TAP
        // takes one write() per frame anyway, so batching only adds latency.
        if (this.writer.pending > 0) this.writer.flush();
      }
    }
    if (n > 0) rx.release();
    this.host.tcp.deferOutput = false;
    this.curT0 = 0;
    this.txPath.cause = 0;
    return n;
  }

  /** Writes staged frames to the TAP; publishes ring records and wakes the I/O thread if it sleeps. */
  private flush(): void {
    this.writer.flush();
    if (this.tx.pending() === 0) return;
    if (this.tx.publish()) {
      claimSiblingWakes(this.tx, threadTxRings);
      this.wakeIo();
    }
  }

  /** Sends a reassembled datagram (IPv4, or IPv6 by `etherType`) owned by another shard back through the I/O thread. */
  private reinject(b: Uint8Array, off: number, len: number, etherType = ETHERTYPE_IPV4): void {
    const o = this.tx.reserve(ETH_HEADER_LEN + len);
    if (o < 0) {
      this.tx.noteDrop();
      this.counters[C.drop_tx_ring_full]++;
      return;
    }
    const out = this.tx.buf;
    writeEthernetHeader(out, o, this.host.config.mac, 0, etherType);
    copyBytes(b, off, out, o + ETH_HEADER_LEN, len);
    this.tx.commit(ETH_HEADER_LEN + len, KIND_REINJECT, this.curT0, monoMs());
  }
}

/** A TIME_WAIT record as GET /connections shows it. */
function timeWaitInfo(
  r: { localIp: number; localPort: number; remoteIp: number; remotePort: number; endsAt: number }, worker: number, now: number, names: SocketAddresses,
): ConnectionInfo {
  return {
    id: null,
    worker,
    local: names.endpoint(r.localIp, r.localPort),
    remote: names.endpoint(r.remoteIp, r.remotePort),
    state: 'TIME_WAIT',
    bytesIn: 0, bytesOut: 0, srttMs: 0, rtoMs: 0, cwnd: 0, ssthresh: null, sndWnd: 0, rcvWnd: 0, sendQueued: 0, recvUnread: 0, mss: 0,
    options: { timestamps: false, sack: false, sndWscale: 0, rcvWscale: 0 },
    retransmitting: false, rttvarMs: 0, rtoBackoffs: 0, inRecovery: false, dupAcks: 0,
    timeWaitMs: Math.max(0, Math.round(r.endsAt - now)),
  };
}

/** Milliseconds to the µs, as /connections shows times. */
function roundMs(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A connection as GET /connections shows it. */
function connectionInfo(c: TcpConnection, worker: number, names: SocketAddresses): ConnectionInfo {
  const snd = c.snd;
  return {
    id: `${worker}.${c.serial}`,
    worker,
    local: names.endpoint(c.localIp, c.localPort),
    remote: names.endpoint(c.remoteIp, c.remotePort),
    state: c.stateName,
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
    srttMs: roundMs(snd.rtt.srtt),
    rtoMs: Math.round(snd.rtt.rto),
    cwnd: Math.round(snd.cc.cwnd),
    ssthresh: Number.isFinite(snd.cc.ssthresh) ? Math.round(snd.cc.ssthresh) : null,
    sndWnd: snd.sndWnd,
    rcvWnd: c.rcv.window(),
    sendQueued: snd.buf.length,
    recvUnread: c.rcv.unconsumed,
    mss: snd.mss,
    options: { timestamps: c.tsEnabled, sack: c.sackEnabled, sndWscale: snd.wscale, rcvWscale: c.rcv.wscale },
    retransmitting: snd.inRecovery || snd.retries > 0,
    rttvarMs: roundMs(snd.rtt.rttvar),
    rtoBackoffs: snd.retries,
    inRecovery: snd.inRecovery,
    dupAcks: snd.dupAcks,
    cc: congestionInfo(snd.cc),
    rack: rackInfo(snd.lossRecovery),
  };
}

/** RACK's minimum RTT, reordering window and whether reordering was seen; undefined without RACK. */
function rackInfo(r: LossRecovery): RackInfo | undefined {
  if (!(r instanceof RackRecovery)) return undefined;
  return {
    minRttMs: Number.isFinite(r.minRtt) ? roundMs(r.minRtt) : null,
    reoWndMs: roundMs(r.reoWnd()),
    reoWndMult: r.reoWndMult,
    reorderingSeen: r.reorderingSeen,
  };
}

/** The congestion control's name and, for BBR, its model. */
function congestionInfo(cc: CongestionControl): CongestionInfo {
  if (!(cc instanceof Bbr)) return { name: cc.name };
  return {
    name: cc.name,
    bbr: {
      state: cc.stateName,
      btlBwBitsPerSecond: Math.round(cc.btlBw * 8000),
      rtPropMs: Number.isFinite(cc.rtProp) ? roundMs(cc.rtProp) : null,
      extraAckedBytes: Math.round(cc.aggregationCwnd()),
    },
  };
}
