import { RuntimeError } from '../errors.js';
import { parseDuration } from '../units/duration.js';
import { parseSlo } from '../slo/slo.js';

/**
 * Reads `tailprobe sweep` output (sweep.json, written by src/sweep/format.ts: latencies in ns,
 * `units` saying so, the knee and how it was found, the SLO text, per-step pass/fail) for the
 * latency-against-rate chart. Read tolerantly, so hand-made or older files plot too: field names in
 * other spellings (offered, p99.9, 99th...), latencies as numbers in the declared unit, Go duration
 * strings ("35ms") or `...Ms` fields, success as a fraction or a percentage, the knee and the SLO as
 * plain values or objects.
 */
export interface SweepPlotStep {
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
  /** SLO verdict of the step (null: no SLO or not given). */
  pass: boolean | null;
  /** The sweep was interrupted during this step. */
  partial: boolean;
}

export interface SweepPlotLimit {
  /** e.g. "p99<50ms". */
  label: string;
  /** Latency limit, ns. */
  ns: number;
}

export interface SweepPlot {
  source: string;
  steps: SweepPlotStep[];
  /** Offered rate at the knee, req/s, or null. */
  knee: number | null;
  /** How the knee was found ("slo", "latency"), when the file says. */
  kneeMethod: string | null;
  slo: { text: string; limits: SweepPlotLimit[] } | null;
  /** The sweep's own notes (why it stopped, generator limits...). */
  notes: string[];
}

type Json = Record<string, unknown>;

/** True when the text is a sweep document rather than a results stream. */
export function isSweepPlotDocument(doc: unknown): doc is Json {
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && Array.isArray(stepsOf(doc as Json));
}

export function parseSweepPlot(doc: unknown, source: string): SweepPlot {
  if (!isSweepPlotDocument(doc)) throw new RuntimeError(`${source}: not a sweep file (no "steps" list)`);
  const rawSteps = stepsOf(doc)!;
  const unit = latencyUnit(doc, source);
  const steps: SweepPlotStep[] = [];
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
      p50: latency(lat, ['p50', '50th', 'median'], unit),
      p90: latency(lat, ['p90', '90th'], unit),
      p99: latency(lat, ['p99', '99th'], unit),
      p999: latency(lat, ['p999', 'p99.9', 'p99_9', '99.9th'], unit),
      max: latency(lat, ['max'], unit),
      success,
      pass: typeof s.pass === 'boolean' ? s.pass : null,
      partial: s.partial === true,
    });
  });
  steps.sort((a, b) => a.rate - b.rate);
  return {
    source,
    steps,
    knee: kneeOf(doc, steps),
    kneeMethod: typeof doc.kneeMethod === 'string' ? doc.kneeMethod : null,
    slo: sloOf(doc.slo, source),
    notes: Array.isArray(doc.notes) ? doc.notes.filter((n): n is string => typeof n === 'string') : [],
  };
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9 };

/** ns per latency number: sweep.json declares `units: { latency: 'ns' }`; ns when it does not say. */
function latencyUnit(doc: Json, source: string): number {
  const u = (doc.units as Json | undefined)?.latency;
  if (u === undefined || u === null) return 1;
  const f = typeof u === 'string' ? UNIT_NS[u.trim()] : undefined;
  if (f === undefined) throw new RuntimeError(`${source}: unknown latency unit ${JSON.stringify(u)} (want ns, us, ms or s)`);
  return f;
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

/** A latency in ns from `p99` (a number in the file's unit, or duration text) or `p99Ms` / `p99_ms` (milliseconds). */
function latency(o: Json, keys: string[], unitNs: number): number {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'number') return v * unitNs;
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

function kneeOf(doc: Json, steps: SweepPlotStep[]): number | null {
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

/** The name test/sweep uses to check that sweep.json plots (kept for that agreement test). */
export const parseSweep = parseSweepPlot;
