/**
 * The few statistics the benchmark reports: every figure is measured `count` times and shown as
 * min / median / max, and every comparison is a ratio to a peer tool measured in the same repetition.
 *
 * Ratios are paired (tailprobe's run i against the peer's run i, which ran seconds apart) and then
 * summarized, rather than a ratio of medians, so that slow drifts of a shared, noisy machine fall on
 * both sides of each ratio.
 */
export interface Spread {
  n: number;
  min: number;
  median: number;
  max: number;
}

/** min / median / max of the finite values (NaN when there is none). */
export function spread(values: readonly number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { n: 0, min: NaN, median: NaN, max: NaN };
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { n: v.length, min: v[0]!, median, max: v[v.length - 1]! };
}

/** a / b, or NaN when either side is missing or b is 0 (a ratio to nothing is no ratio). */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return a / b;
}

/** Paired ratios a[i] / b[i] over repetitions (pairs with a missing side are dropped). */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const r = ratio(a[i], b[i]);
    if (Number.isFinite(r)) out.push(r);
  }
  return out;
}

/** "1.52x"; "n/a" when there is no ratio. Two decimals: the noise of this machine is larger than that. */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return 'n/a';
  return `${r >= 100 ? r.toFixed(0) : r.toFixed(2)}x`;
}

/**
 * A spread as "median (min..max)" with a formatter for the values, or just the median when all runs
 * agree or there was one run. "n/a" when there are no values.
 */
export function formatSpread(s: Spread, fmt: (x: number) => string = formatRatio): string {
  if (s.n === 0) return 'n/a';
  const med = fmt(s.median);
  if (s.n === 1) return med;
  const lo = fmt(s.min);
  const hi = fmt(s.max);
  return lo === hi ? med : `${med} (${lo}..${hi})`;
}

/** Requests per second, compact: "987", "12.3k", "1.20M" (the unit goes in the column header). */
export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec)) return 'n/a';
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)}M`;
  if (perSec >= 1e4) return `${(perSec / 1e3).toFixed(1)}k`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(2)}k`;
  return `${perSec.toFixed(0)}`;
}

/** A fraction as a percentage with a sign: +0.12 %, -3.4 %. */
export function formatPercentDelta(fraction: number): string {
  if (!Number.isFinite(fraction)) return 'n/a';
  const p = fraction * 100;
  const digits = Math.abs(p) < 1 ? 2 : 1;
  return `${p >= 0 ? '+' : ''}${p.toFixed(digits)}%`;
}

/** A duration in ns with 3 significant digits: "35µs", "334µs", "58.6ms", "2.23s". */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return 'n/a';
  const units: Array<[number, string]> = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];
  for (const [scale, unit] of units) {
    if (Math.abs(ns) >= scale || scale === 1) return `${Number((ns / scale).toPrecision(3))}${unit}`;
  }
  return `${ns}ns`;
}
