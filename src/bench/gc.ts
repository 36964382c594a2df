import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * A full, synchronous garbage collection, as Go's benchmarks run runtime.GC() before each run.
 * Without --expose-gc, the flag is set at run time and `gc` taken from a fresh context: V8 installs
 * the function in contexts created after the flag is set.
 */
let gcFn: (() => void) | null = null;

/**
 * `settled`: collect twice. ArrayBuffer backing stores found dead by a GC are freed by a sweeper
 * that may still be running when gc() returns, and V8's external-memory counter drops only then;
 * the second collection waits for that sweep, so the counter is still afterwards (measured: off by
 * up to a whole previous pass's bytes with one collection, exact with two).
 */
export function fullGc(settled = false): void {
  if (settled) {
    collect();
    collect();
  } else collect();
}

function collect(): void {
  if (gcFn === null) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gcFn = g;
    else {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    }
  }
  gcFn();
}
