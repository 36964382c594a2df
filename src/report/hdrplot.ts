import type { Metrics } from '../metrics/metrics.js';

/**
 * HdrHistogram's percentile distribution of the latencies (`Value Percentile TotalCount
 * 1/(1-Percentile)`, values in ms), the text HdrHistogram's plotter (hdrhistogram.github.io/HdrHistogram/plotFiles.html)
 * and wrk2 users know.
 */
export function hdrplotReport(m: Metrics): string {
  return m.latency.percentileDistribution();
}
