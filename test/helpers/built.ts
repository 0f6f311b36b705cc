/**
 * The build (dist/) for tests that run built files as processes. `npm test` builds first
 * (pretest); a bare `vitest run` may find no build, so builtFile() runs tsc once then.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (this file is test/helpers/built.ts). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of dist/<rel>, building the package first if that file is missing. */
export function builtFile(rel: string): string {
  const path = join(ROOT, 'dist', rel);
  if (!existsSync(path)) {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
  }
  return path;
}
