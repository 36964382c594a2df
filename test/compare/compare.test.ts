import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from '../../src/metrics/index.js';
import { Rng } from '../../src/compare/rng.js';
import { SampleBuilder, bucketLowest, bucketHighest } from '../../src/compare/sample.js';
import { bootstrap, poisson } from '../../src/compare/bootstrap.js';
import { compareRuns, parseFailOn, quantile, type RunData } from '../../src/compare/compare.js';
import { formatComparison, comparisonJson } from '../../src/compare/format.js';
import { UsageError } from '../../src/errors.js';
import type { RunMeta } from '../../src/results/result.js';
import { lognormal, result, runOf } from './synthetic.js';

test('bucket layout mirrors HDR: a whole-sample percentile is exactly Metrics\' percentile', () => {
  const lat = [...lognormal(7, 20_000, 12, 1.2), 0, 1, 999, 1e12, 5e15];
  const m = new Metrics();
  const b = new SampleBuilder();
  lat.forEach((l, i) => { m.add(result(i, l)); b.add(result(i, l)); });
  const rep = bootstrap(b.build(), 100, new Rng(1), 'block');
  const l = m.latencies();
  assert.equal(rep.full.p50, l.p50);
  assert.equal(rep.full.p90, l.p90);
  assert.equal(rep.full.p99, l.p99);
  assert.equal(rep.full['p99.9'], l.p999);
  assert.equal(rep.full.mean, l.mean);
  for (const us of [1, 2047, 2048, 2049, 4095, 4096, 123_456, 3_600_000_000]) {
    const lo = bucketLowest(us);
    assert.ok(lo <= us && us <= bucketHighest(lo), `${us} in [${lo}, ${bucketHighest(lo)}]`);
    if (us >= 1024) assert.ok((bucketHighest(lo) - lo + 1) / lo <= 1 / 1024, 'buckets are 0.1 % wide');
  }
});

test('poisson sampler has the right mean and variance, small and large lambda', () => {
  const rng = new Rng(3);
  for (const lambda of [0.5, 4, 25, 1000, 1e6]) {
    let s = 0;
    let s2 = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const k = poisson(rng, lambda);
      assert.ok(Number.isInteger(k) && k >= 0);
      s += k;
      s2 += k * k;
    }
    const mean = s / n;
    const v = s2 / n - mean * mean;
    const se = Math.sqrt(lambda / n);
    assert.ok(Math.abs(mean - lambda) < 5 * se, `lambda ${lambda}: mean ${mean}`);
    assert.ok(Math.abs(v / lambda - 1) < 0.1, `lambda ${lambda}: variance ${v}`);
  }
});

test('clearly different distributions: improved / regressed with the CI excluding 0', () => {
  const before = runOf('before.bin', lognormal(11, 5000, 20, 0.9), { fail: (i) => i % 50 === 0 });
  const after = runOf('after.bin', lognormal(12, 5000, 8, 0.5));
  const res = compareRuns([before, after], { seed: 1 });
  const rows = Object.fromEntries(res.comparisons[0]!.rows.map((r) => [r.stat, r]));
  for (const s of ['p50', 'p90', 'p99', 'p99.9', 'mean'] as const) {
    const r = rows[s]!;
    assert.equal(r.verdict, 'improved', `${s}: ${JSON.stringify(r)}`);
    assert.ok(r.ci![1] < 0 && r.ci![0] <= r.delta && r.delta <= r.ci![1], `${s} CI ${r.ci} around ${r.delta}`);
  }
  assert.equal(rows.success!.verdict, 'improved');
  assert.ok(rows.success!.ci![0] > 0);
  assert.equal(rows.max!.ci, null);
  assert.equal(rows.max!.verdict, 'no CI');
  // The same pair the other way round regresses, with the mirror-image interval.
  const back = compareRuns([after, before], { seed: 1, failOn: parseFailOn('p99,p99.9') });
  const r99 = back.comparisons[0]!.rows.find((r) => r.stat === 'p99')!;
  assert.equal(r99.verdict, 'regressed');
  assert.ok(r99.ci![0] > 0);
  assert.equal(back.failed, true);
  assert.equal(res.failed, false);
  const text = formatComparison(back);
  assert.match(text, /^after\.bin -> before\.bin/m);
  assert.match(text, /^p99 +\S+ +\S+ +\+\S+ \(\+\d+(\.\d)?%\) +\[\+\S+, \+\S+\] +regressed$/m);
  assert.match(text, /^max .*\(none: a single request\) +n\/a$/m);
  assert.match(text, /^FAIL: a significant regression in p99, p99\.9$/m);
});

test('two samples of one distribution: no significant change', () => {
  const a = runOf('a', lognormal(21, 5000, 10, 0.8));
  const b = runOf('b', lognormal(22, 5000, 10, 0.8));
  const res = compareRuns([a, b], { seed: 1, failOn: parseFailOn('regression') });
  for (const r of res.comparisons[0]!.rows) {
    if (r.stat === 'max') continue;
    assert.equal(r.verdict, 'no significant change', `${r.stat}: ${JSON.stringify(r)}`);
    assert.ok(r.ci![0] <= 0 && r.ci![1] >= 0);
  }
  assert.equal(res.failed, false);
});

test('calibration: over many same-distribution pairs, about 5 % are called significant', () => {
  const pairs = 40;
  const calls: Record<string, number> = {};
  for (let k = 0; k < pairs; k++) {
    const a = runOf('a', lognormal(1000 + 2 * k, 3000, 10, 0.8));
    const b = runOf('b', lognormal(1001 + 2 * k, 3000, 10, 0.8));
    const res = compareRuns([a, b], { seed: k, resamples: 400 });
    for (const r of res.comparisons[0]!.rows) if (r.verdict === 'improved' || r.verdict === 'regressed') calls[r.stat] = (calls[r.stat] ?? 0) + 1;
  }
  // Expected 2 of 40 per row at 95 %; 8 (20 %) would mean intervals far too narrow.
  for (const s of ['p50', 'p90', 'p99', 'mean']) assert.ok((calls[s] ?? 0) <= 7, `${s}: ${calls[s]} false calls of ${pairs}`);
});

test('block bootstrap widens the interval when slowness comes in bursts', () => {
  // 1 % of requests are slow, but in bursts of 50 consecutive requests (a 100 ms stall at 500 req/s).
  const burst = (seed: number) => {
    const base = lognormal(seed, 10_000, 5, 0.3);
    const rng = new Rng(seed + 99);
    for (let i = 0; i < 2; i++) {
      const start = rng.below(10_000 - 50);
      for (let j = start; j < start + 50; j++) base[j] = 100e6 + rng.next() * 50e6;
    }
    return base;
  };
  const a = runOf('a', burst(31));
  const b = runOf('b', burst(32));
  const width = (mode: 'block' | 'request') => {
    const r = compareRuns([a, b], { seed: 5, mode }).comparisons[0]!.rows.find((x) => x.stat === 'p99.9')!;
    return r.ci![1] - r.ci![0];
  };
  assert.ok(width('block') > 1.5 * width('request'), `block ${width('block')} vs request ${width('request')}`);
});

test('seeded: the same inputs and seed give the same intervals', () => {
  const a = runOf('a', lognormal(41, 4000, 10, 0.8));
  const b = runOf('b', lognormal(42, 4000, 11, 0.8));
  const one = JSON.stringify(comparisonJson(compareRuns([a, b], { seed: 9 })));
  const two = JSON.stringify(comparisonJson(compareRuns([a, b], { seed: 9 })));
  assert.equal(one, two);
  assert.notEqual(one, JSON.stringify(comparisonJson(compareRuns([a, b], { seed: 10 }))));
});

test('N runs: each against the first, or against the previous', () => {
  const broken = runOf('broken', lognormal(51, 3000, 50, 1));
  const pool = runOf('pool', lognormal(52, 3000, 20, 0.8));
  const rw = runOf('rwmutex', lognormal(53, 3000, 5, 0.5));
  const first = compareRuns([broken, pool, rw], {});
  assert.deepEqual(first.comparisons.map((c) => [c.before, c.after]), [['broken', 'pool'], ['broken', 'rwmutex']]);
  const prev = compareRuns([broken, pool, rw], { against: 'previous' });
  assert.deepEqual(prev.comparisons.map((c) => [c.before, c.after]), [['broken', 'pool'], ['pool', 'rwmutex']]);
  for (const c of prev.comparisons) assert.equal(c.rows.find((r) => r.stat === 'p99')!.verdict, 'improved');
});

test('warnings: different rate, duration, targets; a generator that fell behind', () => {
  const meta = (rate: number, duration: number, targets: string[]): RunMeta => ({
    info: { name: '', pacer: `${rate}/1s`, rate, maxMode: false, duration, targets, targetCount: targets.length, workers: 1, connections: 1, startedAt: 0n, version: '0' },
    health: { cpuPercent: 10, cores: 2, eventLoopP99: 0, eventLoopMax: 0, unsent: 0, ended: 'completed' },
    events: [],
  });
  const a = runOf('a', lognormal(61, 2000, 10, 0.5), { meta: meta(500, 10e9, ['GET http://127.0.0.1:1/a']) });
  const b = runOf('b', lognormal(62, 2000, 10, 0.5), {
    meta: meta(1000, 30e9, ['GET http://127.0.0.1:1/b']),
    sendLag: (i) => (i % 10 === 0 ? 20e6 : 1000),
  });
  const w = compareRuns([a, b]).warnings.join('\n');
  assert.match(w, /a and b were asked for different rates: 500\/s and 1000\/s/);
  assert.match(w, /a and b ran for different durations: 10s and 30s/);
  assert.match(w, /a and b hit different targets: GET http:\/\/127\.0\.0\.1:1\/a vs GET http:\/\/127\.0\.0\.1:1\/b/);
  // b's generator had time to spare (event loop p99 0): its late sends waited for connections the
  // target held, which is the target's tail, not a reason to distrust the comparison.
  assert.doesNotMatch(w, /generator fell behind/);
  const busy = meta(1000, 30e9, ['GET http://127.0.0.1:1/b']);
  busy.health!.eventLoopP99 = 50e6;
  const b2 = runOf('b', lognormal(62, 2000, 10, 0.5), { meta: busy, sendLag: (i) => (i % 10 === 0 ? 20e6 : 1000) });
  assert.match(compareRuns([a, b2]).warnings.join('\n'), /the generator fell behind in b: 10\.00% of requests were sent late .*its event loop was delayed \(p99 50ms\)/);
  // Without run info (vegeta formats), measured rates stand in.
  const c = runOf('c', lognormal(63, 2000, 10, 0.5), { intervalNs: 1_000_000 });
  assert.match(compareRuns([runOf('a', lognormal(61, 2000, 10, 0.5)), c]).warnings.join('\n'), /ran at different rates: 500\/s and 1000\/s achieved/);
  assert.deepEqual(compareRuns([runOf('x', lognormal(1, 2000, 10, 0.5)), runOf('y', lognormal(2, 2000, 10, 0.5))]).warnings, []);
});

test('short runs fall back to the bootstrap over requests, and say so', () => {
  const a = runOf('a', lognormal(71, 100, 10, 0.5), { intervalNs: 10_000 });
  const b = runOf('b', lognormal(72, 100, 10, 0.5), { intervalNs: 10_000 });
  const res = compareRuns([a, b]);
  assert.equal(res.mode, 'request');
  assert.match(res.warnings.join('\n'), /too short for a block bootstrap/);
});

test('bad input: one usage error each', () => {
  const a = runOf('a', lognormal(1, 100, 10, 0.5));
  assert.throws(() => compareRuns([a]), /at least two runs/);
  assert.throws(() => compareRuns([a, a], { confidence: 95 }), /invalid confidence/);
  assert.throws(() => compareRuns([a, a], { resamples: 10 }), /invalid resamples/);
  const empty: RunData = { ...a, requests: 0, name: 'empty.bin' };
  assert.throws(() => compareRuns([a, empty]), (e: unknown) => e instanceof UsageError && /empty\.bin: no results/.test(e.message));
  assert.deepEqual(parseFailOn('regression'), ['p50', 'p90', 'p99', 'p99.9', 'mean', 'success', 'throughput']);
  assert.deepEqual(parseFailOn('p99, p(99.9)'), ['p99', 'p99.9']);
  assert.throws(() => parseFailOn('p98'), /invalid -fail-on "p98"/);
  assert.throws(() => parseFailOn('max'), /max has no confidence interval/);
});

test('quantile interpolates', () => {
  const s = Float64Array.from([1, 2, 3, 4]);
  assert.equal(quantile(s, 0), 1);
  assert.equal(quantile(s, 1), 4);
  assert.equal(quantile(s, 0.5), 2.5);
});
