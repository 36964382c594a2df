import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { runCli } from '../helpers/cli.js';
import { ARTIFACTS, tempDir } from '../helpers/paths.js';
import { busyWait, listen } from '../helpers/servers.js';
import { CHROMIUM_CANDIDATES, requireTool } from '../helpers/tools.js';
import { chartInk, launchChromium, openReport, type ChartInk } from '../../support/browser.js';
import { writeSyntheticFile } from '../../support/synthetic-run.js';
import { startAgent } from '../../src/agent/index.js';
import { readMetrics } from '../../src/metrics/index.js';
import { describeKey } from '../../src/explain/index.js';
import { startInjected } from '../explain/services.js';

/**
 * The report page in a real browser (headless Chromium): opened from disk with no network, every
 * chart has drawn data (pixels read back from the canvases), zoom works across a run's charts, and
 * the summary shows the very numbers `tailprobe report -type=json` prints for the same file.
 */

function offline(requests: string[], html: string): void {
  const foreign = requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:'));
  assert.deepEqual(foreign, [], 'the page made no network request');
  assert.deepEqual(requests.filter((u) => u.startsWith('file://')), [pathToFileURL(html).href], 'and loaded no other file');
}

function assertDrawn(ink: ChartInk[], kinds: string[], context = ''): void {
  for (const k of kinds) assert.ok(ink.some((c) => c.kind === k), `a ${k} chart exists`);
  for (const c of ink) {
    assert.ok(c.width > 200 && c.height > 20, `${c.id} has a plot area (${c.width}x${c.height})`);
    assert.ok(c.ink > 30, `${c.id} drew data (${c.ink} coloured pixels in its plot area)${context ? `; ${context}` : ''}`);
  }
}

function jsonAt(doc: unknown, path: string): unknown {
  return path.split('/').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc);
}

async function xScales(page: Page, run: number): Promise<Record<string, [number, number]>> {
  return page.evaluate((run) => {
    const tp = (globalThis as any).__tailprobe;
    const out: Record<string, [number, number]> = {};
    for (const c of tp.charts) if (c.run === run) out[c.kind] = [c.u.scales.x.min, c.u.scales.x.max];
    return out;
  }, run);
}

/**
 * A real loopback attack on a service with a tail: every 50th answer is a 503, and every 700 ms
 * its event loop stalls for 80 ms (a stand-in for a GC pause) so that the requests scheduled
 * meanwhile queue up: a lurch. It runs the tailprobe agent, which records those stalls;
 * `attack -profile` puts them in the file.
 */
async function lurchingAttack(dir: string, name: string): Promise<{ bin: string; stalls: number; events: string }> {
  const bin = join(dir, `${name}.bin`);
  let n = 0;
  const svc = await listen((_req, res) => {
    if (++n % 50 === 0) res.statusCode = 503;
    res.end('hello');
  });
  const agent = await startAgent({ host: '127.0.0.1', port: 0, stallThresholdMs: 40 });
  const lurch = setInterval(() => busyWait(80), 700);
  try {
    const targets = join(dir, 'targets.txt');
    writeFileSync(targets, `GET ${svc.url}/api/lookup\n`);
    const a = await runCli(
      ['attack', '-rate=200', '-duration=3s', `-targets=${targets}`, `-output=${bin}`, '-name=loopback', '-quiet',
        `-profile=${agent.url}`, '-profile-types=heap', `-profile-out=${join(dir, `profiles-${name}`)}`],
      { timeoutMs: 40_000 },
    );
    assert.equal(a.code, 0, a.stderr);
  } finally {
    clearInterval(lurch);
    await agent.close();
    await svc.close();
  }
  const { sources } = await readMetrics([bin]);
  const events = sources[0]!.meta.events;
  const stalls = events.filter((e) => e.kind === 'stall').length;
  return { bin, stalls, events: events.map((e) => `${e.kind} ${(e.duration / 1e6).toFixed(1)}ms`).join(', ') };
}

test('report of a real loopback attack: offline, every chart drawn, zoom, the numbers of report -type=json', async (t) => {
  const exe = requireTool(t, 'chromium', CHROMIUM_CANDIDATES);
  if (!exe) return;
  const dir = tempDir('tailprobe-plot-');
  const html = join(dir, 'report.html');

  // The attack's file must carry the agent's stalls (the events lane draws them). Whether the
  // machine let the agent see two of them in 3 s is the environment's part: once, on a fresh
  // clone, a run had none. Measure again once in that case, and say so.
  let run = await lurchingAttack(dir, 'loopback-1');
  if (run.stalls < 2) {
    process.stderr.write(`\n*** plot browser test: the attack recorded ${run.stalls} agent stalls (events: ${run.events}); attacking once more\n`);
    run = await lurchingAttack(dir, 'loopback-2');
  }
  const bin = run.bin;

  const p = await runCli(['plot', bin, '-o', html]);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.stderr, '');
  const rep = await runCli(['report', '-type=json', bin]);
  assert.equal(rep.code, 0, rep.stderr);
  const json = JSON.parse(rep.stdout.toString()) as Record<string, unknown>;
  const text = (await runCli(['report', bin])).stdout.toString();
  assert.ok((json.requests as number) >= 500, `the attack sent ${json.requests} requests`);

  const browser = await launchChromium(exe);
  try {
    const r = await openReport(browser, html);
    assert.deepEqual(r.problems, [], 'no console errors or warnings');
    offline(r.requests, html);
    // The agent's stalls are on the events lane, each about as long as the service's 80 ms stall.
    const events = await r.page.evaluate(() => JSON.parse((globalThis as any).document.getElementById('tp-data').textContent).runs[0].events);
    const seen = `events in the page: ${JSON.stringify({ ...events, kind: undefined, x0: undefined, durMs: undefined, detail: undefined, x0s: events.x0 })}`;
    assert.ok(events.stallCount >= 2, `${events.stallCount} stalls recorded; ${seen}`);
    assert.ok(events.stallMaxMs >= 60, `longest stall ${events.stallMaxMs} ms; ${seen}`);
    assertDrawn(await chartInk(r.page), ['latency', 'events', 'throughput', 'distribution'], seen);

    // Every request is drawn at this size, failed ones apart.
    const pts = await r.page.evaluate(() => {
      const d = JSON.parse((globalThis as any).document.getElementById('tp-data').textContent);
      return d.runs[0].points;
    });
    assert.equal(pts.exact, true);
    assert.equal(pts.seen, json.requests);
    assert.equal(pts.kept, json.requests);

    // The summary: the same numbers as the JSON report, and the same text as the text report.
    const cells = await r.page.$$eval('#tp-summary td[data-key]', (tds) =>
      tds.map((td) => ({ key: (td as any).dataset.key as string, value: (td as any).dataset.value as string | undefined, text: td.textContent! })),
    );
    assert.ok(cells.length >= 16, `${cells.length} numbers in the summary`);
    for (const c of cells) {
      const want = jsonAt(json, c.key);
      assert.equal(typeof want, 'number', `${c.key} is in the JSON report`);
      assert.equal(Number(c.value), want, `${c.key}: page ${c.value}, report ${want}`);
    }
    for (const key of ['latencies/50th', 'latencies/99th', 'latencies/99.9th', 'latencies/max', 'latencies/min', 'latencies/mean']) {
      const cell = cells.find((c) => c.key === key)!;
      assert.ok(text.includes(cell.text), `${key} "${cell.text}" appears as such in the text report`);
    }
    assert.match(await r.page.locator('#tp-parameters').innerText(), /\d+ GC pauses, [1-9]\d* event-loop stalls/);
    const codes = await r.page.$eval('#tp-summary tr:has(th:text-is("Status codes")) td', (td) => td.textContent!.trim());
    assert.equal(codes.split(/\s+/).join(' '), text.match(/Status Codes\s+\[code:count\]\s+(.*)/)![1]!.trim().split(/\s+/).join(' '));

    // Drag-zoom on the latency chart zooms its run's other charts too; Reset zooms out.
    const full = await xScales(r.page, 0);
    const over = r.page.locator('[data-chart="latency-0"] .u-over');
    await over.scrollIntoViewIfNeeded();
    const box = (await over.boundingBox())!;
    await r.page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await r.page.mouse.down();
    await r.page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await r.page.mouse.up();
    const zoomed = await xScales(r.page, 0);
    const span = (s: [number, number]) => s[1] - s[0];
    assert.ok(span(zoomed.latency!) < span(full.latency!) * 0.4, `zoomed in: ${zoomed.latency} of ${full.latency}`);
    assert.deepEqual(zoomed.throughput, zoomed.latency, 'the throughput chart follows');
    assertDrawn(await chartInk(r.page), ['latency']);
    await r.page.locator('section.run button.reset').first().click();
    assert.deepEqual(await xScales(r.page, 0), full);

    // The latency axis switches to linear and back without errors.
    await r.page.locator('button.yscale').first().click();
    assertDrawn(await chartInk(r.page), ['latency', 'throughput', 'distribution']);
    assert.equal(await r.page.evaluate(() => (globalThis as any).__tailprobe.state.yLog), false);
    await r.page.locator('button.yscale').first().click();
    assert.deepEqual(r.problems, []);

    mkdirSync(ARTIFACTS, { recursive: true });
    await r.page.screenshot({ path: join(ARTIFACTS, 'plot.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

test('ten runs with agent events and a real sweep: overlaid percentiles, an events lane per run, the knee', async (t) => {
  const exe = requireTool(t, 'chromium', CHROMIUM_CANDIDATES);
  if (!exe) return;
  const dir = tempDir('tailprobe-plot10-');
  const files: string[] = [];
  for (let i = 0; i < 10; i++) {
    const f = join(dir, `run-${i}.bin`);
    // The pause shrinks run by run: the fix, measured ten times.
    await writeSyntheticFile(f, { count: 6000, rate: 400, seed: i + 1, name: `build-${i}`, pauseMs: 300 - i * 28, start: 1_700_000_000_000_000_000n + BigInt(i) * 60_000_000_000n });
    files.push(f);
  }
  // A real sweep of a loopback service that spends ~3 ms of CPU per request (capacity ~300/s).
  const svc = await listen((_req, res) => {
    busyWait(3);
    res.end('ok');
  });
  let sweepDoc: any;
  const sweep = join(dir, 'sweep', 'sweep.json');
  try {
    const targets = join(dir, 'targets.txt');
    writeFileSync(targets, `GET ${svc.url}/\n`);
    const sw = await runCli(
      ['sweep', '-rates=50,150,300,450', '-step-duration=1s', '-warmup=200ms', '-slo=p99<40ms', `-targets=${targets}`, `-out=${join(dir, 'sweep')}`, '-quiet'],
      { timeoutMs: 60_000 },
    );
    // 99: the SLO held at no rate (a very busy machine); the plot must draw that too.
    assert.ok(sw.code === 0 || sw.code === 99, sw.stderr);
    sweepDoc = JSON.parse(readFileSync(sweep, 'utf8'));
  } finally {
    await svc.close();
  }
  const html = join(dir, 'ten.html');
  const p = await runCli(['plot', ...files, sweep, '-o', html], { timeoutMs: 60_000 });
  assert.equal(p.code, 0, p.stderr);

  const browser = await launchChromium(exe);
  try {
    const r = await openReport(browser, html);
    assert.deepEqual(r.problems, []);
    offline(r.requests, html);
    const ink = await chartInk(r.page);
    assertDrawn(ink, ['distribution', 'overlay', 'latency', 'events', 'throughput', 'sweep']);
    for (const kind of ['latency', 'events', 'throughput']) assert.equal(ink.filter((c) => c.kind === kind).length, 10, `10 ${kind} charts`);
    const legend = await r.page.$$eval('[data-chart="distribution"] .u-legend .u-series th', (ths) => ths.map((th) => th.textContent!.trim()));
    assert.equal(legend.length, 11, 'percentile axis + 10 runs in the distribution legend');
    assert.equal(await r.page.locator('#tp-summary thead th').count(), 11);
    // The sweep: one row per step, the knee marked when the sweep found one, SLO verdicts.
    assert.equal(await r.page.locator('table.sweep-steps tbody tr').count(), sweepDoc.steps.length);
    if (sweepDoc.knee !== null) assert.match(await r.page.locator('table.sweep-steps tr.knee').innerText(), new RegExp(`^${sweepDoc.knee}/s`));
    const verdicts = await r.page.$$eval('table.sweep-steps tbody tr td:last-child', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(verdicts, sweepDoc.steps.map((st: any) => (st.pass ? 'pass' : 'FAIL')));

    // The events lane lines up with the latency chart: same plot-area left edge and width.
    const geo = await r.page.evaluate(() =>
      (globalThis as any).__tailprobe.charts
        .filter((c: any) => c.run === 0)
        .map((c: any) => ({ kind: c.kind, left: c.u.over.getBoundingClientRect().left, width: c.u.over.getBoundingClientRect().width })),
    );
    const lat = geo.find((g: any) => g.kind === 'latency');
    const ev = geo.find((g: any) => g.kind === 'events');
    assert.ok(Math.abs(lat.left - ev.left) < 1 && Math.abs(lat.width - ev.width) < 1, JSON.stringify(geo));

    mkdirSync(ARTIFACTS, { recursive: true });
    await r.page.screenshot({ path: join(ARTIFACTS, 'plot-ten-runs.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

test('plot -explain of a real attack on a service with a contended lock: a lane of stacked bars, one per slow request, one segment per part, on the run\'s time axis', async (t) => {
  const exe = requireTool(t, 'chromium', CHROMIUM_CANDIDATES);
  if (!exe) return;
  const dir = tempDir('tailprobe-plot-explain-');
  const bin = join(dir, 'lock.bin');
  const cap = join(dir, 'capture.json');
  // A tailprobe/sync Mutex held 120 ms every 400 ms by a slow writer (test/explain/service-main.ts).
  const svc = await startInjected('lock');
  try {
    const a = await runCli(['attack', '-rate=200', '-duration=3s', `-output=${bin}`, `-explain=${svc.agent}`, `-explain-capture=${cap}`, '-name=locked'], { input: `GET ${svc.url}/x\n`, timeoutMs: 40_000 });
    assert.equal(a.code, 0, a.stderr);
  } finally {
    await svc.close();
  }
  // What explain says of the same run and capture, every slow request listed.
  const ex = await runCli(['explain', bin, `-capture=${cap}`, '-above=p90', '-slowest=100000', '-json']);
  assert.equal(ex.code, 0, ex.stderr);
  const e = JSON.parse(ex.stdout.toString()) as { slow: number; attackId: string; verdict: { text: string }; causes: Array<{ key: string }>; slowest: Array<{ traceId: string; cause: string; parts: Record<string, number> }> };
  assert.ok(e.slow >= 30, `${e.slow} slow requests`);
  const segments = e.slowest.reduce((n, s) => n + Object.values(s.parts).filter((v) => v > 0).length, 0);
  const html = join(dir, 'explain.html');
  const p = await runCli(['plot', bin, `-explain=${cap}`, '-explain-above=p90', '-o', html]);
  assert.equal(p.code, 0, p.stderr);

  const browser = await launchChromium(exe);
  try {
    const r = await openReport(browser, html);
    assert.deepEqual(r.problems, [], 'no console errors or warnings');
    offline(r.requests, html);
    assertDrawn(await chartInk(r.page), ['latency', 'breakdown', 'throughput']);
    const drawn = () => r.page.evaluate(() => (globalThis as any).__tailprobe.charts.find((c: any) => c.kind === 'breakdown').u.tpDrawn);
    assert.deepEqual(await drawn(), { bars: e.slow, segments }, `one bar per slow request, one segment per part (${e.slow} requests, ${segments} parts)`);
    assert.equal(await r.page.locator('.breakdown-head p.verdict').innerText(), e.verdict.text);
    assert.match(e.verdict.text, /lock "truth-lock" wait/);
    // The legend: the parts in explain's ranking of causes.
    const legend = await r.page.$$eval('[data-chart="breakdown-0"] .u-legend .u-series th', (ths) => ths.map((th) => th.textContent!.trim()));
    assert.equal(legend[1], describeKey(e.causes[0]!.key));

    // Same time axis as the latency chart: same plot-area left edge and width, and it follows a zoom.
    const geo = await r.page.evaluate(() =>
      Object.fromEntries((globalThis as any).__tailprobe.charts.filter((c: any) => c.run === 0).map((c: any) => [c.kind, [c.u.over.getBoundingClientRect().left, c.u.over.getBoundingClientRect().width]])),
    );
    assert.ok(Math.abs(geo.latency[0] - geo.breakdown[0]) < 1 && Math.abs(geo.latency[1] - geo.breakdown[1]) < 1, JSON.stringify(geo));

    // Hovering a bar names the request: a slow request's trace id, its cause and parts.
    const lane = r.page.locator('[data-chart="breakdown-0"] .u-over');
    await lane.scrollIntoViewIfNeeded();
    const at = await r.page.evaluate(() => {
      const u = (globalThis as any).__tailprobe.charts.find((c: any) => c.kind === 'breakdown').u;
      const d = JSON.parse((globalThis as any).document.getElementById('tp-data').textContent).runs[0].breakdown;
      const x = new Float64Array(Uint8Array.from(atob(d.x.f64), (ch) => ch.charCodeAt(0)).buffer);
      return { left: u.valToPos(x[0], 'x'), top: u.valToPos(1, 'y') };
    });
    const box = (await lane.boundingBox())!;
    await r.page.mouse.move(box.x + at.left, box.y + at.top);
    const caption = await r.page.locator('section.run[data-run="0"] .breakdown-caption').innerText();
    const trace = /^trace ([0-9a-f]{32}): /.exec(caption)?.[1];
    const hovered = e.slowest.find((s) => s.traceId === trace);
    assert.ok(hovered, `the caption names a slow request: ${caption}`);
    assert.ok(trace!.startsWith(e.attackId));
    assert.ok(caption.includes(`cause ${describeKey(hovered.cause)}`), caption);
    for (const k of Object.keys(hovered.parts)) assert.ok(caption.includes(describeKey(k)), `${k} in ${caption}`);

    // Drag-zoom on the latency chart: the lane follows, and draws only the bars in view.
    const over = r.page.locator('[data-chart="latency-0"] .u-over');
    await over.scrollIntoViewIfNeeded();
    const lb = (await over.boundingBox())!;
    await r.page.mouse.move(lb.x + lb.width * 0.3, lb.y + lb.height / 2);
    await r.page.mouse.down();
    await r.page.mouse.move(lb.x + lb.width * 0.5, lb.y + lb.height / 2, { steps: 5 });
    await r.page.mouse.up();
    const zoomed = await xScales(r.page, 0);
    assert.deepEqual(zoomed.breakdown, zoomed.latency);
    assert.ok((await drawn()).bars < e.slow, 'fewer bars in a zoomed view');
    await r.page.locator('section.run button.reset').first().click();
    assert.equal((await drawn()).bars, e.slow);
    assert.deepEqual(r.problems, []);

    mkdirSync(ARTIFACTS, { recursive: true });
    await r.page.screenshot({ path: join(ARTIFACTS, 'plot-explain.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
