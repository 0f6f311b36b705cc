/**
 * Entry point of a shard worker thread: builds the ShardWorker from workerData, exposes
 * its RPC surface over comlink, says hello to the main thread and runs until stopped.
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
import type { ShardWorkerData, ThreadHello } from '../src/dataplane/thread-data.js';

if (parentPort === null) throw new Error(`this module is a shard worker's entry: it runs in a worker thread`);
const data = workerData as ShardWorkerData;
const addon = loadTapAddon();
// The TAP the I/O thread opened: this worker writes its own frames to it while idle.
const tap = new TapLink(TapDevice.attach(data.tapFd, data.link.tap, data.link.vnetHdr), { mtu: data.link.mtu, offload: data.link.offload });
const device = threadLink(tap, data, 1 + data.index);
const worker = new ShardWorker(data, device, () => addon.eventfdSignal(data.wakeFd), new EventfdLoopWaker(addon, data.rxWakeFd));
Comlink.expose(worker.rpc(), nodeEndpoint(data.rpc));
try {
  await worker.startApps(createLogger({ level: data.logLevel, name: `worker-${data.index}`, pretty: false }));
} catch (e) {
  const err = e as Error & { code?: string };
  parentPort.postMessage({ type: 'error', code: err.code ?? 'EAPP', message: `worker ${data.index}: ${err.message}` } satisfies ThreadHello);
  data.rpc.close();
  process.exit(1);
}
parentPort.postMessage({ type: 'ready' } satisfies ThreadHello);
await worker.run();
data.rpc.close();
