/**
 * Process mode: every client is a real program, as a user would run it.
 *  - nc-echo:    `nc -v -N T 7` with random bytes on stdin (-N: shut the socket's write side at
 *                stdin's end); stdout must be those bytes;
 *  - curl-bytes: `curl -sS -o - http://T/bytes/N`; stdout is hashed (sha256) as it arrives
 *                and must be the service's pattern;
 *  - curl-post:  `curl -sS --data-binary @- http://T/sink` with random bytes on stdin; the
 *                answer must name their length and sha256.
 * A client that outlives the timeout is killed (SIGKILL, by its pid) and counts as
 * `timeout`; what a program collects is bounded (no more than is expected, plus one byte).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  type Cause, causeOfCurlExit, causeOfErrno, causeOfNcFailure, checkDownload, checkEcho, checkSinkAnswer,
} from './checks.js';
import { firstLine, type ClientOutcome, type ClientSpec, type RunClient } from './client.js';
import type { Kind } from './mix.js';

/** Bytes of stderr kept per program. */
const STDERR_MAX = 2048;
/** Bytes of a /sink answer kept (it is one short JSON line). */
const ANSWER_MAX = 4096;

/** How a program ended. */
interface Exit {
  status: number | null;
  stderr: string;
  timedOut: boolean;
  /** The errno code when it could not be started (ENOENT, EAGAIN…). */
  spawnError?: string;
}

/**
 * Runs `cmd args`, writes `stdin` (then closes it), hands stdout's chunks to `onStdout`,
 * and resolves once the program has exited and its output is closed.
 */
function runProgram(cmd: string, args: string[], stdin: Buffer | null, timeoutMs: number, onStdout: (b: Buffer) => void): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    let spawnError: string | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', onStdout);
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < STDERR_MAX) stderr += d.toString('utf8', 0, STDERR_MAX - stderr.length);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code ?? 'error';
    });
    child.stdin.on('error', () => {}); // EPIPE when the program is gone first: its exit tells why
    if (stdin === null) child.stdin.end();
    else child.stdin.end(stdin);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stderr, timedOut, ...(spawnError !== undefined ? { spawnError } : {}) });
    });
  });
}

/** Why a program failed, or null if it exited 0. */
function exitCause(e: Exit, byStatus: (status: number, stderr: string) => string): Cause {
  if (e.spawnError !== undefined) return `spawn-${causeOfErrno(e.spawnError)}`;
  if (e.timedOut) return 'timeout';
  if (e.status === null) return 'killed';
  return e.status === 0 ? null : byStatus(e.status, e.stderr);
}

function outcome(kind: Kind, t0: number, cause: Cause, bytes: number, e: Exit): ClientOutcome {
  const o: ClientOutcome = { kind, cause, latencyUs: Math.max(1, Math.round((performance.now() - t0) * 1000)), bytes };
  if (cause !== null) o.detail = firstLine(e.spawnError !== undefined ? `cannot start: ${e.spawnError}` : e.stderr);
  return o;
}

const url = (spec: ClientSpec, path: string): string => `http://${spec.target}:${spec.httpPort}${path}`;

/** curl's options for every request: quiet but errors on stderr, bounded in time, no 100-continue wait. */
function curlArgs(spec: ClientSpec): string[] {
  return ['-sS', '--max-time', String(Math.ceil(spec.timeoutMs / 1000)), '-H', 'Expect:'];
}

async function ncEcho(spec: ClientSpec): Promise<ClientOutcome> {
  const sent = randomBytes(spec.echoBytes);
  const got = Buffer.allocUnsafe(sent.length + 1);
  let n = 0;
  const t0 = performance.now();
  // -v: nc names the reason on stderr when it cannot connect (else it says nothing).
  const e = await runProgram('nc', ['-v', '-N', spec.target, String(spec.echoPort)], sent, spec.timeoutMs, (b) => {
    const take = Math.min(b.length, got.length - n);
    b.copy(got, n, 0, take);
    n += take;
  });
  const cause = exitCause(e, causeOfNcFailure) ?? checkEcho(sent, got.subarray(0, n));
  return outcome('nc-echo', t0, cause, sent.length + n, e);
}

async function curlBytes(spec: ClientSpec): Promise<ClientOutcome> {
  const h = createHash('sha256');
  let n = 0;
  const t0 = performance.now();
  const e = await runProgram('curl', [...curlArgs(spec), '--fail', '-o', '-', url(spec, `/bytes/${spec.bytes}`)], null, spec.timeoutMs, (b) => {
    n += b.length;
    h.update(b);
  });
  const cause = exitCause(e, causeOfCurlExit) ?? checkDownload(spec.bytes, n, h.digest('hex'));
  return outcome('curl-bytes', t0, cause, n, e);
}

async function curlPost(spec: ClientSpec): Promise<ClientOutcome> {
  const body = randomBytes(spec.postBytes);
  const sha = createHash('sha256').update(body).digest('hex');
  let answer = '';
  const t0 = performance.now();
  const args = [...curlArgs(spec), '--fail', '-H', 'Content-Type: application/octet-stream', '--data-binary', '@-', url(spec, '/sink')];
  const e = await runProgram('curl', args, body, spec.timeoutMs, (b) => {
    if (answer.length < ANSWER_MAX) answer += b.toString('utf8', 0, ANSWER_MAX - answer.length);
  });
  const cause = exitCause(e, causeOfCurlExit) ?? checkSinkAnswer(body.length, sha, answer);
  return outcome('curl-post', t0, cause, body.length, e);
}

const BY_KIND: Record<Kind, (spec: ClientSpec) => Promise<ClientOutcome>> = { 'nc-echo': ncEcho, 'curl-bytes': curlBytes, 'curl-post': curlPost };

/** Runs one client as a process. */
export const runProcessClient: RunClient = (kind, spec) => BY_KIND[kind](spec);
