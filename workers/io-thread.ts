/**
 * Entry point of the I/O thread: opens the TAP, exposes its RPC surface over comlink,
 * says hello with the TAP fd (or why the TAP could not be opened) and runs the I/O loop
 * until stopped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { IoLoop } from '../src/dataplane/io-loop.js';
import { TapDevice, loadTapAddon } from '../src/phy/tap.js';
import { TapLink } from '../src/phy/tap-link.js';
import { threadLink } from '../src/dataplane/thread-link.js';
import { bindThisThread, runAsDataPlaneThread } from '../src/dataplane/thread-scheduling.js';
import type { IoThreadData, ThreadHello } from '../src/dataplane/thread-data.js';

if (parentPort === null) throw new Error(`this module is the I/O thread's entry: it runs in a worker thread`);
const data = workerData as IoThreadData;
const addon = loadTapAddon();
const schedError = data.schedOther ? runAsDataPlaneThread(addon) : null;
const bound = bindThisThread(addon, data.cpu);
let tap: TapDevice;
try {
  try {
    tap = TapDevice.open(data.link.tap, { vnetHdr: data.link.vnetHdr, offload: data.link.offload, mtu: data.link.mtu });
  } catch (e) {
    // A kernel that refuses TUNSETOFFLOAD still takes our virtio-net headers (TSO writes
    // work without it); it just will not hand us GRO'd frames. Retry without it.
    if (data.link.offload === 0 || (e as { syscall?: string }).syscall !== 'TUNSETOFFLOAD') throw e;
    tap = TapDevice.open(data.link.tap, { vnetHdr: data.link.vnetHdr, offload: 0, mtu: data.link.mtu });
    data.link.offload = 0;
  }
} catch (e) {
  const err = e as Error & { code?: string };
  parentPort.postMessage({ type: 'error', code: err.code ?? 'EUNKNOWN', message: err.message } satisfies ThreadHello);
  data.rpc.close();
  process.exit(1);
}
const device = threadLink(new TapLink(tap, { mtu: data.link.mtu, offload: data.link.offload, wakeFd: data.wakeFd }), data, 0);
const loop = new IoLoop(data, device, (shard) => addon.eventfdSignal(data.shardWakeFds[shard]), {
  allowed: bound.cpus,
  apply: (cpus) => addon.setThreadAffinity(0, cpus),
});
Comlink.expose(loop.rpc(), nodeEndpoint(data.rpc));
parentPort.postMessage({
  type: 'ready', offload: data.link.offload, tapFd: tap.fd, tid: addon.threadId(), cpus: bound.cpus,
  ...(schedError === null ? {} : { schedError }), ...(bound.error === null ? {} : { affinityError: bound.error }),
} satisfies ThreadHello);
await loop.run();
// The TAP stays open: shard workers write to it until they have stopped too; the main
// thread closes it after every thread has exited (Supervisor.stop).
data.rpc.close();
