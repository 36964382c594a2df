import { formatDuration } from '../units/duration.js';
import { describeKey } from './breakdown.js';
import { roundNs, type Explanation } from './explain.js';

/** The explanation as text: the verdict first, then the ranked causes, lock sites, CPU, the slowest requests. */

const d = (ns: number) => formatDuration(roundNs(ns));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function table(rows: string[][], right: Set<number>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

export function formatExplanation(e: Explanation): string {
  const out: string[] = [];
  out.push(`explain: ${e.slow} of ${e.results} requests at or above ${e.threshold.text}; attack ${e.attackId}`);
  if (e.agent) {
    out.push(`server records: ${e.matched} of ${e.results} requests matched (${e.agent})`);
    if (e.abortedSlow > 0) out.push(`clients gave up on ${e.abortedSlow} of the slow requests before the response finished (the server recorded them aborted)`);
    if (e.clock) {
      out.push(`clock: agent - generator = ${e.clock.offsetNs >= 0 ? '+' : '-'}${d(Math.abs(e.clock.offsetNs))} ± ${d(e.clock.uncertaintyNs)} (from ${e.clock.requests} requests${e.clock.consistent ? '' : '; inconsistent, see warnings'})`);
    }
  }
  out.push('', e.verdict.text, '');
  if (e.causes.length) {
    const rows = [['cause', 'slow requests', 'share', 'of excess', 'mean in a slow request']];
    for (const c of e.causes) rows.push([c.label, String(c.requests), pct(c.shareOfRequests), pct(c.shareOfExcess), d(c.meanNs)]);
    out.push(table(rows, new Set([1, 2, 3, 4])));
  }
  if (e.lockSites.length) {
    out.push('', 'Lock waits of the slow requests, by call site:');
    const rows = [['lock', 'mode', 'waits', 'total', 'site']];
    for (const s of e.lockSites) rows.push([s.lock, s.mode, String(s.waits), d(s.totalNs), s.site || '(not sampled)']);
    out.push(table(rows, new Set([2, 3])));
  }
  if (e.cpu) {
    out.push('', `On CPU while slow requests were handled (${e.cpu.slowSamples} of ${e.cpu.samples} samples):`);
    if (e.cpu.top.length === 0) out.push('  no samples fell in a slow request\'s window');
    else {
      const rows = [['during slow', 'overall', 'function', 'where']];
      for (const f of e.cpu.top) rows.push([pct(f.share), pct(f.overall), f.name, f.file ? `${f.file}:${f.line}` : '']);
      out.push(table(rows, new Set([0, 1])));
    }
  }
  if (e.slowest.length) {
    out.push('', `Slowest ${e.slowest.length} (trace ids for your tracing backend):`);
    const rows = [['trace id', 'latency', 'cause', 'parts']];
    for (const s of e.slowest) {
      const parts = Object.entries(s.parts)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${shortKey(k)} ${d(v)}`)
        .join(', ');
      rows.push([s.traceId, d(s.latencyNs), describeKey(s.cause), parts + (s.error ? ` [${s.error}]` : '')]);
    }
    out.push(table(rows, new Set([1])));
  }
  for (const l of e.limits) out.push(`note: ${l}`);
  return `${out.join('\n')}\n`;
}

function shortKey(k: string): string {
  if (k.startsWith('gc:')) return `gc(${k.slice(3)})`;
  if (k.startsWith('lock:')) return `lock(${k.slice(5)})`;
  return k;
}

/** JSON for machines: instants as decimal strings, durations in ns. */
export function explanationJson(e: Explanation): string {
  return JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
}
