import { formatDuration } from '../units/duration.js';

/**
 * Number formatting shared by the reports, as vegeta prints them: durations rounded to the next most
 * precise unit (1.234567891s -> 1.235s, 145.082066ms -> 145.082ms) then written as Go writes them.
 */
const UNITS = [3600e9, 60e9, 1e9, 1e6, 1e3, 1];

export function roundDuration(ns: number): number {
  const d = Math.round(ns);
  for (let i = 0; i < UNITS.length - 1; i++) {
    if (d >= UNITS[i]!) {
      const m = UNITS[i + 1]!;
      return Math.round(d / m) * m;
    }
  }
  return d;
}

/** A duration as vegeta's text report shows it. */
export function dur(ns: number): string {
  return formatDuration(roundDuration(ns));
}

/** Go's %.2f. */
export function f2(x: number): string {
  return Number.isFinite(x) ? x.toFixed(2) : String(x);
}

/** A ratio as a percentage with two decimals, "99.50%". */
export function pct(ratio: number): string {
  return `${f2(ratio * 100)}%`;
}
