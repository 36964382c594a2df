import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DurationHistogram, Metrics, RollingWindow } from '../../src/metrics/index.js';
import type { Result } from '../../src/results/index.js';

function result(i: number, latency: number): Result {
  return {
    attack: '', seq: i, code: i % 10 === 0 ? 500 : 200, timestamp: 1_000_000_000n + BigInt(i), latency, sendLag: i % 7 === 0 ? 2e6 : 1000,
    bytesOut: 1, bytesIn: 3, error: i % 10 === 0 ? 'boom' : '', body: null, method: 'GET', url: 'http://x/', headers: null,
  };
}

test('the rolling window cuts a growing Metrics into intervals that add back up to it exactly', () => {
  const m = new Metrics();
  const w = new RollingWindow(m, 0n);
  const sum = new DurationHistogram();
  const lagSum = new DurationHistogram();
  let requests = 0;
  let successes = 0;
  let late = 0;
  let x = 1;
  for (let cut = 1; cut <= 20; cut++) {
    const n = cut % 5 === 0 ? 0 : 100 * cut; // some intervals are empty
    for (let k = 0; k < n; k++) {
      x = (x * 48271) % 2147483647;
      m.add(result(requests + k, 1e4 + (x % 5e8)));
    }
    const iv = w.cut(BigInt(cut) * 1_000_000_000n);
    assert.equal(iv.startNs, BigInt(cut - 1) * 1_000_000_000n);
    assert.equal(iv.requests, n);
    assert.equal(iv.latency.count, n);
    if (n === 0) assert.equal(iv.latency.percentile(99), 0);
    sum.merge(iv.latency);
    lagSum.merge(iv.sendLag);
    requests += iv.requests;
    successes += iv.successes;
    late += iv.lateSends;
  }
  assert.equal(requests, m.requests);
  assert.equal(successes, m.successes);
  assert.equal(late, m.lateSends);
  assert.equal(sum.count, m.latency.count);
  for (const p of [50, 90, 99, 99.9, 99.99]) {
    assert.equal(sum.h.getValueAtPercentile(p), m.latency.h.getValueAtPercentile(p), `p${p} of the intervals' sum`);
  }
  assert.equal(lagSum.count, m.sendLag.count);
  assert.ok(Math.abs(sum.sum - m.latency.sum) < 1e-3 * m.latency.sum);
});
