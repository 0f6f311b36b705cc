/**
 * The layering rule of src/, checked by `npm run lint` and by test/unit/layering.test.ts:
 * a folder may import only from folders below it, in this order (lowest first):
 *
 *   wire, util → base → l2 → l3 → tcp, udp → iface → socket → services → phy →
 *   dataplane → control → cli
 *
 * Folders on one rank (wire and util; the transports tcp and udp) do not import each
 * other. Besides the order, the protocol core (wire … iface) stays sans-I/O: it imports
 * no threads, files, sockets, processes or logger (the node: modules and packages listed
 * in CORE_FORBIDDEN). A folder under src/ that is not in RANKS is itself an error, so a
 * new layer has to be placed on purpose.
 *
 *   node dist/scripts/check-layers.js      # prints every violation, exits 1 if any
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Rank of each top-level folder of src/ (lower ranks may not import higher ones). */
export const RANKS: Readonly<Partial<Record<string, number>>> = {
  wire: 0,
  util: 0,
  types: 0,
  base: 1,
  l2: 2,
  l3: 3,
  tcp: 4,
  udp: 4,
  iface: 5,
  socket: 6,
  services: 7,
  phy: 8,
  dataplane: 9,
  control: 10,
  cli: 11,
};

/** Folders of the sans-I/O protocol core. */
export const CORE: ReadonlySet<string> = new Set(['wire', 'util', 'base', 'l2', 'l3', 'tcp', 'udp', 'iface']);

/** Modules the protocol core must not import (threads, I/O, logging). */
export const CORE_FORBIDDEN: ReadonlySet<string> = new Set([
  'node:worker_threads', 'node:fs', 'node:fs/promises', 'node:net', 'node:dgram', 'node:child_process',
  'node:http', 'node:cluster', 'pino', 'comlink', 'piscina',
]);

/** One broken rule. */
export interface LayerViolation {
  file: string;
  specifier: string;
  why: string;
}

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;

/** Every module specifier a TypeScript source imports or re-exports (static, dynamic, type-only). */
export function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(IMPORT_RE)) {
    const spec = m.at(1) ?? m.at(2) ?? m.at(3); // the group of the alternative that matched
    if (spec !== undefined) out.push(spec);
  }
  return out;
}

/** Top-level folder under `srcDir` of an absolute path, or null when outside it. */
function folderOf(srcDir: string, abs: string): string | null {
  const rel = relative(srcDir, abs);
  if (rel.startsWith('..') || rel === '') return null;
  const first = rel.split(sep)[0];
  return rel.includes(sep) ? first : null;
}

/**
 * Checks one file (path relative to nothing: `file` is absolute, inside `srcDir`) with
 * the given source text. Returns its violations.
 */
export function checkFile(srcDir: string, file: string, source: string): LayerViolation[] {
  const from = folderOf(srcDir, file);
  const shown = relative(srcDir, file);
  if (from === null) return [{ file: shown, specifier: '', why: 'a file directly in src/: put it in a layer folder' }];
  const rank = RANKS[from];
  if (rank === undefined) return [{ file: shown, specifier: '', why: `folder ${from}/ has no rank: add it to RANKS in scripts/check-layers.ts` }];
  const out: LayerViolation[] = [];
  for (const spec of importsOf(source)) {
    if (CORE.has(from) && CORE_FORBIDDEN.has(spec)) {
      out.push({ file: shown, specifier: spec, why: `the protocol core (${from}/) is sans-I/O: no ${spec}` });
      continue;
    }
    if (!spec.startsWith('.')) continue;
    const target = folderOf(srcDir, resolve(dirname(file), spec));
    if (target === null || target === from) continue;
    const tr = RANKS[target];
    if (tr === undefined) {
      out.push({ file: shown, specifier: spec, why: `imports ${target}/, which has no rank` });
    } else if (tr >= rank) {
      out.push({
        file: shown,
        specifier: spec,
        why: tr === rank ? `${from}/ and ${target}/ are on one rank and must not import each other` : `${from}/ (rank ${rank}) imports ${target}/ (rank ${tr}), a higher layer`,
      });
    }
  }
  return out;
}

/** All .ts files under `dir`, recursively. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Checks every .ts file under `srcDir`. */
export function checkTree(srcDir: string): LayerViolation[] {
  return tsFiles(srcDir).flatMap((f) => checkFile(srcDir, f, readFileSync(f, 'utf8')));
}

const script = process.argv.at(1);
if (script !== undefined && resolve(script) === fileURLToPath(import.meta.url)) {
  // dist/scripts/check-layers.js → the sources are in <root>/src.
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const v = checkTree(join(root, 'src'));
  for (const x of v) console.error(`${x.file}: ${x.specifier ? `'${x.specifier}': ` : ''}${x.why}`);
  if (v.length > 0) {
    console.error(`${v.length} layering violation(s); the order is in scripts/check-layers.ts`);
    process.exit(1);
  }
  console.log('layers: ok');
}
