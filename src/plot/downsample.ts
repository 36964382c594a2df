/**
 * Shape-preserving, streaming downsampling of latency points (time, latency) for the scatter plot.
 *
 * A run of a few thousand requests is drawn exactly: every request is a point. Beyond `exactLimit`
 * points the plot is a grid: time is cut into columns (about one per pixel column of the chart) and
 * latency into log-scale rows (`rowsPerDecade`), and each occupied cell keeps ONE point, the slowest
 * that fell in it. So every column keeps its maximum (its top cell's point is the column's slowest
 * request: the tail is never averaged or sampled away), every latency band a column reached stays
 * visible, and each column's fastest request is kept too, so the lower edge of the band is true.
 * The output is bounded by columns x rows whatever the input size.
 *
 * The time span is not known while streaming, so columns start narrow (1 ms) and double in width
 * (merging neighbours, keeping the max of each merged cell) whenever the span would exceed
 * 2 x `columns`. Inputs may arrive in any order (results are written in completion order).
 */

export interface DownsampleOptions {
  /** Target number of time columns (the final count lies between this and twice this). Default 2000. */
  columns?: number;
  /** Latency rows per decade (log scale); 40 is about 6 % per row. Default 40, at most 100. */
  rowsPerDecade?: number;
  /** Keep every point exactly while there are at most this many. Default 100000. */
  exactLimit?: number;
}

export interface PointSet {
  /** Time of each point, ns from the run's origin, ascending. */
  t: Float64Array;
  /** Latency of each point, ns. */
  latency: Float64Array;
}

export interface DownsampledPoints {
  ok: PointSet;
  errors: PointSet;
  /** Points seen (ok + errors). */
  seen: number;
  /** True when every point seen is in the output. */
  exact: boolean;
}

const INITIAL_COLUMN_NS = 1e6;
const ROW_STRIDE = 1024;

/** One class of points (successes or errors): exact list first, then the grid. */
export class PointGrid {
  readonly columns: number;
  readonly rowsPerDecade: number;
  readonly exactLimit: number;
  private seenCount = 0;

  // Exact mode storage (null once switched to the grid).
  private rawT: Float64Array | null = new Float64Array(256);
  private rawL: Float64Array | null = new Float64Array(256);
  private rawN = 0;

  // Grid mode: cell key -> slot; slot arrays hold the kept (slowest) point of the cell.
  private colWidth = INITIAL_COLUMN_NS;
  private colLo = 0;
  private colHi = -1;
  private cells = new Map<number, number>();
  private cellT = new Float64Array(0);
  private cellL = new Float64Array(0);
  private cellN = 0;
  // Per column: the fastest point (the lower edge of the band).
  private mins = new Map<number, number>();
  private minT = new Float64Array(0);
  private minL = new Float64Array(0);
  private minN = 0;

  constructor(opts: DownsampleOptions = {}) {
    this.columns = Math.max(1, Math.floor(opts.columns ?? 2000));
    this.rowsPerDecade = Math.min(100, Math.max(1, opts.rowsPerDecade ?? 40));
    this.exactLimit = Math.max(0, Math.floor(opts.exactLimit ?? 100_000));
  }

  get seen(): number {
    return this.seenCount;
  }
  get exact(): boolean {
    return this.rawT !== null;
  }
  /** Column width in ns (meaningful once not exact): column of t is Math.floor(t / columnWidthNs). */
  get columnWidthNs(): number {
    return this.colWidth;
  }

  add(t: number, latency: number): void {
    this.seenCount++;
    if (this.rawT !== null) {
      if (this.rawN < this.exactLimit) {
        if (this.rawN === this.rawT.length) this.growRaw();
        this.rawT[this.rawN] = t;
        this.rawL![this.rawN] = latency;
        this.rawN++;
        return;
      }
      this.switchToGrid();
    }
    this.addToGrid(t, latency);
  }

  /** The kept points, sorted by time. */
  points(): PointSet {
    if (this.rawT !== null) return sortByTime(this.rawT.subarray(0, this.rawN), this.rawL!.subarray(0, this.rawN));
    const n = this.cellN + this.minN;
    const t = new Float64Array(n);
    const l = new Float64Array(n);
    t.set(this.cellT.subarray(0, this.cellN));
    l.set(this.cellL.subarray(0, this.cellN));
    let k = this.cellN;
    for (let i = 0; i < this.minN; i++) {
      // A column's min is usually also its lowest cell's max (one request in the cell): skip duplicates.
      const row = this.rowOf(this.minL[i]!);
      const slot = this.cells.get(this.cellKey(Math.floor(this.minT[i]! / this.colWidth), row));
      if (slot !== undefined && this.cellT[slot] === this.minT[i] && this.cellL[slot] === this.minL[i]) continue;
      t[k] = this.minT[i]!;
      l[k] = this.minL[i]!;
      k++;
    }
    return sortByTime(t.subarray(0, k), l.subarray(0, k));
  }

  private growRaw(): void {
    const size = Math.min(Math.max(this.rawT!.length * 2, 256), Math.max(this.exactLimit, 256));
    const t = new Float64Array(size);
    const l = new Float64Array(size);
    t.set(this.rawT!);
    l.set(this.rawL!);
    this.rawT = t;
    this.rawL = l;
  }

  private switchToGrid(): void {
    const t = this.rawT!;
    const l = this.rawL!;
    const n = this.rawN;
    this.rawT = this.rawL = null;
    this.rawN = 0;
    for (let i = 0; i < n; i++) this.addToGrid(t[i]!, l[i]!);
  }

  private rowOf(latency: number): number {
    const r = Math.floor(Math.log10(latency > 1 ? latency : 1) * this.rowsPerDecade);
    return r < ROW_STRIDE ? r : ROW_STRIDE - 1;
  }

  private cellKey(col: number, row: number): number {
    return col * ROW_STRIDE + row;
  }

  private addToGrid(t: number, latency: number): void {
    let col = Math.floor(t / this.colWidth);
    if (this.colHi < this.colLo) {
      this.colLo = this.colHi = col;
    } else if (col < this.colLo || col > this.colHi) {
      while (Math.max(this.colHi, col) - Math.min(this.colLo, col) >= 2 * this.columns) {
        this.coarsen();
        col = Math.floor(t / this.colWidth);
      }
      if (col < this.colLo) this.colLo = col;
      if (col > this.colHi) this.colHi = col;
    }
    this.keepMax(this.cellKey(col, this.rowOf(latency)), t, latency);
    this.keepMin(col, t, latency);
  }

  private keepMax(key: number, t: number, latency: number): void {
    const slot = this.cells.get(key);
    if (slot === undefined) {
      if (this.cellN === this.cellT.length) [this.cellT, this.cellL] = grow2(this.cellT, this.cellL);
      this.cellT[this.cellN] = t;
      this.cellL[this.cellN] = latency;
      this.cells.set(key, this.cellN++);
    } else if (latency > this.cellL[slot]!) {
      this.cellT[slot] = t;
      this.cellL[slot] = latency;
    }
  }

  private keepMin(col: number, t: number, latency: number): void {
    const slot = this.mins.get(col);
    if (slot === undefined) {
      if (this.minN === this.minT.length) [this.minT, this.minL] = grow2(this.minT, this.minL);
      this.minT[this.minN] = t;
      this.minL[this.minN] = latency;
      this.mins.set(col, this.minN++);
    } else if (latency < this.minL[slot]!) {
      this.minT[slot] = t;
      this.minL[slot] = latency;
    }
  }

  /** Doubles the column width, folding each pair of columns into one (max per cell, min per column). */
  private coarsen(): void {
    this.colWidth *= 2;
    this.colLo = Math.floor(this.colLo / 2);
    this.colHi = Math.floor(this.colHi / 2);
    const [ct, cl, cn] = [this.cellT, this.cellL, this.cellN];
    this.cells = new Map();
    this.cellT = new Float64Array(ct.length);
    this.cellL = new Float64Array(cl.length);
    this.cellN = 0;
    for (let i = 0; i < cn; i++) {
      this.keepMax(this.cellKey(Math.floor(ct[i]! / this.colWidth), this.rowOf(cl[i]!)), ct[i]!, cl[i]!);
    }
    const [mt, ml, mn] = [this.minT, this.minL, this.minN];
    this.mins = new Map();
    this.minT = new Float64Array(mt.length);
    this.minL = new Float64Array(ml.length);
    this.minN = 0;
    for (let i = 0; i < mn; i++) this.keepMin(Math.floor(mt[i]! / this.colWidth), mt[i]!, ml[i]!);
  }
}

/**
 * Successes and errors downsampled apart, so errors stay visible as their own marks (and rare
 * errors, under their own exact limit, are all kept) however many successes surround them.
 */
export class LatencyDownsampler {
  readonly ok: PointGrid;
  readonly errors: PointGrid;

  constructor(opts: DownsampleOptions = {}) {
    this.ok = new PointGrid(opts);
    this.errors = new PointGrid(opts);
  }

  /** t: ns from the run's origin (any fixed instant); latency ns. */
  add(t: number, latency: number, error: boolean): void {
    (error ? this.errors : this.ok).add(t, latency);
  }

  result(): DownsampledPoints {
    return {
      ok: this.ok.points(),
      errors: this.errors.points(),
      seen: this.ok.seen + this.errors.seen,
      exact: this.ok.exact && this.errors.exact,
    };
  }
}

function grow2(a: Float64Array, b: Float64Array): [Float64Array<ArrayBuffer>, Float64Array<ArrayBuffer>] {
  const size = Math.max(1024, a.length * 2);
  const na = new Float64Array(size);
  const nb = new Float64Array(size);
  na.set(a);
  nb.set(b);
  return [na, nb];
}

function sortByTime(t: Float64Array, l: Float64Array): PointSet {
  const n = t.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => t[a]! - t[b]! || l[a]! - l[b]!);
  const st = new Float64Array(n);
  const sl = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    st[i] = t[order[i]!]!;
    sl[i] = l[order[i]!]!;
  }
  return { t: st, latency: sl };
}
