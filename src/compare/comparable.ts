import { formatDuration } from '../units/duration.js';
import type { RunData } from './compare.js';
import { generatorVerdict } from '../report/health.js';

/**
 * Reasons two runs may not be comparable: a change in p99 means nothing if the load changed with
 * it. Asked rate, duration and targets come from the run info in binary results files; when a file
 * has none (vegeta formats), the achieved rate and duration that Metrics measured stand in.
 */
const RATE_TOLERANCE = 0.02;
const MEASURED_RATE_TOLERANCE = 0.05;
const DURATION_TOLERANCE = 0.1;

export function comparabilityWarnings(a: RunData, b: RunData): string[] {
  const out: string[] = [];
  const pair = `${a.name} and ${b.name}`;
  const ia = a.meta?.info;
  const ib = b.meta?.info;
  if (ia && ib) {
    if (ia.maxMode !== ib.maxMode) {
      out.push(`${pair} differ in load model: ${ia.maxMode ? a.name : b.name} ran closed-loop (-rate=0), the other at a fixed rate`);
    } else if (!ia.maxMode && differ(ia.rate, ib.rate, RATE_TOLERANCE)) {
      out.push(`${pair} were asked for different rates: ${fmtRate(ia.rate)} and ${fmtRate(ib.rate)}`);
    }
    if (ia.duration > 0 && ib.duration > 0 && differ(ia.duration, ib.duration, DURATION_TOLERANCE)) {
      out.push(`${pair} ran for different durations: ${formatDuration(ia.duration)} and ${formatDuration(ib.duration)}`);
    }
    const ta = [...ia.targets].sort().join('\n');
    const tb = [...ib.targets].sort().join('\n');
    if (ta !== tb || ia.targetCount !== ib.targetCount) {
      out.push(`${pair} hit different targets: ${describeTargets(ia.targets, ia.targetCount)} vs ${describeTargets(ib.targets, ib.targetCount)}`);
    }
  } else {
    if (differ(a.rate, b.rate, MEASURED_RATE_TOLERANCE)) {
      out.push(`${pair} ran at different rates: ${fmtRate(a.rate)} and ${fmtRate(b.rate)} achieved`);
    }
    if (differ(a.duration, b.duration, DURATION_TOLERANCE)) {
      out.push(`${pair} ran for different durations: ${formatDuration(round(a.duration))} and ${formatDuration(round(b.duration))}`);
    }
  }
  for (const r of [a, b]) {
    // The same judgement as `tailprobe report`: late sends count against the generator only when
    // its own health (or the lack of it) says it, not the target, was short of time.
    const v = r.schedule ? generatorVerdict(r.schedule, r.meta ? [r.meta] : []) : null;
    if (v?.bottleneck) {
      out.push(`the generator fell behind in ${r.name}: ${v.reasons.join('; ')}; its tail is partly the generator's`);
    } else if (v?.unknown) {
      out.push(`${r.name}: ${v.unknown}, and it has no generator health record: whether its tail is partly the generator's is unknown`);
    }
    const h = r.meta?.health;
    if (h && h.ended && h.ended !== 'completed') out.push(`${r.name} did not run to the end (${h.ended})`);
  }
  return out;
}

function differ(x: number, y: number, tolerance: number): boolean {
  const m = Math.max(Math.abs(x), Math.abs(y));
  return m > 0 && Math.abs(x - y) / m > tolerance;
}

function fmtRate(r: number): string {
  return r === 0 ? 'max' : `${Number(r.toPrecision(4))}/s`;
}

/** Durations rounded to 3 significant digits for messages. */
function round(ns: number): number {
  return ns === 0 ? 0 : Number(ns.toPrecision(3));
}

function describeTargets(t: string[], count: number): string {
  const shown = t.slice(0, 2).join(', ');
  return count > 2 ? `${shown} (+${count - 2} more)` : shown || '(none)';
}
