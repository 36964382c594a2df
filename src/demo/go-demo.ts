import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { formatProgress, type AttackProgress } from '../attack/index.js';
import { compareRuns, formatComparison, loadRun } from '../compare/index.js';
import { plotHtml } from '../plot/index.js';
import { topTable, type CapturedProfile, type ProfileType } from '../profile/index.js';
import { generatorVerdict, textReport } from '../report/index.js';
import { formatDuration } from '../units/duration.js';
import { calibrateRate, LOAD_FRACTION, PROBE_CONNECTIONS, SETTLE_RATE } from './calibrate.js';
import { eventSummary, gcFinding, improvement, ms, runNumbers, tailShape, type Culprit, type EventSummary, type RunNumbers } from './findings.js';
import { goAllocCulprit, goLockCulprit } from './go-findings.js';
import { buildGoLookup, startGoLookup } from './go-service.js';
import { lookupTargets, measuredRun, profiledRun, warmUp } from './load.js';
import { explainLines, explainStage } from './explain-step.js';
import type { AllocMode, LockMode, LookupProcess } from './service.js';
import { summaryCulprit, summaryRun, type DemoSummary, type SummaryCheck } from './summary.js';
import type { DemoOptions, DemoTiming } from './demo.js';

/**
 * `tailprobe demo -service=go`: the post-mortem replayed on the Go lookup service
 * (examples/lookup-go), built here from source with the local Go toolchain. The same steps as the
 * Node demo (calibrate, reproduce, profile under load through the real net/http/pprof, fix the
 * garbage with a sync.Pool, find the lock in the block profile, fix it with an RWMutex, compare,
 * plot); the findings read Go's profiles (go-findings.ts). Every sentence about a cause is computed
 * from what was measured.
 */

/** The Go demo's bar (docs/go.md): a fat tail, the map's mutex in the block profile, a real fix. */
export const GO_TAIL_P50_FACTOR = 5;
export const GO_FIX_FACTOR = 3;

interface Stage {
  name: 'broken' | 'pool' | 'fixed';
  alloc: AllocMode;
  lock: LockMode;
  title: string;
}

const STAGES: Stage[] = [
  { name: 'broken', alloc: 'fresh', lock: 'mutex', title: 'a fresh bytes.Buffer per response, one sync.Mutex on the map' },
  { name: 'pool', alloc: 'pool', lock: 'mutex', title: 'buffers from a sync.Pool (Reset before use), still the sync.Mutex' },
  { name: 'fixed', alloc: 'pool', lock: 'rwmutex', title: 'the sync.Pool and a sync.RWMutex (readers share the map)' },
];

interface StageResult {
  stage: Stage;
  numbers: RunNumbers;
  file: string;
  events: EventSummary;
  generatorBottleneck: boolean;
  generatorReasons: string[];
  gcFraction: number;
  alloc: { culprit: Culprit | null; sentence: string } | null;
  block: { culprit: Culprit | null; waitNs: number; sentence: string } | null;
}

export async function runGoDemo(opts: DemoOptions, timing: DemoTiming, outDir: string): Promise<{ summary: DemoSummary; outDir: string }> {
  const quick = opts.quick ?? false;
  const log = opts.log ?? (() => {});
  const status = opts.status ?? (() => {});
  const signal = opts.signal;
  const say = (text = '') => log(text);
  const rel = (p: string) => relative(outDir, p);
  const indent = (text: string, by = '    ') => text.replace(/\n+$/, '').split('\n').map((l) => by + l).join('\n');
  const live = (what: string) => (p: AttackProgress) => status(`${what} ${formatProgress(p)}`);
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
  const aborted = () => signal?.aborted === true;

  try {
    say(`tailprobe demo -service=go: the tail-latency post-mortem, replayed on the Go lookup service (${summary.machine.cores} cores)${quick ? ', quick version' : ''}`);
    say(`Output folder: ${outDir}`);
    if (opts.sweep) say('(-sweep is not done for -service=go: the rate sweep runs on the Node service only, for now.)');
    const built = buildGoLookup(outDir);
    say(`Built examples/lookup-go with ${built.goVersion} -> ${rel(built.binary)}`);
    let rate = 0;
    let port = 0;
    for (const [i, stage] of STAGES.entries()) {
      if (aborted()) break;
      say();
      say(i === 0 ? 'Step 1. Reproduce the tail before you profile it' : i === 1 ? 'Step 3. Fix the loudest cost first: a sync.Pool of buffers, and measure again' : 'Step 4. Fix the lock: a sync.RWMutex, and measure again');
      try {
        service = await startGoLookup(built.binary, { alloc: stage.alloc, lock: stage.lock, entries: opts.entries, port }, { signal });
      } catch (err) {
        if (port === 0 || !/address already in use/.test((err as Error).message)) throw err;
        service = await startGoLookup(built.binary, { alloc: stage.alloc, lock: stage.lock, entries: opts.entries }, { signal });
      }
      port = Number(new URL(service.url).port);
      say(`  Started the Go lookup service with ${stage.title} (-fix=${stage.name === 'broken' ? 'none' : stage.name === 'pool' ? 'pool' : 'rwmutex'}): ${service.entries} entries, ${service.heapMB} MiB of heap; pid ${service.pid}, ${service.url} (net/http/pprof and /debug/tailprobe/ on the same port)`);
      const targets = lookupTargets(service.url, service.entries);
      if (i === 0) {
        if (opts.rate === undefined || opts.rate === 'auto') {
          say(`  Calibrating the rate: the broken service's capacity (${SETTLE_RATE} req/s to settle it, then closed-loop with ${PROBE_CONNECTIONS} connections; ${formatDuration(timing.calibrateNs)})`);
          const cal = await calibrateRate({ targets, budgetNs: timing.calibrateNs, signal });
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
      }
      if (aborted()) break;
      await warmUp({ name: `${stage.name}-warmup`, targets, rate, durationNs: timing.warmupNs, signal, onProgress: live('  warming up') });
      status(null);
      const file = join(outDir, `${i + 1}-${stage.name}.bin`);
      say(`  Attacking GET /api/lookup?key=... at ${rate} req/s for ${formatDuration(timing.measureNs)} (open model) -> ${rel(file)}`);
      const run = await measuredRun({ name: stage.name, targets, rate, durationNs: timing.measureNs, file, agentUrl: service.url, signal, onProgress: live('  attacking') });
      status(null);
      summary.files[`${stage.name}.results`] = rel(file);
      say(indent(textReport(run.metrics, [{ info: run.info, health: run.health, events: run.events }])));
      const explained = await explainStage(file, run.capture, join(outDir, `${i + 1}-${stage.name}.capture.json`));
      if (explained.explanation) {
        await writeFile(join(outDir, `${i + 1}-${stage.name}.explain.txt`), explained.text);
        summary.files[`${stage.name}.explain`] = `${i + 1}-${stage.name}.explain.txt`;
      }
      say('  Explain the tail: which slow request was slowed by what (tailprobe explain, from the Go middleware\'s records)');
      for (const line of explainLines(explained)) say(`    ${line}`);
      const numbers = runNumbers(stage.name, run.metrics);
      const events = eventSummary(run.events, run.metrics.duration + run.metrics.wait);
      const gen = generatorVerdict(run.metrics.schedule(), [{ info: run.info, health: run.health, events: run.events }]);
      const result: StageResult = { stage, numbers, file, events, generatorBottleneck: gen.bottleneck, generatorReasons: gen.reasons, gcFraction: NaN, alloc: null, block: null };
      results.push(result);
      if (i === 0) say(`  -> ${tailShape(numbers).sentence}`);
      else say(`  -> Against the ${results[i - 1]!.stage.name} run: ${improvement(results[i - 1]!.numbers, numbers).sentence}`);
      say(`  -> ${goEventSentence(events, run.metrics.duration + run.metrics.wait)}`);
      if (aborted()) break;

      const phases: ProfileType[][] = i === 0 ? [['cpu', 'block'], ['allocs']] : [['cpu', 'block']];
      const profDir = join(outDir, 'profiles', stage.name);
      say();
      say(i === 0 ? 'Step 2. Profile under load (Go\'s own net/http/pprof), and look at the loudest cost' : `  Profiling the ${stage.name} service under the same load (cpu, block)...`);
      const prof = await profiledRun({ name: `${stage.name}-profile`, targets, rate, seconds: timing.profileSeconds, agentUrl: service.url, phases, outDir: profDir, signal, onProgress: live('  profiling') });
      status(null);
      for (const f of prof.failures) say(`  (a profile failed: ${f.message.split('\n')[0]})`);
      for (const [t, c] of Object.entries(prof.profiles) as Array<[string, CapturedProfile]>) summary.files[`${stage.name}.${t}`] = rel(c.file);
      const gc = gcFinding(prof.profiles.cpu?.profile ?? null);
      result.gcFraction = gc.gcFraction;
      result.block = goLockCulprit(prof.profiles.block?.profile ?? null, prof.seconds);
      if (i === 0) {
        result.alloc = goAllocCulprit(prof.profiles.allocs?.profile ?? null);
        say(`  -> ${gc.sentence}`);
        if (prof.profiles.allocs) say(indent(topTable(prof.profiles.allocs.profile, { n: 6 }), '      '));
        say(`  -> ${result.alloc.sentence}`);
        if (result.alloc.culprit) summary.culprits.push(summaryCulprit(2, stage.name, result.alloc.culprit, result.alloc.sentence));
        say(`  -> ${result.block.sentence}`);
        say('  -> As the story does, fix the garbage first and measure again: the lock may be hiding behind it.');
      } else {
        say(`  -> GC share of CPU: ${Number.isFinite(results[i - 1]!.gcFraction) ? `${(100 * results[i - 1]!.gcFraction).toFixed(1)}% -> ` : ''}${(100 * gc.gcFraction).toFixed(1)}%.`);
        say(`  -> ${result.block.sentence}`);
        if (i === 1 && result.block.culprit) {
          summary.culprits.push(summaryCulprit(3, stage.name, result.block.culprit, result.block.sentence));
          say(
            result.block.culprit.expected
              ? `  -> With the garbage gone, the lock shows: readers waiting for other readers on a map its writer changes once a second. Readers can share it: a sync.RWMutex.`
              : '  -> The block profile does not point at the map\'s read lock; the demo applies the RWMutex anyway, and measures it.',
          );
        }
      }
      await service.stop();
      service = null;
    }

    if (!aborted() && results.length === 3) {
      say();
      say('Step 5. Prove it: compare the three runs (bootstrap confidence intervals), and plot them');
      const loaded = await Promise.all(results.map(async (r) => ({ ...(await loadRun(r.file)), name: r.stage.name })));
      const cmp = compareRuns(loaded, { against: 'previous' });
      const cmpText = formatComparison(cmp);
      say(indent(cmpText));
      await writeFile(join(outDir, 'compare.txt'), cmpText);
      summary.files.compare = 'compare.txt';
      for (const c of cmp.comparisons) {
        const row = c.rows.find((r) => r.stat === 'p99')!;
        summary.verdicts.push({ before: c.before, after: c.after, stat: 'p99', verdict: row.verdict, deltaPct: row.deltaPct });
      }
      const htmlPath = join(outDir, 'report.html');
      await writeFile(htmlPath, await plotHtml(results.map((r) => r.file), { title: `tailprobe demo -service=go: broken, pooled, fixed at ${rate} req/s` }));
      summary.files.report = rel(htmlPath);
      say(`  HTML report with the three runs overlaid: ${htmlPath}`);
    }
    if (aborted()) {
      summary.status = 'interrupted';
      say();
      say('Interrupted: the service is stopped; what was measured so far is kept.');
    }
  } catch (err) {
    if (signal?.aborted) {
      summary.status = 'interrupted';
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

/** The GC timeline of a Go run in one sentence (Go has no event loop, so no stalls). */
function goEventSentence(e: EventSummary, runNs: number): string {
  if (e.gcPauses === 0) return 'The service recorded no GC cycle during the run (/debug/tailprobe/gc).';
  const share = runNs > 0 ? ` (${((100 * e.gcTotalNs) / runNs).toFixed(2)}% of the run)` : '';
  return (
    `The service recorded ${e.gcPauses} GC cycle${e.gcPauses === 1 ? '' : 's'}, ${ms(e.gcTotalNs)} stopped in all${share}, the longest ${ms(e.gcLongestNs)} ` +
    '(/debug/tailprobe/gc: stop-the-world only; the concurrent mark and assists are in the CPU profile).'
  );
}

function finish(summary: DemoSummary, results: StageResult[], say: (s?: string) => void): void {
  summary.finishedAt = new Date().toISOString();
  summary.runs = results.map((r, i) =>
    summaryRun(r.numbers, {
      alloc: r.stage.alloc,
      lock: r.stage.lock,
      file: `${i + 1}-${r.stage.name}.bin`,
      rate: summary.rate,
      gcFraction: Number.isFinite(r.gcFraction) ? Math.round(r.gcFraction * 1000) / 1000 : null,
      gcPauses: r.events.gcPauses,
      gcPauseLongestMs: Math.round(r.events.gcLongestNs / 1e3) / 1e3,
      lockWaitMs: r.block ? Math.round(r.block.waitNs / 1e3) / 1e3 : null,
      disturbance: { machineStalls: 0, machineStallLongestMs: 0, generatorBottleneck: r.generatorBottleneck, generatorReasons: r.generatorReasons },
      tailEpisode: null,
    }),
  );
  const checks: SummaryCheck[] = [];
  const add = (claim: string, measured: number, threshold: number, pass: boolean) => checks.push({ claim, measured: Math.round(measured * 1000) / 1000, threshold, pass });
  const [broken, pool, fixed] = results;
  if (broken) {
    const b = broken.numbers;
    add(`broken p99 >= ${GO_TAIL_P50_FACTOR}x p50`, b.p99 / Math.max(1, b.p50), GO_TAIL_P50_FACTOR, b.p99 >= GO_TAIL_P50_FACTOR * b.p50);
    if (broken.alloc) add('step 2: top allocating function is the handler making a fresh buffer (main.(*service).lookup)', broken.alloc.culprit?.share ?? 0, 0, broken.alloc.culprit?.expected ?? false);
  }
  if (broken && pool) add('pool: p99 lower than broken (the tail moved)', broken.numbers.p99 / Math.max(1, pool.numbers.p99), 1, pool.numbers.p99 < broken.numbers.p99);
  if (pool?.block) add("step 3: block profile top site is the map's sync.Mutex in main.(*Table).Lookup", pool.block.culprit?.share ?? 0, 0, pool.block.culprit?.expected ?? false);
  if (broken && fixed) {
    const f = broken.numbers.p99 / Math.max(1, fixed.numbers.p99);
    add(`fixed p99 >= ${GO_FIX_FACTOR}x lower than broken`, f, GO_FIX_FACTOR, f >= GO_FIX_FACTOR);
  }
  for (const v of summary.verdicts) add(`compare: ${v.before} -> ${v.after} p99 improved significantly`, v.deltaPct ?? 0, 0, v.verdict === 'improved');
  summary.checks = checks;
  if (!checks.length) return;
  const passed = checks.filter((c) => c.pass).length;
  say();
  say(`The story's shape on this machine: ${passed} of ${checks.length} checks hold${passed === checks.length ? '.' : ':'}`);
  for (const c of checks) if (!c.pass) say(`  NOT SHOWN: ${c.claim} (measured ${c.measured})`);
  const disturbed = results.filter((r) => r.generatorBottleneck);
  if (disturbed.length) say(`  The load generator fell behind in ${disturbed.map((r) => `${r.stage.name} (${r.generatorReasons.join('; ')})`).join(', ')}: those tails are partly the machine's.`);
  if (broken && fixed && summary.status === 'completed') {
    say(`  From the broken Go service to the fixed one, p99 went from ${ms(broken.numbers.p99)} to ${ms(fixed.numbers.p99)} (${(broken.numbers.p99 / Math.max(1, fixed.numbers.p99)).toFixed(1)}x) at ${summary.rate} req/s.`);
  }
}
