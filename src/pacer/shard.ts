import { UsageError } from '../errors.js';
import { countBefore, type Pacer } from './pacer.js';

/**
 * One schedule split across N generators (processes, pods, machines): shard K of N sends exactly
 * the requests i ≡ K (mod N) of the full schedule, each at the full schedule's offsetOf(i), with
 * offset 0 at one agreed wall-clock instant. Because the pacer is a pure function of i, the union
 * of the N shards' intended send times is the one-generator schedule, bit for bit: no shard needs
 * to know anything about the others but K, N and the start.
 *
 * Inside a shard, worker threads split the shard's share again the same way (see shareOf).
 */
export interface Shard {
  /** K, 0-based. */
  index: number;
  /** N, the number of shards of the schedule. */
  count: number;
}

/** The whole schedule as one shard (what a run without -shard is). */
export const WHOLE: Shard = { index: 0, count: 1 };

/** Throws a one-line UsageError unless 0 <= index < count and both are integers. */
export function checkShard(s: Shard): Shard {
  if (!Number.isInteger(s.count) || s.count < 1) throw new UsageError(`invalid shard ${s.index}/${s.count}: the count must be an integer >= 1`);
  if (!Number.isInteger(s.index) || s.index < 0 || s.index >= s.count) {
    throw new UsageError(`invalid shard ${s.index}/${s.count}: the index must be 0..${s.count - 1}`);
  }
  return s;
}

/**
 * The request numbers worker `worker` of `workers` (threads) of shard `s` sends: first, first +
 * stride, first + 2·stride, ... Shard K of N with W workers: worker w sends i = K + N·w + N·W·j, so
 * the workers of one shard together send i ≡ K (mod N), and all shards together every i once.
 */
export function shareOf(s: Shard, worker = 0, workers = 1): { first: number; stride: number } {
  return { first: s.index + s.count * worker, stride: s.count * workers };
}

/**
 * The intended offsets (ns) of one share of a schedule, in the order the engine walks them, until
 * the end of the schedule (`durationNs`, which must be finite here): [request number, offset] pairs.
 * The engine's Runner walks first, first + stride, ... with the same pacer.offsetOf; this is that walk
 * as a pure function, for tests and for planning (a shard's request count).
 */
export function shareSchedule(p: Pacer, durationNs: number, share: { first: number; stride: number }): Array<[number, number]> {
  const total = countBefore(p, durationNs);
  if (!Number.isFinite(total)) throw new UsageError('a share of a schedule without an end cannot be listed');
  const out: Array<[number, number]> = [];
  for (let i = share.first; i < total; i += share.stride) out.push([i, p.offsetOf(i)]);
  return out;
}

/** Requests shard `s` sends of a schedule of `total` requests. */
export function shardCount(total: number, s: Shard): number {
  if (!Number.isFinite(total)) return Infinity;
  return total > s.index ? Math.floor((total - 1 - s.index) / s.count) + 1 : 0;
}
