/**
 * Addresses and big-endian field access: IPv4 addresses and network byte order
 * (RFC 791 section 3.2 and appendix B, RFC 950 subnet masks, RFC 4632 prefix
 * lengths) and IEEE 802 48-bit MAC addresses.
 *
 * IPv4 addresses are uint32 numbers (`>>> 0`); MAC addresses are 48-bit numbers,
 * exact in a double (`hi16 * 2^32 + lo32`). Readers and writers work in place over a
 * Uint8Array at an offset and allocate nothing. Parsing and formatting are for
 * configuration and logs, not the hot path: parsers return NaN on bad input.
 */

/** 2^32, the weight of the top 16 bits of a 48-bit MAC number. */
const TWO32 = 4294967296;

/** The Ethernet broadcast address ff:ff:ff:ff:ff:ff as a 48-bit number. */
export const BROADCAST_MAC = 0xffffffffffff;

/** Big-endian uint16 at `b[o]`. */
export function readU16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/** Store the low 16 bits of `v` big-endian at `b[o]`. */
export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

/** Big-endian uint32 at `b[o]` (0..2^32-1). */
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Store the low 32 bits of `v` big-endian at `b[o]`. */
export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** IPv4 address (uint32) stored in network order at `b[o]`. */
export function readIpv4(b: Uint8Array, o: number): number {
  return readU32(b, o);
}

/** Store IPv4 address `v` (uint32) in network order at `b[o]`. */
export function writeIpv4(b: Uint8Array, o: number, v: number): void {
  writeU32(b, o, v);
}

/** 48-bit MAC address stored at `b[o]` (6 bytes, first byte most significant). */
export function readMac(b: Uint8Array, o: number): number {
  return ((b[o] << 8) | b[o + 1]) * TWO32 + readU32(b, o + 2);
}

/** Store 48-bit MAC address `v` at `b[o]` (6 bytes). */
export function writeMac(b: Uint8Array, o: number, v: number): void {
  const lo = v % TWO32;
  const hi = (v - lo) / TWO32;
  b[o] = hi >>> 8;
  b[o + 1] = hi;
  writeU32(b, o + 2, lo);
}

/**
 * Netmask of a prefix length as a uint32: 24 -> 0xffffff00. Lengths are clamped
 * to 0..32 (config code validates the range before using it).
 */
export function prefixMask(prefixLen: number): number {
  if (!(prefixLen > 0)) return 0;
  if (prefixLen >= 32) return 0xffffffff;
  return (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** True when `addr` is inside `net`/`prefixLen` (the host bits of `net` are ignored). */
export function ipv4InSubnet(addr: number, net: number, prefixLen: number): boolean {
  return ((addr ^ net) & prefixMask(prefixLen)) === 0;
}

/**
 * Parse dotted-quad IPv4 text ("10.0.0.1") to a uint32. Exactly four decimal parts
 * 0..255 without leading zeros (so "010" is never read as octal); NaN otherwise.
 */
export function parseIpv4(s: string): number {
  if (typeof s !== 'string') return NaN;
  const parts = s.split('.');
  if (parts.length !== 4) return NaN;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return NaN;
    const n = Number(p);
    if (n > 255) return NaN;
    v = v * 256 + n;
  }
  return v;
}

/** Format a uint32 IPv4 address as dotted-quad text. */
export function formatIpv4(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/**
 * Parse MAC text ("02:00:5e:10:00:01", case-insensitive; ':' or '-' as separator,
 * used consistently) to a 48-bit number; NaN otherwise.
 */
export function parseMac(s: string): number {
  if (typeof s !== 'string') return NaN;
  if (!/^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$/.test(s)) return NaN;
  let v = 0;
  for (let i = 0; i < 6; i++) v = v * 256 + parseInt(s.slice(i * 3, i * 3 + 2), 16);
  return v;
}

/** Format a 48-bit MAC number as lowercase colon-separated text ("02:00:5e:10:00:01"). */
export function formatMac(n: number): string {
  const lo = n % TWO32;
  const hi = (n - lo) / TWO32;
  const h = (x: number): string => (x & 0xff).toString(16).padStart(2, '0');
  return `${h(hi >>> 8)}:${h(hi)}:${h(lo >>> 24)}:${h(lo >>> 16)}:${h(lo >>> 8)}:${h(lo)}`;
}
