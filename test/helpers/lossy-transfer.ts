/**
 * A two-core transfer (test/helpers/tcp-pair.ts) A → B over `delayMs` each way with
 * `lossPct` % of frames dropped each way (a seeded generator), for the loss recovery and
 * congestion control tests. Returns the pair, the receiving socket, the data and the
 * virtual time the last byte arrived.
 */
import type { TcpConfig } from '../../src/tcp/tcp-config.js';
import { patternBytes } from './frames.js';
import { TcpPair } from './tcp-pair.js';

export function lossyTransfer(
  cc: TcpConfig['congestionControl'], lossPct: number, seed: number, recovery: TcpConfig['recovery'],
  bytes = 2_000_000, delayMs = 10,
) {
  const p = new TcpPair({ tcp: { congestionControl: cc, recovery } });
  p.delay = delayMs;
  const start = p.now;
  const { client, s } = p.connect();
  let x = seed;
  p.fault = (f) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 16) % 100 < lossPct ? [] : [f];
  };
  const data = patternBytes(bytes, seed);
  // run() returns once the link is idle and the next timer is past `until`: the clock
  // is moved on to `until` so that the writer sees time pass.
  const step = (ms: number) => {
    const until = p.now + ms;
    p.run(until);
    p.now = Math.max(p.now, until);
  };
  let off = 0;
  let doneAt = -1;
  for (let guard = 0; off < data.length && guard < 100_000; guard++) {
    off += client.send(data.subarray(off));
    step(50);
  }
  for (let guard = 0; s.bytes().length < data.length && guard < 6000; guard++) step(100);
  if (s.bytes().length >= data.length) doneAt = p.now;
  return { p, s, data, ms: doneAt - start };
}
