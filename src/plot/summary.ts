import { dur as fmtDur, f2, pct } from '../report/format.js';
import { reportWarnings } from '../report/health.js';
import { formatDuration } from '../units/duration.js';
import type { RunPlot } from './run.js';
import type { SweepPlot } from './sweep.js';

/**
 * The tables at the top of the page: the numbers `tailprobe report` prints, one column per run
 * (computed by Metrics, never here, and formatted by the text report's own helpers), and each run's
 * parameters. Every number cell carries its raw value as `tailprobe report -type=json` writes it:
 * `data-key` is the path in that JSON ("latencies/99th") and `data-value` the number, so tools and
 * tests can read the page back and check it against the report.
 */

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The error set can hold a thousand kinds; the page lists the first few (all in the tooltip). */
const MAX_ERRORS_SHOWN = 8;

interface Cell {
  text: string;
  /** Tooltip. */
  title?: string;
  key?: string;
  value?: number;
}
type Row = { label: string; cls?: string; cells: Cell[] };

/** Durations are integer ns in the JSON report. */
const dur = (key: string | undefined, ns: number): Cell => ({ text: fmtDur(ns), key, value: key ? Math.round(ns) : undefined });
const rate = (key: string, v: number): Cell => ({ text: `${f2(v)}/s`, key, value: v });
const int = (key: string, v: number): Cell => ({ text: String(v), key, value: v });

export function summaryTable(runs: RunPlot[]): string {
  const rows: Row[] = [];
  const add = (label: string, f: (r: RunPlot) => Cell, cls?: string) => rows.push({ label, cls, cells: runs.map(f) });
  add('Requests', (r) => int('requests', r.metrics.requests));
  add('Rate', (r) => rate('rate', r.metrics.rate));
  add('Throughput', (r) => rate('throughput', r.metrics.throughput));
  add('Duration', (r) => dur(undefined, r.metrics.duration + r.metrics.wait));
  add('  attack', (r) => dur('duration', r.metrics.duration), 'sub');
  add('  wait', (r) => dur('wait', r.metrics.wait), 'sub');
  rows.push({ label: 'Latency', cls: 'group', cells: [] });
  const lat: [string, string, keyof ReturnType<RunPlot['metrics']['latencies']>, string?][] = [
    ['  min', 'latencies/min', 'min', 'sub'],
    ['  mean', 'latencies/mean', 'mean', 'sub'],
    ['  p50', 'latencies/50th', 'p50', 'sub'],
    ['  p90', 'latencies/90th', 'p90', 'sub'],
    ['  p95', 'latencies/95th', 'p95', 'sub'],
    ['  p99', 'latencies/99th', 'p99', 'sub tail'],
    ['  p99.9', 'latencies/99.9th', 'p999', 'sub tail'],
    ['  p99.99', 'latencies/99.99th', 'p9999', 'sub tail'],
    ['  max', 'latencies/max', 'max', 'sub tail'],
  ];
  for (const [label, key, field, cls] of lat) add(label, (r) => dur(key, r.metrics.latencies()[field]), cls);
  add('Bytes in (total, mean)', (r) => bytesCell('bytes_in', r.metrics.bytesIn, r.metrics.requests));
  add('Bytes out (total, mean)', (r) => bytesCell('bytes_out', r.metrics.bytesOut, r.metrics.requests));
  add('Success', (r) => ({ text: pct(r.metrics.success), key: 'success', value: r.metrics.success }), 'success');
  // As the text report lists them: codes sorted as strings.
  add('Status codes', (r) => ({
    text: [...r.metrics.statusCodes.keys()].map(String).sort().map((c) => `${c}:${r.metrics.statusCodes.get(Number(c))}`).join('  '),
  }));
  add('Late sends', (r) => {
    const s = r.metrics.schedule();
    if (!s.recorded) return { text: 'not recorded (vegeta results carry no send times)' };
    return { text: `${s.late} (${pct(s.lateRatio)})`, key: 'schedule/late', value: s.late };
  });
  add('Send lag p50, p99, max', (r) => {
    const s = r.metrics.schedule();
    return s.recorded ? { text: `${fmtDur(s.p50)}, ${fmtDur(s.p99)}, ${fmtDur(s.max)}`, key: 'schedule/lag_99th', value: Math.round(s.p99) } : { text: '—' };
  }, 'sub');
  add('Errors', (r) => {
    const e = [...r.metrics.errors].map(([t, n]) => `${n}× ${t}`);
    if (r.metrics.otherErrors) e.push(`${r.metrics.otherErrors}× (errors of kinds not listed)`);
    const shown = e.slice(0, MAX_ERRORS_SHOWN).map((x) => (x.length > 140 ? `${x.slice(0, 139)}…` : x));
    if (e.length > MAX_ERRORS_SHOWN) shown.push(`… ${e.length - MAX_ERRORS_SHOWN} more kinds`);
    return { text: e.length ? shown.join('\n') : 'none', title: e.join('\n') };
  }, runs.some((r) => r.metrics.errors.size > 0 || r.metrics.otherErrors > 0) ? 'errors' : undefined);
  return table('summary', 'tp-summary', runs, rows);
}

function bytesCell(key: string, total: number, n: number): Cell {
  return { text: `${total}, ${f2(n > 0 ? total / n : 0)}`, key: `${key}/total`, value: total };
}

/** The warnings `tailprobe report` prints under a run (generator bottleneck, closed loop, truncation). */
export function warningsHtml(runs: RunPlot[]): string {
  const items = runs.flatMap((r) =>
    reportWarnings(
      r.metrics,
      r.parts ? r.parts.map((p) => p.meta) : [r.meta],
      (r.parts ?? [r]).map((p) => ({ name: p.source, truncated: p.truncated, truncatedBytes: p.truncatedBytes })),
    ).map(
      (w) => `<li>${runs.length > 1 ? `<b>${escapeHtml(r.name)}</b>: ` : ''}${escapeHtml(w)}</li>`,
    ),
  );
  return items.length ? `<ul class="warnings">${items.join('')}</ul>` : '';
}

export function parametersTable(runs: RunPlot[]): string {
  const rows: Row[] = [];
  const add = (label: string, f: (r: RunPlot) => string) => rows.push({ label, cells: runs.map((r) => ({ text: f(r) })) });
  const info = (r: RunPlot) => r.meta.info;
  const dash = '—';
  add('File', (r) => r.source);
  add('Started', (r) => (r.t0 > 0n ? new Date(Number(r.t0 / 1_000_000n)).toISOString().replace('T', ' ').replace('Z', ' UTC') : dash));
  add('Pacer', (r) => info(r)?.pacer ?? dash);
  add('Asked rate', (r) => { const i = info(r); return i ? (i.maxMode ? 'max (closed loop)' : `${i.rate}/s`) : dash; });
  add('Asked duration', (r) => { const i = info(r); return i ? (i.duration ? formatDuration(i.duration) : 'until interrupted') : dash; });
  add('Targets', (r) => { const i = info(r); return i ? [...i.targets, ...(i.targetCount > i.targets.length ? [`… ${i.targetCount} in all`] : [])].join('\n') : dash; });
  add('Workers, connections', (r) => { const i = info(r); return i ? `${i.workers}, ${i.connections}` : dash; });
  add('Generator CPU', (r) => { const h = r.meta.health; return h ? `${h.cpuPercent.toFixed(0)}% of ${h.cores} core${h.cores === 1 ? '' : 's'}` : dash; });
  add('Generator event loop (p99, max)', (r) => { const h = r.meta.health; return h ? `${fmtDur(h.eventLoopP99)}, ${fmtDur(h.eventLoopMax)}` : dash; });
  add('Ended', (r) => { const h = r.meta.health; return h ? `${h.ended}${h.unsent ? ` (${h.unsent} scheduled, not sent)` : ''}` : dash; });
  add('Agent events', (r) => { const gc = r.events.filter((e) => e.kind === 'gc').length; const st = r.events.length - gc; return r.events.length ? `${gc} GC pauses, ${st} event-loop stalls` : 'none recorded'; });
  add('tailprobe', (r) => info(r)?.version ?? dash);
  return table('parameters', 'tp-parameters', runs, rows);
}

function table(cls: string, id: string, runs: RunPlot[], rows: Row[]): string {
  const head = runs.length > 1 ? runs.map((r, i) => `<th data-run="${i}">${escapeHtml(`${i + 1}. ${r.name}`)}</th>`).join('') : `<th>${escapeHtml(runs[0]?.name ?? '')}</th>`;
  const body = rows
    .map((row) => {
      if (row.cells.length === 0) return `<tr class="${row.cls ?? 'group'}"><th scope="rowgroup" colspan="${runs.length + 1}">${escapeHtml(row.label)}</th></tr>`;
      const cells = row.cells
        .map((c, i) => {
          const attrs = [`data-run="${i}"`];
          if (c.text === 'none') attrs.push('class="none"');
          if (c.key) attrs.push(`data-key="${escapeHtml(c.key)}"`);
          if (c.value !== undefined) attrs.push(`data-value="${c.value}"`);
          if (c.title !== undefined) attrs.push(`title="${escapeHtml(c.title)}"`);
          return `<td ${attrs.join(' ')}>${escapeHtml(c.text)}</td>`;
        })
        .join('');
      return `<tr${row.cls ? ` class="${row.cls}"` : ''}><th scope="row">${escapeHtml(row.label.trim())}</th>${cells}</tr>`;
    })
    .join('\n');
  return `<div class="scroll"><table class="${cls}" id="${id}"><thead><tr><th></th>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

export function sweepTable(sw: SweepPlot): string {
  const limits = sw.slo?.limits ?? [];
  const breaches = (field: string, ns: number) =>
    limits.some((l) => l.label.startsWith(field === 'p999' ? 'p99.9<' : `${field}<`) && ns >= l.ns);
  const fmt = (ns: number) => (Number.isFinite(ns) ? fmtDur(ns) : '—');
  const verdicts = sw.steps.some((s) => s.pass !== null);
  const rows = sw.steps
    .map((s) => {
      const knee = sw.knee !== null && Math.abs(s.rate - sw.knee) < 1e-9;
      const lat = (['p50', 'p90', 'p99', 'p999', 'max'] as const)
        .map((k) => `<td class="${breaches(k, s[k]) ? 'breach' : ''}" data-key="${k}" data-value="${s[k]}">${fmt(s[k])}</td>`)
        .join('');
      const verdict = verdicts ? `<td class="${s.pass === false ? 'breach' : ''}">${s.pass === null ? '—' : s.pass ? 'pass' : 'FAIL'}</td>` : '';
      return (
        `<tr${knee ? ' class="knee"' : ''}><td data-key="rate">${s.rate}/s${knee ? ' ← knee' : ''}${s.partial ? ' (interrupted)' : ''}</td>` +
        `<td data-key="achieved">${Number.isFinite(s.achieved) ? `${f2(s.achieved)}/s` : '—'}</td>` +
        `<td data-key="success">${Number.isFinite(s.success) ? pct(s.success) : '—'}</td>${lat}${verdict}</tr>`
      );
    })
    .join('\n');
  const slo = sw.slo ? `<p class="note">SLO: <code>${escapeHtml(sw.slo.text)}</code>; latencies at or over their limit are red.</p>` : '';
  const notes = sw.notes.length ? `<ul class="warnings">${sw.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  return (
    `<div id="tp-sweep-table">${slo}${notes}<table class="sweep-steps"><thead><tr><th>offered</th><th>achieved</th><th>success</th>` +
    `<th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th>${verdicts ? '<th>SLO</th>' : ''}</tr></thead><tbody>\n${rows}\n</tbody></table></div>`
  );
}
