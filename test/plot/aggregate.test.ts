import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationHistogram } from '../../src/metrics/histogram.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { TimeSeriesBuilder } from '../../src/plot/timeseries.js';
import { percentileDistribution } from '../../src/plot/distribution.js';
import { aggregateRun } from '../../src/plot/plot.js';
import { syntheticBatches, syntheticMeta, rng } from '../../support/synthetic-run.js';

test('per-second percentiles are those of an HDR histogram of exactly that second', () => {
  // Few open buckets: closed seconds' histograms are recycled many times over.
  const b = new TimeSeriesBuilder({ bucketNs: 1e9, openBuckets: 3 });
  const rand = rng(9);
  const perSecond = new Map<number, DurationHistogram>();
  const all: [number, number][] = [];
  for (let i = 0; i < 30_000; i++) all.push([rand() * 30e9, rand() < 0.01 ? 300e6 * rand() : 1e6 + rand() * 4e6]);
  // Completion order: sorted by t + latency, not by t.
  all.sort((a, c) => a[0] + a[1] - (c[0] + c[1]));
  for (const [t, lat] of all) {
    b.add(t, lat, 200, false, true);
    const k = Math.floor(t / 1e9);
    if (!perSecond.has(k)) perSecond.set(k, new DurationHistogram());
    perSecond.get(k)!.record(lat);
  }
  const s = b.finish();
  assert.equal(s.start.length, 30);
  assert.equal(s.lateResults, 0);
  for (let i = 0; i < 30; i++) {
    const h = perSecond.get(i)!;
    assert.equal(s.start[i], i * 1e9);
    assert.equal(s.requests[i], h.count);
    assert.equal(s.p50[i], h.percentile(50));
    assert.equal(s.p99[i], h.percentile(99));
    assert.equal(s.p999[i], h.percentile(99.9));
    assert.equal(s.max[i], h.max);
  }
});

test('empty seconds are gaps (NaN percentiles, zero counts); codes beyond the limit are "other"', () => {
  const b = new TimeSeriesBuilder({ bucketNs: 1e9, maxCodes: 3 });
  b.add(0.5e9, 1e6, 200, false, true);
  b.add(3.5e9, 2e6, 503, false, false);
  b.add(3.6e9, 2e6, 0, true, false);
  b.add(3.7e9, 2e6, 404, false, false);
  const s = b.finish();
  assert.deepEqual(Array.from(s.requests), [1, 0, 0, 3]);
  assert.ok(Number.isNaN(s.p99[1]!) && Number.isNaN(s.max[2]!));
  assert.deepEqual(Array.from(s.errors), [0, 0, 0, 1]);
  assert.deepEqual(
    s.codes.map((c) => [c.code, Array.from(c.counts)]),
    [
      [200, [1, 0, 0, 0]],
      [503, [0, 0, 0, 1]],
      [-1, [0, 0, 0, 2]],
    ],
  );
});

test('histograms of old seconds are released; a straggler for a closed second is counted, not lost', () => {
  const b = new TimeSeriesBuilder({ bucketNs: 1e9, openBuckets: 5 });
  for (let s = 0; s < 20; s++) b.add(s * 1e9, 1e6, 200, false, true);
  b.add(0.2e9, 9e9, 200, false, true); // second 0 closed long ago
  const s = b.finish();
  assert.equal(s.lateResults, 1);
  assert.equal(s.requests[0], 2);
  assert.equal(s.max[0], 9e9, 'its latency still sets the max');
  assert.equal(s.p50[0], 1e6, 'percentiles were taken when the second closed');
});

test('the percentile distribution runs along 1/(1-p) to the slowest request', () => {
  const h = new DurationHistogram();
  for (let i = 1; i <= 10_000; i++) h.record(i * 1e3);
  const d = percentileDistribution(h, 10);
  assert.equal(d.x[0], 1);
  assert.equal(d.x[d.x.length - 1], 10_000);
  assert.equal(d.latency[d.latency.length - 1], h.max);
  const at = (x: number) => d.latency[Array.from(d.x).findIndex((v) => Math.abs(v - x) < 1e-9)]!;
  assert.equal(at(10), h.percentile(90));
  assert.equal(at(100), h.percentile(99));
  assert.equal(at(1000), h.percentile(99.9));
  for (let i = 1; i < d.x.length; i++) assert.ok(d.latency[i]! >= d.latency[i - 1]!, 'monotone');
});

test('a run aggregates to the same Metrics as the report computes, with t0 at the schedule start', async () => {
  const o = { count: 20_000, rate: 1000, seed: 4 };
  const run = await aggregateRun({ source: 'gen', meta: syntheticMeta(o), batches: syntheticBatches(o) }, { exactLimit: 1000, columns: 200 });
  const m = new Metrics();
  for (const b of syntheticBatches(o)) for (const r of b) m.add(r);
  assert.deepEqual(run.metrics.latencies(), m.latencies());
  assert.equal(run.metrics.requests, 20_000);
  assert.equal(run.name, 'synthetic');
  assert.equal(run.t0, syntheticMeta(o).info!.startedAt);
  assert.equal(run.series.start[0], 0);
  assert.equal(run.series.start.length, 20);
  assert.ok(run.points.ok.t[0]! >= 0 && run.points.ok.t[run.points.ok.t.length - 1]! < 20e9);
  const slowest = Math.max(...run.points.ok.latency, ...run.points.errors.latency);
  assert.equal(slowest, m.latency.max, 'the slowest request is drawn');
  assert.ok(run.events.length > 0);
});

test('memory stays bounded while streaming a million results', async () => {
  const o = { count: 1_000_000, rate: 2000, seed: 8, batch: 5000 };
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  let peak = 0;
  function* watched() {
    let i = 0;
    for (const b of syntheticBatches(o)) {
      if (++i % 20 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - before);
      yield b;
    }
  }
  const run = await aggregateRun({ source: 'gen', batches: watched() });
  assert.equal(run.metrics.requests, 1_000_000);
  // A million Result objects would take several hundred MB; the aggregates take a few tens.
  assert.ok(peak < 160e6, `heap grew by ${(peak / 1e6).toFixed(0)} MB`);
  assert.ok(run.points.ok.t.length < 200_000);
});
