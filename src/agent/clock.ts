/**
 * Wall-clock nanoseconds since the Unix epoch, the time base of attack results (Result.timestamp),
 * so that GC pauses and event-loop stalls seen by the agent can be laid over request latencies.
 *
 * performance.now() is monotonic and sub-microsecond; adding it to performance.timeOrigin (the wall
 * clock when the process started) gives a wall-clock instant with that precision. Both halves are
 * converted to integer ns separately: a float of epoch ns would lose everything below ~256 ns.
 */
const ORIGIN_NS = BigInt(Math.round(performance.timeOrigin * 1e6));

/** Wall-clock ns of a performance timestamp (ms since timeOrigin, as PerformanceEntry.startTime). */
export function perfToWallNs(perfMs: number): bigint {
  return ORIGIN_NS + BigInt(Math.round(perfMs * 1e6));
}

/** Wall-clock ns now. */
export function wallClockNs(): bigint {
  return perfToWallNs(performance.now());
}

/** Parses a `since`/`until` query value (epoch ns as decimal digits); undefined when absent. */
export function parseNsParam(v: string | null): bigint | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d{1,20}$/.test(v)) throw new Error(`expected epoch nanoseconds, got "${v.slice(0, 40)}"`);
  return BigInt(v);
}
