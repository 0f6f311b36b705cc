/**
 * `npm run demo` (dist/scripts/demo.js) on a machine without its client programs: one
 * line on stderr naming the Debian packages to install, nothing on stdout, exit 1, and
 * no lab built. (The demo itself, with everything installed, is run by hand: it builds
 * the lab named by STACKD_LAB, "demo" by default.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtFile } from '../helpers/built.js';

const LAB = `dm${process.pid % 10000}`;
const bin = mkdtempSync(join(tmpdir(), 'stackd-demo-path-'));

afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** `ip netns list` names, with the real PATH. */
function namespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n !== '');
}

describe('npm run demo without ping, nc and curl', () => {
  it('prints one line naming the packages, exits 1 and builds nothing', () => {
    const demo = builtFile('scripts/demo.js');
    const ip = spawnSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).stdout.trim();
    if (ip !== '') symlinkSync(ip, join(bin, 'ip')); // the lab's own tool is there: only the clients are missing
    const r = spawnSync(process.execPath, [demo], {
      encoding: 'utf8', timeout: 20_000, env: { ...process.env, PATH: bin, STACKD_LAB: LAB },
    });
    const missing = ip === '' ? 'ip, ping, nc, curl' : 'ping, nc, curl';
    const packages = ip === '' ? 'iproute2 iputils-ping netcat-openbsd curl' : 'iputils-ping netcat-openbsd curl';
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      status: 1, stdout: '', stderr: `demo: ${missing} not found on PATH; install with: apt-get install ${packages}\n`,
    });
    if (ip !== '') expect(namespaces().filter((n) => n.startsWith(`${LAB}-`))).toEqual([]);
  });
});
