import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Profile } from 'pprof-format';
import { ProfileBuilder, type Frame } from './builder.js';

/**
 * V8's profiles (Chrome DevTools Protocol shapes, as `node --cpu-prof`, `node --heap-prof`, the
 * inspector's Profiler/HeapProfiler domains and Chrome DevTools write them) converted to pprof.
 *
 * The CPU profile keeps V8's pseudo-frames that matter for the tail: `(garbage collector)` (GC work
 * on the JS thread) and `(program)` (native code outside JS). `(idle)` samples, when the thread was
 * waiting in the event loop, are dropped so the profile holds CPU time only, as Go's does; how much
 * was idle is recorded in a comment.
 */

export interface V8CallFrame {
  functionName: string;
  scriptId?: string;
  url: string;
  /** 0-based, -1 if unknown. */
  lineNumber: number;
  /** 0-based, -1 if unknown. */
  columnNumber: number;
}

export interface V8CpuProfileNode {
  id: number;
  callFrame: V8CallFrame;
  hitCount?: number;
  children?: number[];
  /** Present in some writers instead of `children`. */
  parent?: number;
}

/** Profiler.Profile: times in microseconds on V8's monotonic clock. */
export interface V8CpuProfile {
  nodes: V8CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface V8HeapNode {
  callFrame: V8CallFrame;
  /** Sampled bytes allocated at this node (already scaled by V8 to estimate the total). */
  selfSize: number;
  id: number;
  children: V8HeapNode[];
}

/** HeapProfiler.SamplingHeapProfile. */
export interface V8HeapProfile {
  head: V8HeapNode;
  samples?: Array<{ size: number; nodeId: number; ordinal: number }>;
}

/** Pseudo-frame names V8 uses; the GC one is how `runtimeShare` finds GC time in Node profiles. */
export const V8_GC_FRAME = '(garbage collector)';
export const V8_IDLE_FRAME = '(idle)';
export const V8_PROGRAM_FRAME = '(program)';
const V8_ROOT_FRAME = '(root)';

/** A readable file name: file URLs become paths; node internals and blank urls stay as they are. */
export function frameFile(url: string): string {
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch {
      return url;
    }
  }
  return url;
}

/**
 * pprof frame for a V8 call frame. Anonymous functions are named after where they are defined
 * (`(anonymous) server.js:12`): a top table where every closure is one "(anonymous)" row is useless.
 */
export function v8Frame(cf: V8CallFrame): Frame {
  const file = frameFile(cf.url);
  const line = cf.lineNumber >= 0 ? cf.lineNumber + 1 : 0;
  const column = cf.columnNumber >= 0 ? cf.columnNumber + 1 : 0;
  let name = cf.functionName;
  if (!name) name = file ? `(anonymous) ${file.startsWith('node:') ? file : basename(file)}:${line}` : '(anonymous)';
  return { name, file, line, column };
}

export interface CpuConvertOptions {
  /** Wall clock at the profile's start, ns since the epoch (V8's clock is monotonic, not wall). */
  startWallNs?: bigint;
  /** Sampling interval in ns (the pprof period); estimated from the samples when absent. */
  intervalNs?: number;
  comments?: string[];
}

/** Converts a V8 CPU profile to a pprof CPU profile: samples/count and cpu/nanoseconds, like Go's. */
export function cpuProfileToPprof(p: V8CpuProfile, opts: CpuConvertOptions = {}): Profile {
  if (!p || !Array.isArray(p.nodes)) throw new Error('not a V8 CPU profile (no "nodes")');
  const byId = new Map<number, V8CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) {
    for (const c of n.children ?? []) parent.set(c, n.id);
    if (n.parent !== undefined) parent.set(n.id, n.parent);
  }

  // Time and count per node. Each sample's weight is the gap until the next sample (V8's
  // timeDeltas[i] is the gap *before* sample i), so a sample delayed by a long pause weighs more.
  const count = new Map<number, number>();
  const time = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  const durationUs = Math.max(0, p.endTime - p.startTime);
  let intervalNs = opts.intervalNs ?? 0;
  if (!intervalNs) intervalNs = samples.length > 1 ? (durationUs * 1000) / samples.length : 1_000_000;
  if (samples.length > 0) {
    for (let i = 0; i < samples.length; i++) {
      const id = samples[i]!;
      const next = i + 1 < deltas.length ? deltas[i + 1]! * 1000 : intervalNs;
      count.set(id, (count.get(id) ?? 0) + 1);
      time.set(id, (time.get(id) ?? 0) + Math.max(0, next));
    }
  } else {
    // Writers that keep only hit counts (older .cpuprofile files).
    for (const n of p.nodes) {
      if (n.hitCount) {
        count.set(n.id, n.hitCount);
        time.set(n.id, n.hitCount * intervalNs);
      }
    }
  }

  let idleCount = 0;
  let totalCount = 0;
  for (const [id, c] of count) {
    totalCount += c;
    if (byId.get(id)?.callFrame.functionName === V8_IDLE_FRAME) idleCount += c;
  }
  const comments = [
    'tailprobe: V8 CPU profile converted to pprof; (idle) samples dropped, CPU time only',
    `tailprobe: ${totalCount} samples, ${idleCount} idle (${totalCount ? ((100 * idleCount) / totalCount).toFixed(1) : '0.0'}%)`,
    ...(opts.comments ?? []),
  ];
  const b = new ProfileBuilder({
    sampleTypes: [
      ['samples', 'count'],
      ['cpu', 'nanoseconds'],
    ],
    periodType: ['cpu', 'nanoseconds'],
    period: intervalNs,
    timeNanos: opts.startWallNs ?? 0n,
    durationNanos: durationUs * 1000,
    comments,
  });
  const stackCache = new Map<number, number[]>();
  const stackOf = (id: number): number[] => {
    let s = stackCache.get(id);
    if (s) return s;
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === V8_ROOT_FRAME) s = [];
    else {
      const up = parent.has(id) ? stackOf(parent.get(id)!) : [];
      s = [b.location(v8Frame(node.callFrame)), ...up];
    }
    stackCache.set(id, s);
    return s;
  };
  for (const [id, c] of count) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === V8_IDLE_FRAME) continue;
    const stack = stackOf(id);
    if (stack.length === 0) continue;
    b.sample(stack, [c, time.get(id) ?? 0]);
  }
  return b.build();
}

export interface HeapConvertOptions {
  /**
   * 'inuse': objects still live when the profile was taken (the `heap` profile);
   * 'alloc': every sampled allocation in the window, collected or not (the `allocs` profile).
   * It only names the sample types: which objects the V8 profile holds was decided when sampling started.
   */
  kind: 'inuse' | 'alloc';
  /** V8's sampling interval in bytes (the pprof period). */
  intervalBytes: number;
  startWallNs?: bigint;
  durationNs?: number;
  comments?: string[];
}

/**
 * Converts a V8 sampling heap profile to pprof, with sample types `samples/count` (sampled
 * allocations) and `inuse_space/bytes` or `alloc_space/bytes` (V8's estimate of the bytes they stand
 * for). Object counts cannot be recovered from the inspector's profile, so unlike Go's there is no
 * `*_objects` type.
 */
export function heapProfileToPprof(p: V8HeapProfile, opts: HeapConvertOptions): Profile {
  if (!p || !p.head || !p.head.callFrame) throw new Error('not a V8 heap sampling profile (no "head")');
  const space = opts.kind === 'inuse' ? 'inuse_space' : 'alloc_space';
  const b = new ProfileBuilder({
    sampleTypes: [
      ['samples', 'count'],
      [space, 'bytes'],
    ],
    periodType: ['space', 'bytes'],
    period: opts.intervalBytes,
    defaultSampleType: space,
    timeNanos: opts.startWallNs ?? 0n,
    durationNanos: opts.durationNs ?? 0,
    comments: [
      `tailprobe: V8 sampling heap profile (${opts.kind === 'inuse' ? 'objects live at the end' : 'all sampled allocations, including collected ones'}), interval ${opts.intervalBytes} bytes`,
      'tailprobe: only the V8 heap is sampled; Buffer/ArrayBuffer contents live outside it',
      ...(opts.comments ?? []),
    ],
  });
  // Walk the tree once, remembering each node's stack (leaf first).
  const stacks = new Map<number, number[]>();
  const selfSize = new Map<number, number>();
  let synthetic = 0;
  let hasIds = true;
  const walk = (n: V8HeapNode, up: number[]) => {
    const isRoot = n.callFrame.functionName === V8_ROOT_FRAME && !n.callFrame.url;
    const stack = isRoot ? up : [b.location(v8Frame(n.callFrame)), ...up];
    // Node ids tie samples to nodes; profiles from old writers have none (then selfSize is used).
    if (typeof n.id !== 'number') hasIds = false;
    const id = typeof n.id === 'number' ? n.id : -++synthetic;
    stacks.set(id, stack);
    selfSize.set(id, n.selfSize);
    for (const c of n.children ?? []) walk(c, stack);
  };
  walk(p.head, []);
  const perNode = new Map<number, { count: number; bytes: number }>();
  if (hasIds && p.samples && p.samples.length > 0) {
    for (const s of p.samples) {
      const agg = perNode.get(s.nodeId) ?? { count: 0, bytes: 0 };
      agg.count += 1;
      agg.bytes += s.size;
      perNode.set(s.nodeId, agg);
    }
  } else {
    // Files written by `node --heap-prof` or older tools carry only selfSize per node.
    for (const [id, size] of selfSize) {
      if (size > 0) perNode.set(id, { count: Math.max(1, Math.round(size / opts.intervalBytes)), bytes: size });
    }
  }
  for (const [id, agg] of perNode) {
    const stack = stacks.get(id);
    if (!stack || stack.length === 0) continue;
    b.sample(stack, [agg.count, agg.bytes]);
  }
  return b.build();
}
