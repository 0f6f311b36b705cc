/**
 * Starting and stopping a packet capture of the running stack (decision 0016): the main
 * thread's side of `stackd --pcap` and POST /pcap/start, /pcap/stop.
 *
 * Start opens the pcap file (phy/pcap.ts, rotated FILE, FILE.1, … past the size limit),
 * forgets whatever an earlier capture left in the threads' capture rings, and sets the
 * shared capture word to the snapshot length: from then on every thread's capture
 * decorator (phy/capture-device.ts) copies its frames into its ring. Every
 * CAPTURE_PUMP_MS this controller merges the rings by capture time
 * (dataplane/capture-merge.ts), CAPTURE_GRACE_MS behind now, and appends the records to
 * the file. Stop clears the word, writes what is stamped up to that moment and closes
 * the file. A write error (disk full) stops the capture and is reported in the status.
 */
import { isAbsolute } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CaptureMerger } from '../dataplane/capture-merge.js';
import { PcapWriter } from '../phy/pcap.js';
import { monoMs } from '../util/clock.js';

/** Snapshot length when none is given (tcpdump's default), and the bounds accepted. */
export const CAPTURE_DEFAULT_SNAPLEN = 262144;
export const CAPTURE_MIN_SNAPLEN = 64;
export const CAPTURE_MAX_SNAPLEN = 262144;
/** Largest rotation size accepted, in MB (10^6 bytes, as tcpdump -C). */
export const CAPTURE_MAX_MB = 1_000_000;
/** Files a rotating capture keeps when not told (the oldest is deleted), and the most accepted. */
export const CAPTURE_DEFAULT_MAX_FILES = 10;
export const CAPTURE_MAX_FILES = 100_000;
/** How often the rings are drained into the file (ms), and how far behind now (ms). */
export const CAPTURE_PUMP_MS = 10;
export const CAPTURE_GRACE_MS = 10;

/** What POST /pcap/start takes (and --pcap, --pcap-snaplen, --pcap-max-mb, --pcap-max-files). */
export interface CaptureRequest {
  /** Absolute path of the capture file. */
  file: string;
  /** Bytes kept of each frame (default CAPTURE_DEFAULT_SNAPLEN). */
  snaplen?: number;
  /** Rotate past this many MB (10^6 bytes) into FILE.1, FILE.2, … (default: never). */
  maxMb?: number;
  /** Rotating, keep at most this many files, deleting the oldest (default CAPTURE_DEFAULT_MAX_FILES); only with maxMb. */
  maxFiles?: number;
}

/** The capture part of /stats, and the answer of /pcap/start and /pcap/stop. */
export interface CaptureStatus {
  active: boolean;
  /** The capture file (the first of a rotation) of the running or last capture; null before any. */
  file: string | null;
  snaplen: number | null;
  maxMb: number | null;
  /** Files kept when rotating (null: not rotating). */
  maxFiles: number | null;
  /** Of the running or last capture: files opened (deleted ones included), records and bytes written. */
  files: number;
  records: number;
  bytes: number;
  /** Why the last capture stopped on its own (a write error), else null. */
  error: string | null;
}

/** A refused capture request: `status` is the HTTP status to answer with. */
export class CaptureError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Checks a request (from JSON or the CLI); returns it complete or throws CaptureError(400). */
export function validateCaptureRequest(
  req: unknown,
): Required<Omit<CaptureRequest, 'maxMb' | 'maxFiles'>> & { maxMb: number | null; maxFiles: number | null } {
  if (typeof req !== 'object' || req === null) throw new CaptureError(400, 'expected a JSON object like {"file": "/tmp/x.pcap"}');
  const r = req as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!['file', 'snaplen', 'maxMb', 'maxFiles'].includes(k)) throw new CaptureError(400, `unknown field '${k}' (fields: file, snaplen, maxMb, maxFiles)`);
  }
  if (typeof r.file !== 'string' || !isAbsolute(r.file)) throw new CaptureError(400, 'file: expected an absolute path');
  const int = (name: string, v: unknown, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new CaptureError(400, `${name}: expected a whole number ${min}..${max}`);
    }
    return v;
  };
  const snaplen = r.snaplen === undefined ? CAPTURE_DEFAULT_SNAPLEN : int('snaplen', r.snaplen, CAPTURE_MIN_SNAPLEN, CAPTURE_MAX_SNAPLEN);
  const maxMb = r.maxMb === undefined || r.maxMb === null ? null : int('maxMb', r.maxMb, 1, CAPTURE_MAX_MB);
  if (maxMb === null && r.maxFiles !== undefined && r.maxFiles !== null) throw new CaptureError(400, 'maxFiles: only with maxMb (files rotate by size)');
  const maxFiles = maxMb === null ? null : r.maxFiles === undefined || r.maxFiles === null ? CAPTURE_DEFAULT_MAX_FILES : int('maxFiles', r.maxFiles, 1, CAPTURE_MAX_FILES);
  return { file: r.file, snaplen, maxMb, maxFiles };
}

/** Runs captures over the threads' capture rings. */
export class CaptureController {
  private readonly merger: CaptureMerger;
  private writer: PcapWriter | null = null;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  /** Wall-clock ms = capture time (monoMs) + this. */
  private wallOffset = 0;
  private last: CaptureStatus = { active: false, file: null, snaplen: null, maxMb: null, maxFiles: null, files: 0, records: 0, bytes: 0, error: null };

  /**
   * @param rings every thread's capture ring (dataplane/capture-ring.ts)
   * @param control shared words; control[index] is the capture word the decorators read
   */
  constructor(rings: readonly SharedArrayBuffer[], private readonly control: Int32Array, private readonly index: number) {
    this.merger = new CaptureMerger(rings);
  }

  /** Starts a capture; throws CaptureError (400 bad request or file, 409 already capturing). */
  start(req: unknown): CaptureStatus {
    if (this.writer !== null) throw new CaptureError(409, `a capture is already running (to ${this.last.file}); stop it first`);
    const { file, snaplen, maxMb, maxFiles } = validateCaptureRequest(req);
    let writer: PcapWriter;
    try {
      writer = new PcapWriter(file, { snaplen, maxFileBytes: maxMb === null ? 0 : maxMb * 1_000_000, maxFiles: maxFiles ?? 0 });
    } catch (e) {
      throw new CaptureError(400, `cannot write ${file}: ${(e as Error).message}`);
    }
    this.merger.discard();
    this.writer = writer;
    this.startedAt = monoMs();
    this.wallOffset = performance.timeOrigin + performance.now() - monoMs();
    this.last = { active: true, file, snaplen, maxMb, maxFiles, files: 1, records: 0, bytes: 0, error: null };
    Atomics.store(this.control, this.index, snaplen);
    this.timer = setInterval(() => this.pump(monoMs() - CAPTURE_GRACE_MS), CAPTURE_PUMP_MS);
    this.timer.unref();
    return this.status();
  }

  /** Stops the capture, writing what was captured up to now; throws CaptureError(409) when none runs. */
  stop(): CaptureStatus {
    if (this.writer === null) throw new CaptureError(409, 'no capture is running');
    this.finish(this.writer, null);
    return this.status();
  }

  /** Stops a running capture, if any (at shutdown). */
  close(): void {
    if (this.writer !== null) this.finish(this.writer, null);
  }

  status(): CaptureStatus {
    const w = this.writer;
    if (w !== null) Object.assign(this.last, { files: w.files, records: w.records, bytes: w.bytes });
    return { ...this.last };
  }

  /** Ends the capture that writes to `w` (this.writer). */
  private finish(w: PcapWriter, error: string | null): void {
    Atomics.store(this.control, this.index, 0);
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    try {
      if (error === null) this.merger.drain(monoMs(), this.write);
      w.close();
    } catch (e) {
      error ??= `capture stopped: ${(e as Error).message}`;
    }
    this.last = { ...this.last, active: false, files: w.files, records: w.records, bytes: w.bytes, error };
    this.writer = null;
  }

  /** Appends every record stamped up to `upTo` to the file. */
  private pump(upTo: number): void {
    const w = this.writer;
    if (w === null) return;
    try {
      if (this.merger.drain(upTo, this.write) > 0) w.flush();
    } catch (e) {
      this.finish(w, `capture stopped: ${(e as Error).message}`);
    }
  }

  private readonly write = (buf: Uint8Array, off: number, len: number, origLen: number, _dir: number, t: number): void => {
    if (t < this.startedAt) return; // stamped before this capture started: left over
    if (this.writer === null) throw new Error('capture records drained with no capture running');
    this.writer.writeRecord(buf, off, len, origLen, t + this.wallOffset);
  };
}
