import type { DurationHistogram } from '../metrics/histogram.js';
import { delimited, ProtoWriter } from './protobuf.js';

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

/**
 * Native histograms (protobuf exposition only): schema 5, i.e. 32 buckets per doubling, bucket i
 * holding (2^((i-1)/32), 2^(i/32)] seconds, over the HDR histogram's whole range (1 µs..1 h) and
 * sparse (only non-empty buckets are sent). Worst-case quantile error: 2^(1/32) - 1 = 2.2 %, plus
 * HDR's 0.1 %.
 */
export const NATIVE_SCHEMA = 5;
export const NATIVE_QUANTILE_ERROR = Math.pow(2, Math.pow(2, -NATIVE_SCHEMA)) - 1 + 0.001;
/** Prometheus' default zero-bucket width (no value of ours is below 1 µs, so it stays empty). */
const NATIVE_ZERO_THRESHOLD = 2.938735877055719e-39;

type Sample = { labels: Labels; value: number };
type FamilyType = 'counter' | 'gauge' | 'histogram';
interface Family {
  name: string;
  help: string;
  type: FamilyType;
  samples: Sample[];
  histogram?: DurationHistogram;
}

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** Accumulates families; `text()` and `protobuf()` render the same families in the two expositions. */
export class Exposition {
  private readonly families: Family[] = [];

  counter(name: string, help: string, samples: Array<[Labels, number]> | number): void {
    this.families.push({ name, help, type: 'counter', samples: toSamples(samples) });
  }

  gauge(name: string, help: string, samples: Array<[Labels, number]> | number): void {
    this.families.push({ name, help, type: 'gauge', samples: toSamples(samples) });
  }

  /** A histogram family in seconds from an HDR histogram of durations (ns). */
  histogram(name: string, help: string, h: DurationHistogram): void {
    this.families.push({ name, help, type: 'histogram', samples: [], histogram: h });
  }

  /** Text exposition format 0.0.4. */
  text(): string {
    const parts: string[] = [];
    for (const f of this.families) {
      parts.push(`# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`);
      if (f.histogram) {
        const h = f.histogram;
        const cum = classicCumulative(h);
        let out = '';
        for (let k = 0; k < LE_TEXT.length; k++) out += `${f.name}_bucket{le="${LE_TEXT[k]}"} ${cum[k]}\n`;
        out += `${f.name}_bucket{le="+Inf"} ${h.count}\n${f.name}_sum ${formatValue(h.sum / 1e9)}\n${f.name}_count ${h.count}\n`;
        parts.push(out);
        continue;
      }
      let out = '';
      for (const s of f.samples) out += `${f.name}${formatLabels(s.labels)} ${formatValue(s.value)}\n`;
      parts.push(out);
    }
    return parts.join('');
  }

  /**
   * Protobuf exposition (io.prometheus.client.MetricFamily, length-delimited), what a Prometheus
   * with native histograms asks for: each histogram carries both its native (schema 5) buckets and
   * the classic ones, so either kind of query works.
   */
  protobuf(): Uint8Array {
    const msgs: Uint8Array[] = [];
    for (const f of this.families) {
      const fam = new ProtoWriter().string(1, f.name).string(2, f.help).uint64(3, f.type === 'counter' ? 0 : f.type === 'gauge' ? 1 : 4);
      if (f.histogram) fam.bytes(4, new ProtoWriter().bytes(7, histogramMessage(f.histogram)).finish());
      for (const s of f.samples) {
        const metric = new ProtoWriter();
        for (const [k, v] of Object.entries(s.labels)) metric.bytes(1, new ProtoWriter().string(1, k).string(2, v).finish());
        metric.bytes(f.type === 'counter' ? 3 : 2, new ProtoWriter().double(1, s.value).finish());
        fam.bytes(4, metric.finish());
      }
      msgs.push(delimited(fam.finish()));
    }
    const total = msgs.reduce((n, m) => n + m.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const m of msgs) {
      out.set(m, at);
      at += m.length;
    }
    return out;
  }
}

function toSamples(samples: Array<[Labels, number]> | number): Sample[] {
  return typeof samples === 'number' ? [{ labels: {}, value: samples }] : samples.map(([labels, value]) => ({ labels, value }));
}

/** Cumulative counts at each classic bound (values <= le, by each HDR bin's lowest value). */
function classicCumulative(h: DurationHistogram): number[] {
  // Each HDR bin goes to the first bound above its lowest value (values below 15.3 µs to the first).
  const perBucket = new Array<number>(LE_TEXT.length + 1).fill(0);
  let k = 0;
  h.forEachBin((lowNs, count) => {
    while (k < BOUNDS_NS.length - 1 && lowNs >= BOUNDS_NS[k + 1]!) k++;
    perBucket[k]! += count;
  });
  // perBucket[0]: below the first bound; perBucket[k]: in [bound k-1, bound k); the last: above all.
  const cum: number[] = [];
  let c = 0;
  for (let b = 0; b < LE_TEXT.length; b++) {
    c += perBucket[b]!;
    cum.push(c);
  }
  return cum;
}

/** The native bucket index of a value in seconds: i such that 2^((i-1)/32) < v <= 2^(i/32). */
export function nativeIndex(seconds: number): number {
  return Math.ceil(Math.log2(seconds) * (1 << NATIVE_SCHEMA) - 1e-9);
}

function histogramMessage(h: DurationHistogram): Uint8Array {
  const w = new ProtoWriter();
  w.uint64(1, h.count).double(2, h.sum / 1e9);
  const cum = classicCumulative(h);
  for (let k = 0; k < BUCKET_BOUNDS_S.length; k++) {
    w.bytes(3, new ProtoWriter().uint64(1, cum[k]!).double(2, BUCKET_BOUNDS_S[k]!).finish());
  }
  w.sint(5, NATIVE_SCHEMA).double(6, NATIVE_ZERO_THRESHOLD).uint64(7, 0);
  // Sparse positive buckets: spans of consecutive indexes, counts as deltas from the previous bucket.
  const idx: number[] = [];
  const cnt: number[] = [];
  h.forEachBin((lowNs, count) => {
    const i = nativeIndex(lowNs / 1e9);
    if (idx.length > 0 && idx[idx.length - 1] === i) cnt[cnt.length - 1]! += count;
    else {
      idx.push(i);
      cnt.push(count);
    }
  });
  let prevEnd = 0;
  let k = 0;
  while (k < idx.length) {
    let j = k;
    while (j + 1 < idx.length && idx[j + 1] === idx[j]! + 1) j++;
    const offset = k === 0 ? idx[k]! : idx[k]! - prevEnd;
    w.bytes(12, new ProtoWriter().sint(1, offset).uint64(2, j - k + 1).finish());
    prevEnd = idx[j]! + 1;
    k = j + 1;
  }
  let prev = 0;
  for (const c of cnt) {
    w.sint(13, c - prev);
    prev = c;
  }
  if (h.count === 0) {
    // An empty native histogram still needs a span-less message that says it is native.
    w.bytes(12, new ProtoWriter().sint(1, 0).uint64(2, 0).finish());
  }
  return w.finish();
}

/**
 * Content negotiation on `Accept`: the protobuf exposition when the client prefers it (Prometheus
 * lists it first, with the highest q, when it scrapes native histograms), text otherwise.
 */
export function wantsProtobuf(accept: string | undefined): boolean {
  if (!accept) return false;
  let best: { proto: boolean; q: number } | null = null;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((x) => x.trim());
    const p = new Map(params.map((x) => x.split('=').map((y) => y.trim()) as [string, string]));
    const q = p.has('q') ? Number(p.get('q')) : 1;
    let proto: boolean;
    if (type === 'application/vnd.google.protobuf') {
      if (p.get('proto') !== 'io.prometheus.client.MetricFamily' || p.get('encoding') !== 'delimited') continue;
      proto = true;
    } else if (type === 'text/plain' || type === '*/*' || type === 'text/*') proto = false;
    else continue;
    if (!(q > 0)) continue;
    if (best === null || q > best.q) best = { proto, q };
  }
  return best?.proto === true;
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
