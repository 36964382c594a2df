import { DurationHistogram } from '../metrics/histogram.js';

/** The HDR histogram inside a DurationHistogram (recycled: allocating one is the costly part). */
type HdrCounts = DurationHistogram['h'];

/**
 * Per-second (per-bucket) aggregates of a run, built while streaming its results: requests, successes,
 * errors and status codes per bucket, and the latency percentiles of each bucket from its own HDR
 * histogram (the rolling p50/p99/p99.9 lines of the plot).
 *
 * Memory stays bounded on long runs: a bucket's histogram (~190 KB) lives only while results for it
 * can still arrive. Results come in completion order, so a bucket is closed (its percentiles taken
 * and its histogram dropped) once results scheduled `openBuckets` buckets later have been seen: a
 * result for it would have to have taken longer than that (two minutes by default; the attack's
 * timeout is 30 s). A straggler that still arrives later is counted (requests, codes, max) but
 * cannot move that bucket's percentiles; `lateResults` says how many did.
 */

export interface TimeSeriesOptions {
  /** Bucket width, ns. Default 1 s. */
  bucketNs?: number;
  /** Buckets kept open behind the newest one seen. Default 120. */
  openBuckets?: number;
  /** Distinct status codes tracked per run; the rest are summed as "other" (-1). Default 8. */
  maxCodes?: number;
}

export interface TimeSeries {
  bucketNs: number;
  /** Start of each bucket, ns from the run's origin, ascending, with no gaps (empty buckets are zeros). */
  start: Float64Array;
  requests: Float64Array;
  /** Results whose response ended in the bucket (intended send + latency): dips when the service stalls. */
  completed: Float64Array;
  successes: Float64Array;
  /** Results with a transport error (vegeta's error set: no response, timeout, ...). */
  errors: Float64Array;
  /** Latency percentiles of each bucket, ns; NaN for an empty bucket. */
  p50: Float64Array;
  p99: Float64Array;
  p999: Float64Array;
  /** Exact slowest request of each bucket, ns; NaN for an empty bucket. */
  max: Float64Array;
  /** Count per status code per bucket; code -1 collects the codes beyond maxCodes. */
  codes: Array<{ code: number; counts: Float64Array }>;
  /** Results for buckets already closed (see above); 0 in any sane run. */
  lateResults: number;
}

interface Bucket {
  requests: number;
  successes: number;
  errors: number;
  codes: number[];
  max: number;
  hist: DurationHistogram | null;
  p50: number;
  p99: number;
  p999: number;
}

export class TimeSeriesBuilder {
  readonly bucketNs: number;
  private readonly openBuckets: number;
  private readonly maxCodes: number;
  private readonly buckets = new Map<number, Bucket>();
  private readonly open: number[] = [];
  private newest = -Infinity;
  private readonly codeSlots = new Map<number, number>();
  private readonly slotCodes: number[] = [];
  private late = 0;
  /** Counts arrays of closed buckets, reset, for the next buckets (a long run allocates only ~openBuckets). */
  private readonly spare: HdrCounts[] = [];
  private lastKey = NaN;
  private readonly completions = new Map<number, number>();
  private lastDoneKey = NaN;
  private lastDoneCount = 0;
  private lastBucket: Bucket | undefined;

  constructor(opts: TimeSeriesOptions = {}) {
    this.bucketNs = opts.bucketNs && opts.bucketNs > 0 ? opts.bucketNs : 1e9;
    this.openBuckets = Math.max(1, opts.openBuckets ?? 120);
    this.maxCodes = Math.max(1, opts.maxCodes ?? 8);
  }

  /** t: intended send time, ns from the run's origin. */
  add(t: number, latency: number, code: number, error: boolean, success: boolean): void {
    const k = Math.floor(t / this.bucketNs);
    // Consecutive results nearly always fall in the same bucket: skip the map lookup then.
    let b = k === this.lastKey ? this.lastBucket : this.buckets.get(k);
    if (b === undefined) {
      const hist = new DurationHistogram(this.spare.pop());
      b = { requests: 0, successes: 0, errors: 0, codes: [], max: 0, hist, p50: NaN, p99: NaN, p999: NaN };
      this.buckets.set(k, b);
      this.open.push(k);
      if (k > this.newest) {
        this.newest = k;
        this.closeOld();
      }
    }
    this.lastKey = k;
    this.lastBucket = b;
    const done = Math.floor((t + latency) / this.bucketNs);
    if (done !== this.lastDoneKey) {
      if (this.lastDoneCount > 0) this.completions.set(this.lastDoneKey, (this.completions.get(this.lastDoneKey) ?? 0) + this.lastDoneCount);
      this.lastDoneKey = done;
      this.lastDoneCount = 0;
    }
    this.lastDoneCount++;
    b.requests++;
    if (success) b.successes++;
    if (error) b.errors++;
    const slot = this.slotOf(code);
    b.codes[slot] = (b.codes[slot] ?? 0) + 1;
    if (latency > b.max) b.max = latency;
    if (b.hist) b.hist.record(latency);
    else this.late++;
  }

  finish(): TimeSeries {
    for (const k of this.open) this.close(this.buckets.get(k)!);
    this.open.length = 0;
    if (this.lastDoneCount > 0) this.completions.set(this.lastDoneKey, (this.completions.get(this.lastDoneKey) ?? 0) + this.lastDoneCount);
    this.lastDoneCount = 0;
    // The time axis is that of the schedule: completions after the last scheduled bucket (the
    // run's wait) are not drawn.
    const keys = [...this.buckets.keys()].sort((a, b) => a - b);
    const first = keys.length ? keys[0]! : 0;
    const n = keys.length ? keys[keys.length - 1]! - first + 1 : 0;
    const f = () => new Float64Array(n);
    const nan = () => new Float64Array(n).fill(NaN);
    const s: TimeSeries = {
      bucketNs: this.bucketNs,
      start: f(),
      requests: f(),
      completed: f(),
      successes: f(),
      errors: f(),
      p50: nan(),
      p99: nan(),
      p999: nan(),
      max: nan(),
      codes: this.slotCodes.map((code) => ({ code, counts: f() })),
      lateResults: this.late,
    };
    for (let i = 0; i < n; i++) s.start[i] = (first + i) * this.bucketNs;
    for (const [k, c] of this.completions) if (k >= first && k < first + n) s.completed[k - first] += c;
    for (const k of keys) {
      const b = this.buckets.get(k)!;
      const i = k - first;
      s.requests[i] = b.requests;
      s.successes[i] = b.successes;
      s.errors[i] = b.errors;
      s.p50[i] = b.p50;
      s.p99[i] = b.p99;
      s.p999[i] = b.p999;
      s.max[i] = b.max;
      b.codes.forEach((c, slot) => (s.codes[slot]!.counts[i] = c ?? 0));
    }
    s.codes.sort((a, b) => (a.code < 0 ? 1 : b.code < 0 ? -1 : a.code - b.code));
    return s;
  }

  /** Status codes beyond the first maxCodes - 1 seen share one "other" slot (code -1). */
  private slotOf(code: number): number {
    let slot = this.codeSlots.get(code);
    if (slot !== undefined) return slot;
    if (this.slotCodes.length < this.maxCodes - 1) slot = this.slotCodes.push(code) - 1;
    else {
      slot = this.slotCodes.indexOf(-1);
      if (slot < 0) slot = this.slotCodes.push(-1) - 1;
    }
    this.codeSlots.set(code, slot);
    return slot;
  }

  private closeOld(): void {
    const limit = this.newest - this.openBuckets;
    let w = 0;
    for (let r = 0; r < this.open.length; r++) {
      const k = this.open[r]!;
      if (k < limit) this.close(this.buckets.get(k)!);
      else this.open[w++] = k;
    }
    this.open.length = w;
  }

  private close(b: Bucket): void {
    const h = b.hist;
    if (!h) return;
    b.p50 = h.percentile(50);
    b.p99 = h.percentile(99);
    b.p999 = h.percentile(99.9);
    b.hist = null;
    h.h.reset();
    this.spare.push(h.h);
  }
}
