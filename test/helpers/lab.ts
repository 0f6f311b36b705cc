/**
 * Test helper around lab/lab.sh: build/remove a lab (network namespaces with a bridge, a TAP
 * for stackd and client veths), run commands inside its namespaces, and decide whether the
 * network tests can run here at all.
 *
 * Typical use in an integration test:
 *
 *   const skip = requireNetOrSkip();          // throws in CI when the capability is missing
 *   describe.skipIf(skip)('something on the wire', () => {
 *     const lab = `xy${process.pid % 10000}`;
 *     beforeAll(() => labUp(lab));
 *     afterAll(() => labDown(lab));
 *     it('pings', () => {
 *       const r = inNs(nsName(lab, 'c1'), 'ping', ['-c', '1', '10.10.0.1']);
 *       expect(r.status).toBe(0);
 *     });
 *   });
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of lab/lab.sh, resolved relative to this file (not to the cwd). */
export const LAB_SCRIPT: string = fileURLToPath(new URL('../../lab/lab.sh', import.meta.url));

/** The lab's fixed address plan (see lab/lab.sh). */
export const LAB_ADDR = {
  host: '10.10.0.1',
  c1: '10.10.0.3',
  stack: '10.10.0.4',
  prefixLen: 24,
} as const;

/** Namespace name for a lab member (host, c1, c2, …): nsName('stackd', 'host') === 'stackd-host'. */
export function nsName(lab: string, who: string): string {
  return `${lab}-${who}`;
}

/** Run lab/lab.sh with the given arguments (no throw; inspect status/stdout/stderr). */
export function runLab(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync('bash', [LAB_SCRIPT, ...args], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    env: opts.env ?? process.env,
  });
}

/** The output of a spawnSync: null, whatever its type says, when the command did not start. */
export function outputOf(s: string | null): string {
  return s ?? '';
}

function describeRun(what: string, r: SpawnSyncReturns<string>): string {
  const why = r.error ? `error ${r.error.message}` : `exit ${r.status ?? `signal ${r.signal}`}`;
  return `${what} failed (${why})\nstdout:\n${outputOf(r.stdout)}\nstderr:\n${outputOf(r.stderr)}`;
}

/**
 * Build (or repair) lab `name`; throws with the script's output if it fails.
 * `containerStack: true` builds the Docker-like stack namespace `<name>-stack` (eth0 =
 * 10.10.0.4/24 on the lab bridge) instead of tap0 in `<name>-host` (see docs/labs.md).
 */
export function labUp(name: string, opts: { clients?: number; vnetHdr?: boolean; containerStack?: boolean } = {}): void {
  const args = ['--name', name, '--quiet'];
  if (opts.clients !== undefined) args.push('--clients', String(opts.clients));
  if (opts.vnetHdr !== undefined) args.push(opts.vnetHdr ? '--vnet-hdr' : '--no-vnet-hdr');
  if (opts.containerStack !== undefined) args.push(opts.containerStack ? '--container-stack' : '--no-container-stack');
  args.push('up');
  const r = runLab(args);
  if (r.status !== 0) throw new Error(describeRun(`lab.sh ${args.join(' ')}`, r));
}

/** Remove lab `name` (idempotent: fine if it does not exist); throws if removal fails. */
export function labDown(name: string): void {
  const args = ['--name', name, '--quiet', 'down'];
  const r = runLab(args);
  if (r.status !== 0) throw new Error(describeRun(`lab.sh ${args.join(' ')}`, r));
}

/** Names of all network namespaces that currently exist. */
export function listNamespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 10_000 });
  return outputOf(r.stdout)
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

/**
 * Run `cmd args…` inside namespace `ns` (`ip netns exec ns cmd args…`). Never throws for a
 * non-zero exit: check `.status`. Default timeout 30 s (the child is killed after that and
 * `.error`/`.signal` are set).
 */
export function inNs(
  ns: string,
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {},
): SpawnSyncReturns<string> {
  return spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
    input: opts.input,
    env: opts.env ?? process.env,
  });
}

/** Can this machine run the network integration tests? (root, /dev/net/tun, `ip`). */
export function canRunNetTests(): { ok: boolean; why?: string } {
  if (process.platform !== 'linux') return { ok: false, why: `not Linux (${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { ok: false, why: 'not running as root (namespaces, bridges and taps need it)' };
  }
  if (!existsSync('/dev/net/tun') || !statSync('/dev/net/tun').isCharacterDevice()) {
    return { ok: false, why: '/dev/net/tun is missing (tun driver / --device /dev/net/tun)' };
  }
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8', timeout: 10_000 });
  if (ip.error || ip.status !== 0) return { ok: false, why: "'ip' (iproute2) is not available" };
  return { ok: true };
}

/**
 * Decide whether network tests should be skipped, for `describe.skipIf(requireNetOrSkip())`.
 *
 * - capability present          -> returns false (run the tests)
 * - missing, not in CI          -> returns true  (skip, with the reason printed once)
 * - missing, CI === 'true'      -> THROWS: in CI a missing capability is a failure, never a
 *                                  silent skip (a green CI run must mean the tests ran).
 */
export function requireNetOrSkip(): boolean {
  const cap = canRunNetTests();
  if (cap.ok) return false;
  if (process.env.CI === 'true') {
    throw new Error(`network integration tests cannot run in CI: ${cap.why ?? 'unknown reason'}`);
  }
  console.warn(`[lab] skipping network integration tests: ${cap.why ?? 'unknown reason'}`);
  return true;
}

// ---------------------------------------------------------------------------------------
// Labs issue (docs/labs.md): lab/netlab.sh lessons, the stack entrypoint, the TCP probe.
// ---------------------------------------------------------------------------------------

/** Absolute path of lab/netlab.sh (Docker's networking by hand). */
export const NETLAB_SCRIPT: string = fileURLToPath(new URL('../../lab/netlab.sh', import.meta.url));

/** Absolute path of docker/stack-entrypoint.sh (the stack image's entrypoint). */
export const ENTRYPOINT_SCRIPT: string = fileURLToPath(new URL('../../docker/stack-entrypoint.sh', import.meta.url));

/** Run lab/netlab.sh with the given arguments (no throw; inspect status/stdout/stderr). */
export function runNetlab(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync('bash', [NETLAB_SCRIPT, ...args], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    env: opts.env ?? process.env,
  });
}

/** `netlab.sh --name lab LESSON ACTION`; throws with the script's output if it fails. */
export function netlab(lab: string, lesson: string, action?: string, extra: string[] = []): SpawnSyncReturns<string> {
  const args = ['--name', lab, ...extra, lesson, ...(action === undefined ? [] : [action])];
  const r = runNetlab(args);
  if (r.status !== 0) throw new Error(describeRun(`netlab.sh ${args.join(' ')}`, r));
  return r;
}

/**
 * The probe the HTTP checks assert first: does anything
 * accept a TCP connection on `addr:port` from namespace `ns` within `timeoutMs`? stackd
 * answers only once its TCP lands; until then the SYN goes unanswered (or is refused).
 * Tests assert it once stackd runs (TCP landed with issue 3).
 */
export function stackdHasTcp(ns: string, addr: string = LAB_ADDR.stack, port = 80, timeoutMs = 1500): boolean {
  const secs = Math.max(1, Math.ceil(timeoutMs / 1000));
  const r = inNs(ns, 'timeout', [String(secs), 'bash', '-c', `exec 3<>/dev/tcp/${addr}/${port}`], {
    timeoutMs: timeoutMs + 3000,
  });
  return r.status === 0;
}
