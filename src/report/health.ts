import type { Metrics, ScheduleSummary } from '../metrics/metrics.js';
import { LATE_SEND_THRESHOLD_NS, type RunMeta } from '../results/result.js';
import { dur, pct } from './format.js';
import { shardNotes } from '../metrics/shards.js';

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

/**
 * Event-loop delay (p99, ns) above which the generator itself was too busy to send on time. Below it,
 * late sends mean the generator had time to spare: requests waited for connections the target held, or
 * for a late wake-up. Latency counts from the schedule either way, so the tail is still measured.
 */
export const GENERATOR_LOOP_P99_LIMIT_NS = 20e6;

export interface GeneratorVerdict {
  /** True when the generator, not the target, limited the run. */
  bottleneck: boolean;
  /** Plain-language evidence, e.g. "12.5% of requests sent late (more than 1ms)". */
  reasons: string[];
  /**
   * Set when requests left late only because they waited for a connection the slow target still
   * held, while the generator itself had time to spare: a note, not a warning.
   */
  waitedForConnections: string | null;
  /**
   * Set when requests left late but the results carry no generator health (the file was cut off
   * or the attack killed before its end record): nobody can tell whose fault the lateness was.
   */
  unknown: string | null;
}

/**
 * Who is to blame for late sends? Late sends alone do not say: a generator short of CPU and a
 * target that holds every connection both delay them. The generator's own event-loop delay and CPU
 * (GeneratorHealth, written by `attack` at the end of its results) tell them apart; without them
 * (a file cut off or an attack killed before its end record) the culprit is unknown, and said so.
 * (vegeta files record no send lag at all, so they never get here.)
 */
export function generatorVerdict(s: ScheduleSummary, meta: RunMeta[] = []): GeneratorVerdict {
  const reasons: string[] = [];
  const maxMode = meta.some((x) => x.info?.maxMode);
  const healths = meta.flatMap((x) => (x.health ? [{ h: x.health, info: x.info }] : []));
  for (const { h, info } of healths) {
    const usable = Math.max(1, Math.min(h.cores || 1, info?.workers || 1));
    if (h.cpuPercent >= GENERATOR_CPU_SATURATION * 100 * usable) {
      reasons.push(`its CPU was saturated (${Math.round(h.cpuPercent)}% of ${usable} core${usable > 1 ? 's' : ''})`);
    }
    if (h.eventLoopP99 > GENERATOR_LOOP_P99_LIMIT_NS) {
      reasons.push(`its event loop was delayed (p99 ${dur(h.eventLoopP99)})`);
    }
  }
  const late: string[] = [];
  if (s.recorded && !maxMode) {
    if (s.lateRatio > GENERATOR_LATE_RATIO_LIMIT) {
      late.push(`${pct(s.lateRatio)} of requests were sent late (more than ${dur(LATE_SEND_THRESHOLD_NS)} after their scheduled time)`);
    }
    if (s.p99 > GENERATOR_LAG_P99_LIMIT_NS) late.push(`p99 send lag was ${dur(s.p99)}`);
  }
  let waitedForConnections: string | null = null;
  let unknown: string | null = null;
  if (late.length > 0) {
    if (reasons.length > 0) reasons.unshift(...late);
    else if (healths.length === 0) unknown = late.join('; ');
    else waitedForConnections = late.join('; ');
  }
  return { bottleneck: reasons.length > 0, reasons, waitedForConnections, unknown };
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
  const v = generatorVerdict(m.schedule(), meta);
  if (v.bottleneck) {
    out.push(
      `Warning: the load generator, not the target, was the bottleneck: ${v.reasons.join('; ')}. ` +
        'Latencies still count from the scheduled send times, but the target got less load than asked; ' +
        'lower -rate, add workers or use a bigger machine.',
    );
  } else if (v.waitedForConnections && !meta.some((x) => (x.health?.overdue ?? 0) > 0)) {
    // (With requests overdue, the warning below explains the late sends: they waited for room under the cap.)
    out.push(
      `Note: ${v.waitedForConnections}, while the generator's own event loop and CPU had headroom: requests ` +
        'waited for connections the target still held, or for the generator to wake up on time. Latencies count ' +
        `from the scheduled send times either way${maxConnectionsHint(meta)}.`,
    );
  } else if (v.unknown) {
    out.push(
      `Note: ${v.unknown}; whether the generator or the target held them up is unknown: the results carry no ` +
        "generator health record (the file was cut off, or the attack killed before writing it). Latencies count " +
        'from the scheduled send times either way.',
    );
  }
  for (const x of meta) {
    const h = x.health;
    const overdue = h?.overdue ?? 0;
    if (h && overdue > 0) {
      const cap = h.inFlightCap ? ` (${h.inFlightCap} at once, the -max-in-flight cap)` : '';
      out.push(
        `Warning: ${overdue} request${overdue === 1 ? ' was' : 's were'} due but never sent: the generator had as many ` +
          `requests in flight as it may${cap} and counted the ones beyond instead of queueing them. The target got ` +
          'less load than asked (the latencies of the requests sent still count from their scheduled times): lower ' +
          '-rate, or raise -max-in-flight if the generator and the target can take more.',
      );
    }
  }
  for (const x of meta) {
    const h = x.health;
    if (h && h.ended !== 'completed' && h.ended !== '') {
      const notDue = h.unsent - (h.overdue ?? 0);
      const unsent = notDue > 0 ? `; ${notDue} scheduled request${notDue === 1 ? ' was' : 's were'} never sent` : '';
      out.push(`Note: the run ended early (${h.ended})${unsent}.`);
    }
  }
  out.push(...shardNotes(meta, sources.map((s) => s.name)));
  out.push(...truncationNotes(sources));
  return out;
}

/** What -max-connections can do about requests that waited for connections. */
function maxConnectionsHint(meta: RunMeta[]): string {
  const caps = meta.flatMap((x) => (x.info && x.info.maxConnections !== undefined ? [x.info.maxConnections] : []));
  if (caps.length === 0) return '';
  if (caps.every((c) => c === 0)) return ' (-max-connections is already unlimited: more connections would not have helped)';
  return '; raising -max-connections helps only in the first case';
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
