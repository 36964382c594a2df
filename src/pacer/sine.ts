import { UsageError } from '../errors.js';
import { formatDuration } from '../units/duration.js';
import type { BuiltinPacer } from './pacer.js';
import { formatRate } from './rate.js';

/**
 * A sine wave around a mean rate (vegeta's SinePacer, starting at the mean and rising):
 * rate(t) = mean + amp·sin(2πt/P). Requests due by t: H(t) = mean·t + amp·P/(2π)·(1 − cos(2πt/P)).
 * Request i is due at the t where H(t) = i; H is increasing (amp ≤ mean), so the root is unique and
 * is found by Newton's method inside the bracket [(i − amp·P/π)/mean, i/mean], falling back to
 * bisection, from a starting point that depends on i alone, so every worker computes the same bits.
 */
export function sinePacer(meanPerSec: number, ampPerSec: number, periodNs: number): BuiltinPacer {
  if (!(meanPerSec > 0) || !Number.isFinite(meanPerSec)) throw new UsageError('sine pacer: the mean rate (-rate) must be positive');
  if (!(ampPerSec > 0) || ampPerSec > meanPerSec) {
    throw new UsageError(`sine pacer: -sine-amp must be positive and at most the mean rate (${formatRate(meanPerSec)})`);
  }
  if (!(periodNs > 0) || !Number.isFinite(periodNs)) throw new UsageError('sine pacer: -sine-period must be positive');
  const P = periodNs / 1e9; // s
  const w = (2 * Math.PI) / P;
  const k = (ampPerSec * P) / (2 * Math.PI);
  const hits = (t: number) => meanPerSec * t + k * (1 - Math.cos(w * t));
  const rate = (t: number) => meanPerSec + ampPerSec * Math.sin(w * t);
  return {
    offsetOf(i: number): number {
      if (i <= 0) return 0;
      let lo = Math.max(0, (i - 2 * k) / meanPerSec);
      let hi = i / meanPerSec;
      let t = (lo + hi) / 2;
      for (let iter = 0; iter < 100; iter++) {
        const f = hits(t) - i;
        if (f > 0) hi = t;
        else lo = t;
        const r = rate(t);
        let next = r > 0 ? t - f / r : (lo + hi) / 2;
        if (!(next > lo && next < hi)) next = (lo + hi) / 2;
        if (Math.abs(next - t) < 1e-10 || hi - lo < 1e-10) {
          t = next;
          break;
        }
        t = next;
      }
      return t * 1e9;
    },
    rateAt: (tNs: number) => rate(tNs / 1e9),
    describe: () => `sine ${formatRate(meanPerSec)} ± ${formatRate(ampPerSec)} every ${formatDuration(periodNs)}`,
    spec: { kind: 'sine', meanPerSec, ampPerSec, periodNs },
  };
}
