import { attack } from '../attack/index.js';
import { constantPacer } from '../pacer/index.js';
import type { Target } from '../targets/index.js';

/**
 * Choosing the demo's rate on this machine, the way wrk2 users do: measure what the broken service
 * can serve at most (a short closed-loop run, `attack -rate=0` with a few dozen connections), then
 * run the open-model attacks at a fraction of that. At that fraction the service keeps up on
 * average (the median stays small) but has little slack, so a GC pause or a queue on the lock is
 * felt by the requests that arrive during it: the faults bite without saturating the service. The
 * fraction was chosen on the project's 2-core machine; a busy machine measures a lower capacity and
 * gets a lower rate.
 */

export interface Probe {
  /** Connections kept busy. */
  connections: number;
  /** Successful requests per second served (Metrics.throughput). */
  throughput: number;
  /** ns */
  p50: number;
  p99: number;
}

export interface Calibration {
  rate: number;
  capacity: number;
  probes: Probe[];
  /** One sentence: what was measured and why this rate. */
  reason: string;
}

/** The demo's rate, as a fraction of the broken service's capacity. */
export const LOAD_FRACTION = 0.75;
/** Never below this: the story needs enough requests for a p99 with a tail in it. */
export const MIN_RATE = 50;
/**
 * Connections of the capacity probe: enough to keep the service busy (the lock queue never
 * empties), few enough that the probe itself does not pile up hundreds of in-flight response
 * buffers (which would measure a GC storm of the probe's own making).
 */
export const PROBE_CONNECTIONS = 8;
/** The gentle open-model load that settles the service before the probe (JIT, heap after the build). */
export const SETTLE_RATE = 200;

/** Rates people would pick: 2 significant digits (230, not 227.8). */
export function niceRate(r: number): number {
  if (r < 10) return Math.max(1, Math.round(r));
  const mag = 10 ** (Math.floor(Math.log10(r)) - 1);
  return Math.round(r / mag) * mag;
}

export interface CalibrateOptions {
  targets: Target[];
  /** Time budget: 40% settles the service at a gentle rate, the rest is the closed-loop probe. */
  budgetNs: number;
  signal?: AbortSignal;
  onProbe?: (p: Probe) => void;
}

export async function calibrateRate(opts: CalibrateOptions): Promise<Calibration> {
  const settleNs = Math.round(opts.budgetNs * 0.4);
  const common = { targets: opts.targets, timeoutNs: 10e9, name: 'calibrate', signal: opts.signal };
  await attack({ ...common, pacer: constantPacer(SETTLE_RATE), durationNs: settleNs });
  const run = await attack({ ...common, pacer: null, connections: PROBE_CONNECTIONS, durationNs: opts.budgetNs - settleNs });
  const l = run.metrics.latencies();
  const probe: Probe = { connections: PROBE_CONNECTIONS, throughput: run.metrics.throughput, p50: l.p50, p99: l.p99 };
  opts.onProbe?.(probe);
  const capacity = probe.throughput;
  const rate = Math.max(MIN_RATE, niceRate(capacity * LOAD_FRACTION));
  const reason =
    capacity * LOAD_FRACTION >= MIN_RATE
      ? `Calibrated: the broken service served at most ${capacity.toFixed(0)} req/s here; the demo runs at ${rate} req/s (${Math.round(LOAD_FRACTION * 100)}% of that): it keeps up on average, with little slack.`
      : `The broken service served only ${capacity.toFixed(0)} req/s here (is the machine busy?); the demo runs at ${rate} req/s, above ${Math.round(LOAD_FRACTION * 100)}% of that: expect a saturated service.`;
  return { rate, capacity, probes: [probe], reason };
}
