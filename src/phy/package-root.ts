/**
 * Finds the package root (the folder holding stackd's package.json), so that code run
 * from src/ (tests) and from dist/ (the built CLI) finds the native addon and the
 * worker entry files alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** Absolute path of the stackd package root. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'stackd') return (cached = dir);
      } catch {
        /* keep looking upwards */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('stackd package root not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
