import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DemoSummary } from '../../src/demo/summary.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { alive } from '../helpers/servers.js';

/**
 * `tailprobe demo -quick` end to end, as the README runs it: a real service with the story's two
 * faults, real load, real profiles. The latency bounds are loose (a shared 2-core machine is noisy);
 * the attributions are exact (the profiles must name the functions the faults live in).
 */

interface QuickRun {
  out: string;
  stdout: string;
  summary: DemoSummary;
}

/** One `demo -quick`, with everything that does not depend on the machine's noise checked. */
async function quickDemo(): Promise<QuickRun> {
  const out = join(tempDir('tailprobe-demo-test-'), 'demo');
  const run = await runCli(['demo', '-quick', `-out=${out}`], { timeoutMs: 110_000 });
  const stdout = run.stdout.toString();
  // 0 when every check of the story holds; 99 (and one line saying how many did not) otherwise.
  assert.ok(run.code === 0 || run.code === 99, `exit ${run.code}\n${run.stderr}\n${stdout.slice(-3000)}`);

  // The narration, step by step, names the folder at the end.
  for (const step of ['Step 1.', 'Step 2.', 'Step 3.', 'Step 4.', 'Step 5.']) assert.ok(stdout.includes(step), `missing ${step}`);
  assert.ok(stdout.trimEnd().endsWith(`All outputs are in ${out} (summary.json, results *.bin, profiles/, compare.txt, report.html).`));

  // Every service it started is gone.
  const pids = [...stdout.matchAll(/; pid (\d+),/g)].map((m) => Number(m[1]));
  assert.equal(pids.length, 3);
  for (const pid of pids) assert.equal(alive(pid), false, `service pid ${pid} still running`);

  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as DemoSummary;
  assert.equal(summary.status, 'completed');
  assert.equal(summary.quick, true);
  assert.ok(summary.rate > 0);
  assert.deepEqual(summary.runs.map((r) => [r.name, r.alloc, r.lock]), [
    ['broken', 'fresh', 'mutex'],
    ['pool', 'pool', 'mutex'],
    ['fixed', 'pool', 'rwmutex'],
  ]);
  for (const r of summary.runs) {
    for (const k of ['p50', 'p90', 'p99', 'p99.9', 'mean', 'max'] as const) assert.ok(r[k] > 0 && Number.isFinite(r[k]), `${r.name}.${k} = ${r[k]}`);
    assert.ok(r.p50 <= r.p90 && r.p90 <= r.p99 && r.p99 <= r['p99.9'] && r['p99.9'] <= r.max, `${r.name}: percentiles in order`);
    assert.ok(r.success > 0.99, `${r.name}: success ${r.success}`);
    assert.ok(existsSync(join(out, r.file)), r.file);
  }

  // The culprits, from the profiles: the response assembly's garbage, then the table's read lock.
  const alloc = summary.culprits.find((c) => c.step === 2);
  assert.ok(alloc, 'step 2 named a culprit');
  assert.equal(alloc.kind, 'allocation');
  assert.equal(alloc.run, 'broken');
  assert.equal(alloc.function, 'renderFresh');
  assert.match(alloc.file, /examples\/lookup\/render\.js$/);
  assert.equal(alloc.expected, true);
  const lock = summary.culprits.find((c) => c.step === 3);
  assert.ok(lock, 'step 3 named a culprit');
  assert.equal(lock.kind, 'lock');
  assert.equal(lock.run, 'pool');
  assert.match(lock.function, /(^|\.)lookup$/);
  assert.match(lock.file, /examples\/lookup\/table\.js$/);
  assert.equal(lock.lock, 'lookup.table');
  assert.equal(lock.expected, true);
  assert.ok(lock.share > 0.5, `the read lock is most of the waiting (${lock.share})`);

  // What it wrote: results, profiles (pprof), the comparison, the plot.
  for (const f of ['compare.txt', 'report.html', 'profiles/broken/cpu.pb.gz', 'profiles/broken/allocs.pb.gz', 'profiles/broken/block.pb.gz', 'profiles/pool/block.pb.gz', 'profiles/fixed/block.pb.gz']) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  for (const name of ['broken', 'pool', 'fixed']) assert.ok(html.includes(name), `plot names run ${name}`);
  const compare = readFileSync(join(out, 'compare.txt'), 'utf8');
  assert.match(compare, /^broken -> pool /m);
  assert.match(compare, /^pool -> fixed /m);
  assert.equal(summary.verdicts.length, 2);
  assert.ok(summary.checks.length >= 8);
  const failed = summary.checks.filter((c) => !c.pass).length;
  if (failed === 0) assert.equal(run.code, 0, run.stderr);
  else {
    assert.equal(run.code, 99);
    assert.ok(run.stderr.includes(`tailprobe: demo: ${failed} of ${summary.checks.length} checks did not hold on this machine`), run.stderr);
  }
  for (const r of summary.runs) {
    assert.ok(r.tailEpisode !== null, `${r.name}: where its slowest 1% fell was computed`);
    assert.ok(r.tailEpisode.share > 0 && r.tailEpisode.share <= 1, `${r.name}: episode share ${r.tailEpisode.share}`);
  }
  // Sentences about causes come with their numbers.
  assert.match(stdout, /CPU profile: the garbage collector took \d+\.\d% of the CPU samples/);
  assert.match(stdout, /top allocating function is renderFresh \(/);
  assert.match(stdout, /Block profile: \d+ waits for a lock/);
  assert.equal([...stdout.matchAll(/Explain the tail: which slow request was slowed by what/g)].length, 3);
  for (const n of ['1-broken', '2-pool', '3-fixed']) assert.ok(existsSync(join(out, `${n}.capture.json`)) && existsSync(join(out, `${n}.explain.txt`)), n);
  // Checked: the folder (tens of MB of results and profiles) is not kept. A failing run keeps it.
  rmSync(dirname(out), { recursive: true, force: true });
  return { out, stdout, summary };
}

/** The latency shapes, with bounds a noisy machine keeps: a fat tail, and fixes that halve it at least. */
function shapeFailures(s: DemoSummary): string[] {
  const [broken, , fixed] = s.runs as [DemoSummary['runs'][0], DemoSummary['runs'][0], DemoSummary['runs'][0]];
  const pool = s.runs[1]!;
  const out: string[] = [];
  if (!(broken.p99 > 3 * broken.p50)) out.push(`broken p99 ${broken.p99} ms is not > 3x its p50 ${broken.p50} ms`);
  if (!(fixed.p99 < broken.p99 / 2)) out.push(`fixed p99 ${fixed.p99} ms is not < half the broken p99 ${broken.p99} ms`);
  if (!(pool.gcFraction !== null && broken.gcFraction !== null && pool.gcFraction < broken.gcFraction)) {
    out.push(`GC share did not drop with the pool (${broken.gcFraction} -> ${pool.gcFraction})`);
  }
  // explain, request by request: broken and pool = the lock dominates (GC inside broken's), fixed = nothing of the service's.
  const explained = s.checks.filter((c) => c.claim.startsWith('explain: '));
  if (explained.length !== 3) out.push(`explain checked ${explained.length} runs, not 3`);
  for (const c of explained) if (!c.pass) out.push(`${c.claim}: not so (dominant causes hold ${c.measured} of the excess)`);
  return out;
}

test('demo -quick: the story end to end, with the right culprits, in one folder', { timeout: 240_000 }, async () => {
  const first = await quickDemo();
  let failures = shapeFailures(first.summary);
  if (failures.length) {
    // The machine is shared: a burst of other work during one run lands in its tail (the demo says
    // so in each run's `disturbance`). The attributions above held; the shapes get one more run.
    const why = first.summary.runs.map((r) => `${r.name}: ${JSON.stringify(r.disturbance)}`).join('; ');
    process.stderr.write(`\n*** demo -quick: ${failures.join('; ')} (disturbance ${why}); measuring once more\n`);
    const second = await quickDemo();
    failures = shapeFailures(second.summary);
    // What the demo measured and said, so a failure in CI can be understood from its log alone.
    if (failures.length) process.stderr.write(`\n*** demo -quick, second run:\n${second.stdout}\n`);
  }
  assert.deepEqual(failures, []);
});
