/**
 * The capture controller (control/capture-control.ts): start sets the shared capture
 * word the decorators read, stop clears it and writes everything captured up to then into
 * the pcap file with wall-clock times; requests are validated (400), a second start or a
 * stop without a capture refused (409); records left over from before a start are not
 * written.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newCounters } from '../../../src/base/counters.js';
import { FrameBatch } from '../../../src/base/frame-batch.js';
import { CAPTURE_DEFAULT_SNAPLEN, CaptureController, validateCaptureRequest } from '../../../src/control/capture-control.js';
import { CaptureRingSink } from '../../../src/dataplane/capture-ring.js';
import { createRingBuffer } from '../../../src/dataplane/ring.js';
import { CaptureDevice } from '../../../src/phy/capture-device.js';
import { readPcap } from '../../../src/phy/pcap.js';
import { IPPROTO_UDP, ipv4Frame, patternBytes, udpDatagram } from '../../helpers/frames.js';
import { RecordingDevice } from '../../helpers/recording-device.js';

const dir = mkdtempSync(join(tmpdir(), 'stackd-capctl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frame = (n: number): Uint8Array => ipv4Frame(2, 1, 1, 2, IPPROTO_UDP, udpDatagram(1, 2, 7, 7, patternBytes(n, n)));

/** A controller over two threads' rings, and a capture decorator per thread sharing its word. */
function setup() {
  const rings = [createRingBuffer(1 << 20), createRingBuffer(1 << 20)];
  const control = new Int32Array(new SharedArrayBuffer(16));
  const ctl = new CaptureController(rings, control, 1);
  const devs = rings.map((r) => new CaptureDevice(new RecordingDevice(), new CaptureRingSink(r), control, 1, newCounters()));
  const send = (t: number, f: Uint8Array): void => {
    const b = new FrameBatch(new Uint8Array(4096), 4);
    b.buf.set(f, b.reserve(f.length));
    b.commit(f.length, null);
    devs[t].transmit(b, 0);
  };
  return { ctl, control, send };
}

describe('CaptureController', () => {
  it('start sets the capture word to the snapshot length; stop clears it and writes the frames of both threads', () => {
    const { ctl, control, send } = setup();
    send(0, frame(10)); // before the start: not captured
    const path = join(dir, 'a.pcap');
    const before = Date.now();
    const s = ctl.start({ file: path, snaplen: 100 });
    expect(s).toMatchObject({ active: true, file: path, snaplen: 100, maxMb: null, files: 1, records: 0, error: null });
    expect(control[1]).toBe(100);
    send(0, frame(20));
    send(1, frame(30));
    send(0, frame(200));
    const done = ctl.stop();
    expect(control[1]).toBe(0);
    expect(done).toMatchObject({ active: false, file: path, records: 3, files: 1 });
    send(1, frame(40)); // after the stop: not captured
    const recs = readPcap(new Uint8Array(readFileSync(path)));
    expect(recs.map((r) => r.frame)).toEqual([frame(20), frame(30), frame(200).subarray(0, 100)]);
    expect(recs[2].origLen).toBe(frame(200).length);
    for (const r of recs) {
      expect(r.timeMs).toBeGreaterThanOrEqual(before - 1);
      expect(r.timeMs).toBeLessThanOrEqual(Date.now() + 1);
    }
    expect(ctl.status()).toEqual(done);
  });

  it('a new capture does not write what an earlier one left behind', () => {
    const { ctl, send } = setup();
    ctl.start({ file: join(dir, 'b1.pcap') });
    ctl.stop();
    send(0, frame(11)); // word is 0 again: not captured at all
    const second = join(dir, 'b2.pcap');
    ctl.start({ file: second });
    send(1, frame(12));
    expect(ctl.stop().records).toBe(1);
    expect(readPcap(new Uint8Array(readFileSync(second))).map((r) => r.frame)).toEqual([frame(12)]);
  });

  it('refuses a second start and a stop without a capture (409), and bad requests (400)', () => {
    const { ctl } = setup();
    expect(() => ctl.stop()).toThrow(expect.objectContaining({ status: 409, message: 'no capture is running' }));
    ctl.start({ file: join(dir, 'c.pcap') });
    expect(() => ctl.start({ file: join(dir, 'd.pcap') })).toThrow(expect.objectContaining({ status: 409 }));
    ctl.close();
    expect(ctl.status().active).toBe(false);
    const bad = (req: unknown, msg: RegExp) => {
      expect(() => ctl.start(req)).toThrow(msg);
      expect(() => ctl.start(req)).toThrow(expect.objectContaining({ status: 400 }));
    };
    bad('x', /JSON object/);
    bad({ file: 'relative.pcap' }, /^file: expected an absolute path/);
    bad({ file: '/tmp/x.pcap', snaplen: 10 }, /^snaplen: expected a whole number 64\.\.262144/);
    bad({ file: '/tmp/x.pcap', maxMb: 0 }, /^maxMb: expected a whole number 1\./);
    bad({ file: '/tmp/x.pcap', extra: 1 }, /^unknown field 'extra'/);
    bad({ file: join(dir, 'no-such-dir', 'x.pcap') }, /^cannot write .*no-such-dir.*ENOENT/);
    expect(ctl.status().active).toBe(false);
  });

  it('defaults: snapshot length 262144, no rotation; rotating, the last 10 files are kept', () => {
    expect(validateCaptureRequest({ file: '/x' })).toEqual({ file: '/x', snaplen: CAPTURE_DEFAULT_SNAPLEN, maxMb: null, maxFiles: null });
    expect(validateCaptureRequest({ file: '/x', snaplen: 64, maxMb: 5 })).toEqual({ file: '/x', snaplen: 64, maxMb: 5, maxFiles: 10 });
    expect(validateCaptureRequest({ file: '/x', maxMb: 5, maxFiles: 2 })).toEqual({ file: '/x', snaplen: CAPTURE_DEFAULT_SNAPLEN, maxMb: 5, maxFiles: 2 });
    expect(() => validateCaptureRequest({ file: '/x', maxFiles: 2 })).toThrow(/^maxFiles: only with maxMb/);
    expect(() => validateCaptureRequest({ file: '/x', maxMb: 5, maxFiles: 0 })).toThrow(/^maxFiles: expected a whole number 1\.\.100000/);
  });
});
