/**
 * What makes a stackd-load client succeed, and the names of the ways it fails. Every
 * byte is checked: the echo must equal what was sent, GET /bytes/N must be N bytes with
 * the sha256 of the service's pattern (src/services/http.ts), POST /sink must answer the
 * length and sha256 of the body sent. A failure is one short cause (`refused`, `timeout`,
 * `reset`, `wrong-bytes`, `short`, `http-503`, `exit-3`…) counted per kind.
 */
import { createHash } from 'node:crypto';
import { BYTES_CHUNK, patternChunk } from '../src/services/http.js';

/** Why a client failed (null: it did not). */
export type Cause = string | null;

const patternHashes = new Map<number, string>();

/** sha256 (hex) of GET /bytes/n's body; remembered per n. */
export function patternSha256(n: number): string {
  let hex = patternHashes.get(n);
  if (hex === undefined) {
    const h = createHash('sha256');
    for (let i = 0; i < n; i += BYTES_CHUNK) h.update(patternChunk(i, Math.min(BYTES_CHUNK, n - i)));
    hex = h.digest('hex');
    patternHashes.set(n, hex);
  }
  return hex;
}

/** An echo client's verdict: the echo must be the bytes sent, all of them. */
export function checkEcho(sent: Uint8Array, got: Uint8Array): Cause {
  if (got.length < sent.length) return 'short';
  if (got.length > sent.length) return 'too-long';
  return Buffer.compare(sent, got) === 0 ? null : 'wrong-bytes';
}

/** A download's verdict against GET /bytes/n. */
export function checkDownload(n: number, gotBytes: number, gotSha256: string): Cause {
  if (gotBytes < n) return 'short';
  if (gotBytes > n) return 'too-long';
  return gotSha256 === patternSha256(n) ? null : 'wrong-bytes';
}

/** A POST /sink verdict: the answer must be `{"bytes": <sent>, "sha256": "<of what was sent>"}`. */
export function checkSinkAnswer(sentBytes: number, sentSha256: string, answer: string): Cause {
  let a: unknown;
  try {
    a = JSON.parse(answer);
  } catch {
    return 'bad-answer';
  }
  if (typeof a !== 'object' || a === null) return 'bad-answer';
  const { bytes, sha256 } = a as { bytes?: unknown; sha256?: unknown };
  if (typeof bytes !== 'number' || typeof sha256 !== 'string') return 'bad-answer';
  if (bytes !== sentBytes) return bytes < sentBytes ? 'short' : 'too-long';
  return sha256 === sentSha256 ? null : 'wrong-bytes';
}

/** The cause for a socket error code (ECONNREFUSED → refused…). */
export function causeOfErrno(code: string | undefined): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    case 'EADDRNOTAVAIL':
    case 'EADDRINUSE':
      return 'no-local-port';
    default:
      return code === undefined ? 'error' : code.toLowerCase();
  }
}

/** The cause for curl's exit status (man curl, EXIT CODES); with --fail, 22 is the HTTP status curl names. */
export function causeOfCurlExit(status: number, stderr = ''): string {
  switch (status) {
    case 22: {
      const m = /returned error: (\d{3})/.exec(stderr);
      return m ? `http-${m[1]}` : 'http-error';
    }
    case 7:
      return 'refused';
    case 28:
      return 'timeout';
    case 52:
      return 'empty-reply';
    case 55:
    case 56:
      return 'reset';
    case 18:
      return 'short';
    default:
      return `exit-${status}`;
  }
}

/** The cause for nc's failure, from what it said on stderr (OpenBSD nc says the errno's text). */
export function causeOfNcFailure(status: number, stderr: string): string {
  if (/refused/i.test(stderr)) return 'refused';
  if (/timed out/i.test(stderr)) return 'timeout';
  if (/reset/i.test(stderr)) return 'reset';
  if (/unreachable/i.test(stderr)) return 'unreachable';
  return `exit-${status}`;
}
