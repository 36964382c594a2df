import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics, DurationHistogram } from '../../src/metrics/index.js';
import type { Result } from '../../src/results/result.js';
import { result as resultNs } from '../../support/results.js';

/** Request i, `latencyMs` long, 100 bytes in. */
const result = (i: number, latencyMs: number, over: Partial<Result> = {}): Result => resultNs(i, latencyMs * 1e6, { bytesIn: 100, ...over });

test('percentiles come from the HDR histogram within 0.1 %, min/max/mean exact', () => {
  const h = new DurationHistogram();
  for (let v = 1; v <= 10000; v++) h.record(v * 1e6); // 1..10000 ms
  assert.equal(h.count, 10000);
  assert.equal(h.min, 1e6);
  assert.equal(h.max, 10000e6);
  assert.equal(h.mean, 5000.5e6);
  for (const [p, want] of [[50, 5000e6], [99, 9900e6], [99.9, 9990e6]] as const) {
    assert.ok(Math.abs(h.percentile(p) - want) / want < 0.001, `p${p}=${h.percentile(p)}`);
  }
  assert.equal(h.percentile(100), 10000e6);
});

test('out-of-range values are clamped, never dropped', () => {
  const h = new DurationHistogram();
  h.record(0);
  h.record(5e12 * 1000); // longer than an hour
  assert.equal(h.count, 2);
  assert.equal(h.max, 5e15);
});

test('histograms encode, decode and merge exactly', () => {
  const a = new DurationHistogram();
  const b = new DurationHistogram();
  for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).record(i * 1e5);
  const merged = DurationHistogram.decode(a.encode());
  merged.merge(DurationHistogram.decode(b.encode()));
  assert.equal(merged.count, 1000);
  assert.equal(merged.min, 1e5);
  assert.equal(merged.max, 1000e5);
  assert.equal(merged.sum, a.sum + b.sum);
});

test('Metrics: the tail a mean hides, vegeta rate and throughput, schedule lag', () => {
  const m = new Metrics();
  // 1000 requests every 2 ms: 985 fast (1 ms), 15 slow (480 ms), 2 errors.
  for (let i = 0; i < 1000; i++) {
    const slow = i % 67 === 0;
    m.add(result(i, slow ? 480 : 1, i === 5 || i === 6 ? { code: 0, error: 'connection refused' } : {}));
  }
  const l = m.latencies();
  assert.equal(m.requests, 1000);
  assert.ok(l.p50 < 1.01e6 && l.p50 >= 0.99e6);
  assert.ok(l.p99 > 470e6, `p99=${l.p99}`);
  assert.ok(l.mean < 10e6, 'the mean hides the tail');
  assert.equal(m.duration, 999 * 2e6);
  assert.ok(Math.abs(m.rate - 500) < 1e-9);
  assert.equal(m.success, 998 / 1000);
  assert.equal(m.errors.get('connection refused'), 2);
  assert.equal(m.statusCodes.get(0), 2);
  assert.equal(m.schedule().recorded, true);
  assert.equal(m.schedule().late, 0);
  const other = new Metrics();
  other.add(result(2000, 5, { sendLag: 5e6 }));
  m.merge(other);
  assert.equal(m.requests, 1001);
  assert.equal(m.schedule().late, 1);
  assert.equal(m.latest, result(2000, 5).timestamp);
});

test('results without send lag (vegeta input) say so', () => {
  const m = new Metrics();
  m.add(result(0, 1, { sendLag: -1 }));
  assert.equal(m.schedule().recorded, false);
});
