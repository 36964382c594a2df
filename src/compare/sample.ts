import { HIST_HIGHEST_US, HIST_LOWEST_US } from '../metrics/histogram.js';
import { isSuccess, type Result } from '../results/result.js';

/**
 * What the bootstrap resamples: a run cut into consecutive time blocks, each block keeping a
 * histogram of its latencies (HDR buckets) plus its exact request, success and latency-sum totals.
 *
 * Why blocks and not single requests: latencies in a load test are not independent. A GC pause or
 * an event-loop stall delays every request in flight, and a queue that builds near the knee takes
 * a while to drain, so slow requests come in runs. Resampling requests one by one treats each of
 * those as independent luck and makes the confidence interval too narrow; resampling blocks of
 * consecutive requests (a block bootstrap) keeps the runs together. With one request per block it
 * is the ordinary bootstrap over requests.
 *
 * Why histogram buckets and not raw latencies: a run can have millions of requests. The buckets are
 * the HDR histogram's (3 significant digits, as Metrics uses), so a percentile computed here is the
 * very value Metrics reports, and memory is bounded by blocks x distinct buckets, not by requests.
 */

/** Bucket layout of DurationHistogram (HDR, 1 µs unit, 3 significant digits: 2048 sub-buckets). */
const SUB_BUCKET_BITS = 11;

/** The microsecond value a latency is recorded as (same rounding and clamping as DurationHistogram). */
function toMicros(ns: number): number {
  let us = Math.round(ns / 1000);
  if (us < HIST_LOWEST_US) us = HIST_LOWEST_US;
  else if (us > HIST_HIGHEST_US) us = HIST_HIGHEST_US;
  return us;
}

/** Lowest value (µs) of the HDR bucket holding `us`: the bucket's key. */
export function bucketLowest(us: number): number {
  if (us < 1 << SUB_BUCKET_BITS) return us;
  const shift = Math.floor(Math.log2(us)) - (SUB_BUCKET_BITS - 1);
  const size = 2 ** shift;
  return Math.floor(us / size) * size;
}

/** Highest value (µs) of the HDR bucket whose lowest value is `lowest`: what HDR reports for it. */
export function bucketHighest(lowest: number): number {
  if (lowest < 1 << SUB_BUCKET_BITS) return lowest;
  const shift = Math.floor(Math.log2(lowest)) - (SUB_BUCKET_BITS - 1);
  return lowest + 2 ** shift - 1;
}

/** A finished, immutable block sample (column-major, so a percentile reads only the buckets it needs). */
export interface BlockSample {
  /** Width of one block, ns. */
  blockNs: number;
  /** Per block: requests, successes, exact sum of latencies (ns). */
  n: Float64Array;
  s: Float64Array;
  sum: Float64Array;
  /** Bucket values ascending, ns (HDR's highest equivalent value, capped at the run's max as Metrics does). */
  values: Float64Array;
  /** Column j holds entries colStart[j] .. colStart[j+1]-1: (block index, count). */
  colStart: Uint32Array;
  entryBlock: Uint32Array;
  entryCount: Float64Array;
  /** Exact maximum latency, ns. */
  maxNs: number;
}

/** Blocks are first recorded this fine, then joined to the asked width; the count is kept bounded. */
const FINE_BLOCK_NS = 10e6;
const MAX_FINE_BLOCKS = 20_000;
/** Fewer blocks than this make a block bootstrap too coarse: blocks are narrowed to reach it. */
export const MIN_BLOCKS = 30;
/** More blocks than this add cost, not information: blocks are widened to stay under it. */
export const MAX_BLOCKS = 2_000;

interface Fine {
  n: number;
  s: number;
  sum: number;
  counts: Map<number, number>;
}

/** Builds a BlockSample from results in any order (files are written in completion order). */
export class SampleBuilder {
  private fineNs = FINE_BLOCK_NS;
  private origin: bigint | null = null;
  private fine = new Map<number, Fine>();
  private maxNs = 0;
  private count = 0;

  add(r: Result): void {
    if (this.origin === null) this.origin = r.timestamp;
    const idx = Math.floor(Number(r.timestamp - this.origin) / this.fineNs);
    let b = this.fine.get(idx);
    if (!b) {
      if (this.fine.size >= MAX_FINE_BLOCKS) {
        this.widen();
        this.add(r);
        return;
      }
      b = { n: 0, s: 0, sum: 0, counts: new Map() };
      this.fine.set(idx, b);
    }
    b.n++;
    if (isSuccess(r)) b.s++;
    b.sum += r.latency;
    const key = bucketLowest(toMicros(r.latency));
    b.counts.set(key, (b.counts.get(key) ?? 0) + 1);
    if (r.latency > this.maxNs) this.maxNs = r.latency;
    this.count++;
  }

  get requests(): number {
    return this.count;
  }

  /** Doubles the fine block width, joining neighbours, to keep memory bounded on very long runs. */
  private widen(): void {
    this.fineNs *= 2;
    const joined = new Map<number, Fine>();
    for (const [idx, b] of this.fine) joinInto(joined, Math.floor(idx / 2), b);
    this.fine = joined;
  }

  /**
   * Joins fine blocks into blocks of `blockNs` (0 = one request per block is not supported here:
   * the finest is the recording width), narrowed to reach MIN_BLOCKS and widened to stay under
   * MAX_BLOCKS, and lays the result out for resampling.
   */
  build(blockNs = 100e6): BlockSample {
    const idxs = [...this.fine.keys()].sort((a, b) => a - b);
    const spanFine = idxs.length ? idxs[idxs.length - 1]! - idxs[0]! + 1 : 0;
    let per = Math.max(1, Math.round(blockNs / this.fineNs));
    per = Math.min(per, Math.max(1, Math.floor(spanFine / MIN_BLOCKS)));
    per = Math.max(per, Math.ceil(spanFine / MAX_BLOCKS));
    const blocks = new Map<number, Fine>();
    for (const i of idxs) joinInto(blocks, Math.floor((i - idxs[0]!) / per), this.fine.get(i)!);
    // Empty time blocks (a pause in the schedule) carry no requests; leaving them out changes nothing.
    const list = [...blocks.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b);

    const keys = new Set<number>();
    let entries = 0;
    for (const b of list) {
      for (const k of b.counts.keys()) keys.add(k);
      entries += b.counts.size;
    }
    const sortedKeys = [...keys].sort((a, b) => a - b);
    const column = new Map<number, number>();
    sortedKeys.forEach((k, j) => column.set(k, j));
    const colStart = new Uint32Array(sortedKeys.length + 1);
    for (const b of list) for (const k of b.counts.keys()) colStart[column.get(k)! + 1]!++;
    for (let j = 0; j < sortedKeys.length; j++) colStart[j + 1]! += colStart[j]!;
    const fill = colStart.slice(0, sortedKeys.length);
    const entryBlock = new Uint32Array(entries);
    const entryCount = new Float64Array(entries);
    const n = new Float64Array(list.length);
    const s = new Float64Array(list.length);
    const sum = new Float64Array(list.length);
    list.forEach((b, k) => {
      n[k] = b.n;
      s[k] = b.s;
      sum[k] = b.sum;
      for (const [key, c] of b.counts) {
        const e = fill[column.get(key)!]!++;
        entryBlock[e] = k;
        entryCount[e] = c;
      }
    });
    const values = Float64Array.from(sortedKeys, (k) => Math.min(bucketHighest(k) * 1000, this.maxNs));
    return { blockNs: per * this.fineNs, n, s, sum, values, colStart, entryBlock, entryCount, maxNs: this.maxNs };
  }
}

function joinInto(into: Map<number, Fine>, idx: number, b: Fine): void {
  const t = into.get(idx);
  if (!t) {
    into.set(idx, { n: b.n, s: b.s, sum: b.sum, counts: new Map(b.counts) });
    return;
  }
  t.n += b.n;
  t.s += b.s;
  t.sum += b.sum;
  for (const [k, c] of b.counts) t.counts.set(k, (t.counts.get(k) ?? 0) + c);
}
