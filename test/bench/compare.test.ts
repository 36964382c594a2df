import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSamples, formatComparison, parseBenchOutput, benchKey } from '../../src/bench/index.js';

function jsonOf(name: string, runs: Array<[number, number, number]>): string {
  return JSON.stringify([{ name, nsPerOp: 0, bytesPerOp: 0, allocsPerOp: 0, runs: runs.map(([ns, b, a]) => ({ n: 1000, nsPerOp: ns, bytesPerOp: b, allocsPerOp: a })) }]);
}

test('compare: a clear improvement is significant, noise is "~"', () => {
  // Before: ~1000 ns, 4096 B, 32 allocs; after: ~400 ns, 64 B, 1 alloc. Time also has a benchmark
  // whose runs come from the same distribution.
  const before = parseBenchOutput(
    JSON.stringify([
      { name: 'Render', runs: [1010, 990, 1005, 995, 1000].map((ns) => ({ nsPerOp: ns, bytesPerOp: 4096, allocsPerOp: 32 })) },
      { name: 'Same', runs: [100, 102, 98, 101, 99].map((ns) => ({ nsPerOp: ns, bytesPerOp: 0, allocsPerOp: 0 })) },
    ]),
  );
  const after = parseBenchOutput(
    JSON.stringify([
      { name: 'Render', runs: [400, 410, 395, 405, 390].map((ns) => ({ nsPerOp: ns, bytesPerOp: 64, allocsPerOp: 1 })) },
      { name: 'Same', runs: [101, 99, 100, 102, 98].map((ns) => ({ nsPerOp: ns, bytesPerOp: 0, allocsPerOp: 0 })) },
    ]),
  );
  const rows = compareSamples(before, after);
  const row = (name: string, metric: string) => rows.find((r) => r.name === name && r.metric === metric)!;
  const t = row('Render', 'nsPerOp');
  assert.ok(t.significant && t.p < 0.01, `p=${t.p}`);
  assert.ok(Math.abs(t.delta! - (400 - 1000) / 1000) < 1e-9);
  const allocs = row('Render', 'allocsPerOp');
  assert.ok(allocs.significant, 'all runs tied on each side, still significant (exact test with ties)');
  assert.ok(Math.abs(allocs.delta! - (1 - 32) / 32) < 1e-9);
  assert.equal(row('Same', 'nsPerOp').significant, false);
  assert.equal(row('Same', 'allocsPerOp').p, 1);

  const text = formatComparison(rows);
  assert.match(text, /name\s+old time\/op\s+new time\/op\s+delta/);
  assert.match(text, /Render\s+1\.00µs ± 1%\s+400ns ± 3%\s+-60\.00% \(p=0\.008 n=5\+5\)/);
  assert.match(text, /Same\s+100ns ± 2%\s+100ns ± 2%\s+~ \(p=1\.000 n=5\+5\)/);
  assert.match(text, /Render\s+32\.0 ± 0%\s+1\.00 ± 0%\s+-96\.88% \(p=0\.008 n=5\+5\)/);
  assert.doesNotMatch(text, /note:/);
});

test('compare: too few runs cannot be significant, and says so', () => {
  const rows = compareSamples(parseBenchOutput(jsonOf('X', [[100, 0, 0], [101, 0, 0]])), parseBenchOutput(jsonOf('X', [[50, 0, 0], [51, 0, 0]])));
  const t = rows.find((r) => r.metric === 'nsPerOp')!;
  assert.equal(t.significant, false);
  assert.match(formatComparison(rows), /with n=2\+2 runs no change can be significant at alpha=0\.05 \(smallest possible p=0\.333\)/);
});

test('compare reads go test -bench output too, and matches names across formats', () => {
  const goText = [
    'goos: linux',
    'goarch: amd64',
    'pkg: example.com/lookup',
    'BenchmarkLookup-8   \t  812345\t      1480 ns/op\t    4096 B/op\t      32 allocs/op',
    'BenchmarkLookup-8   \t  800000\t      1500 ns/op\t    4096 B/op\t      32 allocs/op',
    'PASS',
  ].join('\n');
  const s = parseBenchOutput(goText, 'old.txt');
  assert.deepEqual(s.get('BenchmarkLookup-8'), { nsPerOp: [1480, 1500], bytesPerOp: [4096, 4096], allocsPerOp: [32, 32] });
  assert.equal(benchKey('BenchmarkLookup/fresh'), benchKey('lookup/fresh'));
  assert.throws(() => parseBenchOutput('hello\n', 'x.txt'), /x\.txt: no benchmark results/);
  assert.throws(() => parseBenchOutput('[{"nope":1}]', 'y.json'), /y\.json: entry 0: expected \{name, runs/);
  assert.throws(() => parseBenchOutput('[', 'z.json'), /z\.json: not valid JSON/);
});
