/**
 * Running a command as an unprivileged user (uid/gid 65534, "nobody", no groups) for the
 * tests that show what such a user is told, and what the kernel refuses it with here.
 * The files that user runs must be readable by it: see world-readable-copy.ts.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';

/**
 * The setpriv argv prefix that runs a command as uid/gid 65534, or why node cannot be run
 * that way here: not root, no setpriv, or a node binary that user cannot execute
 * (installed under /root, say).
 */
export function nodeAsNobody(): { prefix: string[] } | { why: string } {
  if (process.getuid?.() !== 0) return { why: 'not root: cannot switch to uid 65534' };
  const which = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' });
  if (which.status !== 0) return { why: 'setpriv (util-linux) is not installed' };
  const prefix = [which.stdout.trim(), '--reuid=65534', '--regid=65534', '--clear-groups'];
  const probe = spawnSync(prefix[0], [...prefix.slice(1), process.execPath, '-e', '0'], { cwd: '/', encoding: 'utf8', timeout: 10_000 });
  if (probe.status !== 0) return { why: `uid 65534 cannot run ${process.execPath}: ${probe.stderr || probe.error?.message}` };
  return { prefix };
}

/**
 * How opening a TAP fails for uid 65534 on this machine: open(2) of /dev/net/tun says
 * EACCES when the device is not world read-writable (mode 0600, as in some containers);
 * when it is (0666, the usual udev rule), the open succeeds and TUNSETIFF says EPERM.
 */
export function unprivilegedTunFailure(): { syscall: 'open' | 'TUNSETIFF'; code: 'EACCES' | 'EPERM' } {
  const worldRw = (statSync('/dev/net/tun').mode & 0o006) === 0o006;
  return worldRw ? { syscall: 'TUNSETIFF', code: 'EPERM' } : { syscall: 'open', code: 'EACCES' };
}
