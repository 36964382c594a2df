/**
 * The statistics of `tailprobe bench`: medians, spreads and the Mann-Whitney U test that benchstat
 * uses to say whether two sets of runs differ.
 */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Largest distance of a value from the median, as a fraction of the median (0 if all equal). */
export function spread(xs: readonly number[]): number {
  const m = median(xs);
  let d = 0;
  for (const x of xs) d = Math.max(d, Math.abs(x - m));
  if (d === 0) return 0;
  return m === 0 ? Infinity : d / Math.abs(m);
}

export interface UTestResult {
  /** U statistic of the first sample. */
  u: number;
  /** Two-sided p-value. */
  p: number;
  /** 'exact' (permutation distribution, ties included) or 'normal' (approximation). */
  method: 'exact' | 'normal';
}

/** Largest combined sample size for the exact distribution (beyond it, the normal approximation). */
const EXACT_MAX_N = 60;

/**
 * Two-sided Mann-Whitney U test (Wilcoxon rank-sum), as benchstat applies it to benchmark runs.
 *
 * Small samples (n1 + n2 <= 60) get the exact permutation distribution of the rank sum, with ties
 * given mid-ranks: the number of ways to pick n1 of the N ranks with each rank sum is counted by
 * dynamic programming over doubled ranks (integers even with half ranks), so the p-value is exact
 * with or without ties, which matters for allocs/op where all runs of one side are often equal.
 * Larger samples use the normal approximation with tie and continuity corrections.
 */
export function mannWhitneyU(x: readonly number[], y: readonly number[]): UTestResult {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) return { u: NaN, p: 1, method: 'exact' };
  const N = n1 + n2;
  const all = [...x.map((v) => ({ v, g: 0 })), ...y.map((v) => ({ v, g: 1 }))].sort((a, b) => a.v - b.v);
  // Doubled mid-ranks: a tie group occupying ranks i+1..j gets (i+1+j) each, an integer.
  const ranks2 = new Array<number>(N);
  const tieSizes: number[] = [];
  for (let i = 0; i < N; ) {
    let j = i;
    while (j + 1 < N && all[j + 1]!.v === all[i]!.v) j++;
    for (let k = i; k <= j; k++) ranks2[k] = i + 1 + (j + 1);
    tieSizes.push(j - i + 1);
    i = j + 1;
  }
  let w2 = 0; // doubled rank sum of x
  for (let k = 0; k < N; k++) if (all[k]!.g === 0) w2 += ranks2[k]!;
  const u = w2 / 2 - (n1 * (n1 + 1)) / 2;
  if (tieSizes.length === 1) return { u, p: 1, method: 'exact' }; // every value equal: no evidence

  const mean2 = n1 * (N + 1); // doubled expected rank sum
  if (N <= EXACT_MAX_N) {
    const maxSum = 2 * N * N; // doubled ranks are at most 2N each
    // ways[k][s]: subsets of size k (of the ranks seen so far) with doubled rank sum s.
    const ways: Float64Array[] = [];
    for (let k = 0; k <= n1; k++) ways.push(new Float64Array(maxSum + 1));
    ways[0]![0] = 1;
    for (let i = 0; i < N; i++) {
      const r = ranks2[i]!;
      for (let k = Math.min(i + 1, n1); k >= 1; k--) {
        const from = ways[k - 1]!;
        const to = ways[k]!;
        for (let s = maxSum - r; s >= 0; s--) if (from[s] !== 0) to[s + r]! += from[s]!;
      }
    }
    const dist = ways[n1]!;
    const obs = Math.abs(w2 - mean2);
    let tail = 0;
    let total = 0;
    for (let s = 0; s <= maxSum; s++) {
      const c = dist[s]!;
      if (c === 0) continue;
      total += c;
      if (Math.abs(s - mean2) >= obs) tail += c;
    }
    return { u, p: Math.min(1, tail / total), method: 'exact' };
  }

  const mu = (n1 * n2) / 2;
  let tieTerm = 0;
  for (const t of tieSizes) tieTerm += t * t * t - t;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (N + 1 - tieTerm / (N * (N - 1))));
  if (sigma === 0) return { u, p: 1, method: 'normal' };
  const z = (Math.abs(u - mu) - 0.5) / sigma;
  return { u, p: Math.min(1, 2 * normalSf(Math.max(z, 0))), method: 'normal' };
}

/** Upper tail of the standard normal distribution. */
function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** erfc with relative error < 1.2e-7 (Numerical Recipes' Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
