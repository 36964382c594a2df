import { digest, planId } from '../metrics/shards.js';
import { formatRfc3339Nano } from '../results/timestamp.js';
import type { ShardInfo } from '../results/result.js';
import type { Clock } from '../time/clock.js';
import type { ClockEstimate } from '../time/quality.js';
import { wallClockNs } from '../time/wall.js';
import type { ResolvedOptions } from './options.js';

/**
 * What a shard writes about itself in its RunInfo: its share, the plan every shard of the run
 * shares (schedule, targets, agreed start), and how its clock stood when it started. Call it when
 * the clock is fixed, just before offset 0: readyLeadNs is how long before the start it was ready.
 */
export function shardInfo(o: ResolvedOptions, clock: Clock, est: ClockEstimate): ShardInfo {
  const targets = digest(
    JSON.stringify(
      o.targets.map((t) => [t.method, t.url, t.headers, t.body ? Buffer.from(t.body.buffer, t.body.byteOffset, t.body.byteLength).toString('base64') : '']),
    ) + JSON.stringify(o.headers),
  );
  const plan = {
    pacer: o.pacer ? ({ ...o.pacer.spec } as ShardInfo['plan']['pacer']) : null,
    durationNs: o.durationNs,
    targets,
    startAt: formatRfc3339Nano(clock.epochStart),
  };
  const readyLeadNs = Number(clock.epochStart - wallClockNs());
  return {
    index: o.shard.index,
    count: o.shard.count,
    plan: { id: planId(plan, o.shard.count), ...plan },
    clock: { ...est, readyLeadNs, startMissNs: Math.max(0, -readyLeadNs) },
  };
}
