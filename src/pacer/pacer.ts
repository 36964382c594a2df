/**
 * A pacer is the schedule of an open-model attack: a pure function from request number to the
 * moment that request is due. Purity is what lets N workers share ONE schedule exactly: worker k
 * of N sends every request i with i % N === k at offsetOf(i), so the union of their sends is the
 * very stream one worker would have produced (no bursts at second boundaries, no drift between
 * workers, no coordination at run time).
 *
 * Offsets are nanoseconds from the start of the attack, as doubles (exact to the ns for the
 * first ~9e15 ns, i.e. ~104 days).
 *
 * The interface is open: any object with `offsetOf(i)` (non-decreasing in i) and `describe()` is a
 * pacer `attack()` runs, e.g. `{ offsetOf: (i) => i * 1e7 + (i % 100 === 0 ? 5e6 : 0), describe:
 * () => 'bursty' }`. What it cannot do without a `spec` is travel to worker threads (a function
 * cannot be sent to a thread, plain data can): such a pacer runs on one worker and without the
 * metronome thread, so its send lag has Node's 1 ms timer grain. The built-in pacers have both.
 */
export interface Pacer {
  /** Intended offset (ns from start) of request number i (0-based); Infinity when the schedule ends. */
  offsetOf(i: number): number;
  /** As a person would write it: "500/1s", "linear 100/1s -> 2000/1s over 1m", ... */
  describe(): string;
  /** Instantaneous asked rate at offset tNs, requests per second (without it: see rateOf). */
  rateAt?(tNs: number): number;
  /** Plain data that rebuilds the same pacer (worker threads and the metronome receive pacers this way). */
  readonly spec?: PacerSpec;
}

/** A pacer tailprobe builds itself (constant, linear, sine): every member present. */
export interface BuiltinPacer extends Pacer {
  rateAt(tNs: number): number;
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
  if (!(durationNs > 0)) return rateOf(p, 0);
  const n = countBefore(p, durationNs);
  return Number.isFinite(n) ? n / (durationNs / 1e9) : rateOf(p, 0);
}

/**
 * The asked rate at offset tNs, req/s: the pacer's own rateAt, or, for a pacer without one, the
 * spacing between the first request due at or after tNs and the next (0 when the schedule has ended).
 */
export function rateOf(p: Pacer, tNs: number): number {
  if (p.rateAt) return p.rateAt(tNs);
  const i = tNs > 0 ? countBefore(p, tNs) : 0;
  if (!Number.isFinite(i)) return 0;
  const gap = p.offsetOf(i + 1) - p.offsetOf(i);
  return gap > 0 && Number.isFinite(gap) ? 1e9 / gap : 0;
}
