import { UsageError } from '../errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { formatDuration, parseDuration } from '../units/duration.js';
import { f2 } from './format.js';
import { tabwrite } from './tabwriter.js';

/**
 * Exact latency counts per bucket, as vegeta's Histogram: bucket i holds [bounds[i], bounds[i+1]),
 * the last one is open-ended, latencies below the first bound count in the first bucket. Fed
 * result by result while reading, so a boundary such as 10ms is exact (the HDR histogram in Metrics
 * resolves values to 0.1 %, which can move a latency sitting on a boundary into its neighbour).
 */
export class LatencyBuckets {
  readonly counts: number[];
  total = 0;

  constructor(readonly bounds: number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }

  add(latencyNs: number): void {
    const b = this.bounds;
    let i = b.length - 1;
    while (i > 0 && latencyNs < b[i]!) i--;
    this.counts[i]!++;
    this.total++;
  }
}

/**
 * vegeta's histogram report (`-type='hist[0,1ms,5ms,10ms,50ms]'`): one row per bucket
 * [lower, upper) with its count, share and a bar of '#' (75 for 100 %), the last bucket open-ended.
 * With LatencyBuckets the counts are exact; with bare bounds they come from the HDR histogram in
 * `m`, exact to its 0.1 % resolution.
 */
export function histReport(m: Metrics, buckets: number[] | LatencyBuckets): string {
  const exact = buckets instanceof LatencyBuckets ? buckets : null;
  const bounds = exact ? exact.bounds : (buckets as number[]);
  const counts = exact ? exact.counts : m.latency.countsInBuckets(bounds);
  const total = exact ? exact.total : m.latency.count;
  let text = 'Bucket\t\t#\t%\tHistogram\n';
  for (let i = 0; i < bounds.length; i++) {
    const ratio = total ? counts[i]! / total : 0;
    const lo = formatDuration(bounds[i]!);
    const hi = i + 1 < bounds.length ? formatDuration(bounds[i + 1]!) : '+Inf';
    text += `[${lo},\t${hi}]\t${counts[i]}\t${f2(ratio * 100)}%\t${'#'.repeat(Math.floor(ratio * 75))}\n`;
  }
  return tabwrite(text);
}

/** Parses the bucket list of `hist[0,1ms,5ms]` (or just `[0,1ms,5ms]`) into ascending ns. */
export function parseHistBuckets(spec: string): number[] {
  const body = spec.startsWith('hist') ? spec.slice(4) : spec;
  if (body.length < 2 || body[0] !== '[' || body[body.length - 1] !== ']') {
    throw new UsageError(`bad histogram buckets "${spec}" (want e.g. hist[0,1ms,5ms,10ms])`);
  }
  const inner = body.slice(1, -1).trim();
  if (inner === '') throw new UsageError(`bad histogram buckets "${spec}": no buckets`);
  const out: number[] = [];
  for (const part of inner.split(',')) {
    let ns: number;
    try {
      ns = parseDuration(part.trim());
    } catch {
      throw new UsageError(`bad histogram bucket "${part.trim()}" in "${spec}" (want durations like 0, 500us, 10ms)`);
    }
    if (ns < 0) throw new UsageError(`bad histogram bucket "${part.trim()}" in "${spec}": negative`);
    if (out.length > 0 && ns <= out[out.length - 1]!) {
      throw new UsageError(`bad histogram buckets "${spec}": bounds must increase`);
    }
    out.push(ns);
  }
  return out;
}
