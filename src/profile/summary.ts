import type { Profile } from 'pprof-format';
import { str } from './parse.js';
import { defaultSampleIndex, forEachStack, formatValue, labelTotals, sampleTypeInfo } from './top.js';
import { V8_GC_FRAME } from './v8.js';

/**
 * What a profile says in one line: the runtime's share of the CPU (is the GC eating the tail?),
 * and the function to look at first in a heap, allocation or contention profile.
 */

/**
 * Go runtime functions that are garbage-collection work. A sample counts as GC when any frame on
 * its stack is one of these (background mark workers, mutator assists, sweeping, scavenging...).
 */
const GO_GC_FUNCTIONS = new Set([
  'runtime.gcBgMarkWorker',
  'runtime.gcAssistAlloc',
  'runtime.gcAssistAlloc1',
  'runtime.gcDrain',
  'runtime.gcDrainN',
  'runtime.gcStart',
  'runtime.gcMarkDone',
  'runtime.gcMarkTermination',
  'runtime.gcSweep',
  'runtime.markroot',
  'runtime.scanobject',
  'runtime.scanstack',
  'runtime.scanblock',
  'runtime.greyobject',
  'runtime.bgsweep',
  'runtime.sweepone',
  'runtime.bgscavenge',
  'runtime.wbBufFlush',
  'runtime.wbBufFlush1',
  'runtime.GC',
]);
/** Allocation outside GC: the allocator itself (the post-mortem's "runtime.mallocgc"). */
const GO_ALLOC_FUNCTION = 'runtime.mallocgc';

export interface RuntimeShare {
  /** Fraction of the profile's CPU spent in GC, 0..1 (NaN when the profile is not a CPU profile). */
  gcFraction: number;
  /** Fraction in allocation outside GC (Go's runtime.mallocgc); 0 for V8, whose allocation is inline. */
  allocFraction: number;
  /** The GC functions seen, with their fractions, largest first. */
  breakdown: Array<{ name: string; fraction: number }>;
  /** 'go', 'v8' or 'unknown': which runtime's names were found. */
  runtime: 'go' | 'v8' | 'unknown';
  /** One plain sentence, e.g. "GC: 31.0% of CPU (runtime.gcBgMarkWorker 22.0%, ...)". */
  label: string;
}

function isCpuProfile(p: Profile): boolean {
  return p.sampleType.some((t) => str(p, t.type) === 'cpu');
}

/** First words of the comment the agent puts in its mutex profiles (Go's look like block ones). */
export const MUTEX_COMMENT = 'tailprobe: mutex profile';

function fmtPct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** The GC's share of a CPU profile, from a Go service or from V8 (Node). */
export function runtimeShare(p: Profile): RuntimeShare {
  if (!isCpuProfile(p)) {
    const t = sampleTypeInfo(p).type;
    return { gcFraction: NaN, allocFraction: NaN, breakdown: [], runtime: 'unknown', label: `GC share: n/a (a ${t} profile, not CPU)` };
  }
  const index = p.sampleType.findIndex((t) => str(p, t.type) === 'cpu');
  let total = 0;
  let gc = 0;
  let alloc = 0;
  let sawGo = false;
  let sawV8 = false;
  const byFn = new Map<string, number>();
  forEachStack(p, index, (stack, v) => {
    total += v;
    let gcName: string | null = null;
    let inAlloc = false;
    for (const f of stack) {
      if (!sawGo && f.name.startsWith('runtime.')) sawGo = true;
      if (f.name === V8_GC_FRAME) {
        sawV8 = true;
        gcName = f.name;
      } else if (GO_GC_FUNCTIONS.has(f.name)) {
        // The outermost GC function names the kind of work (a mark worker's gcDrain is the worker's).
        gcName = f.name;
      } else if (f.name === GO_ALLOC_FUNCTION) inAlloc = true;
      if (!sawV8 && (f.name === '(program)' || f.name === '(idle)')) sawV8 = true;
    }
    if (gcName) {
      gc += v;
      byFn.set(gcName, (byFn.get(gcName) ?? 0) + v);
    } else if (inAlloc) alloc += v;
  });
  const runtime = sawGo ? 'go' : sawV8 || p.function.some((f) => str(p, f.filename).includes('node:')) ? 'v8' : 'unknown';
  const gcFraction = total > 0 ? gc / total : 0;
  const allocFraction = total > 0 ? alloc / total : 0;
  const breakdown = [...byFn.entries()]
    .map(([name, v]) => ({ name, fraction: total > 0 ? v / total : 0 }))
    .sort((a, b) => b.fraction - a.fraction);
  let label: string;
  if (total === 0) label = 'GC: no CPU samples';
  else if (runtime === 'v8') label = `GC: ${fmtPct(gcFraction)} of CPU in V8's ${V8_GC_FRAME}`;
  else {
    const parts = breakdown.slice(0, 3).map((b) => `${b.name} ${fmtPct(b.fraction)}`);
    label = `GC: ${fmtPct(gcFraction)} of CPU${parts.length ? ` (${parts.join(', ')})` : ''}`;
    if (runtime === 'go') label += `; allocation (${GO_ALLOC_FUNCTION}, outside GC): ${fmtPct(allocFraction)}`;
  }
  if (total > 0 && gcFraction >= 0.1) label += ' -- allocation pressure: look at the heap/allocs profile';
  return { gcFraction, allocFraction, breakdown, runtime, label };
}

/**
 * Frames that are the machinery, not the place to fix: Go's runtime and sync internals (the leaf of
 * every Go block profile is sync.(*Mutex).Lock), V8's pseudo-frames are kept (they are findings).
 */
function isMachinery(name: string): boolean {
  return /^(runtime|sync|internal\/[\w/]+|runtime\/internal\/\w+)\./.test(name) || name.startsWith('sync.(*');
}

export interface TopFunction {
  name: string;
  file: string;
  value: number;
  fraction: number;
  type: string;
  unit: string;
}

/**
 * The profiler watching itself: Go's pprof handlers wait (block profile) and work (CPU) while they
 * serve the very profile being read. Such samples are left out of findings (not of top tables).
 */
/**
 * A sample of the profiler's own work (Go's net/http/pprof handler, runtime/pprof writing a
 * profile). `runtime/pprof.Do` is not: it is how a service labels its own work (the tailprobe Go
 * middleware runs every traced request under it), so its samples are the service's.
 */
export function isProfilerSample(stack: Array<{ name: string }>): boolean {
  return stack.some((f) => f.name.startsWith('net/http/pprof.') || (f.name.startsWith('runtime/pprof.') && !/^runtime\/pprof\.Do(\.|$)/.test(f.name)));
}

/**
 * The function that owns the most of a sample type (the profile's default when absent), charging
 * each sample to its first frame outside the runtime (for Go block/mutex profiles: the caller of
 * Lock, not Lock).
 */
export function topFunction(p: Profile, sampleType?: string, exclude?: (owner: { name: string; file: string }) => boolean): TopFunction | null {
  const t = sampleTypeInfo(p, sampleType);
  const by = new Map<string, { name: string; file: string; value: number }>();
  let total = 0;
  forEachStack(p, t.index, (stack, v) => {
    if (isProfilerSample(stack)) return;
    const f = stack.find((x) => !isMachinery(x.name)) ?? stack[0];
    // `exclude`: samples whose owner the caller leaves out altogether (not in the total either).
    if (f && exclude?.(f)) return;
    total += v;
    if (!f) return;
    const r = by.get(f.key) ?? { name: f.name, file: f.file, value: 0 };
    r.value += v;
    by.set(f.key, r);
  });
  let best: { name: string; file: string; value: number } | null = null;
  for (const r of by.values()) if (!best || r.value > best.value) best = r;
  if (!best || total <= 0 || best.value <= 0) return null;
  return { ...best, fraction: best.value / total, type: t.type, unit: t.unit };
}

/** Which profile a file holds, from its sample types (Go's names and the agent's). */
export function profileKind(p: Profile): 'cpu' | 'heap' | 'allocs' | 'block' | 'mutex' | 'goroutine' | 'other' {
  const types = p.sampleType.map((t) => str(p, t.type));
  const def = str(p, p.defaultSampleType);
  if (types.includes('cpu')) return 'cpu';
  if (types.includes('inuse_space') || types.includes('alloc_space')) {
    if (def === 'alloc_space' || !types.includes('inuse_space')) return 'allocs';
    return 'heap';
  }
  if (types.includes('contentions') && types.includes('delay')) {
    // Go writes the same shape for both; tailprobe's agent names the kind in a comment. Callers
    // that know better (from the endpoint or the file name) pass the kind to headline().
    return p.comment.some((c) => str(p, c).startsWith(MUTEX_COMMENT)) ? 'mutex' : 'block';
  }
  if (types.includes('goroutine')) return 'goroutine';
  return 'other';
}

/** The one-line finding the CLI prints under a profile's top table. */
export function headline(p: Profile, kind = profileKind(p)): string {
  if (kind === 'cpu') return runtimeShare(p).label;
  const top = topFunction(p);
  if (!top) {
    const comments = p.comment.map((c) => str(p, c)).filter((c) => c.startsWith('tailprobe: empty'));
    return comments[0]?.replace(/^tailprobe: /, '') ?? `no samples in this ${kind} profile`;
  }
  const describe = (x: TopFunction) => `${x.name}, ${formatValue(x.value, x.unit)} (${fmtPct(x.fraction)} of ${x.type})`;
  const v = describe(top).slice(top.name.length + 2);
  if (kind === 'heap' || kind === 'allocs') {
    const types = p.sampleType.map((t) => str(p, t.type));
    // Go's heap profiles carry both views: what is live (the default) and what was allocated.
    if (kind === 'heap' && top.type === 'inuse_space' && types.includes('alloc_space')) {
      const alloc = topFunction(p, 'alloc_space');
      return `most memory in use: ${describe(top)}${alloc ? `; top allocating function: ${describe(alloc)}` : ''}`;
    }
    return `top allocating function: ${describe(top)}`;
  }
  if (kind === 'block' || kind === 'mutex') {
    const locks = labelTotals(p, 'lock', defaultSampleIndex(p));
    const lock = locks[0] ? `; most contended lock: "${locks[0].value}"` : '';
    return `top ${kind === 'block' ? 'waiting' : 'holding'} call site: ${top.name}, ${v}${lock}`;
  }
  return `top function: ${top.name}, ${v}`;
}
