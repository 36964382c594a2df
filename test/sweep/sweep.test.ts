import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseRates, AdaptiveSearch, sloKnee, latencyKnee, sweep, sweepJson, formatSweep, type StepRunner } from '../../src/sweep/index.js';
import { parseSlo } from '../../src/slo/index.js';
import { UsageError } from '../../src/errors.js';
import { readMetrics } from '../../src/metrics/index.js';
import { parseSweep } from '../../src/plot/sweep.js';
import type { GeneratorHealth, RunInfo } from '../../src/results/result.js';
import { tempDir } from '../helpers/paths.js';
import { result } from '../../support/results.js';

test('parseRates: grids, lists, auto', () => {
  assert.deepEqual(parseRates('100:500:100'), { kind: 'grid', rates: [100, 200, 300, 400, 500] });
  assert.deepEqual(parseRates('0.1:0.3:0.1'), { kind: 'grid', rates: [0.1, 0.2, 0.3] });
  assert.deepEqual(parseRates('100:450:100'), { kind: 'grid', rates: [100, 200, 300, 400] });
  assert.deepEqual(parseRates('400, 100,200,200'), { kind: 'grid', rates: [100, 200, 400] });
  assert.deepEqual(parseRates('6000/1m:12000/1m:3000/1m'), { kind: 'grid', rates: [100, 150, 200] });
  assert.deepEqual(parseRates('auto'), { kind: 'auto', start: 50, max: 50000 });
  assert.deepEqual(parseRates('auto:10:1000'), { kind: 'auto', start: 10, max: 1000 });
});

test('parseRates: a bad range is one usage error', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['100:50:10', /START is above STOP/],
    ['100:2000', /want START:STOP:STEP/],
    ['100:2000:0', /above 0/],
    ['1:100000:1', /steps; at most 200/],
    ['abc', /"abc" is not a rate/],
    ['100:x:10', /"x" is not a rate/],
    ['0,100', /above 0/],
    ['auto:100', /want auto or auto:START:MAX/],
    ['auto:500:100', /START must be below MAX/],
  ];
  for (const [text, why] of bad) {
    assert.throws(() => parseRates(text), (e: unknown) => {
      assert.ok(e instanceof UsageError, text);
      assert.match(e.message, /^sweep: invalid -rates/);
      assert.match(e.message, why, text);
      return true;
    });
  }
});

test('adaptive search: doubles until a fail, then bisects to the precision', () => {
  const capacity = 333;
  const s = new AdaptiveSearch(50, 10000, 0.05);
  const seen: number[] = [];
  for (let r = s.next(); r !== null; r = s.next()) {
    seen.push(r);
    s.record(r, r <= capacity);
    assert.ok(seen.length < 30);
  }
  assert.deepEqual(seen.slice(0, 5), [50, 100, 200, 400, 300]);
  const passes = seen.filter((r) => r <= capacity);
  const best = Math.max(...passes);
  const lowestFail = Math.min(...seen.filter((r) => r > capacity));
  assert.ok((lowestFail - best) / best <= 0.05, `${best}..${lowestFail}`);
  // Fails at the start: nothing to search. Passes everywhere: stops at max.
  const f = new AdaptiveSearch(50, 1000);
  f.record(f.next()!, false);
  assert.equal(f.next(), null);
  const p = new AdaptiveSearch(50, 300);
  const all: number[] = [];
  for (let r = p.next(); r !== null; r = p.next()) { all.push(r); p.record(r, true); }
  assert.deepEqual(all, [50, 100, 200, 300]);
  // Integer rates cannot be split below 1 req/s.
  const n = new AdaptiveSearch(10, 20, 0.001);
  n.record(10, true);
  n.record(11, false);
  assert.equal(n.next(), null);
});

const step = (rate: number, p99: number, pass: boolean | null, broken = false) => ({ rate, p99, pass, broken });

test('SLO knee: highest pass below the cliff; one broken step alone is not the cliff', () => {
  assert.equal(sloKnee([step(100, 5, true), step(200, 6, true), step(300, 90, false, true), step(400, 900, false, true)]), 200);
  // A stall wrecked 100 alone: the knee is still found above it.
  assert.equal(sloKnee([step(100, 500, false, true), step(200, 6, true), step(300, 90, false, true), step(400, 900, false, true)]), 200);
  // A narrow miss below a pass: the literal highest rate at which the SLO held.
  assert.equal(sloKnee([step(100, 5, true), step(200, 60, false), step(300, 6, true), step(400, 900, false, true), step(500, 900, false, true)]), 300);
  // A lucky pass beyond the cliff does not count.
  assert.equal(sloKnee([step(100, 5, true), step(200, 900, false, true), step(300, 900, false, true), step(400, 6, true)]), 100);
  assert.equal(sloKnee([step(100, 900, false, true), step(200, 900, false, true)]), null);
  assert.equal(sloKnee([step(100, 5, true), step(200, 6, true)]), 200);
});

test('latency knee: the last gentle step before the explosion (Kneedle), none without one', () => {
  // Hockey stick: flat until 250, then a wall.
  const hockey = [100, 150, 200, 250, 260, 270].map((r) => step(r, r <= 250 ? 5 + r / 100 : (r - 250) * 20, null));
  assert.equal(latencyKnee(hockey), 250);
  // A 20 ms blip among 5 ms steps does not move it.
  hockey[1]!.p99 = 20;
  assert.equal(latencyKnee(hockey), 250);
  // Gentle growth only (under 3-fold): no knee.
  assert.equal(latencyKnee([100, 200, 300, 400].map((r) => step(r, 5 + r / 200, null))), null);
  // M/D/1-like smooth blow-up 1/(1 - rho): the max-curvature point sits before capacity.
  const md1 = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95].map((rho) => step(rho * 100, 4 + (4 * rho) / (2 * (1 - rho)), null));
  const k = latencyKnee(md1)!;
  assert.ok(k >= 70 && k <= 90, String(k));
  assert.equal(latencyKnee(hockey.slice(0, 2)), null);
});

/**
 * A simulated one-at-a-time server with capacity `cap` req/s (D/D/1 on exact schedule times), so the
 * sweep loop, warm-up, early stop and files are tested deterministically and without load.
 */
function simulated(cap: number, calls: number[] = []): StepRunner {
  return async (rate, warmupNs, durationNs, onResult) => {
    calls.push(rate);
    const S = 1e9 / cap;
    let free = 0;
    const n = Math.floor(((warmupNs + durationNs) * rate) / 1e9);
    const t0 = 1_700_000_000_000_000_000n;
    for (let i = 0; i < n; i++) {
      const t = (i * 1e9) / rate;
      const start = Math.max(t, free);
      free = start + S;
      onResult(result(i, free - t + 1e6, { attack: 'sim', timestamp: t0 + BigInt(Math.round(t)), sendLag: 1000, bytesIn: 2, url: 'http://127.0.0.1:1/' }));
    }
    const info: RunInfo = {
      name: 'sim', pacer: `${rate}/1s`, rate, maxMode: false, duration: warmupNs + durationNs, targets: ['GET http://127.0.0.1:1/'],
      targetCount: 1, workers: 1, connections: 1, startedAt: t0, version: 'test',
    };
    const health: GeneratorHealth = { cpuPercent: 1, cores: 2, eventLoopP99: 0, eventLoopMax: 0, unsent: 0, ended: 'completed' };
    return { info, health, failures: [] };
  };
}

const targets = [{ method: 'GET', url: 'http://127.0.0.1:1/', headers: {}, body: null }];

test('sweep (simulated 250 req/s server): knee at capacity, early stop, warm-up excluded, files written', async () => {
  const dir = tempDir();
  const calls: number[] = [];
  const res = await sweep({
    attack: { targets }, rates: parseRates('100:1000:25'), stepNs: 2e9, warmupNs: 1e9, slo: parseSlo('p99<50ms'),
    outDir: dir, runStep: simulated(250, calls),
  });
  assert.equal(res.knee, 250);
  assert.equal(res.sloKnee, 250);
  assert.equal(res.latencyKnee, 250);
  assert.equal(res.firstFailure, 275);
  // 275 misses by far more than 2x (a queue growing for 3 s), 300 too: stop there, not at 1000.
  assert.deepEqual(calls, [100, 125, 150, 175, 200, 225, 250, 275, 300]);
  assert.match(res.stopped!, /clearly broken at 275 and 300 req\/s \(p99<50ms missed by \d+(\.\d)?x\)/);
  // Warm-up results are not measured: 2 s at 100/s is 200 requests.
  assert.equal(res.steps[0]!.requests, 200);
  assert.equal(res.steps.at(-1)!.broken, true);
  // Files: one per step (measured window only) and sweep.json, which the plot reads.
  const files = readdirSync(dir).sort();
  assert.equal(files.length, 10);
  assert.ok(files.includes('sweep.json') && files.includes('step-01-100rps.bin') && files.includes('step-09-300rps.bin'));
  const { metrics, sources } = await readMetrics([join(dir, 'step-07-250rps.bin')]);
  assert.equal(metrics.requests, 500);
  assert.equal(sources[0]!.meta.info!.duration, 2e9);
  const doc = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'));
  assert.equal(doc.knee, 250);
  assert.equal(doc.slo, 'p99<50ms');
  assert.equal(doc.steps.length, 9);
  assert.deepEqual(Object.keys(doc.steps[0]).slice(0, 11), ['rate', 'achieved', 'throughput', 'requests', 'p50', 'p90', 'p99', 'p999', 'max', 'mean', 'success']);
  assert.equal(doc.steps[0].file, 'step-01-100rps.bin');
  const plot = parseSweep(doc, 'sweep.json');
  assert.equal(plot.knee, 250);
  assert.equal(plot.steps.length, 9);
  assert.deepEqual(plot.slo!.limits, [{ label: 'p99<50ms', ns: 50e6 }]);
  assert.deepEqual(sweepJson(res), doc);
  rmSync(dir, { recursive: true, force: true });

  const text = formatSweep(res);
  assert.match(text, /^rate +achieved +p50 +p90 +p99 +p99\.9 +max +success +errors +late +slo$/m);
  assert.match(text, /^250\/s +250\/s .* pass$/m);
  assert.match(text, /^300\/s .* FAIL \(broken\)$/m);
  assert.match(text, /^knee: 250 req\/s, the highest rate at which p99<50ms held; latency explodes after 250 req\/s$/m);
});

test('sweep -rates=auto finds the simulated capacity within the precision', async () => {
  const calls: number[] = [];
  const res = await sweep({
    attack: { targets }, rates: parseRates('auto:50:5000'), stepNs: 1e9, warmupNs: 0.5e9, slo: parseSlo('p99<50ms'),
    precision: 0.05, runStep: simulated(333, calls),
  });
  // A slight overload passes a short step (the queue grows too slowly to reach 50 ms): within 5 %.
  assert.ok(Math.abs(res.knee! - 333) / 333 <= 0.05, String(res.knee));
  assert.ok(calls.length <= 12, calls.join(','));
  assert.deepEqual(res.steps.map((s) => s.rate), [...calls].sort((a, b) => a - b));
});

test('sweep without an SLO: the latency knee, and an early stop on a 10-fold p99', async () => {
  const calls: number[] = [];
  const res = await sweep({ attack: { targets }, rates: parseRates('100:1000:50'), stepNs: 2e9, warmupNs: 1e9, slo: null, runStep: simulated(400, calls) });
  assert.equal(res.kneeMethod, 'latency');
  assert.equal(res.knee, 400);
  assert.equal(res.sloKnee, null);
  assert.ok(calls.length < 19 && calls.at(-1)! <= 550, calls.join(','));
  assert.match(formatSweep(res), /^knee: 400 req\/s, where p99 stops growing gently and explodes/m);
});

test('sweep: usage errors before any load', async () => {
  const base = { attack: { targets }, stepNs: 1e9, warmupNs: 0, runStep: simulated(100) };
  await assert.rejects(sweep({ ...base, rates: parseRates('auto'), slo: null }), /-rates=auto needs -slo/);
  await assert.rejects(sweep({ ...base, rates: parseRates('10'), slo: null, stepNs: 0 }), /-step-duration must be positive/);
});

test('sweep interrupted mid-step: what was measured is kept, the partial step is marked and not read for the knee', async () => {
  const stop = new AbortController();
  const inner = simulated(250);
  const runStep: StepRunner = async (rate, w, d, onResult) => {
    const out = await inner(rate, w, d, onResult);
    if (rate === 300) stop.abort(); // Ctrl-C during the step at 300
    return out;
  };
  const res = await sweep({ attack: { targets }, rates: parseRates('100:500:100'), stepNs: 1e9, warmupNs: 0, slo: parseSlo('p99<50ms'), signal: stop.signal, runStep });
  assert.equal(res.stopped, 'interrupted');
  assert.deepEqual(res.steps.map((s) => [s.rate, s.partial]), [[100, false], [200, false], [300, true]]);
  assert.equal(res.knee, 200);
  assert.equal(res.firstFailure, null);
  assert.match(formatSweep(res), /^300\/s .* \(partial\)$/m);
  assert.match(res.notes.join('\n'), /interrupted during the step at 300 req\/s/);
});
