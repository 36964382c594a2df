import type { Metrics } from '../metrics/metrics.js';
import { LATE_SEND_THRESHOLD_NS, type RunMeta } from '../results/result.js';
import { dur, pct } from './format.js';

/**
 * Is the measurement to be trusted? A report says so in plain words when the numbers describe the
 * load generator rather than the target (it fell behind its schedule or ran out of CPU), or a
 * closed-loop run that cannot show the open-model tail. Thresholds are exported for other reports.
 */

/** More than this share of requests sent late means the generator could not keep the schedule. */
export const GENERATOR_LATE_RATIO_LIMIT = 0.03;
/** A p99 send lag above this (ns) means the generator's own delays dominate a fast service's tail. */
export const GENERATOR_LAG_P99_LIMIT_NS = 10e6;
/** CPU use at or above this share of the cores the generator could use means it was saturated. */
export const GENERATOR_CPU_SATURATION = 0.9;

export interface GeneratorVerdict {
  /** True when the generator, not the target, limited the run. */
  bottleneck: boolean;
  /** Plain-language evidence, e.g. "12.5% of requests sent late (more than 1ms)". */
  reasons: string[];
}

export function generatorVerdict(m: Metrics, meta: RunMeta[] = []): GeneratorVerdict {
  const reasons: string[] = [];
  const maxMode = meta.some((x) => x.info?.maxMode);
  const s = m.schedule();
  if (s.recorded && !maxMode) {
    if (s.lateRatio > GENERATOR_LATE_RATIO_LIMIT) {
      reasons.push(`${pct(s.lateRatio)} of requests were sent late (more than ${dur(LATE_SEND_THRESHOLD_NS)} after their scheduled time)`);
    }
    if (s.p99 > GENERATOR_LAG_P99_LIMIT_NS) reasons.push(`p99 send lag was ${dur(s.p99)}`);
  }
  for (const x of meta) {
    const h = x.health;
    if (!h) continue;
    const usable = Math.max(1, Math.min(h.cores || 1, x.info?.workers || 1));
    if (h.cpuPercent >= GENERATOR_CPU_SATURATION * 100 * usable) {
      reasons.push(`its CPU was saturated (${Math.round(h.cpuPercent)}% of ${usable} core${usable > 1 ? 's' : ''})`);
    }
  }
  return { bottleneck: reasons.length > 0, reasons };
}

/** What a report needs to know about where its results came from. */
export interface SourceSummary {
  name: string;
  truncatedBytes: number;
  truncated: boolean;
  gzip?: boolean;
}

/** The warnings and notes printed under a report (also listed in the JSON report). */
export function reportWarnings(m: Metrics, meta: RunMeta[] = [], sources: SourceSummary[] = []): string[] {
  const out: string[] = [];
  if (meta.some((x) => x.info?.maxMode)) {
    out.push(
      'Warning: closed-loop measurement (max mode, -rate=0): each request waited for the one before it on its ' +
        'connection, so these latencies leave out the queueing a real client would suffer (coordinated omission). ' +
        'Measure the tail at a fixed -rate.',
    );
  }
  const v = generatorVerdict(m, meta);
  if (v.bottleneck) {
    out.push(
      `Warning: the load generator, not the target, was the bottleneck: ${v.reasons.join('; ')}. ` +
        'Latencies still count from the scheduled send times, but the target got less load than asked; ' +
        'lower -rate, add workers or use a bigger machine.',
    );
  }
  for (const x of meta) {
    const h = x.health;
    if (h && h.ended !== 'completed' && h.ended !== '') {
      const unsent = h.unsent > 0 ? `; ${h.unsent} scheduled request${h.unsent === 1 ? ' was' : 's were'} never sent` : '';
      out.push(`Note: the run ended early (${h.ended})${unsent}.`);
    }
  }
  out.push(...truncationNotes(sources));
  return out;
}

/** One note per input that was cut off. */
export function truncationNotes(sources: SourceSummary[]): string[] {
  const out: string[] = [];
  for (const s of sources) {
    if (s.truncatedBytes > 0) {
      out.push(
        `Note: ${s.name} was cut off mid-record: the last ${s.truncatedBytes} byte${s.truncatedBytes === 1 ? '' : 's'} ` +
          '(an incomplete result) were left out; every whole result before them was read.',
      );
    } else if (s.truncated) {
      out.push(`Note: ${s.name} is cut off (its compressed stream ends early); every whole result before the cut was read.`);
    }
  }
  return out;
}
