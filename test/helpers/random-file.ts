/**
 * A file of pseudo-random bytes for transfer tests (a sha256 per 64 KiB mixed with a
 * xorshift stream: incompressible and not periodic), and its sha256.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';

/** Writes `bytes` (a multiple of 4) pseudo-random bytes to `path`; returns their sha256 (hex). */
export function writeRandomFile(path: string, bytes: number): string {
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < data.length; i += 65536) createHash('sha256').update(String(i)).digest().copy(data, i);
  let x = 0x9e3779b9;
  for (let i = 0; i < data.length; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    data.writeUInt32LE((data.readUInt32LE(i) ^ x) >>> 0, i);
  }
  writeFileSync(path, data);
  return createHash('sha256').update(data).digest('hex');
}
