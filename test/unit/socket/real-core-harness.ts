/**
 * The socket API over the real TCP core in unit tests: a StackApi per Host of a TcpPair
 * (test/helpers/tcp-pair.ts), and a driver that moves the pair's link and virtual clock
 * while the event loop runs the applications.
 */
import pino from 'pino';
import type { Host } from '../../../src/iface/host.js';
import { createStackApi } from '../../../src/socket/stack-api.js';
import type { TcpPair } from '../../helpers/tcp-pair.js';

/** The socket API of one host of the pair (worker 0 of 1). */
export function apiOf(h: Host) {
  return createStackApi({
    host: h, tcp: h.tcp, notifyOutput: () => h.tcp.onDirty(), log: pino({ level: 'silent' }), workerIndex: 0, workerCount: 1,
  });
}

/**
 * Runs the link in 5 ms virtual steps until stop(), handing the event loop to the socket
 * layer (its nextTick and stream callbacks) between steps. This is the clock's driver,
 * not a wait: tests wait on states with waitFor.
 */
export function drive(pair: TcpPair) {
  const stop = new AbortController();
  const loop = (async () => {
    while (!stop.signal.aborted) {
      const until = pair.now + 5;
      pair.run(until);
      pair.now = Math.max(pair.now, until); // run() does not advance an idle clock by itself
      await new Promise<void>((r) => setImmediate(r));
    }
  })();
  return async () => {
    stop.abort();
    await loop;
  };
}
