/**
 * Node's write contract over the real TCP core (test/helpers/tcp-pair.ts): once a write's
 * callback has run, the application may reuse its buffer. Host B serves an application
 * (test/fixtures/buffer-reuse-app.mjs) that refills ONE buffer with the next block's
 * pattern inside each write callback; host A reads the whole stream, which must be
 * exactly what was written — on a clean link, and on a lossy, reordering one where
 * retransmissions are built long after the callbacks ran.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import type { Fault } from '../../helpers/tcp-pair.js';
import { TcpPair } from '../../helpers/tcp-pair.js';
import { expectedStream, serveReusingOneBuffer, wrongBlocks } from '../../fixtures/buffer-reuse-app.mjs';
import { apiOf, drive } from './real-core-harness.js';

const PORT = 5050;
const BLOCKS = 120; // 105 × 64 KiB and 15 odd sizes, about 6.6 MiB

/** Drops every 29th frame (either direction) and delays every 11th by 3 ms (reordering). */
const lossy: Fault = (f, i) => {
  if (i % 29 === 13) return [];
  if (i % 11 === 5) return [{ ...f, at: f.at + 3 }];
  return [f];
};

async function download(fault: Fault | null): Promise<{ got: Buffer; retransmits: number }> {
  const pair = new TcpPair();
  pair.fault = fault;
  serveReusingOneBuffer(apiOf(pair.b), PORT, BLOCKS);
  const stop = drive(pair);
  const c = apiOf(pair.a).net.connect({ host: '10.0.0.2', port: PORT });
  const chunks: Buffer[] = [];
  c.on('data', (d: Buffer) => chunks.push(d));
  await new Promise<void>((resolve, reject) => {
    c.on('end', resolve);
    c.on('error', reject);
  });
  await stop();
  return { got: Buffer.concat(chunks), retransmits: pair.countersB[C.tcp_retransmits] };
}

describe('write(buf, cb): the buffer is the application\'s again once cb has run', () => {
  const expected = expectedStream(BLOCKS);

  it('one buffer refilled in every write callback: the stream arrives exactly as written (clean link)', async () => {
    const { got, retransmits } = await download(null);
    expect(retransmits).toBe(0);
    expect(wrongBlocks(got, BLOCKS)).toEqual([]);
    expect(got.equals(expected)).toBe(true);
  });

  it('the same under loss and reordering: retransmissions carry the bytes written, not the refilled buffer', async () => {
    const { got, retransmits } = await download(lossy);
    expect(retransmits).toBeGreaterThan(50);
    expect(wrongBlocks(got, BLOCKS)).toEqual([]);
    expect(got.equals(expected)).toBe(true);
  });
});
