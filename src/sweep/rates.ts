import { TailprobeError, UsageError } from '../errors.js';
import { parseRate } from '../pacer/rate.js';

/**
 * Which rates a sweep visits, from `-rates`:
 *
 *   100:2000:100     a grid: start, stop (inclusive), step
 *   100,200,400,800  a list, visited in increasing order
 *   auto             adaptive search for the highest rate that meets the SLO: doubling from 50/s
 *                    until a step fails, then bisection between the last pass and the first fail
 *   auto:START:MAX   the same, starting at START and never above MAX
 *
 * Rates are written as vegeta writes them (500, 500/1s, 30000/1m).
 */
export type RatePlan =
  | { kind: 'grid'; rates: number[] }
  | { kind: 'auto'; start: number; max: number };

/** A grid longer than this is a typo (a step of 1 instead of 100), not a plan. */
export const MAX_GRID_STEPS = 200;
export const AUTO_START = 50;
export const AUTO_MAX = 50_000;

export function parseRates(text: string): RatePlan {
  const t = text.trim();
  const bad = (why: string) => new UsageError(`sweep: invalid -rates "${text}": ${why}`);
  const rate = (s: string): number => {
    let r: number;
    try {
      r = parseRate(s);
    } catch (e) {
      if (e instanceof TailprobeError) throw bad(`"${s}" is not a rate (e.g. 100, 100/1s)`);
      throw e;
    }
    if (!(r > 0)) throw bad('every rate must be above 0 (a sweep has no max mode)');
    return r;
  };
  if (t === '') throw bad('empty (e.g. 100:2000:100, 100,200,400 or auto)');
  if (t === 'auto' || t.startsWith('auto:')) {
    const parts = t.split(':').slice(1);
    if (parts.length !== 0 && parts.length !== 2) throw bad('want auto or auto:START:MAX');
    const start = parts.length ? rate(parts[0]!) : AUTO_START;
    const max = parts.length ? rate(parts[1]!) : AUTO_MAX;
    if (start >= max) throw bad('START must be below MAX');
    return { kind: 'auto', start, max };
  }
  if (t.includes(':')) {
    const parts = t.split(':');
    if (parts.length !== 3) throw bad('want START:STOP:STEP, e.g. 100:2000:100');
    const [start, stop, step] = parts.map(rate) as [number, number, number];
    if (start > stop) throw bad('START is above STOP');
    const n = Math.floor((stop - start) / step + 1e-9) + 1;
    if (n > MAX_GRID_STEPS) throw bad(`${n} steps; at most ${MAX_GRID_STEPS} (use a larger STEP or -rates=auto)`);
    return { kind: 'grid', rates: Array.from({ length: n }, (_, i) => roundRate(start + i * step)) };
  }
  const rates = [...new Set(t.split(',').map((s) => rate(s.trim())))].sort((a, b) => a - b);
  if (rates.length > MAX_GRID_STEPS) throw bad(`${rates.length} steps; at most ${MAX_GRID_STEPS}`);
  return { kind: 'grid', rates };
}

/** Rates print as people write them: no 300.00000000000006. */
export function roundRate(r: number): number {
  return Number(r.toPrecision(10));
}

/**
 * The adaptive search as a state machine, so it can be tested without load: `next()` says which
 * rate to run next (null when done), `record(rate, pass)` what happened there.
 * Phase 1 doubles from `start` until a step fails (or `max` passes); phase 2 bisects between the
 * highest pass and the lowest fail until they are within `precision` of each other.
 */
export class AdaptiveSearch {
  private lo: number | null = null; // highest passing rate
  private hi: number | null = null; // lowest failing rate
  private last: number | null = null;

  constructor(
    readonly start: number,
    readonly max: number,
    /** Stop when (hi - lo) / lo is at most this. */
    readonly precision = 0.05,
  ) {}

  next(): number | null {
    if (this.last === null) return this.start;
    if (this.hi === null) {
      // Ramp: double until something fails.
      if (this.lo === null || this.lo >= this.max) return null;
      return Math.min(this.max, roundRate(this.lo * 2));
    }
    if (this.lo === null) return null; // the start rate already fails: nothing below to bisect
    if ((this.hi - this.lo) / this.lo <= this.precision) return null;
    const raw = (this.lo + this.hi) / 2;
    const mid = raw >= 10 ? Math.round(raw) : Number(raw.toPrecision(3));
    // Integer rates cannot split 10 and 11 any finer: that is as precise as the search gets.
    return mid > this.lo && mid < this.hi ? mid : null;
  }

  record(rate: number, pass: boolean): void {
    this.last = rate;
    if (pass) {
      if (this.lo === null || rate > this.lo) this.lo = rate;
    } else if (this.hi === null || rate < this.hi) this.hi = rate;
  }
}
