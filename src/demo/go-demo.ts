import { topTable, type ProfileType } from '../profile/index.js';
import { formatDuration } from '../units/duration.js';
import { PROBE_CONNECTIONS, SETTLE_RATE } from './calibrate.js';
import { ms, tailShape, type EventSummary } from './findings.js';
import { goAllocCulprit, goLockCulprit } from './go-findings.js';
import { buildGoLookup, goFix, startGoLookup } from './go-service.js';
import { Investigation, type RunStyle, type Stage, type StageResult } from './investigation.js';
import type { LookupProcess } from './service.js';
import { summaryCulprit, type DemoSummary } from './summary.js';
import type { DemoOptions, DemoTiming } from './demo.js';

/**
 * `tailprobe demo -service=go`: the post-mortem replayed on the Go lookup service
 * (examples/lookup-go), built here from source with the local Go toolchain. The same steps as the
 * Node demo (calibrate, reproduce, profile under load through the real net/http/pprof, fix the
 * garbage with a sync.Pool, find the lock in the block profile, fix it with an RWMutex, compare,
 * plot), told by the same functions' names and done by the same code (investigation.ts); the
 * findings read Go's profiles (go-findings.ts). Every sentence about a cause is computed from what
 * was measured.
 */

/** The Go demo's bar (docs/go.md): a fat tail, the map's mutex in the block profile, a real fix. */
export const GO_TAIL_P50_FACTOR = 5;
export const GO_FIX_FACTOR = 3;

const BROKEN: Stage = { name: 'broken', alloc: 'fresh', lock: 'mutex', title: 'a fresh bytes.Buffer per response, one sync.Mutex on the map' };
const POOL: Stage = { name: 'pool', alloc: 'pool', lock: 'mutex', title: 'buffers from a sync.Pool (Reset before use), still the sync.Mutex' };
const FIXED: Stage = { name: 'fixed', alloc: 'pool', lock: 'rwmutex', title: 'the sync.Pool and a sync.RWMutex (readers share the map)' };

/** The Go service serves net/http/pprof and its request records (/debug/tailprobe/) on its own port. */
const GO_STYLE: RunStyle = {
  agentUrl: (s) => s.url,
  openModel: 'open model',
  records: "the Go middleware's records",
};

export async function runGoDemo(opts: DemoOptions, timing: DemoTiming, outDir: string): Promise<{ summary: DemoSummary; outDir: string }> {
  const inv = new Investigation(opts, timing, outDir, GO_STYLE);
  return inv.run(
    async () => {
      inv.say(`tailprobe demo -service=go: the tail-latency post-mortem, replayed on the Go lookup service (${inv.summary.machine.cores} cores)${inv.quick ? ', quick version' : ''}`);
      inv.say(`Output folder: ${outDir}`);
      if (opts.sweep) inv.say('(-sweep is not done for -service=go: the rate sweep runs on the Node service only, for now.)');
      const built = buildGoLookup(outDir);
      inv.say(`Built examples/lookup-go with ${built.goVersion} -> ${inv.rel(built.binary)}`);
      const broken = await reproduce(inv, built.binary);
      await profileUnderLoad(inv, broken);
      const pool = await fixAllocations(inv, built.binary, broken);
      await fixTheLock(inv, built.binary, pool);
      await prove(inv);
    },
    () => finish(inv),
  );
}

/** Starts the built Go service of `stage` (on the previous one's port) and says what it is. */
async function startService(inv: Investigation, binary: string, stage: Stage): Promise<LookupProcess> {
  return inv.startService(
    (port) => startGoLookup(binary, { alloc: stage.alloc, lock: stage.lock, entries: inv.opts.entries, port }, { signal: inv.signal }),
    (service) =>
      `  Started the Go lookup service with ${stage.title} (-fix=${goFix(stage.alloc, stage.lock)}): ${service.entries} entries, ${service.heapMB} MiB of heap; ` +
      `pid ${service.pid}, ${service.url} (net/http/pprof and /debug/tailprobe/ on the same port)`,
  );
}

/** The measured run's GC cycles, as the Go service recorded them. */
function sayGcCycles(inv: Investigation, r: StageResult): void {
  inv.say(`  -> ${goEventSentence(r.events, r.runNs)}`);
}

/** Step 1: the service with both faults, the rate calibrated on it, a constant-rate attack, the report. */
async function reproduce(inv: Investigation, binary: string): Promise<StageResult> {
  const { say } = inv;
  say();
  say('Step 1. Reproduce the tail before you profile it');
  await startService(inv, binary, BROKEN);
  await inv.chooseRate(
    `  Calibrating the rate: the broken service's capacity (${SETTLE_RATE} req/s to settle it, then closed-loop with ${PROBE_CONNECTIONS} connections; ${formatDuration(inv.timing.calibrateNs)})`,
  );
  const broken = await inv.measure(BROKEN);
  say(`  -> ${tailShape(broken.numbers).sentence}`);
  sayGcCycles(inv, broken);
  return broken;
}

/** Step 2: the same load through Go's own net/http/pprof: the GC's share, the top allocator, the lock waits. */
async function profileUnderLoad(inv: Investigation, broken: StageResult): Promise<void> {
  const { say, summary } = inv;
  const phases: ProfileType[][] = [['cpu', 'block'], ['allocs']];
  say();
  say('Step 2. Profile under load (Go\'s own net/http/pprof), and look at the loudest cost');
  const prof = await inv.profile(broken, phases);
  const block = (broken.block = goLockCulprit(prof.profiles.block?.profile ?? null, prof.seconds));
  const allocs = (broken.allocs = goAllocCulprit(prof.profiles.allocs?.profile ?? null));
  say(`  -> ${broken.gc!.sentence}`);
  if (prof.profiles.allocs) say(inv.indent(topTable(prof.profiles.allocs.profile, { n: 6 }), '      '));
  say(`  -> ${allocs.sentence}`);
  if (allocs.culprit) summary.culprits.push(summaryCulprit(2, BROKEN.name, allocs.culprit, allocs.sentence));
  say(`  -> ${block.sentence}`);
  say('  -> As the story does, fix the garbage first and measure again: the lock may be hiding behind it.');
  await inv.stopService();
}

/** Step 3: a sync.Pool of buffers, measured again; the block profile now shows the map's lock. */
async function fixAllocations(inv: Investigation, binary: string, broken: StageResult): Promise<StageResult> {
  const { say, summary } = inv;
  say();
  say('Step 3. Fix the loudest cost first: a sync.Pool of buffers, and measure again');
  await startService(inv, binary, POOL);
  const pool = await inv.measure(POOL);
  inv.sayAgainst(broken, pool);
  sayGcCycles(inv, pool);

  const prof = await inv.profileAgain(pool, broken);
  const block = (pool.block = goLockCulprit(prof.profiles.block?.profile ?? null, prof.seconds));
  say(`  -> ${block.sentence}`);
  if (block.culprit) {
    summary.culprits.push(summaryCulprit(3, POOL.name, block.culprit, block.sentence));
    say(
      block.culprit.expected
        ? `  -> With the garbage gone, the lock shows: readers waiting for other readers on a map its writer changes once a second. Readers can share it: a sync.RWMutex.`
        : '  -> The block profile does not point at the map\'s read lock; the demo applies the RWMutex anyway, and measures it.',
    );
  }
  await inv.stopService();
  return pool;
}

/** Step 4: a sync.RWMutex, measured again. */
async function fixTheLock(inv: Investigation, binary: string, pool: StageResult): Promise<StageResult> {
  const { say } = inv;
  say();
  say('Step 4. Fix the lock: a sync.RWMutex, and measure again');
  await startService(inv, binary, FIXED);
  const fixed = await inv.measure(FIXED);
  inv.sayAgainst(pool, fixed);
  sayGcCycles(inv, fixed);

  const prof = await inv.profileAgain(fixed, pool);
  const block = (fixed.block = goLockCulprit(prof.profiles.block?.profile ?? null, prof.seconds));
  say(`  -> ${block.sentence}`);
  await inv.stopService();
  return fixed;
}

/** Step 5: compare the three runs and plot them. */
async function prove(inv: Investigation): Promise<void> {
  await inv.compare();
  await inv.plot(`tailprobe demo -service=go: broken, pooled, fixed at ${inv.rate} req/s`);
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

/** Fills the summary's runs and checks from what was measured (the Go demo's bar), and states it. */
function finish(inv: Investigation): void {
  const { summary, say } = inv;
  inv.recordRuns(false);
  const add = inv.check.bind(inv);
  const [broken, pool, fixed] = inv.results;
  if (broken) {
    const b = broken.numbers;
    add(`broken p99 >= ${GO_TAIL_P50_FACTOR}x p50`, b.p99 / Math.max(1, b.p50), GO_TAIL_P50_FACTOR, b.p99 >= GO_TAIL_P50_FACTOR * b.p50);
    if (broken.allocs) add('step 2: top allocating function is the handler making a fresh buffer (main.(*service).lookup)', broken.allocs.culprit?.share ?? 0, 0, broken.allocs.culprit?.expected ?? false);
  }
  if (broken && pool) add('pool: p99 lower than broken (the tail moved)', broken.numbers.p99 / Math.max(1, pool.numbers.p99), 1, pool.numbers.p99 < broken.numbers.p99);
  if (pool?.block) add("step 3: block profile top site is the map's sync.Mutex in main.(*Table).Lookup", pool.block.culprit?.share ?? 0, 0, pool.block.culprit?.expected ?? false);
  if (broken && fixed) {
    const f = broken.numbers.p99 / Math.max(1, fixed.numbers.p99);
    add(`fixed p99 >= ${GO_FIX_FACTOR}x lower than broken`, f, GO_FIX_FACTOR, f >= GO_FIX_FACTOR);
  }
  for (const v of summary.verdicts) add(`compare: ${v.before} -> ${v.after} p99 improved significantly`, v.deltaPct ?? 0, 0, v.verdict === 'improved');
  if (!inv.sayChecks()) return;
  const disturbed = inv.results.filter((r) => r.generator.bottleneck);
  if (disturbed.length) say(`  The load generator fell behind in ${disturbed.map((r) => `${r.stage.name} (${r.generator.reasons.join('; ')})`).join(', ')}: those tails are partly the machine's.`);
  if (broken && fixed && summary.status === 'completed') {
    say(`  From the broken Go service to the fixed one, p99 went from ${ms(broken.numbers.p99)} to ${ms(fixed.numbers.p99)} (${(broken.numbers.p99 / Math.max(1, fixed.numbers.p99)).toFixed(1)}x) at ${summary.rate} req/s.`);
  }
}
