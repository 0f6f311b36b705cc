/**
 * The operations tools the integration tests run against a live stackd: stackctl (from
 * the build) and tshark reading a capture back with checksum validation on.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const STACKCTL = fileURLToPath(new URL('../../dist/src/cli/stackctl.js', import.meta.url));

/** One row of `tshark -T fields`, by field name. */
export type Row = Record<string, string>;

/** Reads a capture with tshark, checksum validation on; every frame's fields by name. */
export function tshark(file: string, fields: string[]): Row[] {
  const r = spawnSync(
    'tshark',
    ['-r', file, '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-T', 'fields',
      ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(r.status, `tshark failed: ${r.stderr}`).toBe(0);
  expect(r.stderr).not.toMatch(/cut short|appears to be damaged|isn't a capture file/);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => {
    const v = l.split('\t');
    return Object.fromEntries(fields.map((f, i) => [f, v[i] ?? '']));
  });
}

/** Runs stackctl against the control socket `control`. */
export function stackctl(control: string, ...args: string[]) {
  return spawnSync(process.execPath, [STACKCTL, '--control', control, ...args], { encoding: 'utf8', timeout: 20_000 });
}
