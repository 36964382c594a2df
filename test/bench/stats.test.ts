import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mannWhitneyU, median, spread } from '../../src/bench/index.js';

/** Reference: the exact two-sided p-value by enumerating every assignment of the pooled values. */
function bruteForceP(x: number[], y: number[]): number {
  const all = [...x, ...y];
  const N = all.length;
  const sorted = [...all].sort((a, b) => a - b);
  const rank = (v: number) => {
    const first = sorted.indexOf(v);
    const last = sorted.lastIndexOf(v);
    return (first + last) / 2 + 1;
  };
  const ranks = all.map(rank);
  const n1 = x.length;
  const mean = (n1 * (N + 1)) / 2;
  const obs = Math.abs(ranks.slice(0, n1).reduce((a, b) => a + b, 0) - mean);
  let total = 0;
  let extreme = 0;
  const pick = (start: number, left: number, sum: number) => {
    if (left === 0) {
      total++;
      if (Math.abs(sum - mean) >= obs - 1e-9) extreme++;
      return;
    }
    for (let i = start; i <= N - left; i++) pick(i + 1, left - 1, sum + ranks[i]!);
  };
  pick(0, n1, 0);
  return extreme / total;
}

test('Mann-Whitney U: exact p-values equal brute-force enumeration, with and without ties', () => {
  const cases: Array<[number[], number[]]> = [
    [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]],
    [[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]],
    [[3, 3, 3, 3, 3], [0, 0, 0, 0, 0]],
    [[1, 2, 2, 3, 3], [2, 3, 3, 4, 5]],
    [[10.1, 10.3, 9.9, 10.0], [10.2, 10.4, 10.6, 10.5, 10.35]],
    [[5, 5, 6], [5, 6, 6, 7]],
    [[1], [2]],
  ];
  for (const [x, y] of cases) {
    const r = mannWhitneyU(x, y);
    assert.equal(r.method, 'exact');
    assert.ok(Math.abs(r.p - bruteForceP(x, y)) < 1e-12, `${x} vs ${y}: ${r.p} != ${bruteForceP(x, y)}`);
    // Symmetric in its arguments.
    assert.ok(Math.abs(mannWhitneyU(y, x).p - r.p) < 1e-12);
  }
  // Known values: fully separated 5 vs 5 runs -> 2/252; interleaved -> 0.6905 (as scipy's exact test).
  assert.ok(Math.abs(mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]).p - 2 / 252) < 1e-12);
  assert.ok(Math.abs(mannWhitneyU([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]).p - 0.6904761904761905) < 1e-9);
  assert.equal(mannWhitneyU([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]).u, 10);
  assert.equal(mannWhitneyU([4, 4, 4], [4, 4, 4]).p, 1, 'no difference at all');
  assert.equal(mannWhitneyU([], [1, 2]).p, 1);
});

test('Mann-Whitney U: the normal approximation (large samples) agrees with the exact test nearby', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const x = Array.from({ length: 30 }, () => rnd());
  const y = Array.from({ length: 30 }, () => rnd() + 0.15);
  const exact = mannWhitneyU(x, y);
  assert.equal(exact.method, 'exact');
  const approx = mannWhitneyU([...x, ...x.map((v) => v + 1e-9)], [...y, ...y.map((v) => v + 1e-9)]);
  assert.equal(approx.method, 'normal');
  // Doubling the samples (same distributions) must make the difference more significant.
  assert.ok(approx.p < exact.p);
  // Direct comparison at the same size: exact (N=60) vs the normal formula on the same data.
  const big = mannWhitneyU([...x, 0.5], [...y, 0.6]);
  assert.equal(big.method, 'normal');
  assert.ok(Math.abs(big.p - exact.p) < 0.05, `normal ${big.p} vs exact ${exact.p}`);
});

test('median and spread', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.equal(spread([100, 90, 110, 100]), 0.1);
  assert.equal(spread([5, 5, 5]), 0);
  assert.equal(spread([0, 0, 1]), Infinity);
});
