import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import type { Pacer } from '../pacer/pacer.js';
import type { Target } from '../targets/target.js';
import type { AttackPlugin } from './plugin.js';

/**
 * Everything an attack needs. The CLI flags of `tailprobe attack` map one to one onto these;
 * `sweep` and `demo` build them directly.
 */
export interface AttackOptions {
  targets: Target[];
  /** The schedule; null = max mode (closed loop, `connections × pipelining` requests in flight, like wrk). */
  pacer: Pacer | null;
  /** Length of the schedule, ns; 0 = until stopped through `signal`. */
  durationNs: number;
  /** Whole-request timeout (connect, send, headers and body), ns, from when the request is handed to the client; 0 = none. */
  timeoutNs: number;
  /**
   * Connections per target host opened before the clock starts, so the first requests do not pay
   * for handshakes. In max mode, the number of connections kept busy (wrk's -c).
   */
  connections: number;
  /** Cap on connections per target host (0 = unlimited: an open model opens what the load needs). */
  maxConnections: number;
  /** Worker threads sharing the schedule (see defaultWorkers). */
  workers: number;
  /** Reuse connections; false sends `Connection: close` with every request. */
  keepalive: boolean;
  /** Offer HTTP/2 via ALPN on https targets. */
  http2: boolean;
  /** HTTP/2 over cleartext (prior knowledge) on http targets. */
  h2c: boolean;
  /** HTTP/1.1 requests in flight per connection (1 = no pipelining). */
  pipelining: number;
  /** Skip TLS certificate verification. */
  insecure: boolean;
  /** Redirects to follow (vegeta: -1 = do not follow, and a 3xx counts as success). */
  redirects: number;
  /** Response body bytes kept in each result: 0 none, -1 all, n at most n (all bytes are read and counted). */
  maxBody: number;
  /** Keep response headers in results (vegeta's JSON/CSV carry them). */
  keepHeaders: boolean;
  /** Attack name, stored in every result. */
  name: string;
  /** Headers added to every target (the -header flag). */
  headers: Record<string, string[]>;
  /** Stops scheduling; in-flight requests get up to the timeout, then the attack resolves. */
  signal?: AbortSignal;
  /**
   * Worker threads only: when set, results travel from the workers as binary-format bytes
   * (BinaryEncoder output) and are handed here instead of being decoded for onResult. This is how
   * the CLI writes a results file at full speed. Ignored when the attack runs on the main thread.
   */
  onEncoded?: (chunk: Uint8Array) => void;
  /** Live numbers every `progressIntervalMs` (default 1000). */
  onProgress?: (p: AttackProgress) => void;
  progressIntervalMs?: number;
  /** Joins the run at its start and end: -profile and -slo hook in here (see plugin.ts). */
  plugins?: AttackPlugin[];
  /** For tests of the failure paths only: make worker `index` throw after `afterMs`. */
  testCrashWorker?: { index: number; afterMs: number };
}

export interface AttackProgress {
  elapsedNs: number;
  /** Cumulative over the run so far (all workers). */
  metrics: import('../metrics/metrics.js').Metrics;
  inFlight: number;
  /** Requests handed to the client so far. */
  sent: number;
  /** Requests the schedule asked for by now (absent in max mode, which has no schedule). */
  scheduled?: number;
}

export const DEFAULTS = {
  durationNs: 0,
  timeoutNs: 30e9,
  connections: 10,
  maxConnections: 0,
  keepalive: true,
  http2: false,
  h2c: false,
  pipelining: 1,
  insecure: false,
  redirects: 10,
  maxBody: 0,
  keepHeaders: false,
  name: '',
} as const;

/**
 * Default worker count: half the cores (at least 1), and no more than one per 5,000 req/s asked.
 * Why half: tailprobe usually shares the machine with the service under test (a laptop, a CI
 * runner, a 2-core staging box); a generator that takes every core measures its own contention
 * with the target. One Node thread keeps a schedule well past 5,000 req/s, and each worker has
 * its own connections, so more workers than the rate needs only spreads the load thinner.
 * On this project's 2-core machine that is 1.
 */
export function defaultWorkers(perSec: number | null, cores = availableParallelism()): number {
  const half = Math.max(1, Math.floor(cores / 2));
  if (perSec === null || perSec === 0) return half;
  return Math.max(1, Math.min(half, Math.ceil(perSec / 5000)));
}

export type ResolvedOptions = Omit<AttackOptions, 'signal' | 'onEncoded' | 'onProgress' | 'plugins' | 'testCrashWorker' | 'progressIntervalMs'>;

export function resolveOptions(o: Partial<AttackOptions> & { targets: Target[] }): ResolvedOptions {
  const r: ResolvedOptions = {
    targets: o.targets,
    pacer: o.pacer === undefined ? null : o.pacer,
    durationNs: o.durationNs ?? DEFAULTS.durationNs,
    timeoutNs: o.timeoutNs ?? DEFAULTS.timeoutNs,
    connections: o.connections ?? DEFAULTS.connections,
    maxConnections: o.maxConnections ?? DEFAULTS.maxConnections,
    workers: o.workers ?? 0,
    keepalive: o.keepalive ?? DEFAULTS.keepalive,
    http2: o.http2 ?? DEFAULTS.http2,
    h2c: o.h2c ?? DEFAULTS.h2c,
    pipelining: o.pipelining ?? DEFAULTS.pipelining,
    insecure: o.insecure ?? DEFAULTS.insecure,
    redirects: o.redirects ?? DEFAULTS.redirects,
    maxBody: o.maxBody ?? DEFAULTS.maxBody,
    keepHeaders: o.keepHeaders ?? DEFAULTS.keepHeaders,
    name: o.name ?? DEFAULTS.name,
    headers: o.headers ?? {},
  };
  if (!Array.isArray(r.targets) || r.targets.length === 0) throw new UsageError('no targets');
  if (r.workers === 0) r.workers = defaultWorkers(r.pacer ? r.pacer.rateAt(0) : null);
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new UsageError(`-${name} must be an integer >= ${min} (got ${v})`);
  };
  int('workers', r.workers, 1);
  int('connections', r.connections, r.pacer ? 0 : 1);
  int('max-connections', r.maxConnections, 0);
  int('pipelining', r.pipelining, 1);
  int('redirects', r.redirects, -1);
  if (!(r.durationNs >= 0)) throw new UsageError('-duration must not be negative');
  if (!(r.timeoutNs >= 0)) throw new UsageError('-timeout must not be negative');
  if (r.maxConnections > 0 && r.connections > r.maxConnections) r.connections = r.maxConnections;
  if (r.h2c && r.targets.some((t) => t.url.startsWith('https:'))) throw new UsageError('-h2c is HTTP/2 over cleartext: use http:// targets (or -http2 for https)');
  if (!r.pacer && r.durationNs === 0 && !o.signal) throw new UsageError('max mode (-rate=0) needs a -duration or a stop signal');
  if (r.pacer && r.durationNs === 0 && !o.signal) throw new UsageError('an attack without a -duration needs a stop signal');
  // Max mode: never more workers than connections (each needs at least one).
  if (!r.pacer && r.workers > r.connections) r.workers = r.connections;
  return r;
}
