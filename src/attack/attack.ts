import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import { Metrics } from '../metrics/metrics.js';
import { countBefore, meanRate, rateOf } from '../pacer/pacer.js';
import { shardCount, shareOf } from '../pacer/shard.js';
import type { GeneratorHealth, Result, RunInfo, RunMeta } from '../results/result.js';
import { describeTarget } from '../targets/target.js';
import { Clock } from '../time/clock.js';
import { clockEstimate, type ClockEstimate } from '../time/quality.js';
import { wallClockNs } from '../time/wall.js';
import { shardInfo } from './shard-info.js';
import { CpuMeter, LoopMonitor, type LoopStats } from './health.js';
import { metricsFromWire } from '../metrics/wire.js';
import { resolveOptions, type AttackOptions, type AttackProgress, type ResolvedOptions } from './options.js';
import type { PlanOptions } from './plan.js';
import type { AttackRun, PluginOutcome } from './plugin.js';
import { prepareThread, type ThreadConfig } from './thread.js';
import { defaultInFlightCap } from './limits.js';
import { VERSION } from './version.js';
import type { WorkerSetup } from './worker-protocol.js';
import { WorkerGroup } from './workers.js';

export interface AttackOutcome extends AttackRun {
  /** What the plugins said at the end (meta for the results file, exit codes, messages). */
  outcomes: PluginOutcome[];
  /**
   * The run's metadata as the reports and the results file take it: one entry with the run info,
   * the generator's health and the plugins' events (e.g. the agent's GC pauses), so that
   * `textReport(out.metrics, out.meta)` reports the run as `tailprobe report` would from its file.
   */
  meta: RunMeta[];
}

/** Faults the engine's failure-path tests inject; not part of the package's API. */
export interface AttackFaults {
  /** Make worker `index` throw after `afterMs`. */
  crashWorker?: { index: number; afterMs: number };
}

/** Slack between fixing the start instant and the first request, so every worker is listening. */
const START_DELAY_MS = 5;

/**
 * With a distant -start-at, connections are opened (and the engine warmed up) this long before the
 * start rather than at once: a server closes idle keep-alive connections (Node's after 5 s), and
 * connections opened minutes early would be gone when the schedule starts.
 */
const PREPARE_LEAD_NS = 3e9;

/** Resolves at the wall-clock instant `epochNs` (at once if it has passed), or when `signal` aborts. */
function waitUntil(epochNs: bigint, signal?: AbortSignal): Promise<void> {
  const ms = Number(epochNs - wallClockNs()) / 1e6;
  if (!(ms > 0) || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs an attack. Every result goes to `onResult` as it completes (in completion order); the
 * promise resolves when the schedule has ended (or `signal` stopped it) and every request in
 * flight has completed or timed out. Metrics, run info and the generator's health come back.
 *
 * With one worker everything runs on the calling thread. With several, each worker thread runs
 * its share of the one schedule; results come back in batches, and with `onEncoded` they stay in
 * the binary format all the way to the output (the CLI's path), otherwise they are handed to
 * `onResult` as objects. A worker that dies is reported in `failures`; what it measured before
 * dying is kept.
 */
export function attack(
  opts: Partial<AttackOptions> & { targets: AttackOptions['targets'] },
  onResult: (r: Result) => void = () => {},
): Promise<AttackOutcome> {
  return attackWithFaults(opts, onResult, {});
}

/** attack() with faults injected, for the tests of its failure paths. */
export async function attackWithFaults(
  opts: Partial<AttackOptions> & { targets: AttackOptions['targets'] },
  onResult: (r: Result) => void,
  faults: AttackFaults,
): Promise<AttackOutcome> {
  const o = resolveOptions(opts);
  const planned = o.pacer ? shardCount(countBefore(o.pacer, o.durationNs), o.shard) : Infinity;
  // A slow schedule has headroom for cold code; warm up about one second's worth of requests.
  const warmUpRequests = o.pacer ? Math.min(planned, Math.ceil(rateOf(o.pacer, 0) / o.shard.count / o.workers)) : Infinity;
  if (o.startAtNs !== null) await waitUntil(o.startAtNs - BigInt(PREPARE_LEAD_NS), opts.signal);
  // A shard records how good its wall clock is (its start is only as agreed as the clocks are).
  const sharded = o.shard.count > 1 || o.startAtNs !== null || o.clockRef !== '';
  const estimate: Promise<ClockEstimate | null> = sharded ? clockEstimate(o.clockRef || undefined) : Promise.resolve(null);
  const metrics = new Metrics();
  const info: RunInfo = {
    name: o.name,
    pacer: o.pacer ? o.pacer.describe() : 'max',
    rate: o.pacer ? meanRate(o.pacer, o.durationNs) : 0,
    maxMode: o.pacer === null,
    duration: o.durationNs,
    targets: o.targets.slice(0, 10).map(describeTarget),
    targetCount: o.targets.length,
    workers: o.workers,
    connections: o.connections,
    maxConnections: o.maxConnections,
    startedAt: 0n,
    version: VERSION,
    id: o.attackId,
    traceparent: o.traceparent,
  };
  const plugins = opts.plugins ?? [];
  const pluginAbort = new AbortController();
  const failures: string[] = [];
  let userError: unknown = null;

  const deliver = (r: Result) => {
    try {
      onResult(r);
    } catch (err) {
      // A throwing consumer ends the attack; the error is rethrown once connections are closed.
      userError ??= err;
      stop();
    }
  };

  let stop: () => void = () => {};
  let sentNow: () => number;
  let inFlightNow: () => number;
  let finished: Promise<{ sent: number; stopped: boolean; overdue: number; peakInFlight: number; loops: LoopStats[]; firstLagNs: number }>;
  let close: () => Promise<void> = async () => {};
  let clock: Clock;

  if (o.workers === 1) {
    const [thread] = await Promise.all([prepareThread(threadConfig(o, 0, 1, warmUpRequests)), estimate]);
    clock = startClock(o.startAtNs);
    const { runner, finished: done } = thread.start(clock, (r) => {
      metrics.add(r);
      deliver(r);
    });
    stop = () => runner.stop();
    sentNow = () => runner.sent;
    inFlightNow = () => runner.inFlight;
    close = () => thread.close();
    finished = done.then(({ loop, ...s }) => ({ ...s, loops: [loop] }));
  } else {
    const spec = o.pacer ? o.pacer.spec : null;
    if (spec === undefined) throw new UsageError('a custom pacer without a spec can only run with workers=1');
    const ship = opts.onEncoded ? 'encoded' : 'objects';
    const setups: WorkerSetup[] = [];
    for (let k = 0; k < o.workers; k++) {
      setups.push({
        ...threadConfig(o, k, o.workers, warmUpRequests),
        index: k,
        pacer: spec,
        ship,
        flushMs: 100,
        ...(faults.crashWorker?.index === k ? { crashAfterMs: faults.crashWorker.afterMs } : {}),
      });
    }
    const group = new WorkerGroup(setups, (b) => {
      if (b.metrics) metrics.merge(metricsFromWire(b.metrics));
      if (b.chunk && opts.onEncoded) opts.onEncoded(b.chunk);
      if (b.results) for (const r of b.results) deliver(r);
    });
    await Promise.all([group.ready, estimate]);
    clock = startClock(o.startAtNs);
    const loop = new LoopMonitor();
    stop = () => group.stop();
    sentNow = () => group.sent();
    inFlightNow = () => group.inFlight();
    group.start(clock);
    finished = group.finished.then((s) => {
      failures.push(...s.failures);
      return { ...s, loops: [...s.loops, loop.stop()] };
    });
  }

  info.startedAt = clock.epochStart;
  if (sharded) info.shard = shardInfo(o, clock, (await estimate)!);
  const cpu = new CpuMeter();
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    stop();
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  // A stop while draining records what is still in flight as interrupted at once.
  const onAbandon = () => {
    interrupted = true;
    stop();
    stop();
  };
  if (opts.abandonSignal?.aborted) onAbandon();
  else opts.abandonSignal?.addEventListener('abort', onAbandon, { once: true });

  const pacer = o.pacer;
  const live = (): AttackProgress => {
    const elapsedNs = Math.max(0, clock.nowNs());
    const p: AttackProgress = { elapsedNs, metrics, inFlight: inFlightNow(), sent: sentNow() };
    if (pacer) {
      const upTo = o.durationNs > 0 ? Math.min(elapsedNs, o.durationNs) : elapsedNs;
      p.scheduled = upTo > 0 ? countBefore(pacer, upTo) : 0;
    }
    return p;
  };
  let progressTimer: NodeJS.Timeout | null = null;
  if (opts.onProgress) {
    const onProgress = opts.onProgress;
    progressTimer = setInterval(() => onProgress(live()), opts.progressIntervalMs ?? 1000);
  }

  for (const p of plugins) await p.onStart?.({ info, signal: pluginAbort.signal, live });

  const summary = await finished;
  // The shard's start as it happened: how late its first request left (written with the run's end).
  if (info.shard && summary.firstLagNs >= 0) info.shard.clock.firstSendLagNs = summary.firstLagNs;
  if (progressTimer) clearInterval(progressTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  opts.abandonSignal?.removeEventListener('abort', onAbandon);
  await close();
  pluginAbort.abort();
  if (userError !== null) throw userError;

  const health: GeneratorHealth = {
    cpuPercent: cpu.percent(),
    cores: availableParallelism(),
    eventLoopP99: Math.max(0, ...summary.loops.map((l) => l.p99)),
    eventLoopMax: Math.max(0, ...summary.loops.map((l) => l.max)),
    unsent: Number.isFinite(planned) ? Math.max(0, planned - summary.sent) : summary.overdue,
    overdue: summary.overdue,
    inFlightCap: o.pacer ? inFlightCap(o) : 0,
    peakInFlight: summary.peakInFlight,
    ended: failures.length > 0 ? `error: ${failures.join('; ')}` : interrupted ? 'interrupted' : 'completed',
  };
  const run: AttackRun = { metrics, info, health, failures };
  const outcomes: PluginOutcome[] = [];
  for (const p of plugins) {
    const out = await p.onEnd?.(run);
    if (out) outcomes.push(out);
  }
  const events = outcomes.flatMap((out) => out.meta?.events ?? []);
  return { ...run, outcomes, meta: [{ info, health, events }] };
}

/** Worker k's share of n: total split as evenly as integers allow (the shares add up to total). */
export function share(total: number, n: number, k: number): number {
  return Math.floor(total / n) + (k < total % n ? 1 : 0);
}

function planOptions(o: ResolvedOptions, k: number, n: number): PlanOptions {
  const conns = share(o.connections, n, k);
  const maxConns = o.maxConnections > 0 ? Math.max(1, share(o.maxConnections, n, k)) : 0;
  return {
    prewarm: conns,
    // Max mode keeps exactly its connections busy; an open model opens what the load needs.
    maxConnections: o.pacer ? maxConns : maxConns > 0 ? Math.min(conns, maxConns) : conns,
    pipelining: o.pipelining,
    http2: o.http2,
    h2c: o.h2c,
    insecure: o.insecure,
    keepalive: o.keepalive,
    connectTimeoutMs: o.timeoutNs > 0 ? Math.max(1, Math.ceil(o.timeoutNs / 1e6)) : 10_000,
    headers: o.headers,
    traceAttackId: o.traceparent ? o.attackId : null,
  };
}

/** The paced attack's cap on requests in flight, all workers together. */
function inFlightCap(o: ResolvedOptions): number {
  return o.maxInFlight > 0 ? Math.max(o.maxInFlight, o.workers) : Math.max(defaultInFlightCap(), o.workers);
}

/**
 * The schedule's clock: offset 0 at the agreed -start-at, else START_DELAY_MS from now. A start
 * that has already passed still anchors the schedule (every shard keeps the one timeline); the
 * first requests then leave late, and their send lag and the shard's start miss say by how much.
 */
function startClock(startAtNs: bigint | null): Clock {
  return startAtNs === null ? Clock.startingIn(START_DELAY_MS) : Clock.startingAt(startAtNs);
}

/** Thread k's share of n of the attack: what it runs and how it prepares (see thread.ts). */
function threadConfig(o: ResolvedOptions, k: number, n: number, warmUpRequests: number): ThreadConfig {
  const conns = share(o.connections, n, k);
  return {
    targets: o.targets,
    plan: planOptions(o, k, n),
    warmUpRequests,
    ...shareOf(o.shard, k, n),
    pacer: o.pacer,
    durationNs: o.durationNs,
    timeoutNs: o.timeoutNs,
    maxInFlight: Math.max(1, conns * o.pipelining),
    inFlightCap: Math.max(1, share(inFlightCap(o), n, k)),
    drainNs: o.drainNs,
    name: o.name,
    redirects: o.redirects,
    maxBody: o.maxBody,
    keepHeaders: o.keepHeaders,
  };
}
