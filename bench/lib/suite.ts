import type { RunRecord } from './context.js';
import type { Spread } from './stats.js';

/** A bar of issue 3 and whether this run met it (null: not measured, e.g. a tool failed). */
export interface BarCheck {
  bar: string;
  measured: string;
  met: boolean | null;
}

export interface SuiteResult {
  name: string;
  /** What was compared, in one or two sentences (also in docs/benchmarks.md). */
  method: string;
  runs: RunRecord[];
  /** Named spreads (figures and ratios) for the JSON file. */
  summary: Record<string, Spread | Record<string, Spread>>;
  /** Markdown tables for stdout. */
  tables: string[];
  bars: BarCheck[];
}

/** A bar on the median with the whole spread shown: met when the median passes. */
export function barOnMedian(bar: string, s: Spread, pass: (x: number) => boolean, fmt: (s: Spread) => string): BarCheck {
  return { bar, measured: fmt(s), met: s.n === 0 ? null : pass(s.median) };
}
