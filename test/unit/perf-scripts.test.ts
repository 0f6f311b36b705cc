/**
 * `npm run perf:<name>` for every script in perf/ (issue 8, item 7): each perf/*.ts that is
 * a script (not a module other scripts import) has a perf:<file name> entry in
 * package.json, every perf:* entry runs an existing perf/ source through `node dist/...`,
 * and each script answers --help from the build with a usage line and exit 0, without
 * needing root or starting a lab.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** perf/ files that other scripts import and that do nothing on their own (perf/runs/ holds more). */
const MODULES = new Set(['lab-bench']);

const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const perfEntries = Object.entries(scripts).filter(([k]) => k.startsWith('perf:'));
const perfFiles = readdirSync(join(ROOT, 'perf')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).filter((f) => !MODULES.has(f));

describe('perf scripts', () => {
  it('every perf/*.ts script has npm run perf:<its name>, running its build', () => {
    expect(perfFiles.length).toBeGreaterThan(5);
    for (const f of perfFiles) expect(scripts[`perf:${f}`], `perf:${f}`).toBe(`node dist/perf/${f}.js`);
  });

  it('every perf:* entry runs a perf/ source through node dist/perf/ (aliases included)', () => {
    for (const [name, cmd] of perfEntries) {
      const m = /^node dist\/perf\/([a-z0-9-]+)\.js$/.exec(cmd);
      expect(m, `${name}: ${cmd}`).not.toBeNull();
      expect(existsSync(join(ROOT, 'perf', `${m![1]}.ts`)), `${name}: perf/${m![1]}.ts`).toBe(true);
    }
  });

  it.each(perfFiles)('%s --help prints its usage and exits 0 (from the build)', (f) => {
    const js = join(ROOT, 'dist/perf', `${f}.js`);
    expect(existsSync(js), `${js}: run npm run build first`).toBe(true);
    const r = spawnSync(process.execPath, [js, '--help'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/usage: /);
  });
});
