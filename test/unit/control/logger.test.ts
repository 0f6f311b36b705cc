/**
 * createLogger's level validation and modes, and flushLogger's safety. Output goes to
 * fd 1, so the loggers made here are silent or never written to.
 */
import { describe, expect, it } from 'vitest';
import { LOG_LEVELS, createLogger, flushLogger } from '../../../src/control/logger.js';

describe('createLogger', () => {
  it('accepts every listed level and sets it', () => {
    for (const level of LOG_LEVELS) {
      for (const pretty of [false, true]) {
        const log = createLogger({ level, pretty, name: 'stackd' });
        expect(log.level).toBe(level);
        flushLogger(log);
      }
    }
  });

  it('rejects an unknown level with the list of valid ones', () => {
    expect(() => createLogger({ level: 'verbose' })).toThrow(
      "unknown log level 'verbose' (expected one of: fatal error warn info debug trace silent)",
    );
  });

  it('flushLogger works on children too', () => {
    const log = createLogger({ level: 'silent', pretty: false });
    expect(() => flushLogger(log.child({ thread: 'main' }))).not.toThrow();
  });
});
