import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import { rateOf, type Pacer } from '../pacer/pacer.js';
import { createHash } from 'node:crypto';
import { isAttackId, newAttackId } from '../results/trace-id.js';
import { checkShard, WHOLE, type Shard } from '../pacer/shard.js';
import { formatRfc3339Nano } from '../results/timestamp.js';
import { wallClockNs } from '../time/wall.js';
import type { Target } from '../targets/target.js';
import type { AttackPlugin } from './plugin.js';
import { connectionBudget, machineLimits } from './limits.js';
import { DEFAULT_DRAIN_NS } from './runner.js';

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
  /** Worker threads sharing the schedule (see defaultWorkers); at most twice the cores. */
  workers: number;
  /**
   * Paced mode: most requests in flight at once, all workers together (0 = the default, see
   * defaultInFlightCap in limits.ts). A request due while the cap is full is not queued: it goes
   * out late when one completes, or is counted as never sent (health.overdue) if the run ends first.
   */
  maxInFlight: number;
  /** After a stop (signal), how long the requests in flight may take before they are recorded as interrupted, ns. */
  drainNs: number;
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
  /**
   * Send a W3C `traceparent` header with every request (default true): trace id = the attack's id
   * and the request's seq, so the service's records and traces name each request (see
   * results/trace-id.ts). A target's own traceparent header is never overwritten.
   */
  traceparent: boolean;
  /** The attack's id (16 hex digits); default: random. Workers of one attack share it. */
  attackId: string;
  /**
   * This generator's share of a schedule split across several (default: the whole schedule): it
   * sends the requests i ≡ shard.index (mod shard.count). See src/pacer/shard.ts and docs/distributed.md.
   */
  shard?: Shard;
  /**
   * The agreed wall-clock instant of the schedule's offset 0, ns since the epoch (`-start-at`); it
   * must be in the future. Default: a few ms after the connections are open.
   */
  startAtNs?: bigint | null;
  /**
   * A shard measures its wall clock against this NTP server (host[:port], SNTP) and records the
   * offset; without it, chrony's or timedatectl's view is recorded (src/time/quality.ts).
   */
  clockRef?: string;
  /** Stops scheduling; in-flight requests get up to `drainNs` (and their timeout), then the attack resolves. */
  signal?: AbortSignal;
  /** Aborted after `signal`: the requests still in flight are recorded as interrupted now (a second Ctrl-C). */
  abandonSignal?: AbortSignal;
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
  maxInFlight: 0,
  drainNs: DEFAULT_DRAIN_NS,
  keepalive: true,
  http2: false,
  h2c: false,
  pipelining: 1,
  insecure: false,
  redirects: 10,
  maxBody: 0,
  keepHeaders: false,
  name: '',
  traceparent: true,
} as const;

/**
 * Default worker count: half the cores (at least 1), and no more than one per 5,000 req/s asked.
 * Why half: tailprobe usually shares the machine with the service under test (a laptop, a CI
 * runner, a 2-core staging box); a generator that takes every core measures its own contention
 * with the target. One Node thread keeps a schedule well past 5,000 req/s, and each worker has
 * its own connections, so more workers than the rate needs only spreads the load thinner.
 * On a 2-core machine that is 1.
 */
export function defaultWorkers(perSec: number | null, cores = availableParallelism()): number {
  const half = Math.max(1, Math.floor(cores / 2));
  if (perSec === null || perSec === 0) return half;
  return Math.max(1, Math.min(half, Math.ceil(perSec / 5000)));
}

export type ResolvedOptions = Omit<AttackOptions, 'signal' | 'abandonSignal' | 'onEncoded' | 'onProgress' | 'plugins' | 'progressIntervalMs' | 'shard' | 'startAtNs' | 'clockRef'> & {
  shard: Shard;
  startAtNs: bigint | null;
  clockRef: string;
};

export function resolveOptions(o: Partial<AttackOptions> & { targets: Target[] }): ResolvedOptions {
  const r: ResolvedOptions = {
    targets: o.targets,
    pacer: o.pacer === undefined ? null : o.pacer,
    durationNs: o.durationNs ?? DEFAULTS.durationNs,
    timeoutNs: o.timeoutNs ?? DEFAULTS.timeoutNs,
    connections: o.connections ?? DEFAULTS.connections,
    maxConnections: o.maxConnections ?? DEFAULTS.maxConnections,
    workers: o.workers ?? 0,
    maxInFlight: o.maxInFlight ?? DEFAULTS.maxInFlight,
    drainNs: o.drainNs ?? DEFAULTS.drainNs,
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
    traceparent: o.traceparent ?? DEFAULTS.traceparent,
    attackId: o.attackId ?? sharedAttackId(o) ?? newAttackId(),
    shard: checkShard(o.shard ?? WHOLE),
    startAtNs: o.startAtNs ?? null,
    clockRef: o.clockRef ?? '',
  };
  if (!isAttackId(r.attackId)) throw new UsageError(`attack id must be 16 lower-case hex digits, not all zeros (got "${String(r.attackId).slice(0, 40)}")`);
  if (r.startAtNs !== null && r.startAtNs <= wallClockNs()) {
    throw new UsageError(`-start-at ${formatRfc3339Nano(r.startAtNs)} is in the past (now ${formatRfc3339Nano(wallClockNs())}): give every shard one future instant`);
  }
  if (!Array.isArray(r.targets) || r.targets.length === 0) throw new UsageError('no targets');
  // A pacer without a spec cannot be sent to worker threads: it runs on this one.
  if (r.workers === 0) r.workers = r.pacer && !r.pacer.spec ? 1 : defaultWorkers(r.pacer ? rateOf(r.pacer, 0) / r.shard.count : null);
  if (!r.pacer && r.shard.count > 1) throw new UsageError('-shard splits a schedule: max mode (-rate=0) has none');
  const int = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new UsageError(`-${name} must be an integer >= ${min} (got ${v})`);
  };
  int('workers', r.workers, 1);
  int('connections', r.connections, r.pacer ? 0 : 1);
  int('max-connections', r.maxConnections, 0);
  int('pipelining', r.pipelining, 1);
  int('max-in-flight', r.maxInFlight, 0);
  if (!(r.drainNs >= 0)) throw new UsageError('-drain must not be negative');
  checkMachineLimits(r);
  int('redirects', r.redirects, -1);
  if (!(r.durationNs >= 0)) throw new UsageError('-duration must not be negative');
  if (!(r.timeoutNs >= 0)) throw new UsageError('-timeout must not be negative');
  if (r.maxConnections > 0 && r.connections > r.maxConnections) r.connections = r.maxConnections;
  const hosts = new Set(r.targets.map((t) => originOf(t.url))).size;
  const budget = connectionBudget();
  if (r.connections > budget.perHost || r.connections * hosts > budget.total) {
    const l = machineLimits();
    throw new UsageError(
      `-connections=${r.connections}${hosts > 1 ? ` to each of ${hosts} hosts` : ''} is more than this process can open ` +
        `(open-file limit ${l.openFiles}, ulimit -n; ${l.localPorts} local ports per host): at most ${Math.min(budget.perHost, Math.floor(budget.total / hosts))}`,
    );
  }
  if (r.h2c && r.targets.some((t) => t.url.startsWith('https:'))) throw new UsageError('-h2c is HTTP/2 over cleartext: use http:// targets (or -http2 for https)');
  if (!r.pacer && r.durationNs === 0 && !o.signal) throw new UsageError('max mode (-rate=0) needs a -duration or a stop signal');
  if (r.pacer && r.durationNs === 0 && !o.signal) throw new UsageError('an attack without a -duration needs a stop signal');
  // Max mode: never more workers than connections (each needs at least one).
  if (!r.pacer && r.workers > r.connections) r.workers = r.connections;
  return r;
}

/** Worker threads beyond twice the cores only compete for them (and cost ~30 MB of memory each). */
function checkMachineLimits(r: ResolvedOptions): void {
  const { cores } = machineLimits();
  const most = Math.max(4, 2 * cores);
  if (r.workers > most) {
    throw new UsageError(`-workers=${r.workers}: this machine has ${cores} core${cores === 1 ? '' : 's'}; more than ${most} workers only compete for them (at most ${most})`);
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/**
 * The attack id the shards of one run share, so that their requests' trace ids are those of one
 * attack (seq is unique across shards: shard K sends i ≡ K mod N) and explain can take the shard
 * files together: a digest of what every shard of the run is given alike (schedule, targets, the
 * agreed start, the shard count). null when this is not a shard of an agreed start.
 */
function sharedAttackId(o: Partial<AttackOptions>): string | null {
  if (!o.shard || o.shard.count <= 1 || o.startAtNs === undefined || o.startAtNs === null) return null;
  const text = JSON.stringify([o.pacer?.spec ?? null, o.durationNs ?? 0, String(o.startAtNs), o.shard.count, (o.targets ?? []).map((t) => `${t.method} ${t.url}`)]);
  const id = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return isAttackId(id) ? id : null;
}
