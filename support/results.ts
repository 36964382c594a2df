import { Metrics } from '../src/metrics/metrics.js';
import type { Result } from '../src/results/result.js';

/** 2026-11-27T08:00:00Z in ns: the start of every made-up run in the tests. */
export const T0 = 1795766400000000000n;

/**
 * The one factory of made-up results: request `i` of a run that sends every `intervalNs` (500 req/s
 * by default) from T0, a 200 with `latencyNs`, a 10 µs send lag and a 10-byte body. `over` changes
 * any field (a failure: `{ code: 500, error: 'internal' }`).
 */
export function result(i: number, latencyNs: number, over: Partial<Result> = {}, intervalNs = 2_000_000): Result {
  return {
    attack: 't', seq: i, code: 200, timestamp: T0 + BigInt(i * intervalNs),
    latency: latencyNs, sendLag: 10_000, bytesOut: 0, bytesIn: 10, error: '', body: null,
    method: 'GET', url: 'http://127.0.0.1/', headers: null, ...over,
  };
}

/** Metrics of these results, added in order. */
export function metricsOf(results: Iterable<Result>): Metrics {
  const m = new Metrics();
  for (const r of results) m.add(r);
  return m;
}
