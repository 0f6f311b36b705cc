#!/usr/bin/env node
/**
 * `stackctl`: the executable. Runs one command against a running stackd's control API
 * (cli/stackctl-run.ts); Ctrl-C ends `stats --watch` and `top` cleanly.
 */
import { runStackctl } from './stackctl-run.js';

let interrupted = false;
let wake: (() => void) | null = null;
process.once('SIGINT', () => {
  interrupted = true;
  wake?.();
});

runStackctl(process.argv.slice(2), {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
  sleep: (ms) =>
    new Promise<boolean>((resolve) => {
      if (interrupted) {
        resolve(false);
        return;
      }
      const t = setTimeout(() => {
        wake = null;
        resolve(true);
      }, ms);
      wake = () => {
        clearTimeout(t);
        resolve(false);
      };
    }),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`stackctl: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
