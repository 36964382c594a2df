import { UsageError } from '../errors.js';
import type { BuiltinPacer } from './pacer.js';
import { formatRate } from './rate.js';

/**
 * A constant rate: request i is due at i/rate seconds. Computed from i every time (never by adding
 * an interval to the previous send), so there is no accumulated rounding, no drift, and request
 * 1,000,000 at 500/s is due at exactly 2000 s.
 */
export function constantPacer(perSec: number): BuiltinPacer {
  if (!(perSec > 0) || !Number.isFinite(perSec)) throw new UsageError(`invalid rate ${perSec}: must be positive`);
  const nsPerReq = 1e9 / perSec;
  const exactInt = Number.isInteger(perSec);
  return {
    // (i * 1e9) / perSec is exact for integer rates up to ~9e6 * 1e9; the multiply-first form
    // keeps 3/s at 0, 333333333.33.., 666666666.66.., 1e9 rather than accumulating error.
    offsetOf: exactInt ? (i: number) => (i * 1e9) / perSec : (i: number) => i * nsPerReq,
    rateAt: () => perSec,
    describe: () => formatRate(perSec),
    spec: { kind: 'constant', perSec },
  };
}
