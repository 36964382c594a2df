/**
 * The `bench(name, fn)` registration API, Go's `func BenchmarkX(b *testing.B)` for Node.
 *
 * Two shapes, told apart by whether fn declares a parameter (or by opts.style):
 *
 *   bench('Lookup', () => table.get('k42'));            // one op: the harness calls it b.n times
 *   bench('Lookup', (b) => {                           // Go style: fn runs b.n ops itself
 *     const t = makeTable();  b.resetTimer();          // setup excluded from the figures
 *     for (let i = 0; i < b.n; i++) table.get('k42');
 *   });
 *
 * Either may be async (return a promise); the harness awaits it (per op for the first shape, so an
 * async op's await machinery is part of its cost). The per-op shape costs one indirect call per op
 * in the harness's loop; for operations of a few nanoseconds prefer the Go shape.
 *
 * The registry lives on globalThis, so a bench file that imports `tailprobe/bench` from its own
 * node_modules registers into the same list the `tailprobe bench` CLI reads.
 */
export interface B {
  /** Ops to run in this call (Go's b.N). */
  readonly n: number;
  /** The benchmark's name. */
  readonly name: string;
  /** Zeroes the elapsed time and the allocation counts (after setup). */
  resetTimer(): void;
  /** Pauses timing and allocation counting. */
  stopTimer(): void;
  /** Resumes timing and allocation counting. */
  startTimer(): void;
}

export type OpFn = () => unknown;
export type LoopFn = (b: B) => unknown;

export interface BenchOptions {
  /** 'op': fn is one op; 'loop': fn(b) runs b.n ops. Default: 'loop' if fn declares a parameter. */
  style?: 'op' | 'loop';
}

export interface Benchmark {
  name: string;
  style: 'op' | 'loop';
  fn: OpFn | LoopFn;
}

interface Registry {
  all: Benchmark[];
  /** Benchmarks registered while a file is being loaded (see collect). */
  collecting: Benchmark[] | null;
  /** What each loaded file registered (a module runs once; a second load reuses this). */
  byFile: Map<string, Benchmark[]>;
}

const KEY = Symbol.for('tailprobe.bench.registry');

export function registry(): Registry {
  const g = globalThis as { [KEY]?: Registry };
  return (g[KEY] ??= { all: [], collecting: null, byFile: new Map() });
}

export function bench(name: string, fn: OpFn | LoopFn, opts: BenchOptions = {}): void {
  if (typeof name !== 'string' || name.trim() === '') throw new TypeError('bench: a benchmark needs a name');
  if (typeof fn !== 'function') throw new TypeError(`bench ${name}: fn must be a function`);
  const style = opts.style ?? (fn.length >= 1 ? 'loop' : 'op');
  const r = registry();
  const scope = r.collecting ?? r.all;
  if (scope.some((b) => b.name === name)) throw new Error(`bench: duplicate benchmark name "${name}"`);
  const b: Benchmark = { name, style, fn };
  scope.push(b);
  if (r.collecting !== null) r.all.push(b);
}

/** Benchmarks registered so far in this process. */
export function registered(): Benchmark[] {
  return [...registry().all];
}

let sinkValue: unknown;

/** Keeps a value alive so the JIT cannot drop the computation that produced it. */
export function blackhole(value: unknown): void {
  sinkValue = value;
}

/** @internal read back the sink (keeps the store observable to the compiler). */
export function lastSunk(): unknown {
  return sinkValue;
}
