/**
 * The fault injection specification of `stackd --fault` (decision 0017), parsed:
 *
 *   drop=5%,corrupt=1%,duplicate=1%,reorder=2%,delay=20ms,rate=10000pps,seed=7
 *
 * Every key is optional. A bare key applies to both directions; `rx.KEY` / `tx.KEY` to
 * frames received from / transmitted to the link only (a later key overrides an earlier
 * one for the directions it names). Percentages take a '%' (0–100, decimals allowed);
 * delay is in ms ('ms' optional, up to 10 s); rate in frames per second ('pps'
 * optional); seed is a whole number 0..4294967295 for both directions (default 1).
 */

/** What fault injection does to the frames of one direction. */
export interface FaultSpec {
  /** Probabilities (0..1) that a frame is dropped, corrupted, duplicated, reordered. */
  drop: number;
  corrupt: number;
  duplicate: number;
  reorder: number;
  /** Every frame held this long before it goes on (ms; 0: none). */
  delayMs: number;
  /** Frames per second let through, the rest dropped (0: no limit). */
  ratePps: number;
}

/** The parsed --fault value. */
export interface FaultConfig {
  seed: number;
  rx: FaultSpec;
  tx: FaultSpec;
}

/** Longest delay accepted (ms). */
export const FAULT_MAX_DELAY_MS = 10_000;
/** Seed used when the specification names none. */
export const FAULT_DEFAULT_SEED = 1;

const PROBABILITY_KEYS = ['drop', 'corrupt', 'duplicate', 'reorder'] as const;
/** Every key the specification knows (without direction prefix). */
export const FAULT_KEYS: readonly string[] = [...PROBABILITY_KEYS, 'delay', 'rate', 'seed'];

/** A spec that does nothing. */
export function noFaults(): FaultSpec {
  return { drop: 0, corrupt: 0, duplicate: 0, reorder: 0, delayMs: 0, ratePps: 0 };
}

/** True when the spec changes anything. */
export function faultsActive(s: FaultSpec): boolean {
  return s.drop > 0 || s.corrupt > 0 || s.duplicate > 0 || s.reorder > 0 || s.delayMs > 0 || s.ratePps > 0;
}

/** Parses one value of `key` (written `shown`); throws an Error naming it and what is wrong. */
function parseValue(key: string, v: string, shown = key): number {
  const name = `'${shown}'`;
  if ((PROBABILITY_KEYS as readonly string[]).includes(key)) {
    const m = /^(\d+(?:\.\d+)?)%$/.exec(v);
    if (!m) throw new Error(`${name}: expected a percentage like 5% or 0.5%, got '${v}'`);
    const p = Number(m[1]);
    if (p > 100) throw new Error(`${name}: ${p}% is more than 100%`);
    return p / 100;
  }
  if (key === 'delay') {
    const m = /^(\d+(?:\.\d+)?)(?:ms)?$/.exec(v);
    if (!m) throw new Error(`${name}: expected milliseconds like 20ms, got '${v}'`);
    const d = Number(m[1]);
    if (d > FAULT_MAX_DELAY_MS) throw new Error(`${name}: ${d} ms is more than ${FAULT_MAX_DELAY_MS} ms`);
    return d;
  }
  if (key === 'rate') {
    const m = /^(\d+)(?:pps)?$/.exec(v);
    if (!m || Number(m[1]) === 0) throw new Error(`${name}: expected frames per second like 10000pps (at least 1), got '${v}'`);
    return Number(m[1]);
  }
  const m = /^\d+$/.exec(v);
  if (!m || Number(v) > 0xffffffff) throw new Error(`${name}: expected a whole number 0..4294967295, got '${v}'`);
  return Number(v);
}

/** Sets one key of a spec. */
function setKey(s: FaultSpec, key: string, v: number): void {
  if (key === 'delay') s.delayMs = v;
  else if (key === 'rate') s.ratePps = v;
  else s[key as (typeof PROBABILITY_KEYS)[number]] = v;
}

/**
 * Parses a --fault value. Throws an Error with a one-line message naming the part that
 * is wrong (unknown key, bad value, empty part).
 */
export function parseFaultSpec(text: string): FaultConfig {
  const cfg: FaultConfig = { seed: FAULT_DEFAULT_SEED, rx: noFaults(), tx: noFaults() };
  if (text.trim() === '') throw new Error('empty fault specification (e.g. drop=1%,seed=7)');
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`'${part}': expected KEY=VALUE (keys: ${FAULT_KEYS.join(', ')}, with rx. or tx. for one direction)`);
    const full = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    const dot = /^(rx|tx)\.(.+)$/.exec(full);
    const key = dot ? dot[2] : full;
    if (!FAULT_KEYS.includes(key)) throw new Error(`'${full}': unknown key (keys: ${FAULT_KEYS.join(', ')}, with rx. or tx. for one direction)`);
    if (key === 'seed') {
      if (dot) throw new Error(`'${full}': the seed is common to both directions (write seed=N)`);
      cfg.seed = parseValue(key, value);
      continue;
    }
    const v = parseValue(key, value, full);
    if (!dot || dot[1] === 'rx') setKey(cfg.rx, key, v);
    if (!dot || dot[1] === 'tx') setKey(cfg.tx, key, v);
  }
  return cfg;
}

/** The configuration written back in --fault notation (only what is set; bare keys where both directions agree). */
export function formatFaultSpec(cfg: FaultConfig): string {
  const parts: string[] = [];
  const show = (key: string, rx: number, tx: number, fmt: (v: number) => string): void => {
    if (rx === tx) {
      if (rx !== 0) parts.push(`${key}=${fmt(rx)}`);
      return;
    }
    if (rx !== 0) parts.push(`rx.${key}=${fmt(rx)}`);
    if (tx !== 0) parts.push(`tx.${key}=${fmt(tx)}`);
  };
  const pct = (v: number): string => `${Math.round(v * 1e6) / 1e4}%`;
  for (const k of PROBABILITY_KEYS) show(k, cfg.rx[k], cfg.tx[k], pct);
  show('delay', cfg.rx.delayMs, cfg.tx.delayMs, (v) => `${v}ms`);
  show('rate', cfg.rx.ratePps, cfg.tx.ratePps, (v) => `${v}pps`);
  parts.push(`seed=${cfg.seed}`);
  return parts.join(',');
}
