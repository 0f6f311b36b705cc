/**
 * A protocol core driven over a link device in one thread, smoltcp's `iface.poll(device)`:
 * receive the frames that are ready and hand each to the Host with its receive flags, run
 * what is due (application changes, timers), transmit what all that produced. The shard
 * workers do the same over their rings (dataplane/shard-worker.ts); this driver serves
 * single-threaded uses: two stacks in one process over an in-memory link (the tests'
 * TCP pair), a stack and a test peer.
 *
 * The Host is built here with the device's capabilities, so the core asks the device only
 * for the offload it offers.
 */
import type { Counters } from '../base/counters.js';
import { FrameBatch } from '../base/frame-batch.js';
import type { HostConfig } from '../base/host-config.js';
import type { LinkDevice } from '../base/link.js';
import { TxStaging } from '../base/tx-staging.js';
import type { ForeignDatagramSink } from '../l3/ipv4-input.js';
import { Host, type HostLimits } from './host.js';

/** Frames received per device call. */
const RX_BATCH = 64;

/** A Host and the device it runs on. */
export class LinkDriver {
  readonly host: Host;
  /** Frames the core built, transmitted by flush(). */
  readonly tx: TxStaging;
  private readonly rx: FrameBatch;

  /**
   * @param device the link
   * @param config the Host's configuration (its `device` field is set from the device)
   */
  constructor(
    readonly device: LinkDevice,
    config: Omit<HostConfig, 'device'>,
    counters: Counters,
    foreign?: ForeignDatagramSink,
    limits?: HostLimits,
  ) {
    const caps = device.capabilities;
    this.tx = new TxStaging(device);
    this.host = new Host({ ...config, device: caps }, this.tx, counters, foreign, limits);
    const slot = (caps.maxRxFrame + 15) & ~15;
    this.rx = new FrameBatch(new Uint8Array(Math.max(slot * 4, 2048 * RX_BATCH)), RX_BATCH);
  }

  /**
   * Receives up to `budget` ready frames from the device and hands them to the stack at
   * time `now`; returns how many. Stops early when the device has none ready.
   */
  receive(now: number, budget = Infinity): number {
    const rx = this.rx;
    let total = 0;
    while (total < budget) {
      rx.clear();
      const n = this.device.receive(rx, Math.min(budget - total, RX_BATCH), 0);
      if (n <= 0) break;
      for (let i = 0; i < n; i++) this.host.receive(rx.buf, rx.offsets[i], rx.lens[i], now, rx.rxFlags[i]);
      total += n;
    }
    return total;
  }

  /** Runs what is due at `now`: what applications changed (data written, windows opened) and timers. */
  poll(now: number): void {
    this.host.tcp.flushDirty(now);
    if (this.host.nextDeadline() <= now) this.host.poll(now);
  }

  /** Transmits what the stack produced; returns how many frames the device took. */
  flush(): number {
    return this.tx.flush();
  }

  /** All of it at `now`: receive every ready frame, run what is due, transmit. Returns frames received. */
  step(now: number): number {
    const n = this.receive(now);
    this.poll(now);
    this.flush();
    return n;
  }

  /** The earliest time the stack has work to do (ms), or Infinity. */
  nextDeadline(): number {
    return this.host.nextDeadline();
  }
}
