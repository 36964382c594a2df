/**
 * The report page's script. Runs in the browser, inlined into the HTML by ../html.ts after uPlot.
 *
 * Everything heavy was computed by the CLI (downsampling, per-second histograms, percentiles); this
 * only decodes the embedded arrays and draws. Scatter points are drawn by a hook straight onto
 * uPlot's canvas (fillRect per point, only the visible time range), so a few hundred thousand
 * points redraw in tens of milliseconds while uPlot keeps axes, zoom, cursor and legends.
 *
 * Browser globals are declared locally as `any`: the repository compiles for Node (no DOM lib),
 * and the browser test (test/plot/browser.test.ts) is what checks this file end to end. The data is
 * typed: PlotData is the encoder's own type (../encode.ts), imported as a type only, which the
 * compiler erases, so this file still compiles to one self-contained script.
 */
import type { Encoded, EncodedRun, PlotData } from '../encode.js';

declare const uPlot: any;
declare const document: any;
declare const window: any;

// ---- data ---------------------------------------------------------------------------------------

const DATA: PlotData = JSON.parse(document.getElementById('tp-data').textContent);

function bytes(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Decodes an embedded array (Float32/Float64/Uint8 as base64, or a plain JSON list). */
function arr(e: Encoded | number[] | null | undefined): ArrayLike<number> {
  if (!e) return [];
  if (Array.isArray(e)) return e;
  if (e.f32 !== undefined) return new Float32Array(bytes(e.f32).buffer);
  if (e.f64 !== undefined) return new Float64Array(bytes(e.f64).buffer);
  if (e.u8 !== undefined) return bytes(e.u8);
  return [];
}

/** NaN (an empty bucket) becomes null: a gap in the line. */
function nullable(a: ArrayLike<number>): (number | null)[] {
  const out = new Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number.isNaN(a[i]) ? null : a[i];
  return out;
}

// ---- formatting ---------------------------------------------------------------------------------

function fmtMs(ms: number | null): string {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms === 0) return '0';
  const a = Math.abs(ms);
  if (a < 1) return `${+(ms * 1000).toPrecision(3)}µs`;
  if (a < 1000) return `${+ms.toPrecision(3)}ms`;
  if (a < 60000) return `${+(ms / 1000).toPrecision(3)}s`;
  return `${+(ms / 60000).toPrecision(3)}m`;
}

function fmtSec(s: number | null): string {
  if (s == null || !Number.isFinite(s)) return '—';
  const a = Math.abs(s);
  if (a >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (a >= 60) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${+s.toPrecision(4)}s`;
}

/** 1/(1-p) -> "99.9%" */
function fmtPct(x: number | null): string {
  if (x == null || !Number.isFinite(x) || x <= 0) return '';
  const p = (1 - 1 / x) * 100;
  if (p <= 1e-9) return '0%';
  const decimals = Math.max(0, Math.ceil(-Math.log10(100 - p) - 1e-6));
  return `${p.toFixed(Math.min(6, decimals))}%`;
}

function fmtNum(v: number | null): string {
  if (v == null || !Number.isFinite(v)) return '—';
  return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : String(+v.toPrecision(3));
}

function el(tag: string, attrs: Record<string, string> = {}, text?: string): any {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- shared chart plumbing ----------------------------------------------------------------------

const COLORS = {
  okLegend: '#2563af',
  fail: '#e03131',
  p50: '#2f9e44',
  p99: '#f08c00',
  p999: '#ae3ec9',
  max: '#495057',
  gc: '#e8590c',
  stall: '#c2255c',
  requests: '#495057',
  slo: '#e03131',
  knee: '#1c7ed6',
};
const RUN_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const CODE_COLORS: Record<string, string[]> = {
  '2': ['#2f9e44', '#66a80f', '#099268'],
  '3': ['#1c7ed6', '#4263eb'],
  '4': ['#f08c00', '#e8590c', '#fab005'],
  '5': ['#e03131', '#c2255c', '#9c36b5'],
  '0': ['#212529'],
  o: ['#868e96'],
};
const Y_AXIS_SIZE = 64;
const TIME_INCRS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
  10800, 21600, 43200, 86400,
];
const LABEL_SIZE = 22;
/** Room on the right so the last tick label is not cut off. */
const PADDING = [12, 28, 0, 0];
/** Line series: no point markers (uPlot shows them on sparse data; they clutter per-second lines). */
const line = (o: any): any => ({ width: 2, points: { show: false }, ...o });
const dpr = () => window.devicePixelRatio || 1;

interface Registered {
  id: string;
  kind: string;
  run: number;
  u: any;
}
const registry: Registered[] = [];
const state = { yLog: DATA.yScale !== 'linear' };

function register(id: string, kind: string, run: number, u: any): any {
  registry.push({ id, kind, run, u });
  u.root.dataset.chart = id;
  return u;
}

function widthOf(container: any): number {
  return Math.max(320, Math.floor(container.clientWidth || 900));
}

/** Charts of one run share their x axis: zooming one zooms the others. */
class Group {
  charts: any[] = [];
  busy = false;
  constructor(readonly key: string, readonly full: [number, number]) {}
  add(u: any): void {
    this.charts.push(u);
  }
  remove(u: any): void {
    this.charts = this.charts.filter((c) => c !== u);
  }
  sync(from: any): void {
    if (this.busy) return;
    this.busy = true;
    const { min, max } = from.scales.x;
    for (const c of this.charts) if (c !== from) c.setScale('x', { min, max });
    this.busy = false;
  }
  reset(): void {
    const [min, max] = this.full;
    this.busy = true;
    for (const c of this.charts) c.setScale('x', { min, max });
    this.busy = false;
  }
}

function latencyAxis(label: string): any {
  const axis: any = {
    label,
    size: Y_AXIS_SIZE,
    labelSize: LABEL_SIZE,
    values: (_u: any, splits: number[]) => splits.map((v) => (v == null ? '' : fmtMs(v))),
  };
  if (state.yLog) {
    axis.splits = (_u: any, _i: number, min: number, max: number) => logSplits(min, max);
    axis.filter = (_u: any, splits: number[]) => splits;
  }
  return axis;
}

/** Log-axis ticks at 1-2-5 steps when the range is narrow, decades when it is wide (no 3,4,6.. clutter). */
function logSplits(min: number, max: number): number[] {
  const out: number[] = [];
  const decades = Math.log10(max / min);
  const steps = decades <= 2.2 ? [1, 2, 5] : decades <= 4.5 ? [1, 3] : [1];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of steps) {
      const v = m * Math.pow(10, e);
      if (v >= min * 0.999 && v <= max * 1.001) out.push(+v.toPrecision(6));
    }
  }
  return out;
}

function timeAxis(show = true): any {
  return {
    label: show ? 'time since start' : undefined,
    show,
    size: show ? 34 : 0,
    labelSize: show ? 24 : 0,
    // Clock-like steps (15 s, 30 s, 1 m, 5 m...) rather than uPlot's decimal ones (25 s).
    incrs: TIME_INCRS,
    space: 60,
    values: (_u: any, splits: number[]) => splits.map(fmtSec),
  };
}

function latencyScale(lo: number, hi: number): any {
  if (!(hi > 0)) hi = 1;
  if (!(lo > 0) || lo > hi) lo = hi / 10;
  if (state.yLog) return { distr: 3, log: 10, range: () => [lo / 1.5, hi * 1.5] };
  return { distr: 1, range: () => [0, hi * 1.08] };
}

/** Wheel zoom on the time axis with Ctrl/⌘ or Shift held (plain wheel keeps scrolling the page). */
function wheelZoom(u: any, group: Group): void {
  u.over.addEventListener(
    'wheel',
    (e: any) => {
      if (!(e.ctrlKey || e.metaKey || e.shiftKey)) return;
      e.preventDefault();
      const { min, max } = u.scales.x;
      const at = u.posToVal(e.offsetX, 'x');
      const f = e.deltaY < 0 ? 0.75 : 1 / 0.75;
      const [lo, hi] = group.full;
      let nmin = at - (at - min) * f;
      let nmax = at + (max - at) * f;
      if (nmax - nmin >= hi - lo) [nmin, nmax] = [lo, hi];
      u.setScale('x', { min: Math.max(lo, nmin), max: Math.min(hi, nmax) });
    },
    { passive: false },
  );
}

function lowerBound(a: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The scatter: hundreds of thousands of points, so not one canvas call each. Points are counted
 * into a per-pixel buffer of the plot area (only those within the x scale, found by binary search
 * on the time-sorted arrays), the counts become opacity (n overlapping points at opacity a give
 * 1-(1-a)^n, as canvas compositing would), and the buffer is drawn over the grid in one call.
 * Failed requests go in a second buffer drawn on top as small crosses.
 */
interface Scatter {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** log10(y), precomputed for the log axis. */
  ly: Float32Array;
}

function scatter(x: ArrayLike<number>, y: ArrayLike<number>): Scatter {
  const ly = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) ly[i] = y[i]! > 0 ? Math.log10(y[i]!) : -Infinity;
  return { x, y, ly };
}

const SCRATCH: { canvas: any; ctx: any } = { canvas: null, ctx: null };

function countInto(counts: Uint8Array, w: number, h: number, u: any, p: Scatter, cross: boolean): void {
  const { min, max } = u.scales.x;
  const ys = u.scales.y;
  const log = ys.distr === 3;
  const yLo = log ? Math.log10(ys.min) : ys.min;
  const yHi = log ? Math.log10(ys.max) : ys.max;
  const vals = log ? p.ly : p.y;
  const kx = w / (max - min);
  const ky = h / (yHi - yLo);
  const i0 = lowerBound(p.x, min);
  const i1 = lowerBound(p.x, max + 1e-9);
  const size = Math.max(2, Math.round(2 * dpr()));
  const arm = Math.max(2, Math.round(2.5 * dpr()));
  const hit = (px: number, py: number) => {
    if (px >= 0 && px < w && py >= 0 && py < h) {
      const k = py * w + px;
      if (counts[k]! < 255) counts[k]!++;
    }
  };
  for (let i = i0; i < i1; i++) {
    const v = vals[i]!;
    if (!(v >= yLo - 1) || v > yHi + 1) continue;
    const px = Math.round((p.x[i]! - min) * kx);
    const py = Math.round((yHi - v) * ky);
    if (cross) {
      for (let d = -arm; d <= arm; d++) {
        hit(px + d, py + d);
        if (d !== 0) hit(px + d, py - d);
      }
    } else {
      for (let dy = 0; dy < size; dy++) for (let dx = 0; dx < size; dx++) hit(px + dx - 1, py + dy - 1);
    }
  }
}

function drawScatters(u: any, ok: Scatter | null, err: Scatter | null): void {
  const { left, top, width, height } = u.bbox;
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  if (!SCRATCH.canvas) {
    SCRATCH.canvas = document.createElement('canvas');
    SCRATCH.ctx = SCRATCH.canvas.getContext('2d');
  }
  if (SCRATCH.canvas.width !== w || SCRATCH.canvas.height !== h) {
    SCRATCH.canvas.width = w;
    SCRATCH.canvas.height = h;
  }
  const okCounts = new Uint8Array(w * h);
  const errCounts = new Uint8Array(w * h);
  if (ok) countInto(okCounts, w, h, u, ok, false);
  if (err) countInto(errCounts, w, h, u, err, true);
  const img = SCRATCH.ctx.createImageData(w, h);
  const px = new Uint32Array(img.data.buffer);
  // Opacity of n stacked points, for n = 0..255, for each colour (little-endian RGBA words).
  const ramp = (r: number, g: number, b: number, a: number) => {
    const t = new Uint32Array(256);
    for (let n = 1; n < 256; n++) t[n] = ((Math.round(255 * (1 - Math.pow(1 - a, n))) << 24) | (b << 16) | (g << 8) | r) >>> 0;
    return t;
  };
  const okRamp = ramp(37, 99, 175, 0.42);
  const errRamp = ramp(224, 49, 49, 0.9);
  for (let k = 0; k < px.length; k++) {
    const e = errCounts[k]!;
    if (e) px[k] = errRamp[e]!;
    else {
      const o = okCounts[k]!;
      if (o) px[k] = okRamp[o]!;
    }
  }
  SCRATCH.ctx.putImageData(img, 0, 0);
  u.ctx.drawImage(SCRATCH.canvas, Math.round(left), Math.round(top));
}

/** A legend-only series: drawn by a hook, listed (and toggled) in uPlot's legend. */
function legendOnly(label: string, color: string, value: (u: any) => string): any {
  return { label, stroke: color, fill: color, width: 0, paths: () => null, points: { show: false }, value };
}

// ---- charts -------------------------------------------------------------------------------------

interface RunView {
  index: number;
  name: string;
  dur: number;
  ok: Scatter;
  err: Scatter;
  sx: number[];
  p50: (number | null)[];
  p99: (number | null)[];
  p999: (number | null)[];
  yMin: number;
  yMax: number;
  bucketS: number;
  data: EncodedRun;
}

function decodeRun(r: EncodedRun, index: number): RunView {
  const okX = arr(r.points.ok.x);
  const okY = arr(r.points.ok.y);
  const errX = arr(r.points.err.x);
  const errY = arr(r.points.err.y);
  const sx = Array.from(arr(r.series.x));
  const p50 = nullable(arr(r.series.p50));
  const p99 = nullable(arr(r.series.p99));
  const p999 = nullable(arr(r.series.p999));
  let yMin = Infinity;
  let yMax = 0;
  for (const ys of [okY, errY, arr(r.series.max)]) {
    for (let i = 0; i < ys.length; i++) {
      const v = ys[i]!;
      if (v > 0 && v < yMin) yMin = v;
      if (v > yMax) yMax = v;
    }
  }
  for (const ys of [p50]) for (const v of ys) if (v != null && v > 0 && v < yMin) yMin = v;
  return {
    index,
    name: r.name,
    dur: r.durationS,
    ok: scatter(okX, okY),
    err: scatter(errX, errY),
    sx,
    p50,
    p99,
    p999,
    yMin,
    yMax,
    bucketS: r.series.bucketS,
    data: r,
  };
}

/**
 * Aligned data for per-bucket series drawn as steps: x = bucket starts plus the end of the last
 * bucket (its value repeated, so the last step has a length), and the run's start and end so the
 * default view is the whole run.
 */
function stepData(v: RunView, ...cols: (number | null)[][]): any[] {
  const x = [...v.sx];
  const ys = cols.map((c) => [...c]);
  if (x.length) {
    x.push(v.data.series.endS);
    for (const y of ys) y.push(y[y.length - 1] ?? null);
  }
  if (!x.length || x[0]! > 0) {
    x.unshift(0);
    for (const y of ys) y.unshift(null);
  }
  if (x[x.length - 1]! < v.dur) {
    x.push(v.dur);
    for (const y of ys) y.push(null);
  }
  return [x, ...ys];
}

const steps = () => uPlot.paths.stepped({ align: 1 });

function latencyChart(v: RunView, container: any, group: Group): any {
  const nulls = new Array(v.sx.length).fill(null);
  const data = stepData(v, nulls, nulls, v.p50, v.p99, v.p999);
  const opts = {
    width: widthOf(container),
    height: DATA.runs.length > 2 ? 260 : 340,
    padding: PADDING,
    scales: { x: { time: false, range: (_u: any, a: number, b: number) => [a, b] }, y: latencyScale(yShared.lo, yShared.hi) },
    axes: [timeAxis(), latencyAxis('latency')],
    series: [
      { label: 'time', value: (_u: any, x: number) => fmtSec(x) },
      legendOnly(DATA.runs[v.index].points.exact ? 'request' : 'request (slowest per cell)', COLORS.okLegend, () => `${fmtNum(v.ok.x.length)} drawn`),
      legendOnly('failed', COLORS.fail, () => `${fmtNum(v.err.x.length)} drawn`),
      line({ label: `p50 per ${fmtSec(v.bucketS)}`, stroke: COLORS.p50, paths: steps(), value: (_u: any, y: number) => fmtMs(y) }),
      line({ label: 'p99', stroke: COLORS.p99, paths: steps(), value: (_u: any, y: number) => fmtMs(y) }),
      line({ label: 'p99.9', stroke: COLORS.p999, paths: steps(), value: (_u: any, y: number) => fmtMs(y) }),
    ],
    cursor: { drag: { x: true, y: false }, sync: { key: group.key } },
    hooks: {
      drawAxes: [
        (u: any) => {
          drawEventBands(u, v);
          drawScatters(u, u.series[1].show ? v.ok : null, u.series[2].show ? v.err : null);
        },
      ],
      setScale: [(u: any, key: string) => key === 'x' && group.sync(u)],
    },
  };
  const u = new uPlot(opts, data, container);
  group.add(u);
  wheelZoom(u, group);
  return register(`latency-${v.index}`, 'latency', v.index, u);
}

/** Long pauses and stalls as faint full-height bands behind the points: the lurch sits inside its pause. */
const BAND_MIN_MS = 10;

/** Saves the canvas state and clips drawing to the plot area; the caller restores. */
function clipToPlot(u: any) {
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  const { min, max } = u.scales.x;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  return { ctx, left, top, width, height, min, max };
}

function drawEventBands(u: any, v: RunView): void {
  const ev = v.data.events;
  if (!ev || ev.count === 0) return;
  const kind = arr(ev.kind);
  const x0 = arr(ev.x0);
  const dur = arr(ev.durMs);
  const { ctx, left, top, width, height, min, max } = clipToPlot(u);
  for (let i = 0; i < kind.length; i++) {
    if (dur[i]! < BAND_MIN_MS) continue;
    const a = x0[i]!;
    const b = a + dur[i]! / 1000;
    if (b < min || a > max) continue;
    const pa = u.valToPos(a, 'x', true);
    const pb = Math.max(u.valToPos(b, 'x', true), pa + dpr());
    ctx.fillStyle = kind[i] === 0 ? 'rgba(232, 89, 12, 0.13)' : 'rgba(194, 37, 92, 0.10)';
    ctx.fillRect(pa, top, pb - pa, height);
  }
  ctx.restore();
}

function eventsChart(v: RunView, container: any, group: Group, caption: any): any | null {
  const ev = v.data.events;
  if (!ev || ev.count === 0) return null;
  const kind = arr(ev.kind);
  const x0 = arr(ev.x0);
  const dur = arr(ev.durMs);
  const detailIdx = arr(ev.detail);
  const details: string[] = ev.details;
  const opts = {
    width: widthOf(container),
    height: 64,
    padding: [4, PADDING[1], 4, 0],
    scales: { x: { time: false, range: (_u: any, a: number, b: number) => [a, b] }, y: { range: () => [0, 2] } },
    axes: [
      timeAxis(false),
      {
        label: 'agent',
        size: Y_AXIS_SIZE,
        labelSize: LABEL_SIZE,
        splits: () => [0.5, 1.5],
        values: () => ['stall', 'GC'],
        grid: { show: false },
        ticks: { show: false },
      },
    ],
    series: [
      { label: 'time', value: (_u: any, x: number) => fmtSec(x) },
      legendOnly('GC pause', COLORS.gc, () => `${fmtNum(ev.gcCount)} (max ${fmtMs(ev.gcMaxMs)})`),
      legendOnly('event-loop stall', COLORS.stall, () => `${fmtNum(ev.stallCount)} (max ${fmtMs(ev.stallMaxMs)})`),
    ],
    legend: { show: true },
    cursor: { drag: { x: true, y: false }, sync: { key: group.key }, y: false },
    hooks: {
      drawAxes: [
        (u: any) => {
          const { ctx, left, top, width, height, min, max } = clipToPlot(u);
          ctx.fillStyle = 'rgba(0,0,0,0.035)';
          ctx.fillRect(left, top, width, height / 2 - dpr());
          for (let i = 0; i < kind.length; i++) {
            const k = kind[i]!;
            if (!u.series[k === 0 ? 1 : 2].show) continue;
            const a = x0[i]!;
            const b = a + dur[i]! / 1000;
            if (b < min || a > max) continue;
            const pa = u.valToPos(a, 'x', true);
            const pb = Math.max(u.valToPos(b, 'x', true), pa + Math.max(1.5, dpr()));
            const y0 = u.valToPos(k === 0 ? 1.85 : 0.85, 'y', true);
            const y1 = u.valToPos(k === 0 ? 1.15 : 0.15, 'y', true);
            ctx.fillStyle = k === 0 ? COLORS.gc : COLORS.stall;
            ctx.fillRect(pa, y0, pb - pa, y1 - y0);
          }
          ctx.restore();
        },
      ],
      setScale: [(u: any, key: string) => key === 'x' && group.sync(u)],
      setCursor: [
        (u: any) => {
          const left = u.cursor.left;
          if (left == null || left < 0) {
            caption.textContent = '';
            return;
          }
          // The longest event within 3 px of the cursor.
          const at = u.posToVal(left, 'x');
          const slop = u.posToVal(left + 3, 'x') - at;
          let best = -1;
          for (let i = 0; i < kind.length; i++) {
            const a = x0[i]!;
            if (a - slop <= at && at <= a + dur[i]! / 1000 + slop && (best < 0 || dur[i]! > dur[best]!)) best = i;
          }
          caption.textContent =
            best < 0
              ? ''
              : `${kind[best] === 0 ? 'GC pause' : 'event-loop stall'} ${fmtMs(dur[best]!)} at ${fmtSec(x0[best]!)}` +
                (details[detailIdx[best]!] ? ` (${details[detailIdx[best]!]})` : '');
        },
      ],
    },
  };
  const u = new uPlot(opts, [[0, v.dur], [null, null], [null, null]], container);
  group.add(u);
  wheelZoom(u, group);
  return register(`events-${v.index}`, 'events', v.index, u);
}

function codeColor(code: number, used: Record<string, number>): string {
  const cls = code < 0 ? 'o' : code === 0 ? '0' : String(Math.floor(code / 100));
  const list = CODE_COLORS[cls] ?? CODE_COLORS.o!;
  const n = used[cls] ?? 0;
  used[cls] = n + 1;
  return list[n % list.length]!;
}

function throughputChart(v: RunView, container: any, group: Group): any {
  const s = v.data.series;
  const per = (a: ArrayLike<number>) => Array.from(a, (c) => c / v.bucketS);
  const used: Record<string, number> = {};
  const codes = (s.codes as any[]).map((c) => ({
    label: c.code < 0 ? 'other codes' : c.code === 0 ? 'no response' : String(c.code),
    color: codeColor(c.code, used),
    values: per(arr(c.counts)),
  }));
  const cols = [per(arr(s.requests)), per(arr(s.completed)), ...codes.map((c) => c.values), per(arr(s.errors))];
  const data = stepData(v, ...cols);
  const val = (_u: any, y: number) => (y == null ? '—' : `${fmtNum(y)}/s`);
  const opts = {
    width: widthOf(container),
    height: 190,
    padding: PADDING,
    scales: { x: { time: false, range: (_u: any, a: number, b: number) => [a, b] }, y: { range: (_u: any, _a: number, b: number) => [0, Math.max(1, (b || 1) * 1.12)] } },
    axes: [timeAxis(), { label: 'requests / s', size: Y_AXIS_SIZE, labelSize: LABEL_SIZE, values: (_u: any, sp: number[]) => sp.map(fmtNum) }],
    series: [
      { label: 'time', value: (_u: any, x: number) => fmtSec(x) },
      line({ label: 'scheduled', stroke: '#adb5bd', width: 3, paths: steps(), value: val }),
      line({ label: 'completed', stroke: COLORS.requests, width: 1.75, paths: steps(), value: val }),
      ...codes.map((c) => line({ label: c.label, stroke: c.color, width: 1.5, paths: steps(), value: val })),
      line({ label: 'errors', stroke: COLORS.fail, width: 1.5, dash: [5, 3], paths: steps(), value: val }),
    ],
    cursor: { drag: { x: true, y: false }, sync: { key: group.key } },
    hooks: { setScale: [(u: any, key: string) => key === 'x' && group.sync(u)] },
  };
  const u = new uPlot(opts, data, container);
  group.add(u);
  wheelZoom(u, group);
  return register(`throughput-${v.index}`, 'throughput', v.index, u);
}

/** Aligns several (x, y) series on the union of their x values (uPlot's aligned data). */
function align(series: { x: ArrayLike<number>; y: ArrayLike<number> }[]): any[] {
  const key = (x: number) => Math.round(x * 1e6) / 1e6;
  const xs = new Set<number>();
  for (const s of series) for (let i = 0; i < s.x.length; i++) xs.add(key(s.x[i]!));
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map(x.map((v, i) => [v, i]));
  const cols = series.map((s) => {
    const col: (number | null)[] = new Array(x.length).fill(null);
    for (let i = 0; i < s.x.length; i++) {
      const y = s.y[i]!;
      col[index.get(key(s.x[i]!))!] = Number.isNaN(y) ? null : y;
    }
    return col;
  });
  return [x, ...cols];
}

function distributionChart(views: RunView[], container: any): any {
  const runs = DATA.runs;
  const data = align(runs.map((r) => ({ x: arr(r.dist.x), y: arr(r.dist.y) })));
  let lo = Infinity;
  let hi = 0;
  for (const c of data.slice(1)) for (const y of c) if (y != null && y > 0) (lo = Math.min(lo, y)), (hi = Math.max(hi, y));
  const xMax = Math.max(10, data[0][data[0].length - 1] ?? 10);
  const opts = {
    width: widthOf(container),
    height: 340,
    padding: [12, 40, 0, 0],
    scales: {
      x: { time: false, distr: 3, log: 10, range: () => [1, Math.pow(10, Math.ceil(Math.log10(xMax)))] },
      y: latencyScale(lo, hi),
    },
    axes: [
      {
        label: 'percentile',
        size: 30,
        labelSize: 20,
        filter: (_u: any, splits: number[]) => splits,
        splits: (u: any) => {
          const out = [1, 2];
          for (let x = 10; x <= u.scales.x.max * 1.0001; x *= 10) out.push(x);
          return out;
        },
        values: (_u: any, splits: number[]) => splits.map(fmtPct),
      },
      latencyAxis('latency'),
    ],
    series: [
      { label: 'percentile', value: (_u: any, x: number) => fmtPct(x) },
      ...views.map((v) =>
        line({
          label: v.name,
          stroke: RUN_COLORS[v.index % RUN_COLORS.length],
          width: 2.25,
          spanGaps: true,
          value: (_u: any, y: number) => fmtMs(y),
        }),
      ),
    ],
    cursor: { drag: { x: true, y: false } },
  };
  return register('distribution', 'distribution', -1, new uPlot(opts, data, container));
}

function overlayChart(views: RunView[], container: any, group: Group): any {
  const data = align(
    views.map((v) => ({
      x: [...v.sx, v.data.series.endS],
      y: [...v.p99, v.p99[v.p99.length - 1] ?? null].map((y) => (y == null ? NaN : y)),
    })),
  );
  let lo = Infinity;
  let hi = 0;
  for (const c of data.slice(1)) for (const y of c) if (y != null && y > 0) (lo = Math.min(lo, y)), (hi = Math.max(hi, y));
  data[0] = [0, ...data[0], group.full[1]];
  for (let i = 1; i < data.length; i++) data[i] = [null, ...data[i], null];
  const opts = {
    width: widthOf(container),
    height: 260,
    padding: PADDING,
    scales: { x: { time: false, range: (_u: any, a: number, b: number) => [a, b] }, y: latencyScale(lo, hi) },
    axes: [timeAxis(), latencyAxis('p99')],
    series: [
      { label: 'time', value: (_u: any, x: number) => fmtSec(x) },
      ...views.map((v) =>
        line({
          label: v.name,
          stroke: RUN_COLORS[v.index % RUN_COLORS.length],
          paths: steps(),
          spanGaps: true,
          value: (_u: any, y: number) => fmtMs(y),
        }),
      ),
    ],
    cursor: { drag: { x: true, y: false }, sync: { key: group.key } },
    hooks: { setScale: [(u: any, key: string) => key === 'x' && group.sync(u)] },
  };
  const u = new uPlot(opts, data, container);
  group.add(u);
  wheelZoom(u, group);
  return register('overlay', 'overlay', -1, u);
}

function sweepChart(container: any): any {
  const sw = DATA.sweep!;
  const rate = arr(sw.rate);
  const cols = (['p50', 'p90', 'p99', 'p999', 'max'] as const).map((k) => nullable(arr(sw[k])));
  const limits = sw.slo?.limits ?? [];
  let lo = Infinity;
  let hi = 0;
  for (const c of cols) for (const y of c) if (y != null && y > 0) (lo = Math.min(lo, y)), (hi = Math.max(hi, y));
  for (const l of limits) (lo = Math.min(lo, l.ms)), (hi = Math.max(hi, l.ms));
  const rMax = rate.length ? rate[rate.length - 1]! : 1;
  const val = (_u: any, y: number) => fmtMs(y);
  const opts = {
    width: widthOf(container),
    height: 360,
    padding: PADDING,
    scales: { x: { time: false, range: () => [0, rMax * 1.05] }, y: latencyScale(lo, hi) },
    axes: [
      { label: 'offered rate (requests / s)', size: 30, labelSize: 20, values: (_u: any, sp: number[]) => sp.map(fmtNum) },
      latencyAxis('latency'),
    ],
    series: [
      { label: 'offered', value: (_u: any, x: number) => (x == null ? '—' : `${fmtNum(x)}/s`) },
      { label: 'p50', stroke: COLORS.p50, width: 2, value: val, points: { show: true, size: 6 } },
      { label: 'p90', stroke: '#1c7ed6', width: 1.5, value: val, points: { show: true, size: 5 } },
      { label: 'p99', stroke: COLORS.p99, width: 2, value: val, points: { show: true, size: 6 } },
      { label: 'p99.9', stroke: COLORS.p999, width: 2, value: val, points: { show: true, size: 6 } },
      { label: 'max', stroke: COLORS.max, width: 1, dash: [4, 4], value: val, points: { show: true, size: 4 } },
    ],
    cursor: { drag: { x: true, y: false } },
    hooks: {
      draw: [
        (u: any) => {
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          ctx.save();
          ctx.font = `${12 * dpr()}px system-ui, sans-serif`;
          ctx.textAlign = 'left';
          ctx.textBaseline = 'alphabetic';
          ctx.lineWidth = 1.5 * dpr();
          for (const l of limits) {
            const y = u.valToPos(l.ms, 'y', true);
            ctx.strokeStyle = COLORS.slo;
            ctx.setLineDash([6 * dpr(), 4 * dpr()]);
            ctx.beginPath();
            ctx.moveTo(left, y);
            ctx.lineTo(left + width, y);
            ctx.stroke();
            ctx.fillStyle = COLORS.slo;
            ctx.fillText(`SLO ${l.label}`, left + 6 * dpr(), y - 5 * dpr());
          }
          if (sw.knee != null) {
            const x = u.valToPos(sw.knee, 'x', true);
            ctx.strokeStyle = COLORS.knee;
            ctx.setLineDash([3 * dpr(), 3 * dpr()]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.fillStyle = COLORS.knee;
            const how = sw.kneeMethod === 'slo' ? ' (highest rate meeting the SLO)' : sw.kneeMethod === 'latency' ? ' (where p99 explodes)' : '';
            ctx.fillText(`knee ${fmtNum(sw.knee)}/s${how}`, x + 5 * dpr(), top + 14 * dpr());
          }
          ctx.restore();
        },
      ],
    },
  };
  return register('sweep', 'sweep', -1, new uPlot(opts, [Array.from(rate), ...cols], container));
}

// ---- page ---------------------------------------------------------------------------------------

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
/** One latency range for every run's scatter, so before and after compare by eye. */
const yShared = { lo: Infinity, hi: 0 };

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
