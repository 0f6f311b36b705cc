/**
 * Entry point of a shard worker thread: builds the ShardWorker from workerData, exposes
 * its RPC surface over comlink, says hello to the main thread and runs until stopped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { ShardWorker } from '../src/dataplane/shard-worker.js';
import { createLogger } from '../src/control/logger.js';
import { loadTapAddon } from '../src/phy/tap.js';
import type { ShardWorkerData, ThreadHello } from '../src/dataplane/thread-data.js';

const data = workerData as ShardWorkerData;
const worker = new ShardWorker(data, loadTapAddon());
Comlink.expose(worker.rpc(), nodeEndpoint(data.rpc));
try {
  await worker.startApps(createLogger({ level: data.logLevel, name: `worker-${data.index}`, pretty: false }));
} catch (e) {
  const err = e as Error & { code?: string };
  parentPort!.postMessage({ type: 'error', code: err.code ?? 'EAPP', message: `worker ${data.index}: ${err.message}` } satisfies ThreadHello);
  data.rpc.close();
  process.exit(1);
}
parentPort!.postMessage({ type: 'ready' } satisfies ThreadHello);
await worker.run();
data.rpc.close();
