import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constantPacer, linearPacer, sinePacer, parseRate, formatRate, countBefore, pacerFromSpec, type BuiltinPacer, rateOf } from '../../src/pacer/index.js';
import { UsageError } from '../../src/errors.js';

test('parseRate: vegeta spellings, max mode, errors', () => {
  assert.equal(parseRate('500'), 500);
  assert.equal(parseRate('500/1s'), 500);
  assert.equal(parseRate('500/s'), 500);
  assert.equal(parseRate('30000/1m'), 500);
  assert.equal(parseRate('1/500ms'), 2);
  assert.equal(parseRate('0'), 0);
  assert.equal(parseRate('infinity'), 0);
  for (const bad of ['abc', '-5', '500/0s', '500/x', '']) assert.throws(() => parseRate(bad), UsageError, bad);
  assert.equal(formatRate(500), '500/1s');
  assert.equal(formatRate(2.5), '2.5/1s');
  assert.equal(formatRate(0.5), '1/2s');
});

test('constant pacer: offsets computed from i, no drift, no bursts', () => {
  const p = constantPacer(3);
  assert.equal(p.offsetOf(0), 0);
  assert.equal(p.offsetOf(3), 1e9);
  assert.equal(p.offsetOf(3_000_000), 1e15); // a million seconds in: exact, no accumulated error
  // evenly spaced across second boundaries: gaps all equal to 1/3 s (to the ns)
  for (let i = 1; i < 100; i++) assert.ok(Math.abs(p.offsetOf(i) - p.offsetOf(i - 1) - 1e9 / 3) < 1e-3);
  assert.equal(countBefore(constantPacer(500), 5e9), 2500);
  assert.equal(countBefore(constantPacer(500), 0), Infinity);
});

/**
 * The property the multi-worker engine stands on: worker k of N sends requests i ≡ k (mod N) at
 * offsetOf(i). The merged stream must be exactly the single-worker stream.
 */
function assertSplitExact(p: BuiltinPacer, n: number, workers: number) {
  const single: number[] = [];
  for (let i = 0; i < n; i++) single.push(p.offsetOf(i));
  const merged: Array<[number, number]> = [];
  for (let k = 0; k < workers; k++) {
    const q = pacerFromSpec(p.spec); // each worker rebuilds the pacer from its spec
    for (let i = k; i < n; i += workers) merged.push([q.offsetOf(i), i]);
  }
  merged.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  assert.equal(merged.length, n);
  for (let i = 0; i < n; i++) {
    assert.equal(merged[i]![1], i, `request order at ${i}`);
    assert.equal(merged[i]![0], single[i], `offset of ${i}`);
  }
  for (let i = 1; i < n; i++) assert.ok(single[i]! >= single[i - 1]!, 'monotone');
}

test('worker split is exact for every pacer', () => {
  for (const workers of [1, 2, 3, 7]) {
    assertSplitExact(constantPacer(5000), 20_000, workers);
    assertSplitExact(constantPacer(333.3), 5_000, workers);
    assertSplitExact(linearPacer(100, 2000, 10e9), 10_000, workers);
    assertSplitExact(sinePacer(1000, 400, 2e9), 5_000, workers);
  }
});

test('linear pacer: ramps from the start rate to the end rate, then holds', () => {
  const p = linearPacer(100, 2000, 10e9);
  // requests due in the ramp: (100+2000)/2 * 10 s = 10500
  assert.equal(countBefore(p, 10e9), 10500);
  // instantaneous spacing follows the rate
  const gapAt = (i: number) => (p.offsetOf(i + 1) - p.offsetOf(i)) / 1e9;
  assert.ok(Math.abs(1 / gapAt(0) - 100) < 1);
  const i9 = countBefore(p, 9e9);
  assert.ok(Math.abs(1 / gapAt(i9) - p.rateAt(9e9)) < 2);
  assert.equal(p.rateAt(20e9), 2000);
  assert.ok(Math.abs(p.offsetOf(10500 + 2000) - 11e9) < 1);
  assert.throws(() => linearPacer(100, 200, 0), UsageError);
});

test('sine pacer: the count by t matches the integral of the wave', () => {
  const mean = 1000;
  const amp = 500;
  const period = 4e9;
  const p = sinePacer(mean, amp, period);
  for (const t of [0.5e9, 1e9, 2e9, 3e9, 4e9, 10e9]) {
    const s = t / 1e9;
    const expected = mean * s + ((amp * 4) / (2 * Math.PI)) * (1 - Math.cos((2 * Math.PI * s) / 4));
    assert.ok(Math.abs(countBefore(p, t) - expected) <= 1, `count by ${t}`);
  }
  assert.equal(p.rateAt(1e9), 1500); // peak a quarter period in
  assert.throws(() => sinePacer(100, 200, 1e9), UsageError); // amplitude above the mean would go negative
});

test('rateOf: a pacer without rateAt has the rate its offsets space out; one that has ended, 0', () => {
  const every10ms = { offsetOf: (i: number) => (i < 100 ? i * 10e6 : Infinity), describe: () => 'every 10 ms' };
  assert.equal(rateOf(every10ms, 0), 100);
  assert.equal(rateOf(every10ms, 500e6), 100);
  assert.equal(rateOf(every10ms, 2e9), 0);
  assert.equal(rateOf(constantPacer(250), 0), 250);
});
