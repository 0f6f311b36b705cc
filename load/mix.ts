/**
 * The client kinds of stackd-load and their mix: `--mix nc-echo:40,curl-bytes:40,curl-post:20`
 * parsed into weights, and a deterministic picker (smooth weighted round robin over the
 * weights divided by their greatest common divisor), so that any run of a whole number of
 * cycles has exactly the mix's proportions: 60 clients of `a:1,b:1,c:1` are 20 of each.
 */

/** What a client does (the same three in process and socket mode). */
export const KINDS = ['nc-echo', 'curl-bytes', 'curl-post'] as const;
export type Kind = (typeof KINDS)[number];

/** One kind and its weight. */
export interface MixEntry {
  kind: Kind;
  weight: number;
}

/** Largest weight accepted (a weight is a share, not a count). */
export const MAX_WEIGHT = 1_000_000;

/** A bad --mix: `message` names what is wrong. */
export class MixError extends Error {}

function isKind(s: string): s is Kind {
  return (KINDS as readonly string[]).includes(s);
}

/** Parses `kind:weight,…` (a kind alone weighs 1; weight 0 leaves it out). Throws MixError. */
export function parseMix(spec: string): MixEntry[] {
  const out: MixEntry[] = [];
  for (const part of spec.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const m = /^([a-z-]+)(?::(\d{1,7}))?$/.exec(part);
    if (!m) throw new MixError(`'${part}' is not kind:weight (a kind and a whole number)`);
    const kind = m[1];
    if (!isKind(kind)) throw new MixError(`unknown kind '${kind}' (kinds: ${KINDS.join(', ')})`);
    const weight = m[2] ? Number(m[2]) : 1; // the group is undefined when absent
    if (weight > MAX_WEIGHT) throw new MixError(`weight ${weight} of ${kind} is above ${MAX_WEIGHT}`);
    if (out.some((e) => e.kind === kind)) throw new MixError(`${kind} is named twice`);
    if (weight > 0) out.push({ kind, weight });
  }
  if (out.length === 0) throw new MixError(`no kind with a weight above 0 in '${spec}'`);
  return out;
}

/** The mix in --mix notation. */
export function formatMix(mix: readonly MixEntry[]): string {
  return mix.map((e) => `${e.kind}:${e.weight}`).join(',');
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Picks kinds in the mix's proportions, evenly spread (smooth weighted round robin, as
 * nginx balances upstreams): each pick adds every weight to its entry's credit, takes the
 * entry with the most credit and takes the sum of the weights from it.
 */
export class MixPicker {
  private readonly weights: number[];
  private readonly credit: number[];
  private readonly sum: number;

  constructor(private readonly mix: readonly MixEntry[]) {
    const g = mix.reduce((acc, e) => gcd(acc, e.weight), 0);
    this.weights = mix.map((e) => e.weight / g);
    this.credit = mix.map(() => 0);
    this.sum = this.weights.reduce((a, b) => a + b, 0);
  }

  /** Picks in one cycle (after which the sequence repeats). */
  get cycle(): number {
    return this.sum;
  }

  /** The next client's kind. */
  next(): Kind {
    let best = 0;
    for (let i = 0; i < this.weights.length; i++) {
      this.credit[i] += this.weights[i];
      if (this.credit[i] > this.credit[best]) best = i;
    }
    this.credit[best] -= this.sum;
    return this.mix[best].kind;
  }
}
