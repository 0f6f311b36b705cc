/**
 * The receive buffer of a connection: in-order bytes (RFC 9293 3.3.1 receive sequence
 * space, below RCV.NXT) the application has not consumed yet. Its free space is what the
 * receiver may advertise as RCV.WND (RFC 9293 3.8.6.2.2; the window policy itself is
 * the receiver's).
 *
 * A ring buffer allocated lazily and grown by doubling up to `capacity`, so an idle
 * connection with a 1 MiB receive buffer costs nothing and a slow one only what it
 * holds. Bytes are copied in once (from the segment) and out once (into the Buffer handed
 * to stream.push()).
 *
 * Bounds: never holds more than `capacity` bytes; write() returns how much it accepted.
 */
import { copyBytes } from '../util/copy-bytes.js';

/** First allocation of the ring, bytes (or capacity if smaller). */
export const RECV_INITIAL = 4096;

/** In-order received bytes the application has not consumed; its free space is the receive window. */
export class RecvBuffer {
  /** Most bytes held at once; may be changed (lowering it below length only stops writes). */
  capacity: number;

  private ring = new Uint8Array(0);
  private head = 0;
  private len = 0;

  /** @param capacity most bytes held at once */
  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Bytes held. */
  get length(): number {
    return this.len;
  }

  /** Free space: capacity - length (0 if capacity was lowered below length). */
  get space(): number {
    const s = this.capacity - this.len;
    return s > 0 ? s : 0;
  }

  /** Bytes currently allocated for the ring (for /connections and tests). */
  get allocated(): number {
    return this.ring.length;
  }

  /** Copies in data (called with in-order bytes); returns bytes accepted (never more than space). */
  write(b: Uint8Array, off: number, len: number): number {
    const space = this.space;
    const n = len < space ? len : space;
    if (n <= 0) return 0;
    this.ensure(this.len + n);
    const ring = this.ring;
    const size = ring.length;
    let tail = this.head + this.len;
    if (tail >= size) tail -= size;
    const first = size - tail < n ? size - tail : n;
    copyBytes(b, off, ring, tail, first);
    if (first < n) copyBytes(b, off + first, ring, 0, n - first);
    this.len += n;
    return n;
  }

  /** Takes up to max bytes as one Buffer (for stream.push), or null when empty. */
  read(max: number): Buffer | null {
    const n = max < this.len ? Math.floor(max) : this.len;
    if (!(n > 0)) return null;
    const out = Buffer.allocUnsafe(n);
    const ring = this.ring;
    const size = ring.length;
    const first = size - this.head < n ? size - this.head : n;
    copyBytes(ring, this.head, out, 0, first);
    if (first < n) copyBytes(ring, 0, out, first, n - first);
    this.len -= n;
    this.head = this.len === 0 ? 0 : (this.head + n) % size;
    return out;
  }

  /** Grows the ring (doubling, up to capacity) so that `need` bytes fit; linearizes the data. */
  private ensure(need: number): void {
    const size = this.ring.length;
    if (need <= size) return;
    let cap = size * 2;
    if (cap < RECV_INITIAL) cap = RECV_INITIAL;
    if (cap < need) cap = need;
    const limit = this.capacity > need ? this.capacity : need;
    if (cap > limit) cap = limit;
    const nr = new Uint8Array(cap);
    const first = size - this.head < this.len ? size - this.head : this.len;
    if (first > 0) copyBytes(this.ring, this.head, nr, 0, first);
    if (first < this.len) copyBytes(this.ring, 0, nr, first, this.len - first);
    this.ring = nr;
    this.head = 0;
  }
}
