/**
 * Byte copy between two Uint8Arrays (possibly over different SharedArrayBuffers) at
 * offsets, without allocating for short copies. Longer copies use `TypedArray.set`
 * over a subarray view (one short-lived view object; the copy itself is a memcpy).
 */

/** Copies `len` bytes from src[srcOff..] to dst[dstOff..]. Ranges must not overlap unless src === dst. */
export function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, len: number): void {
  if (src === dst) {
    dst.copyWithin(dstOff, srcOff, srcOff + len);
  } else if (len <= 96) {
    for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i]!;
  } else {
    dst.set(src.subarray(srcOff, srcOff + len), dstOff);
  }
}
