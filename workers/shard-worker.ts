/**
 * Entry point of a thread that runs one or more shard workers (control/thread-plan.ts,
 * decision 0029): builds each ShardWorker from its workerData, exposes its RPC surface
 * over comlink, starts its services and applications, says hello to the main thread once
 * all are started, and runs them all on this thread's event loop until stopped. They sleep
 * on the thread's one eventfd (decision 0055).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { ShardWorker } from '../src/dataplane/shard-worker.js';
import { createLogger } from '../src/control/logger.js';
import { TapDevice, loadTapAddon } from '../src/phy/tap.js';
import { TapLink } from '../src/phy/tap-link.js';
import { threadLink } from '../src/dataplane/thread-link.js';
import { EventfdLoopWaker } from '../src/phy/loop-waker.js';
import { SharedLoopWaker } from '../src/dataplane/shared-loop-waker.js';
import { monoMs } from '../src/util/clock.js';
import { bindThisThread, runAsDataPlaneThread } from '../src/dataplane/thread-scheduling.js';
import type { ShardThreadData, ThreadHello } from '../src/dataplane/thread-data.js';

if (parentPort === null) throw new Error(`this module is a shard worker's entry: it runs in a worker thread`);
const { shards, schedOther, cpu } = workerData as ShardThreadData;
const addon = loadTapAddon();
const schedError = schedOther ? runAsDataPlaneThread(addon) : null;
const bound = bindThisThread(addon, cpu);
// The thread's one eventfd (every shard here has it as rxWakeFd) and deadline; shared by
// its shards when there are several (decision 0055).
const threadWaker = new EventfdLoopWaker(addon, shards[0].rxWakeFd);
const shared = shards.length > 1 ? new SharedLoopWaker(threadWaker, monoMs) : null;
const workers = shards.map((data) => {
  // The TAP the I/O thread opened: this worker writes its own frames to it while idle.
  const tap = new TapLink(TapDevice.attach(data.tapFd, data.link.tap, data.link.vnetHdr), { mtu: data.link.mtu, offload: data.link.offload });
  const device = threadLink(tap, data, 1 + data.index);
  const worker = new ShardWorker(data, device, () => addon.eventfdSignal(data.wakeFd), shared === null ? threadWaker : shared.member());
  Comlink.expose(worker.rpc(), nodeEndpoint(data.rpc));
  return worker;
});
for (let i = 0; i < shards.length; i++) {
  const data = shards[i];
  try {
    await workers[i].startApps(createLogger({ level: data.logLevel, name: `worker-${data.index}`, pretty: false }));
  } catch (e) {
    const err = e as Error & { code?: string };
    parentPort.postMessage({ type: 'error', code: err.code ?? 'EAPP', message: `worker ${data.index}: ${err.message}` } satisfies ThreadHello);
    for (const d of shards) d.rpc.close();
    process.exit(1);
  }
}
parentPort.postMessage({
  type: 'ready', tid: addon.threadId(), cpus: bound.cpus,
  ...(schedError === null ? {} : { schedError }), ...(bound.error === null ? {} : { affinityError: bound.error }),
} satisfies ThreadHello);
await Promise.all(workers.map((w) => w.run()));
for (const d of shards) d.rpc.close();
