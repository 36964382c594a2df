/**
 * What the charts share: colours, axes, scales, the x-axis groups that zoom together, the registry
 * the browser test reads, the scatter drawn into one image, and each run's decoded view.
 */
import type { EncodedRun } from '../encode.js';
import { DATA, arr, nullable } from './data.js';
import { fmtMs, fmtSec } from './format.js';

declare const uPlot: any;
declare const document: any;
declare const window: any;

export const COLORS = {
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
export const RUN_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
export const CODE_COLORS: Record<string, string[]> = {
  '2': ['#2f9e44', '#66a80f', '#099268'],
  '3': ['#1c7ed6', '#4263eb'],
  '4': ['#f08c00', '#e8590c', '#fab005'],
  '5': ['#e03131', '#c2255c', '#9c36b5'],
  '0': ['#212529'],
  o: ['#868e96'],
};
export const Y_AXIS_SIZE = 64;
export const TIME_INCRS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
  10800, 21600, 43200, 86400,
];
export const LABEL_SIZE = 22;
/** Room on the right so the last tick label is not cut off. */
export const PADDING = [12, 28, 0, 0];
/** Line series: no point markers (uPlot shows them on sparse data; they clutter per-second lines). */
export const line = (o: any): any => ({ width: 2, points: { show: false }, ...o });
export const dpr = () => window.devicePixelRatio || 1;

export interface Registered {
  id: string;
  kind: string;
  run: number;
  u: any;
}
export const registry: Registered[] = [];
export const state = { yLog: DATA.yScale !== 'linear' };

export function register(id: string, kind: string, run: number, u: any): any {
  registry.push({ id, kind, run, u });
  u.root.dataset.chart = id;
  return u;
}

export function widthOf(container: any): number {
  return Math.max(320, Math.floor(container.clientWidth || 900));
}

/** Charts of one run share their x axis: zooming one zooms the others. */
export class Group {
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

export function latencyAxis(label: string): any {
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
export function logSplits(min: number, max: number): number[] {
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

export function timeAxis(show = true): any {
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

export function latencyScale(lo: number, hi: number): any {
  if (!(hi > 0)) hi = 1;
  if (!(lo > 0) || lo > hi) lo = hi / 10;
  if (state.yLog) return { distr: 3, log: 10, range: () => [lo / 1.5, hi * 1.5] };
  return { distr: 1, range: () => [0, hi * 1.08] };
}

/** Wheel zoom on the time axis with Ctrl/⌘ or Shift held (plain wheel keeps scrolling the page). */
export function wheelZoom(u: any, group: Group): void {
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

export function lowerBound(a: ArrayLike<number>, v: number): number {
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
export interface Scatter {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** log10(y), precomputed for the log axis. */
  ly: Float32Array;
}

export function scatter(x: ArrayLike<number>, y: ArrayLike<number>): Scatter {
  const ly = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) ly[i] = y[i]! > 0 ? Math.log10(y[i]!) : -Infinity;
  return { x, y, ly };
}

export const SCRATCH: { canvas: any; ctx: any } = { canvas: null, ctx: null };

export function countInto(counts: Uint8Array, w: number, h: number, u: any, p: Scatter, cross: boolean): void {
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

export function drawScatters(u: any, ok: Scatter | null, err: Scatter | null): void {
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
export function legendOnly(label: string, color: string, value: (u: any) => string): any {
  return { label, stroke: color, fill: color, width: 0, paths: () => null, points: { show: false }, value };
}


// ---- a run, decoded for its charts ---------------------------------------------------------------

export interface RunView {
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

export function decodeRun(r: EncodedRun, index: number): RunView {
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
export function stepData(v: RunView, ...cols: (number | null)[][]): any[] {
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

export const steps = () => uPlot.paths.stepped({ align: 1 });

/** Saves the canvas state and clips drawing to the plot area; the caller restores. */
export function clipToPlot(u: any) {
  const ctx = u.ctx;
  const { left, top, width, height } = u.bbox;
  const { min, max } = u.scales.x;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  return { ctx, left, top, width, height, min, max };
}


/** Aligns several (x, y) series on the union of their x values (uPlot's aligned data). */
export function align(series: { x: ArrayLike<number>; y: ArrayLike<number> }[]): any[] {
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


/** One latency range for every run's scatter, so before and after compare by eye. */
export const yShared = { lo: Infinity, hi: 0 };
