/**
 * scripts/demo-tools.ts: the demo finds its programs the way `command -v` would (an
 * executable file in a PATH directory) and names the Debian packages of the missing ones
 * in one line.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_TOOLS, installHint, missingTools } from '../../scripts/demo-tools.js';

const made: string[] = [];
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('missingTools', () => {
  it('finds executable files in any PATH directory; not plain files, directories or the cwd entry', () => {
    const a = mkdtempSync(join(tmpdir(), 'demo-tools-a-'));
    const b = mkdtempSync(join(tmpdir(), 'demo-tools-b-'));
    made.push(a, b);
    writeFileSync(join(a, 'ping'), '#!/bin/sh\n');
    chmodSync(join(a, 'ping'), 0o755);
    writeFileSync(join(b, 'curl'), '#!/bin/sh\n');
    chmodSync(join(b, 'curl'), 0o755);
    writeFileSync(join(b, 'nc'), 'not executable\n');
    chmodSync(join(b, 'nc'), 0o644);
    mkdirSync(join(a, 'ip'));
    const tools = Object.keys(DEMO_TOOLS);
    expect(missingTools(tools, `${a}::${b}`)).toEqual(['ip', 'nc']);
    expect(missingTools(tools, '')).toEqual(tools);
    expect(missingTools(['ping', 'curl'], `/nonexistent:${b}:${a}`)).toEqual([]);
  });
});

describe('installHint', () => {
  it('is one line naming what is missing and the Debian packages that provide it', () => {
    expect(installHint(['ping', 'nc', 'curl'])).toBe(
      'demo: ping, nc, curl not found on PATH; install with: apt-get install iputils-ping netcat-openbsd curl',
    );
    expect(installHint(['ip'])).toBe('demo: ip not found on PATH; install with: apt-get install iproute2');
  });
});
