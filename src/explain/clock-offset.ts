/**
 * The offset between the agent's clock and the generator's, from the requests alone.
 *
 * For every request both sides recorded, causality bounds the offset θ = agent clock − generator
 * clock: the server cannot start handling a request before the generator sent it, nor finish it
 * after the generator received the whole response:
 *
 *   start_agent − θ ≥ sent_gen      ⇒  θ ≤ start_agent − sent_gen
 *   end_agent   − θ ≤ received_gen  ⇒  θ ≥ end_agent − received_gen
 *
 * Every request narrows the interval [max(end − received), min(start − sent)] (the round trip of
 * the fastest requests is what bounds it: on loopback tens of microseconds, across a data centre a
 * few hundred). The estimate is its middle and the uncertainty its half-width: the same reasoning
 * as NTP's, with thousands of exchanges for free. If the bounds cross (a clock stepped or drifted
 * during the run, or records belong to other requests), no single offset fits every request: the
 * estimate falls back to the median of the per-request midpoints, and `consistent` is false.
 */
export interface ClockOffset {
  /** Agent clock minus generator clock, ns. */
  offsetNs: number;
  /** Half-width of the interval the requests allow, ns (when inconsistent: how far the bounds cross). */
  uncertaintyNs: number;
  /** Requests the estimate rests on. */
  requests: number;
  /** False when no single offset fits every request. */
  consistent: boolean;
}

/**
 * `sent`, `received`: generator clock; `start`, `end`: agent clock (all ns relative to one common
 * base, so that they fit doubles exactly). Arrays of equal length, one entry per matched request.
 */
export function estimateClockOffset(sent: ArrayLike<number>, received: ArrayLike<number>, start: ArrayLike<number>, end: ArrayLike<number>): ClockOffset | null {
  const n = sent.length;
  if (n === 0) return null;
  let lo = -Infinity;
  let hi = Infinity;
  for (let i = 0; i < n; i++) {
    const upper = start[i]! - sent[i]!;
    const lower = end[i]! - received[i]!;
    if (upper < hi) hi = upper;
    if (lower > lo) lo = lower;
  }
  if (lo <= hi) return { offsetNs: Math.round((lo + hi) / 2), uncertaintyNs: Math.round((hi - lo) / 2), requests: n, consistent: true };
  const mids = new Float64Array(n);
  for (let i = 0; i < n; i++) mids[i] = (start[i]! - sent[i]! + (end[i]! - received[i]!)) / 2;
  mids.sort();
  const median = n % 2 ? mids[(n - 1) / 2]! : (mids[n / 2 - 1]! + mids[n / 2]!) / 2;
  return { offsetNs: Math.round(median), uncertaintyNs: Math.round((lo - hi) / 2), requests: n, consistent: false };
}
