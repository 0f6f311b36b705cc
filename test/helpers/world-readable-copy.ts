/**
 * A copy of the parts of the package that a test runs as an unprivileged user (uid 65534
 * through setpriv), in a fresh world-readable directory under os.tmpdir(). Such tests
 * must not depend on where the checkout lives: a clone under /root or inside a 0700
 * `mktemp -d` cannot be entered by that user, and neither can its files be read.
 *
 * The copy keeps the package layout (package.json at its root, so packageRoot() finds
 * it), optionally with the runtime dependencies from node_modules: the packages reachable
 * from package.json's dependencies and optionalDependencies, resolved the way Node does
 * (nearest node_modules first). Directories get mode 0755, files 0644 (0755 if executable).
 */
import { chmodSync, cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { packageRoot } from '../../src/phy/package-root.js';

/** The copy's root (it holds package.json) and its removal. */
export interface WorldReadableCopy {
  root: string;
  remove: () => void;
}

/**
 * Copies `paths` (relative to the package root; files or directories) and, with
 * `runtimeDeps`, the runtime node_modules into a new world-readable directory.
 */
export function worldReadableCopy(paths: string[], opts: { runtimeDeps?: boolean } = {}): WorldReadableCopy {
  const from = packageRoot();
  const root = mkdtempSync(join(tmpdir(), 'stackd-unprivileged-'));
  try {
    const all = [...paths, ...(opts.runtimeDeps ? runtimePackageDirs(from).map((d) => relative(from, d)) : [])];
    for (const p of all) cpSync(join(from, p), join(root, p), { recursive: true, dereference: true });
    makeWorldReadable(root);
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Every package directory reachable from root's dependencies, outermost first, none inside another. */
export function runtimePackageDirs(root: string): string[] {
  const found = new Set<string>();
  const visit = (dir: string): void => {
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const optional = new Set(Object.keys(pj.optionalDependencies ?? {}));
    for (const name of new Set([...Object.keys(pj.dependencies ?? {}), ...optional])) {
      const at = resolvePackage(root, dir, name);
      if (at === undefined) {
        if (optional.has(name)) continue;
        throw new Error(`${name}, a dependency of ${dir}, is not installed (run npm ci)`);
      }
      if (!found.has(at)) {
        found.add(at);
        visit(at);
      }
    }
  };
  visit(root);
  const dirs = [...found].sort();
  return dirs.filter((d) => !dirs.some((outer) => d.startsWith(outer + sep)));
}

/** Node's lookup of package `name` from `dir`: dir/node_modules/name, then each parent's, up to root. */
function resolvePackage(root: string, dir: string, name: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const candidate = join(d, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (d === root || dirname(d) === d) return undefined;
  }
}

function makeWorldReadable(path: string): void {
  const st = lstatSync(path);
  if (st.isDirectory()) {
    chmodSync(path, 0o755);
    for (const entry of readdirSync(path)) makeWorldReadable(join(path, entry));
  } else if (st.isFile()) {
    chmodSync(path, st.mode & 0o111 ? 0o755 : 0o644);
  }
}
