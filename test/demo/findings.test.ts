import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileBuilder, contentionToPprof, V8_GC_FRAME } from '../../src/profile/index.js';
import { Metrics } from '../../src/metrics/index.js';
import {
  allocCulprit,
  eventSummary,
  gcFinding,
  improvement,
  lockCulprit,
  runNumbers,
  tailShape,
  tailEpisode,
  type RunNumbers,
} from '../../src/demo/findings.js';
import { SampleBuilder } from '../../src/compare/sample.js';
import { niceRate } from '../../src/demo/calibrate.js';
import { parseReadyLine } from '../../src/demo/service.js';
import { result } from '../../support/results.js';

/**
 * The demo's sentences are computed from measurements: these check that each one follows the
 * numbers it is given, including when they do not have the story's shape.
 */

/**
 * A finding's sentence is prose for a person and may be reworded; what a test holds it to is that it
 * states the numbers it is about (in the units the demo prints), each of them.
 */
function states(sentence: string, ...facts: string[]): void {
  const missing = facts.filter((f) => !sentence.includes(f));
  assert.deepEqual(missing, [], `"${sentence}" should state ${missing.join(', ')}`);
}

function numbers(p50: number, p99: number, mean: number): RunNumbers {
  const ms = 1e6;
  return { name: 'x', requests: 1000, success: 1, rate: 100, p50: p50 * ms, p90: p50 * ms, p99: p99 * ms, p999: p99 * ms, mean: mean * ms, max: p99 * ms };
}

test('tailShape: a fat tail is p99 >= 10x p50 and >= 3x mean; otherwise it says so', () => {
  const fat = tailShape(numbers(2, 480, 20));
  assert.equal(fat.fat, true);
  assert.equal(fat.p99OverP50, 240);
  assert.equal(fat.p99OverMean, 24);
  states(fat.sentence, 'mean 20.0 ms', 'median 2.00 ms', 'p99 480 ms', '240x', '24x');
  const thin = tailShape(numbers(2, 12, 3));
  assert.equal(thin.fat, false);
  states(thin.sentence, 'p99 12.0 ms', '6.0x');
  assert.equal(tailShape(numbers(2, 25, 10)).fat, false, '12.5x the median but only 2.5x the mean');
});

test('runNumbers comes from Metrics', () => {
  const m = new Metrics();
  for (let i = 1; i <= 100; i++) {
    m.add(result(i, i * 1e6, { attack: 'a', timestamp: BigInt(i) * 10_000_000n, sendLag: 0, url: 'u' }));
  }
  const n = runNumbers('broken', m);
  assert.equal(n.name, 'broken');
  assert.equal(n.requests, 100);
  assert.equal(n.max, 100e6);
  assert.ok(Math.abs(n.p50 - 50e6) < 0.1e6);
  assert.ok(Math.abs(n.mean - 50.5e6) < 1);
});

function cpuProfile(gcMs: number, otherMs: number) {
  const b = new ProfileBuilder({ sampleTypes: [['samples', 'count'], ['cpu', 'nanoseconds']], periodType: ['cpu', 'nanoseconds'], period: 1e6 });
  const gc = b.location({ name: V8_GC_FRAME, file: '', line: 0 });
  const work = b.location({ name: 'handle', file: '/x/service.js', line: 10 });
  const prog = b.location({ name: '(program)', file: '', line: 0 });
  b.sample([gc], [gcMs, gcMs * 1e6]);
  b.sample([work], [otherMs, otherMs * 1e6]);
  b.sample([prog], [1, 1e6]);
  return b.build();
}

test('gcFinding: the GC share of a CPU profile, loud from 10%', () => {
  const loud = gcFinding(cpuProfile(30, 69));
  assert.ok(Math.abs(loud.gcFraction - 0.3) < 1e-9);
  assert.equal(loud.loud, true);
  states(loud.sentence, '30.0%');
  const quiet = gcFinding(cpuProfile(3, 96));
  assert.equal(quiet.loud, false);
  states(quiet.sentence, '3.0%', '10.0%');
  assert.equal(gcFinding(null).loud, false);
});

function allocsProfile(top: { name: string; file: string }) {
  const b = new ProfileBuilder({
    sampleTypes: [['alloc_objects', 'count'], ['alloc_space', 'bytes']],
    periodType: ['space', 'bytes'],
    period: 32768,
    defaultSampleType: 'alloc_space',
  });
  const handle = b.location({ name: 'handle', file: '/w/dist/examples/lookup/service.js', line: 40 });
  const a = b.location({ name: top.name, file: top.file, line: 17 });
  const a2 = b.location({ name: top.name, file: top.file, line: 25 });
  const other = b.location({ name: 'processImmediate', file: 'node:internal/timers', line: 400 });
  b.sample([a, handle], [10, 6000]);
  b.sample([a2, handle], [10, 1000]);
  b.sample([other], [10, 3000]);
  return b.build();
}

test('allocCulprit: names the top allocating function and its heaviest line, and whether it is the fault', () => {
  const hit = allocCulprit(allocsProfile({ name: 'renderFresh', file: '/w/dist/examples/lookup/render.js' }));
  assert.ok(hit.culprit);
  assert.equal(hit.culprit.function, 'renderFresh');
  assert.equal(hit.culprit.line, 17);
  assert.ok(Math.abs(hit.culprit.share - 0.7) < 1e-9);
  assert.equal(hit.culprit.expected, true);
  states(hit.sentence, 'renderFresh', '/w/dist/examples/lookup/render.js:17', '70.0%');
  const miss = allocCulprit(allocsProfile({ name: 'parseHeaders', file: 'node:_http_common' }));
  assert.equal(miss.culprit!.expected, false);
  states(miss.sentence, 'parseHeaders');
});

test('lockCulprit: the top waiting call site of a block profile, the lock, the average queue', () => {
  const frame = (functionName: string, file: string, line: number) => ({ functionName, file, line, column: 5 });
  const block = contentionToPprof(
    [
      { stack: [frame('lookup', '/w/dist/examples/lookup/table.js', 42), frame('handle', '/w/dist/examples/lookup/service.js', 60)], lockName: 'lookup.table', count: 900, delayNs: 9e9, mode: 'write' },
      { stack: [frame('refresh', '/w/dist/examples/lookup/table.js', 88)], lockName: 'lookup.table', count: 3, delayNs: 1e9, mode: 'write' },
    ],
    { kind: 'block', durationNs: 5e9 },
  );
  const r = lockCulprit(block, 5);
  assert.ok(r.culprit);
  assert.equal(r.culprit.function, 'lookup');
  assert.equal(r.culprit.line, 42);
  assert.equal(r.culprit.lock, 'lookup.table');
  assert.equal(r.culprit.waits, 903);
  assert.equal(r.culprit.expected, true);
  assert.equal(r.waitNs, 10e9);
  states(r.sentence, '903 waits', '10s of waiting', '5s window', '2.0 requests queued', '90.0%', 'lookup');
  const none = lockCulprit(contentionToPprof([], { kind: 'block' }), 5);
  assert.equal(none.culprit, null);
  assert.equal(none.waitNs, 0);
  const elsewhere = contentionToPprof([{ stack: [frame('flush', '/w/app/log.js', 7)], lockName: 'log', count: 5, delayNs: 5e6 }], { kind: 'block' });
  assert.equal(lockCulprit(elsewhere, 5).culprit!.expected, false);
});

test('improvement and events: sentences state the numbers, including a regression', () => {
  const better = improvement(numbers(2, 480, 20), numbers(1, 35, 2));
  assert.equal(better.factor, 480 / 35);
  states(better.sentence, 'p99 480 ms -> 35.0 ms', '14x lower');
  const worse = improvement(numbers(1, 35, 2), numbers(1, 70, 3));
  assert.equal(worse.factor, 0.5);
  states(worse.sentence, 'p99 35.0 ms -> 70.0 ms', '2.0x HIGHER');
  const ev = eventSummary(
    [
      { kind: 'gc', start: 0n, duration: 5e6, detail: 'scavenge' },
      { kind: 'gc', start: 1n, duration: 120e6, detail: 'mark-sweep-compact' },
      { kind: 'stall', start: 2n, duration: 130e6, detail: '' },
    ],
    10e9,
  );
  assert.equal(ev.gcPauses, 2);
  assert.equal(ev.majorGcs, 1);
  assert.equal(ev.gcTotalNs, 125e6);
  assert.equal(ev.gcLongestNs, 120e6);
  assert.equal(ev.stalls, 1);
  states(ev.sentence, '2 GC pauses', '1 full', '125 ms', '1.3%', '120 ms', '1 event-loop stall', '130 ms');
  assert.equal(ev.machineStalls, 0, 'the 130 ms stall is almost all GC pause: explained');
  const quiet = eventSummary([], 1e9);
  assert.deepEqual([quiet.gcPauses, quiet.stalls, quiet.machineStalls], [0, 0, 0]);
  // A stall with no GC pause in it: the process did not get the CPU.
  const busy = eventSummary(
    [
      { kind: 'gc', start: 0n, duration: 30e6, detail: 'scavenge' },
      { kind: 'stall', start: 0n, duration: 35e6, detail: '' },
      { kind: 'stall', start: 1_000_000_000n, duration: 80e6, detail: '' },
    ],
    10e9,
  );
  assert.equal(busy.machineStalls, 1);
  assert.equal(busy.machineStallLongestNs, 80e6);
  states(busy.sentence, '80.0 ms');
});

test('rates are rounded as people write them; the ready line', () => {
  assert.equal(niceRate(227.8), 230);
  assert.equal(niceRate(1049), 1000);
  assert.deepEqual(parseReadyLine('lookup ready url=http://127.0.0.1:1 pprof=http://127.0.0.1:2 alloc=pool lock=mutex entries=5'), {
    url: 'http://127.0.0.1:1',
    pprof: 'http://127.0.0.1:2',
    alloc: 'pool',
    lock: 'mutex',
    entries: '5',
  });
  assert.equal(parseReadyLine('something else'), null);
});

test('tailEpisode: slow requests bunched in one 2 s stretch are an episode; spread out, they are not', () => {
  // 20 s at 100 req/s; 1% of the requests are 500 ms, the rest 2 ms.
  const run = (slowAt: (i: number) => boolean) => {
    const b = new SampleBuilder();
    for (let i = 0; i < 2000; i++) {
      b.add({ attack: '', seq: i, code: 200, timestamp: 1_700_000_000_000_000_000n + BigInt(i * 10e6), latency: slowAt(i) ? 500e6 : 2e6,
        sendLag: 0, bytesOut: 0, bytesIn: 0, error: '', body: null, method: 'GET', url: 'http://x/', headers: null });
    }
    return tailEpisode(b.build(), 400e6, 2e9)!;
  };
  const bunched = run((i) => i >= 1000 && i < 1020); // all 20 within 0.2 s, 10 s in
  assert.equal(bunched.slow, 20);
  assert.equal(bunched.share, 1);
  assert.ok(bunched.startNs <= 10e9 && bunched.startNs + bunched.windowNs >= 10.2e9, `window ${bunched.startNs}+${bunched.windowNs}`);
  const spread = run((i) => i % 100 === 0); // one a second
  assert.equal(spread.slow, 20);
  assert.ok(spread.share <= 0.15, `spread share ${spread.share}`);
  assert.equal(tailEpisode(new SampleBuilder().build(), 1e6), null);
});
