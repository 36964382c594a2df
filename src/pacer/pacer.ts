/**
 * A pacer is the schedule of an open-model attack: a pure function from request number to the
 * moment that request is due. Purity is what lets N workers share ONE schedule exactly: worker k
 * of N sends every request i with i % N === k at offsetOf(i), so the union of their sends is the
 * very stream one worker would have produced (no bursts at second boundaries, no drift between
 * workers, no coordination at run time).
 *
 * Offsets are nanoseconds from the start of the attack, as doubles (exact to the ns for the
 * first ~9e15 ns, i.e. ~104 days).
 */
export interface Pacer {
  /** Intended offset (ns from start) of request number i (0-based); Infinity when the schedule ends. */
  offsetOf(i: number): number;
  /** Instantaneous asked rate at offset tNs, requests per second. */
  rateAt(tNs: number): number;
  /** As a person would write it: "500/1s", "linear 100/1s -> 2000/1s over 1m", ... */
  describe(): string;
  /** Plain data that rebuilds the same pacer (worker threads receive pacers this way). */
  readonly spec: PacerSpec;
}

export type PacerSpec =
  | { kind: 'constant'; perSec: number }
  | { kind: 'linear'; fromPerSec: number; toPerSec: number; rampNs: number }
  | { kind: 'sine'; meanPerSec: number; ampPerSec: number; periodNs: number };

/** Number of requests a pacer schedules in [0, durationNs): the attack's planned size. */
export function countBefore(p: Pacer, durationNs: number): number {
  if (!(durationNs > 0) || !Number.isFinite(durationNs)) return Infinity;
  if (p.offsetOf(0) >= durationNs) return 0;
  // Exponential then binary search on the monotone schedule: exact, and O(log n) calls.
  let hi = 1;
  while (p.offsetOf(hi) < durationNs) {
    hi *= 2;
    if (hi > 2 ** 52) return Infinity;
  }
  let lo = hi / 2 > 0 ? Math.floor(hi / 2) : 0; // offsetOf(lo) < duration (or lo = 0)
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (p.offsetOf(mid) < durationNs) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Mean asked rate over [0, durationNs), req/s (for RunInfo). */
export function meanRate(p: Pacer, durationNs: number): number {
  if (!(durationNs > 0)) return p.rateAt(0);
  const n = countBefore(p, durationNs);
  return Number.isFinite(n) ? n / (durationNs / 1e9) : p.rateAt(0);
}
