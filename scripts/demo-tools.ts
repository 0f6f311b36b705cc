/**
 * The programs `npm run demo` runs, the Debian packages that provide them, and the check
 * the demo makes before it touches anything: which programs are not on PATH (what
 * `command -v` would not find), and the one line that says what to install.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

/** Program → Debian package: the lab (ip), the client side of each step. */
export const DEMO_TOOLS: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  ping: 'iputils-ping',
  nc: 'netcat-openbsd',
  curl: 'curl',
};

/** The programs of `tools` that no directory of `pathEnv` (a PATH value) holds as an executable file. */
export function missingTools(tools: readonly string[], pathEnv: string): string[] {
  const dirs = pathEnv.split(':').filter((d) => d !== ''); // an empty entry means the cwd: not for this check
  return tools.filter((t) => !dirs.some((d) => isExecutableFile(join(d, t))));
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The one line for missing programs: what is missing and the apt-get line that installs it. */
export function installHint(missing: readonly string[]): string {
  const packages = [...new Set(missing.map((t) => DEMO_TOOLS[t] ?? t))];
  return `demo: ${missing.join(', ')} not found on PATH; install with: apt-get install ${packages.join(' ')}`;
}
