import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { encodeJsonResult } from '../../src/results/vegeta-json.js';
import { encodeCsvResult } from '../../src/results/vegeta-csv.js';
import { parseSweepPlot, isSweepPlotDocument } from '../../src/plot/sweep.js';
import { plotHtml } from '../../src/plot/plot.js';
import { syntheticBatches, writeSyntheticFile } from '../../support/synthetic-run.js';

/** The page's embedded data, as the browser will read it. */
function pageData(html: string): any {
  const m = /<script id="tp-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the page embeds its data');
  return JSON.parse(m[1]!);
}

function assertSelfContained(html: string): void {
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  // Nothing is loaded from elsewhere: no src/href attributes, no CSS imports or url() but data:.
  assert.doesNotMatch(html, /<(script|img|link|iframe)[^>]+(src|href)=/i);
  assert.doesNotMatch(html, /@import/);
  assert.doesNotMatch(html.replace(/url\(\s*["']?data:/g, ''), /url\(/);
  assert.doesNotMatch(html, /sourceMappingURL/);
  // Every script element ends where it should (the inlined code never closes one early).
  assert.equal((html.match(/<script[\s>]/g) ?? []).length, 3);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 3);
}

test('vegeta JSON on stdin to stdout: a self-contained page with every request', async () => {
  const lines = [...syntheticBatches({ count: 3000, rate: 300, name: 'from-vegeta' })].flat().map(encodeJsonResult).join('');
  const r = await runCli(['plot'], { input: lines });
  assert.equal(r.code, 0, r.stderr);
  const html = r.stdout.toString();
  assertSelfContained(html);
  assert.match(html, /<title>tailprobe: from-vegeta<\/title>/);
  const d = pageData(html);
  assert.equal(d.runs.length, 1);
  assert.equal(d.runs[0].points.seen, 3000);
  assert.equal(d.runs[0].points.exact, true);
  // vegeta's formats carry no send times: the page says so rather than inventing them.
  assert.match(html, /not recorded \(vegeta results carry no send times\)/);
});

test('files in any format, gzipped or not, each a run; -title, -bucket, -points', async () => {
  const dir = tempDir('tailprobe-plot-cli-');
  const bin = join(dir, 'before.bin');
  await writeSyntheticFile(bin, { count: 20_000, rate: 1000, name: 'before' });
  const csv = join(dir, 'after.csv.gz');
  writeFileSync(csv, gzipSync([...syntheticBatches({ count: 20_000, rate: 1000, name: 'after', pauseMs: 20 })].flat().map(encodeCsvResult).join('')));
  const out = join(dir, 'out.html');
  const r = await runCli(['plot', bin, csv, '-o', out, '-title=before/after', '-bucket=500ms', '-points=5000', '-columns=300']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.length, 0, 'the page went to the file, not stdout');
  const html = readFileSync(out, 'utf8');
  assertSelfContained(html);
  const d = pageData(html);
  assert.equal(d.title, 'before/after');
  assert.deepEqual(d.runs.map((x: any) => x.name), ['before', 'after']);
  for (const run of d.runs) {
    assert.equal(run.series.bucketS, 0.5);
    assert.equal(run.points.seen, 20_000);
    assert.equal(run.points.exact, false, 'more requests than -points: downsampled');
    assert.ok(run.points.kept < 20_000);
  }
  // The binary file carried its agent events; vegeta CSV cannot.
  assert.ok(d.runs[0].events.count > 0);
  assert.equal(d.runs[1].events.count, 0);
  assert.ok(statSync(out).size < 600_000, `${statSync(out).size} bytes`);
});

test('a cut-off results file still plots, with the report\'s note', async () => {
  const dir = tempDir('tailprobe-plot-cut-');
  const bin = join(dir, 'cut.bin');
  await writeSyntheticFile(bin, { count: 2000, rate: 500 });
  const whole = readFileSync(bin);
  writeFileSync(bin, whole.subarray(0, Math.floor(whole.length * 0.6) + 3));
  const r = await runCli(['plot', bin]);
  assert.equal(r.code, 0, r.stderr);
  const html = r.stdout.toString();
  assert.match(html, /class="warnings"/);
  assert.ok(pageData(html).runs[0].points.seen > 500);
});

test('bad input: one line and the right exit code', async () => {
  const dir = tempDir('tailprobe-plot-bad-');
  const missing = await runCli(['plot', join(dir, 'nope.bin')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `tailprobe: ${join(dir, 'nope.bin')}: no such file\n`);

  const y = await runCli(['plot', '-y=cubic']);
  assert.equal(y.code, 2);
  assert.match(y.stderr, /^tailprobe: plot: invalid value "cubic" for flag -y \(want log or linear\)\n$/);

  const flag = await runCli(['plot', '-nope']);
  assert.equal(flag.code, 2);
  assert.equal(flag.stderr.split('\n').length, 2);

  const empty = await runCli(['plot'], { input: '' });
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /^tailprobe: no results to plot in -\n$/);

  const garbage = join(dir, 'garbage.txt');
  writeFileSync(garbage, 'hello world\n');
  const g = await runCli(['plot', garbage]);
  assert.equal(g.code, 1);
  assert.match(g.stderr, /^tailprobe: .*garbage\.txt: unrecognized results format/);
  assert.doesNotMatch(g.stderr, /\n.+/, 'one line');

  const badSlo = join(dir, 'sweep.json');
  writeFileSync(badSlo, JSON.stringify({ slo: 'p99<fast', steps: [{ rate: 1, p99: 1 }] }));
  const s = await runCli(['plot', badSlo]);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /^tailprobe: .*sweep\.json: invalid SLO in sweep file: /);

  const out = await runCli(['plot', '-o', join(dir, 'no', 'such', 'dir.html')], { input: [...syntheticBatches({ count: 10, rate: 10 })].flat().map(encodeJsonResult).join('') });
  assert.equal(out.code, 1);
  assert.match(out.stderr, /^tailprobe: plot: cannot write .*dir\.html: no such file or directory \(ENOENT\)\n$/);
});

test('sweep files are read tolerantly', () => {
  const ns = parseSweepPlot(
    {
      slo: { thresholds: [{ expr: 'p99<50ms' }, 'p99.9<=200ms', 'success>=99%'] },
      knee: 400,
      steps: [
        { rate: 400, achieved: 399.5, p50: 2e6, p90: 3e6, p99: 9e6, p999: 30e6, max: 60e6, success: 1 },
        { rate: 200, achieved: 200, p50: 1e6, p90: 2e6, p99: 4e6, p999: 8e6, max: 9e6, success: 1 },
      ],
    },
    'a.json',
  );
  assert.deepEqual(ns.steps.map((s) => s.rate), [200, 400], 'sorted by rate');
  assert.equal(ns.knee, 400);
  assert.deepEqual(ns.slo?.limits, [
    { label: 'p99<50ms', ns: 50e6 },
    { label: 'p99.9<=200ms', ns: 200e6 },
  ]);

  const other = parseSweepPlot(
    {
      slo: 'p99<25ms',
      knee: { index: 1 },
      results: [
        { offered: '100/s', actual: 100, latencies: { '50th': '1.5ms', '99th': '12ms', 'p99.9': '20ms', max: '31ms' }, success: '99.5%' },
        { offeredRate: 300, p50Ms: 2, p99Ms: 40, p99_9_ms: 90, successRatio: 97 },
      ],
    },
    'b.json',
  );
  assert.equal(other.knee, 300);
  assert.equal(other.steps[0]!.rate, 100);
  assert.equal(other.steps[0]!.p50, 1.5e6);
  assert.equal(other.steps[0]!.p99, 12e6);
  assert.equal(other.steps[0]!.p999, 20e6);
  assert.equal(other.steps[0]!.success, 0.995);
  assert.ok(Number.isNaN(other.steps[0]!.p90));
  assert.equal(other.steps[1]!.p99, 40e6);
  assert.equal(other.steps[1]!.p999, 90e6);
  assert.equal(other.steps[1]!.success, 0.97);

  assert.equal(isSweepPlotDocument({ attack: 'x', code: 200 }), false);
  assert.throws(() => parseSweepPlot({ steps: [{ p99: 1 }] }, 'c.json'), /c\.json: step 1 has no offered rate/);
});

test('a sweep alone plots as a page of its own', async () => {
  const dir = tempDir('tailprobe-plot-sweep-');
  const f = join(dir, 'sweep.json');
  writeFileSync(f, JSON.stringify({ steps: [{ rate: 100, p50: 1e6, p99: 5e6 }, { rate: 200, p50: 2e6, p99: 9e6 }], knee: null }, null, 1));
  const page = await plotHtml([f]);
  assertSelfContained(page);
  const d = pageData(page);
  assert.equal(d.runs.length, 0);
  assert.equal(d.sweep.knee, null);
  assert.doesNotMatch(page, /id="tp-summary"/);
});
