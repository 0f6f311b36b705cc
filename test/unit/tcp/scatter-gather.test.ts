/**
 * Scatter-gather transmit (decision 0051): a TCP payload leaves in references to the send
 * buffer's blocks instead of a copy. Asserted here: the batch's bookkeeping of pieces, the
 * block pool keeping released blocks aside while a staged frame may point into them (an
 * ACK or a reset in the same turn must not let another connection's write refill the
 * memory before the frame is written), and whole transfers between two cores over an
 * in-memory link whose devices take frames in pieces, with and without loss.
 */
import { describe, expect, it } from 'vitest';
import { C } from '../../../src/base/counters.js';
import { FrameBatch, GATHER_MAX_FRAMES, MAX_PIECES_PER_FRAME } from '../../../src/base/frame-batch.js';
import type { FrameBatch as Batch } from '../../../src/base/frame-batch.js';
import { TxStaging } from '../../../src/base/tx-staging.js';
import { SendBuffer } from '../../../src/tcp/send-buffer.js';
import { BLOCK_BYTES, blocksAside, holdBlocks, pooledBlocks, releaseBlocks, takeBlock, giveBlock } from '../../../src/util/block-pool.js';
import { patternBytes } from '../../helpers/frames.js';
import { RecordingDevice } from '../../helpers/recording-device.js';
import { TcpPair } from '../../helpers/tcp-pair.js';

const HEAD = 54;

/** Stages one frame: `head` bytes of 0xab in the batch, then `len` bytes of `sb` from `offset` by reference. */
function stageFrom(st: TxStaging, sb: SendBuffer, offset: number, len: number): void {
  const o = st.reserve(HEAD + len);
  expect(o).toBeGreaterThanOrEqual(0);
  st.buf.fill(0xab, o, o + HEAD);
  expect(st.gathers).toBe(true);
  sb.attachOut(offset, len, st);
  st.commit(HEAD + len, null);
}

describe('FrameBatch pieces', () => {
  it('commit counts the bytes in the batch and the bytes attached apart; frameBytes joins them; clear lets go of the pieces', () => {
    const b = new FrameBatch(new Uint8Array(4096), 8, 0, true);
    const x = patternBytes(300, 1);
    const y = patternBytes(500, 2);
    const o = b.reserve(40 + 250);
    b.buf.fill(7, o, o + 40);
    b.attach(x, 50, 200);
    b.attach(y, 0, 50);
    b.commit(40 + 250, null);
    const o2 = b.reserve(60);
    b.buf.fill(9, o2, o2 + 60);
    b.commit(60, null);
    expect([b.lens[0], b.attached[0], b.pieceFirst[0], b.pieceCount[0]]).toEqual([40, 250, 0, 2]);
    expect([b.lens[1], b.attached[1], b.pieceCount[1]]).toEqual([60, 0, 0]);
    // Only the frame's bytes in the batch take room in it.
    expect(b.used).toBe(o2 + 64);
    expect(o2).toBe(48);
    const whole = b.frameBytes(0);
    expect([...whole.subarray(0, 40)]).toEqual(new Array(40).fill(7));
    expect(Buffer.from(whole.subarray(40, 240)).equals(Buffer.from(x.subarray(50, 250)))).toBe(true);
    expect(Buffer.from(whole.subarray(240)).equals(Buffer.from(y.subarray(0, 50)))).toBe(true);
    expect(b.piecesUsed).toBe(2);
    b.clear();
    expect(b.piecesUsed).toBe(0);
    expect(b.pieces.every((p) => p === null)).toBe(true);
  });

  it('pieces of a frame reserved and not committed are forgotten by the next reserve', () => {
    const b = new FrameBatch(new Uint8Array(4096), 8, 0, true);
    b.reserve(100);
    b.attach(new Uint8Array(10), 0, 10);
    b.attach(new Uint8Array(10), 0, 10);
    const o = b.reserve(100);
    b.buf.fill(1, o, o + 20);
    b.attach(new Uint8Array(30).fill(2), 0, 30);
    b.commit(50, null);
    expect(b.piecesUsed).toBe(1);
    expect([b.pieceFirst[0], b.pieceCount[0], b.attached[0]]).toEqual([0, 1, 30]);
    expect([...b.frameBytes(0)]).toEqual([...new Array<number>(20).fill(1), ...new Array<number>(30).fill(2)]);
  });

  it('refuses pieces outside a frame, in a batch made without gather, or past MAX_PIECES_PER_FRAME', () => {
    const plain = new FrameBatch(new Uint8Array(4096), 8);
    plain.reserve(10);
    expect(() => plain.attach(new Uint8Array(4), 0, 4)).toThrow(RangeError);
    const b = new FrameBatch(new Uint8Array(4096), 8, 0, true);
    expect(() => b.attach(new Uint8Array(4), 0, 4)).toThrow(RangeError);
    b.reserve(10);
    for (let k = 0; k < MAX_PIECES_PER_FRAME; k++) b.attach(new Uint8Array(4), 0, 4);
    expect(() => b.attach(new Uint8Array(4), 0, 4)).toThrow(RangeError);
    // No more pieces per batch than the TAP writes in one call.
    expect(() => new FrameBatch(new Uint8Array(4096), GATHER_MAX_FRAMES + 1, 0, true)).toThrow(RangeError);
  });
});

describe('block pool: blocks given back while a batch holds frames in pieces', () => {
  it('are kept aside until the last holder releases, then join the pool', () => {
    const a = takeBlock();
    const b = takeBlock();
    const before = pooledBlocks();
    holdBlocks();
    holdBlocks();
    giveBlock(a);
    expect(blocksAside()).toBe(1);
    expect(pooledBlocks()).toBe(before);
    releaseBlocks();
    giveBlock(b);
    expect(blocksAside()).toBe(2);
    expect(takeBlock()).not.toBe(a); // not handed out again while held
    releaseBlocks();
    expect(blocksAside()).toBe(0);
    expect(pooledBlocks()).toBeGreaterThanOrEqual(before + 1);
    expect(() => releaseBlocks()).toThrow();
  });
});

describe('TxStaging over a device that takes frames in pieces', () => {
  /** A staging batch over a recording device with txGather. */
  function rig(gather = true) {
    const dev = new RecordingDevice({ txChecksum: true, tsoMaxPayload: 65_000, txGather: gather });
    return { dev, st: new TxStaging(dev, 1 << 20, 64) };
  }

  it('a payload spanning several blocks leaves as one frame, byte for byte, its pieces pointing into the send buffer', () => {
    const { dev, st } = rig();
    const sb = new SendBuffer(1 << 20);
    const data = patternBytes(3 * BLOCK_BYTES + 500, 3);
    expect(sb.write(data)).toBe(data.length);
    let seen: Batch | null = null;
    const transmit = dev.transmit.bind(dev);
    dev.transmit = (batch, first) => {
      seen = batch;
      expect(batch.pieceCount[0]).toBe(4); // 100 bytes into block 0 → 3 blocks and a bit
      expect(batch.attached[0]).toBe(3 * BLOCK_BYTES);
      return transmit(batch, first);
    };
    stageFrom(st, sb, 100, 3 * BLOCK_BYTES);
    expect(st.flush()).toBe(1);
    expect(seen).not.toBeNull();
    const f = dev.sent[0].bytes;
    expect(f.length).toBe(HEAD + 3 * BLOCK_BYTES);
    expect(f.subarray(0, HEAD).every((v) => v === 0xab)).toBe(true);
    expect(Buffer.from(f.subarray(HEAD)).equals(Buffer.from(data.subarray(100, 100 + 3 * BLOCK_BYTES)))).toBe(true);
  });

  for (const how of ['acknowledged', 'disposed'] as const) {
    it(`blocks ${how} while a frame in pieces is staged are not refilled by another connection's write before the flush`, () => {
      const { dev, st } = rig();
      const a = new SendBuffer(1 << 20);
      const b = new SendBuffer(1 << 20);
      const dataA = patternBytes(2 * BLOCK_BYTES, 4);
      a.write(dataA);
      stageFrom(st, a, 0, 2 * BLOCK_BYTES); // e.g. a retransmission
      // The ACK for it (a spurious retransmission) or a reset arrives in the same turn.
      if (how === 'acknowledged') a.ack(2 * BLOCK_BYTES);
      else a.dispose();
      expect(a.blockCount).toBe(0);
      expect(blocksAside()).toBe(2);
      // Another connection writes in the same turn: it must get other memory.
      b.write(patternBytes(2 * BLOCK_BYTES, 5));
      st.flush();
      expect(Buffer.from(dev.sent[0].bytes.subarray(HEAD)).equals(Buffer.from(dataA))).toBe(true);
      expect(blocksAside()).toBe(0); // the flush gave them back
      b.dispose();
    });
  }

  it('clear() without a flush lets the blocks kept aside go too', () => {
    const { st } = rig();
    const a = new SendBuffer(1 << 20);
    a.write(patternBytes(BLOCK_BYTES, 6));
    stageFrom(st, a, 0, 1000);
    a.dispose();
    expect(blocksAside()).toBe(1);
    st.clear();
    expect(blocksAside()).toBe(0);
  });

  it('a device without txGather: the staging does not gather', () => {
    const { st } = rig(false);
    st.reserve(100);
    expect(st.gathers).toBe(false);
    st.clear();
  });
});

describe('TCP between two cores over devices that take frames in pieces', () => {
  /** Counts the frames a device of the pair was handed in pieces, and their payload bytes so. */
  function countPieces(pair: TcpPair): { frames: number; bytes: number } {
    const n = { frames: 0, bytes: 0 };
    for (const dev of [pair.link.a, pair.link.b]) {
      const transmit = dev.transmit.bind(dev);
      dev.transmit = (batch, first) => {
        for (let i = first; i < batch.count; i++) {
          if (batch.pieceCount[i] > 0) n.frames++;
          n.bytes += batch.attached[i];
        }
        return transmit(batch, first);
      };
    }
    return n;
  }

  for (const deliver of ['wire', 'local'] as const) {
    it(`${deliver} delivery: 3 MB each way arrive byte for byte; the payload left by reference`, () => {
      const caps = { txChecksum: true, tsoMaxPayload: 65_000, txGather: true };
      const pair = new TcpPair({}, {}, { capabilities: caps, deliver });
      const n = countPieces(pair);
      const { client, server, s, c } = pair.connect(9);
      const up = patternBytes(3_000_000, 11);
      const down = patternBytes(3_000_000, 12);
      let u = 0;
      let d = 0;
      for (let i = 0; i < 10_000 && (u < up.length || d < down.length); i++) {
        u += client.send(up.subarray(u));
        d += server.send(down.subarray(d));
        pair.run(pair.now + 20);
      }
      client.shutdownWrite();
      server.shutdownWrite();
      pair.run();
      expect(s.bytes().equals(Buffer.from(up))).toBe(true);
      expect(c.bytes().equals(Buffer.from(down))).toBe(true);
      expect(n.frames).toBeGreaterThan(40);
      // All but payloads under GATHER_MIN_PAYLOAD, which are copied: a receiver of plain
      // segments ('wire') ACKs every second one, and the ACK clock sends many short bursts.
      const share = n.bytes / (pair.countersA[C.tcp_tx_bytes] + pair.countersB[C.tcp_tx_bytes]);
      expect(share).toBeGreaterThan(deliver === 'local' ? 0.9 : 0.3);
      expect(pair.countersA[C.tcp_retransmits] + pair.countersB[C.tcp_retransmits]).toBe(0);
    });
  }

  it('local delivery, one data frame in 25 lost: the data still arrives byte for byte, and no block stays aside', () => {
    const caps = { txChecksum: true, tsoMaxPayload: 65_000, txGather: true };
    const pair = new TcpPair({}, {}, { capabilities: caps, deliver: 'local' });
    pair.delay = 5;
    const n = countPieces(pair);
    const { client, s } = pair.connect(9);
    let k = 0;
    pair.fault = (f) => (f.from === 'A' && f.frame.length > 1000 && ++k % 25 === 0 ? [] : [f]);
    const up = patternBytes(2_000_000, 13);
    let u = 0;
    for (let i = 0; i < 20_000 && u < up.length; i++) {
      u += client.send(up.subarray(u));
      pair.run(pair.now + 10);
    }
    client.shutdownWrite();
    pair.run();
    expect(s.bytes().equals(Buffer.from(up))).toBe(true);
    expect(pair.countersA[C.tcp_retransmits]).toBeGreaterThan(10);
    expect(n.bytes).toBeGreaterThan(0.5 * pair.countersA[C.tcp_tx_bytes]);
    expect(blocksAside()).toBe(0);
  });
});
