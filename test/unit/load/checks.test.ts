/**
 * stackd-load's verdicts (load/checks.ts): every byte compared, and the names of the
 * failure causes from socket errors, curl's exit codes and nc's messages.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  causeOfCurlExit, causeOfErrno, causeOfNcFailure, checkDownload, checkEcho, checkSinkAnswer, patternSha256,
} from '../../../load/checks.js';
import { patternSha256 as referenceSha256 } from '../../helpers/http-pattern.js';

describe('checks', () => {
  it("patternSha256 is the sha256 of GET /bytes/N's body (the test helper computes it by the formula)", () => {
    for (const n of [0, 1, 65521, 65536, 65537, 1 << 20, 3_000_001]) expect(patternSha256(n), `N=${n}`).toBe(referenceSha256(n));
  });

  it('checkEcho: equal bytes pass; fewer, more or other bytes fail by name', () => {
    const sent = Buffer.from('0123456789');
    expect(checkEcho(sent, Buffer.from('0123456789'))).toBeNull();
    expect(checkEcho(sent, Buffer.from('012345678'))).toBe('short');
    expect(checkEcho(sent, Buffer.from('0123456789X'))).toBe('too-long');
    expect(checkEcho(sent, Buffer.from('0123456788'))).toBe('wrong-bytes');
  });

  it('checkDownload: the count and the pattern hash', () => {
    expect(checkDownload(1000, 1000, referenceSha256(1000))).toBeNull();
    expect(checkDownload(1000, 999, referenceSha256(999))).toBe('short');
    expect(checkDownload(1000, 1001, 'x')).toBe('too-long');
    expect(checkDownload(1000, 1000, referenceSha256(1001))).toBe('wrong-bytes');
  });

  it("checkSinkAnswer: the service's JSON answer must name the body's length and sha256", () => {
    const body = Buffer.from('a body');
    const sha = createHash('sha256').update(body).digest('hex');
    expect(checkSinkAnswer(6, sha, `{"bytes":6,"sha256":"${sha}"}\n`)).toBeNull();
    expect(checkSinkAnswer(6, sha, `{"bytes":5,"sha256":"${sha}"}`)).toBe('short');
    expect(checkSinkAnswer(6, sha, `{"bytes":7,"sha256":"${sha}"}`)).toBe('too-long');
    expect(checkSinkAnswer(6, sha, `{"bytes":6,"sha256":"00"}`)).toBe('wrong-bytes');
    for (const bad of ['', 'not json', '[]', 'null', '{"bytes":"6","sha256":"x"}', '{"bytes":6}']) {
      expect(checkSinkAnswer(6, sha, bad), bad).toBe('bad-answer');
    }
  });

  it('causes from errno codes, curl exit codes and nc messages', () => {
    expect(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'EMFILE', undefined].map(causeOfErrno))
      .toEqual(['refused', 'reset', 'reset', 'timeout', 'unreachable', 'no-local-port', 'emfile', 'error']);
    expect([7, 28, 52, 56, 18, 6].map((s) => causeOfCurlExit(s))).toEqual(['refused', 'timeout', 'empty-reply', 'reset', 'short', 'exit-6']);
    expect(causeOfCurlExit(22, 'curl: (22) The requested URL returned error: 503\n')).toBe('http-503');
    expect(causeOfCurlExit(22)).toBe('http-error');
    expect(causeOfNcFailure(1, 'nc: connect to 10.10.0.4 port 7 (tcp) failed: Connection refused\n')).toBe('refused');
    expect(causeOfNcFailure(1, 'nc: connect to 10.10.0.4 port 7 (tcp) timed out: Operation now in progress\n')).toBe('timeout');
    expect(causeOfNcFailure(1, 'nc: read failed (0/3): Connection reset by peer\n')).toBe('reset');
    expect(causeOfNcFailure(1, 'nc: connect to 10.10.9.9 port 7 (tcp) failed: No route to host... unreachable')).toBe('unreachable');
    expect(causeOfNcFailure(2, '')).toBe('exit-2');
  });
});
