import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { plotHtml } from '../plot/index.js';
import { topTable, type ProfileType } from '../profile/index.js';
import { formatDuration } from '../units/duration.js';
import { parseSlo } from '../slo/index.js';
import { sweep, type SweepResult, type SweepStep } from '../sweep/index.js';
import { PROBE_CONNECTIONS, SETTLE_RATE, niceRate } from './calibrate.js';
import {
  allocCulprit,
  FIX_FACTOR,
  GC_LOUD_FRACTION,
  lockCulprit,
  ms,
  TAIL_MEAN_FACTOR,
  TAIL_P50_FACTOR,
  tailShape,
  EPISODE_SHARE,
  tailEpisode,
} from './findings.js';
import { runGoDemo } from './go-demo.js';
import { DemoInterrupted, Investigation, type RunStyle, type Stage, type StageResult } from './investigation.js';
import { lookupTargets } from './load.js';
import { dominantKinds, explainClaim, explainMatches } from './explain-step.js';
import { VERDICT_SHARE } from '../explain/index.js';
import { startLookup, type LookupProcess } from './service.js';
import { summaryCulprit, type DemoSummary, type DemoSweep, type DemoSweepService } from './summary.js';

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
 * runDemo tells it in that order, one function a step (reproduce, profileUnderLoad, fixAllocations,
 * fixTheLock, prove, sweepStep); what the Go demo does alike (start a service, measure a run and
 * explain its tail, profile, compare, plot, end on every path) is in investigation.ts.
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

const BROKEN: Stage = { name: 'broken', alloc: 'fresh', lock: 'mutex', title: 'a fresh buffer per request, one Mutex on the table' };
const POOL: Stage = { name: 'pool', alloc: 'pool', lock: 'mutex', title: 'pooled buffers (tailprobe/sync BufferPool), still one Mutex' };
const FIXED: Stage = { name: 'fixed', alloc: 'pool', lock: 'rwmutex', title: 'pooled buffers and an RWMutex (readers share the lock)' };

/** The Node service is measured through the tailprobe agent, on its own port. */
const NODE_STYLE: RunStyle = {
  agentUrl: (s) => s.pprof,
  openModel: 'open model: latency counts from the scheduled send',
  records: "the agent's records",
};

export { DemoInterrupted };

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
  if (opts.service === 'go') return runGoDemo(opts, timing, outDir);

  const inv = new Investigation(opts, timing, outDir, NODE_STYLE);
  return inv.run(
    async () => {
      inv.say(`tailprobe demo: the tail-latency post-mortem, replayed on this machine (${inv.summary.machine.cores} cores, Node ${process.version})${quick ? ', quick version' : ''}`);
      inv.say(`Output folder: ${outDir}`);
      const broken = await reproduce(inv);
      await profileUnderLoad(inv, broken);
      const pool = await fixAllocations(inv, broken);
      const fixed = await fixTheLock(inv, broken, pool);
      await prove(inv);
      if (opts.sweep) inv.summary.sweep = await sweepStep(inv, fixed);
    },
    () => finish(inv),
  );
}

/** Starts the Node lookup service of `stage` (on the previous one's port) and says what it is. */
async function startService(inv: Investigation, stage: Stage): Promise<LookupProcess> {
  return inv.startService(
    (port) => startLookup({ alloc: stage.alloc, lock: stage.lock, entries: inv.timing.entries, port }, { signal: inv.signal }),
    (service) =>
      `  Started the lookup service with ${stage.title} (--alloc=${stage.alloc} --lock=${stage.lock}): ` +
      `${service.entries} table entries, ${service.heapMB} MiB of heap, built in ${formatDuration(service.buildMs * 1e6)}; ` +
      `pid ${service.pid}, ${service.url}, agent ${service.pprof}/debug/pprof/`,
  );
}

/** Step 1: the service with both faults, the rate calibrated on it, a constant-rate attack, the report (small mean, fat p99). */
async function reproduce(inv: Investigation): Promise<StageResult> {
  const { say } = inv;
  say();
  say('Step 1. Reproduce the tail before you profile it');
  await startService(inv, BROKEN);
  await inv.chooseRate(
    `  Calibrating the rate to this machine: how much can the broken service serve at most? (${SETTLE_RATE} req/s to settle it, then closed-loop with ${PROBE_CONNECTIONS} connections; ${formatDuration(inv.timing.calibrateNs)} in all)`,
    (p) => say(`    ${p.throughput.toFixed(0)} req/s with ${p.connections} connections busy (p50 ${ms(p.p50)}, p99 ${ms(p.p99)})`),
  );
  const broken = await inv.measure(BROKEN);
  say(`  -> ${tailShape(broken.numbers).sentence}`);
  say(`  -> ${broken.events.sentence}`);
  return broken;
}

/** Step 2: the same load while the agent profiles the broken service: the GC's share of the CPU, the top allocating function. */
async function profileUnderLoad(inv: Investigation, broken: StageResult): Promise<void> {
  const { say, summary } = inv;
  const phases: ProfileType[][] = [['cpu', 'block'], ['allocs']];
  say();
  say('Step 2. Profile under load, and look at the loudest cost');
  say(`  Profiling under the same load at ${inv.rate} req/s: ${phases.flat().join(', ')} from the agent -> ${inv.rel(inv.profileDir(BROKEN))}/`);
  const prof = await inv.profile(broken, phases);
  const gc = broken.gc!;
  const block = (broken.block = lockCulprit(prof.profiles.block?.profile ?? null, prof.seconds));
  const allocs = (broken.allocs = allocCulprit(prof.profiles.allocs?.profile ?? null));
  say(`  -> ${gc.sentence}`);
  if (prof.profiles.allocs) say(inv.indent(topTable(prof.profiles.allocs.profile, { n: 6 }), '      '));
  say(`  -> ${allocs.sentence}`);
  if (allocs.culprit) summary.culprits.push(summaryCulprit(2, BROKEN.name, allocs.culprit, allocs.sentence));
  if (gc.loud) say('  -> The loudest cost is the garbage: fix the allocation first (the story\'s sync.Pool; here tailprobe/sync\'s BufferPool).');
  else say('  -> The GC is not the loud cost here; the demo applies the story\'s fixes in its order anyway, and measures each.');
  if (block.culprit) {
    say(`  (The block profile shows lock waits here too, ${formatDuration(Math.round(block.waitNs / 1e6) * 1e6)} in the window; as the story does, the demo fixes the loudest cost first and measures again.)`);
  }
  await inv.stopService();
}

/** Step 3: pooled buffers, measured again: the tail moves, not all the way; the block profile now shows the lock the garbage was hiding. */
async function fixAllocations(inv: Investigation, broken: StageResult): Promise<StageResult> {
  const { say, summary } = inv;
  say();
  say('Step 3. Fix the loudest cost first: pool the response buffers, and measure again');
  await startService(inv, POOL);
  const pool = await inv.measure(POOL);
  inv.sayAgainst(broken, pool);
  const shape = tailShape(pool.numbers);
  say(
    pool.numbers.p99 < broken.numbers.p99
      ? `  -> The tail moved, ${shape.p99OverP50 >= 5 ? `but not all the way: p99 is still ${shape.p99OverP50.toFixed(0)}x the median` : `and p99 is now ${shape.p99OverP50.toFixed(1)}x the median`}.`
      : '  -> The tail did NOT move: the pool alone did not help p99 on this machine.',
  );
  say(`  -> ${pool.events.sentence}`);

  const prof = await inv.profileAgain(pool, broken);
  const block = (pool.block = lockCulprit(prof.profiles.block?.profile ?? null, prof.seconds));
  if (prof.profiles.block) say(inv.indent(topTable(prof.profiles.block.profile, { n: 4 }), '      '));
  say(`  -> ${block.sentence}`);
  if (block.culprit) {
    summary.culprits.push(summaryCulprit(3, POOL.name, block.culprit, block.sentence));
    say(
      block.culprit.expected
        ? `  -> With the garbage gone, the next cost shows: ${(100 * block.culprit.share).toFixed(1)}% of the waiting is readers waiting for ` +
            `other readers, on a table its writer changes once a second while ${inv.rate} reads a second go through the lock. Readers can share it: an RWMutex.`
        : '  -> The block profile does not point at the table\'s read lock, so the next fix (an RWMutex on the table) is not what this data asks for; the demo measures it anyway.',
    );
  }
  await inv.stopService();
  return pool;
}

/** Step 4: readers share an RWMutex, measured again: the lock waits are gone. */
async function fixTheLock(inv: Investigation, broken: StageResult, pool: StageResult): Promise<StageResult> {
  const { say } = inv;
  say();
  say('Step 4. Fix the lock: readers share an RWMutex, and measure again');
  await startService(inv, FIXED);
  const fixed = await inv.measure(FIXED);
  inv.sayAgainst(pool, fixed);
  const f = broken.numbers.p99 / Math.max(1, fixed.numbers.p99);
  say(`  -> From the broken service to the fixed one: p99 ${ms(broken.numbers.p99)} -> ${ms(fixed.numbers.p99)}, ${f.toFixed(1)}x lower${f >= FIX_FACTOR ? '' : ` (the story's bar is ${FIX_FACTOR}x: not reached here)`}.`);
  say(`  -> ${fixed.events.sentence}`);

  const prof = await inv.profileAgain(fixed, pool);
  const block = (fixed.block = lockCulprit(prof.profiles.block?.profile ?? null, prof.seconds));
  say(`  -> ${block.sentence}`);
  const before = pool.block;
  if (before && before.waitNs > 0) {
    say(`  -> Lock waiting in the profile window: ${formatDuration(Math.round(before.waitNs / 1e3) * 1e3)} -> ${formatDuration(Math.round(block.waitNs / 1e3) * 1e3)}.`);
  }
  await inv.stopService();
  return fixed;
}

/** Step 5: compare the three runs (confidence intervals, verdicts), say whether a p99 rests on one episode, plot them. */
async function prove(inv: Investigation): Promise<void> {
  const { say, summary, results } = inv;
  const { cmp, loaded } = await inv.compare();
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
  for (const v of summary.verdicts) {
    say(`  -> ${v.before} -> ${v.after}: p99 ${v.verdict === 'improved' ? 'improved significantly' : v.verdict === 'regressed' ? 'REGRESSED significantly' : `shows ${v.verdict}`} (${v.deltaPct === null ? 'n/a' : `${v.deltaPct.toFixed(1)}%`}).`);
  }
  await inv.plot(`tailprobe demo: broken, pooled, fixed at ${inv.rate} req/s`);
  inv.checkAbort();
}

/** Fills the summary's runs and checks from what was measured, and states the story's bar. */
function finish(inv: Investigation): void {
  const { summary, say } = inv;
  inv.recordRuns(true);
  const [broken, pool, fixed] = inv.results;
  const add = inv.check.bind(inv);
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
  for (const r of [broken, pool, fixed]) {
    if (!r?.explained.explanation) continue;
    const stage = r.stage.name as 'broken' | 'pool' | 'fixed';
    // Measured: the share of the slow requests' excess that the service's dominant causes hold.
    add(explainClaim(stage), Math.round(1000 * dominantKinds(r.explained.explanation).share) / 1000, VERDICT_SHARE, explainMatches(stage, r.explained));
  }
  if (!inv.sayChecks()) return;
  const disturbed = inv.results.filter((r) => r.events.machineStalls > 0 || r.generator.bottleneck);
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
async function sweepStep(inv: Investigation, fixed: StageResult): Promise<DemoSweep> {
  const { say, summary, signal, quick } = inv;
  say();
  say('Step 6. Sweep: where the knee is, broken and fixed');
  const rates = [...new Set(SWEEP_FACTORS.map((f) => niceRate(inv.rate * f)))];
  // The SLO: a p99 the fixed service met with room to spare (3x its measured p99, at least 20 ms).
  const limitMs = Math.max(20, Math.ceil((3 * fixed.numbers.p99) / 1e6 / 5) * 5);
  const slo = parseSlo(`p99<${limitMs}ms`);
  const stepNs = quick ? 1.5e9 : 3e9;
  const warmupNs = quick ? 0.5e9 : 1e9;
  say(`  Rates ${rates.join(', ')} req/s, ${formatDuration(stepNs)} each after ${formatDuration(warmupNs)} of warm-up; SLO ${slo.text}.`);
  const out: Partial<Record<'broken' | 'fixed', DemoSweepService>> = {};
  const results: Partial<Record<'broken' | 'fixed', SweepResult>> = {};
  for (const stage of [BROKEN, FIXED] as Array<Stage & { name: 'broken' | 'fixed' }>) {
    const svc = await startLookup({ alloc: stage.alloc, lock: stage.lock, entries: inv.timing.entries }, { signal });
    inv.service = svc;
    try {
      say(`  Sweeping the ${stage.name} service (--alloc=${stage.alloc} --lock=${stage.lock})...`);
      const dir = join(inv.outDir, `sweep-${stage.name}`);
      const res = await sweep({
        attack: { targets: lookupTargets(svc.url, svc.entries), timeoutNs: 10e9, name: `sweep-${stage.name}`, signal },
        rates: { kind: 'grid', rates },
        stepNs,
        warmupNs,
        slo,
        outDir: dir,
        signal,
      });
      results[stage.name] = res;
      out[stage.name] = {
        knee: res.sloKnee,
        latencyKnee: res.latencyKnee,
        steps: res.steps.map((st) => ({ rate: st.rate, p50: Math.round(st.p50 / 1e3) / 1e3, p99: Math.round(st.p99 / 1e3) / 1e3, pass: st.pass })),
        file: res.file ? inv.rel(res.file) : null,
      };
      if (res.file) summary.files[`sweep.${stage.name}`] = inv.rel(res.file);
    } finally {
      await inv.stopService();
    }
    inv.checkAbort();
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
    const page = join(inv.outDir, `sweep-${name}.html`);
    await writeFile(page, await plotHtml([res.file], { title: `tailprobe demo: sweep of the ${name} service` }));
    summary.files[`sweep.${name}.report`] = inv.rel(page);
    say(`  Sweep plot: ${page}`);
  }
  return { slo: slo.text, rates, broken: out.broken!, fixed: out.fixed! };
}
