import type { BuiltinPacer, PacerSpec } from './pacer.js';
import { constantPacer } from './constant.js';
import { linearPacer } from './linear.js';
import { sinePacer } from './sine.js';

export { type Pacer, type BuiltinPacer, type PacerSpec, countBefore, meanRate, rateOf } from './pacer.js';
export { parseRate, formatRate } from './rate.js';
export { constantPacer, linearPacer, sinePacer };

/** Rebuilds a pacer from its spec (how worker threads receive the shared schedule). */
export function pacerFromSpec(s: PacerSpec): BuiltinPacer {
  switch (s.kind) {
    case 'constant':
      return constantPacer(s.perSec);
    case 'linear':
      return linearPacer(s.fromPerSec, s.toPerSec, s.rampNs);
    case 'sine':
      return sinePacer(s.meanPerSec, s.ampPerSec, s.periodNs);
  }
}
export { type Shard, WHOLE, checkShard, shareOf, shareSchedule, shardCount } from './shard.js';
