import type { DurationHistogram } from '../metrics/histogram.js';

/**
 * Prometheus text exposition (format 0.0.4): the families tailprobe exports, written by hand (a
 * dozen families do not need a client library, and the histograms come straight from the HDR ones).
 *
 * Histogram buckets: upper bounds `le` = 2^(i/8) seconds, i = -128..56, i.e. 15.3 µs to 128 s, eight
 * buckets per doubling (the layout of a Prometheus native histogram of schema 3), plus +Inf. Any
 * quantile that histogram_quantile() interpolates inside a bucket [b, b·2^(1/8)] is off by at most
 * the bucket's width: 2^(1/8) - 1 = 9.05 % of the true value (plus the HDR histogram's 0.1 %), for
 * every quantile whose value lies in 15.3 µs..128 s. (Prometheus' classic default buckets, which
 * vegeta's exporter uses, are 11 bounds from 5 ms to 10 s: a p99 between 2.5 s and 5 s is anywhere
 * in a 100 % wide bucket, and anything under 5 ms is one bucket.)
 */
export const BUCKETS_PER_DOUBLING = 8;
export const BUCKET_MIN_EXP = -128;
export const BUCKET_MAX_EXP = 56;
/** Worst-case relative error of a quantile computed from the buckets (bucket width + HDR's 0.1 %). */
export const BUCKET_QUANTILE_ERROR = Math.pow(2, 1 / BUCKETS_PER_DOUBLING) - 1 + 0.001;

/** The upper bounds, in seconds, ascending (without +Inf). */
export const BUCKET_BOUNDS_S: readonly number[] = Array.from(
  { length: BUCKET_MAX_EXP - BUCKET_MIN_EXP + 1 },
  (_, k) => Math.pow(2, (BUCKET_MIN_EXP + k) / BUCKETS_PER_DOUBLING),
);
/** Bounds in ns, with 0 first, for DurationHistogram.countsInBuckets. */
const BOUNDS_NS = [0, ...BUCKET_BOUNDS_S.map((s) => s * 1e9)];
const LE_TEXT = BUCKET_BOUNDS_S.map((s) => formatValue(s));

export type Labels = Record<string, string>;

/** Accumulates families; `text()` is the whole exposition. */
export class Exposition {
  private readonly parts: string[] = [];

  private head(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.parts.push(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`);
  }

  counter(name: string, help: string, samples: Array<[Labels, number]> | number): void {
    this.head(name, 'counter', help);
    this.samples(name, samples);
  }

  gauge(name: string, help: string, samples: Array<[Labels, number]> | number): void {
    this.head(name, 'gauge', help);
    this.samples(name, samples);
  }

  /** A histogram family in seconds from an HDR histogram of durations (ns). */
  histogram(name: string, help: string, h: DurationHistogram): void {
    this.head(name, 'histogram', help);
    const counts = h.countsInBuckets(BOUNDS_NS);
    // counts[0]: values below the first bound; counts[k]: values in [bound k-1, bound k).
    let cum = 0;
    let out = '';
    for (let k = 0; k < LE_TEXT.length; k++) {
      cum += counts[k]!;
      out += `${name}_bucket{le="${LE_TEXT[k]}"} ${cum}\n`;
    }
    out += `${name}_bucket{le="+Inf"} ${h.count}\n${name}_sum ${formatValue(h.sum / 1e9)}\n${name}_count ${h.count}\n`;
    this.parts.push(out);
  }

  private samples(name: string, samples: Array<[Labels, number]> | number): void {
    if (typeof samples === 'number') {
      this.parts.push(`${name} ${formatValue(samples)}\n`);
      return;
    }
    let out = '';
    for (const [labels, v] of samples) out += `${name}${formatLabels(labels)} ${formatValue(v)}\n`;
    this.parts.push(out);
  }

  text(): string {
    return this.parts.join('');
  }
}

function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
}

/** Label values: backslash, double quote and line feed escaped. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Go's float formatting as Prometheus reads it: integers plainly, NaN and infinities by name. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}
