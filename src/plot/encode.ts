import { describeKey, type Explanation } from '../explain/index.js';
import type { RunEvent } from '../results/result.js';
import type { RunPlot } from './run.js';
import type { SweepPlot } from './sweep.js';

/**
 * The compact form of the plot data embedded in the page: large arrays as base64 typed arrays
 * (Float32 is plenty for pixels: 7 significant digits), times in seconds from each run's start,
 * latencies in milliseconds. The page decodes these without any further computation.
 */
export interface Encoded {
  f32?: string;
  f64?: string;
  u8?: string;
}

/**
 * The page's data document (the JSON in <script id="tp-data">), as html.ts writes it and the page
 * script (client/app.ts) reads it: one type for both sides, imported by the page as a type only
 * (erased, so the page stays one script). Times in s from the run's start, latencies in ms.
 */
export interface PlotData {
  version: 1;
  title: string;
  yScale: 'log' | 'linear';
  runs: EncodedRun[];
  sweep: EncodedSweep | null;
}

export interface EncodedRun {
  name: string;
  source: string;
  durationS: number;
  points: {
    /** Every request is drawn (no downsampling). */
    exact: boolean;
    seen: number;
    kept: number;
    ok: { x: Encoded; y: Encoded };
    err: { x: Encoded; y: Encoded };
  };
  series: {
    bucketS: number;
    /** Bucket starts, s. */
    x: Encoded;
    /** Where the last bucket's step ends, s. */
    endS: number;
    p50: Encoded;
    p99: Encoded;
    p999: Encoded;
    max: Encoded;
    requests: Encoded;
    completed: Encoded;
    successes: Encoded;
    errors: Encoded;
    codes: { code: number; counts: Encoded }[];
    lateResults: number;
  };
  /** Latency by percentile: x is 1/(1-q) (the HdrHistogram axis), y ms. */
  dist: { x: Encoded; y: Encoded };
  events: EncodedEvents;
  /** The slow requests split into their parts (`plot -explain`), or null. */
  breakdown: EncodedBreakdown | null;
}

/**
 * The explain lane: the slow requests of a run (at most `maxBars`, the slowest, the rest counted),
 * each a stacked bar at its intended send time whose segments are its parts (docs/explain.md).
 */
export interface EncodedBreakdown {
  /** "p99 (72.4ms)" or "50ms". */
  threshold: string;
  /** Slow requests in the run; `drawn` of them are in the arrays (the slowest ones). */
  slow: number;
  drawn: number;
  results: number;
  /** Results with a server record. */
  matched: number;
  agent: string | null;
  /** Trace id of a request = attackId + its seq as 16 hex digits (src/results/trace-id.ts). */
  attackId: string;
  verdict: string;
  /** Ranked as explain ranks them (share of the excess, then slow requests). */
  causes: Array<{ key: string; label: string; named: boolean; requests: number; shareOfRequests: number; shareOfExcess: number; meanMs: number }>;
  /** Part keys ('queue', 'gc:scavenge', 'lock:table', ...), in stacking order: bottom of the bar first. */
  keys: string[];
  labels: string[];
  /** The drawn requests, ascending by intended send time: s from the run's start. */
  x: Encoded;
  latencyMs: Encoded;
  seq: Encoded;
  /** Index into keys of each request's cause. */
  cause: Encoded;
  /** One column per key: ms of that part in each drawn request (0: none); they add up to its latency. */
  parts: Encoded[];
  /** What explain could not attribute, one line each. */
  limits: string[];
}

/** Slow requests drawn in the explain lane at most (the slowest ones; the rest are counted). */
export const MAX_BREAKDOWN_BARS = 5000;

/** Bottom to top: the request's life, from the generator to the last byte. */
function stackRank(key: string): number {
  if (key === 'generator') return 0;
  if (key === 'queue') return 1;
  if (key === 'stall') return 2;
  if (key.startsWith('gc:')) return 3;
  if (key.startsWith('lock:')) return 4;
  if (key === 'unexplained') return 5;
  if (key === 'after') return 6;
  if (key === 'unrecorded') return 7;
  return 8;
}

export function encodeBreakdown(e: Explanation, t0: bigint, maxBars = MAX_BREAKDOWN_BARS): EncodedBreakdown {
  // explain lists its slow requests slowest first: the bound keeps the slowest.
  const drawn = [...e.slowest.slice(0, Math.max(0, maxBars))].sort((a, b) => (a.intended < b.intended ? -1 : a.intended > b.intended ? 1 : a.seq - b.seq));
  const rankOf = new Map(e.causes.map((c, i) => [c.key, i]));
  const seen = new Set<string>();
  for (const s of drawn) {
    seen.add(s.cause);
    for (const k of Object.keys(s.parts)) seen.add(k);
  }
  const keys = [...seen].sort((a, b) => stackRank(a) - stackRank(b) || (rankOf.get(a) ?? 1e9) - (rankOf.get(b) ?? 1e9) || (a < b ? -1 : 1)).slice(0, 255);
  const index = new Map(keys.map((k, i) => [k, i]));
  return {
    threshold: e.threshold.text,
    slow: e.slow,
    drawn: drawn.length,
    results: e.results,
    matched: e.matched,
    agent: e.agent,
    attackId: e.attackId,
    verdict: e.verdict.text,
    causes: e.causes.map((c) => ({ key: c.key, label: c.label, named: c.named, requests: c.requests, shareOfRequests: c.shareOfRequests, shareOfExcess: c.shareOfExcess, meanMs: c.meanNs * NS_PER_MS })),
    keys,
    labels: keys.map(describeKey),
    x: f64(drawn.map((s) => Number(s.intended - t0) * NS_PER_S)),
    latencyMs: f32(drawn.map((s) => s.latencyNs * NS_PER_MS)),
    seq: f64(drawn.map((s) => s.seq)),
    cause: u8(drawn.map((s) => index.get(s.cause) ?? 0)),
    parts: keys.map((k) => f32(drawn.map((s) => (s.parts[k] ?? 0) * NS_PER_MS))),
    limits: e.limits,
  };
}

export interface EncodedEvents {
  count: number;
  /** 0 = gc, 1 = stall. */
  kind: Encoded;
  x0: Encoded;
  durMs: Encoded;
  /** Index into `details`. */
  detail: Encoded;
  details: string[];
  gcCount: number;
  gcMaxMs: number;
  stallCount: number;
  stallMaxMs: number;
}

export interface EncodedSweep {
  source: string;
  rate: Encoded;
  p50: Encoded;
  p90: Encoded;
  p99: Encoded;
  p999: Encoded;
  max: Encoded;
  knee: number | null;
  kneeMethod: SweepPlot['kneeMethod'];
  slo: { text: string; limits: { label: string; ms: number }[] } | null;
}

export function f32(values: ArrayLike<number>, scale = 1): Encoded {
  const a = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) a[i] = values[i]! * scale;
  return { f32: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') };
}

export function f64(values: ArrayLike<number>, scale = 1): Encoded {
  const a = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) a[i] = values[i]! * scale;
  return { f64: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64') };
}

export function u8(values: ArrayLike<number>): Encoded {
  return { u8: Buffer.from(Uint8Array.from(values as ArrayLike<number>)).toString('base64') };
}

const NS_PER_S = 1e-9;
const NS_PER_MS = 1e-6;
/** Events beyond this many are thinned to the longest ones (a short pause is invisible anyway). */
export const MAX_EVENTS = 50_000;

export function encodeRun(run: RunPlot, opts: { breakdownBars?: number } = {}): EncodedRun {
  const m = run.metrics;
  const durNs = Math.max(1e6, m.requests > 0 ? Number(m.latest - run.t0) : 0);
  const s = run.series;
  // Bucket starts (the first may begin before t0 when a result was scheduled before the run's
  // recorded start: clamp), and where the last bucket's step ends (the run rarely fills it).
  const x = Array.from(s.start, (v) => Math.max(0, v));
  const n = x.length;
  const endNs = n ? Math.max(x[n - 1]!, Math.min(s.start[n - 1]! + s.bucketNs, durNs)) : 0;
  return {
    name: run.name,
    source: run.source,
    durationS: durNs * NS_PER_S,
    points: {
      exact: run.points.exact,
      seen: run.points.seen,
      kept: run.points.ok.t.length + run.points.errors.t.length,
      ok: { x: f32(run.points.ok.t, NS_PER_S), y: f32(run.points.ok.latency, NS_PER_MS) },
      err: { x: f32(run.points.errors.t, NS_PER_S), y: f32(run.points.errors.latency, NS_PER_MS) },
    },
    series: {
      bucketS: s.bucketNs * NS_PER_S,
      x: f64(x, NS_PER_S),
      endS: endNs * NS_PER_S,
      p50: f32(s.p50, NS_PER_MS),
      p99: f32(s.p99, NS_PER_MS),
      p999: f32(s.p999, NS_PER_MS),
      max: f32(s.max, NS_PER_MS),
      requests: f32(s.requests),
      completed: f32(s.completed),
      successes: f32(s.successes),
      errors: f32(s.errors),
      codes: s.codes.map((c) => ({ code: c.code, counts: f32(c.counts) })),
      lateResults: s.lateResults,
    },
    dist: { x: f64(run.distribution.x), y: f32(run.distribution.latency, NS_PER_MS) },
    events: encodeEvents(run.events, run.t0, durNs),
    breakdown: run.explanation ? encodeBreakdown(run.explanation, run.t0, opts.breakdownBars) : null,
  };
}

function encodeEvents(all: RunEvent[], t0: bigint, durNs: number): EncodedEvents {
  let events = all.filter((e) => {
    const start = Number(e.start - t0);
    return start + e.duration >= 0 && start <= durNs;
  });
  if (events.length > MAX_EVENTS) events = [...events].sort((a, b) => b.duration - a.duration).slice(0, MAX_EVENTS);
  events.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const details: string[] = [];
  const detailIndex = new Map<string, number>();
  const idx = events.map((e) => {
    let i = detailIndex.get(e.detail);
    if (i === undefined) {
      i = details.length < 255 ? details.push(e.detail) - 1 : 255;
      if (i < 255) detailIndex.set(e.detail, i);
    }
    return i;
  });
  const stat = (kind: RunEvent['kind']) => {
    const of = events.filter((e) => e.kind === kind);
    return { count: of.length, maxMs: of.reduce((a, e) => Math.max(a, e.duration), 0) * NS_PER_MS };
  };
  const gc = stat('gc');
  const stall = stat('stall');
  return {
    count: events.length,
    kind: u8(events.map((e) => (e.kind === 'gc' ? 0 : 1))),
    x0: f64(events.map((e) => Number(e.start - t0) * NS_PER_S)),
    durMs: f32(events.map((e) => e.duration * NS_PER_MS)),
    detail: u8(idx),
    details: [...details, 'other'],
    gcCount: gc.count,
    gcMaxMs: gc.maxMs,
    stallCount: stall.count,
    stallMaxMs: stall.maxMs,
  };
}

export function encodeSweep(sw: SweepPlot): EncodedSweep {
  const col = (k: 'p50' | 'p90' | 'p99' | 'p999' | 'max') => f32(sw.steps.map((s) => s[k]), NS_PER_MS);
  return {
    source: sw.source,
    rate: f64(sw.steps.map((s) => s.rate)),
    p50: col('p50'),
    p90: col('p90'),
    p99: col('p99'),
    p999: col('p999'),
    max: col('max'),
    knee: sw.knee,
    kneeMethod: sw.kneeMethod,
    slo: sw.slo ? { text: sw.slo.text, limits: sw.slo.limits.map((l) => ({ label: l.label, ms: l.ns * NS_PER_MS })) } : null,
  };
}
