import type { Explanation } from '../explain/index.js';
import { Metrics } from '../metrics/metrics.js';
import { emptyMeta, isSuccess, type Result, type RunEvent, type RunMeta } from '../results/result.js';
import { LatencyDownsampler, type DownsampledPoints, type DownsampleOptions } from './downsample.js';
import { percentileDistribution, type DistributionPoints } from './distribution.js';
import { TimeSeriesBuilder, type TimeSeries, type TimeSeriesOptions } from './timeseries.js';

/**
 * Everything the plot needs from one run, computed in one streaming pass over its results with
 * bounded memory: the run's Metrics (the summary table, the distribution curve), the downsampled
 * latency points, and the per-second series. Results are never held: each batch is folded in and
 * dropped, so 5 million results cost the same memory as 5 thousand.
 */
export interface RunAggregateOptions extends DownsampleOptions, TimeSeriesOptions {}

export interface RunPlot {
  /** Label of the run in the page (attack name, else the file name). */
  name: string;
  /** Where it was read from. */
  source: string;
  meta: RunMeta;
  metrics: Metrics;
  /** x = 0 of the run's time axes: the start of its schedule, ns since the epoch. */
  t0: bigint;
  /** Point times are ns from t0. */
  points: DownsampledPoints;
  /** Bucket starts are ns from t0. */
  series: TimeSeries;
  distribution: DistributionPoints;
  /** Agent events (GC pauses, event-loop stalls), as recorded. */
  events: RunEvent[];
  /** The input was cut off (a partial final record); it still plots, with a note. */
  truncated: boolean;
  truncatedBytes: number;
  /** The run's slow requests split into their parts (`plot -explain`, or set by a library user): drawn as a lane under the latency chart. */
  explanation?: Explanation | null;
  /** Set when the run was merged from several files (the shards of one plan): each file's meta. */
  parts?: Array<{ source: string; meta: RunMeta; truncated: boolean; truncatedBytes: number }>;
}

export class RunAggregator {
  readonly metrics = new Metrics();
  private readonly points: LatencyDownsampler;
  private readonly series: TimeSeriesBuilder;
  /** Internal origin of the relative times (the first instant seen); rebased to t0 at the end. */
  private origin: bigint | null = null;

  constructor(opts: RunAggregateOptions = {}) {
    this.points = new LatencyDownsampler(opts);
    this.series = new TimeSeriesBuilder(opts);
  }

  /** Sets the origin before the first result (the schedule start, when the file header gives it). */
  setOrigin(ns: bigint): void {
    if (this.origin === null) this.origin = ns;
  }

  add(r: Result): void {
    this.metrics.add(r);
    if (this.origin === null) this.origin = r.timestamp;
    const t = Number(r.timestamp - this.origin);
    const success = isSuccess(r);
    // The scatter marks every failed request apart (transport errors and 4xx/5xx alike).
    this.points.add(t, r.latency, !success);
    this.series.add(t, r.latency, r.code, r.error !== '', success);
  }

  addBatch(batch: readonly Result[]): void {
    for (const r of batch) this.add(r);
  }

  finish(name: string, source: string, meta: RunMeta = emptyMeta(), truncatedBytes = 0, truncated = truncatedBytes > 0): RunPlot {
    const m = this.metrics;
    const startedAt = meta.info?.startedAt;
    let t0 = m.requests > 0 ? m.earliest : (startedAt ?? 0n);
    if (startedAt !== undefined && startedAt > 0n && startedAt < t0) t0 = startedAt;
    const shift = this.origin === null ? 0 : Number(this.origin - t0);
    const points = this.points.result();
    for (const set of [points.ok, points.errors]) for (let i = 0; i < set.t.length; i++) set.t[i]! += shift;
    const series = this.series.finish();
    for (let i = 0; i < series.start.length; i++) series.start[i]! += shift;
    return {
      name,
      source,
      meta,
      metrics: m,
      t0,
      points,
      series,
      distribution: percentileDistribution(m.latency),
      events: meta.events,
      truncated,
      truncatedBytes,
    };
  }
}
