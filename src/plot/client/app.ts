/**
 * The report page's script: the page itself (sections, toolbars, render, main). Runs in the
 * browser, inlined into the HTML by ../html.ts after uPlot, together with the modules it imports,
 * one a chart (latency.ts, events.ts, breakdown.ts, throughput.ts, distribution.ts, overlay.ts, sweep.ts) plus
 * what they share (data.ts, format.ts, chart.ts); html.ts joins them into one script.
 *
 * Everything heavy was computed by the CLI (downsampling, per-second histograms, percentiles); this
 * only decodes the embedded arrays and draws. Scatter points are drawn by a hook straight onto
 * uPlot's canvas (fillRect per point, only the visible time range), so a few hundred thousand
 * points redraw in tens of milliseconds while uPlot keeps axes, zoom, cursor and legends.
 *
 * Browser globals are declared locally as `any`: the repository compiles for Node (no DOM lib),
 * and the browser test (test/plot/browser.test.ts) is what checks this file end to end. The data is
 * typed: PlotData is the encoder's own type (../encode.ts), imported as a type only, which the
 * compiler erases.
 */
import { DATA } from './data.js';
import { fmtSec, fmtNum, el } from './format.js';
import { RUN_COLORS, registry, state, widthOf, Group, type RunView, decodeRun, yShared } from './chart.js';
import { latencyChart } from './latency.js';
import { eventsChart } from './events.js';
import { breakdownChart, breakdownHead } from './breakdown.js';
import { throughputChart } from './throughput.js';
import { distributionChart } from './distribution.js';
import { overlayChart } from './overlay.js';
import { sweepChart } from './sweep.js';

declare const document: any;
declare const window: any;

function chartBox(parent: any, title: string, note?: string): { box: any; body: any } {
  const box = el('div', { class: 'chart' });
  const head = el('div', { class: 'chart-head' });
  head.append(el('h3', {}, title));
  if (note) head.append(el('span', { class: 'note' }, note));
  box.append(head);
  const body = el('div', { class: 'chart-body' });
  box.append(body);
  parent.append(box);
  return { box, body };
}

function toolbar(parent: any, group: Group | null): void {
  const bar = el('div', { class: 'toolbar' });
  if (group) {
    const reset = el('button', { type: 'button', class: 'reset' }, 'Reset zoom');
    reset.addEventListener('click', () => group.reset());
    bar.append(reset);
  }
  const scale = el('button', { type: 'button', class: 'yscale' }, state.yLog ? 'Latency axis: log' : 'Latency axis: linear');
  scale.addEventListener('click', () => {
    state.yLog = !state.yLog;
    render();
  });
  bar.append(scale);
  bar.append(
    el('span', { class: 'hint' }, group ? 'Drag to zoom time, double-click or Reset to zoom out, Ctrl/Shift + wheel to zoom.' : 'Drag to zoom, double-click to zoom out.'),
  );
  parent.append(bar);
}

let views: RunView[] = [];

function render(): void {
  for (const r of registry) r.u.destroy();
  registry.length = 0;
  const root = document.getElementById('tp-charts');
  root.textContent = '';
  const runs = DATA.runs;
  const longest = Math.max(1e-3, ...views.map((v) => v.dur));

  if (runs.length > 1) {
    const sec = el('section', { class: 'runs-overlay' });
    sec.append(el('h2', {}, 'All runs'));
    const dist = chartBox(sec, 'Latency by percentile', 'HdrHistogram axis: each step right is one more nine');
    root.append(sec);
    distributionChart(views, dist.body);
    const g = new Group('tp-overlay', [0, longest]);
    toolbar(sec, g);
    const ov = chartBox(sec, `p99 per ${fmtSec(views[0]!.bucketS)}, all runs`, 'time since each run’s start');
    overlayChart(views, ov.body, g);
  }

  for (const v of views) {
    const r = runs[v.index];
    const sec = el('section', { class: 'run', 'data-run': String(v.index) });
    const h = el('h2', {});
    h.append(el('span', { class: 'swatch', style: `background:${RUN_COLORS[v.index % RUN_COLORS.length]}` }));
    h.append(document.createTextNode(runs.length > 1 ? `Run ${v.index + 1}: ${v.name}` : v.name));
    sec.append(h);
    root.append(sec);
    if (r.points.seen === 0) {
      sec.append(el('p', { class: 'note' }, `No results in ${r.source}.`));
      continue;
    }
    const g = new Group(`tp-run-${v.index}`, [0, v.dur]);
    toolbar(sec, g);
    const pts = r.points;
    const note = pts.exact
      ? `every request (${fmtNum(pts.seen)})`
      : `${fmtNum(pts.kept)} of ${fmtNum(pts.seen)} requests drawn: the slowest of each pixel cell, so no column loses its max`;
    const lat = chartBox(sec, 'Latency over time', note);
    latencyChart(v, lat.body, g);
    if (r.events && r.events.count > 0) {
      const caption = el('span', { class: 'note event-caption' });
      const evBox = chartBox(sec, 'Service events (agent): GC pauses and event-loop stalls');
      evBox.box.querySelector('.chart-head').append(caption);
      evBox.box.classList.add('events');
      eventsChart(v, evBox.body, g, caption);
    }
    if (r.breakdown && r.breakdown.drawn > 0) {
      const bBox = chartBox(sec, 'Slow requests, split into their parts (explain)');
      bBox.box.classList.add('breakdown');
      const head = el('div', { class: 'breakdown-head' });
      bBox.box.insertBefore(head, bBox.body);
      breakdownHead(v, head);
      // Room for the hover text kept free, so the lane does not move under the cursor.
      const caption = el('div', { class: 'breakdown-caption' });
      head.append(caption);
      breakdownChart(v, bBox.body, g, caption);
    } else if (r.breakdown) {
      const bBox = chartBox(sec, 'Slow requests, split into their parts (explain)');
      breakdownHead(v, bBox.body);
    }
    const thr = chartBox(sec, 'Throughput and status codes over time', `per ${fmtSec(v.bucketS)} bucket; codes and errors by intended send time, completed by when the response ended`);
    throughputChart(v, thr.body, g);
  }

  if (runs.length === 1) {
    const sec = el('section', { class: 'dist' });
    const dist = chartBox(sec, 'Latency by percentile', 'HdrHistogram axis: each step right is one more nine');
    root.append(sec);
    distributionChart(views, dist.body);
  }

  if (DATA.sweep) {
    const sec = el('section', { class: 'sweep' });
    sec.append(el('h2', {}, 'Sweep: latency against offered rate'));
    root.append(sec);
    if (runs.length === 0) toolbar(sec, null);
    const sw = chartBox(sec, 'Percentiles per step', DATA.sweep.source);
    sweepChart(sw.body);
    const tpl = document.getElementById('tp-sweep-template');
    if (tpl) sec.append(tpl.content.cloneNode(true));
  }
}

function main(): void {
  const t0 = performance.now();
  views = DATA.runs.map(decodeRun);
  for (const v of views) {
    yShared.lo = Math.min(yShared.lo, v.yMin);
    yShared.hi = Math.max(yShared.hi, v.yMax);
  }
  render();
  let pending: any = null;
  window.addEventListener('resize', () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      for (const r of registry) r.u.setSize({ width: widthOf(r.u.root.parentNode), height: r.u.height });
    }, 100);
  });
  // Charts draw synchronously in their constructor; the next frame is when they are on screen.
  window.requestAnimationFrame(() => {
    window.__tailprobe.drawnAt = performance.now();
    window.__tailprobe.buildMs = window.__tailprobe.drawnAt - t0;
    document.body.dataset.ready = '1';
  });
}

window.__tailprobe = {
  charts: registry,
  render,
  state,
  drawnAt: 0,
  buildMs: 0,
  error: null as string | null,
};
try {
  main();
} catch (e: any) {
  window.__tailprobe.error = String(e?.stack ?? e);
  const box = document.getElementById('tp-charts');
  if (box) box.prepend(el('pre', { class: 'error' }, `The charts could not be drawn: ${e}`));
  throw e;
}
