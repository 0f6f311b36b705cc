/** The --fault specification (phy/fault-spec.ts): keys, directions, values, one-line errors, and back to text. */
import { describe, expect, it } from 'vitest';
import { FAULT_DEFAULT_SEED, faultsActive, formatFaultSpec, noFaults, parseFaultSpec } from '../../../src/phy/fault-spec.js';

describe('parseFaultSpec', () => {
  it('the issue\'s example: every key, both directions', () => {
    const c = parseFaultSpec('drop=5%,corrupt=1%,duplicate=1%,reorder=2%,delay=20ms,rate=10000pps,seed=7');
    const both = { drop: 0.05, corrupt: 0.01, duplicate: 0.01, reorder: 0.02, delayMs: 20, ratePps: 10000 };
    expect(c).toEqual({ seed: 7, rx: both, tx: both });
  });

  it('rx./tx. name one direction; later keys override earlier ones; units are optional for delay and rate', () => {
    const c = parseFaultSpec(' drop=1% , tx.drop=2.5%, rx.delay=3, tx.rate=50 ');
    expect(c.rx).toEqual({ ...noFaults(), drop: 0.01, delayMs: 3 });
    expect(c.tx).toEqual({ ...noFaults(), drop: 0.025, ratePps: 50 });
    expect(c.seed).toBe(FAULT_DEFAULT_SEED);
    expect(faultsActive(c.rx) && faultsActive(c.tx)).toBe(true);
    expect(faultsActive(parseFaultSpec('seed=3').rx)).toBe(false);
  });

  it('bad parts give one line naming them', () => {
    const err = (s: string) => {
      try {
        parseFaultSpec(s);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error(`no error for ${s}`);
    };
    expect(err('')).toBe('empty fault specification (e.g. drop=1%,seed=7)');
    expect(err('drop')).toMatch(/^'drop': expected KEY=VALUE/);
    expect(err('lose=1%')).toMatch(/^'lose': unknown key \(keys: drop, corrupt, duplicate, reorder, delay, rate, seed/);
    expect(err('rx.jitter=1ms')).toMatch(/^'rx.jitter': unknown key/);
    expect(err('drop=5')).toBe("'drop': expected a percentage like 5% or 0.5%, got '5'");
    expect(err('tx.drop=101%')).toBe("'tx.drop': 101% is more than 100%");
    expect(err('delay=20s')).toBe("'delay': expected milliseconds like 20ms, got '20s'");
    expect(err('delay=10001ms')).toBe("'delay': 10001 ms is more than 10000 ms");
    expect(err('rate=0')).toMatch(/^'rate': expected frames per second like 10000pps \(at least 1\)/);
    expect(err('seed=-1')).toBe("'seed': expected a whole number 0..4294967295, got '-1'");
    expect(err('rx.seed=1')).toBe("'rx.seed': the seed is common to both directions (write seed=N)");
    expect(err('drop=1%,,seed=2')).toMatch(/^'': expected KEY=VALUE/);
  });
});

describe('formatFaultSpec', () => {
  it('writes the configuration back, bare keys where both directions agree', () => {
    expect(formatFaultSpec(parseFaultSpec('drop=2%,reorder=2%,duplicate=1%,corrupt=0.5%,seed=7'))).toBe(
      'drop=2%,corrupt=0.5%,duplicate=1%,reorder=2%,seed=7',
    );
    expect(formatFaultSpec(parseFaultSpec('delay=20ms,tx.delay=5,rx.rate=100pps'))).toBe('rx.delay=20ms,tx.delay=5ms,rx.rate=100pps,seed=1');
    const again = 'rx.drop=1.25%,tx.duplicate=3%,delay=7ms,seed=9';
    expect(parseFaultSpec(formatFaultSpec(parseFaultSpec(again)))).toEqual(parseFaultSpec(again));
  });
});
