import * as hdr from 'hdr-histogram-js';

/**
 * An HDR histogram of durations, in nanoseconds at the API, microseconds inside: 1 µs to 1 h at 3
 * significant digits, so any number of values fits in ~200 KB and percentiles are exact to 0.1 %.
 * Values outside the range are clamped (a 0 ns latency is recorded as 1 µs; an hour-long one as an hour),
 * never dropped: dropping the extremes would average the tail away.
 */
export const HIST_LOWEST_US = 1;
export const HIST_HIGHEST_US = 3_600_000_000;

/** hdr-histogram-js's internals that its value -> counts-index arithmetic uses. */
interface HdrIndexing {
  subBucketHalfCountMagnitude: number;
  subBucketHalfCount: number;
  unitMagnitude: number;
  countsArrayIndex(value: number): number;
}

/**
 * Gives a histogram the counts index hdr-histogram-js computes, with integer operations. Its own
 * takes Math.log2 and two Math.pow per value recorded (profiled in max mode: 3 % of the attack
 * thread's CPU, for two histograms per result). For an integer 0 <= v < 2^32 (every value here is
 * a whole µs, at most an hour), floor(log2(v)) is 31 - clz32(v) and v / 2^k is v >>> k, exactly; any
 * other value takes the library's own path. test/metrics/histogram.test.ts checks both agree.
 */
export function integerIndexing(h: hdr.Histogram): void {
  const js = h as unknown as HdrIndexing;
  const halfMag = js.subBucketHalfCountMagnitude;
  const halfCount = js.subBucketHalfCount;
  const unitMag = js.unitMagnitude;
  if (!Number.isInteger(halfMag) || !Number.isInteger(halfCount) || !Number.isInteger(unitMag) || typeof js.countsArrayIndex !== 'function') return;
  const general = js.countsArrayIndex.bind(js);
  js.countsArrayIndex = (v: number): number => {
    if (!(v >= 0 && v <= 0xffffffff) || v !== Math.floor(v)) return general(v);
    let bucket = 31 - Math.clz32(v) - halfMag - unitMag;
    if (bucket < 0) bucket = 0;
    return (bucket + 1) * (1 << halfMag) + (v >>> (bucket + unitMag)) - halfCount;
  };
}

export class DurationHistogram {
  readonly h: hdr.Histogram;
  /** Exact sum and extremes, because the histogram's mean/min/max are bucket-rounded. */
  private sumNs = 0;
  private minNs = Infinity;
  private maxNs = 0;

  constructor(from?: hdr.Histogram) {
    this.h =
      from ??
      hdr.build({
        bitBucketSize: 64,
        autoResize: false,
        lowestDiscernibleValue: HIST_LOWEST_US,
        highestTrackableValue: HIST_HIGHEST_US,
        numberOfSignificantValueDigits: 3,
        useWebAssembly: false,
      });
    integerIndexing(this.h);
  }

  record(ns: number): void {
    let us = Math.round(ns / 1000);
    if (us < HIST_LOWEST_US) us = HIST_LOWEST_US;
    else if (us > HIST_HIGHEST_US) us = HIST_HIGHEST_US;
    this.h.recordValue(us);
    this.sumNs += ns;
    if (ns < this.minNs) this.minNs = ns;
    if (ns > this.maxNs) this.maxNs = ns;
  }

  get count(): number {
    return this.h.totalCount;
  }
  /** Exact mean in ns (0 when empty). */
  get mean(): number {
    return this.count === 0 ? 0 : this.sumNs / this.count;
  }
  get sum(): number {
    return this.sumNs;
  }
  /** Exact minimum in ns (0 when empty). */
  get min(): number {
    return this.count === 0 ? 0 : this.minNs;
  }
  /** Exact maximum in ns. */
  get max(): number {
    return this.maxNs;
  }

  /** Value at percentile p (0..100], in ns. p=100 gives the exact max. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    if (p >= 100) return this.maxNs;
    // Never report a percentile above the true max because of bucket rounding.
    return Math.min(this.h.getValueAtPercentile(p) * 1000, this.maxNs);
  }

  /**
   * Counts per bucket for vegeta's histogram report: bucket i holds values in [bounds[i], bounds[i+1]),
   * the last one [bounds[n-1], +Inf); values below bounds[0] count in the first bucket. Bounds in ns,
   * ascending. Classified by each HDR bucket's lowest equivalent value (0.1 % resolution).
   */
  countsInBuckets(bounds: number[]): number[] {
    const counts = new Array<number>(bounds.length).fill(0);
    if (this.count === 0 || bounds.length === 0) return counts;
    const js = this.h as unknown as {
      recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAtValueIteratedTo: number } };
      lowestEquivalentValue(v: number): number;
    };
    const it = js.recordedValuesIterator;
    it.reset();
    let i = 0;
    while (it.hasNext()) {
      const v = it.next();
      const ns = js.lowestEquivalentValue(v.valueIteratedTo) * 1000;
      while (i + 1 < bounds.length && ns >= bounds[i + 1]!) i++;
      counts[i]! += v.countAtValueIteratedTo;
    }
    return counts;
  }

  /**
   * Every non-empty HDR bin in ascending order: its lowest equivalent value (ns) and its count. For
   * re-bucketing into another layout (Prometheus' classic and native buckets).
   */
  forEachBin(fn: (lowNs: number, count: number) => void): void {
    if (this.count === 0) return;
    // Straight over the counts array: HDR's value iterator allocates per step and costs ~10x more,
    // which matters when a scrape every 100 ms runs this on the attack's main thread.
    const js = this.h as unknown as { countsArrayLength: number; getCountAtIndex(i: number): number; valueFromIndex(i: number): number };
    const n = js.countsArrayLength;
    for (let i = 0; i < n; i++) {
      const c = js.getCountAtIndex(i);
      if (c > 0) fn(js.valueFromIndex(i) * 1000, c);
    }
  }

  merge(other: DurationHistogram): void {
    this.h.add(other.h);
    this.sumNs += other.sumNs;
    if (other.count > 0) {
      this.minNs = Math.min(this.minNs, other.minNs);
      this.maxNs = Math.max(this.maxNs, other.maxNs);
    }
  }

  /**
   * HdrHistogram's percentile distribution text (`Value Percentile TotalCount 1/(1-Percentile)`),
   * values in milliseconds, as HdrHistogram's plotter and wrk2's --latency expect.
   */
  percentileDistribution(ticksPerHalfDistance = 5): string {
    return this.h.outputPercentileDistribution(ticksPerHalfDistance, 1000);
  }

  /**
   * A histogram read from elsewhere (an HdrHistogram interval log) with values in µs: its sum, min
   * and max are the histogram's own (bucket-rounded to 0.1 %), since the exact ones were not kept.
   */
  static fromHdr(inner: hdr.Histogram): DurationHistogram {
    const d = new DurationHistogram();
    d.h.add(inner);
    d.setApproximateExtremes();
    return d;
  }

  /**
   * What was recorded in `cur` since `prev` (an earlier copy of it): the interval histogram of a
   * rolling window. Counts are exact; the sum is exact; min and max are bucket-rounded (0.1 %) and
   * never above the exact max so far. With `into`, the result is written there (reused).
   */
  static since(cur: DurationHistogram, prev: DurationHistogram | null, into?: DurationHistogram): DurationHistogram {
    const d = into ?? new DurationHistogram();
    d.h.reset();
    d.h.add(cur.h);
    if (prev && prev.count > 0) d.h.subtract(prev.h);
    d.setApproximateExtremes();
    d.sumNs = cur.sumNs - (prev?.sumNs ?? 0);
    if (d.count > 0) d.maxNs = Math.min(d.maxNs, cur.maxNs);
    return d;
  }

  /** Makes this an exact copy of `other` (no allocation: the window's snapshots reuse theirs). */
  copyFrom(other: DurationHistogram): void {
    this.h.reset();
    this.h.add(other.h);
    this.sumNs = other.sumNs;
    this.minNs = other.minNs;
    this.maxNs = other.maxNs;
  }

  /** Restores the exact sum, min and max (ns) kept beside the histogram (an hlog's totals line). */
  setExact(sumNs: number, minNs: number, maxNs: number): void {
    if (this.count === 0) return;
    this.sumNs = sumNs;
    this.minNs = minNs;
    this.maxNs = maxNs;
  }

  private setApproximateExtremes(): void {
    const js = this.h as unknown as { lowestEquivalentValue(v: number): number; highestEquivalentValue(v: number): number };
    if (this.count === 0) {
      this.sumNs = 0;
      this.minNs = Infinity;
      this.maxNs = 0;
      return;
    }
    this.minNs = js.lowestEquivalentValue(this.h.minNonZeroValue) * 1000;
    this.maxNs = js.highestEquivalentValue(this.h.maxValue) * 1000;
    this.sumNs = this.h.mean * this.count * 1000;
  }

  /** Compact portable form (HdrHistogram's compressed base64 plus our exact sum/min/max). */
  encode(): string {
    const body = hdr.encodeIntoCompressedBase64(this.h);
    return `${this.sumNs}:${this.count ? this.minNs : 0}:${this.maxNs}:${body}`;
  }

  static decode(text: string): DurationHistogram {
    const [sum, min, max, body] = text.split(':', 4);
    const inner = hdr.decodeFromCompressedBase64(body!, 64, false);
    const d = new DurationHistogram();
    d.h.add(inner);
    inner.destroy();
    d.sumNs = Number(sum);
    d.minNs = d.count ? Number(min) : Infinity;
    d.maxNs = Number(max);
    return d;
  }
}
