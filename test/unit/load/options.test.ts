/**
 * stackd-load's command line (load/options.ts): defaults, durations and sizes, one-line
 * errors naming the flag, the control socket from the environment, and the argv the tool
 * runs itself with inside --netns.
 */
import { describe, expect, it } from 'vitest';
import { HELP, UsageError, argvWithoutNetns, parseLoadArgs } from '../../../load/options.js';

function usage(argv: string[]): string {
  try {
    parseLoadArgs(argv, {});
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`no UsageError for ${JSON.stringify(argv)}`);
}

describe('parseLoadArgs', () => {
  it('defaults: 10.10.0.4, 20 at once, 1000 in all, 30 s, 10 s per client, the issue mix, 1M/64K/16K, process mode', () => {
    const o = parseLoadArgs([], {});
    expect(o).toMatchObject({
      target: '10.10.0.4', httpPort: 80, echoPort: 7, clients: 20, total: 1000, durationMs: 30_000, timeoutMs: 10_000,
      bytes: 1 << 20, postBytes: 64 << 10, echoBytes: 16 << 10, netns: null, mode: 'process', batch: 8, control: null, json: false,
    });
    expect(o.mix).toEqual([{ kind: 'nc-echo', weight: 40 }, { kind: 'curl-bytes', weight: 40 }, { kind: 'curl-post', weight: 20 }]);
    expect(o.threads).toBeGreaterThanOrEqual(1);
    expect(o.threads).toBeLessThanOrEqual(2);
  });

  it("the issue's command line", () => {
    const o = parseLoadArgs(['--target', '10.10.0.4', '--clients', '500', '--mix', 'nc-echo:40,curl-bytes:40,curl-post:20', '--duration', '30s'], {});
    expect(o).toMatchObject({ clients: 500, durationMs: 30_000 });
  });

  it('durations: ms, s, m, h, bare seconds, fractions', () => {
    const d = (v: string) => parseLoadArgs(['--duration', v], {}).durationMs;
    expect([d('500ms'), d('30s'), d('2m'), d('1h'), d('10'), d('1.5s')]).toEqual([500, 30_000, 120_000, 3_600_000, 10_000, 1500]);
    expect(parseLoadArgs(['--timeout', '250ms'], {}).timeoutMs).toBe(250);
  });

  it('sizes: bytes, K, M, G (binary), optional B or iB', () => {
    const b = (v: string) => parseLoadArgs(['--bytes', v], {}).bytes;
    expect([b('0'), b('1500'), b('64K'), b('1M'), b('2G'), b('1MiB'), b('3kb')]).toEqual([0, 1500, 65536, 1048576, 2 * 1024 ** 3, 1048576, 3072]);
  });

  it('--control, else $STACKD_CONTROL; --netns, --mode socket, --json', () => {
    expect(parseLoadArgs([], { STACKD_CONTROL: '/run/stackd/x.sock' }).control).toBe('/run/stackd/x.sock');
    expect(parseLoadArgs(['--control', '/tmp/c.sock'], { STACKD_CONTROL: '/run/x' }).control).toBe('/tmp/c.sock');
    expect(parseLoadArgs(['--netns', 'lab-c1', '--mode', 'socket', '--json'], {})).toMatchObject({ netns: 'lab-c1', mode: 'socket', json: true });
  });

  it('a bad value is one line naming the flag', () => {
    expect(usage(['--clients', '0'])).toBe('--clients: 0 is out of range (1..4096)');
    expect(usage(['--total', 'many'])).toBe("--total: expected a whole number, got 'many'");
    expect(usage(['--duration', '2d'])).toBe("--duration: '2d' is not a duration (like 30s, 500ms, 2m)");
    expect(usage(['--duration', '2h'])).toBe('--duration: 2h is out of range (1ms..3600s)');
    expect(usage(['--bytes', '1T'])).toBe("--bytes: '1T' is not a size (like 1500, 64K, 1M)");
    expect(usage(['--echo-bytes', '0'])).toBe('--echo-bytes: 0 is out of range (1..1073741824 bytes)');
    expect(usage(['--mix', 'ping'])).toBe("--mix: unknown kind 'ping' (kinds: nc-echo, curl-bytes, curl-post)");
    expect(usage(['--mode', 'thread'])).toBe("--mode: 'thread' is not one of process|socket");
    expect(usage(['--target', '10.10.0.256'])).toBe("--target: '10.10.0.256' is not an IPv4 address");
    expect(usage(['--netns', 'a b'])).toBe("--netns: 'a b' is not a namespace name");
    expect(usage(['--port-http', '65536'])).toBe('--port-http: 65536 is out of range (1..65535)');
    expect(usage(['--bogus'])).toBe('--bogus: unknown option (stackd-load --help lists them)');
    expect(usage(['--clients'])).toBe('--clients: needs a value');
  });

  it('HELP names every option', () => {
    for (const flag of ['--clients', '--total', '--duration', '--timeout', '--mix', '--bytes', '--post-bytes', '--echo-bytes', '--target',
      '--port-http', '--port-echo', '--netns', '--mode', '--threads', '--batch', '--control', '--json', '--help']) {
      expect(HELP, flag).toContain(flag);
    }
  });
});

describe('argvWithoutNetns', () => {
  it('drops --netns NAME and --netns=NAME, keeps the rest in order', () => {
    expect(argvWithoutNetns(['--clients', '5', '--netns', 'lab-c1', '--json'])).toEqual(['--clients', '5', '--json']);
    expect(argvWithoutNetns(['--netns=lab-c1', '--mode', 'socket'])).toEqual(['--mode', 'socket']);
  });
});
