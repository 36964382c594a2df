import { DurationHistogram } from './histogram.js';
import { isSuccess, LATE_SEND_THRESHOLD_NS, type Result } from '../results/result.js';

/**
 * Aggregate numbers over a set of results, as vegeta's Metrics, plus the deep tail and the
 * generator's schedule keeping. One Metrics serves report, compare, sweep, SLO gates, plot and the
 * live progress line, so every number tailprobe prints about a run is computed here and only here.
 *
 * Memory is bounded: histograms plus the status-code and error maps, however many results.
 */
export interface LatencySummary {
  /** All in ns. */
  total: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
}

export interface ScheduleSummary {
  /** False when the results did not record send lag (vegeta formats). */
  recorded: boolean;
  /** Requests sent more than LATE_SEND_THRESHOLD_NS after their intended time. */
  late: number;
  lateRatio: number;
  /** Send lag percentiles, ns. */
  p50: number;
  p99: number;
  max: number;
}

/** Errors are grouped by their text with a count (vegeta prints the set; we also count). */
const MAX_DISTINCT_ERRORS = 1000;

export class Metrics {
  readonly latency = new DurationHistogram();
  readonly sendLag = new DurationHistogram();
  requests = 0;
  successes = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Intended send time of the first and last request, ns since epoch. */
  earliest = 0n;
  latest = 0n;
  /** Completion of the request that finished last, ns since epoch. */
  end = 0n;
  lateSends = 0;
  /** Status code -> count; code 0 means no response. */
  readonly statusCodes = new Map<number, number>();
  /** Error text -> count, in order of first appearance. */
  readonly errors = new Map<string, number>();
  /** Distinct errors beyond MAX_DISTINCT_ERRORS are counted here instead of listed. */
  otherErrors = 0;

  add(r: Result): void {
    this.requests++;
    this.latency.record(r.latency);
    if (r.sendLag >= 0) {
      this.sendLag.record(r.sendLag);
      if (r.sendLag > LATE_SEND_THRESHOLD_NS) this.lateSends++;
    }
    if (isSuccess(r)) this.successes++;
    this.bytesIn += r.bytesIn;
    this.bytesOut += r.bytesOut;
    const ts = r.timestamp;
    if (this.requests === 1 || ts < this.earliest) this.earliest = ts;
    if (this.requests === 1 || ts > this.latest) this.latest = ts;
    const done = ts + BigInt(Math.round(r.latency));
    if (done > this.end) this.end = done;
    this.statusCodes.set(r.code, (this.statusCodes.get(r.code) ?? 0) + 1);
    if (r.error !== '') {
      const n = this.errors.get(r.error);
      if (n !== undefined) this.errors.set(r.error, n + 1);
      else if (this.errors.size < MAX_DISTINCT_ERRORS) this.errors.set(r.error, 1);
      else this.otherErrors++;
    }
  }

  /** Fold another Metrics in (workers, several files): exact, since histograms merge exactly. */
  merge(o: Metrics): void {
    if (o.requests === 0) return;
    const first = this.requests === 0;
    this.requests += o.requests;
    this.successes += o.successes;
    this.bytesIn += o.bytesIn;
    this.bytesOut += o.bytesOut;
    this.latency.merge(o.latency);
    this.sendLag.merge(o.sendLag);
    this.lateSends += o.lateSends;
    if (first || o.earliest < this.earliest) this.earliest = o.earliest;
    if (first || o.latest > this.latest) this.latest = o.latest;
    if (o.end > this.end) this.end = o.end;
    for (const [c, n] of o.statusCodes) this.statusCodes.set(c, (this.statusCodes.get(c) ?? 0) + n);
    for (const [e, n] of o.errors) {
      const m = this.errors.get(e);
      if (m !== undefined) this.errors.set(e, m + n);
      else if (this.errors.size < MAX_DISTINCT_ERRORS) this.errors.set(e, n);
      else this.otherErrors += n;
    }
    this.otherErrors += o.otherErrors;
  }

  /** Attack duration: first to last intended send, ns. */
  get duration(): number {
    return Number(this.latest - this.earliest);
  }
  /** Wait: from the last send to the last completion, ns. */
  get wait(): number {
    return this.requests === 0 ? 0 : Math.max(0, Number(this.end - this.latest));
  }
  /** Requests per second over the attack duration (as vegeta computes it). */
  get rate(): number {
    const d = this.duration;
    return d > 0 ? (this.requests - 1) / (d / 1e9) : 0;
  }
  /** Successful requests per second over duration + wait. */
  get throughput(): number {
    const d = this.duration + this.wait;
    return d > 0 ? this.successes / (d / 1e9) : 0;
  }
  get success(): number {
    return this.requests === 0 ? 0 : this.successes / this.requests;
  }

  latencies(): LatencySummary {
    const h = this.latency;
    return {
      total: h.sum,
      mean: h.mean,
      min: h.min,
      p50: h.percentile(50),
      p90: h.percentile(90),
      p95: h.percentile(95),
      p99: h.percentile(99),
      p999: h.percentile(99.9),
      p9999: h.percentile(99.99),
      max: h.max,
    };
  }

  schedule(): ScheduleSummary {
    const h = this.sendLag;
    return {
      recorded: h.count > 0,
      late: this.lateSends,
      lateRatio: h.count ? this.lateSends / h.count : 0,
      p50: h.percentile(50),
      p99: h.percentile(99),
      max: h.max,
    };
  }
}
