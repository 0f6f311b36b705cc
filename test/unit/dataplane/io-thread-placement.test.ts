/**
 * The I/O thread leaves the CPUs of worker threads busy sending bulk data and returns when
 * they rest or stop sending (dataplane/io-thread-placement.ts, decision 0054): busy shares
 * measured per window from loop_busy_us with hysteresis, bytes sent against bytes
 * received, shards that share a thread, a set never emptied, a refusal that stops it.
 */
import { describe, expect, it } from 'vitest';
import { C, newCounters } from '../../../src/base/counters.js';
import {
  BULK_TX_BYTES_PER_MS, BULK_TX_RATIO, BUSY_ENTER, BUSY_LEAVE, IoThreadPlacement, PLACEMENT_WINDOW_MS, type IoPlacementDeps,
} from '../../../src/dataplane/io-thread-placement.js';

/** A download's traffic for a window of `ms`: 25 Gbit/s out, its ACKs in. */
const DOWNLOAD = { tx: 3_125_000, rx: 2_000 };

/**
 * A placement over fake counters; `window(shares, traffic)` advances one window with each
 * shard that busy, and sending and receiving that many bytes per ms (a download's by default).
 */
function setup(allowed: number[], shardCpus: Array<number | null>, apply?: (cpus: number[]) => void) {
  const busy = shardCpus.map(() => 0);
  const tx = shardCpus.map(() => 0);
  const rx = shardCpus.map(() => 0);
  const applied: number[][] = [];
  const counters = newCounters();
  const deps: IoPlacementDeps = {
    allowed,
    shardCpus,
    busyUs: (s) => busy[s],
    txBytes: (s) => tx[s],
    rxBytes: (s) => rx[s],
    apply: apply ?? ((cpus) => applied.push(cpus)),
    counters,
  };
  const p = new IoThreadPlacement(deps);
  let now = 1000;
  p.update(now); // the first reading
  const window = (shares: number[], traffic = DOWNLOAD, ms = PLACEMENT_WINDOW_MS): void => {
    shares.forEach((s, i) => {
      busy[i] += s * ms * 1000;
      tx[i] += traffic.tx * ms;
      rx[i] += traffic.rx * ms;
    });
    now += ms;
    p.update(now);
  };
  return { p, applied, counters, window, busy, tx };
}

describe('I/O thread placement', () => {
  it('leaves the CPU of a worker thread busy with a download, and returns once it rests', () => {
    const { p, applied, counters, window } = setup([0, 1], [0]);
    expect(p.active).toBe(true);
    window([0.1]);
    expect(applied).toEqual([]);
    window([0.9]);
    expect(applied).toEqual([[1]]);
    expect(p.cpus).toEqual([1]);
    window([1]);
    expect(applied).toHaveLength(1); // no call while nothing changes
    window([0.05]);
    expect(applied).toEqual([[1], [0, 1]]);
    expect(counters[C.io_cpu_moves]).toBe(2);
  });

  it('holds its choice between the two thresholds (hysteresis)', () => {
    const { p, applied, window } = setup([0, 1], [0]);
    const between = (BUSY_ENTER + BUSY_LEAVE) / 2;
    window([between]);
    expect(p.cpus).toEqual([0, 1]); // not busy yet
    window([BUSY_ENTER]);
    expect(p.cpus).toEqual([1]);
    window([between]);
    window([between]);
    expect(p.cpus).toEqual([1]); // still counted busy
    window([BUSY_LEAVE - 0.01]);
    expect(p.cpus).toEqual([0, 1]);
    expect(applied).toEqual([[1], [0, 1]]);
  });

  it('decides at most once per window, over the whole time since the last decision', () => {
    const { p, applied, busy, tx } = setup([0, 1], [0]);
    // Busy for 5 ms, checked after 5 ms: too early to decide.
    busy[0] += 5_000;
    tx[0] += 100_000_000;
    p.update(1005);
    expect(applied).toEqual([]);
    // 5 busy ms over 30 ms is a share of 1/6: not busy.
    p.update(1030);
    expect(applied).toEqual([]);
    busy[0] += 29_000;
    tx[0] += 100_000_000;
    p.update(1060);
    expect(applied).toEqual([[1]]);
  });

  it('stays free for a busy worker thread that does not send bulk data (request/response, uploads), and returns when a download ends', () => {
    const { p, applied, window } = setup([0, 1], [0]);
    window([1], { tx: 80_000, rx: 40_000 }); // keep-alive HTTP: as much in as out
    window([1], { tx: 20_000, rx: 3_000_000 }); // an upload: its ACKs out
    window([1], { tx: BULK_TX_BYTES_PER_MS / 2, rx: 0 }); // busy, sending a trickle
    expect(applied).toEqual([]);
    window([1], { tx: BULK_TX_BYTES_PER_MS, rx: BULK_TX_BYTES_PER_MS / BULK_TX_RATIO });
    expect(p.cpus).toEqual([1]);
    window([1], { tx: 80_000, rx: 40_000 }); // still busy, but no longer sending in bulk
    expect(p.cpus).toEqual([0, 1]);
    expect(applied).toEqual([[1], [0, 1]]);
  });

  it('takes the busiest shard of a thread that runs several, and leaves the CPUs of every busy thread', () => {
    // Threads on CPUs 0 and 1 (shards 0, 2 and 1, 3); the I/O thread may use 0-3.
    const { p, window } = setup([0, 1, 2, 3], [0, 1, 0, 1]);
    window([0, 0, 0.8, 0]);
    expect(p.cpus).toEqual([1, 2, 3]);
    window([0, 0.6, 0.8, 0.1]);
    expect(p.cpus).toEqual([2, 3]);
    window([0, 0, 0, 0]);
    expect(p.cpus).toEqual([0, 1, 2, 3]);
  });

  it('never narrows the set to nothing, and does nothing without bound worker threads or a CPU to spare', () => {
    expect(setup([0, 1], [null, null]).p.active).toBe(false); // --cpu-affinity off or all: nothing to leave
    expect(setup([0], [0]).p.active).toBe(false); // a single CPU
    expect(setup([0, 1], [0, 1]).p.active).toBe(false); // every CPU has a worker thread
    expect(setup([0, 1], [5]).p.active).toBe(false); // a CPU outside the mask (never planned so)
    const { p, applied, window } = setup([0, 1, 2], [0, 1]);
    window([1, 1]);
    expect(p.cpus).toEqual([2]);
    expect(applied).toEqual([[2]]);
  });

  it('stays where it is and stops trying when the kernel refuses', () => {
    let calls = 0;
    const { p, counters, window } = setup([0, 1], [0], () => {
      calls++;
      throw Object.assign(new Error('sched_setaffinity: Invalid argument'), { code: 'EINVAL' });
    });
    window([1]);
    expect(calls).toBe(1);
    expect(p.cpus).toEqual([0, 1]);
    expect(p.active).toBe(false);
    window([0]);
    window([1]);
    expect(calls).toBe(1);
    expect(counters[C.io_cpu_moves]).toBe(0);
  });
});
