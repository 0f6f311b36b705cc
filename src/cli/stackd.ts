#!/usr/bin/env node
/**
 * `stackd`: the command line. Parses options, starts the stack (I/O thread + shard
 * workers), serves the control API, and shuts down cleanly on SIGINT/SIGTERM.
 *
 * Exit codes: 0 after a clean shutdown, 1 when the stack cannot start (the message says
 * why and what to do), 2 for a bad command line (one line naming the flag).
 */
import { HELP, UsageError, parseStackdArgs, type StackdOptions } from './args.js';
import { startControlServer, type ControlServer } from '../control/control-server.js';
import { createLogger, flushLogger } from '../control/logger.js';
import { Supervisor, stackdVersion } from '../control/supervisor.js';
import { TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6 } from '../phy/tap.js';
import { workerStackSettings } from '../dataplane/thread-data.js';

async function main(): Promise<number> {
  let opts: StackdOptions;
  try {
    opts = parseStackdArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`stackd: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (opts.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`stackd ${stackdVersion()}\n`);
    return 0;
  }
  const log = createLogger({ level: opts.logLevel, name: 'stackd' });
  const sup = new Supervisor(
    {
      link: {
        tap: opts.tap, ip: opts.ip, prefixLength: opts.prefixLength, gateway: opts.gateway, routes: opts.routes, ipv6: opts.ipv6,
        mac: opts.mac, mtu: opts.mtu, vnetHdr: opts.vnetHdr,
        offload: opts.vnetHdr ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0,
      },
      workers: opts.workers,
      threads: opts.threads,
      ...workerStackSettings(opts),
      maxConnections: opts.maxConnections,
      maxTimeWait: opts.maxTimeWait,
      fault: opts.fault,
      appPool: opts.appPool,
      batchHelpers: opts.batchHelpers,
      cpuAffinity: opts.cpuAffinity,
    },
    log,
  );
  let control: ControlServer | null = null;
  let stopping: Promise<void> | null = null;
  const shutdown = (signal: string): Promise<void> => {
    stopping ??= (async () => {
      log.info({ signal }, 'shutting down');
      const hard = setTimeout(() => process.exit(1), 3000);
      hard.unref();
      await control?.close().catch(() => {});
      await sup.stop();
      log.info('stopped');
      flushLogger(log);
    })();
    return stopping;
  };
  try {
    if (opts.pcap !== null) sup.startCapture(opts.pcap); // before the threads: their first frames too
    await sup.start();
    control = await startControlServer(opts.control, sup, log);
    log.info({ control: control.address }, 'control API listening');
  } catch (e) {
    const err = e as Error & { code?: string };
    process.stderr.write(`stackd: ${err.message}\n`);
    await sup.stop(200).catch(() => {});
    return 1;
  }
  await new Promise<void>((resolve) => {
    const on = (sig: NodeJS.Signals) => void shutdown(sig).then(resolve);
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`stackd: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
