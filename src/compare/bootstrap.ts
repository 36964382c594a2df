import type { Rng } from './rng.js';
import type { BlockSample } from './sample.js';

/**
 * Bootstrap replicates of a run's statistics, from its BlockSample.
 *
 * - 'block' (default): each replicate draws as many blocks as the run has, uniformly with
 *   replacement (a block bootstrap), and computes every statistic from the drawn blocks' combined
 *   histogram. Autocorrelated slowness (GC pauses, queues) stays inside blocks.
 * - 'request': the ordinary bootstrap over requests, drawn from the histogram: the count of each
 *   bucket in a resample of N requests is multinomial; we draw each bucket's count as Poisson(count)
 *   (the Poisson bootstrap, which is the multinomial's large-N limit and lets every bucket be drawn
 *   independently), so a replicate costs one draw per bucket, not per request.
 *
 * Percentiles use HDR's rule (the smallest bucket holding the ceil(p N)-th request) on the same
 * buckets Metrics uses, so a replicate of the whole sample gives exactly Metrics' percentile.
 */
export type BootstrapMode = 'block' | 'request';

/** The statistics that get a confidence interval. Max is not among them (see docs/compare.md). */
export const CI_STATS = ['p50', 'p90', 'p99', 'p99.9', 'mean', 'success', 'throughput'] as const;
export type CiStat = (typeof CI_STATS)[number];

export const PERCENTILES: ReadonlyArray<readonly [CiStat, number]> = [
  ['p50', 50],
  ['p90', 90],
  ['p99', 99],
  ['p99.9', 99.9],
];

/**
 * Replicates of each statistic. Throughput is given as a factor relative to the whole sample
 * (1 = unchanged), to be multiplied by Metrics' throughput: the run's duration is fixed by its
 * schedule, so only the successful-request count varies between replicates.
 */
export interface Replicates {
  mode: BootstrapMode;
  /** The statistics of the whole sample, computed the same way as the replicates. */
  full: Record<CiStat, number>;
  reps: Record<CiStat, Float64Array>;
}

export function bootstrap(sample: BlockSample, resamples: number, rng: Rng, mode: BootstrapMode): Replicates {
  const reps = Object.fromEntries(CI_STATS.map((s) => [s, new Float64Array(resamples)])) as Record<CiStat, Float64Array>;
  const K = sample.n.length;
  const ncols = sample.values.length;
  const totalS = sum(sample.s);
  const totalN = sum(sample.n);
  const columnTotals = new Float64Array(ncols);
  for (let j = 0; j < ncols; j++) {
    for (let e = sample.colStart[j]!; e < sample.colStart[j + 1]!; e++) columnTotals[j]! += sample.entryCount[e]!;
  }
  const totalSum = sum(sample.sum);
  const full = {
    ...percentilesOf(sample, (j) => columnTotals[j]!, totalN),
    mean: mode === 'block' ? totalSum / totalN : bucketMean(sample.values, columnTotals, totalN),
    success: totalS / totalN,
    throughput: 1,
  } as Record<CiStat, number>;

  const anchors = mode === 'block' ? anchorsFor(sample, columnTotals, totalN) : null;
  const weights = new Float64Array(K);
  const counts = new Float64Array(ncols);
  for (let b = 0; b < resamples; b++) {
    let n = 0;
    let s = 0;
    let mean: number;
    let pct: Record<string, number>;
    if (mode === 'block') {
      weights.fill(0);
      for (let i = 0; i < K; i++) weights[rng.below(K)]!++;
      let latSum = 0;
      for (let k = 0; k < K; k++) {
        const w = weights[k]!;
        if (w === 0) continue;
        n += w * sample.n[k]!;
        s += w * sample.s[k]!;
        latSum += w * sample.sum[k]!;
      }
      const colCount = (j: number): number => {
        let c = 0;
        for (let e = sample.colStart[j]!; e < sample.colStart[j + 1]!; e++) c += weights[sample.entryBlock[e]!]! * sample.entryCount[e]!;
        return c;
      };
      const cumBefore = (a: Anchor): number => {
        let c = 0;
        for (let k = 0; k < K; k++) c += weights[k]! * a.below[k]!;
        return c;
      };
      pct = percentilesOf(sample, colCount, n, anchors, cumBefore);
      mean = latSum / n;
    } else {
      for (let j = 0; j < ncols; j++) {
        counts[j] = poisson(rng, columnTotals[j]!);
        n += counts[j]!;
      }
      pct = percentilesOf(sample, (j) => counts[j]!, n);
      mean = bucketMean(sample.values, counts, n);
      const sDraw = poisson(rng, totalS);
      const fDraw = poisson(rng, totalN - totalS);
      s = (sDraw / (sDraw + fDraw || 1)) * totalN;
      n = totalN;
    }
    for (const [name] of PERCENTILES) reps[name][b] = pct[name]!;
    reps.mean[b] = mean;
    reps.success[b] = n > 0 ? s / n : 0;
    reps.throughput[b] = totalS > 0 ? s / totalS : 1;
  }
  return { mode, full, reps };
}

/**
 * A column a little below where a percentile fell in the whole sample, with each block's count of
 * requests in the columns before it. A replicate's count below the anchor is then one pass over the
 * blocks, and the percentile is found by walking up from the anchor instead of from the fastest
 * request: a replicate reads a thin band of the histogram, not all of it.
 */
interface Anchor {
  column: number;
  below: Float64Array;
}

function anchorsFor(sample: BlockSample, columnTotals: Float64Array, total: number): Anchor[] {
  const K = sample.n.length;
  return PERCENTILES.map(([, p]) => {
    // Far enough below the whole-sample percentile that a replicate rarely lands under it (and a
    // replicate that does falls back to walking from the previous percentile: still exact).
    const q = p / 100 - Math.min(0.05, (1 - p / 100) / 2);
    const rank = Math.floor(q * total);
    let column = 0;
    let cum = 0;
    while (column < columnTotals.length - 1 && cum + columnTotals[column]! <= rank) cum += columnTotals[column++]!;
    const below = new Float64Array(K);
    for (let j = 0; j < column; j++) {
      for (let e = sample.colStart[j]!; e < sample.colStart[j + 1]!; e++) below[sample.entryBlock[e]!]! += sample.entryCount[e]!;
    }
    return { column, below };
  });
}

/**
 * The percentiles of one (re)sample, walking up the buckets. Each walk starts at its anchor when
 * the replicate's count below the anchor is under the wanted rank, else where the previous walk
 * stopped; both are exact.
 */
function percentilesOf(
  sample: BlockSample,
  colCount: (j: number) => number,
  total: number,
  anchors: Anchor[] | null = null,
  cumBefore: ((a: Anchor) => number) | null = null,
): Record<string, number> {
  const out: Record<string, number> = {};
  const ncols = sample.values.length;
  if (total <= 0 || ncols === 0) {
    for (const [name] of PERCENTILES) out[name] = 0;
    return out;
  }
  // Invariant: `cum` requests lie in the columns before `j`, and cum < the rank being looked for.
  let j = 0;
  let cum = 0;
  PERCENTILES.forEach(([name, p], i) => {
    const rank = rankOf(p, total);
    const a = anchors?.[i];
    if (a && cumBefore && a.column > j) {
      const c = cumBefore(a);
      if (c < rank) {
        j = a.column;
        cum = c;
      }
    }
    while (j < ncols - 1) {
      const c = colCount(j);
      if (cum + c >= rank) break;
      cum += c;
      j++;
    }
    out[name] = sample.values[j]!;
  });
  return out;
}

/** HDR's rank: the ceil(p/100 N)-th request (at least the first). */
function rankOf(p: number, total: number): number {
  const x = (p / 100) * total;
  return Math.max(1, Math.ceil(x - x * Number.EPSILON));
}

function bucketMean(values: Float64Array, counts: Float64Array, n: number): number {
  let t = 0;
  for (let j = 0; j < values.length; j++) t += values[j]! * counts[j]!;
  return n > 0 ? t / n : 0;
}

function sum(a: Float64Array): number {
  let t = 0;
  for (const x of a) t += x;
  return t;
}

/**
 * Poisson(lambda) draw: multiplication method for small lambda, Hormann's PTRS transformed
 * rejection (as numpy) for large, so the cost stays constant however many requests a bucket holds.
 */
export function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda < 10) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = rng.next();
    while (p > limit) {
      k++;
      p *= rng.next();
    }
    return k;
  }
  const slam = Math.sqrt(lambda);
  const loglam = Math.log(lambda);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = rng.next() - 0.5;
    const V = rng.next();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor(((2 * a) / us + b) * U + lambda + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lambda + k * loglam - logFactorial(k)) return k;
  }
}

/** ln(k!) by Stirling's series (exact to double precision for k >= 10; a loop below). */
function logFactorial(k: number): number {
  if (k < 10) {
    let f = 1;
    for (let i = 2; i <= k; i++) f *= i;
    return Math.log(f);
  }
  const x = k + 1;
  const x2 = x * x;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x * x2) + 1 / (1260 * x2 * x2 * x);
}
