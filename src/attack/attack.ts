import { availableParallelism } from 'node:os';
import { UsageError } from '../errors.js';
import { Metrics } from '../metrics/metrics.js';
import { countBefore, meanRate } from '../pacer/pacer.js';
import type { GeneratorHealth, Result, RunInfo } from '../results/result.js';
import { describeTarget } from '../targets/target.js';
import { Clock } from '../time/clock.js';
import { CpuMeter, LoopMonitor, type LoopStats } from './health.js';
import { metricsFromWire } from '../metrics/wire.js';
import { resolveOptions, type AttackOptions, type AttackProgress, type ResolvedOptions } from './options.js';
import { Plan, type PlanOptions } from './plan.js';
import type { AttackRun, PluginOutcome } from './plugin.js';
import { Runner } from './runner.js';
import { createMetronome } from './metronome.js';
import { warmUp } from './warmup.js';
import { VERSION } from './version.js';
import type { WorkerSetup } from './worker-protocol.js';
import { WorkerGroup } from './workers.js';

export interface AttackOutcome extends AttackRun {
  /** What the plugins said at the end (meta for the results file, exit codes, messages). */
  outcomes: PluginOutcome[];
}

/** Slack between fixing the start instant and the first request, so every worker is listening. */
const START_DELAY_MS = 5;

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
export async function attack(
  opts: Partial<AttackOptions> & { targets: AttackOptions['targets'] },
  onResult: (r: Result) => void = () => {},
): Promise<AttackOutcome> {
  const o = resolveOptions(opts);
  const planned = o.pacer ? countBefore(o.pacer, o.durationNs) : Infinity;
  // A slow schedule has headroom for cold code; warm up about one second's worth of requests.
  const warmUpRequests = o.pacer ? Math.min(planned, Math.ceil(o.pacer.rateAt(0) / o.workers)) : Infinity;
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
    startedAt: 0n,
    version: VERSION,
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
  let finished: Promise<{ sent: number; stopped: boolean; loops: LoopStats[] }>;
  let close: () => Promise<void> = async () => {};
  let clock: Clock;

  if (o.workers === 1) {
    const plan = new Plan(o.targets, planOptions(o, 0, 1));
    const metronome = o.pacer ? createMetronome(o.pacer.spec, 1, o.durationNs) : null;
    await Promise.all([plan.prewarm(), metronome?.ready, warmUp({ maxRequests: warmUpRequests })]);
    clock = Clock.startingIn(START_DELAY_MS);
    const runner = new Runner({
      ...runnerOptions(o, 0, 1),
      plan,
      clock,
      metronome,
      emit: (r) => {
        metrics.add(r);
        deliver(r);
      },
    });
    const loop = new LoopMonitor();
    stop = () => runner.stop();
    sentNow = () => runner.sent;
    inFlightNow = () => runner.inFlight;
    close = () => {
      metronome?.stop();
      return plan.close();
    };
    runner.start();
    finished = runner.finished.then((s) => ({ ...s, loops: [loop.stop()] }));
  } else {
    if (o.pacer && !o.pacer.spec) throw new UsageError('a custom pacer without a spec can only run with workers=1');
    const ship = opts.onEncoded ? 'encoded' : 'objects';
    const setups: WorkerSetup[] = [];
    for (let k = 0; k < o.workers; k++) {
      setups.push({
        ...runnerOptions(o, k, o.workers),
        index: k,
        targets: o.targets,
        pacer: o.pacer ? o.pacer.spec : null,
        plan: planOptions(o, k, o.workers),
        ship,
        flushMs: 100,
        warmUpRequests,
        ...(opts.testCrashWorker?.index === k ? { crashAfterMs: opts.testCrashWorker.afterMs } : {}),
      });
    }
    const group = new WorkerGroup(setups, (b) => {
      if (b.metrics) metrics.merge(metricsFromWire(b.metrics));
      if (b.chunk && opts.onEncoded) opts.onEncoded(b.chunk);
      if (b.results) for (const r of b.results) deliver(r);
    });
    await group.ready;
    clock = Clock.startingIn(START_DELAY_MS);
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
  const cpu = new CpuMeter();
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    stop();
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

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
  if (progressTimer) clearInterval(progressTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  await close();
  pluginAbort.abort();
  if (userError !== null) throw userError;

  const health: GeneratorHealth = {
    cpuPercent: cpu.percent(),
    cores: availableParallelism(),
    eventLoopP99: Math.max(0, ...summary.loops.map((l) => l.p99)),
    eventLoopMax: Math.max(0, ...summary.loops.map((l) => l.max)),
    unsent: Number.isFinite(planned) && summary.stopped ? Math.max(0, planned - summary.sent) : 0,
    ended: failures.length > 0 ? `error: ${failures.join('; ')}` : interrupted ? 'interrupted' : 'completed',
  };
  const run: AttackRun = { metrics, info, health, failures };
  const outcomes: PluginOutcome[] = [];
  for (const p of plugins) {
    const out = await p.onEnd?.(run);
    if (out) outcomes.push(out);
  }
  return { ...run, outcomes };
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
  };
}

function runnerOptions(o: ResolvedOptions, k: number, n: number) {
  const conns = share(o.connections, n, k);
  return {
    pacer: o.pacer,
    durationNs: o.durationNs,
    timeoutNs: o.timeoutNs,
    first: k,
    stride: n,
    maxInFlight: Math.max(1, conns * o.pipelining),
    name: o.name,
    redirects: o.redirects,
    maxBody: o.maxBody,
    keepHeaders: o.keepHeaders,
  };
}
