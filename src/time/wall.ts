/**
 * The project's one wall clock: nanoseconds since the Unix epoch, as a bigint.
 *
 * Every timestamp that leaves a process (a result's intended send time, an agent's GC pause or
 * request record, a contention profile's start) is on this clock, so that records of the load
 * generator and of the service can be laid on one timeline (`explain` joins them).
 *
 * performance.now() is monotonic and sub-microsecond; performance.timeOrigin is the wall clock when
 * the process (or worker thread) started. Their sum is a wall-clock instant with performance.now()'s
 * precision that never jumps when NTP steps the system clock during a run. The two halves are
 * converted to integer nanoseconds separately: a float of epoch nanoseconds (~1.7e18) has a grain of
 * 256 ns, which would misplace short events (a 100 µs scavenge) and break exact joins.
 */
const ORIGIN_NS = BigInt(Math.round(performance.timeOrigin * 1e6));

/** Wall-clock ns of a performance timestamp (ms since this thread's timeOrigin, as PerformanceEntry.startTime). */
export function perfToWallNs(perfMs: number): bigint {
  return ORIGIN_NS + BigInt(Math.round(perfMs * 1e6));
}

/** Wall-clock ns now. */
export function wallClockNs(): bigint {
  return perfToWallNs(performance.now());
}
