import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { formatProgress, type AttackProgress } from '../attack/index.js';
import { compareRuns, formatComparison, loadRun, type CompareResult } from '../compare/index.js';
import { RuntimeError } from '../errors.js';
import { plotHtml } from '../plot/index.js';
import type { CapturedProfile, ProfileType } from '../profile/index.js';
import { generatorVerdict, textReport, type GeneratorVerdict } from '../report/index.js';
import type { Target } from '../targets/index.js';
import { formatDuration } from '../units/duration.js';
import { calibrateRate, LOAD_FRACTION, type Probe } from './calibrate.js';
import { eventSummary, gcFinding, improvement, runNumbers, type Culprit, type EventSummary, type GcFinding, type RunNumbers, type TailEpisode } from './findings.js';
import { lookupTargets, measuredRun, profiledRun, warmUp, type ProfiledRun } from './load.js';
import { explainLines, explainStage, type StageExplanation } from './explain-step.js';
import type { AllocMode, LockMode, LookupProcess } from './service.js';
import { summaryRun, type DemoSummary, type SummaryRun } from './summary.js';
import type { DemoOptions, DemoTiming } from './demo.js';

/**
 * What both demos (the Node service, demo.ts; the Go service, go-demo.ts) do alike, as steps of one
 * investigation: start a service on the port the previous one had, calibrate the rate, measure a
 * run and explain its tail, profile under the same load, compare and plot the three runs, and end
 * (on every path: completed, interrupted, failed) with the service stopped and summary.json
 * written. The story each demo tells (its sentences about causes, its checks) stays in its file.
 */

export type StageName = 'broken' | 'pool' | 'fixed';

/** One service configuration of the story: both faults, the pool, the pool and the RWMutex. */
export interface Stage {
  name: StageName;
  alloc: AllocMode;
  lock: LockMode;
  title: string;
}

export interface AllocFinding {
  culprit: Culprit | null;
  sentence: string;
}

export interface LockFinding {
  culprit: Culprit | null;
  waitNs: number;
  sentence: string;
}

/** A measured run of one stage, and what its profiles said (filled in as the story goes). */
export interface StageResult {
  stage: Stage;
  /** Its place in the story (1, 2, 3): the prefix of its files. */
  n: number;
  numbers: RunNumbers;
  /** Whether the load generator (not the service) limited the run, and why (report's verdict). */
  generator: GeneratorVerdict;
  file: string;
  events: EventSummary;
  /** Length of the measured run including the wait for the last responses, ns. */
  runNs: number;
  explained: StageExplanation;
  gc: GcFinding | null;
  allocs: AllocFinding | null;
  block: LockFinding | null;
  episode: TailEpisode | null;
}

/** How a demo's service is measured: where its agent listens, and how the narration names it. */
export interface RunStyle {
  agentUrl(service: LookupProcess): string;
  /** In the attack's sentence: "(open model...)". */
  openModel: string;
  /** Whose records explain reads: "the agent's records". */
  records: string;
}

export type LoadedRun = Awaited<ReturnType<typeof loadRun>> & { name: string };

export class DemoInterrupted extends RuntimeError {
  constructor() {
    super('demo: interrupted');
  }
}

export class Investigation {
  readonly summary: DemoSummary;
  readonly results: StageResult[] = [];
  readonly quick: boolean;
  /** The running service (stopped on every exit path), and its targets. */
  service: LookupProcess | null = null;
  targets: Target[] = [];
  /** The rate every run uses, req/s (set by chooseRate). */
  rate = 0;
  /** Every service on the same port, so the three results files name the same targets. */
  private port = 0;
  private readonly log: (line: string) => void;
  readonly status: (line: string | null) => void;
  readonly signal: AbortSignal | undefined;

  constructor(
    readonly opts: DemoOptions,
    readonly timing: DemoTiming,
    readonly outDir: string,
    readonly style: RunStyle,
  ) {
    this.quick = opts.quick ?? false;
    this.log = opts.log ?? (() => {});
    this.status = opts.status ?? (() => {});
    this.signal = opts.signal;
    this.summary = {
      tool: 'tailprobe demo',
      version: 1,
      startedAt: new Date().toISOString(),
      finishedAt: '',
      status: 'completed',
      quick: this.quick,
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
  }

  say = (text = ''): void => this.log(text);
  rel = (p: string): string => relative(this.outDir, p);
  indent = (text: string, by = '    '): string => text.replace(/\n+$/, '').split('\n').map((l) => by + l).join('\n');
  private live = (what: string) => (p: AttackProgress) => this.status(`${what} ${formatProgress(p)}`);

  checkAbort(): void {
    if (this.signal?.aborted) throw new DemoInterrupted();
  }

  /**
   * The investigation: `story`, then (however it ends) the service stopped, `finish` (the runs and
   * checks into the summary), summary.json written. Interrupted: what was measured is kept.
   */
  async run(story: () => Promise<void>, finish: () => void): Promise<{ summary: DemoSummary; outDir: string }> {
    await mkdir(this.outDir, { recursive: true });
    const { summary, say } = this;
    try {
      await story();
    } catch (err) {
      this.status(null);
      if (err instanceof DemoInterrupted || this.signal?.aborted) {
        summary.status = 'interrupted';
        say();
        say('Interrupted: the service is stopped; what was measured so far is kept.');
      } else {
        summary.status = 'failed';
        summary.error = (err as Error).message;
        throw err;
      }
    } finally {
      this.status(null);
      await this.stopService();
      finish();
      await writeFile(join(this.outDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
      say();
      say(`All outputs are in ${this.outDir} (summary.json, results *.bin, profiles/, compare.txt, report.html).`);
    }
    return { summary, outDir: this.outDir };
  }

  /**
   * Starts a service on the previous one's port (if that was taken meanwhile, any free port will
   * do), says what it is (`describe`), and its targets.
   */
  async startService(start: (port: number | undefined) => Promise<LookupProcess>, describe: (s: LookupProcess) => string): Promise<LookupProcess> {
    let service: LookupProcess | null = null;
    if (this.port > 0) {
      try {
        service = await start(this.port);
      } catch (err) {
        if (!/EADDRINUSE|address already in use/.test((err as Error).message)) throw err;
      }
    }
    service ??= await start(undefined);
    this.service = service;
    this.port = Number(new URL(service.url).port) || 0;
    this.targets = lookupTargets(service.url, service.entries);
    this.say(describe(service));
    this.checkAbort();
    return service;
  }

  async stopService(): Promise<void> {
    const s = this.service;
    this.service = null;
    if (s) await s.stop();
  }

  /** The rate of every run: -rate, or calibrated on the broken service (`intro` says how). */
  async chooseRate(intro: string, onProbe?: (p: Probe) => void): Promise<number> {
    const { opts, summary } = this;
    if (opts.rate === undefined || opts.rate === 'auto') {
      this.say(intro);
      const cal = await calibrateRate({ targets: this.targets, budgetNs: this.timing.calibrateNs, signal: this.signal, onProbe });
      this.rate = cal.rate;
      summary.calibration = {
        capacity: Math.round(cal.capacity),
        fraction: LOAD_FRACTION,
        probes: cal.probes.map((p) => ({ connections: p.connections, throughput: Math.round(p.throughput), p50: p.p50 / 1e6, p99: p.p99 / 1e6 })),
        reason: cal.reason,
      };
      this.say(`  ${cal.reason}`);
    } else this.rate = opts.rate;
    summary.rate = this.rate;
    return this.rate;
  }

  /**
   * One measured run of the running service: warm-up, the open-model attack into
   * `<n>-<stage>.bin`, its report, and explain's account of its tail.
   */
  async measure(stage: Stage): Promise<StageResult> {
    const { say, summary, rate, targets, timing, signal } = this;
    const service = this.service!;
    const n = this.results.length + 1;
    this.checkAbort();
    await warmUp({ name: `${stage.name}-warmup`, targets, rate, durationNs: timing.warmupNs, signal, onProgress: this.live('  warming up') });
    this.status(null);
    this.checkAbort();
    const file = join(this.outDir, `${n}-${stage.name}.bin`);
    say(`  Attacking GET /api/lookup?key=... at ${rate} req/s for ${formatDuration(timing.measureNs)} (${this.style.openModel}) -> ${this.rel(file)}`);
    const run = await measuredRun({
      name: stage.name,
      targets,
      rate,
      durationNs: timing.measureNs,
      file,
      agentUrl: this.style.agentUrl(service),
      signal,
      onProgress: this.live('  attacking'),
    });
    this.status(null);
    summary.files[`${stage.name}.results`] = this.rel(file);
    const sources = [{ info: run.info, health: run.health, events: run.events }];
    say(this.indent(textReport(run.metrics, sources)));
    const explained = await this.explainTheTail(stage, n, file, run.capture);
    const runNs = run.metrics.duration + run.metrics.wait;
    const result: StageResult = {
      stage,
      n,
      numbers: runNumbers(stage.name, run.metrics),
      generator: generatorVerdict(run.metrics.schedule(), sources),
      file,
      events: eventSummary(run.events, runNs),
      runNs,
      explained,
      gc: null,
      allocs: null,
      block: null,
      episode: null,
    };
    this.results.push(result);
    this.checkAbort();
    return result;
  }

  /** Which slow request was slowed by what: the run's results joined with the service's records. */
  private async explainTheTail(stage: Stage, n: number, file: string, capture: Parameters<typeof explainStage>[1]): Promise<StageExplanation> {
    const explained = await explainStage(file, capture, join(this.outDir, `${n}-${stage.name}.capture.json`));
    if (explained.explanation) {
      await writeFile(join(this.outDir, `${n}-${stage.name}.explain.txt`), explained.text);
      this.summary.files[`${stage.name}.explain`] = `${n}-${stage.name}.explain.txt`;
    }
    this.say(`  Explain the tail: which slow request was slowed by what (tailprobe explain, from ${this.style.records})`);
    for (const line of explainLines(explained)) this.say(`    ${line}`);
    return explained;
  }

  /** "-> Against the <before> run: ..." */
  sayAgainst(before: StageResult, after: StageResult): void {
    this.say(`  -> Against the ${before.stage.name} run: ${improvement(before.numbers, after.numbers).sentence}`);
  }

  profileDir(stage: Stage): string {
    return join(this.outDir, 'profiles', stage.name);
  }

  /**
   * The same load while the service is profiled (`phases`, one after the other) into
   * profiles/<stage>/; the CPU profile's GC share goes into the result.
   */
  async profile(result: StageResult, phases: ProfileType[][]): Promise<ProfiledRun> {
    const { stage } = result;
    const prof = await profiledRun({
      name: `${stage.name}-profile`,
      targets: this.targets,
      rate: this.rate,
      seconds: this.timing.profileSeconds,
      agentUrl: this.style.agentUrl(this.service!),
      phases,
      outDir: this.profileDir(stage),
      signal: this.signal,
      onProgress: this.live('  profiling'),
    });
    this.status(null);
    this.checkAbort();
    for (const f of prof.failures) this.say(`  (a profile failed: ${f.message.split('\n')[0]})`);
    for (const [t, c] of Object.entries(prof.profiles) as Array<[string, CapturedProfile]>) this.summary.files[`${stage.name}.${t}`] = this.rel(c.file);
    result.gc = gcFinding(prof.profiles.cpu?.profile ?? null);
    return prof;
  }

  /** A fixed service profiled again (CPU and block): did the GC share fall, where is the waiting now? */
  async profileAgain(result: StageResult, before: StageResult): Promise<ProfiledRun> {
    const phases: ProfileType[][] = [['cpu', 'block']];
    this.say();
    this.say(`  Profiling the ${result.stage.name} service under the same load (${phases.flat().join(', ')})...`);
    const prof = await this.profile(result, phases);
    const g0 = before.gc?.gcFraction ?? NaN;
    this.say(`  -> GC share of CPU: ${Number.isFinite(g0) ? `${(100 * g0).toFixed(1)}% -> ` : ''}${(100 * result.gc!.gcFraction).toFixed(1)}%.`);
    return prof;
  }

  /**
   * Step 5's comparison: the three runs with bootstrap confidence intervals (each fix against the
   * run before it) into compare.txt, and compare's p99 verdicts into the summary.
   */
  async compare(): Promise<{ cmp: CompareResult; loaded: LoadedRun[] }> {
    this.checkAbort();
    this.say();
    this.say('Step 5. Prove it: compare the three runs (bootstrap confidence intervals), and plot them');
    const loaded = await Promise.all(this.results.map(async (r) => ({ ...(await loadRun(r.file)), name: r.stage.name })));
    const cmp = compareRuns(loaded, { against: 'previous' });
    const cmpText = formatComparison(cmp);
    this.say(this.indent(cmpText));
    await writeFile(join(this.outDir, 'compare.txt'), cmpText);
    this.summary.files.compare = 'compare.txt';
    for (const c of cmp.comparisons) {
      const row = c.rows.find((r) => r.stat === 'p99')!;
      this.summary.verdicts.push({ before: c.before, after: c.after, stat: 'p99', verdict: row.verdict, deltaPct: row.deltaPct });
    }
    return { cmp, loaded };
  }

  /** The three runs overlaid in report.html. */
  async plot(title: string): Promise<void> {
    const htmlPath = join(this.outDir, 'report.html');
    await writeFile(htmlPath, await plotHtml(this.results.map((r) => r.file), { title }));
    this.summary.files.report = this.rel(htmlPath);
    this.say(`  HTML report with the three runs overlaid: ${htmlPath}`);
  }

  /** The summary's runs, from what was measured (`machineStalls`: whether the service reports event-loop stalls). */
  recordRuns(machineStalls: boolean): void {
    const { summary } = this;
    summary.finishedAt = new Date().toISOString();
    summary.runs = this.results.map(
      (r): SummaryRun =>
        summaryRun(r.numbers, {
          alloc: r.stage.alloc,
          lock: r.stage.lock,
          file: `${r.n}-${r.stage.name}.bin`,
          rate: summary.rate,
          gcFraction: r.gc && Number.isFinite(r.gc.gcFraction) ? Math.round(r.gc.gcFraction * 1000) / 1000 : null,
          tailEpisode: r.episode ? { share: Math.round(r.episode.share * 1000) / 1000, startS: r.episode.startNs / 1e9, windowS: r.episode.windowNs / 1e9 } : null,
          gcPauses: r.events.gcPauses,
          gcPauseLongestMs: Math.round(r.events.gcLongestNs / 1e3) / 1e3,
          lockWaitMs: r.block ? Math.round(r.block.waitNs / 1e3) / 1e3 : null,
          disturbance: {
            machineStalls: machineStalls ? r.events.machineStalls : 0,
            machineStallLongestMs: machineStalls ? Math.round(r.events.machineStallLongestNs / 1e3) / 1e3 : 0,
            generatorBottleneck: r.generator.bottleneck,
            generatorReasons: r.generator.reasons,
          },
        }),
    );
  }

  /** One of the story's claims, checked on the numbers, into the summary. */
  check(claim: string, measured: number, threshold: number, pass: boolean): void {
    this.summary.checks.push({ claim, measured: Math.round(measured * 1000) / 1000, threshold, pass });
  }

  /** How many of the story's checks hold, and which do not ("NOT SHOWN"); false when there are none. */
  sayChecks(): boolean {
    const { checks } = this.summary;
    if (checks.length === 0) return false;
    const passed = checks.filter((c) => c.pass).length;
    this.say();
    this.say(`The story's shape on this machine: ${passed} of ${checks.length} checks hold${passed === checks.length ? '.' : ':'}`);
    for (const c of checks) if (!c.pass) this.say(`  NOT SHOWN: ${c.claim} (measured ${c.measured})`);
    return true;
  }
}
