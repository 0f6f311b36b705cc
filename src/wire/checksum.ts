/**
 * The Internet checksum: RFC 1071 (computation), RFC 1624 (incremental update,
 * eqn. 3), the IPv4 pseudo-header sum of RFC 768 / RFC 793 section 3.1 and the IPv6
 * pseudo-header sum of RFC 8200 section 8.1.
 *
 * `onesSum` is the hot loop of the whole stack (IPv4 headers, ICMP, UDP). It sums the
 * 4-byte-aligned middle of the range as little-endian 32-bit words through a cached
 * `Uint32Array` over the underlying buffer, then byte-swaps the folded result: the
 * one's-complement sum is independent of byte order (RFC 1071 section 2(B)), and
 * 32-bit words fold into 16 bits because 2^16 = 1 (mod 2^16 - 1) (section 2(C)).
 * Words are accumulated in a double (exact below 2^53) and reduced to 16 bits
 * with exact integer folds. No allocation per call: a view is created only the first
 * time a given buffer is seen (small round-robin caches keyed on the Uint8Array and
 * on its buffer, so the RX and TX rings do not evict each other).
 */

/** True when this host stores integers little-endian (every platform Node ships on). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Below this length the byte loop beats the word loop's fixed cost. */
const WORD_PATH_MIN_LEN = 64;
/** Words summed between two reductions: keeps the double accumulator below 2^53. */
const CHUNK_WORDS = 1 << 20;
/** Number of cache entries (arrays, and separately buffers) whose word view is kept. */
const CACHE_SIZE = 4;
const EMPTY_VIEW = new Uint32Array(0);

// Cache keyed on the Uint8Array object itself: an identity compare, whereas reading
// `b.buffer` / `b.byteOffset` costs ~15 / ~7 ns each on Node 20. Holds strong
// references to at most CACHE_SIZE arrays and buffers.
const arrKeys: (Uint8Array | null)[] = [null, null, null, null];
const arrViews: Uint32Array[] = [EMPTY_VIEW, EMPTY_VIEW, EMPTY_VIEW, EMPTY_VIEW];
const arrBases: number[] = [0, 0, 0, 0];
let arrNext = 0;
// Second level keyed on the buffer, so that several arrays over one buffer share a view.
const bufKeys: (ArrayBufferLike | null)[] = [null, null, null, null];
const bufViews: Uint32Array[] = [EMPTY_VIEW, EMPTY_VIEW, EMPTY_VIEW, EMPTY_VIEW];
let bufNext = 0;
// Result of selectView (module state instead of a returned object: no allocation).
let selView: Uint32Array = EMPTY_VIEW;
let selBase = 0;

/** A whole-buffer Uint32Array view of `buf` covering at least `endWord` words. */
function bufferView(buf: ArrayBufferLike, endWord: number): Uint32Array {
  for (let i = 0; i < CACHE_SIZE; i++) {
    if (bufKeys[i] === buf) {
      const v = bufViews[i];
      if (v.length >= endWord) return v;
      // A resizable buffer grew since the view was made: replace it.
      const nv = new Uint32Array(buf, 0, buf.byteLength >>> 2);
      bufViews[i] = nv;
      return nv;
    }
  }
  const v = new Uint32Array(buf, 0, buf.byteLength >>> 2);
  bufKeys[bufNext] = buf;
  bufViews[bufNext] = v;
  bufNext = (bufNext + 1) % CACHE_SIZE;
  return v;
}

/**
 * Set selView/selBase to a word view of `b`'s buffer and `b.byteOffset`; the view
 * covers every whole word before byte `end` of `b`.
 */
function selectView(b: Uint8Array, end: number): void {
  for (let i = 0; i < CACHE_SIZE; i++) {
    if (arrKeys[i] === b) {
      const base = arrBases[i];
      let v = arrViews[i];
      if (v.length < (base + end) >>> 2) {
        v = bufferView(b.buffer, (base + end) >>> 2);
        arrViews[i] = v;
      }
      selView = v;
      selBase = base;
      return;
    }
  }
  const base = b.byteOffset;
  const v = bufferView(b.buffer, (base + end) >>> 2);
  arrKeys[arrNext] = b;
  arrViews[arrNext] = v;
  arrBases[arrNext] = base;
  arrNext = (arrNext + 1) % CACHE_SIZE;
  selView = v;
  selBase = base;
}

/**
 * Plain sum of the uint32 words a[w, we). A function of its own so that V8 optimises
 * this loop on its own feedback: inlined in onesSum it ran 3x slower on 64 KiB when
 * the first calls were large.
 */
function sumWords(a: Uint32Array, w: number, we: number): number {
  let s = 0;
  const we4 = we - 3;
  for (; w < we4; w += 4) s += a[w] + a[w + 1] + a[w + 2] + a[w + 3];
  for (; w < we; w++) s += a[w];
  return s;
}

/**
 * Reduce a non-negative sum of 16-bit (or 32-bit) words, below 2^53, to its folded
 * 16-bit form with end-around carries: 0 only for 0, else 1..0xffff. Exact integer
 * steps (2^32 = 2^16 = 1 mod 0xffff), no floating-point `%`.
 */
function foldSum(x: number): number {
  if (x > 0xffffffff) {
    const q = Math.floor(x / 4294967296);
    const r = x - q * 4294967296;
    x = q + (r >>> 16) + (r & 0xffff);
  }
  x = (x >>> 16) + (x & 0xffff); // <= 0x1fffe
  return (x >>> 16) + (x & 0xffff);
}

/**
 * Folded 16-bit one's-complement sum of `len` bytes of `b` from `off`, read as
 * big-endian 16-bit words, an odd trailing byte padded with zero (RFC 1071 section 4.1
 * without the final complement). Result is 0..0xffff; 0 only when every word is 0
 * and `acc` is 0. `acc` is a previous folded sum to continue from; chain only at
 * even byte boundaries.
 */
export function onesSum(b: Uint8Array, off: number, len: number, acc = 0): number {
  // Short ranges are faster byte-wise; the guard also keeps the <= 3-byte head below len.
  if (len < WORD_PATH_MIN_LEN || !HOST_LITTLE_ENDIAN) return onesSumPortable(b, off, len, acc);
  const end = off + len;
  selectView(b, end);
  const a = selView;
  const base = selBase;
  let i = off;
  // Head: big-endian bytes until the absolute position is 4-byte aligned.
  let be = acc;
  const head = (4 - ((base + off) & 3)) & 3;
  if (head === 1) {
    be += b[i] << 8;
  } else if (head === 2) {
    be += (b[i] << 8) | b[i + 1];
  } else if (head === 3) {
    be += ((b[i] << 8) | b[i + 1]) + (b[i + 2] << 8);
  }
  i += head;
  // Middle: aligned little-endian 32-bit words.
  const nw = (end - i) >>> 2;
  let w = (base + i) >>> 2;
  const we = w + nw;
  let le = 0;
  while (w < we) {
    const stop = we - w > CHUNK_WORDS ? w + CHUNK_WORDS : we;
    // foldSum gives 1..0xffff when nonzero, so the swap below keeps it nonzero.
    le = foldSum(le + sumWords(a, w, stop));
    w = stop;
  }
  i += nw << 2;
  // `le` is the byte-swapped sum of the middle when it starts at an even position
  // relative to `off`; when the head was odd the middle's bytes sit at swapped
  // positions already, so the little-endian sum is the right one as is.
  let mid = le;
  if ((head & 1) === 0) mid = ((le & 0xff) << 8) | (le >>> 8);
  // Tail: at most 3 bytes, their parity continues from the head's.
  let tail = 0;
  let hi = (head & 1) === 0;
  for (; i < end; i++) {
    tail += hi ? b[i] << 8 : b[i];
    hi = !hi;
  }
  return foldSum(be + mid + tail);
}

/**
 * Byte-at-a-time variant of `onesSum` with identical results, used for short ranges
 * (where it is faster) and on big-endian hosts. Exported for tests and benchmarks.
 */
export function onesSumPortable(b: Uint8Array, off: number, len: number, acc = 0): number {
  let hi = 0;
  let lo = 0;
  let i = off;
  const end = off + len;
  const end8 = end - 7;
  for (; i < end8; i += 8) {
    hi += b[i] + b[i + 2] + b[i + 4] + b[i + 6];
    lo += b[i + 1] + b[i + 3] + b[i + 5] + b[i + 7];
  }
  for (; i + 1 < end; i += 2) {
    hi += b[i];
    lo += b[i + 1];
  }
  if (i < end) hi += b[i];
  return foldSum(hi * 256 + lo + acc);
}

/**
 * The Internet checksum (RFC 1071): one's complement of `onesSum`, 0..0xffff.
 * Computed over a range whose checksum field holds the right value, it is 0.
 */
export function internetChecksum(b: Uint8Array, off: number, len: number, acc = 0): number {
  return ~onesSum(b, off, len, acc) & 0xffff;
}

/**
 * Folded sum of the IPv4 pseudo-header (RFC 768, RFC 793 section 3.1): source and
 * destination address (uint32), zero + protocol, and the transport `length`.
 */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  let s = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + (protocol & 0xff) + (length & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  return (s & 0xffff) + (s >>> 16);
}

/**
 * Folded sum of the IPv6 pseudo-header (RFC 8200 8.1): source and destination address,
 * the upper-layer packet length (32 bits) and the next header value, for TCP, UDP and
 * ICMPv6 over IPv6 given addresses as values.
 */
export function ipv6PseudoHeaderSum(
  src: Readonly<Uint32Array>, dst: Readonly<Uint32Array>, nextHeader: number, upperLength: number,
): number {
  let s = (nextHeader & 0xff) + (upperLength >>> 16) + (upperLength & 0xffff);
  for (let i = 0; i < 4; i++) s += (src[i] >>> 16) + (src[i] & 0xffff) + (dst[i] >>> 16) + (dst[i] & 0xffff);
  return foldSum(s);
}

/**
 * The same sum with the addresses read in place from the IPv6 header at b[ipOff] (its
 * 32 address bytes start at ipOff + 8): for checking a received packet.
 */
export function ipv6PseudoHeaderSumAt(b: Uint8Array, ipOff: number, nextHeader: number, upperLength: number): number {
  return onesSum(b, ipOff + 8, 32, (nextHeader & 0xff) + (upperLength >>> 16) + (upperLength & 0xffff));
}

/**
 * RFC 1624 eqn. 3 incremental update, HC' = ~(~HC + ~m + m'): the new value of a
 * stored checksum field after one 16-bit word of the covered data changes from
 * `oldWord` to `newWord`.
 */
export function adjustChecksum16(checksum: number, oldWord: number, newWord: number): number {
  let s = (~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}
