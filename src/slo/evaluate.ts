import { EXIT_SLO_FAILED } from '../errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { formatDuration } from '../units/duration.js';
import type { Slo, SloThreshold } from './slo.js';

/** One threshold checked against one run. */
export interface SloVerdict {
  /** The threshold as written, e.g. "p99<50ms". */
  expr: string;
  threshold: SloThreshold;
  /** The measured value in the threshold's unit (ns, fraction, req/s); NaN when the run has no requests. */
  measured: number;
  pass: boolean;
  /**
   * How far past its limit the run is, as a factor: 1 at the limit, 2 when twice as bad.
   * Latency: measured / limit. Rates: limit / measured. Ratios compare the failure fractions
   * (errors 1 % against an allowed 0.1 % is 10), because 99 % against 99.9 % success is a tenfold
   * miss, not a 1 % one. Below 1 when passing; NaN for `==` and for an empty run.
   */
  severity: number;
}

/** The value a threshold's metric has in a run, computed by Metrics (NaN for an empty run). */
export function measure(t: SloThreshold, m: Metrics): number {
  if (m.requests === 0) return NaN;
  switch (t.metric) {
    case 'mean':
      return m.latency.mean;
    case 'min':
      return m.latency.min;
    case 'max':
      return m.latency.max;
    case 'success':
      return m.success;
    case 'errors':
      return 1 - m.success;
    case 'rate':
      return m.rate;
    case 'throughput':
      return m.throughput;
    default:
      return m.latency.percentile(t.percentile!);
  }
}

export function evaluateSlo(slo: Slo, m: Metrics): SloVerdict[] {
  return slo.thresholds.map((t) => {
    const measured = measure(t, m);
    return { expr: t.expr, threshold: t, measured, pass: holds(t, measured), severity: severity(t, measured) };
  });
}

function holds(t: SloThreshold, v: number): boolean {
  if (Number.isNaN(v)) return false;
  switch (t.op) {
    case '<':
      return v < t.value;
    case '<=':
      return v <= t.value;
    case '>':
      return v > t.value;
    case '>=':
      return v >= t.value;
    case '==':
      return v === t.value;
  }
}

function severity(t: SloThreshold, v: number): number {
  if (Number.isNaN(v) || t.op === '==') return NaN;
  const upper = t.op === '<' || t.op === '<=';
  // Express both sides as "how bad" against "how bad is allowed", bigger being worse.
  let bad: number;
  let allowed: number;
  if (t.metric === 'success' && !upper) {
    // A lower bound on success is an upper bound on failures, and failures are what it is about.
    bad = 1 - v;
    allowed = 1 - t.value;
  } else if (upper) {
    bad = v;
    allowed = t.value;
  } else {
    bad = t.value;
    allowed = v;
  }
  if (allowed === 0) return bad === 0 ? 1 : Infinity;
  return bad / allowed;
}

export function sloPassed(verdicts: SloVerdict[]): boolean {
  return verdicts.every((v) => v.pass);
}

/** 0 when every threshold held, EXIT_SLO_FAILED (99, as k6) otherwise. */
export function sloExitCode(verdicts: SloVerdict[]): number {
  return sloPassed(verdicts) ? 0 : EXIT_SLO_FAILED;
}

/** A measured value in its threshold's unit, as a person reads it. */
export function formatSloValue(t: Pick<SloThreshold, 'kind'>, v: number): string {
  if (Number.isNaN(v)) return 'no requests';
  switch (t.kind) {
    case 'latency':
      // Four significant digits: enough to see a miss, short enough to read.
      return formatDuration(v === 0 ? 0 : Number(v.toPrecision(4)));
    case 'ratio':
      return `${trimNumber(v * 100, 4)}%`;
    case 'rate':
      return `${trimNumber(v, 2)}/s`;
  }
}

function trimNumber(x: number, decimals: number): string {
  return String(Number(x.toFixed(decimals)));
}

/**
 * One line per threshold and a summary, k6 style:
 *
 *   SLO p99<50ms          12.3ms        pass
 *   SLO p99.9<200ms       251.2ms       FAIL (1.26x the limit)
 *   SLO FAILED: 1 of 2 thresholds crossed (exit 99)
 */
export function formatSloVerdicts(verdicts: SloVerdict[]): string {
  const width = Math.max(...verdicts.map((v) => v.expr.length), 8) + 2;
  const lines = verdicts.map((v) => {
    const value = formatSloValue(v.threshold, v.measured);
    let status = v.pass ? 'pass' : 'FAIL';
    if (!v.pass && Number.isFinite(v.severity)) status += ` (${trimNumber(v.severity, 2)}x the limit)`;
    return `SLO ${v.expr.padEnd(width)}${value.padEnd(14)}${status}`;
  });
  const failed = verdicts.filter((v) => !v.pass).length;
  lines.push(
    failed === 0
      ? `SLO passed: ${verdicts.length} of ${verdicts.length} thresholds held`
      : `SLO FAILED: ${failed} of ${verdicts.length} thresholds crossed (exit ${EXIT_SLO_FAILED})`,
  );
  return lines.join('\n') + '\n';
}

/** JSON-ready form of a verdict (for `-json` outputs and sweep.json). */
export function sloVerdictJson(v: SloVerdict): { expr: string; metric: string; op: string; limit: number; measured: number | null; pass: boolean } {
  return {
    expr: v.expr,
    metric: v.threshold.metric,
    op: v.threshold.op,
    limit: v.threshold.value,
    measured: Number.isNaN(v.measured) ? null : v.measured,
    pass: v.pass,
  };
}
