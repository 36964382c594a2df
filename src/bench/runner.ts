import { ALLOC_TOGGLE_NS, AllocMeter, ExternalMeter, HeapMeter } from './alloc.js';
import { fullGc } from './gc.js';
import type { B, Benchmark, LoopFn, OpFn } from './registry.js';
import { median, spread } from './stats.js';

/**
 * Runs benchmarks the way `go test -bench -benchmem` does:
 *
 * - Calibration (Go's launch/predictN): run 1 op, then grow n toward the benchtime, predicting from
 *   the last run (1.2x the estimate, at most 100x the last n, at least last+1, at most 1e9) until a
 *   run lasts the benchtime; that last run is the measurement. `iterations` fixes n instead (Go's
 *   -benchtime=100x). A full GC runs before each measurement's calibration, not before every run as
 *   Go's runtime.GC() does: in V8 a full GC can throw away optimized code (code whose embedded
 *   objects died is deoptimized), and the measured run would then time the JIT compiling again.
 *   (Heap bytes are counted correctly whatever garbage earlier runs left: see HeapMeter.)
 * - `count` measurements per benchmark, each with its own calibration, so the spread is honest.
 * - Heap bytes are counted in the timed run itself (free: a GC-accounting meter, see alloc.ts);
 *   the allocation count and off-heap bytes come from passes after it, never inside it, whose ns/op
 *   the exhaustive allocation tracing would distort.
 */
export interface RunOptions {
  /** Only benchmarks whose name matches (Go's -bench); matched against "Name" and "BenchmarkName". */
  run?: RegExp;
  /** Measurements per benchmark (default 5). */
  count?: number;
  /** Target duration of each measured run in ns (default 1s). Ignored if iterations is set. */
  benchtimeNs?: number;
  /** Fixed op count per measured run (Go's -benchtime=Nx). */
  iterations?: number;
  /** Measure B/op and allocs/op (default true). */
  benchmem?: boolean;
  /** Called after each measurement (for streaming output). */
  onRun?: (bench: Benchmark, run: BenchRun, index: number) => void;
  /** Called when a benchmark throws; it is then skipped. */
  onError?: (bench: Benchmark, error: unknown) => void;
  /** Stops between runs; what is done so far is returned. */
  signal?: AbortSignal;
}

export interface BenchRun {
  /** Ops in the measured run. */
  n: number;
  nsPerOp: number;
  /** heapBytesPerOp + externalBytesPerOp (heap only if external is unknown); null without benchmem. */
  bytesPerOp: number | null;
  allocsPerOp: number | null;
  /** V8 heap bytes, counted in the timed run. */
  heapBytesPerOp: number | null;
  /** Off-heap (ArrayBuffer/Buffer backing store) bytes; null if unknown or without benchmem. */
  externalBytesPerOp: number | null;
  /** V8 heap bytes as the counting passes saw them (a cross-check of heapBytesPerOp). */
  sampledHeapBytesPerOp?: number | null;
  /** Ops in the larger counting pass (the slope is between half this and this). */
  allocOps?: number;
}

export interface BenchResult {
  name: string;
  /** Medians over the runs. */
  nsPerOp: number | null;
  bytesPerOp: number | null;
  allocsPerOp: number | null;
  /** Half-range about the median, as a fraction of it (0.03 = ±3%), per metric. */
  spread: { nsPerOp: number | null; bytesPerOp: number | null; allocsPerOp: number | null };
  runs: BenchRun[];
  /** Set if the benchmark threw; runs holds what completed before. */
  error?: string;
}

const MAX_N = 1e9;
/** Allocations traced per counting pass, to bound its time and the profile's size. */
const MAX_ALLOC_SAMPLES = 200_000;
/** Roughly what the sampling profiler costs per allocation (for sizing passes). */
const NS_PER_SAMPLE = 1500;

export async function runBenchmarks(benchmarks: Benchmark[], opts: RunOptions = {}): Promise<BenchResult[]> {
  const count = opts.count ?? 5;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${opts.count}`);
  const benchtimeNs = opts.benchtimeNs ?? 1e9;
  const results: BenchResult[] = [];
  for (const bm of benchmarks) {
    if (opts.run && !opts.run.test(bm.name) && !opts.run.test(displayName(bm.name))) continue;
    if (opts.signal?.aborted) break;
    const runs: BenchRun[] = [];
    let error: string | undefined;
    try {
      for (let i = 0; i < count; i++) {
        if (opts.signal?.aborted) break;
        const mem = opts.benchmem !== false;
        let t: Timed;
        if (opts.iterations !== undefined) {
          fullGc();
          t = await timedRun(bm, opts.iterations, mem);
        } else t = await calibrate(bm, benchtimeNs, mem);
        const run: BenchRun = { n: t.n, nsPerOp: t.ns / t.n, bytesPerOp: null, allocsPerOp: null, heapBytesPerOp: null, externalBytesPerOp: null };
        if (mem) {
          const heapBytesPerOp = nonNegative(t.heapBytes / t.n);
          const budgetNs = opts.iterations !== undefined ? t.ns : benchtimeNs;
          const counted = await countAllocs(bm, t.n, run.nsPerOp, heapBytesPerOp, (t.starts - 1) / t.n, budgetNs);
          Object.assign(run, counted, {
            heapBytesPerOp,
            bytesPerOp: Math.round((heapBytesPerOp + (counted.externalBytesPerOp ?? 0)) * 100) / 100,
          });
        }
        runs.push(run);
        opts.onRun?.(bm, run, i);
      }
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
      opts.onError?.(bm, err);
    }
    results.push(summarize(bm.name, runs, error));
  }
  return results;
}

/** "BenchmarkLookup/fresh": Go's prefix, the first letter upper-cased (benchstat needs it), spaces as _. */
export function displayName(name: string): string {
  const n = name.replace(/\s+/g, '_');
  if (n.startsWith('Benchmark')) return n;
  return `Benchmark${n.charAt(0).toUpperCase()}${n.slice(1)}`;
}

export function summarize(name: string, runs: BenchRun[], error?: string): BenchResult {
  const pick = (f: (r: BenchRun) => number | null): number[] | null => {
    const v = runs.map(f);
    return v.length > 0 && v.every((x) => x !== null) ? (v as number[]) : null;
  };
  const ns = pick((r) => r.nsPerOp);
  const bytes = pick((r) => r.bytesPerOp);
  const allocs = pick((r) => r.allocsPerOp);
  const res: BenchResult = {
    name,
    nsPerOp: ns && median(ns),
    bytesPerOp: bytes && median(bytes),
    allocsPerOp: allocs && median(allocs),
    spread: { nsPerOp: ns && spread(ns), bytesPerOp: bytes && spread(bytes), allocsPerOp: allocs && spread(allocs) },
    runs,
  };
  if (error !== undefined) res.error = error;
  return res;
}

interface Timed {
  n: number;
  ns: number;
  /** V8 heap bytes allocated during the run (0 when not measured). */
  heapBytes: number;
  /** Times the timer was started (1 unless the benchmark stops and starts it). */
  starts: number;
}

/** Go's predictN loop; returns the last run, the first to last at least the benchtime. */
async function calibrate(bm: Benchmark, benchtimeNs: number, mem: boolean): Promise<Timed> {
  fullGc();
  let r = await timedRun(bm, 1, mem);
  while (r.ns < benchtimeNs && r.n < MAX_N) {
    const last = r.n;
    const prevNs = Math.max(r.ns, 1);
    let next = Math.floor((benchtimeNs * last) / prevNs);
    next += Math.floor(next / 5);
    next = Math.min(next, 100 * last);
    next = Math.max(next, last + 1);
    r = await timedRun(bm, Math.min(next, MAX_N), mem);
  }
  return r;
}

interface Meter {
  begin(): void;
  pause(): void;
  resume(): void;
  reset(): void;
}

/** The B handed to Go-style benchmarks; stop/start/reset drive the clock and the meter. */
class Timer implements B {
  private startedAt = 0n;
  private elapsed = 0n;
  private running = false;
  /** startTimer calls that (re)started it: each costs a meter toggle. */
  starts = 0;

  constructor(readonly n: number, readonly name: string, private readonly meter: Meter | null) {}

  startTimer(): void {
    if (this.running) return;
    this.running = true;
    this.starts++;
    this.meter?.resume();
    this.startedAt = process.hrtime.bigint();
  }

  stopTimer(): void {
    if (!this.running) return;
    this.elapsed += process.hrtime.bigint() - this.startedAt;
    this.running = false;
    this.meter?.pause();
  }

  resetTimer(): void {
    this.elapsed = 0n;
    this.meter?.reset();
    if (this.running) this.startedAt = process.hrtime.bigint();
  }

  get elapsedNs(): number {
    return Number(this.elapsed);
  }
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === 'object' || typeof x === 'function') && typeof (x as PromiseLike<unknown>).then === 'function';
}

/** Runs n ops with the clock (and the meter, if any) running; returns the elapsed ns and starts. */
async function pass(bm: Benchmark, n: number, meter: Meter | null): Promise<{ ns: number; starts: number }> {
  const b = new Timer(n, bm.name, meter);
  meter?.begin();
  b.startTimer(); // starts the meter too

  if (bm.style === 'loop') {
    const r = (bm.fn as LoopFn)(b);
    if (isThenable(r)) await r;
  } else {
    const fn = bm.fn as OpFn;
    if (n > 0) {
      const first = fn();
      if (isThenable(first)) {
        await first;
        for (let i = 1; i < n; i++) await fn();
      } else {
        for (let i = 1; i < n; i++) fn();
      }
    }
  }
  b.stopTimer();
  return { ns: b.elapsedNs, starts: b.starts };
}

async function timedRun(bm: Benchmark, n: number, mem: boolean): Promise<Timed> {
  const overhead = mem ? await heapOverheadPerStart() : 0;
  if (!mem) return { n, heapBytes: 0, ...(await pass(bm, n, null)) };
  const meter = new HeapMeter();
  const p = await pass(bm, n, meter);
  return { n, ...p, heapBytes: Math.max(0, meter.end().heapBytes - overhead * p.starts) };
}

let overheadBytes: number | null = null;

/**
 * What the harness itself allocates inside one timed stretch (the clock's BigInts, the meter's
 * heap-statistics object): measured once on an empty benchmark, the least of a few tries, and
 * subtracted, so that a short run of an allocation-free op reads 0 B/op rather than the harness's
 * few hundred bytes divided by n.
 */
async function heapOverheadPerStart(): Promise<number> {
  if (overheadBytes !== null) return overheadBytes;
  const empty: Benchmark = { name: '(overhead)', style: 'loop', fn: () => undefined };
  let least = Infinity;
  for (let i = 0; i < 5; i++) {
    const meter = new HeapMeter();
    await pass(empty, 0, meter);
    least = Math.min(least, meter.end().heapBytes);
  }
  overheadBytes = Math.max(0, least);
  return overheadBytes;
}

/**
 * Allocation count (and off-heap bytes) for one measurement: the slope between a pass of n/2 ops
 * and a pass of n ops with the allocation tracer on. n is the timed run's n if affordable: the
 * closer the passes are to the timed run, the closer the JIT's state (what it inlined, folded or
 * removed) is to the one that was timed. It is capped so that a pass traces at most
 * MAX_ALLOC_SAMPLES allocations (estimated from the timed run's bytes, every object being at least
 * 12 bytes) and takes about half the benchtime (counting what stopping the tracer costs, for
 * benchmarks that stop their timer).
 */
async function countAllocs(
  bm: Benchmark,
  timedN: number,
  nsPerOp: number,
  heapBytesPerOp: number,
  restartsPerOp: number,
  benchtimeNs: number,
): Promise<Pick<BenchRun, 'allocsPerOp' | 'externalBytesPerOp' | 'sampledHeapBytesPerOp' | 'allocOps'>> {
  const meter = new AllocMeter();
  // Each counting pass runs right after an untraced pass of the same size, with no GC in between:
  // stopping the tracer forces a full GC, which can throw away optimized code (V8 deoptimizes code
  // whose embedded objects died), and a pass that started cold would count what the interpreter
  // allocates (boxed numbers, unfolded objects) rather than what the timed, optimized code does.
  const countPass = async (n: number) => {
    await pass(bm, n, null);
    await pass(bm, n, meter);
    return meter.end();
  };
  const estAllocs = Math.max(heapBytesPerOp / 12, 1e-3);
  let n2 = Math.min(
    timedN,
    Math.floor(MAX_ALLOC_SAMPLES / estAllocs),
    Math.floor(benchtimeNs / 2 / (nsPerOp + estAllocs * NS_PER_SAMPLE + restartsPerOp * ALLOC_TOGGLE_NS)),
  );
  n2 = Math.max(n2, 2);
  const n1 = Math.max(1, Math.floor(n2 / 2));
  const few = await countPass(n1);
  const many = await countPass(n2);
  const d = n2 - n1;
  return {
    allocsPerOp: nonNegative((many.allocs - few.allocs) / d),
    sampledHeapBytesPerOp: nonNegative((many.heapBytes - few.heapBytes) / d),
    externalBytesPerOp: await measureExternal(bm, Math.min(timedN, Math.max(n2, 2 * n1, 2))),
    allocOps: n2,
  };
}

/** Off-heap bytes/op from GC-free passes (n/2 and n ops), halving n until neither pass sees a GC. */
async function measureExternal(bm: Benchmark, n: number): Promise<number | null> {
  const meter = new ExternalMeter();
  const extPass = async (k: number) => {
    fullGc(true);
    await pass(bm, k, meter);
    return meter.end();
  };
  for (let k = Math.max(n, 2), tries = 0; k >= 2 && tries < 8; k = Math.floor(k / 2), tries++) {
    const k1 = Math.max(1, Math.floor(k / 2));
    const few = await extPass(k1);
    const many = await extPass(k);
    if (few.gcs === 0 && many.gcs === 0) return nonNegative((many.externalBytes - few.externalBytes) / (k - k1));
  }
  return null;
}

/**
 * Measurement noise can make a slope of nothing slightly negative; nothing is 0. Rounded to 0.01:
 * finer digits are noise (and 0.003 allocs/op is nothing, not an infinite relative spread).
 */
function nonNegative(x: number): number {
  return x < 0 ? 0 : Math.round(x * 100) / 100;
}
