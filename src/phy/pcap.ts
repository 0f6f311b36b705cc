/**
 * Minimal libpcap capture files (the classic format of pcap-savefile(5), no RFC;
 * documented in draft-ietf-opsawg-pcap): a writer for captures of the data plane and a
 * reader for tests and tools.
 *
 * Writer: little-endian, microsecond magic 0xa1b2c3d4, version 2.4, link type 1
 * (Ethernet), snapshot length 65535 unless told otherwise. Records are staged in one
 * internal buffer and flushed with synchronous writes (frames over 4 KiB are written
 * straight from the caller's array), so `write` allocates nothing per frame. With a size
 * limit the writer rotates like `tcpdump -C`: when the next record would take the file
 * past the limit it closes it and goes on in FILE.1, then FILE.2, … (each a complete
 * capture file with its own header; a file holds at least one record). With a file-count
 * bound as well, opening FILE.k deletes FILE.(k − maxFiles): at most maxFiles files exist
 * (like tcpdump -W, but numbered on rather than overwritten in place).
 * Reader: both byte orders, microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d)
 * magics; Ethernet link type only.
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';

/** Microsecond-resolution pcap magic number. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
/** Nanosecond-resolution pcap magic number. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** Link type of Ethernet (LINKTYPE_ETHERNET). */
export const PCAP_LINKTYPE_ETHERNET = 1;
/** Default snapshot length of PcapWriter; longer frames are truncated to it. */
export const PCAP_SNAPLEN = 65535;

/** Bytes of the file header and of each record's header. */
export const PCAP_GLOBAL_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
const GLOBAL_HEADER_LEN = PCAP_GLOBAL_HEADER_LEN;
const RECORD_HEADER_LEN = PCAP_RECORD_HEADER_LEN;
const BUFFER_LEN = 1 << 18;
/** Frames longer than this bypass the staging buffer. */
const DIRECT_WRITE_MIN = 4096;

/** Store `v` as a little-endian uint32 at `b[o]`. */
function putU32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

/** Options of a PcapWriter. */
export interface PcapWriterOptions {
  /** Snapshot length: bytes kept of each frame (default 65535). */
  snaplen?: number;
  /** Rotate when a file would grow past this many bytes (default 0: never). */
  maxFileBytes?: number;
  /** Rotating, keep at most this many files: the oldest is deleted (default 0: keep all). */
  maxFiles?: number;
}

/** Name of rotation file `index` of `path`: path itself for 0, then path.1, path.2, … */
export function pcapFileName(path: string, index: number): string {
  return index === 0 ? path : `${path}.${index}`;
}

/** Writes Ethernet frames to a pcap file (or a rotation of files) with synchronous, buffered writes. */
export class PcapWriter {
  readonly snaplen: number;
  readonly maxFileBytes: number;
  readonly maxFiles: number;
  /** Files opened so far (1 + rotations), records and bytes written in all of them. */
  files = 0;
  /** Rotated files deleted to keep maxFiles. */
  filesDeleted = 0;
  records = 0;
  bytes = 0;
  private fd = -1;
  private readonly buf = new Uint8Array(BUFFER_LEN);
  private used = 0;
  /** Bytes and records in the current file (staged included). */
  private fileBytes = 0;
  private fileRecords = 0;

  /** Create (truncate) the file at `path` and write the global header. */
  constructor(readonly path: string, opts: PcapWriterOptions = {}) {
    this.snaplen = opts.snaplen ?? PCAP_SNAPLEN;
    this.maxFileBytes = opts.maxFileBytes ?? 0;
    this.maxFiles = opts.maxFiles ?? 0;
    this.open();
  }

  /** Name of the file being written. */
  get currentFile(): string {
    return pcapFileName(this.path, this.files - 1);
  }

  private open(): void {
    this.fd = openSync(pcapFileName(this.path, this.files), 'w');
    const oldest = this.files - this.maxFiles;
    if (this.maxFiles > 0 && oldest >= 0) {
      try {
        unlinkSync(pcapFileName(this.path, oldest));
        this.filesDeleted++;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // someone moved it away already
      }
    }
    this.files++;
    const b = this.buf;
    putU32le(b, 0, PCAP_MAGIC_US);
    b[4] = 2; // version major (LE u16)
    b[5] = 0;
    b[6] = 4; // version minor
    b[7] = 0;
    putU32le(b, 8, 0); // thiszone
    putU32le(b, 12, 0); // sigfigs
    putU32le(b, 16, this.snaplen);
    putU32le(b, 20, PCAP_LINKTYPE_ETHERNET);
    this.used = GLOBAL_HEADER_LEN;
    this.fileBytes = GLOBAL_HEADER_LEN;
    this.fileRecords = 0;
    this.bytes += GLOBAL_HEADER_LEN;
  }

  /**
   * Append the frame `frame[off, off+len)` captured at `timeMs` (milliseconds since
   * the Unix epoch, fractional part kept to the microsecond), cut to the snapshot length.
   */
  write(frame: Uint8Array, off: number, len: number, timeMs: number): void {
    this.writeRecord(frame, off, len > this.snaplen ? this.snaplen : len, len, timeMs);
  }

  /**
   * Append a record of `incl` bytes at `frame[off]` (cut to the snapshot length if longer)
   * for a frame that was `origLen` bytes on the wire, captured at `timeMs` (ms since the
   * Unix epoch).
   */
  writeRecord(frame: Uint8Array, off: number, incl: number, origLen: number, timeMs: number): void {
    if (this.fd < 0) return;
    if (incl > this.snaplen) incl = this.snaplen;
    const size = RECORD_HEADER_LEN + incl;
    if (this.maxFileBytes > 0 && this.fileRecords > 0 && this.fileBytes + size > this.maxFileBytes) {
      this.flush();
      closeSync(this.fd);
      this.open();
    }
    if (this.used + size > BUFFER_LEN) this.flush();
    let sec = Math.floor(timeMs / 1000);
    let usec = Math.round((timeMs - sec * 1000) * 1000);
    if (usec >= 1000000) {
      sec += 1;
      usec -= 1000000;
    }
    const b = this.buf;
    const u = this.used;
    putU32le(b, u, sec);
    putU32le(b, u + 4, usec);
    putU32le(b, u + 8, incl);
    putU32le(b, u + 12, origLen);
    this.fileBytes += size;
    this.fileRecords++;
    this.records++;
    this.bytes += size;
    if (incl > DIRECT_WRITE_MIN) {
      // Large frame: write it straight from the caller's array (no staging copy).
      this.used = u + RECORD_HEADER_LEN;
      this.flush();
      let done = 0;
      while (done < incl) done += writeSync(this.fd, frame, off + done, incl - done);
      return;
    }
    // Byte copy instead of set(subarray()): no view object per frame.
    const d = u + RECORD_HEADER_LEN;
    for (let i = 0; i < incl; i++) b[d + i] = frame[off + i];
    this.used = d + incl;
  }

  /** Write out everything staged so far. */
  flush(): void {
    if (this.fd < 0) return;
    let done = 0;
    while (done < this.used) done += writeSync(this.fd, this.buf, done, this.used - done);
    this.used = 0;
  }

  /** Flush and close the file; later writes are ignored. */
  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** One record of a pcap file. */
export interface PcapRecord {
  /** Capture time in milliseconds since the Unix epoch. */
  timeMs: number;
  /** The captured bytes (a copy; at most the snapshot length). */
  frame: Uint8Array;
  /** Length of the frame on the wire (more than frame.length when it was cut to the snapshot length). */
  origLen: number;
}

/**
 * Parse a whole pcap file of Ethernet frames. Throws on a bad magic number, another
 * link type or a truncated record (this is a test/tool helper, not the data plane).
 */
export function readPcap(bytes: Uint8Array): PcapRecord[] {
  if (bytes.length < GLOBAL_HEADER_LEN) throw new Error('pcap: truncated global header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  let nanos: boolean;
  const magicLe = dv.getUint32(0, true);
  if (magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS) {
    le = true;
    nanos = magicLe === PCAP_MAGIC_NS;
  } else {
    const magicBe = dv.getUint32(0, false);
    if (magicBe !== PCAP_MAGIC_US && magicBe !== PCAP_MAGIC_NS) {
      throw new Error(`pcap: bad magic 0x${magicLe.toString(16)}`);
    }
    le = false;
    nanos = magicBe === PCAP_MAGIC_NS;
  }
  // The link type's upper bits may hold FCS information (pcap-savefile); keep the low 16.
  const linktype = dv.getUint32(20, le) & 0xffff;
  if (linktype !== PCAP_LINKTYPE_ETHERNET) throw new Error(`pcap: link type ${linktype} is not Ethernet`);
  const out: PcapRecord[] = [];
  let p = GLOBAL_HEADER_LEN;
  while (p < bytes.length) {
    if (p + RECORD_HEADER_LEN > bytes.length) throw new Error('pcap: truncated record header');
    const sec = dv.getUint32(p, le);
    const frac = dv.getUint32(p + 4, le);
    const incl = dv.getUint32(p + 8, le);
    const origLen = dv.getUint32(p + 12, le);
    p += RECORD_HEADER_LEN;
    if (p + incl > bytes.length) throw new Error('pcap: truncated record');
    out.push({ timeMs: sec * 1000 + (nanos ? frac / 1e6 : frac / 1e3), frame: bytes.slice(p, p + incl), origLen });
    p += incl;
  }
  return out;
}
