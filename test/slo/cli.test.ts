import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync, rmSync } from 'node:fs';
import { readMetrics } from '../../src/metrics/index.js';
import { listen } from '../helpers/servers.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

const dir = tempDir('tailprobe-slo-');
const server = await listen((_req, res) => res.end('ok'));
after(() => server.close());
after(() => rmSync(dir, { recursive: true, force: true }));
const target = `GET ${server.url}/\n`;
const results = join(dir, 'run.bin');

test('attack -slo: verdicts on stderr, results on stdout untouched, exit 0 when every threshold holds', async () => {
  const r = await runCli(['attack', '-rate=50', '-duration=1s', "-slo=p99<10s,success>=99%", '-slo', 'rate>=1'], { input: target });
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(results, r.stdout);
  const { metrics } = await readMetrics([results]);
  assert.equal(metrics.requests, 50, 'stdout is still a clean results stream');
  assert.match(r.stderr, /^SLO p99<10s +\S+ +pass$/m);
  assert.match(r.stderr, /^SLO success>=99% +100% +pass$/m);
  assert.match(r.stderr, /^SLO rate>=1 +\S+\/s +pass$/m);
  assert.match(r.stderr, /^SLO passed: 3 of 3 thresholds held$/m);
});

test('attack -slo: a crossed threshold exits 99 (as k6)', async () => {
  const r = await runCli(['attack', '-rate=50', '-duration=500ms', `-output=${join(dir, 'x.bin')}`, '-slo=p50<1ns'], { input: target });
  assert.equal(r.code, 99, r.stderr);
  assert.match(r.stderr, /^SLO p50<1ns +\S+ +FAIL \(\d+(\.\d+)?x the limit\)$/m);
  assert.match(r.stderr, /^SLO FAILED: 1 of 1 thresholds crossed \(exit 99\)$/m);
});

test('report -slo: the report on stdout, the gate on stderr, exit 99 on failure', async () => {
  const ok = await runCli(['report', '-slo=max<1m', results]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout.toString(), /^Latencies /m);
  assert.doesNotMatch(ok.stdout.toString(), /SLO/);
  assert.match(ok.stderr, /^SLO max<1m .* pass$/m);
  const json = await runCli(['report', '-type=json', '-slo=p(99.9)<1ns', results]);
  assert.equal(json.code, 99);
  assert.ok(JSON.parse(json.stdout.toString()).requests > 0, 'stdout stays valid JSON');
  assert.match(json.stderr, /^SLO p\(99\.9\)<1ns .* FAIL/m);
});

test('a malformed SLO is one line and exit 2, before any load is sent', async () => {
  let hits = 0;
  const counting = await listen((_req, res) => {
    hits++;
    res.end();
  });
  try {
    const cases: Array<[string[], RegExp]> = [
      [['attack', '-rate=50', '-duration=1s', '-output=/dev/null', '-slo=p99<<50ms'], /^tailprobe: invalid SLO threshold "p99<<50ms": more than one operator$/],
      [['attack', '-rate=50', '-duration=1s', '-output=/dev/null', '-slo=p99<50'], /^tailprobe: invalid SLO threshold "p99<50": invalid duration "50" \(missing unit, e\.g\. 50ms or 1\.5s\)$/],
      [['report', '-slo=latency<5ms', results], /^tailprobe: invalid SLO threshold "latency<5ms": unknown metric "latency"/],
      [['sweep', '-rates=10:20:10', '-slo=success>=99.9', '-step-duration=1s'], /^tailprobe: invalid SLO threshold "success>=99\.9": ratio "99\.9" is outside 0\.\.100%/],
    ];
    for (const [args, want] of cases) {
      const r = await runCli(args, { input: `GET ${counting.url}/\n` });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr.trimEnd(), want);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    }
    assert.equal(hits, 0, 'no request was sent');
  } finally {
    await counting.close();
  }
});

test('sweep: a bad rate range or plan is one line and exit 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['sweep', '-rates=100:50:10'], /^tailprobe: sweep: invalid -rates "100:50:10": START is above STOP$/],
    [['sweep', '-rates=a:b'], /^tailprobe: sweep: invalid -rates "a:b": want START:STOP:STEP/],
    [['sweep'], /^tailprobe: sweep: -rates is required/],
    [['sweep', '-rates=auto'], /^tailprobe: sweep: -rates=auto needs -slo/],
    [['sweep', '-rates=10', '-step-duration=0'], /^tailprobe: sweep: -step-duration must be positive$/],
  ];
  for (const [args, want] of cases) {
    const r = await runCli(args, { input: target });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), want);
  }
});
