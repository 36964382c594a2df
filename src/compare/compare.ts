import { UsageError } from '../errors.js';
import type { Metrics, ScheduleSummary } from '../metrics/metrics.js';
import type { RunMeta } from '../results/result.js';
import { bootstrap, CI_STATS, type BootstrapMode, type CiStat, type Replicates } from './bootstrap.js';
import { comparabilityWarnings } from './comparable.js';
import { Rng } from './rng.js';
import type { BlockSample } from './sample.js';

/**
 * Compare runs: for each statistic, before, after, the change, a bootstrap confidence interval on
 * the change, and a verdict. Point values are Metrics' numbers; the interval comes from resampling
 * each run independently (see bootstrap.ts) and reading the spread of after* - before*.
 */
export type RowStat = CiStat | 'max';
/** The table's rows, in order. */
export const ROW_STATS: readonly RowStat[] = ['p50', 'p90', 'p99', 'p99.9', 'max', 'mean', 'success', 'throughput'];

export type Verdict = 'improved' | 'regressed' | 'no significant change' | 'no CI';

/** One run as compare sees it. Build it with runFromMetrics (or loadRun for a file). */
export interface RunData {
  /** File name (or a label). */
  name: string;
  /** 'binary', 'json', 'csv' (results) or 'report' (a saved `report -type=json`, without per-request data). */
  format: string;
  requests: number;
  /** Metrics' values: latencies in ns, success as a fraction, throughput in successful req/s. */
  point: Record<RowStat, number>;
  /** Achieved request rate (req/s) and attack duration (ns), as Metrics computes them. */
  rate: number;
  duration: number;
  /** From the last send to the last completion (ns): part of throughput's time base, as in vegeta. */
  wait: number;
  /** Schedule keeping, null when unknown (vegeta formats and reports do not record send lag). */
  schedule: ScheduleSummary | null;
  meta: RunMeta | null;
  /** Per-request data in blocks, for the bootstrap; null for a report (no CI possible). */
  sample: BlockSample | null;
  /** Things the reader should know about this input (a cut-off final record, ...). */
  notes: string[];
}

export function runFromMetrics(
  name: string,
  format: string,
  m: Metrics,
  meta: RunMeta | null,
  sample: BlockSample | null,
  notes: string[] = [],
): RunData {
  const l = m.latencies();
  const schedule = m.schedule();
  return {
    name,
    format,
    requests: m.requests,
    point: { p50: l.p50, p90: l.p90, p99: l.p99, 'p99.9': l.p999, max: l.max, mean: l.mean, success: m.success, throughput: m.throughput },
    rate: m.rate,
    duration: m.duration,
    wait: m.wait,
    schedule: schedule.recorded ? schedule : null,
    meta,
    sample,
    notes,
  };
}

export interface CompareOptions {
  /** Confidence level of the intervals, in (0, 1). Default 0.95. */
  confidence?: number;
  /** Bootstrap replicates per run. Default 1000. */
  resamples?: number;
  /** RNG seed: the same seed on the same files prints the same intervals. Default 1. */
  seed?: number;
  /** 'block' (default) or 'request' (see bootstrap.ts). */
  mode?: BootstrapMode;
  /** With N > 2 runs: compare each with the first (default) or with the one before it. */
  against?: 'first' | 'previous';
  /** A change smaller than this fraction of `before` is never a verdict, however certain. Default 0. */
  minChange?: number;
  /** Rows whose significant regression makes `failed` true (e.g. ['p99', 'p99.9']). Default none. */
  failOn?: RowStat[];
}

export interface CompareRow {
  stat: RowStat;
  /** Which direction is good. */
  better: 'lower' | 'higher';
  before: number;
  after: number;
  /** after - before, and as a percentage of before (null when before is 0). */
  delta: number;
  deltaPct: number | null;
  /** Confidence interval on delta, null when none is possible (max; a report input). */
  ci: [number, number] | null;
  verdict: Verdict;
}

export interface Comparison {
  before: string;
  after: string;
  rows: CompareRow[];
}

export interface CompareResult {
  confidence: number;
  resamples: number;
  seed: number;
  mode: BootstrapMode;
  /** Block width used by the block bootstrap, per run (ns); null for runs without samples. */
  blockNs: Array<number | null>;
  against: 'first' | 'previous';
  runs: Array<{ name: string; format: string; requests: number; rate: number; duration: number }>;
  comparisons: Comparison[];
  warnings: string[];
  failOn: RowStat[];
  /** True when a row named in failOn regressed significantly in any comparison. */
  failed: boolean;
  /** Rows named in failOn that could not be judged (no interval: a report input). */
  unjudged: string[];
}

/** A run cut into fewer blocks than this is too short for a block bootstrap; compare falls back to requests. */
export const MIN_BOOTSTRAP_BLOCKS = 10;

export function compareRuns(runs: RunData[], opts: CompareOptions = {}): CompareResult {
  if (runs.length < 2) throw new UsageError('compare needs at least two runs');
  const confidence = opts.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) throw new UsageError(`invalid confidence ${confidence}: expected a level in (0, 1), e.g. 0.95`);
  const resamples = opts.resamples ?? 1000;
  if (!(Number.isInteger(resamples) && resamples >= 100)) throw new UsageError(`invalid resamples ${resamples}: expected an integer >= 100`);
  const seed = opts.seed ?? 1;
  const against = opts.against ?? 'first';
  const minChange = opts.minChange ?? 0;
  const failOn = opts.failOn ?? [];
  for (const r of runs) if (r.requests === 0) throw new UsageError(`${r.name}: no results`);

  const warnings: string[] = [];
  for (const r of runs) for (const n of r.notes) warnings.push(`${r.name}: ${n}`);
  let mode = opts.mode ?? 'block';
  const short = runs.filter((r) => r.sample && r.sample.n.length < MIN_BOOTSTRAP_BLOCKS);
  if (mode === 'block' && short.length) {
    mode = 'request';
    warnings.push(
      `${short.map((r) => r.name).join(', ')}: too short for a block bootstrap (fewer than ${MIN_BOOTSTRAP_BLOCKS} blocks); ` +
        'intervals assume independent requests and may be too narrow',
    );
  }
  const noSample = runs.filter((r) => !r.sample);
  if (noSample.length) {
    warnings.push(`${noSample.map((r) => r.name).join(', ')}: a report has no per-request data, so changes against it have no confidence interval`);
  }

  // Each run is resampled once, with its own stream of the seeded RNG, and reused in every pair it is in.
  const reps: Array<Replicates | null> = runs.map((r, i) => (r.sample ? bootstrap(r.sample, resamples, new Rng(seed + i * 7919), mode) : null));

  const pairs: Array<[number, number]> = [];
  for (let i = 1; i < runs.length; i++) pairs.push([against === 'first' ? 0 : i - 1, i]);
  const comparisons: Comparison[] = pairs.map(([a, b]) => ({
    before: runs[a]!.name,
    after: runs[b]!.name,
    rows: ROW_STATS.map((stat) => row(stat, runs[a]!, runs[b]!, reps[a]!, reps[b]!, confidence, minChange)),
  }));
  for (const [a, b] of pairs) warnings.push(...comparabilityWarnings(runs[a]!, runs[b]!));

  const failed = comparisons.some((c) => c.rows.some((r) => failOn.includes(r.stat) && r.verdict === 'regressed'));
  // A gate that cannot judge must say so rather than pass quietly.
  const unjudged = comparisons.flatMap((c) =>
    c.rows.filter((r) => failOn.includes(r.stat) && r.verdict === 'no CI').map((r) => `${r.stat} (${c.before} -> ${c.after})`),
  );
  if (unjudged.length) warnings.push(`-fail-on cannot judge ${unjudged.join(', ')}: no confidence interval without per-request data`);
  return {
    confidence,
    resamples,
    seed,
    mode,
    blockNs: runs.map((r) => (r.sample && mode === 'block' ? r.sample.blockNs : null)),
    against,
    runs: runs.map((r) => ({ name: r.name, format: r.format, requests: r.requests, rate: r.rate, duration: r.duration })),
    comparisons,
    warnings: [...new Set(warnings)],
    failOn,
    failed,
    unjudged,
  };
}

function row(stat: RowStat, A: RunData, B: RunData, ra: Replicates | null, rb: Replicates | null, confidence: number, minChange: number): CompareRow {
  const better = stat === 'success' || stat === 'throughput' ? 'higher' : 'lower';
  const before = A.point[stat];
  const after = B.point[stat];
  const delta = after - before;
  const deltaPct = before !== 0 ? (delta / before) * 100 : null;
  let ci: [number, number] | null = null;
  // Max has no interval: a resample can never exceed the observed max, so its bootstrap is degenerate.
  if (stat !== 'max' && ra && rb) ci = interval(stat, A, B, ra, rb, confidence, delta);
  let verdict: Verdict = 'no CI';
  if (ci) {
    const certain = ci[0] > 0 || ci[1] < 0;
    const large = deltaPct === null ? delta !== 0 : Math.abs(deltaPct) >= minChange * 100;
    if (!certain || !large) verdict = 'no significant change';
    else verdict = (delta < 0) === (better === 'lower') ? 'improved' : 'regressed';
  }
  return { stat, better, before, after, delta, deltaPct, ci, verdict };
}

/**
 * Percentile interval of after* - before*, shifted so that it is centred as the replicates are
 * around the whole-sample value: CI = delta + q(after* - before* - (fullAfter - fullBefore)).
 * For percentiles and (block mode) the mean the shift is zero, since the whole-sample statistic
 * is Metrics' own; in request mode the mean is bucket-rounded, and the shift removes that rounding.
 */
function interval(stat: CiStat, A: RunData, B: RunData, ra: Replicates, rb: Replicates, confidence: number, delta: number): [number, number] {
  const n = Math.min(ra.reps[stat].length, rb.reps[stat].length);
  const scaleA = stat === 'throughput' ? A.point.throughput : 1;
  const scaleB = stat === 'throughput' ? B.point.throughput : 1;
  const fullDelta = rb.full[stat] * scaleB - ra.full[stat] * scaleA;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = rb.reps[stat][i]! * scaleB - ra.reps[stat][i]! * scaleA - fullDelta;
  d.sort();
  const alpha = (1 - confidence) / 2;
  const ci: [number, number] = [delta + quantile(d, alpha), delta + quantile(d, 1 - alpha)];
  if (stat === 'throughput') {
    // Throughput divides by duration + wait, and the wait is one request's latency (the last to
    // finish): like max, it has no sampling distribution. The interval covers every wait from 0 to
    // the one observed, so a change the final wait alone explains is not called significant.
    ci[0] -= waitShare(A);
    ci[1] += waitShare(B);
  }
  return ci;
}

/** How much higher a run's throughput would be without its final wait. */
function waitShare(r: RunData): number {
  return r.duration > 0 ? (r.point.throughput * r.wait) / r.duration : 0;
}

/** Linear-interpolated quantile of sorted values (R's type 7). */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Parses a -fail-on value: "regression" (every row with an interval) or a list like "p99,p99.9". */
export function parseFailOn(text: string): RowStat[] {
  const t = text.trim();
  if (t === '') return [];
  if (t === 'regression' || t === 'any') return [...CI_STATS];
  const names = t.split(',').map((s) => s.trim().toLowerCase().replace(/^p\((.*)\)$/, 'p$1'));
  for (const n of names) {
    if (n === 'max') throw new UsageError('-fail-on=max: max has no confidence interval, so it can never regress significantly (use p99.9)');
    if (!(CI_STATS as readonly string[]).includes(n)) {
      throw new UsageError(`invalid -fail-on "${text}": expected "regression" or a list of ${CI_STATS.join(', ')}`);
    }
  }
  return names as RowStat[];
}
