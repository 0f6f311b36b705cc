/**
 * Dockerfile and docker/client.Dockerfile, checked without Docker: parsed with
 * dockerfile-ast and linted with dockerfile-utils (the parser and validator behind the
 * VS Code Docker language server), then cross-checked against the repository: base
 * images, stages, every COPY source exists and survives .dockerignore, every file copied
 * out of the build stage is produced by that stage, the ENTRYPOINT is a copied
 * executable whose stackd path is a build output, and the HEALTHCHECK asks /health on
 * the socket stackd really listens on.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseStackdArgs } from '../../../src/cli/args.js';

// dockerfile-ast / dockerfile-utils are dev dependencies (see docs/labs.md). A missing one
// is a failure with the install command, never a skip.
async function load(): Promise<{ ast: typeof import('dockerfile-ast'); utils: typeof import('dockerfile-utils') }> {
  try {
    return { ast: await import('dockerfile-ast'), utils: await import('dockerfile-utils') };
  } catch (e) {
    throw new Error(`dev dependency missing: npm install --save-dev dockerfile-utils@0.16.3 dockerfile-ast@0.7.1 (${(e as Error).message})`, { cause: e });
  }
}
const { ast, utils } = await load();

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (p: string): string => readFileSync(ROOT + p, 'utf8');

interface Copy {
  from: string | null;
  chmod: string | null;
  sources: string[];
  dest: string; // absolute, resolved against WORKDIR
}
interface Stage {
  image: string; // name:tag
  name: string | null;
  copies: Copy[];
  runs: string[];
  env: Record<string, string>;
  healthcheck: { flags: Record<string, string>; args: string[] } | null;
  entrypoint: string[] | null;
  cmd: string[] | null;
}

/** Splits a parsed Dockerfile into stages with what the checks need. */
function stagesOf(text: string): Stage[] {
  const df = ast.DockerfileParser.parse(text);
  const stages: Stage[] = [];
  let workdir = '/';
  for (const ins of df.getInstructions()) {
    const kw = ins.getKeyword();
    const args = ins.getArguments().map((a) => a.getValue());
    if (ins instanceof ast.From) {
      const f = ins;
      stages.push({
        image: `${f.getImageName()}:${f.getImageTag()}`, name: f.getBuildStage(),
        copies: [], runs: [], env: {}, healthcheck: null, entrypoint: null, cmd: null,
      });
      workdir = '/';
      continue;
    }
    const st = stages.at(-1)!;
    if (kw === 'WORKDIR') workdir = posix.resolve(workdir, args[0]);
    if (ins instanceof ast.Copy) {
      const c = ins;
      const flag = (n: string) => c.getFlags().find((fl) => fl.getName() === n)?.getValue() ?? null;
      const dest = args.at(-1)!;
      st.copies.push({ from: flag('from'), chmod: flag('chmod'), sources: args.slice(0, -1), dest: posix.resolve(workdir, dest) + (dest.endsWith('/') ? '/' : '') });
    }
    if (kw === 'RUN') st.runs.push(args.join(' '));
    if (ins instanceof ast.Env) {
      for (const p of ins.getProperties()) st.env[p.getName()] = p.getUnescapedValue() ?? '';
    }
    if (ins instanceof ast.Healthcheck) {
      const h = ins;
      st.healthcheck = { flags: Object.fromEntries(h.getFlags().map((fl) => [fl.getName(), fl.getValue() ?? ''])), args };
    }
    if (ins instanceof ast.Entrypoint) st.entrypoint = ins.getJSONStrings().map((j) => j.getJSONValue());
    if (ins instanceof ast.Cmd) st.cmd = ins.getJSONStrings().map((j) => j.getJSONValue());
  }
  return stages;
}

/** .dockerignore patterns (no "!" exceptions are used) as path matchers. */
function ignored(path: string): boolean {
  const pats = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  expect(pats.some((p) => p.startsWith('!'))).toBe(false);
  const parts = path.split('/');
  return pats.some((p) => {
    // ** matches across directories, * and ? within one.
    const glob = (part: string) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
    const re = new RegExp('^' + p.replace(/^\//, '').split('**').map(glob).join('.*') + '$');
    // A pattern excludes the path itself or any directory above it.
    return parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')));
  });
}

const isExecutable = (p: string): boolean => (statSync(ROOT + p).mode & 0o111) !== 0;

describe('Dockerfile (stackd image)', () => {
  const text = read('Dockerfile');
  const stages = stagesOf(text);
  const [build, load, runtime] = stages as [Stage, Stage, Stage];

  it('lints clean with dockerfile-utils, and the linter does flag a broken file', () => {
    expect(utils.validate(text).map((d) => `${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`)).toEqual([]);
    expect(utils.validate(text.replace('HEALTHCHECK --interval=10s', 'HEALTHCHECK --interval=10parsecs')).length).toBeGreaterThan(0);
    expect(utils.validate(text + '\nFROMM scratch\n').length).toBeGreaterThan(0);
  });

  it('has three stages: build on node:20-bookworm, load and runtime (the last: the default target) on node:20-bookworm-slim', () => {
    expect(stages.map((s) => [s.image, s.name])).toEqual([
      ['node:20-bookworm', 'build'],
      ['node:20-bookworm-slim', 'load'],
      ['node:20-bookworm-slim', 'runtime'],
    ]);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(engines).toMatch(/^>=20\./);
  });

  it('build stage: npm ci (node-gyp addon + tsc via prepare), then prunes dev dependencies', () => {
    const run = build.runs.join(' && ');
    expect(run).toMatch(/npm ci\b/);
    expect(run).toMatch(/npm prune --omit=dev/);
    expect(run.indexOf('npm ci')).toBeLessThan(run.indexOf('npm prune'));
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.install).toMatch(/node-gyp rebuild/);
    expect(scripts.prepare).toMatch(/^tsc -p tsconfig\.json$/);
  });

  it('every COPY from the build context exists in the repo and is not excluded by .dockerignore', () => {
    const ctx = stages.flatMap((s) => s.copies.filter((c) => c.from === null).flatMap((c) => c.sources));
    expect(ctx.length).toBeGreaterThan(5);
    for (const src of ctx) {
      expect(existsSync(ROOT + src), `${src} exists`).toBe(true);
      expect(ignored(src), `${src} is sent to the builder`).toBe(false);
    }
    // And what the compiler needs is all there: every tsconfig include root is copied.
    const tsconfig = JSON.parse(read('tsconfig.json')) as { include: string[]; compilerOptions: { outDir: string; rootDir: string } };
    const copied = new Set(build.copies.flatMap((c) => c.sources));
    for (const inc of tsconfig.include) expect(copied.has(inc.split('/')[0]), inc).toBe(true);
    for (const f of ['package.json', 'package-lock.json', 'binding.gyp', 'tsconfig.json', 'native']) expect(copied.has(f), f).toBe(true);
    // The host's own build outputs never enter the context.
    for (const p of ['node_modules', 'dist', 'build', '.git']) expect(ignored(p), p).toBe(true);
  });

  it('copies out of the build stage only what that stage produces', () => {
    const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string; rootDir: string } };
    const target = (JSON.parse(read('binding.gyp').replace(/^#.*$/gm, '')) as { targets: { target_name: string }[] }).targets[0].target_name;
    const produced = new Set([
      '/app/node_modules', // npm ci, then npm prune
      `/app/build/Release/${target}.node`, // node-gyp (install script)
      `/app/${tsconfig.compilerOptions.outDir}`, // tsc (prepare script)
      ...build.copies.filter((c) => c.from === null).flatMap((c) => c.sources.map((s) => (c.dest.endsWith('/') ? c.dest + s : c.dest))),
    ]);
    const fromBuild = runtime.copies.filter((c) => c.from === 'build');
    expect(fromBuild.map((c) => c.sources[0])).toEqual(['/app/package.json', '/app/node_modules', '/app/build/Release/stackd_tap.node', '/app/dist']);
    for (const c of fromBuild) for (const s of c.sources) expect(produced.has(s), s).toBe(true);
    // The load stage takes the app without the addon (stackd-load opens no TAP).
    const loadFromBuild = load.copies.filter((c) => c.from === 'build');
    expect(loadFromBuild.map((c) => c.sources[0])).toEqual(['/app/package.json', '/app/node_modules', '/app/dist']);
    for (const c of loadFromBuild) for (const s of c.sources) expect(produced.has(s), s).toBe(true);
    // The runtime finds the addon and workers from package.json's folder (src/phy/package-root.ts).
    expect(runtime.copies.find((c) => c.sources[0] === '/app/package.json')?.dest).toBe('/app/package.json');
    expect(tsconfig.compilerOptions.rootDir).toBe('.');
  });

  it('ENTRYPOINT is the copied, executable stack-entrypoint.sh; the stackd it runs is a build output', () => {
    expect(runtime.entrypoint).toEqual(['/app/docker/stack-entrypoint.sh']);
    const copy = runtime.copies.find((c) => c.dest === '/app/docker/stack-entrypoint.sh');
    expect(copy?.from).toBeNull();
    expect(copy?.sources).toEqual(['docker/stack-entrypoint.sh']);
    expect(copy?.chmod).toBe('0755');
    expect(isExecutable('docker/stack-entrypoint.sh')).toBe(true);
    // The entrypoint runs node <its dir>/../dist/src/cli/stackd.js = /app/dist/src/cli/stackd.js,
    // which tsc makes from src/cli/stackd.ts (rootDir ".", outDir "dist"); package.json's bin agrees.
    expect(read('docker/stack-entrypoint.sh')).toContain('$HERE/../dist/src/cli/stackd.js');
    expect(existsSync(ROOT + 'src/cli/stackd.ts')).toBe(true);
    expect((JSON.parse(read('package.json')) as { bin: Record<string, string> }).bin.stackd).toBe('dist/src/cli/stackd.js');
    expect(runtime.cmd).toEqual([]);
  });

  it('load stage: nc, curl and ping for stackd-load and docker/load.sh, installed executable as its command', () => {
    const run = load.runs.join(' ');
    for (const pkg of ['netcat-openbsd', 'curl', 'iputils-ping']) expect(run, pkg).toMatch(new RegExp(`\\b${pkg}\\b`));
    expect(run).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
    const copy = load.copies.find((c) => c.from === null);
    expect(copy).toEqual({ from: null, chmod: '0755', sources: ['docker/load.sh'], dest: '/app/docker/load.sh' });
    expect(isExecutable('docker/load.sh')).toBe(true);
    expect(load.cmd).toEqual(['/app/docker/load.sh']);
    expect(load.entrypoint).toBeNull();
    // load.sh finds the tool at $HERE/../dist/load/stackd-load.js = /app/dist/load/stackd-load.js, built from load/stackd-load.ts.
    expect(read('docker/load.sh')).toContain('$HERE/../dist/load/stackd-load.js');
    expect(existsSync(ROOT + 'load/stackd-load.ts')).toBe(true);
  });

  it('installs iproute2 (entrypoint), arping (its duplicate-address check) and curl (HEALTHCHECK)', () => {
    const run = runtime.runs.join(' ');
    for (const pkg of ['iproute2', 'arping', 'curl']) expect(run, pkg).toMatch(new RegExp(`\\b${pkg}\\b`));
    expect(run).toMatch(/--no-install-recommends/);
    expect(run).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
  });

  it('HEALTHCHECK curls /health on the unix socket stackd listens on; ENV defaults match the CLI and compose', () => {
    const h = runtime.healthcheck!;
    expect(h.args[0]).toBe('CMD');
    expect(h.args).toContain('--unix-socket');
    expect(h.args.join(' ')).toMatch(/^CMD curl -fsS --max-time \d+ --unix-socket "\$STACKD_CONTROL" http:\/\/stackd\/health/);
    expect(Object.keys(h.flags).sort()).toEqual(['interval', 'retries', 'start-period', 'timeout']);
    const cli = parseStackdArgs(['--tap', runtime.env.STACKD_TAP]);
    expect(runtime.env.STACKD_CONTROL).toBe(cli.control); // /run/stackd/tap0.sock
    expect(Number(runtime.env.STACKD_WORKERS)).toBe(parseStackdArgs([]).workers);
    expect(runtime.env.STACKD_TAP).toBe('tap0');
  });
});

describe('docker/client.Dockerfile (the client service)', () => {
  const text = read('docker/client.Dockerfile');
  const stages = stagesOf(text);

  it('lints clean; one stage on debian:bookworm-slim with ping, nc, curl, wrk and arping', () => {
    expect(utils.validate(text)).toEqual([]);
    expect(stages.map((s) => s.image)).toEqual(['debian:bookworm-slim']);
    const run = stages[0].runs.join(' ');
    for (const pkg of ['iputils-ping', 'netcat-openbsd', 'curl', 'wrk', 'arping']) expect(run, pkg).toMatch(new RegExp(`\\b${pkg}\\b`));
  });

  it('copies nothing from the repository and sleeps (the tools are for docker compose exec)', () => {
    expect(stages[0].copies).toEqual([]);
    expect(stages[0].cmd).toEqual(['sleep', 'infinity']);
    expect(ignored('docker/load.sh')).toBe(false); // the Dockerfile's load stage copies it
  });
});
