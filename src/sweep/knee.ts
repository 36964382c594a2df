/**
 * Finding the knee of a latency-against-rate curve.
 *
 * With an SLO the knee is a fact, not a fit: the highest rate at which the SLO held (below any step
 * where it had clearly broken, so one lucky step past the cliff does not count).
 *
 * Without one, the knee is where the tail stops growing gently and starts to explode. We use the
 * Kneedle rule (Satopaa et al., "Finding a 'Kneedle' in a Haystack", 2011): scale rate and p99 to
 * [0, 1] over the sweep and take the step farthest below the straight line from the first step to
 * the last. On a queue's hockey stick (flat, then vertical) that is the last step before the wall,
 * whatever the units; it needs no threshold tuned to the service, and a noisy 20 ms blip among
 * 5 ms steps barely moves it, because the scale is set by the explosion. Its limits: it needs an
 * explosion inside the sweep (we ask p99 to rise at least MIN_RISE-fold, else there is no knee), and
 * it depends on the range swept (the early stop ends a sweep just after the wall, which suits it).
 */
export interface KneeStep {
  rate: number;
  p99: number;
  /** SLO verdict of the step; null without an SLO. */
  pass: boolean | null;
  /** The step failed by a wide margin (see sweep.ts): the tail had clearly broken. */
  broken: boolean;
}

/** Without a rise of at least this factor in p99 across the sweep, nothing exploded: no latency knee. */
export const MIN_RISE = 3;

/**
 * The highest rate at which the SLO held below the cliff: the first of `run` consecutive clearly
 * broken steps (in rate order). One broken step alone is not the cliff: on a shared machine a
 * stall can wreck any single step, and the sweep itself only stops on `run` in a row.
 * Null when the SLO held nowhere below the cliff.
 */
export function sloKnee(steps: KneeStep[], run = 2): number | null {
  const sorted = [...steps].sort((a, b) => a.rate - b.rate);
  let cliff = Infinity;
  for (let i = 0; i + run <= sorted.length; i++) {
    if (sorted.slice(i, i + run).every((s) => s.broken)) {
      cliff = sorted[i]!.rate;
      break;
    }
  }
  let knee: number | null = null;
  for (const s of sorted) if (s.pass === true && s.rate < cliff) knee = s.rate;
  return knee;
}

/** The rate after which p99 explodes (Kneedle on rate vs p99), or null when it never does. */
export function latencyKnee(steps: KneeStep[]): number | null {
  const pts = steps.filter((s) => Number.isFinite(s.p99) && s.p99 > 0).sort((a, b) => a.rate - b.rate);
  if (pts.length < 3) return null;
  const r0 = pts[0]!.rate;
  const r1 = pts[pts.length - 1]!.rate;
  const lo = Math.min(...pts.map((p) => p.p99));
  const hi = Math.max(...pts.map((p) => p.p99));
  if (r1 <= r0 || hi < MIN_RISE * lo) return null;
  let best = -Infinity;
  let knee: number | null = null;
  for (const p of pts) {
    const d = (p.rate - r0) / (r1 - r0) - (p.p99 - lo) / (hi - lo);
    if (d > best) {
      best = d;
      knee = p.rate;
    }
  }
  return best > 0 ? knee : null;
}
