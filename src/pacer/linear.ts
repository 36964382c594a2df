import { UsageError } from '../errors.js';
import { formatDuration } from '../units/duration.js';
import type { BuiltinPacer } from './pacer.js';
import { formatRate } from './rate.js';

/**
 * A linear ramp from `fromPerSec` to `toPerSec` over `rampNs`, then steady at `toPerSec`
 * (`-rate=100 -ramp-to=2000`: the ramp lasts the whole -duration unless -ramp-duration says otherwise).
 *
 * With rate(t) = a + b·t, the number of requests due by t is a·t + b·t²/2; request i is due when
 * that reaches i, i.e. t = 2i / (a + sqrt(a² + 2bi)) (the stable form of the quadratic root).
 */
export function linearPacer(fromPerSec: number, toPerSec: number, rampNs: number): BuiltinPacer {
  if (!(fromPerSec >= 0) || !(toPerSec > 0) || !Number.isFinite(fromPerSec) || !Number.isFinite(toPerSec)) {
    throw new UsageError(`invalid ramp ${fromPerSec} -> ${toPerSec} req/s: rates must be positive`);
  }
  if (!(rampNs > 0) || !Number.isFinite(rampNs)) {
    throw new UsageError('a linear ramp needs a duration (-duration or -ramp-duration)');
  }
  const a = fromPerSec; // req/s
  const rampS = rampNs / 1e9;
  const b = (toPerSec - fromPerSec) / rampS; // req/s²
  const atRampEnd = ((fromPerSec + toPerSec) / 2) * rampS; // requests due during the ramp
  return {
    offsetOf(i: number): number {
      if (i <= 0) return 0;
      if (i < atRampEnd) {
        const t = b === 0 ? i / a : (2 * i) / (a + Math.sqrt(a * a + 2 * b * i));
        return t * 1e9;
      }
      return rampNs + ((i - atRampEnd) * 1e9) / toPerSec;
    },
    rateAt(tNs: number): number {
      return tNs >= rampNs ? toPerSec : a + (b * tNs) / 1e9;
    },
    describe: () => `linear ${formatRate(fromPerSec)} -> ${formatRate(toPerSec)} over ${formatDuration(rampNs)}`,
    spec: { kind: 'linear', fromPerSec, toPerSec, rampNs },
  };
}
