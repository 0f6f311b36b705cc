/**
 * Entry point of a shard worker thread: builds the ShardWorker from workerData, exposes
 * its RPC surface over comlink, says hello to the main thread and runs until stopped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { ShardWorker } from '../src/dataplane/shard-worker.js';
import { loadTapAddon } from '../src/dataplane/tap.js';
import type { ShardWorkerData, ThreadHello } from '../src/dataplane/thread-data.js';

const data = workerData as ShardWorkerData;
const worker = new ShardWorker(data, loadTapAddon());
Comlink.expose(worker.rpc(), nodeEndpoint(data.rpc));
parentPort!.postMessage({ type: 'ready' } satisfies ThreadHello);
await worker.run();
data.rpc.close();
