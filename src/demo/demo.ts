import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { formatProgress, type AttackProgress } from '../attack/index.js';
import { compareRuns, formatComparison, loadRun, type CompareResult } from '../compare/index.js';
import { RuntimeError } from '../errors.js';
import { plotHtml } from '../plot/index.js';
import { topTable, type CapturedProfile, type ProfileType } from '../profile/index.js';
import { generatorVerdict, textReport, type GeneratorVerdict } from '../report/index.js';
import { formatDuration } from '../units/duration.js';
import { parseSlo } from '../slo/index.js';
import { sweep, type SweepResult, type SweepStep } from '../sweep/index.js';
import { calibrateRate, LOAD_FRACTION, PROBE_CONNECTIONS, SETTLE_RATE, niceRate, type Calibration } from './calibrate.js';
import {
  allocCulprit,
  eventSummary,
  FIX_FACTOR,
  gcFinding,
  GC_LOUD_FRACTION,
  improvement,
  lockCulprit,
  ms,
  runNumbers,
  TAIL_MEAN_FACTOR,
  TAIL_P50_FACTOR,
  tailShape,
  type Culprit,
  type EventSummary,
  type GcFinding,
  type RunNumbers,
  EPISODE_SHARE,
  tailEpisode,
  type TailEpisode,
} from './findings.js';
import { runGoDemo } from './go-demo.js';
import { lookupTargets, measuredRun, profiledRun, warmUp } from './load.js';
import { explainLines, explainStage, type StageExplanation } from './explain-step.js';
import { startLookup, type AllocMode, type LockMode, type LookupConfig, type LookupProcess } from './service.js';
import { summaryCulprit, summaryRun, type DemoSummary, type SummaryCheck, type SummaryRun } from './summary.js';

/**
 * `tailprobe demo` as a library: the post-mortem's investigation, replayed on the lookup service
 * (examples/lookup) with this machine's numbers.
 *
 *   1. reproduce: the service with both faults, a constant-rate attack, the report (small mean, fat p99)
 *   2. profile under load: the GC's share of the CPU and the top allocating function, from the profiles
 *   3. fix the loudest cost (a BufferPool), re-measure: the tail moves, not all the way; the block
 *      profile now shows the lock the garbage was hiding
 *   4. fix that (an RWMutex), re-measure, compare the three runs with confidence intervals, plot them
 *   5. optionally, sweep the rate: the knee of the broken and of the fixed service
 *
 * Every sentence about a cause is computed from the measurements (see findings.ts), and says so
 * when the numbers do not have the story's shape.
 */

export interface DemoTiming {
  /** Table size of the service (its old generation: what a full collection must mark). */
  entries: number;
  /** Unrecorded load after each start (connections, JIT, heap at working size). */
  warmupNs: number;
  /** Each measured run. */
  measureNs: number;
  /** Each profile window, s (whole seconds: the pprof endpoints take integers). */
  profileSeconds: number;
  /** Rate calibration: the capacity probe, warm-up included. */
  calibrateNs: number;
}

export const DEFAULT_TIMING: DemoTiming = { entries: 300_000, warmupNs: 3e9, measureNs: 15e9, profileSeconds: 5, calibrateNs: 6e9 };
export const QUICK_TIMING: DemoTiming = { entries: 300_000, warmupNs: 1e9, measureNs: 5e9, profileSeconds: 2, calibrateNs: 3e9 };

export interface DemoOptions {
  /** The short version (CI, README): about a minute. */
  quick?: boolean;
  /** Also sweep the rate on the broken and the fixed service. */
  sweep?: boolean;
  /** Output folder (created). Default ./tailprobe-demo-<timestamp>. */
  outDir?: string;
  /** Requests per second, or 'auto' (default) to calibrate to this machine. */
  rate?: number | 'auto';
  /** Length of each measured run, ns (overrides the mode's default). */
  durationNs?: number;
  /** Table size of the service (default 300000). */
  entries?: number;
  /** Which lookup service: 'node' (examples/lookup, default) or 'go' (examples/lookup-go, built here; see go-demo.ts). */
  service?: 'node' | 'go';
  signal?: AbortSignal;
  /** Narration, one line at a time. */
  log?: (line: string) => void;
  /** A live status line (null clears it); for terminals. */
  status?: (line: string | null) => void;
}

interface Stage {
  name: 'broken' | 'pool' | 'fixed';
  alloc: AllocMode;
  lock: LockMode;
  title: string;
}

const STAGES: Stage[] = [
  { name: 'broken', alloc: 'fresh', lock: 'mutex', title: 'a fresh buffer per request, one Mutex on the table' },
  { name: 'pool', alloc: 'pool', lock: 'mutex', title: 'pooled buffers (tailprobe/sync BufferPool), still one Mutex' },
  { name: 'fixed', alloc: 'pool', lock: 'rwmutex', title: 'pooled buffers and an RWMutex (readers share the lock)' },
];

interface StageResult {
  stage: Stage;
  numbers: RunNumbers;
  /** Whether the load generator (not the service) limited the run, and why (report's verdict). */
  generator: GeneratorVerdict;
  file: string;
  events: EventSummary;
  explained: StageExplanation;
  gc: GcFinding | null;
  allocs: { culprit: Culprit | null; sentence: string } | null;
  block: { culprit: Culprit | null; waitNs: number; sentence: string } | null;
  episode: TailEpisode | null;
}

export class DemoInterrupted extends RuntimeError {
  constructor() {
    super('demo: interrupted');
  }
}

export function defaultOutDir(now = new Date(), cwd = process.cwd()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return join(cwd, `tailprobe-demo-${stamp}`);
}

export async function runDemo(opts: DemoOptions = {}): Promise<{ summary: DemoSummary; outDir: string }> {
  const quick = opts.quick ?? false;
  const timing: DemoTiming = { ...(quick ? QUICK_TIMING : DEFAULT_TIMING) };
  if (opts.durationNs !== undefined) timing.measureNs = opts.durationNs;
  if (opts.entries !== undefined) timing.entries = opts.entries;
  const outDir = opts.outDir ?? defaultOutDir();
  const log = opts.log ?? (() => {});
  const status = opts.status ?? (() => {});
  const signal = opts.signal;
  if (opts.service === 'go') return runGoDemo(opts, timing, outDir);
  const rel = (p: string) => relative(outDir, p);
  await mkdir(outDir, { recursive: true });

  const summary: DemoSummary = {
    tool: 'tailprobe demo',
    version: 1,
    startedAt: new Date().toISOString(),
    finishedAt: '',
    status: 'completed',
    quick,
    machine: { cores: availableParallelism(), node: process.version, platform: `${process.platform}/${process.arch}` },
    rate: 0,
    rateSource: opts.rate === undefined || opts.rate === 'auto' ? 'auto' : 'flag',
    durationS: timing.measureNs / 1e9,
    runs: [],
    culprits: [],
    checks: [],
    verdicts: [],
    files: {},
  };
  const results: StageResult[] = [];
  let service: LookupProcess | null = null;
  const checkAbort = () => {
    if (signal?.aborted) throw new DemoInterrupted();
  };
  const say = (text = '') => log(text);
  const indent = (text: string, by = '    ') => text.replace(/\n+$/, '').split('\n').map((l) => by + l).join('\n');
  const live = (what: string) => (p: AttackProgress) => status(`${what} ${formatProgress(p)}`);

  try {
    say(`tailprobe demo: the tail-latency post-mortem, replayed on this machine (${summary.machine.cores} cores, Node ${process.version})${quick ? ', quick version' : ''}`);
    say(`Output folder: ${outDir}`);
    let rate = 0;
    let port = 0;
    let targets = [] as ReturnType<typeof lookupTargets>;

    for (const [i, stage] of STAGES.entries()) {
      const n = i + 1;
      say();
      if (i === 0) say('Step 1. Reproduce the tail before you profile it');
      else if (i === 1) say('Step 3. Fix the loudest cost first: pool the response buffers, and measure again');
      else say('Step 4. Fix the lock: readers share an RWMutex, and measure again');
      service = await startOnPort({ alloc: stage.alloc, lock: stage.lock, entries: timing.entries }, port, signal);
      port = new URL(service.url).port ? Number(new URL(service.url).port) : 0;
      say(
        `  Started the lookup service with ${stage.title} (--alloc=${stage.alloc} --lock=${stage.lock}): ` +
          `${service.entries} table entries, ${service.heapMB} MiB of heap, built in ${formatDuration(service.buildMs * 1e6)}; ` +
          `pid ${service.pid}, ${service.url}, agent ${service.pprof}/debug/pprof/`,
      );
      checkAbort();
      if (i === 0) {
        targets = lookupTargets(service.url, service.entries);
        if (opts.rate === undefined || opts.rate === 'auto') {
          say(`  Calibrating the rate to this machine: how much can the broken service serve at most? (${SETTLE_RATE} req/s to settle it, then closed-loop with ${PROBE_CONNECTIONS} connections; ${formatDuration(timing.calibrateNs)} in all)`);
          const cal: Calibration = await calibrateRate({
            targets,
            budgetNs: timing.calibrateNs,
            signal,
            onProbe: (p) => say(`    ${p.throughput.toFixed(0)} req/s with ${p.connections} connections busy (p50 ${ms(p.p50)}, p99 ${ms(p.p99)})`),
          });
          rate = cal.rate;
          summary.calibration = {
            capacity: Math.round(cal.capacity),
            fraction: LOAD_FRACTION,
            probes: cal.probes.map((p) => ({ connections: p.connections, throughput: Math.round(p.throughput), p50: p.p50 / 1e6, p99: p.p99 / 1e6 })),
            reason: cal.reason,
          };
          say(`  ${cal.reason}`);
        } else rate = opts.rate;
        summary.rate = rate;
      } else {
        targets = lookupTargets(service.url, service.entries);
      }
      checkAbort();
      await warmUp({ name: `${stage.name}-warmup`, targets, rate, durationNs: timing.warmupNs, signal, onProgress: live('  warming up') });
      status(null);
      checkAbort();
      const file = join(outDir, `${n}-${stage.name}.bin`);
      say(`  Attacking GET /api/lookup?key=... at ${rate} req/s for ${formatDuration(timing.measureNs)} (open model: latency counts from the scheduled send) -> ${rel(file)}`);
      const run = await measuredRun({
        name: stage.name,
        targets,
        rate,
        durationNs: timing.measureNs,
        file,
        agentUrl: service.pprof,
        signal,
        onProgress: live('  attacking'),
      });
      status(null);
      summary.files[`${stage.name}.results`] = rel(file);
      say(indent(textReport(run.metrics, [{ info: run.info, health: run.health, events: run.events }])));
      const explained = await explainStage(file, run.capture, join(outDir, `${n}-${stage.name}.capture.json`));
      if (explained.explanation) {
        await writeFile(join(outDir, `${n}-${stage.name}.explain.txt`), explained.text);
        summary.files[`${stage.name}.explain`] = `${n}-${stage.name}.explain.txt`;
      }
      say('  Explain the tail: which slow request was slowed by what (tailprobe explain, from the agent\'s records)');
      for (const line of explainLines(explained)) say(`    ${line}`);
      const numbers = runNumbers(stage.name, run.metrics);
      const events = eventSummary(run.events, run.metrics.duration + run.metrics.wait);
      const generator = generatorVerdict(run.metrics.schedule(), [{ info: run.info, health: run.health, events: run.events }]);
      const result: StageResult = { stage, numbers, generator, file, events, explained, gc: null, allocs: null, block: null, episode: null };
      results.push(result);
      checkAbort();

      // What the numbers say about this run.
      if (i === 0) {
        say(`  -> ${tailShape(numbers).sentence}`);
        say(`  -> ${events.sentence}`);
      } else {
        const prev = results[i - 1]!;
        say(`  -> Against the ${prev.stage.name} run: ${improvement(prev.numbers, numbers).sentence}`);
        if (i === 1) {
          const shape = tailShape(numbers);
          say(
            numbers.p99 < prev.numbers.p99
              ? `  -> The tail moved, ${shape.p99OverP50 >= 5 ? `but not all the way: p99 is still ${shape.p99OverP50.toFixed(0)}x the median` : `and p99 is now ${shape.p99OverP50.toFixed(1)}x the median`}.`
              : '  -> The tail did NOT move: the pool alone did not help p99 on this machine.',
          );
        } else {
          const broken = results[0]!.numbers;
          const f = broken.p99 / Math.max(1, numbers.p99);
          say(`  -> From the broken service to the fixed one: p99 ${ms(broken.p99)} -> ${ms(numbers.p99)}, ${f.toFixed(1)}x lower${f >= FIX_FACTOR ? '' : ` (the story's bar is ${FIX_FACTOR}x: not reached here)`}.`);
        }
        say(`  -> ${events.sentence}`);
      }

      // Profile under the same load.
      const phases: ProfileType[][] = i === 0 ? [['cpu', 'block'], ['allocs']] : [['cpu', 'block']];
      const types = phases.flat();
      const profDir = join(outDir, 'profiles', stage.name);
      say();
      say(i === 0 ? 'Step 2. Profile under load, and look at the loudest cost' : `  Profiling the ${stage.name} service under the same load (${types.join(', ')})...`);
      if (i === 0) say(`  Profiling under the same load at ${rate} req/s: ${types.join(', ')} from the agent -> ${rel(profDir)}/`);
      const prof = await profiledRun({
        name: `${stage.name}-profile`,
        targets,
        rate,
        seconds: timing.profileSeconds,
        agentUrl: service.pprof,
        phases,
        outDir: profDir,
        signal,
        onProgress: live('  profiling'),
      });
      status(null);
      checkAbort();
      for (const f of prof.failures) say(`  (a profile failed: ${f.message.split('\n')[0]})`);
      for (const [t, c] of Object.entries(prof.profiles) as Array<[string, CapturedProfile]>) summary.files[`${stage.name}.${t}`] = rel(c.file);
      result.gc = gcFinding(prof.profiles.cpu?.profile ?? null);
      result.block = lockCulprit(prof.profiles.block?.profile ?? null, prof.seconds);
      if (i === 0) {
        result.allocs = allocCulprit(prof.profiles.allocs?.profile ?? null);
        say(`  -> ${result.gc.sentence}`);
        if (prof.profiles.allocs) say(indent(topTable(prof.profiles.allocs.profile, { n: 6 }), '      '));
        say(`  -> ${result.allocs.sentence}`);
        if (result.allocs.culprit) summary.culprits.push(summaryCulprit(2, stage.name, result.allocs.culprit, result.allocs.sentence));
        if (result.gc.loud) say('  -> The loudest cost is the garbage: fix the allocation first (the story\'s sync.Pool; here tailprobe/sync\'s BufferPool).');
        else say('  -> The GC is not the loud cost here; the demo applies the story\'s fixes in its order anyway, and measures each.');
        if (result.block.culprit) {
          say(`  (The block profile shows lock waits here too, ${formatDuration(Math.round(result.block.waitNs / 1e6) * 1e6)} in the window; as the story does, the demo fixes the loudest cost first and measures again.)`);
        }
        await service.stop();
        service = null;
      } else {
        const prev = results[i - 1]!;
        const g0 = prev.gc?.gcFraction ?? NaN;
        say(`  -> GC share of CPU: ${Number.isFinite(g0) ? `${(100 * g0).toFixed(1)}% -> ` : ''}${(100 * result.gc.gcFraction).toFixed(1)}%.`);
        if (i === 1) {
          if (prof.profiles.block) say(indent(topTable(prof.profiles.block.profile, { n: 4 }), '      '));
          say(`  -> ${result.block.sentence}`);
          if (result.block.culprit) {
            summary.culprits.push(summaryCulprit(3, stage.name, result.block.culprit, result.block.sentence));
            say(
              result.block.culprit.expected
                ? `  -> With the garbage gone, the next cost shows: ${(100 * result.block.culprit.share).toFixed(1)}% of the waiting is readers waiting for ` +
                    `other readers, on a table its writer changes once a second while ${rate} reads a second go through the lock. Readers can share it: an RWMutex.`
                : '  -> The block profile does not point at the table\'s read lock, so the next fix (an RWMutex on the table) is not what this data asks for; the demo measures it anyway.',
            );
          }
        } else {
          const before = results[1]!.block;
          say(`  -> ${result.block.sentence}`);
          if (before && before.waitNs > 0) {
            say(`  -> Lock waiting in the profile window: ${formatDuration(Math.round(before.waitNs / 1e3) * 1e3)} -> ${formatDuration(Math.round(result.block.waitNs / 1e3) * 1e3)}.`);
          }
        }
        await service.stop();
        service = null;
      }
    }

    // Step 5: compare and plot.
    say();
    say('Step 5. Prove it: compare the three runs (bootstrap confidence intervals), and plot them');
    const loaded = await Promise.all(results.map(async (r) => ({ ...(await loadRun(r.file)), name: r.stage.name })));
    const cmp: CompareResult = compareRuns(loaded, { against: 'previous' });
    const cmpText = formatComparison(cmp);
    say(indent(cmpText));
    for (const w of cmp.warnings) say(`  warning: ${w}`);
    // Is a p99 the steady state, or one bad stretch? (A 5 s run's p99 is its slowest 1%: 2 s of
    // stall can hold all of it.)
    loaded.forEach((l, k) => {
      const r = results[k]!;
      if (l.sample) r.episode = tailEpisode(l.sample, r.numbers.p99);
      const e = r.episode;
      if (e && e.share >= EPISODE_SHARE) {
        say(
          `  -> Note: ${(100 * e.share).toFixed(0)}% of the ${r.stage.name} run's slowest 1% fell within one ${formatDuration(e.windowNs)} stretch ` +
            `(from ${formatDuration(Math.round(e.startNs / 1e6) * 1e6)} in): its p99 rests on that episode, not on the steady state; a longer -duration measures the steady state.`,
        );
      }
    });
    await writeFile(join(outDir, 'compare.txt'), cmpText);
    summary.files.compare = 'compare.txt';
    for (const c of cmp.comparisons) {
      const row = c.rows.find((r) => r.stat === 'p99')!;
      summary.verdicts.push({ before: c.before, after: c.after, stat: 'p99', verdict: row.verdict, deltaPct: row.deltaPct });
      say(`  -> ${c.before} -> ${c.after}: p99 ${row.verdict === 'improved' ? 'improved significantly' : row.verdict === 'regressed' ? 'REGRESSED significantly' : `shows ${row.verdict}`} (${row.deltaPct === null ? 'n/a' : `${row.deltaPct.toFixed(1)}%`}).`);
    }
    const html = await plotHtml(results.map((r) => r.file), { title: `tailprobe demo: broken, pooled, fixed at ${rate} req/s` });
    const htmlPath = join(outDir, 'report.html');
    await writeFile(htmlPath, html);
    summary.files.report = rel(htmlPath);
    say(`  HTML report with the three runs overlaid: ${htmlPath}`);
    checkAbort();

    if (opts.sweep) {
      say();
      say('Step 6. Sweep: where the knee is, broken and fixed');
      summary.sweep = await runSweepStep({
        outDir,
        timing,
        quick,
        rate,
        fixedP99: results[2]!.numbers.p99,
        entries: timing.entries,
        signal,
        say,
        rel,
        summary,
        onService: (s) => (service = s),
      });
    }
  } catch (err) {
    status(null);
    if (err instanceof DemoInterrupted || signal?.aborted) {
      summary.status = 'interrupted';
      say();
      say('Interrupted: the service is stopped; what was measured so far is kept.');
    } else {
      summary.status = 'failed';
      summary.error = (err as Error).message;
      throw err;
    }
  } finally {
    status(null);
    if (service) await service.stop();
    finish(summary, results, say);
    await writeFile(join(outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
    say();
    say(`All outputs are in ${outDir} (summary.json, results *.bin, profiles/, compare.txt, report.html).`);
  }
  return { summary, outDir };
}

/**
 * Every run on the same port, so the three results files name the same targets (compare warns
 * about runs against different targets); if the port was taken meanwhile, any free port will do.
 */
async function startOnPort(config: LookupConfig, port: number, signal?: AbortSignal): Promise<LookupProcess> {
  if (port > 0) {
    try {
      return await startLookup({ ...config, port }, { signal });
    } catch (err) {
      if (!/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
  return startLookup(config, { signal });
}

/** Fills the summary's runs and checks from what was measured, and states the story's bar. */
function finish(summary: DemoSummary, results: StageResult[], say: (s?: string) => void): void {
  summary.finishedAt = new Date().toISOString();
  summary.runs = results.map(
    (r): SummaryRun =>
      summaryRun(r.numbers, {
        alloc: r.stage.alloc,
        lock: r.stage.lock,
        file: `${STAGES.indexOf(r.stage) + 1}-${r.stage.name}.bin`,
        rate: summary.rate,
        gcFraction: r.gc && Number.isFinite(r.gc.gcFraction) ? Math.round(r.gc.gcFraction * 1000) / 1000 : null,
        tailEpisode: r.episode ? { share: Math.round(r.episode.share * 1000) / 1000, startS: r.episode.startNs / 1e9, windowS: r.episode.windowNs / 1e9 } : null,
        gcPauses: r.events.gcPauses,
        gcPauseLongestMs: Math.round(r.events.gcLongestNs / 1e3) / 1e3,
        lockWaitMs: r.block ? Math.round(r.block.waitNs / 1e3) / 1e3 : null,
        disturbance: {
          machineStalls: r.events.machineStalls,
          machineStallLongestMs: Math.round(r.events.machineStallLongestNs / 1e3) / 1e3,
          generatorBottleneck: r.generator.bottleneck,
          generatorReasons: r.generator.reasons,
        },
      }),
  );
  const checks: SummaryCheck[] = [];
  const [broken, pool, fixed] = results;
  const add = (claim: string, measured: number, threshold: number, pass: boolean) =>
    checks.push({ claim, measured: Math.round(measured * 1000) / 1000, threshold, pass });
  if (broken) {
    const b = broken.numbers;
    add(`broken p99 >= ${TAIL_P50_FACTOR}x p50`, b.p99 / Math.max(1, b.p50), TAIL_P50_FACTOR, b.p99 >= TAIL_P50_FACTOR * b.p50);
    add(`broken p99 >= ${TAIL_MEAN_FACTOR}x mean`, b.p99 / Math.max(1, b.mean), TAIL_MEAN_FACTOR, b.p99 >= TAIL_MEAN_FACTOR * b.mean);
    if (broken.gc) add(`broken: GC share of CPU >= ${100 * GC_LOUD_FRACTION}%`, broken.gc.gcFraction, GC_LOUD_FRACTION, broken.gc.loud);
    const a = broken.allocs?.culprit;
    if (broken.allocs) add('step 2: top allocating function is the per-request response assembly (renderFresh)', a?.share ?? 0, 0, a?.expected ?? false);
  }
  if (broken && pool) add('pool: p99 lower than broken (the tail moved)', broken.numbers.p99 / Math.max(1, pool.numbers.p99), 1, pool.numbers.p99 < broken.numbers.p99);
  if (pool) {
    const c = pool.block?.culprit;
    if (pool.block) add('step 3: block profile top site is the table read lock (LookupTable.lookup)', c?.share ?? 0, 0, c?.expected ?? false);
  }
  if (pool && fixed) add('pool: p99 above fixed (not all the way)', pool.numbers.p99 / Math.max(1, fixed.numbers.p99), 1, pool.numbers.p99 > fixed.numbers.p99);
  if (broken && fixed) {
    const f = broken.numbers.p99 / Math.max(1, fixed.numbers.p99);
    add(`fixed p99 >= ${FIX_FACTOR}x lower than broken`, f, FIX_FACTOR, f >= FIX_FACTOR);
  }
  for (const v of summary.verdicts) add(`compare: ${v.before} -> ${v.after} p99 improved significantly`, v.deltaPct ?? 0, 0, v.verdict === 'improved');
  summary.checks = checks;
  if (checks.length === 0) return;
  const passed = checks.filter((c) => c.pass).length;
  say();
  say(`The story's shape on this machine: ${passed} of ${checks.length} checks hold${passed === checks.length ? '.' : ':'}`);
  for (const c of checks) if (!c.pass) say(`  NOT SHOWN: ${c.claim} (measured ${c.measured})`);
  const disturbed = results.filter((r) => r.events.machineStalls > 0 || r.generator.bottleneck);
  if (disturbed.length) {
    const what = disturbed.map((r) => {
      const parts: string[] = [];
      if (r.events.machineStalls > 0) parts.push(`${r.events.machineStalls} service stalls no GC explains, the longest ${ms(r.events.machineStallLongestNs)}`);
      if (r.generator.bottleneck) parts.push(`the load generator fell behind: ${r.generator.reasons.join('; ')}`);
      return `${r.stage.name} (${parts.join('; ')})`;
    });
    say(`  The machine itself disturbed ${what.join(', ')}: those tails are partly the machine's; on a quieter machine the numbers are cleaner.`);
  }
  if (broken && pool && fixed && summary.status === 'completed') {
    const f = broken.numbers.p99 / Math.max(1, fixed.numbers.p99);
    const first = broken.gc?.loud ? `the allocations first (GC ${(100 * broken.gc.gcFraction).toFixed(0)}% of the CPU)` : 'the allocations first';
    const second =
      pool.block?.culprit?.expected && pool.numbers.p99 > fixed.numbers.p99
        ? `, then the lock they had been hiding (p99 ${ms(pool.numbers.p99)} with the pool alone, ${ms(fixed.numbers.p99)} with the RWMutex too)`
        : ', then the lock';
    const e = broken.episode;
    const episode =
      e && e.share >= EPISODE_SHARE
        ? ` The broken p99 rests on one episode: ${(100 * e.share).toFixed(0)}% of its slowest 1% fell within ${formatDuration(e.windowNs)}.`
        : '';
    say(`  In order: ${first}${second}. From the broken service to the fixed one, p99 went from ${ms(broken.numbers.p99)} to ${ms(fixed.numbers.p99)} (${f.toFixed(1)}x) at ${summary.rate} req/s.${episode}`);
  }
}

/** Rates of the sweep, as multiples of the demo's rate. */
const SWEEP_FACTORS = [0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3];

/**
 * Step 6 (-sweep): the broken and the fixed service swept over the same rates, around the demo's,
 * with the same SLO, side by side: where each one's tail breaks (the story's "stayed there when I
 * pushed the rate higher").
 */
async function runSweepStep(ctx: {
  outDir: string;
  timing: DemoTiming;
  quick: boolean;
  rate: number;
  fixedP99: number;
  entries?: number;
  signal?: AbortSignal;
  say: (s?: string) => void;
  rel: (p: string) => string;
  summary: DemoSummary;
  onService: (s: LookupProcess | null) => void;
}): Promise<unknown> {
  const { say } = ctx;
  const rates = [...new Set(SWEEP_FACTORS.map((f) => niceRate(ctx.rate * f)))];
  // The SLO: a p99 the fixed service met with room to spare (3x its measured p99, at least 20 ms).
  const limitMs = Math.max(20, Math.ceil((3 * ctx.fixedP99) / 1e6 / 5) * 5);
  const slo = parseSlo(`p99<${limitMs}ms`);
  const stepNs = ctx.quick ? 1.5e9 : 3e9;
  const warmupNs = ctx.quick ? 0.5e9 : 1e9;
  say(`  Rates ${rates.join(', ')} req/s, ${formatDuration(stepNs)} each after ${formatDuration(warmupNs)} of warm-up; SLO ${slo.text}.`);
  const out: Record<string, { knee: number | null; latencyKnee: number | null; steps: Array<{ rate: number; p50: number; p99: number; pass: boolean | null }>; file: string | null }> = {};
  const results: Record<string, SweepResult> = {};
  for (const stage of [STAGES[0]!, STAGES[2]!]) {
    const svc = await startLookup({ alloc: stage.alloc, lock: stage.lock, entries: ctx.entries }, { signal: ctx.signal });
    ctx.onService(svc);
    try {
      say(`  Sweeping the ${stage.name} service (--alloc=${stage.alloc} --lock=${stage.lock})...`);
      const dir = join(ctx.outDir, `sweep-${stage.name}`);
      const res = await sweep({
        attack: { targets: lookupTargets(svc.url, svc.entries), timeoutNs: 10e9, name: `sweep-${stage.name}`, signal: ctx.signal },
        rates: { kind: 'grid', rates },
        stepNs,
        warmupNs,
        slo,
        outDir: dir,
        signal: ctx.signal,
      });
      results[stage.name] = res;
      out[stage.name] = {
        knee: res.sloKnee,
        latencyKnee: res.latencyKnee,
        steps: res.steps.map((st) => ({ rate: st.rate, p50: Math.round(st.p50 / 1e3) / 1e3, p99: Math.round(st.p99 / 1e3) / 1e3, pass: st.pass })),
        file: res.file ? ctx.rel(res.file) : null,
      };
      if (res.file) ctx.summary.files[`sweep.${stage.name}`] = ctx.rel(res.file);
    } finally {
      await svc.stop();
      ctx.onService(null);
    }
    if (ctx.signal?.aborted) throw new DemoInterrupted();
  }
  const b = results.broken!;
  const f = results.fixed!;
  const rows = [['rate', 'broken p50', 'broken p99', 'fixed p50', 'fixed p99']];
  for (const r of rates) {
    const sb = b.steps.find((x) => x.rate === r);
    const sf = f.steps.find((x) => x.rate === r);
    const cell = (st: SweepStep | undefined, v: 'p50' | 'p99') => (st ? `${ms(st[v])}${v === 'p99' && st.pass === false ? ' x' : ''}` : '-');
    rows.push([`${r}/s`, cell(sb, 'p50'), cell(sb, 'p99'), cell(sf, 'p50'), cell(sf, 'p99')]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) say(`    ${r.map((c, i) => c.padEnd(widths[i]! + 2)).join('').trimEnd()}`);
  say(`    (x: ${slo.text} missed; "-": not run, the sweep stops once the tail has clearly broken)`);
  const knee = (res: SweepResult) => (res.sloKnee === null ? `none (even ${rates[0]} req/s missed it)` : `${res.sloKnee} req/s${res.sloKnee === rates[rates.length - 1] ? ' or more' : ''}`);
  say(`  -> Knee (highest rate meeting ${slo.text}): broken ${knee(b)}, fixed ${knee(f)}.`);
  if (b.sloKnee !== null && f.sloKnee !== null && f.sloKnee > b.sloKnee) say(`  -> The fixed service holds its tail up to ${(f.sloKnee / b.sloKnee).toFixed(1)}x the rate the broken one could.`);
  else if (f.sloKnee === null || (b.sloKnee !== null && f.sloKnee <= b.sloKnee)) say('  -> The fixed service did not hold the SLO at higher rates than the broken one in this sweep.');
  for (const [name, res] of Object.entries(results)) for (const n of res.notes) say(`  note (${name}): ${n}`);
  // One page per sweep (a page draws one sweep), each with the demo's three runs.
  for (const [name, res] of Object.entries(results)) {
    if (!res.file) continue;
    const page = join(ctx.outDir, `sweep-${name}.html`);
    await writeFile(page, await plotHtml([res.file], { title: `tailprobe demo: sweep of the ${name} service` }));
    ctx.summary.files[`sweep.${name}.report`] = ctx.rel(page);
    say(`  Sweep plot: ${page}`);
  }
  return { slo: slo.text, rates, ...out };
}
