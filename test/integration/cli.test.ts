/**
 * The built `stackd` CLI as a process (dist/src/cli/stackd.js): --help lists exactly the
 * options the parser accepts, --version, exit code 2 with one line on stderr for a bad
 * value, and exit code 1 with an actionable message when the TAP cannot be opened for
 * lack of privilege (run as uid 65534 through setpriv), leaving no control socket.
 * Only the last test needs root (to drop to uid 65534); it is skipped without it, except
 * under CI=true where that is a failure. That test runs a world-readable copy of the built
 * package under os.tmpdir() (test/helpers/world-readable-copy.ts), so it works wherever
 * the checkout lives, even where uid 65534 cannot enter.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STACKD_OPTIONS } from '../../src/cli/args.js';
import { ROOT, builtFile } from '../helpers/built.js';
import { nodeAsNobody, unprivilegedTunFailure } from '../helpers/unprivileged.js';
import { worldReadableCopy, type WorldReadableCopy } from '../helpers/world-readable-copy.js';

const BIN = join(ROOT, 'dist/src/cli/stackd.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Runs the CLI with `node` (or with `nodeArgv`, e.g. setpriv … node) from `bin`. */
function stackd(args: string[], nodeArgv = [process.execPath], bin = BIN, cwd?: string): SpawnSyncReturns<string> {
  const argv = [...nodeArgv, bin, ...args];
  return spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 20_000, cwd, env: { ...process.env, NO_COLOR: '1' } });
}

const NOBODY = nodeAsNobody();

beforeAll(() => {
  builtFile('src/cli/stackd.js');
});

describe('stackd CLI', () => {
  it('--help prints usage listing every option parseStackdArgs accepts (and no other) and exits 0', () => {
    const r = stackd(['--help']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^stackd: .*\n\nUsage: stackd \[options\]\n/);
    const listed = [...r.stdout.matchAll(/^ {2}(?:(-\w), )?--([a-z][a-z0-9-]*)/gm)];
    const names = new Set(listed.map((m) => m[2]));
    expect([...names].sort()).toEqual(Object.keys(STACKD_OPTIONS).sort());
    // Short forms too: "-h, --help" in the help ⇔ short: 'h' in the parser.
    const shortsInHelp = Object.fromEntries(listed.flatMap((m) => {
      const short = m.at(1); // "-h" (undefined for a flag without a short form)
      return short === undefined ? [] : [[m[2], short.slice(1)]];
    }));
    const shortsInParser = Object.fromEntries(
      Object.entries(STACKD_OPTIONS).flatMap(([k, v]) => ('short' in v ? [[k, v.short]] : [])),
    );
    expect(shortsInHelp).toEqual(shortsInParser);
    expect(stackd(['-h']).stdout).toBe(r.stdout);
  });

  it('--version prints "stackd <package.json version>" and exits 0', () => {
    for (const flag of ['--version', '-V']) {
      const r = stackd([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`stackd ${VERSION}\n`);
      expect(r.stderr).toBe('');
    }
  });

  it('a bad value prints exactly one line naming the flag on stderr, nothing on stdout, and exits 2', () => {
    const cases: Array<[string[], string]> = [
      [['--workers', '0'], 'stackd: --workers: 0 is out of range (1..64)\n'],
      [['--ip', '10.0.0.300'], "stackd: --ip: '10.0.0.300' is not an IPv4 address with an optional /prefix\n"],
      [['--mac', '01:00:5e:00:00:01'], 'stackd: --mac: 01:00:5e:00:00:01 is a multicast address\n'],
      [['--log-level', 'loud'], "stackd: --log-level: 'loud' is not one of fatal|error|warn|info|debug|trace|silent\n"],
      [['--no-such-flag'], 'stackd: --no-such-flag: unknown option (stackd --help lists them)\n'],
      [['--mtu'], 'stackd: --mtu: needs a value\n'],
    ];
    for (const [args, line] of cases) {
      const r = stackd(args);
      expect({ args, status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, status: 2, stdout: '', stderr: line });
    }
  });

  describe('without root or CAP_NET_ADMIN', () => {
    let dir = '';
    let copy: WorldReadableCopy | undefined;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'stackd-cli-'));
      chmodSync(dir, 0o777); // uid 65534 could create the control socket here: it must not
      if ('prefix' in NOBODY) copy = worldReadableCopy(['package.json', 'dist', 'build/Release/stackd_tap.node'], { runtimeDeps: true });
    });
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
      copy?.remove();
    });

    it.skipIf('why' in NOBODY && process.env.CI !== 'true')('exits 1 with the "needs root or CAP_NET_ADMIN" message and leaves no control socket behind', () => {
      if ('why' in NOBODY) throw new Error(`this test must run in CI: ${NOBODY.why}`);
      const control = join(dir, 'control.sock');
      const r = stackd(['--tap', 'sdcli0', '--control', control, '--log-level', 'silent', '--workers', '1'], [...NOBODY.prefix, process.execPath],
        join(copy!.root, 'dist/src/cli/stackd.js'), copy!.root);
      expect(r.status).toBe(1);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines).toHaveLength(1);
      const { syscall, code } = unprivilegedTunFailure();
      expect(lines[0].startsWith(`stackd: opening /dev/net/tun needs root or CAP_NET_ADMIN (${syscall} sdcli0: ${code}); run as root, or give node the capability`)).toBe(true);
      expect(existsSync(control)).toBe(false);
    });
  });
});
