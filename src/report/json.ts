import type { Metrics } from '../metrics/metrics.js';
import type { RunMeta } from '../results/result.js';
import { formatRfc3339Nano } from '../results/timestamp.js';
import { checkShardSet } from '../metrics/shards.js';
import { reportWarnings, type SourceSummary } from './health.js';
import { LatencyBuckets } from './hist.js';

/**
 * vegeta's JSON report (same keys, same order, durations in integer ns, times RFC 3339), plus ours:
 * latencies["99.9th"] and latencies["99.99th"], a "schedule" object (the generator's lateness) and
 * "warnings" (the same sentences the text report prints). With `buckets`, a "buckets" object maps
 * each bucket's lower bound in ns to its count, as vegeta's `report -type=json -buckets` does
 * (exact with LatencyBuckets, to HDR resolution with bare bounds; see histReport).
 */
export function jsonReport(
  m: Metrics,
  meta: RunMeta[] = [],
  sources: SourceSummary[] = [],
  opts: { buckets?: number[] | LatencyBuckets } = {},
): object {
  const l = m.latencies();
  const s = m.schedule();
  const n = m.requests;
  const round = Math.round;
  const out: Record<string, unknown> = {
    latencies: {
      total: round(l.total),
      mean: round(l.mean),
      '50th': round(l.p50),
      '90th': round(l.p90),
      '95th': round(l.p95),
      '99th': round(l.p99),
      '99.9th': round(l.p999),
      '99.99th': round(l.p9999),
      max: round(l.max),
      min: round(l.min),
    },
  };
  if (opts.buckets) {
    const exact = opts.buckets instanceof LatencyBuckets ? opts.buckets : null;
    const bounds = exact ? exact.bounds : (opts.buckets as number[]);
    const counts = exact ? exact.counts : m.latency.countsInBuckets(bounds);
    const b: Record<string, number> = {};
    bounds.forEach((ns, i) => (b[String(ns)] = counts[i]!));
    out.buckets = b;
  }
  const statusCodes: Record<string, number> = {};
  for (const code of [...m.statusCodes.keys()].map(String).sort()) statusCodes[code] = m.statusCodes.get(Number(code))!;
  Object.assign(out, {
    bytes_in: { total: m.bytesIn, mean: n ? m.bytesIn / n : 0 },
    bytes_out: { total: m.bytesOut, mean: n ? m.bytesOut / n : 0 },
    earliest: time(n, m.earliest),
    latest: time(n, m.latest),
    end: time(n, m.end),
    duration: m.duration,
    wait: round(m.wait),
    requests: n,
    rate: m.rate,
    throughput: m.throughput,
    success: m.success,
    status_codes: statusCodes,
    errors: [...m.errors.keys()],
    schedule: {
      recorded: s.recorded,
      late: s.late,
      late_ratio: s.lateRatio,
      lag_50th: round(s.p50),
      lag_99th: round(s.p99),
      lag_max: round(s.max),
    },
    warnings: reportWarnings(m, meta, sources),
  });
  // Ours: the shard set, when the inputs are shards of one plan (docs/distributed.md).
  let set = null;
  try {
    set = checkShardSet(meta.map((x, i) => ({ name: sources[i]?.name ?? `input ${i + 1}`, info: x.info })));
  } catch {
    // Shards of different plans: said in the warnings (and refused by runReport at the end).
  }
  if (set) {
    out.shards = {
      plan: set.plan.id,
      start_at: set.plan.startAt,
      count: set.count,
      present: set.present,
      missing: set.missing,
      duplicates: set.duplicates.map((d) => d.index),
      start_skew: set.startSkewNs,
      clock_error: set.clockErrorNs,
    };
  }
  return out;
}

/** Go's zero time when there were no results, as vegeta prints it. */
function time(n: number, ts: bigint): string {
  return n === 0 ? '0001-01-01T00:00:00Z' : formatRfc3339Nano(ts);
}
