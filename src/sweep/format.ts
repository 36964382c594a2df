import { basename } from 'node:path';
import { formatDuration } from '../units/duration.js';
import { MIN_RISE } from './knee.js';
import { sloVerdictJson } from '../slo/evaluate.js';
import type { SweepResult, SweepStep } from './sweep.js';

/**
 * The sweep as a person reads it:
 *
 *   rate     achieved  p50      p90      p99      p99.9    max      success  late   slo
 *   100/s    100/s     4.1ms    4.4ms    5ms      6.2ms    7ms      100%     0%     pass
 *   ...
 *   knee: 240 req/s, the highest rate at which p99<50ms held; latency explodes after 250 req/s
 */
export function formatSweep(res: SweepResult): string {
  const rows = [['rate', 'achieved', 'p50', 'p90', 'p99', 'p99.9', 'max', 'success', 'errors', 'late', ...(res.slo ? ['slo'] : [])]];
  for (const s of res.steps) rows.push(stepCells(s, res));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('').trimEnd());
  lines.push('', kneeLine(res));
  if (res.stopped) lines.push(`stopped early: ${res.stopped}`);
  for (const n of res.notes) lines.push(`note: ${n}`);
  if (res.file) lines.push(`wrote ${res.file}`);
  return lines.join('\n') + '\n';
}

function stepCells(s: SweepStep, res: SweepResult): string[] {
  const d = (ns: number) => (s.requests === 0 ? '-' : formatDuration(ns === 0 ? 0 : Number(ns.toPrecision(3))));
  const cells = [
    `${s.rate}/s`,
    `${Number(s.achieved.toPrecision(4))}/s`,
    d(s.p50),
    d(s.p90),
    d(s.p99),
    d(s.p999),
    d(s.max),
    `${Number((s.success * 100).toFixed(2))}%`,
    String(s.errors),
    `${Number((s.late * 100).toFixed(1))}%`,
  ];
  if (res.slo) cells.push((s.pass ? 'pass' : s.broken ? 'FAIL (broken)' : 'FAIL') + (s.partial ? ' (partial)' : ''));
  return cells;
}

function kneeLine(res: SweepResult): string {
  const parts: string[] = [];
  if (res.slo) {
    parts.push(
      res.sloKnee === null
        ? `knee: none (${res.slo.text} failed at every rate tried)`
        : `knee: ${res.sloKnee} req/s, the highest rate at which ${res.slo.text} held`,
    );
    if (res.latencyKnee !== null) parts.push(`latency explodes after ${res.latencyKnee} req/s`);
  } else {
    parts.push(
      res.latencyKnee === null
        ? `knee: none found (p99 never rose ${MIN_RISE}-fold across the sweep: latency grew gently throughout)`
        : `knee: ${res.latencyKnee} req/s, where p99 stops growing gently and explodes (max-curvature point)`,
    );
  }
  return parts.join('; ');
}

/**
 * sweep.json and `sweep -json`: what the plot draws (p99 against rate, the SLO's limits, the knee)
 * and what a CI job reads. Latencies in ns, rates in requests per second, success as a fraction.
 */
export function sweepJson(res: SweepResult): object {
  return {
    knee: res.knee,
    kneeMethod: res.kneeMethod,
    sloKnee: res.sloKnee,
    latencyKnee: res.latencyKnee,
    firstFailure: res.firstFailure,
    slo: res.slo ? res.slo.text : null,
    mode: res.mode,
    stepDuration: res.stepNs,
    warmup: res.warmupNs,
    stopped: res.stopped,
    notes: res.notes,
    units: { latency: 'ns', rate: 'requests/s', success: 'fraction' },
    steps: res.steps.map((s) => ({
      rate: s.rate,
      achieved: s.achieved,
      throughput: s.throughput,
      requests: s.requests,
      p50: s.p50,
      p90: s.p90,
      p99: s.p99,
      p999: s.p999,
      max: s.max,
      mean: s.mean,
      success: s.success,
      errors: s.errors,
      late: s.late,
      pass: s.pass,
      broken: s.broken,
      partial: s.partial,
      slo: s.slo ? s.slo.map(sloVerdictJson) : null,
      file: s.file ? basename(s.file) : null,
      order: s.index,
    })),
  };
}
