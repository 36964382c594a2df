import { formatDuration } from '../units/duration.js';
import type { CompareResult, CompareRow, RowStat } from './compare.js';

/**
 * The comparison as a person reads it, one table per pair:
 *
 *   before.bin -> after.bin   (95% CI, block bootstrap of 100ms blocks, 1000 resamples, seed 1)
 *   stat        before     after      delta                 95% CI                  verdict
 *   p99         482ms      35.1ms     -447ms (-92.7%)       [-461ms, -431ms]        improved
 */
export function formatComparison(res: CompareResult): string {
  const out: string[] = [];
  const pct = `${Number((res.confidence * 100).toFixed(2))}%`;
  for (const c of res.comparisons) {
    const bi = res.runs.findIndex((r) => r.name === c.after);
    const block = res.mode === 'block' && res.blockNs[bi] ? `block bootstrap of ${formatDuration(res.blockNs[bi]!)} blocks` : 'bootstrap over requests';
    const runA = res.runs.find((r) => r.name === c.before)!;
    const runB = res.runs[bi]!;
    out.push(`${c.before} -> ${c.after}   (${runA.requests} vs ${runB.requests} requests; ${pct} CI, ${block}, ${res.resamples} resamples, seed ${res.seed})`);
    const rows = [['stat', 'before', 'after', 'delta', `${pct} CI`, 'verdict']];
    for (const r of c.rows) rows.push(cells(r));
    out.push(...table(rows), '');
  }
  if (res.failOn.length) {
    out.push(
      res.failed
        ? `FAIL: a significant regression in ${res.failOn.join(', ')}`
        : `ok: no significant regression in ${res.failOn.join(', ')}${res.unjudged.length ? ' (some rows not judged: see the warning)' : ''}`,
    );
  }
  return out.join('\n').replace(/\n*$/, '\n');
}

function cells(r: CompareRow): string[] {
  const f = (v: number) => fmtValue(r.stat, v);
  const sign = (v: number) => (v > 0 ? '+' : v < 0 ? '-' : '±');
  const abs = (v: number) => `${sign(v)}${fmtValue(r.stat, Math.abs(v), true)}`;
  const delta = `${abs(r.delta)}${r.deltaPct === null ? '' : ` (${r.deltaPct > 0 ? '+' : ''}${fmtPct(r.deltaPct)})`}`;
  let ci: string;
  if (r.ci) ci = `[${abs(r.ci[0])}, ${abs(r.ci[1])}]`;
  else ci = r.stat === 'max' ? '(none: a single request)' : '(none: no per-request data)';
  return [r.stat, f(r.before), f(r.after), delta, ci, r.verdict === 'no CI' ? 'n/a' : r.verdict];
}

/** A statistic's value in its unit, 3 significant digits (the table is for reading; -json has it all). */
export function fmtValue(stat: RowStat, v: number, isDelta = false): string {
  switch (stat) {
    case 'success':
      // Success near 100 % keeps its decimals: 99.95 % is not 100 %.
      return isDelta ? `${Number((v * 100).toPrecision(3))}pp` : `${Number((v * 100).toFixed(3))}%`;
    case 'throughput':
      return `${Number(v.toPrecision(4))}/s`;
    default:
      return formatDuration(v === 0 ? 0 : Number(v.toPrecision(3)));
  }
}

function fmtPct(p: number): string {
  return `${Math.abs(p) >= 100 ? Math.round(p) : Number(p.toFixed(1))}%`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('').trimEnd());
}

/** The machine form (`-json`): everything in CompareResult, latencies in ns, success as a fraction. */
export function comparisonJson(res: CompareResult): object {
  return {
    ...res,
    units: { latency: 'ns', success: 'fraction', throughput: 'successful requests per second' },
  };
}
