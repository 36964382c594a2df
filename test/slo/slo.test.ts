import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSlo, parseSloFlags, evaluateSlo, formatSloVerdicts, sloExitCode, sloGate } from '../../src/slo/index.js';
import { Metrics } from '../../src/metrics/index.js';
import { UsageError, EXIT_SLO_FAILED } from '../../src/errors.js';
import { result } from '../../support/results.js';

/** 1000 requests every 2 ms (500 req/s): latency i+1 ms for i < 1000, so pN = N*10 ms; requests 0..4 fail. */
function knownRun(): Metrics {
  const m = new Metrics();
  for (let i = 0; i < 1000; i++) m.add(result(i, (i + 1) * 1e6, i < 5 ? { code: 503 } : {}));
  return m;
}

test('parseSlo: k6-like thresholds in every spelling', () => {
  const s = parseSlo('p99<50ms, p(99.9) <= 200ms,success>=99.9%,mean<10ms,max<1s,median<5ms,rate>=500,throughput>490/s,errors<0.01,min>=0');
  const t = s.thresholds;
  assert.equal(t.length, 10);
  assert.deepEqual([t[0]!.metric, t[0]!.op, t[0]!.value, t[0]!.kind], ['p99', '<', 50e6, 'latency']);
  assert.deepEqual([t[1]!.metric, t[1]!.percentile, t[1]!.op, t[1]!.value], ['p99.9', 99.9, '<=', 200e6]);
  assert.equal(t[1]!.expr, 'p(99.9)<=200ms');
  assert.deepEqual([t[2]!.metric, t[2]!.op, t[2]!.kind], ['success', '>=', 'ratio']);
  assert.ok(Math.abs(t[2]!.value - 0.999) < 1e-12);
  assert.equal(t[3]!.metric, 'mean');
  assert.equal(t[4]!.value, 1e9);
  assert.deepEqual([t[5]!.metric, t[5]!.percentile], ['p50', 50]);
  assert.deepEqual([t[6]!.metric, t[6]!.value, t[6]!.kind], ['rate', 500, 'rate']);
  assert.equal(t[7]!.value, 490);
  assert.equal(t[8]!.value, 0.01);
  assert.equal(t[9]!.value, 0);
  assert.equal(parseSlo('rate>=30000/1m').thresholds[0]!.value, 500);
  assert.equal(parseSlo('p95==1.5s').thresholds[0]!.op, '==');
  assert.equal(parseSlo('P99 < 1m30s').thresholds[0]!.value, 90e9);
});

test('parseSlo: a malformed expression is one UsageError naming the threshold', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /empty expression/],
    ['p99<50ms,', /empty threshold/],
    ['p99<<50ms', /more than one operator/],
    ['p99 50ms', /expected METRIC OP VALUE/],
    ['<50ms', /expected METRIC OP VALUE/],
    ['p99<', /missing value/],
    ['p99!=5ms', /unknown operator/],
    ['p99=>5ms', /unknown operator/],
    ['p99<50', /missing unit/],
    ['p99<fast', /invalid duration "fast"/],
    ['p99<-5ms', /negative/],
    ['p101<5ms', /unknown metric "p101"/],
    ['p(99<5ms', /unknown metric/],
    ['latency<5ms', /unknown metric "latency".*known: p\(N\)/],
    ['success>=99.9', /outside 0..100%.*with %/],
    ['success>=101%', /outside 0..100%/],
    ['success>=abc%', /invalid ratio/],
    ['rate>=lots', /invalid rate/],
    ['rate>=5/xs', /invalid rate/],
  ];
  for (const [expr, why] of bad) {
    assert.throws(() => parseSlo(expr), (e: unknown) => {
      assert.ok(e instanceof UsageError, `${expr}: ${String(e)}`);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, why, expr);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
  assert.match(
    (() => { try { parseSlo('p99<50ms,p99.9<2OOms'); } catch (e) { return (e as Error).message; } return ''; })(),
    /^invalid SLO threshold "p99.9<2OOms" in "p99<50ms,p99.9<2OOms": invalid duration/,
  );
});

test('parseSloFlags joins repeated flags and treats none as no SLO', () => {
  assert.equal(parseSloFlags([]), null);
  assert.equal(parseSloFlags(['  ']), null);
  assert.deepEqual(parseSloFlags(['p99<5ms', 'success>=99%,max<1s'])!.thresholds.map((t) => t.metric), ['p99', 'success', 'max']);
});

test('evaluateSlo against a run with known numbers', () => {
  const m = knownRun();
  const v = evaluateSlo(parseSlo('p50<=501ms,p99<900ms,p99.9<1s,success>=99.9%,errors<1%,mean<400ms,min==1ms,max<=1s,rate>=499,throughput>=600'), m);
  const by = Object.fromEntries(v.map((x) => [x.expr, x]));
  // p50 of 1..1000 ms is 500 ms (HDR within 0.1 %).
  assert.ok(Math.abs(by['p50<=501ms']!.measured - 500e6) <= 0.5e6, String(by['p50<=501ms']!.measured));
  assert.equal(by['p50<=501ms']!.pass, true);
  // p99 = 990 ms > 900 ms: fails at 1.1x the limit.
  assert.equal(by['p99<900ms']!.pass, false);
  assert.ok(Math.abs(by['p99<900ms']!.severity - 1.1) < 0.002);
  assert.equal(by['p99.9<1s']!.pass, true);
  // 5 of 1000 failed: success 99.5 % misses 99.9 % by 5x in failures.
  assert.equal(by['success>=99.9%']!.measured, 0.995);
  assert.equal(by['success>=99.9%']!.pass, false);
  assert.ok(Math.abs(by['success>=99.9%']!.severity - 5) < 1e-9);
  assert.equal(by['errors<1%']!.pass, true);
  assert.ok(Math.abs(by['errors<1%']!.severity - 0.5) < 1e-9);
  assert.equal(by['mean<400ms']!.measured, 500.5e6);
  assert.equal(by['mean<400ms']!.pass, false);
  assert.equal(by['min==1ms']!.pass, true);
  assert.equal(by['max<=1s']!.pass, true);
  assert.ok(Math.abs(by['rate>=499']!.measured - 500) < 1e-9);
  assert.equal(by['rate>=499']!.pass, true);
  // throughput = 995 successes over 1.998 s + 1 s wait.
  assert.ok(Math.abs(by['throughput>=600']!.measured - 995 / 2.998) < 1e-9);
  assert.equal(by['throughput>=600']!.pass, false);
  assert.equal(sloExitCode(v), EXIT_SLO_FAILED);
  assert.equal(sloExitCode(v.filter((x) => x.pass)), 0);

  const text = formatSloVerdicts(v);
  assert.match(text, /^SLO p99<900ms\s+990\.\d+ms\s+FAIL \(1\.1x the limit\)$/m);
  assert.match(text, /^SLO success>=99\.9%\s+99\.5%\s+FAIL \(5x the limit\)$/m);
  assert.match(text, /^SLO rate>=499\s+500\/s\s+pass$/m);
  assert.match(text, /^SLO FAILED: 4 of 10 thresholds crossed \(exit 99\)$/m);
});

test('an empty run fails every threshold, visibly', () => {
  const v = evaluateSlo(parseSlo('p99<1s,success>=0%'), new Metrics());
  assert.ok(v.every((x) => !x.pass && Number.isNaN(x.measured)));
  assert.match(formatSloVerdicts(v), /no requests\s+FAIL/);
});

test('sloGate prints and returns the exit code; no SLO is a no-op', () => {
  let out = '';
  const w = { write: (s: string) => ((out += s), true) };
  assert.equal(sloGate(null, knownRun(), w), 0);
  assert.equal(out, '');
  assert.equal(sloGate(parseSlo('p99<2s'), knownRun(), w), 0);
  assert.match(out, /SLO passed: 1 of 1/);
  assert.equal(sloGate(parseSlo('p99<2ms'), knownRun(), w), 99);
});
