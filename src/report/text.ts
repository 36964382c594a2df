import type { Metrics } from '../metrics/metrics.js';
import type { RunMeta } from '../results/result.js';
import { dur, f2, pct } from './format.js';
import { reportWarnings, type SourceSummary } from './health.js';
import { tabwrite } from './tabwriter.js';

/**
 * vegeta's text report, line for line and aligned as vegeta aligns it, plus two lines of ours:
 * `Tail` (99.9th, 99.99th and max latency) after Latencies, and `Schedule` (how far the generator
 * fell behind its schedule) after Success. Warnings and notes follow the error set.
 */
export function textReport(m: Metrics, meta: RunMeta[] = [], sources: SourceSummary[] = []): string {
  const l = m.latencies();
  const s = m.schedule();
  const n = m.requests;
  const schedule = s.recorded
    ? `${s.late}, ${pct(s.lateRatio)}, ${dur(s.p50)}, ${dur(s.p99)}, ${dur(s.max)}`
    : n === 0
      ? 'no results'
      : 'not recorded (vegeta results carry no send times)';
  let text =
    `Requests\t[total, rate, throughput]\t${n}, ${f2(m.rate)}, ${f2(m.throughput)}\n` +
    `Duration\t[total, attack, wait]\t${dur(m.duration + m.wait)}, ${dur(m.duration)}, ${dur(m.wait)}\n` +
    `Latencies\t[min, mean, 50, 90, 95, 99, max]\t${dur(l.min)}, ${dur(l.mean)}, ${dur(l.p50)}, ${dur(l.p90)}, ` +
    `${dur(l.p95)}, ${dur(l.p99)}, ${dur(l.max)}\n` +
    `Tail\t[99.9, 99.99, max]\t${dur(l.p999)}, ${dur(l.p9999)}, ${dur(l.max)}\n` +
    `Bytes In\t[total, mean]\t${m.bytesIn}, ${f2(n ? m.bytesIn / n : 0)}\n` +
    `Bytes Out\t[total, mean]\t${m.bytesOut}, ${f2(n ? m.bytesOut / n : 0)}\n` +
    `Success\t[ratio]\t${pct(m.success)}\n` +
    `Schedule\t[late, ratio, lag 50, 99, max]\t${schedule}\n` +
    `Status Codes\t[code:count]\t`;
  // vegeta sorts the codes as strings.
  for (const code of [...m.statusCodes.keys()].map(String).sort()) text += `${code}:${m.statusCodes.get(Number(code))}  `;
  text += '\nError Set:\n';
  for (const e of m.errors.keys()) text += `${e}\n`;
  if (m.otherErrors > 0) text += `(and ${m.otherErrors} more errors of kinds not listed)\n`;
  let out = tabwrite(text);
  const warnings = reportWarnings(m, meta, sources);
  if (warnings.length > 0) out += `\n${warnings.join('\n')}\n`;
  return out;
}
