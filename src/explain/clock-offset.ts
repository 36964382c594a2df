/**
 * The offset between the agent's clock and the generator's, from the requests alone.
 *
 * For every request both sides recorded, causality bounds the offset θ = agent clock − generator
 * clock: the server cannot start handling a request before the generator sent it, nor after the
 * generator had received the whole response to it:
 *
 *   sent_gen ≤ start_agent − θ ≤ received_gen   ⇒   start − received ≤ θ ≤ start − sent
 *
 * Every request narrows the interval [max(start − received), min(start − sent)]: the request whose
 * bytes reached the handler soonest after leaving bounds it from above, the one answered soonest
 * after it was picked up from below (on loopback a few hundred microseconds apart, across a data
 * centre about a round trip). The estimate is the middle and the uncertainty the half-width: the
 * reasoning of NTP, with thousands of exchanges for free.
 *
 * The end of a record is not used: Node's response `finish` fires when the write's callback runs, on
 * a later turn of the service's event loop, which under load (or during a GC pause) can be after
 * the client already has the whole answer. Only the start is an instant both sides agree about.
 *
 * If the bounds cross (a clock stepped or drifted during the run, or records that belong to other
 * requests), no single offset fits every request: the estimate falls back to the median of the
 * per-request midpoints, and `consistent` is false.
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
 * `sent`, `received`: generator clock; `start`: agent clock (all ns relative to one common base, so
 * that they fit doubles exactly). Arrays of equal length, one entry per matched request.
 */
export function estimateClockOffset(sent: ArrayLike<number>, received: ArrayLike<number>, start: ArrayLike<number>): ClockOffset | null {
  const n = sent.length;
  if (n === 0) return null;
  let lo = -Infinity;
  let hi = Infinity;
  for (let i = 0; i < n; i++) {
    const upper = start[i]! - sent[i]!;
    const lower = start[i]! - received[i]!;
    if (upper < hi) hi = upper;
    if (lower > lo) lo = lower;
  }
  if (lo <= hi) return { offsetNs: Math.round((lo + hi) / 2), uncertaintyNs: Math.round((hi - lo) / 2), requests: n, consistent: true };
  const mids = new Float64Array(n);
  for (let i = 0; i < n; i++) mids[i] = start[i]! - (sent[i]! + received[i]!) / 2;
  mids.sort();
  const median = n % 2 ? mids[(n - 1) / 2]! : (mids[n / 2 - 1]! + mids[n / 2]!) / 2;
  return { offsetNs: Math.round(median), uncertaintyNs: Math.round((lo - hi) / 2), requests: n, consistent: false };
}
