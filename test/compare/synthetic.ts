import { Metrics } from '../../src/metrics/index.js';
import type { Result, RunMeta } from '../../src/results/result.js';
import { Rng } from '../../src/compare/rng.js';
import { SampleBuilder } from '../../src/compare/sample.js';
import { runFromMetrics, type RunData } from '../../src/compare/compare.js';

import { result } from '../../support/results.js';

/** Synthetic runs for compare tests: known distributions, seeded, timestamps on a constant-rate schedule. */
export { T0, result } from '../../support/results.js';

/** Lognormal latencies (median `medianMs`, shape `sigma`), seeded. */
export function lognormal(seed: number, n: number, medianMs: number, sigma: number): number[] {
  const rng = new Rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const u1 = rng.next() || 1e-12;
    const u2 = rng.next();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    out.push(medianMs * 1e6 * Math.exp(sigma * z));
  }
  return out;
}

export function runOf(
  name: string,
  latencies: number[],
  opts: { fail?: (i: number) => boolean; meta?: RunMeta | null; sendLag?: (i: number) => number; intervalNs?: number; blockNs?: number } = {},
): RunData {
  const m = new Metrics();
  const b = new SampleBuilder();
  latencies.forEach((lat, i) => {
    const r = result(i, lat, {
      ...(opts.fail?.(i) ? { code: 500 } : {}),
      ...(opts.sendLag ? { sendLag: opts.sendLag(i) } : {}),
    }, opts.intervalNs);
    m.add(r);
    b.add(r);
  });
  return runFromMetrics(name, 'binary', m, opts.meta ?? null, b.build(opts.blockNs));
}
