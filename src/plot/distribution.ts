import type { DurationHistogram } from '../metrics/histogram.js';

/**
 * Latency against percentile on HdrHistogram's log axis: x = 1/(1-p), so 90 % is at 10, 99 % at
 * 100, 99.9 % at 1000, and each "nine" of the tail gets the same width as the whole body of the
 * distribution. Points are spaced evenly on that axis (`perDecade` per nine) up to the last
 * percentile the sample size supports, p = 1 - 1/count, where the slowest request is drawn.
 */
export interface DistributionPoints {
  /** 1/(1-p), from 1 (p = 0) to the count of values. */
  x: Float64Array;
  /** Latency at that percentile, ns. */
  latency: Float64Array;
}

export function percentileDistribution(h: DurationHistogram, perDecade = 24): DistributionPoints {
  const n = h.count;
  if (n === 0) return { x: new Float64Array(0), latency: new Float64Array(0) };
  const xs: number[] = [];
  const ys: number[] = [];
  const lastX = Math.max(n, 1);
  for (let i = 0; ; i++) {
    const x = Math.pow(10, i / perDecade);
    if (x >= lastX) break;
    xs.push(x);
    ys.push(h.percentile(100 * (1 - 1 / x)));
  }
  // The slowest request: the (1 - 1/n)th percentile of n values, by convention of the HDR plots.
  xs.push(lastX);
  ys.push(h.max);
  return { x: Float64Array.from(xs), latency: Float64Array.from(ys) };
}
