import type { Profile } from 'pprof-format';
import type { Metrics } from '../metrics/metrics.js';
import { formatValue, labelTotals, runtimeShare, sampleTypeInfo, topFunction } from '../profile/index.js';
import { int64, str } from '../profile/parse.js';
import type { RunEvent } from '../results/result.js';
import type { BlockSample } from '../compare/sample.js';

/**
 * What the demo says about causes, computed from what it measured and nothing else. Each function
 * takes measurements (Metrics, profiles, agent events) and returns numbers plus the sentence that
 * states them; when the numbers do not have the expected shape the sentence says so, plainly.
 */

/** The bar of the story: a fat tail (p99 vs median and mean), and the fixes' gain. */
export const TAIL_P50_FACTOR = 10;
export const TAIL_MEAN_FACTOR = 3;
export const FIX_FACTOR = 5;
/** A GC share of CPU from which allocation pressure is the loud cost (as runtimeShare flags it). */
export const GC_LOUD_FRACTION = 0.1;

/**
 * Where the lookup service's faults live (examples/lookup), as profiles name functions (V8 names a
 * method `lookup` or `LookupTable.lookup` depending on the profile): what step 2 and 3 should find.
 */
export function isExpectedAllocator(fn: string, file: string): boolean {
  return /(^|\.)renderFresh$/.test(fn) && /examples[/\\]lookup[/\\]render\.[jt]s$/.test(file);
}
export function isExpectedLockSite(fn: string, file: string): boolean {
  return /(^|\.)lookup$/.test(fn) && /examples[/\\]lookup[/\\]table\.[jt]s$/.test(file);
}
export const EXPECTED_LOCK_NAME = 'lookup.table';

export interface RunNumbers {
  name: string;
  requests: number;
  success: number;
  /** Achieved request rate, req/s. */
  rate: number;
  /** Latencies, ns. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  mean: number;
  max: number;
}

export function runNumbers(name: string, m: Metrics): RunNumbers {
  const l = m.latencies();
  return { name, requests: m.requests, success: m.success, rate: m.rate, p50: l.p50, p90: l.p90, p99: l.p99, p999: l.p999, mean: l.mean, max: l.max };
}

/** Milliseconds with sensible precision: 0.42 ms, 3.1 ms, 480 ms. */
export function ms(ns: number): string {
  const v = ns / 1e6;
  if (v >= 100) return `${v.toFixed(0)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

function times(x: number): string {
  return x >= 10 ? `${x.toFixed(0)}x` : `${x.toFixed(1)}x`;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

export interface TailShape {
  p99OverP50: number;
  p99OverMean: number;
  /** p99 >= 10x p50 and >= 3x mean. */
  fat: boolean;
  sentence: string;
}

export function tailShape(n: RunNumbers): TailShape {
  const p99OverP50 = n.p50 > 0 ? n.p99 / n.p50 : 0;
  const p99OverMean = n.mean > 0 ? n.p99 / n.mean : 0;
  const fat = p99OverP50 >= TAIL_P50_FACTOR && p99OverMean >= TAIL_MEAN_FACTOR;
  const numbers = `mean ${ms(n.mean)}, median ${ms(n.p50)}, p99 ${ms(n.p99)} (${times(p99OverP50)} the median, ${times(p99OverMean)} the mean), max ${ms(n.max)}`;
  const sentence = fat
    ? `Averages are liars: ${numbers}. Most requests are fast; the slowest 1% are what users remember.`
    : `The tail is not as fat as the story's: ${numbers}; the story's shape needs p99 >= ${TAIL_P50_FACTOR}x the median and >= ${TAIL_MEAN_FACTOR}x the mean.`;
  return { p99OverP50, p99OverMean, fat, sentence };
}

/** GC pauses and event-loop stalls the agent recorded during a run, in one sentence. */
export interface EventSummary {
  gcPauses: number;
  majorGcs: number;
  gcTotalNs: number;
  gcLongestNs: number;
  stalls: number;
  stallLongestNs: number;
  /**
   * Stalls that GC pauses do not explain (at least 20 ms of the stall outside any pause): in this
   * service nothing else blocks the loop that long, so that is time the process did not get the
   * CPU, i.e. a busy machine.
   */
  machineStalls: number;
  machineStallLongestNs: number;
  sentence: string;
}

/** Part of a stall not covered by GC pauses, ns. */
function unexplained(stall: RunEvent, gc: RunEvent[]): number {
  const s0 = stall.start;
  const s1 = stall.start + BigInt(Math.round(stall.duration));
  let covered = 0;
  for (const g of gc) {
    const g0 = g.start;
    const g1 = g.start + BigInt(Math.round(g.duration));
    const lo = g0 > s0 ? g0 : s0;
    const hi = g1 < s1 ? g1 : s1;
    if (hi > lo) covered += Number(hi - lo);
  }
  return Math.max(0, stall.duration - covered);
}

const MACHINE_STALL_NS = 20e6;

export function eventSummary(events: RunEvent[], runNs: number): EventSummary {
  const gc = events.filter((e) => e.kind === 'gc');
  const stalls = events.filter((e) => e.kind === 'stall');
  const gcTotalNs = gc.reduce((s, e) => s + e.duration, 0);
  const gcLongestNs = gc.reduce((m, e) => Math.max(m, e.duration), 0);
  const stallLongestNs = stalls.reduce((m, e) => Math.max(m, e.duration), 0);
  const majorGcs = gc.filter((e) => /mark|compact/i.test(e.detail) && !/scavenge|minor/i.test(e.detail)).length;
  const machine = stalls.map((st) => unexplained(st, gc)).filter((ns) => ns >= MACHINE_STALL_NS);
  const machineStallLongestNs = machine.reduce((m, ns) => Math.max(m, ns), 0);
  let sentence: string;
  if (gc.length === 0 && stalls.length === 0) sentence = 'The agent recorded no GC pause and no event-loop stall during the run.';
  else {
    const share = runNs > 0 ? ` (${pct(gcTotalNs / runNs)} of the run)` : '';
    sentence =
      `The agent recorded ${gc.length} GC pause${gc.length === 1 ? '' : 's'}` +
      (gc.length ? ` (${majorGcs} full mark-compact), ${ms(gcTotalNs)} in all${share}, the longest ${ms(gcLongestNs)}` : '') +
      `, and ${stalls.length} event-loop stall${stalls.length === 1 ? '' : 's'}${stalls.length ? ` (longest ${ms(stallLongestNs)})` : ''}.`;
    if (machine.length) {
      sentence +=
        ` ${machine.length} of the stalls (longest ${ms(machineStallLongestNs)} unexplained) had no GC pause to account for them: ` +
        'time the service did not get the CPU, i.e. a busy machine, which lands in this run\'s tail too.';
    }
  }
  return { gcPauses: gc.length, majorGcs, gcTotalNs, gcLongestNs, stalls: stalls.length, stallLongestNs, machineStalls: machine.length, machineStallLongestNs, sentence };
}

export interface GcFinding {
  /** GC share of the CPU profile, 0..1 (NaN without a profile). */
  gcFraction: number;
  loud: boolean;
  sentence: string;
}

export function gcFinding(cpu: Profile | null): GcFinding {
  if (!cpu) return { gcFraction: NaN, loud: false, sentence: 'No CPU profile was captured, so the GC share of the CPU is unknown.' };
  const share = runtimeShare(cpu);
  const g = share.gcFraction;
  const loud = g >= GC_LOUD_FRACTION;
  const sentence = loud
    ? `CPU profile: the garbage collector took ${pct(g)} of the CPU samples: the fingerprint of allocation pressure (many short-lived objects, and the pauses to collect them).`
    : `CPU profile: the garbage collector took ${pct(g)} of the CPU samples, under the ${pct(GC_LOUD_FRACTION)} that would make allocation pressure the loud cost.`;
  return { gcFraction: g, loud, sentence };
}

/** A function a profile blames, with the share of the profile it owns. */
export interface Culprit {
  /** 'allocation' (allocs profile) or 'lock' (block profile). */
  kind: 'allocation' | 'lock';
  profile: 'allocs' | 'block';
  function: string;
  file: string;
  /** Line of the heaviest call site inside that function (0 if the profile has no lines). */
  line: number;
  /** Share of the profile's total (bytes allocated, or time waited). */
  share: number;
  /** The profile's total in its unit, and the unit (bytes / nanoseconds). */
  total: number;
  unit: string;
  /** For a lock: the lock's name from the profile's `lock` label. */
  lock?: string;
  /** For a lock: waits recorded. */
  waits?: number;
  /** Whether it is the function the service's fault lives in. */
  expected: boolean;
}

/**
 * The line, inside `fn`, that most of the profile's value passes through (the leaf-most frame of
 * `fn` in each sample). topFunction names the function; the demo also wants the call site.
 */
export function heaviestLine(p: Profile, fnName: string, file: string, sampleIndex: number): number {
  const fnIds = new Set<string>();
  for (const f of p.function) if (str(p, f.name) === fnName && str(p, f.filename) === file) fnIds.add(String(f.id));
  const locLine = new Map<string, number>();
  for (const l of p.location) {
    for (const ln of l.line) {
      if (fnIds.has(String(ln.functionId))) {
        locLine.set(String(l.id), int64(ln.line));
        break;
      }
    }
  }
  const byLine = new Map<number, number>();
  for (const s of p.sample) {
    const v = int64(s.value[sampleIndex]);
    if (v === 0) continue;
    for (const id of s.locationId) {
      const line = locLine.get(String(id));
      if (line !== undefined) {
        byLine.set(line, (byLine.get(line) ?? 0) + v);
        break;
      }
    }
  }
  let best = 0;
  let bestV = -Infinity;
  for (const [line, v] of byLine) if (v > bestV) [best, bestV] = [line, v];
  return best;
}

function total(p: Profile, index: number): number {
  let t = 0;
  for (const s of p.sample) t += int64(s.value[index]);
  return t;
}

export function where(c: Pick<Culprit, 'function' | 'file' | 'line'>, cwd = process.cwd()): string {
  let f = c.file;
  if (f.startsWith(cwd + '/')) f = f.slice(cwd.length + 1);
  return f ? `${c.function} (${f}${c.line ? `:${c.line}` : ''})` : c.function;
}

/**
 * The top allocating function of an allocation profile as a Culprit: by space allocated over the
 * window (alloc_space when the profile has it, whatever its default type: a delta allocs profile
 * may default to inuse_space), the profiler's own samples left out. Node's and Go's demos both.
 */
export function topAllocator(allocs: Profile, isExpected: (fn: string, file: string) => boolean): { culprit: Culprit; fraction: number; unit: string } | null {
  const type = allocs.sampleType.some((st) => allocs.stringTable.strings[Number(st.type)] === 'alloc_space') ? 'alloc_space' : undefined;
  const top = topFunction(allocs, type);
  if (!top) return null;
  const t = sampleTypeInfo(allocs, type);
  const culprit: Culprit = {
    kind: 'allocation',
    profile: 'allocs',
    function: top.name,
    file: top.file,
    line: heaviestLine(allocs, top.name, top.file, t.index),
    share: top.fraction,
    total: Math.round(top.value / top.fraction),
    unit: t.unit,
    expected: isExpected(top.name, top.file),
  };
  return { culprit, fraction: top.fraction, unit: t.unit };
}

export function allocCulprit(allocs: Profile | null): { culprit: Culprit | null; sentence: string } {
  if (!allocs) return { culprit: null, sentence: 'No allocation profile was captured.' };
  const found = topAllocator(allocs, isExpectedAllocator);
  if (!found) return { culprit: null, sentence: 'The allocation profile has no samples.' };
  const { culprit } = found;
  const top = { fraction: found.fraction };
  const t = { unit: found.unit };
  const sentence =
    `Allocation profile: the top allocating function is ${where(culprit)}, ${pct(top.fraction)} of the ` +
    `${formatValue(culprit.total, t.unit)} sampled` +
    (culprit.expected
      ? ': the per-request response buffer and the objects built around it.'
      : `. That is not the service's per-request response assembly (renderFresh), which is what the pool fix changes: expect less from it.`);
  return { culprit, sentence };
}

export function lockCulprit(block: Profile | null, windowS: number): { culprit: Culprit | null; waitNs: number; sentence: string } {
  if (!block) return { culprit: null, waitNs: 0, sentence: 'No block profile was captured.' };
  const delay = sampleTypeInfo(block, 'delay');
  const count = sampleTypeInfo(block, 'contentions');
  const waitNs = total(block, delay.index);
  const waits = total(block, count.index);
  const top = topFunction(block, 'delay');
  if (!top || waitNs <= 0) return { culprit: null, waitNs: 0, sentence: `Block profile: no request waited for a lock in the ${windowS}s window.` };
  const locks = labelTotals(block, 'lock', delay.index);
  const culprit: Culprit = {
    kind: 'lock',
    profile: 'block',
    function: top.name,
    file: top.file,
    line: heaviestLine(block, top.name, top.file, delay.index),
    share: top.fraction,
    total: waitNs,
    unit: delay.unit,
    lock: locks[0]?.value,
    waits,
    expected: isExpectedLockSite(top.name, top.file) && (locks[0]?.value ?? EXPECTED_LOCK_NAME) === EXPECTED_LOCK_NAME,
  };
  const queue = windowS > 0 ? waitNs / 1e9 / windowS : 0;
  const sentence =
    `Block profile: ${waits} waits for a lock, ${formatValue(waitNs, 'nanoseconds')} of waiting in a ${windowS}s window ` +
    `(on average ${queue.toFixed(1)} requests queued at any moment); ${pct(top.fraction)} of it at ${where(culprit)}` +
    (culprit.lock ? `, on lock "${culprit.lock}"` : '') +
    (culprit.expected ? ': the table\'s read path, waiting for the lock it holds across awaits.' : '.');
  return { culprit, waitNs, sentence };
}

/** How a fix changed p99 (and the rest), in one sentence. */
export function improvement(before: RunNumbers, after: RunNumbers): { factor: number; sentence: string } {
  const factor = after.p99 > 0 ? before.p99 / after.p99 : Infinity;
  const dir = factor >= 1 ? `${times(factor)} lower` : `${times(1 / factor)} HIGHER`;
  const sentence = `p99 ${ms(before.p99)} -> ${ms(after.p99)} (${dir}); p50 ${ms(before.p50)} -> ${ms(after.p50)}, mean ${ms(before.mean)} -> ${ms(after.mean)}, max ${ms(before.max)} -> ${ms(after.max)}.`;
  return { factor, sentence };
}

/** A run's slow requests bunched in one stretch of time: the headline rests on that episode. */
export interface TailEpisode {
  /** Share of the requests at or above the threshold that fell within the densest window. */
  share: number;
  /** Where that window starts, ns from the run's first request, and its width. */
  startNs: number;
  windowNs: number;
  /** Requests at or above the threshold. */
  slow: number;
}

/** From this share of its slow requests in one window, a run's tail is one episode, not a steady state. */
export const EPISODE_SHARE = 0.5;

/**
 * Where the requests at or above `thresholdNs` (the run's p99) fell in time, from the per-block
 * sample compare builds (blocks of ~100 ms of intended send time; a constant-rate run has no empty
 * blocks, so block k starts k blocks after the first request). Returns the densest `windowNs`
 * window, or null when there are no slow requests.
 */
export function tailEpisode(sample: BlockSample, thresholdNs: number, windowNs = 2e9): TailEpisode | null {
  const blocks = sample.n.length;
  const slow = new Float64Array(blocks);
  let total = 0;
  for (let j = 0; j < sample.values.length; j++) {
    if (sample.values[j]! < thresholdNs) continue;
    for (let e = sample.colStart[j]!; e < sample.colStart[j + 1]!; e++) {
      slow[sample.entryBlock[e]!]! += sample.entryCount[e]!;
      total += sample.entryCount[e]!;
    }
  }
  if (total === 0) return null;
  const w = Math.max(1, Math.round(windowNs / sample.blockNs));
  let sum = 0;
  let best = 0;
  let bestStart = 0;
  for (let k = 0; k < blocks; k++) {
    sum += slow[k]!;
    if (k >= w) sum -= slow[k - w]!;
    if (sum > best) {
      best = sum;
      bestStart = Math.max(0, k - w + 1);
    }
  }
  return { share: best / total, startNs: bestStart * sample.blockNs, windowNs: w * sample.blockNs, slow: total };
}
