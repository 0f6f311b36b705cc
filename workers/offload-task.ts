/**
 * Entry file of the threads of the process-wide offload pool (src/control/app-pool.ts,
 * piscina): runs one api.offload task. It imports the task module (once per thread:
 * import() caches it), calls the named export with the data and returns its result; an
 * error the task throws comes back as plain fields (name, message, code, stack), since a
 * structured clone of an Error would lose its code.
 */
import { pathToFileURL } from 'node:url';
import { errorInfo, type TaskCall, type TaskOutcome } from '../src/socket/offload.js';

/** Runs `call` (piscina's default handler). */
export default async function runTask(call: TaskCall): Promise<TaskOutcome> {
  try {
    const mod = (await import(pathToFileURL(call.module).href)) as Record<string, unknown>;
    const fn = mod[call.name];
    if (typeof fn !== 'function') throw new TypeError(`offload: ${call.module} exports no function '${call.name}'`);
    const result: unknown = await (fn as (d: unknown) => unknown)(call.data);
    return { ok: true, result };
  } catch (e) {
    return { ok: false, error: errorInfo(e) };
  }
}
