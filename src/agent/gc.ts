import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { TimedRing } from './ring.js';

/**
 * Every GC pause of the process, from Node's 'gc' performance entries: the observer is native and
 * called in batches, so watching costs next to nothing; the pauses land in a fixed ring.
 */

/** GC kinds by Node's constant, named as V8 names them in --trace-gc. */
export const GC_KIND_NAMES: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-sweep-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental-marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};

export function gcKindName(kind: number): string {
  return GC_KIND_NAMES[kind] ?? `gc-kind-${kind}`;
}

export class GcRecorder {
  readonly ring: TimedRing;
  private observer: PerformanceObserver | null = null;
  /** Since when pauses are recorded, performance-clock ms. */
  startedAt = 0;

  constructor(capacity = 10_000) {
    this.ring = new TimedRing(capacity);
  }

  start(): void {
    if (this.observer) return;
    this.startedAt = performance.now();
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.record(e);
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  private record(e: PerformanceEntry): void {
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
    this.ring.push(e.startTime, e.duration, kind);
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = null;
  }
}
