/**
 * The TypeScript face of the native TAP binding (native/tap.c, built by binding.gyp into
 * build/Release/stackd_tap.node).
 *
 * Kernel interfaces: /dev/net/tun TUNSETIFF (IFF_TAP | IFF_NO_PI [| IFF_VNET_HDR]),
 * TUNSETVNETHDRSZ, TUNSETOFFLOAD, TUNSETPERSIST (Documentation/networking/tuntap.rst);
 * SIOCSIFMTU / SIOCSIFFLAGS (netdevice(7)); the 10-byte little-endian struct
 * virtio_net_hdr (virtio 1.1 section 5.1.6) in front of each frame in vnet-header mode;
 * eventfd(2) to wake a reader blocked in readBatch.
 *
 * Frames move in batches through caller-owned memory (which may be a SharedArrayBuffer
 * ring): readBatch/writeBatch take typed arrays of offsets and lengths and allocate nothing
 * per frame.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

/** Length of struct virtio_net_hdr as used by stackd (no num_buffers field). */
export const VNET_HDR_LEN = 10;

/**
 * Writes a virtio_net_hdr at b[h..h+10): flags (NEEDS_CSUM 1), gso_type (TCPV4 1),
 * hdr_len, gso_size, csum_start, csum_offset; 16-bit fields little-endian (virtio 1.0 on x86).
 */
export function writeVnetHeader(
  b: Uint8Array, h: number, flags: number, gsoType: number, hdrLen: number, gsoSize: number, csumStart: number, csumOffset: number,
): void {
  b[h] = flags;
  b[h + 1] = gsoType;
  b[h + 2] = hdrLen & 0xff; b[h + 3] = hdrLen >>> 8;
  b[h + 4] = gsoSize & 0xff; b[h + 5] = gsoSize >>> 8;
  b[h + 6] = csumStart & 0xff; b[h + 7] = csumStart >>> 8;
  b[h + 8] = csumOffset & 0xff; b[h + 9] = csumOffset >>> 8;
}
/** Largest frame a TAP hands out with TSO on (64 KiB IP datagram + 14-byte Ethernet header). */
export const TAP_MAX_GSO_FRAME = 65549;

/** TUNSETOFFLOAD flag: the reader accepts frames with partial checksums (NEEDS_CSUM). */
export const TUN_F_CSUM = 0x01;
/** TUNSETOFFLOAD flag: the reader accepts TCPv4 GSO super-frames (needs TUN_F_CSUM). */
export const TUN_F_TSO4 = 0x02;
/** TUNSETOFFLOAD flag: the reader accepts TCPv6 GSO super-frames (needs TUN_F_CSUM). */
export const TUN_F_TSO6 = 0x04;
/** TUNSETOFFLOAD flag: the reader accepts TSO frames with ECN/CWR set. */
export const TUN_F_TSO_ECN = 0x08;

/** virtio_net_hdr.flags: checksum must be completed from csum_start, stored at csum_offset. */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** virtio_net_hdr.flags: the checksum was already validated. */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
/** virtio_net_hdr.gso_type: not a GSO frame. */
export const VIRTIO_NET_HDR_GSO_NONE = 0;
/** virtio_net_hdr.gso_type: TCPv4 segmentation offload. */
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
/** virtio_net_hdr.gso_type: TCPv6 segmentation offload. */
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
/** virtio_net_hdr.gso_type bit: the super-frame carries CWR (only its first segment keeps it, RFC 3168 6.1.2). */
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/**
 * readBatch flag: with a timeout, wait in poll() before the first read. For a caller that
 * has just found the tap empty, it saves the read that would only return EAGAIN again.
 */
export const READ_POLL_FIRST = 1;
/** readBatch flag: when poll() reports `wakeFd` readable, read it once (emptying an eventfd's counter). */
export const READ_DRAIN_WAKE = 2;

/** The `{ fd, name }` returned by the native `open`. */
export interface TapHandle {
  /** File descriptor on /dev/net/tun (O_NONBLOCK, O_CLOEXEC). */
  fd: number;
  /** The interface name the kernel actually used. */
  name: string;
}

/**
 * The native addon's exports. Wrong argument types throw TypeError and out-of-range
 * indices RangeError; failing setup syscalls throw an Error with `code` (errno name),
 * `errno` (negative) and `syscall`. The batch calls report kernel errors in-band.
 */
export interface TapAddon {
  /** Opens /dev/net/tun and TUNSETIFFs IFF_TAP|IFF_NO_PI (|IFF_VNET_HDR); creates or attaches. */
  open(name: string, vnetHdr: boolean): TapHandle;
  /** TUNSETVNETHDRSZ (stackd uses 10). */
  setVnetHdrSize(fd: number, n: number): void;
  /** TUNSETOFFLOAD with TUN_F_* flags. */
  setOffload(fd: number, flags: number): void;
  /** TUNSETPERSIST: keep (true) or drop (false) the device when the last fd closes. */
  setPersist(fd: number, persist: boolean): void;
  /** Sets the MTU (0 = leave as is) then IFF_UP, in the calling process's network namespace. */
  linkUp(name: string, mtu: number): void;
  /**
   * Reads frames into `buf[start, end)`, each at the next 16-byte-aligned offset, while
   * `maxFrame` bytes remain and fewer than `maxCount` were read; stops at EAGAIN. Frame i
   * lands at `offsets[i]` (relative to `buf`'s view), `lens[i]` bytes long. With `vnet`,
   * frame i's virtio_net_hdr goes to `vnet[i*10, i*10+10)` and `lens` exclude it. If nothing
   * was ready and `timeoutMs` != 0, polls the tap and `wakeFd` (if >= 0) for up to
   * `timeoutMs` (-1 = forever) and tries once more. Returns the count, or -errno if the
   * first read failed with an error other than EAGAIN/EINTR. `flags` (READ_POLL_FIRST,
   * READ_DRAIN_WAKE; default 0): with a timeout, poll before the first read; empty
   * `wakeFd` (one read) when poll() reports it readable. Without READ_DRAIN_WAKE it does
   * not drain `wakeFd`.
   */
  readBatch(
    fd: number,
    buf: Uint8Array,
    start: number,
    end: number,
    maxFrame: number,
    offsets: Int32Array,
    lens: Int32Array,
    maxCount: number,
    timeoutMs: number,
    wakeFd: number,
    vnet: Uint8Array | null,
    flags?: number,
  ): number;
  /**
   * Writes frames `first .. first+count-1` (`buf[offsets[i], offsets[i]+lens[i])`, preceded
   * by `vnet[i*10, i*10+10)` when `vnet` is given). Stops at EAGAIN; returns how many frames
   * were consumed. A frame failing with another errno is skipped and counted:
   * `errors[0] += 1`, `errors[1] = errno`.
   */
  writeBatch(
    fd: number,
    buf: Uint8Array,
    offsets: Int32Array,
    lens: Int32Array,
    first: number,
    count: number,
    vnet: Uint8Array | null,
    errors: Int32Array,
  ): number;
  /**
   * writeBatch for frames that end in pieces of other memory (scatter-gather): frame i is
   * `buf[offsets[i], +lens[i])` followed by `pieceCount[i]` pieces from `pieceFirst[i]`,
   * piece j being `pieces[j][pieceOff[j], +pieceLen[j])`; one writev() per frame with
   * pieces, a write() per frame without. At most 15 pieces per frame and 1 024 per call.
   */
  writeGather(
    fd: number,
    buf: Uint8Array,
    offsets: Int32Array,
    lens: Int32Array,
    first: number,
    count: number,
    pieceFirst: Int32Array,
    pieceCount: Int32Array,
    pieces: Array<Uint8Array | null>,
    pieceOff: Int32Array,
    pieceLen: Int32Array,
    errors: Int32Array,
  ): number;
  /** A new eventfd (EFD_NONBLOCK | EFD_CLOEXEC). */
  eventfd(): number;
  /** Adds 1 to an eventfd, waking a readBatch that polls it. */
  eventfdSignal(fd: number): void;
  /** Reads an eventfd until EAGAIN; returns the drained count. */
  eventfdDrain(fd: number): number;
  /** close(2). */
  close(fd: number): void;
  /** poll(2) for POLLIN on one fd; true if it became readable within `timeoutMs` (-1 = forever). */
  pollReadable(fd: number, timeoutMs: number): boolean;
  /**
   * A waker on the calling thread's event loop: when `fd` (an eventfd) becomes readable it
   * drains it and calls `callback(false)`; when a deadline set with wakerArm passes it
   * calls `callback(true)`. Callbacks run as I/O callbacks (microtasks after each). It
   * keeps the loop alive until wakerClose.
   */
  wakerOpen(fd: number, callback: (timedOut: boolean) => void): Waker;
  /** Sets the waker's deadline `timeoutMs` from now (replacing the last); negative: none. */
  wakerArm(waker: Waker, timeoutMs: number): void;
  /** Stops the waker; no callback runs after it. Idempotent. */
  wakerClose(waker: Waker): void;
  /** The calling thread's kernel thread id (gettid(2)). */
  threadId(): number;
  /** sched_setscheduler(tid, policy) for SCHED_OTHER (0) or SCHED_BATCH (3), nice kept; tid 0: the calling thread. Throws the errno (ESRCH, EPERM). */
  setThreadPolicy(tid: number, policy: number): void;
  /** sched_getscheduler(tid): 0 SCHED_OTHER, 3 SCHED_BATCH, ...; tid 0: the calling thread. */
  threadPolicy(tid: number): number;
  /** sched_getaffinity(tid): the CPUs the thread may run on, ascending; tid 0: the calling thread. */
  threadAffinity(tid: number): number[];
  /** sched_setaffinity(tid, cpus); tid 0: the calling thread. Throws the errno (EINVAL: none of them allowed here, ESRCH, EPERM). */
  setThreadAffinity(tid: number, cpus: number[]): void;
}

/** An opaque handle of the addon's waker (a libuv poll + timer pair on one thread's loop). */
export type Waker = { readonly __waker: unique symbol };

/** Fields the native addon sets on the errors it throws. */
interface NativeError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
}

/**
 * A TAP setup failure with an errno-style `code` ('EPERM', 'EBUSY', 'ENOENT', ...) and a
 * message that says what to do about it.
 */
export class TapError extends Error {
  /** errno name, e.g. 'EBUSY'. */
  readonly code: string;
  /** The failing syscall or ioctl, e.g. 'TUNSETIFF', when known. */
  readonly syscall: string | undefined;
  /** The interface the operation was about. */
  readonly ifname: string;

  /** Builds a TapError; `cause` keeps the native error for debugging. */
  constructor(code: string, message: string, ifname: string, syscall?: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'TapError';
    this.code = code;
    this.ifname = ifname;
    this.syscall = syscall;
  }
}

/**
 * Turns an error thrown by the native addon into a TapError with an actionable message.
 * Errors without an errno `code` (TypeError, RangeError: bugs) are returned unchanged.
 */
export function toTapError(err: unknown, ifname: string): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const e = err as NativeError;
  if (typeof e.code !== 'string' || !e.code.startsWith('E')) return err;
  const code = e.code;
  const sc = e.syscall;
  const name = ifname || 'the tap';
  let msg: string;
  if ((code === 'EPERM' || code === 'EACCES') && (sc === 'open' || sc === 'TUNSETIFF')) {
    msg = `opening /dev/net/tun needs root or CAP_NET_ADMIN (${sc} ${name}: ${code}); run as root, or give node the capability (setcap cap_net_admin+ep "$(command -v node)")`;
  } else if ((code === 'EPERM' || code === 'EACCES') && sc?.startsWith('SIOC')) {
    msg = `configuring ${name} (${sc}) needs root or CAP_NET_ADMIN in its network namespace`;
  } else if ((code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO') && sc === 'open') {
    msg = `/dev/net/tun is missing: load the tun module or pass --device /dev/net/tun to the container (${code})`;
  } else if (code === 'EBUSY' && sc === 'TUNSETIFF') {
    msg = `${name} is in use by another process (or exists with different flags, e.g. multi-queue); close the other user or pick another name`;
  } else if (code === 'EINVAL' && sc === 'TUNSETIFF' && ifname.length > 15) {
    msg = `interface name "${ifname}" is too long: Linux allows at most 15 bytes`;
  } else if (code === 'EINVAL' && sc === 'TUNSETIFF') {
    msg = `${name} exists with flags stackd cannot attach with: stackd opens a single-queue TAP (IFF_TAP|IFF_NO_PI), but ${name} is a multi-queue TAP, a TUN device or not a tun/tap interface at all; delete it (ip link del ${name}) or pick another name`;
  } else if (code === 'EINVAL' && sc === 'TUNSETOFFLOAD') {
    msg = `the kernel rejected the offload flags for ${name}: TUN_F_TSO* needs TUN_F_CSUM (and stackd needs the vnet header for any TSO)`;
  } else if (code === 'EINVAL' && sc === 'SIOCSIFMTU') {
    msg = `the kernel rejected the MTU of ${name}: a TAP takes 68..65521`;
  } else if (code === 'ENODEV' && sc?.startsWith('SIOC')) {
    msg = `${name} does not exist in this network namespace (${sc})`;
  } else {
    msg = `${name}: ${e.message}`;
  }
  return new TapError(code, msg, ifname, sc, err);
}

let addon: TapAddon | undefined;

/** Loads (once) build/Release/stackd_tap.node; throws TapError ENOENT if it was not built. */
export function loadTapAddon(): TapAddon {
  if (addon) return addon;
  const path = join(packageRoot(), 'build/Release/stackd_tap.node');
  try {
    addon = createRequire(import.meta.url)(path) as TapAddon;
  } catch (err) {
    throw new TapError(
      'ENOENT',
      `cannot load the native TAP addon ${path}: build it with "npm run install" (node-gyp rebuild; needs a C compiler and Node headers): ${(err as Error).message}`,
      '',
      'dlopen',
      err,
    );
  }
  return addon;
}

/** Options of TapDevice.open. */
export interface TapOpenOptions {
  /** Prepend a 10-byte virtio_net_hdr to every frame (IFF_VNET_HDR + TUNSETVNETHDRSZ 10). */
  vnetHdr?: boolean;
  /** TUN_F_* flags for TUNSETOFFLOAD (TSO flags need vnetHdr and TUN_F_CSUM). Omitted = leave. */
  offload?: number;
  /** MTU to set when bringing the link up (0 or omitted = leave as is). */
  mtu?: number;
  /** Bring the link up (default true); false leaves it as it is. */
  up?: boolean;
}

/** An open TAP device: one fd on /dev/net/tun attached to one interface. */
export class TapDevice {
  /** The interface name the kernel used. */
  readonly name: string;
  /** Whether frames carry a 10-byte virtio_net_hdr (pass a `vnet` array to the batch calls). */
  readonly vnetHdr: boolean;
  readonly #addon: TapAddon;
  #fd: number;

  private constructor(a: TapAddon, fd: number, name: string, vnetHdr: boolean) {
    this.#addon = a;
    this.#fd = fd;
    this.name = name;
    this.vnetHdr = vnetHdr;
  }

  /**
   * Opens (creating a non-persistent TAP, or attaching to an existing persistent one) the
   * TAP `name` in the calling process's network namespace, sets the vnet header size and
   * offload flags if asked, and brings the link up with `mtu` unless `up === false`.
   * Throws TapError with an actionable message.
   */
  static open(name: string, opts: TapOpenOptions = {}): TapDevice {
    const a = loadTapAddon();
    const vnetHdr = opts.vnetHdr === true;
    if (opts.offload !== undefined && (opts.offload & (TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)) !== 0 && !vnetHdr) {
      throw new TapError('EINVAL', `TSO offload on ${name} needs vnetHdr: true (the GSO size travels in the virtio_net_hdr)`, name, 'TUNSETOFFLOAD');
    }
    let h: TapHandle;
    try {
      h = a.open(name, vnetHdr);
    } catch (err) {
      throw toTapError(err, name);
    }
    try {
      if (vnetHdr) a.setVnetHdrSize(h.fd, VNET_HDR_LEN);
      if (opts.offload !== undefined) a.setOffload(h.fd, opts.offload);
      if (opts.up !== false) a.linkUp(h.name, opts.mtu ?? 0);
    } catch (err) {
      a.close(h.fd);
      throw toTapError(err, h.name);
    }
    return new TapDevice(a, h.fd, h.name, vnetHdr);
  }

  /**
   * A TapDevice over an fd another thread opened (shard workers write to the I/O thread's
   * TAP). The caller must not close() it: the opener owns the fd.
   */
  static attach(fd: number, name: string, vnetHdr: boolean): TapDevice {
    return new TapDevice(loadTapAddon(), fd, name, vnetHdr);
  }

  /** The /dev/net/tun fd, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * TapAddon.readBatch on this device. `vnet` must be non-null exactly when the device was
   * opened with vnetHdr. Returns the frame count or -errno (-EBADF once closed).
   */
  readBatch(
    buf: Uint8Array,
    start: number,
    end: number,
    maxFrame: number,
    offsets: Int32Array,
    lens: Int32Array,
    maxCount: number,
    timeoutMs: number,
    wakeFd: number,
    vnet: Uint8Array | null,
    flags = 0,
  ): number {
    if (this.vnetHdr !== (vnet !== null)) throw new TypeError(`readBatch on ${this.name}: pass a vnet array exactly when the device has vnetHdr`);
    return this.#addon.readBatch(this.#fd, buf, start, end, maxFrame, offsets, lens, maxCount, timeoutMs, wakeFd, vnet, flags);
  }

  /**
   * TapAddon.writeBatch on this device. `vnet` must be non-null exactly when the device was
   * opened with vnetHdr. Returns frames consumed; per-frame errors go to `errors`.
   */
  writeBatch(
    buf: Uint8Array,
    offsets: Int32Array,
    lens: Int32Array,
    first: number,
    count: number,
    vnet: Uint8Array | null,
    errors: Int32Array,
  ): number {
    if (this.vnetHdr !== (vnet !== null)) throw new TypeError(`writeBatch on ${this.name}: pass a vnet array exactly when the device has vnetHdr`);
    return this.#addon.writeBatch(this.#fd, buf, offsets, lens, first, count, vnet, errors);
  }

  /**
   * TapAddon.writeBatch of frames that carry their virtio_net_hdr in front of them
   * (`offsets[i]` points at the header, `lens[i]` counts it): one plain write() each.
   * Only for a device opened with vnetHdr.
   */
  writeBatchWithHeaders(buf: Uint8Array, offsets: Int32Array, lens: Int32Array, first: number, count: number, errors: Int32Array): number {
    if (!this.vnetHdr) throw new TypeError(`writeBatchWithHeaders on ${this.name}: the device has no vnet header`);
    return this.#addon.writeBatch(this.#fd, buf, offsets, lens, first, count, null, errors);
  }

  /**
   * writeBatchWithHeaders for frames that may end in pieces of other memory (the
   * FrameBatch's pieces, base/frame-batch.ts): TapAddon.writeGather. Only for a device
   * opened with vnetHdr.
   */
  writeGatherWithHeaders(
    buf: Uint8Array, offsets: Int32Array, lens: Int32Array, first: number, count: number,
    pieceFirst: Int32Array, pieceCount: Int32Array, pieces: Array<Uint8Array | null>, pieceOff: Int32Array, pieceLen: Int32Array, errors: Int32Array,
  ): number {
    if (!this.vnetHdr) throw new TypeError(`writeGatherWithHeaders on ${this.name}: the device has no vnet header`);
    return this.#addon.writeGather(this.#fd, buf, offsets, lens, first, count, pieceFirst, pieceCount, pieces, pieceOff, pieceLen, errors);
  }

  /** Marks the device persistent (it outlives this fd) or not. */
  setPersist(persist: boolean): void {
    try {
      this.#addon.setPersist(this.#fd, persist);
    } catch (err) {
      throw toTapError(err, this.name);
    }
  }

  /** Closes the fd (a non-persistent TAP disappears). Idempotent. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    this.#addon.close(fd);
  }
}
