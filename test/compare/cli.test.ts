import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { createResultWriter, type ResultFormat } from '../../src/results/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { lognormal, result } from './synthetic.js';
import { Rng } from '../../src/compare/rng.js';

const dir = tempDir('tailprobe-compare-');
after(() => rmSync(dir, { recursive: true, force: true }));

/** A real results file, written by the real writer, in the given format. */
async function write(name: string, format: ResultFormat, latencies: number[], fail = (_i: number) => false): Promise<string> {
  const path = join(dir, name);
  const out = createWriteStream(path);
  const w = createResultWriter(out, format);
  latencies.forEach((l, i) => w.write(result(i, Math.round(l), fail(i) ? { code: 500 } : {})));
  await w.close();
  return path;
}

const slow = lognormal(101, 4000, 20, 0.9);
const fast = lognormal(102, 4000, 8, 0.5);
const fastToo = lognormal(103, 4000, 8, 0.5);
/** The same latencies in another order: a second run of one distribution whose percentiles match exactly. */
function shuffled(xs: number[], seed: number): number[] {
  const rng = new Rng(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

test('compare files of different formats: a clear improvement, and -fail-on the other way round', async () => {
  const before = await write('before.csv', 'csv', slow, (i) => i % 100 === 0);
  const after = await write('after.json', 'json', fast);
  const r = await runCli(['compare', before, after]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.toString();
  assert.match(out, /before\.csv -> .*after\.json +\(4000 vs 4000 requests; 95% CI, block bootstrap of 100ms blocks, 1000 resamples, seed 1\)/);
  for (const s of ['p50', 'p90', 'p99', 'p99.9', 'mean']) assert.match(out, new RegExp(`^${s.replace('.', '\\.')} .*\\[-\\S+, -\\S+\\] +improved$`, 'm'));
  assert.match(out, /^success .* improved$/m);
  assert.match(out, /^max .*\(none: a single request\) +n\/a$/m);

  const back = await runCli(['compare', '-fail-on=p99,p99.9', after, before]);
  assert.equal(back.code, 1);
  assert.match(back.stdout.toString(), /^p99 .* regressed$/m);
  assert.match(back.stdout.toString(), /^FAIL: a significant regression in p99, p99\.9$/m);
  // Reproducible: same files, same seed, same bytes.
  const again = await runCli(['compare', '-fail-on=p99,p99.9', after, before]);
  assert.equal(again.stdout.toString(), back.stdout.toString());
});

test('compare: the same latencies reordered, binary against gzipped JSON: no significant change, -fail-on=regression passes', async () => {
  // (Independent samples of one distribution are tested, with the false-call rate, in compare.test.ts.)
  const a = await write('a.bin', 'binary', fast);
  const bJson = await write('b.json', 'json', shuffled(fast, 5));
  const bGz = join(dir, 'b.json.gz');
  writeFileSync(bGz, gzipSync(readFileSync(bJson)));
  const r = await runCli(['compare', '-fail-on=regression', '-json', a, bGz]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout.toString());
  assert.equal(doc.failed, false);
  assert.deepEqual(doc.runs.map((x: { format: string }) => x.format), ['binary', 'json']);
  for (const row of doc.comparisons[0].rows) {
    if (row.stat === 'max') assert.equal(row.ci, null);
    else {
      assert.equal(row.verdict, 'no significant change', row.stat);
      assert.ok(row.ci[0] <= 0 && row.ci[1] >= 0);
    }
  }
  assert.equal(doc.units.latency, 'ns');
});

test('compare three runs (the demo): each against the first, or the previous; stdin as one of them', async () => {
  const broken = await write('broken.bin', 'binary', lognormal(201, 3000, 60, 1));
  const pool = await write('pool.bin', 'binary', lognormal(202, 3000, 25, 0.8));
  const rw = await write('rwmutex.bin', 'binary', lognormal(203, 3000, 5, 0.5));
  const r = await runCli(['compare', broken, pool, rw]);
  assert.equal(r.code, 0, r.stderr);
  const heads = [...r.stdout.toString().matchAll(/^(\S+) -> (\S+) /gm)].map((m) => [m[1]!.split('/').pop(), m[2]!.split('/').pop()]);
  assert.deepEqual(heads, [['broken.bin', 'pool.bin'], ['broken.bin', 'rwmutex.bin']]);
  const prev = await runCli(['compare', '-against=previous', '-json', broken, '-', rw], { input: readFileSync(pool) });
  assert.equal(prev.code, 0, prev.stderr);
  const doc = JSON.parse(prev.stdout.toString());
  assert.deepEqual(doc.comparisons.map((c: { before: string; after: string }) => [c.before.split('/').pop(), c.after.split('/').pop()]), [['broken.bin', 'stdin'], ['stdin', 'rwmutex.bin']]);
});

test('compare against a saved JSON report: deltas without intervals, and a warning saying why', async () => {
  const before = await write('r-before.bin', 'binary', slow);
  const after = await write('r-after.bin', 'binary', fast);
  const rep = await runCli(['report', '-type=json', before]);
  assert.equal(rep.code, 0, rep.stderr);
  const saved = join(dir, 'before-report.json');
  writeFileSync(saved, rep.stdout);
  const r = await runCli(['compare', '-fail-on=p99', saved, after]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /-fail-on cannot judge p99 \(.*before-report\.json -> .*r-after\.bin\): no confidence interval/);
  assert.match(r.stdout.toString(), /^p99 +\S+ +\S+ +-\S+ \(-\d+(\.\d)?%\) +\(none: no per-request data\) +n\/a$/m);
  assert.match(r.stderr, /before-report\.json: a report has no per-request data, so changes against it have no confidence interval/);
  // The report's numbers are Metrics' numbers: the same p99 as comparing the results file itself.
  const direct = await runCli(['compare', '-json', before, after]);
  const viaReport = await runCli(['compare', '-json', saved, after]);
  const p99 = (o: Buffer) => JSON.parse(o.toString()).comparisons[0].rows.find((x: { stat: string }) => x.stat === 'p99').before;
  assert.equal(p99(viaReport.stdout), p99(direct.stdout));
});

test('compare warns when runs are not comparable', async () => {
  const a = await write('w-a.bin', 'binary', fast);
  // Twice the rate (1 ms apart) and half the duration.
  const path = join(dir, 'w-b.bin');
  const w = createResultWriter(createWriteStream(path), 'binary');
  fastToo.forEach((l, i) => w.write(result(i, Math.round(l), { sendLag: i % 5 === 0 ? 30e6 : 1000 }, 1_000_000)));
  await w.close();
  const r = await runCli(['compare', a, path]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^tailprobe: compare: warning: .*w-a\.bin and .*w-b\.bin ran at different rates: 500\/s and 1000\/s achieved$/m);
  // No generator health in that file: the late sends are reported, their culprit unknown.
  assert.match(r.stderr, /^tailprobe: compare: warning: .*w-b\.bin: 20\.00% of requests were sent late .*, and it has no generator health record: whether its tail is partly the generator's is unknown$/m);
});

test('compare bad input: one line and exit 2', async () => {
  const empty = join(dir, 'empty.bin');
  writeFileSync(empty, '');
  const ok = await write('ok.bin', 'binary', fast.slice(0, 100));
  const cases: Array<[string[], RegExp]> = [
    [['compare', ok, empty], /^tailprobe: .*empty\.bin: no results$/],
    [['compare', ok], /^tailprobe: compare: need two or more runs/],
    [['compare', '-fail-on=p98', ok, ok], /^tailprobe: invalid -fail-on "p98"/],
    [['compare', '-against=last', ok, ok], /^tailprobe: compare: invalid -against "last"/],
    [['compare', '-confidence=95', ok, ok], /^tailprobe: invalid confidence 95/],
    [['compare', '-min-change=lots', ok, ok], /^tailprobe: compare: invalid value "lots" for flag -min-change/],
    [['compare', '-', '-', ok], /^tailprobe: compare: stdin \("-"\) can be only one of the runs$/],
  ];
  for (const [args, want] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), want);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  }
  const missing = await runCli(['compare', ok, join(dir, 'nope.bin')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr.trimEnd(), /^tailprobe: .*nope\.bin: no such file$/);
});
