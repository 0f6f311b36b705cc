/**
 * The bytes of the HTTP service's GET /bytes/N (src/services/http.ts): byte i is
 * ((j × 0x9E3779B1) mod 2^32) >> 24 with j = i mod 65521; tests compare a download's
 * sha256 with patternSha256(N).
 */
import { createHash } from 'node:crypto';

/** sha256 (hex) of the first n bytes of the pattern. */
export function patternSha256(n: number): string {
  const period = Buffer.alloc(65521);
  for (let j = 0; j < 65521; j++) period[j] = Math.imul(j, 0x9e3779b1) >>> 24;
  const h = createHash('sha256');
  for (let left = n; left > 0; left -= period.length) h.update(period.subarray(0, Math.min(left, period.length)));
  return h.digest('hex');
}
