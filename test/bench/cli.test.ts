import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

const KNOWN = 'dist/test/bench/fixtures/known.bench.js';
const LINE = /^Benchmark\S+\s+\d+\s+[\d.]+ ns\/op\s+\d+ B\/op\s+\d+ allocs\/op$/;

test('tailprobe bench prints go test -bench lines, then median ± spread', async () => {
  const r = await runCli(['bench', '-count=2', '-benchtime=10ms', '-run=^(Nothing|OpStyleObject)$', KNOWN]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout.toString();
  assert.match(out, /^goos: \w+\ngoarch: \w+\nnode: v\d+/);
  const lines = out.split('\n').filter((l) => l.startsWith('Benchmark'));
  assert.equal(lines.length, 4);
  for (const l of lines) assert.match(l, LINE);
  assert.equal(lines.filter((l) => l.startsWith('BenchmarkOpStyleObject')).length, 2);
  assert.match(out, /median ± spread over 2 runs/);
  assert.match(out, /\nOpStyleObject\s+[\d.]+(ns|µs) ± \d+%\s+\d+ B ± \d+%\s+[\d.]+ ± \d+%/);
});

test('tailprobe bench -json and -o write the same figures; -compare reads them back', async () => {
  const dir = tempDir();
  const file = join(dir, 'new.json');
  const r = await runCli(['bench', '-json', '-count=5', '-benchtime=200x', '-run=Nothing', `-o=${file}`, KNOWN]);
  assert.equal(r.code, 0, r.stderr);
  const data = JSON.parse(r.stdout.toString()) as Array<Record<string, unknown>>;
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), data);
  assert.equal(data.length, 1);
  const b = data[0]!;
  assert.equal(b.name, 'Nothing');
  for (const k of ['nsPerOp', 'bytesPerOp', 'allocsPerOp']) assert.equal(typeof b[k], 'number', k);
  const runs = b.runs as Array<Record<string, number>>;
  assert.equal(runs.length, 5);
  assert.ok(runs.every((x) => x.n === 200));

  const old = join(dir, 'old.json');
  writeFileSync(old, JSON.stringify([{ name: 'Nothing', runs: [1, 2, 3, 4, 5].map(() => ({ nsPerOp: 1e6, bytesPerOp: 4096, allocsPerOp: 32 })) }]));
  const c = await runCli(['bench', '-compare', old, file]);
  assert.equal(c.code, 0, c.stderr);
  const text = c.stdout.toString();
  assert.match(text, /name\s+old time\/op\s+new time\/op\s+delta/);
  assert.match(text, /Nothing\s+1\.00ms ± 0%\s+\S+ ± \d+%\s+-\d+\.\d+% \(p=0\.008 n=5\+5\)/);
  assert.match(text, /old allocs\/op/);
});

test('a .ts bench file runs as its compiled twin, and says so', async () => {
  const r = await runCli(['bench', '-count=1', '-benchtime=5x', '-benchmem=false', 'test/bench/fixtures/known.bench.ts']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /bench: running dist\/test\/bench\/fixtures\/known\.bench\.js \(compiled from test\/bench\/fixtures\/known\.bench\.ts\)/);
  assert.equal(r.stdout.toString().split('\n').filter((l) => /^Benchmark\S+\s+5\s+[\d.]+ ns\/op$/.test(l)).length, 6);
});

test('a failing benchmark is reported (exit 1) and the others still run', async () => {
  const r = await runCli(['bench', '-count=1', '-benchtime=5ms', 'dist/test/bench/fixtures/failing.bench.js']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--- FAIL: BenchmarkBreaks: broke on call 4/);
  assert.match(r.stdout.toString(), /^BenchmarkFine\s+\d+/m);
});

test('bad input: one line, exit 2 for usage and 1 for runtime, never a stack trace', async () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['bench', 'nope.bench.js'], 1, /^tailprobe: no such file: nope\.bench\.js\n$/],
    [['bench', '-count=0', KNOWN], 2, /^tailprobe: bench: -count must be at least 1, got 0\n$/],
    [['bench', '-run=(', KNOWN], 2, /^tailprobe: bench: invalid -run regular expression: /],
    [['bench', '-benchtime=fast', KNOWN], 2, /^tailprobe: bench: invalid -benchtime "fast"/],
    [['bench', '-run=NoSuchBench', KNOWN], 1, /^tailprobe: bench: no benchmarks in .* match -run=NoSuchBench \(it has: Nothing, /],
    [['bench', 'dist/test/bench/fixtures/broken.bench.js'], 1, /^tailprobe: dist\/test\/bench\/fixtures\/broken\.bench\.js: cannot set up the fixture\n$/],
    [['bench', '-compare', 'only-one.json'], 2, /^tailprobe: bench: -compare needs two files: -compare OLD NEW\n$/],
    [['bench', '-compare', 'a.json', 'b.json'], 1, /^tailprobe: no such file: a\.json\n$/],
    [['bench'], 2, /^tailprobe: bench: expected one benchmark file/],
  ];
  for (const [args, code, msg] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});
