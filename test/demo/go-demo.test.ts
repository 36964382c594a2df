import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DemoSummary } from '../../src/demo/summary.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { alive } from '../helpers/servers.js';
import { GO_CANDIDATES, requireTool } from '../helpers/tools.js';

/**
 * `tailprobe demo -service=go -quick` end to end: the Go lookup service built from source with the
 * system's Go, real load, Go's real net/http/pprof. The attributions are exact (the profiles must
 * name the handler's buffer and the map's mutex); the latency shapes use the bar of docs/go.md,
 * with one more run when a busy machine blurs them.
 */

async function goDemo(): Promise<{ stdout: string; summary: DemoSummary }> {
  const out = join(tempDir('tailprobe-go-demo-test-'), 'demo');
  const run = await runCli(['demo', '-service=go', '-quick', `-out=${out}`], { timeoutMs: 150_000 });
  const stdout = run.stdout.toString();
  // 0 when every check of the story holds; 99 (and one line saying how many did not) otherwise:
  // the checks this test stands on are asserted below, the rest are the story's own report.
  assert.ok(run.code === 0 || run.code === 99, `exit ${run.code}\n${run.stderr}\n${stdout.slice(-3000)}`);
  if (run.code === 99) assert.match(run.stderr, /^tailprobe: demo: \d+ of \d+ checks did not hold on this machine/);
  for (const step of ['Step 1.', 'Step 2.', 'Step 3.', 'Step 4.', 'Step 5.']) assert.ok(stdout.includes(step), `missing ${step}`);
  const pids = [...stdout.matchAll(/; pid (\d+),/g)].map((m) => Number(m[1]));
  assert.equal(pids.length, 3);
  for (const pid of pids) assert.equal(alive(pid), false, `service pid ${pid} still running`);

  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as DemoSummary;
  assert.equal(summary.status, 'completed');
  assert.deepEqual(summary.runs.map((r) => [r.name, r.alloc, r.lock]), [
    ['broken', 'fresh', 'mutex'],
    ['pool', 'pool', 'mutex'],
    ['fixed', 'pool', 'rwmutex'],
  ]);
  for (const r of summary.runs) {
    assert.ok(r.p50 > 0 && r.p50 <= r.p99 && r.p99 <= r.max, `${r.name}: percentiles in order`);
    assert.ok(r.success > 0.99, `${r.name}: success ${r.success}`);
  }
  assert.match(stdout, /Block profile \(the profiler's and net\/http's own waits left out\): \d+ waits/);
  for (const f of ['compare.txt', 'report.html', 'profiles/broken/cpu.pb.gz', 'profiles/broken/allocs.pb.gz', 'profiles/pool/block.pb.gz', 'lookup-go']) {
    assert.ok(existsSync(join(out, f)), f);
  }
  rmSync(dirname(out), { recursive: true, force: true });
  return { stdout, summary };
}

/**
 * What the issue asks of the Go demo: the tail (broken p99 >= 5x its p50), the profiles' culprits
 * (step 2 the handler's fresh buffer, step 3 the map's sync.Mutex), and the fix (fixed p99 >= 3x
 * lower). A busy machine can blur each, so a miss is measured once more before it fails.
 */
function shapeFailures(s: DemoSummary): string[] {
  const [broken, , fixed] = s.runs as [DemoSummary['runs'][0], DemoSummary['runs'][0], DemoSummary['runs'][0]];
  const out: string[] = [];
  const alloc = s.culprits.find((c) => c.step === 2);
  if (!alloc || alloc.function !== 'main.(*service).lookup' || !/examples\/lookup-go\/main\.go$/.test(alloc.file)) out.push(`step 2 culprit ${JSON.stringify(alloc ?? null)}`);
  const lock = s.culprits.find((c) => c.step === 3);
  if (!lock || lock.run !== 'pool' || lock.function !== 'main.(*Table).Lookup' || !/examples\/lookup-go\/table\.go$/.test(lock.file) || lock.lock !== 'sync.Mutex' || lock.expected !== true) {
    out.push(`step 3 culprit ${JSON.stringify(lock ?? null)}`);
  }
  if (!(broken.p99 >= 5 * broken.p50)) out.push(`broken p99 ${broken.p99} ms is not >= 5x its p50 ${broken.p50} ms`);
  if (!(fixed.p99 * 3 <= broken.p99)) out.push(`fixed p99 ${fixed.p99} ms is not >= 3x lower than the broken p99 ${broken.p99} ms`);
  return out;
}

test('demo -service=go -quick: the Go service reproduces the tail, the profiles name the buffer and the mutex, the fixes cut p99', { timeout: 360_000 }, async (t) => {
  if (!requireTool(t, 'go', GO_CANDIDATES, 'golang-go')) return;
  const first = await goDemo();
  let failures = shapeFailures(first.summary);
  if (failures.length) {
    process.stderr.write(`\n*** demo -service=go -quick: ${failures.join('; ')}; measuring once more\n`);
    const second = await goDemo();
    failures = shapeFailures(second.summary);
    if (failures.length) process.stderr.write(`\n*** demo -service=go -quick, second run:\n${second.stdout}\n`);
  }
  assert.deepEqual(failures, []);
});

test('demo -service=go without a Go toolchain says so in one line and exits 1', async () => {
  const empty = tempDir('tailprobe-no-go-');
  try {
    const run = await runCli(['demo', '-service=go', '-quick', `-out=${join(empty, 'out')}`], { env: { PATH: empty, GOROOT: '' }, timeoutMs: 30_000 });
    assert.equal(run.code, 1, run.stderr);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /^tailprobe: demo: -service=go needs the Go toolchain .* no `go` on PATH/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
