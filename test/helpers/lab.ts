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

// ---------------------------------------------------------------------------------------
// A router in front of the lab (path MTU tests): <lab>-rt forwards between the lab's bridge
// (lan0, 10.10.0.254) and a far network 10.20.0.0/24 whose client <lab>-far (10.20.0.2)
// sits behind the router's far0, an interface with a smaller MTU. lab.sh down removes both
// namespaces (they match its lab_namespaces pattern).
// ---------------------------------------------------------------------------------------

/** Addresses of the router plan. */
export const ROUTER_ADDR = { lan: '10.10.0.254', far: '10.20.0.1', client: '10.20.0.2' } as const;

/**
 * Adds the router namespace <lab>-rt and the far client <lab>-far to lab `lab` (built by
 * labUp): the router's interface toward the client has MTU `farMtu`, the client's own
 * interface keeps 1500 (so its SYN offers MSS 1460 and only the router knows better) and
 * its default route carries `farMtu` (so what it sends fits the router's interface) with
 * advmss 1460.
 * Forwarding is on inside the router only. Throws with the failing command's output.
 */
export function routerUp(lab: string, farMtu: number): void {
  const host = nsName(lab, 'host');
  const rt = nsName(lab, 'rt');
  const far = nsName(lab, 'far');
  const steps: string[][] = [
    ['netns', 'add', rt],
    ['netns', 'add', far],
    ['-n', host, 'link', 'add', 'veth-rt', 'type', 'veth', 'peer', 'name', 'lan0', 'netns', rt],
    ['-n', host, 'link', 'set', 'veth-rt', 'master', 'br0'],
    ['-n', host, 'link', 'set', 'veth-rt', 'up'],
    ['-n', rt, 'link', 'set', 'lo', 'up'],
    ['-n', rt, 'addr', 'add', `${ROUTER_ADDR.lan}/24`, 'dev', 'lan0'],
    ['-n', rt, 'link', 'set', 'lan0', 'up'],
    ['-n', rt, 'link', 'add', 'far0', 'mtu', String(farMtu), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', far],
    ['-n', rt, 'addr', 'add', `${ROUTER_ADDR.far}/24`, 'dev', 'far0'],
    ['-n', rt, 'link', 'set', 'far0', 'up'],
    ['-n', far, 'link', 'set', 'lo', 'up'],
    ['-n', far, 'link', 'set', 'eth0', 'mtu', '1500'],
    ['-n', far, 'addr', 'add', `${ROUTER_ADDR.client}/24`, 'dev', 'eth0'],
    ['-n', far, 'link', 'set', 'eth0', 'up'],
    // The route knows the first hop takes `farMtu`, so what the client sends fits; its
    // advmss keeps the SYN's MSS at 1460 (Linux would otherwise derive it from that MTU).
    ['-n', far, 'route', 'add', 'default', 'via', ROUTER_ADDR.far, 'mtu', String(farMtu), 'advmss', '1460'],
  ];
  for (const args of steps) {
    const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(describeRun(`ip ${args.join(' ')}`, r));
    if (args[0] === 'netns' && args[1] === 'add') {
      // No IPv6 chatter, as in lab.sh's namespaces.
      const ns = args[2];
      for (const key of ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']) {
        const s = inNs(ns, 'sysctl', ['-q', '-w', key]);
        if (s.status !== 0) throw new Error(describeRun(`sysctl ${key} in ${ns}`, s));
      }
    }
  }
  const fwd = inNs(rt, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  if (fwd.status !== 0) throw new Error(describeRun(`sysctl ip_forward in ${rt}`, fwd));
}

/** Runs a bash script in namespace `ns` (inNs with bash -c). */
export function bashIn(ns: string, script: string, timeoutMs = 120_000): ReturnType<typeof inNs> {
  return inNs(ns, 'bash', ['-c', script], { timeoutMs });
}
