/**
 * stackd-load's --mix (load/mix.ts): parsing with one-line errors, and the picker's
 * proportions, exact over whole cycles and evenly spread within them.
 */
import { describe, expect, it } from 'vitest';
import { MixError, MixPicker, formatMix, parseMix, type Kind } from '../../../load/mix.js';

function counts(spec: string, n: number): Record<string, number> {
  const p = new MixPicker(parseMix(spec));
  const c: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const k = p.next();
    c[k] = (c[k] ?? 0) + 1;
  }
  return c;
}

function mixError(spec: string): string {
  try {
    parseMix(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(MixError);
    return (e as Error).message;
  }
  throw new Error(`no MixError for '${spec}'`);
}

describe('parseMix', () => {
  it('reads kind:weight lists; a kind alone weighs 1; weight 0 leaves a kind out; spaces are fine', () => {
    expect(parseMix('nc-echo:40,curl-bytes:40,curl-post:20')).toEqual([
      { kind: 'nc-echo', weight: 40 }, { kind: 'curl-bytes', weight: 40 }, { kind: 'curl-post', weight: 20 },
    ]);
    expect(parseMix('curl-post')).toEqual([{ kind: 'curl-post', weight: 1 }]);
    expect(parseMix(' nc-echo:3 , curl-post:0 ')).toEqual([{ kind: 'nc-echo', weight: 3 }]);
    expect(formatMix(parseMix('nc-echo,curl-bytes:2'))).toBe('nc-echo:1,curl-bytes:2');
  });

  it('names what is wrong', () => {
    expect(mixError('ping:3')).toBe("unknown kind 'ping' (kinds: nc-echo, curl-bytes, curl-post)");
    expect(mixError('nc-echo:x')).toBe("'nc-echo:x' is not kind:weight (a kind and a whole number)");
    expect(mixError('nc-echo:-1')).toBe("'nc-echo:-1' is not kind:weight (a kind and a whole number)");
    expect(mixError('nc-echo:1,nc-echo:2')).toBe('nc-echo is named twice');
    expect(mixError('nc-echo:0')).toBe("no kind with a weight above 0 in 'nc-echo:0'");
    expect(mixError('')).toBe("no kind with a weight above 0 in ''");
    expect(mixError('curl-post:2000000')).toBe('weight 2000000 of curl-post is above 1000000');
  });
});

describe('MixPicker', () => {
  it('gives exactly the proportions over whole cycles (weights divided by their gcd)', () => {
    expect(new MixPicker(parseMix('nc-echo:40,curl-bytes:40,curl-post:20')).cycle).toBe(5);
    expect(counts('nc-echo:40,curl-bytes:40,curl-post:20', 5)).toEqual({ 'nc-echo': 2, 'curl-bytes': 2, 'curl-post': 1 });
    expect(counts('nc-echo:40,curl-bytes:40,curl-post:20', 1000)).toEqual({ 'nc-echo': 400, 'curl-bytes': 400, 'curl-post': 200 });
    expect(counts('nc-echo:1,curl-bytes:1,curl-post:1', 60)).toEqual({ 'nc-echo': 20, 'curl-bytes': 20, 'curl-post': 20 });
    expect(counts('curl-bytes:7', 9)).toEqual({ 'curl-bytes': 9 });
  });

  it('spreads a kind through the cycle instead of running it in a block', () => {
    const p = new MixPicker(parseMix('nc-echo:3,curl-post:1'));
    const seq: Kind[] = [];
    for (let i = 0; i < 8; i++) seq.push(p.next());
    expect(seq).toEqual(['nc-echo', 'nc-echo', 'curl-post', 'nc-echo', 'nc-echo', 'nc-echo', 'curl-post', 'nc-echo']);
    // Within any window of one cycle (4 picks), each kind appears in its proportion.
    for (let i = 0; i + 4 <= seq.length; i++) expect(seq.slice(i, i + 4).filter((k) => k === 'curl-post')).toHaveLength(1);
  });
});
