import { UsageError } from '../errors.js';
import { parseDuration } from '../units/duration.js';
import { parseRate } from '../pacer/rate.js';

/**
 * SLO gates: k6-like thresholds over one run's Metrics, e.g. `p99<50ms,p99.9<200ms,success>=99.9%`.
 *
 * A threshold is `METRIC OP VALUE`. Metrics and the unit their value is written in:
 *
 *   latency  p(N) / pN (p99, p99.9, p(95)), median, mean (avg), min, max   Go durations: 50ms, 1.5s
 *   ratio    success, errors (error-rate)                                 99.9% or 0.999
 *   rate     rate (achieved requests/s), throughput (successful requests/s)  500, 500/s, 30000/1m
 *
 * Operators: < <= > >= ==. Everything is parsed up front, so a typo fails before any load is sent.
 */
export type SloOp = '<' | '<=' | '>' | '>=' | '==';
export type SloKind = 'latency' | 'ratio' | 'rate';

export interface SloThreshold {
  /** The threshold as written (whitespace removed), e.g. "p99<50ms". */
  expr: string;
  /** Canonical metric name: "p99", "p99.9", "mean", "min", "max", "success", "errors", "rate", "throughput". */
  metric: string;
  /** For percentiles, the percentile in (0, 100]; undefined otherwise. */
  percentile?: number;
  kind: SloKind;
  op: SloOp;
  /** The limit in the metric's unit: ns for latency, a fraction for ratios, req/s for rates. */
  value: number;
}

export interface Slo {
  /** The whole expression as given. */
  text: string;
  thresholds: SloThreshold[];
}

const OPS: SloOp[] = ['<=', '>=', '==', '<', '>'];
const KNOWN = 'p(N) or pN, median, mean, min, max, success, errors, rate, throughput';

/** Parses an SLO expression; throws one UsageError naming the bad threshold. */
export function parseSlo(text: string): Slo {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length === 1 && parts[0] === '') throw new UsageError('invalid SLO "": empty expression (e.g. -slo=\'p99<50ms\')');
  return { text: text.trim(), thresholds: parts.map((p) => parseThreshold(p, text)) };
}

/** Joins repeated -slo flags (each may itself be a comma list) into one Slo, or null when none. */
export function parseSloFlags(values: string[]): Slo | null {
  const parts = values.map((v) => v.trim()).filter((v) => v !== '');
  return parts.length === 0 ? null : parseSlo(parts.join(','));
}

function parseThreshold(raw: string, whole: string): SloThreshold {
  const bad = (why: string) => new UsageError(`invalid SLO threshold "${raw}"${raw === whole.trim() ? '' : ` in "${whole.trim()}"`}: ${why}`);
  if (raw === '') throw bad('empty threshold (thresholds are separated by commas)');
  const compact = raw.replace(/\s+/g, '');
  // The first operator character splits metric from value; a second operator later is an error.
  const at = compact.search(/[<>=!]/);
  if (at <= 0) throw bad('expected METRIC OP VALUE, e.g. p99<50ms');
  const name = compact.slice(0, at).toLowerCase();
  const op = OPS.find((o) => compact.startsWith(o, at));
  if (!op) throw bad(`unknown operator (use one of < <= > >= ==)`);
  const valueText = compact.slice(at + op.length);
  if (valueText === '') throw bad('missing value after the operator');
  if (/[<>=!]/.test(valueText)) throw bad('more than one operator');

  const metric = parseMetric(name);
  if (!metric) throw bad(`unknown metric "${name}" (known: ${KNOWN})`);
  const value = parseValue(metric.kind, valueText, bad);
  return { expr: compact, op, value, ...metric };
}

function parseMetric(name: string): Pick<SloThreshold, 'metric' | 'percentile' | 'kind'> | null {
  const p = /^p\(?(\d+(?:\.\d+)?)\)?$/.exec(name);
  if (p && (name.includes('(') === name.includes(')'))) {
    const percentile = Number(p[1]);
    if (!(percentile > 0 && percentile <= 100)) return null;
    return { metric: `p${percentile}`, percentile, kind: 'latency' };
  }
  switch (name) {
    case 'med':
    case 'median':
      return { metric: 'p50', percentile: 50, kind: 'latency' };
    case 'avg':
    case 'mean':
      return { metric: 'mean', kind: 'latency' };
    case 'min':
    case 'max':
      return { metric: name, kind: 'latency' };
    case 'success':
      return { metric: 'success', kind: 'ratio' };
    case 'errors':
    case 'error-rate':
    case 'error_rate':
      return { metric: 'errors', kind: 'ratio' };
    case 'rate':
    case 'throughput':
      return { metric: name, kind: 'rate' };
    default:
      return null;
  }
}

function parseValue(kind: SloKind, text: string, bad: (why: string) => UsageError): number {
  switch (kind) {
    case 'latency': {
      let ns: number;
      try {
        ns = parseDuration(text);
      } catch {
        const hint = /^\d+(\.\d+)?$/.test(text) ? ' (missing unit, e.g. 50ms or 1.5s)' : ' (e.g. 50ms, 1.5s, 800µs)';
        throw bad(`invalid duration "${text}"${hint}`);
      }
      if (ns < 0) throw bad('a latency limit cannot be negative');
      return ns;
    }
    case 'ratio': {
      const pct = text.endsWith('%');
      const n = Number(pct ? text.slice(0, -1) : text);
      if (text === '%' || !Number.isFinite(n)) throw bad(`invalid ratio "${text}" (e.g. 99.9% or 0.999)`);
      const v = pct ? n / 100 : n;
      if (v < 0 || v > 1) {
        throw bad(`ratio "${text}" is outside 0..100%${pct ? '' : ' (write a percentage with %, e.g. 99.9%)'}`);
      }
      return v;
    }
    case 'rate': {
      // "500", "500/s", "500/1s", "30000/1m": as vegeta (and -rate) write rates. parseRate reads
      // "0"/"max" as max mode, which is no limit a run can be held to.
      if (/^(max|inf|infinity)$/i.test(text)) throw bad(`invalid rate "${text}" (e.g. 500, 500/s or 30000/1m)`);
      try {
        return parseRate(text);
      } catch {
        throw bad(`invalid rate "${text}" (e.g. 500, 500/s or 30000/1m)`);
      }
    }
  }
}
