/**
 * test/helpers/world-readable-copy.ts: which node_modules packages count as runtime
 * dependencies (Node's nearest-node_modules lookup, optional ones may be missing, a
 * missing required one is an error) and that the copy is readable by anyone even when
 * the source is not.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runtimePackageDirs, worldReadableCopy } from '../helpers/world-readable-copy.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function pkg(dir: string, deps: Record<string, string> = {}, optional: Record<string, string> = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: dir, dependencies: deps, optionalDependencies: optional, devDependencies: { dev: '1' } }));
}

describe('runtimePackageDirs', () => {
  it('follows dependencies and optionalDependencies the way Node resolves them, not devDependencies', () => {
    const root = mkdtempSync(join(tmpdir(), 'wrc-'));
    made.push(root);
    pkg(root, { a: '1', '@s/c': '1' });
    pkg(join(root, 'node_modules/a'), { b: '2' }, { gone: '1' }); // an optional dependency may be missing
    pkg(join(root, 'node_modules/a/node_modules/b'), { d: '1' }); // a's own b (nested) ...
    pkg(join(root, 'node_modules/b'), { never: '1' }); // ... not the hoisted one, which nobody reaches
    pkg(join(root, 'node_modules/d')); // reached from the nested b through the parents
    pkg(join(root, 'node_modules/@s/c'));
    pkg(join(root, 'node_modules/dev'));
    expect(runtimePackageDirs(root).map((d) => d.slice(root.length + 1))).toEqual([
      'node_modules/@s/c', 'node_modules/a', 'node_modules/d', // a/node_modules/b is inside a
    ]);
  });

  it('names a missing required dependency', () => {
    const root = mkdtempSync(join(tmpdir(), 'wrc-'));
    made.push(root);
    pkg(root, { a: '1' });
    pkg(join(root, 'node_modules/a'), { missing: '1' });
    expect(() => runtimePackageDirs(root)).toThrow(`missing, a dependency of ${join(root, 'node_modules/a')}, is not installed`);
  });

  it("finds this package's runtime dependencies and none of its dev tools", () => {
    const names = runtimePackageDirs(join(import.meta.dirname, '../..')).map((d) => d.split('node_modules/').pop());
    expect(names).toEqual(expect.arrayContaining(['comlink', 'pino', 'prom-client']));
    expect(names).not.toContain('vitest');
    expect(names).not.toContain('typescript');
  });
});

describe('worldReadableCopy', () => {
  it('copies with the package layout into a directory anyone can enter (mkdtemp makes 0700), files 0644', () => {
    const copy = worldReadableCopy(['package.json', 'test/integration/fixtures/tap-child.mjs']);
    made.push(copy.root);
    expect(statSync(copy.root).mode & 0o777).toBe(0o755);
    expect(statSync(join(copy.root, 'test/integration/fixtures')).mode & 0o777).toBe(0o755);
    expect(statSync(join(copy.root, 'package.json')).mode & 0o777).toBe(0o644);
    expect((JSON.parse(readFileSync(join(copy.root, 'package.json'), 'utf8')) as { name: string }).name).toBe('stackd');
    copy.remove();
    expect(() => statSync(copy.root)).toThrow(/ENOENT/);
  });
});
