/**
 * TCP sequence number arithmetic (RFC 9293 section 3.4; RFC 1982 serial number
 * arithmetic with SERIAL_BITS = 32).
 *
 * Sequence numbers are uint32 numbers (`>>> 0`). Comparisons are modulo 2^32: `a` is
 * before `b` when the signed 32-bit difference `(a - b) | 0` is negative, so two
 * numbers compare correctly while they are less than 2^31 apart (the window limit of
 * RFC 7323 section 2.3 keeps every in-flight number well inside that). Exactly 2^31
 * apart, `seqLt(a, b)` and `seqLt(b, a)` are both true (RFC 1982 leaves it undefined).
 * Plain functions on numbers: nothing allocates.
 *
 * Storage: a per-connection field that holds a sequence number (or a TSval) keeps the
 * same 32 bits as an int32 (`v | 0`) and hands them out as uint32 (`>>> 0`) through an
 * accessor. V8 keeps an int32 field as a small integer inside the object; a field that
 * ever held a number above 2^31 becomes a boxed double in every object of its class
 * (16 bytes each, ~300 bytes per idle connection end over the sender's and receiver's
 * fields: issue 8 item 3).
 */

/** `a + n` modulo 2^32 (`n` may be negative). */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed 32-bit difference `a - b`: how far `a` is ahead of `b` (negative: behind). */
export function seqSub(a: number, b: number): number {
  return (a - b) | 0;
}

/** `a < b` modulo 2^32. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** `a <= b` modulo 2^32. */
export function seqLeq(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** `a > b` modulo 2^32. */
export function seqGt(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

/** `a >= b` modulo 2^32. */
export function seqGeq(a: number, b: number): boolean {
  return ((b - a) | 0) <= 0;
}

/** The later of `a` and `b` modulo 2^32 (as uint32). */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) < 0 ? b >>> 0 : a >>> 0;
}

