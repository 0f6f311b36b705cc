/**
 * One stackd-load client, what it needs and what it reports: the settings every client of
 * a run shares (ClientSpec) and one client's outcome (its cause of failure or null, its
 * latency from start to verified end, the payload bytes it moved).
 */
import type { Cause } from './checks.js';
import type { Kind } from './mix.js';

/** What every client of a run shares. */
export interface ClientSpec {
  /** stackd's address. */
  target: string;
  echoPort: number;
  httpPort: number;
  /** N of GET /bytes/N (curl-bytes). */
  bytes: number;
  /** Body of POST /sink (curl-post). */
  postBytes: number;
  /** Bytes sent through the echo service (nc-echo). */
  echoBytes: number;
  /** A client still running after this long is stopped and counts as `timeout`. */
  timeoutMs: number;
}

/** One client's result. */
export interface ClientOutcome {
  kind: Kind;
  cause: Cause;
  /** From the start (spawn or connect) to the verified end, in microseconds. */
  latencyUs: number;
  /** Payload bytes moved (both directions for the echo, the body for the others); counted for successes only. */
  bytes: number;
  /** For a failure: what the client said (first line of stderr, the error's message). */
  detail?: string;
}

/** Runs one client of a kind. */
export type RunClient = (kind: Kind, spec: ClientSpec) => Promise<ClientOutcome>;

/** Stderr or an error message cut to its first line, at most 200 characters. */
export function firstLine(s: string): string {
  return (s.split('\n').find((l) => l.trim() !== '') ?? '').trim().slice(0, 200);
}
