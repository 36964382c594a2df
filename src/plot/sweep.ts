import { RuntimeError } from '../errors.js';
import { parseDuration } from '../units/duration.js';
import { parseSlo } from '../slo/slo.js';

/**
 * Reads `tailprobe sweep` output (sweep.json) for the latency-against-rate chart. Read tolerantly:
 * field names in the spellings sweep writers use (rate/offered, p999/p99.9, ...), latencies as ns
 * numbers, Go duration strings ("35ms") or `...Ms` fields in milliseconds, success as a fraction or
 * a percentage, and the knee and SLO either as plain values or as objects.
 */
export interface SweepStep {
  /** Offered (asked) rate, req/s. */
  rate: number;
  /** Achieved rate, req/s (NaN when absent). */
  achieved: number;
  /** Latencies in ns (NaN when absent). */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** Success ratio 0..1 (NaN when absent). */
  success: number;
}

export interface SweepLimit {
  /** e.g. "p99<50ms". */
  label: string;
  /** Latency limit, ns. */
  ns: number;
}

export interface SweepPlot {
  source: string;
  steps: SweepStep[];
  /** Offered rate at the knee, req/s, or null. */
  knee: number | null;
  slo: { text: string; limits: SweepLimit[] } | null;
}

type Json = Record<string, unknown>;

/** True when the text is a sweep document rather than a results stream. */
export function isSweepDocument(doc: unknown): doc is Json {
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && Array.isArray(stepsOf(doc as Json));
}

export function parseSweep(doc: unknown, source: string): SweepPlot {
  if (!isSweepDocument(doc)) throw new RuntimeError(`${source}: not a sweep file (no "steps" list)`);
  const rawSteps = stepsOf(doc)!;
  const steps: SweepStep[] = [];
  rawSteps.forEach((raw, i) => {
    if (typeof raw !== 'object' || raw === null) throw new RuntimeError(`${source}: step ${i + 1} is not an object`);
    const s = raw as Json;
    const lat = (typeof s.latencies === 'object' && s.latencies !== null ? s.latencies : s) as Json;
    const rate = num(pick(s, ['rate', 'offered', 'offeredRate', 'offered_rate', 'target', 'targetRate']));
    if (!Number.isFinite(rate)) throw new RuntimeError(`${source}: step ${i + 1} has no offered rate`);
    let success = num(pick(s, ['success', 'successRatio', 'success_ratio']));
    if (success > 1) success /= 100;
    steps.push({
      rate,
      achieved: num(pick(s, ['achieved', 'achievedRate', 'achieved_rate', 'actual', 'throughput'])),
      p50: latency(lat, ['p50', '50th', 'median']),
      p90: latency(lat, ['p90', '90th']),
      p99: latency(lat, ['p99', '99th']),
      p999: latency(lat, ['p999', 'p99.9', 'p99_9', '99.9th']),
      max: latency(lat, ['max']),
      success,
    });
  });
  steps.sort((a, b) => a.rate - b.rate);
  return { source, steps, knee: kneeOf(doc, steps), slo: sloOf(doc.slo, source) };
}

function stepsOf(doc: Json): unknown[] | undefined {
  for (const k of ['steps', 'results', 'points']) if (Array.isArray(doc[k])) return doc[k] as unknown[];
  return undefined;
}

function pick(o: Json, keys: string[]): unknown {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) return o[k];
  return undefined;
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.replace(/%$/, '').replace(/\/s$/, ''));
    return v.trim().endsWith('%') ? n / 100 : n;
  }
  if (typeof v === 'object' && v !== null) return num(pick(v as Json, ['rate', 'value']));
  return NaN;
}

/** A latency in ns from `p99` (ns number or duration text) or `p99Ms` / `p99_ms` (milliseconds). */
function latency(o: Json, keys: string[]): number {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'number') return v;
    if (typeof v === 'string') {
      try {
        return parseDuration(v);
      } catch {
        /* try the next spelling */
      }
    }
    for (const ms of [`${k}Ms`, `${k}_ms`]) if (typeof o[ms] === 'number') return (o[ms] as number) * 1e6;
  }
  return NaN;
}

function kneeOf(doc: Json, steps: SweepStep[]): number | null {
  const k = doc.knee;
  if (k === undefined || k === null || k === false) return null;
  if (typeof k === 'object' && !Array.isArray(k)) {
    const o = k as Json;
    const r = num(pick(o, ['rate', 'offered', 'offeredRate']));
    if (Number.isFinite(r)) return r;
    const idx = num(pick(o, ['index', 'step']));
    if (Number.isInteger(idx) && steps[idx]) return steps[idx]!.rate;
    return null;
  }
  const r = num(k);
  return Number.isFinite(r) ? r : null;
}

function sloOf(v: unknown, source: string): SweepPlot['slo'] {
  let text: string | undefined;
  if (typeof v === 'string') text = v;
  else if (typeof v === 'object' && v !== null) {
    const o = v as Json;
    if (typeof o.text === 'string') text = o.text;
    else if (Array.isArray(o.thresholds)) text = o.thresholds.map((t) => (typeof t === 'string' ? t : (t as Json).expr)).join(',');
  }
  if (!text || text.trim() === '') return null;
  try {
    const slo = parseSlo(text);
    const limits = slo.thresholds
      .filter((t) => t.kind === 'latency' && (t.op === '<' || t.op === '<='))
      .map((t) => ({ label: t.expr, ns: t.value }));
    return { text: slo.text, limits };
  } catch (e) {
    throw new RuntimeError(`${source}: invalid SLO in sweep file: ${(e as Error).message}`);
  }
}
