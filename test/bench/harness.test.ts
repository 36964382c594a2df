import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';
import { loadBenchFile, runBenchmarks, type BenchRun } from '../../src/bench/index.js';

const FIXTURES = join(REPO_ROOT, 'dist', 'test', 'bench', 'fixtures');

/**
 * The harness's own accuracy, on benchmarks whose allocation is known. Bounds are tolerant (V8's
 * object sizes and folding vary by version and by JIT tier) but far apart enough to fail on a
 * harness that does not count, counts setup, or misses off-heap bytes. Never bounds on time.
 */
test('B/op and allocs/op on known allocations', async () => {
  const { benchmarks } = await loadBenchFile(join(FIXTURES, 'known.bench.js'));
  const runs = new Map<string, BenchRun>();
  const results = await runBenchmarks(benchmarks, { count: 1, benchtimeNs: 30e6, onRun: (b, r) => runs.set(b.name, r) });
  assert.equal(results.length, 6);
  const get = (name: string) => {
    const r = runs.get(name);
    assert.ok(r, `${name} ran`);
    assert.ok(r.n >= 1 && r.nsPerOp > 0);
    return r;
  };

  const nothing = get('Nothing');
  assert.ok(nothing.bytesPerOp! < 4, `Nothing: ${nothing.bytesPerOp} B/op`);
  assert.ok(nothing.allocsPerOp! < 0.05, `Nothing: ${nothing.allocsPerOp} allocs/op`);

  const objs = get('Objects1000');
  assert.ok(objs.allocsPerOp! >= 950 && objs.allocsPerOp! <= 1100, `Objects1000: ${objs.allocsPerOp} allocs/op`);
  assert.ok(objs.heapBytesPerOp! >= 1000 * 12 && objs.heapBytesPerOp! <= 1000 * 64, `Objects1000: ${objs.heapBytesPerOp} B/op`);
  assert.equal(objs.externalBytesPerOp, 0);

  const buf = get('Buffer1KiB');
  assert.ok(Math.abs(buf.externalBytesPerOp! - 1024) <= 16, `Buffer1KiB: ${buf.externalBytesPerOp} off-heap B/op`);
  assert.ok(buf.heapBytesPerOp! > 16 && buf.heapBytesPerOp! < 1024, `Buffer1KiB: ${buf.heapBytesPerOp} heap B/op`);
  assert.equal(buf.bytesPerOp, Math.round((buf.heapBytesPerOp! + buf.externalBytesPerOp!) * 100) / 100);
  assert.ok(buf.allocsPerOp! >= 1 && buf.allocsPerOp! <= 4, `Buffer1KiB: ${buf.allocsPerOp} allocs/op`);

  const op = get('OpStyleObject');
  assert.ok(op.allocsPerOp! >= 0.9 && op.allocsPerOp! <= 1.1, `OpStyleObject: ${op.allocsPerOp} allocs/op`);
  assert.ok(op.bytesPerOp! >= 12 && op.bytesPerOp! <= 64, `OpStyleObject: ${op.bytesPerOp} B/op`);

  const setup = get('SetupExcluded');
  assert.ok(setup.bytesPerOp! < 4, `SetupExcluded: ${setup.bytesPerOp} B/op (5 MB of setup leaked into the ops?)`);
  assert.ok(setup.allocsPerOp! < 0.05);

  const stopped = get('StoppedExcluded');
  assert.ok(stopped.bytesPerOp! < 4, `StoppedExcluded: ${stopped.bytesPerOp} B/op (40 if the stopped allocations counted)`);
  assert.ok(stopped.allocsPerOp! < 0.05);
});

test('async benchmarks, both shapes, are awaited and measured', async () => {
  const { benchmarks } = await loadBenchFile(join(FIXTURES, 'async.bench.js'));
  const results = await runBenchmarks(benchmarks, { count: 2, benchtimeNs: 20e6 });
  for (const r of results) {
    assert.equal(r.runs.length, 2, r.name);
    assert.equal(r.error, undefined);
    assert.ok(r.nsPerOp! > 0);
    assert.ok(r.allocsPerOp! > 0, `${r.name}: an await allocates`);
    assert.ok(r.bytesPerOp! > 0 && r.bytesPerOp! < 10_000, `${r.name}: ${r.bytesPerOp} B/op`);
  }
  const imm = results.find((r) => r.name === 'AsyncImmediate')!;
  assert.ok(imm.nsPerOp! >= 1000, 'a turn of the event loop per op, so at least a microsecond');
});

test('fixed iterations (Go -benchtime=Nx), -count runs, medians and spread, run filter', async () => {
  const { benchmarks } = await loadBenchFile(join(FIXTURES, 'known.bench.js'));
  const results = await runBenchmarks(benchmarks, { count: 3, iterations: 500, run: /^(OpStyle|Nothing)/, benchmem: false });
  assert.deepEqual(results.map((r) => r.name), ['Nothing', 'OpStyleObject']);
  for (const r of results) {
    assert.deepEqual(r.runs.map((x) => x.n), [500, 500, 500]);
    assert.equal(r.bytesPerOp, null);
    assert.equal(r.allocsPerOp, null);
    const sorted = r.runs.map((x) => x.nsPerOp).sort((a, b) => a - b);
    assert.equal(r.nsPerOp, sorted[1]);
    assert.ok(r.spread.nsPerOp! >= 0);
  }
});

test('calibration grows n until a run lasts the benchtime', async () => {
  const { benchmarks } = await loadBenchFile(join(FIXTURES, 'known.bench.js'));
  const [r] = await runBenchmarks(benchmarks, { count: 1, benchtimeNs: 20e6, run: /^Nothing$/, benchmem: false });
  const run = r!.runs[0]!;
  assert.ok(run.n > 1000, `n=${run.n}`);
  assert.ok(run.n * run.nsPerOp >= 20e6, 'the measured run lasted at least the benchtime');
});

test('a benchmark that throws is reported and the others still run', async () => {
  const { benchmarks } = await loadBenchFile(join(FIXTURES, 'failing.bench.js'));
  const errors: string[] = [];
  const results = await runBenchmarks(benchmarks, { count: 1, benchtimeNs: 5e6, onError: (b) => errors.push(b.name) });
  assert.deepEqual(errors, ['Breaks']);
  const breaks = results.find((r) => r.name === 'Breaks')!;
  assert.match(breaks.error!, /broke on call 4/);
  assert.equal(breaks.nsPerOp, null);
  const fine = results.find((r) => r.name === 'Fine')!;
  assert.equal(fine.runs.length, 1);
  await assert.rejects(loadBenchFile(join(FIXTURES, 'broken.bench.js')), /broken\.bench\.js: cannot set up the fixture/);
  await assert.rejects(loadBenchFile(join(FIXTURES, 'missing.bench.js')), /no such file/);
});

test('loading the same file twice returns its benchmarks again (modules run once)', async () => {
  const a = await loadBenchFile(join(FIXTURES, 'failing.bench.js'));
  const b = await loadBenchFile(join(FIXTURES, 'failing.bench.js'));
  assert.deepEqual(b.benchmarks.map((x) => x.name), a.benchmarks.map((x) => x.name));
});

test('a .ts bench file runs as its compiled twin (per tsconfig outDir/rootDir)', async () => {
  const ts = join(REPO_ROOT, 'test', 'bench', 'fixtures', 'failing.bench.ts');
  const loaded = await loadBenchFile(ts);
  assert.equal(loaded.module, join(FIXTURES, 'failing.bench.js'));
  assert.match(loaded.note!, /running .*failing\.bench\.js \(compiled from/);
  assert.deepEqual(loaded.benchmarks.map((x) => x.name), ['Fine', 'Breaks']);
});
