import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { attack } from '../attack/attack.js';
import { defaultWorkers, type AttackOptions } from '../attack/options.js';
import { RuntimeError, UsageError } from '../errors.js';
import { Metrics } from '../metrics/metrics.js';
import { constantPacer } from '../pacer/constant.js';
import { createResultWriter, type ResultWriter } from '../results/writer.js';
import type { GeneratorHealth, Result, RunInfo } from '../results/result.js';
import { evaluateSlo, sloPassed, type SloVerdict } from '../slo/evaluate.js';
import type { Slo } from '../slo/slo.js';
import type { Target } from '../targets/target.js';
import { latencyKnee, sloKnee } from './knee.js';
import { generatorVerdict } from '../report/health.js';
import { AdaptiveSearch, type RatePlan } from './rates.js';
import { sweepJson } from './format.js';

/**
 * A sweep: the same targets at a series of constant rates, one attack per step, each with a warm-up
 * whose results are not counted (connections, JIT and caches settle, and a queue that builds at this
 * rate is already there when measuring starts). Every step is recorded; the knee is found from them
 * (knee.ts). A sweep never hammers a broken service for long: once `stopAfter` consecutive steps have
 * clearly broken (the SLO missed by `breakFactor`, or `breakErrors` of requests failing), it stops.
 */
export interface SweepOptions {
  /** Attack options shared by every step (targets, timeout, connections...); pacer and duration are the sweep's. */
  attack: Partial<Omit<AttackOptions, 'pacer' | 'durationNs'>> & { targets: Target[] };
  rates: RatePlan;
  /** Measured length of each step, ns. */
  stepNs: number;
  /** Unmeasured lead-in of each step at the step's rate, ns. */
  warmupNs: number;
  slo: Slo | null;
  /** Consecutive clearly broken steps after which the sweep stops. Default 2. */
  stopAfter?: number;
  /** A step whose SLO miss is at least this factor (e.g. p99 twice its limit) has clearly broken. Default 2. */
  breakFactor?: number;
  /** A step with at least this share of failed requests has clearly broken. Default 0.1. */
  breakErrors?: number;
  /** Adaptive search precision (auto rates). Default 0.05. */
  precision?: number;
  /** Directory for each step's results file (binary) and sweep.json. */
  outDir?: string;
  signal?: AbortSignal;
  /** Called after every step (the CLI prints progress here). */
  onStep?: (step: SweepStep) => void;
  /** Runs one step; defaults to a real attack (tests of the search logic replace it). */
  runStep?: StepRunner;
}

/** Runs `rate` for warmup + duration, handing every result to onResult. */
export type StepRunner = (
  rate: number,
  warmupNs: number,
  durationNs: number,
  onResult: (r: Result) => void,
) => Promise<{ info: RunInfo; health: GeneratorHealth; failures: string[] }>;

export interface SweepStep {
  /** Order in which the step ran, from 1. */
  index: number;
  /** Asked rate, req/s. */
  rate: number;
  /** Achieved request rate and successful-request throughput, req/s (Metrics). */
  achieved: number;
  throughput: number;
  requests: number;
  /** Latencies, ns. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** Success ratio and failed-request count. */
  success: number;
  errors: number;
  /** Share of requests sent more than 1 ms late (the generator's own limit, or connections the service held). */
  late: number;
  /** The report's verdict: the generator itself, not the service, limited this step. */
  generatorBottleneck: boolean;
  /** SLO verdicts; null without an SLO. */
  slo: SloVerdict[] | null;
  pass: boolean | null;
  broken: boolean;
  /** The sweep was interrupted during this step: its numbers cover only part of it, and no knee is read from it. */
  partial: boolean;
  /** Results file of this step (its measured part), when -out was given. */
  file: string | null;
  /** The step's measured results, aggregated. */
  metrics: Metrics;
}

export interface SweepResult {
  mode: 'grid' | 'auto';
  slo: Slo | null;
  stepNs: number;
  warmupNs: number;
  /** Steps sorted by rate. */
  steps: SweepStep[];
  /** The knee, req/s: the SLO knee with an SLO, else the latency knee; null when none was found. */
  knee: number | null;
  kneeMethod: 'slo' | 'latency';
  /** Highest rate at which the SLO held (below any clearly broken step). */
  sloKnee: number | null;
  /** Rate after which p99 explodes (Kneedle), or null. */
  latencyKnee: number | null;
  /** Lowest rate at which the SLO failed. */
  firstFailure: number | null;
  /** Why the sweep stopped before its last planned step, or null. */
  stopped: string | null;
  /** Things to know about the result (the knee is above the range; the generator fell behind...). */
  notes: string[];
  /** Path of sweep.json, when written. */
  file: string | null;
}

/** Without an SLO, a step whose p99 is this many times the best p99 so far has clearly broken. */
const BASELINE_BREAK = 10;

export async function sweep(opts: SweepOptions): Promise<SweepResult> {
  if (!(opts.stepNs > 0)) throw new UsageError('sweep: -step-duration must be positive');
  if (opts.warmupNs < 0) throw new UsageError('sweep: -warmup cannot be negative');
  if (opts.rates.kind === 'auto' && !opts.slo) {
    throw new UsageError('sweep: -rates=auto needs -slo (the search looks for the highest rate that meets it)');
  }
  const stopAfter = opts.stopAfter ?? 2;
  const breakFactor = opts.breakFactor ?? 2;
  const breakErrors = opts.breakErrors ?? 0.1;
  const runStep = opts.runStep ?? attackRunner(opts.attack);
  if (opts.outDir) await mkdir(opts.outDir, { recursive: true });

  const steps: SweepStep[] = [];
  let stopped: string | null = null;
  let brokenRun = 0;
  const search = opts.rates.kind === 'auto' ? new AdaptiveSearch(opts.rates.start, opts.rates.max, opts.precision) : null;
  const grid = opts.rates.kind === 'grid' ? opts.rates.rates : [];

  for (let i = 0; ; i++) {
    const rate = search ? search.next() : grid[i];
    if (rate === undefined || rate === null) break;
    if (opts.signal?.aborted) {
      stopped = 'interrupted';
      break;
    }
    const step = await runOne(rate, steps.length + 1, runStep, opts);
    const bestP99 = Math.min(...steps.map((s) => s.p99).filter((p) => p > 0));
    step.broken =
      step.requests === 0 ||
      1 - step.success >= breakErrors ||
      (step.slo ? step.slo.some((v) => v.severity >= breakFactor || Number.isNaN(v.measured)) : step.p99 >= BASELINE_BREAK * bestP99);
    steps.push(step);
    opts.onStep?.(step);
    search?.record(rate, step.pass === true);
    brokenRun = step.broken ? brokenRun + 1 : 0;
    if (opts.signal?.aborted) {
      stopped = 'interrupted';
      break;
    }
    if (!search && brokenRun >= stopAfter && i < grid.length - 1) {
      const last = steps.slice(-stopAfter).map((s) => s.rate);
      stopped = `the tail had clearly broken at ${last.join(' and ')} req/s (${brokenWhy(step, breakFactor, breakErrors)})`;
      break;
    }
  }

  const sorted = [...steps].sort((a, b) => a.rate - b.rate);
  const points = sorted.filter((s) => !s.partial).map((s) => ({ rate: s.rate, p99: s.p99, pass: s.pass, broken: s.broken }));
  const sk = opts.slo ? sloKnee(points, stopAfter) : null;
  const lk = latencyKnee(points);
  const firstFailure = sorted.find((s) => s.pass === false && !s.partial)?.rate ?? null;
  const notes: string[] = [];
  const partial = sorted.filter((s) => s.partial);
  if (partial.length) notes.push(`interrupted during the step at ${partial.map((s) => s.rate).join(', ')} req/s: its numbers cover part of it and no knee is read from it`);
  if (opts.slo && points.length) {
    if (sk === null) notes.push(`the SLO failed at every rate tried, even the lowest (${points[0]!.rate} req/s): the knee is below it`);
    else if (firstFailure === null) notes.push(`the SLO held at every rate tried: the knee is at or above ${sk} req/s`);
    if (sk !== null && firstFailure !== null && firstFailure < sk) {
      notes.push(`the SLO failed at ${firstFailure} req/s but held again higher up: the knee is noisy there; repeat with longer steps`);
    }
  }
  const behind = sorted.filter((s) => s.generatorBottleneck);
  if (behind.length) {
    notes.push(
      `the generator fell behind its schedule at ${behind.map((s) => s.rate).join(', ')} req/s ` +
        `(short of CPU or event-loop time, as \`tailprobe report\` judges it): those steps measure the generator as much as the service`,
    );
  }
  const result: SweepResult = {
    mode: opts.rates.kind,
    slo: opts.slo,
    stepNs: opts.stepNs,
    warmupNs: opts.warmupNs,
    steps: sorted,
    knee: opts.slo ? sk : lk,
    kneeMethod: opts.slo ? 'slo' : 'latency',
    sloKnee: sk,
    latencyKnee: lk,
    firstFailure,
    stopped,
    notes,
    file: null,
  };
  if (opts.outDir) {
    result.file = join(opts.outDir, 'sweep.json');
    await writeFile(result.file, `${JSON.stringify(sweepJson(result), null, 2)}\n`);
  }
  return result;
}

function brokenWhy(s: SweepStep, breakFactor: number, breakErrors: number): string {
  if (s.requests === 0) return 'no request completed';
  if (1 - s.success >= breakErrors) return `${((1 - s.success) * 100).toFixed(1)}% of requests failed`;
  const worst = s.slo?.filter((v) => v.severity >= breakFactor).sort((a, b) => b.severity - a.severity)[0];
  if (worst) return `${worst.expr} missed by ${worst.severity.toFixed(1)}x`;
  return `p99 ${BASELINE_BREAK}x its best`;
}

/** One step: run it, keep only the measured window, write its file, judge it. */
async function runOne(rate: number, index: number, runStep: StepRunner, opts: SweepOptions): Promise<SweepStep> {
  const metrics = new Metrics();
  const pacer = constantPacer(rate);
  // Requests scheduled before the end of the warm-up are not measured (the pacer is a pure
  // function of the request number, so this needs no clock).
  let firstMeasured = 0;
  while (pacer.offsetOf(firstMeasured) < opts.warmupNs) firstMeasured++;
  let file: string | null = null;
  let writer: ResultWriter | null = null;
  let out: NodeJS.WritableStream | null = null;
  if (opts.outDir) {
    file = join(opts.outDir, `step-${String(index).padStart(2, '0')}-${rate}rps.bin`);
    out = createWriteStream(file);
    writer = createResultWriter(out, 'binary');
  }
  const run = await runStep(rate, opts.warmupNs, opts.stepNs, (r) => {
    if (r.seq < firstMeasured) return;
    metrics.add(r);
    writer?.write(r);
  });
  if (run.failures.length) {
    await writer?.close();
    throw new RuntimeError(`sweep: step at ${rate} req/s: ${run.failures[0]}`);
  }
  if (writer) {
    // The file holds the measured window only, so its run info says so.
    writer.writeMeta({ info: { ...run.info, duration: opts.stepNs }, health: run.health });
    await writer.close();
  }
  const l = metrics.latencies();
  const verdicts = opts.slo ? evaluateSlo(opts.slo, metrics) : null;
  return {
    index,
    rate,
    achieved: metrics.rate,
    throughput: metrics.throughput,
    requests: metrics.requests,
    p50: l.p50,
    p90: l.p90,
    p99: l.p99,
    p999: l.p999,
    max: l.max,
    mean: l.mean,
    success: metrics.success,
    errors: metrics.requests - metrics.successes,
    late: metrics.schedule().lateRatio,
    generatorBottleneck: generatorVerdict(metrics.schedule(), [{ info: run.info, health: run.health, events: [] }]).bottleneck,
    slo: verdicts,
    pass: verdicts ? sloPassed(verdicts) : null,
    broken: false,
    partial: opts.signal?.aborted === true,
    file,
    metrics,
  };
}

/** The real step: one attack at a constant rate for warm-up + step duration. */
export function attackRunner(base: SweepOptions['attack']): StepRunner {
  return async (rate, warmupNs, durationNs, onResult) => {
    const out = await attack(
      {
        ...base,
        pacer: constantPacer(rate),
        durationNs: warmupNs + durationNs,
        workers: base.workers || defaultWorkers(rate),
        name: base.name || `sweep-${rate}`,
      },
      onResult,
    );
    return { info: out.info, health: out.health, failures: out.failures };
  };
}
