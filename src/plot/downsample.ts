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
/** Latencies above 10^12.6 ns (an hour) share the top row. */
const MAX_LOG10_NS = 12.6;

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

  // Grid mode. The grid is a dense window of `span` columns x `rows` rows starting at column
  // `colBase`; `slotOf` maps a cell to its slot in the compact cellT/cellL arrays (-1: empty),
  // which hold the kept (slowest) point of each occupied cell. Dense arrays keep the per-point
  // cost to a few array reads, whatever the number of points.
  private readonly rows: number;
  private readonly span: number;
  private colWidth = INITIAL_COLUMN_NS;
  private colBase = 0;
  private colLo = 0;
  private colHi = -1;
  private slotOf: Int32Array | null = null;
  private cellT = new Float64Array(0);
  private cellL = new Float64Array(0);
  private cellN = 0;
  // Per column of the window: the fastest point (the lower edge of the band); NaN latency = none.
  private minT: Float64Array | null = null;
  private minL: Float64Array | null = null;

  constructor(opts: DownsampleOptions = {}) {
    this.columns = Math.max(1, Math.floor(opts.columns ?? 2000));
    this.rowsPerDecade = Math.min(100, Math.max(1, opts.rowsPerDecade ?? 40));
    this.exactLimit = Math.max(0, Math.floor(opts.exactLimit ?? 100_000));
    this.rows = Math.ceil(MAX_LOG10_NS * this.rowsPerDecade) + 1;
    this.span = 2 * this.columns;
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
    const n = this.cellN + this.span;
    const t = new Float64Array(n);
    const l = new Float64Array(n);
    t.set(this.cellT.subarray(0, this.cellN));
    l.set(this.cellL.subarray(0, this.cellN));
    let k = this.cellN;
    const minT = this.minT!;
    const minL = this.minL!;
    for (let i = 0; i < this.span; i++) {
      const ml = minL[i]!;
      if (Number.isNaN(ml)) continue;
      // A column's min is often also its lowest cell's max (one request in the cell): skip duplicates.
      const slot = this.slotOf![i * this.rows + this.rowOf(ml)]!;
      if (slot >= 0 && this.cellT[slot] === minT[i] && this.cellL[slot] === ml) continue;
      t[k] = minT[i]!;
      l[k] = ml;
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
    this.slotOf = new Int32Array(this.span * this.rows).fill(-1);
    this.minT = new Float64Array(this.span);
    this.minL = new Float64Array(this.span).fill(NaN);
    for (let i = 0; i < n; i++) this.addToGrid(t[i]!, l[i]!);
  }

  private rowOf(latency: number): number {
    const r = Math.floor(Math.log10(latency > 1 ? latency : 1) * this.rowsPerDecade);
    return r < this.rows ? r : this.rows - 1;
  }

  private addToGrid(t: number, latency: number): void {
    let col = Math.floor(t / this.colWidth);
    if (this.colHi < this.colLo) {
      this.colLo = this.colHi = this.colBase = col;
    } else if (col < this.colBase || col >= this.colBase + this.span) {
      this.makeRoomFor(t);
      col = Math.floor(t / this.colWidth);
    }
    if (col < this.colLo) this.colLo = col;
    if (col > this.colHi) this.colHi = col;
    const c = col - this.colBase;
    const row = this.rowOf(latency);
    this.keepMax(c * this.rows + row, t, latency);
    const ml = this.minL![c]!;
    if (!(latency >= ml)) {
      // NaN (no min yet) fails every comparison, so the first point of a column lands here too.
      this.minT![c] = t;
      this.minL![c] = latency;
    }
  }

  private keepMax(cell: number, t: number, latency: number): void {
    const slot = this.slotOf![cell]!;
    if (slot < 0) {
      if (this.cellN === this.cellT.length) [this.cellT, this.cellL] = grow2(this.cellT, this.cellL);
      this.cellT[this.cellN] = t;
      this.cellL[this.cellN] = latency;
      this.slotOf![cell] = this.cellN++;
    } else if (latency > this.cellL[slot]!) {
      this.cellT[slot] = t;
      this.cellL[slot] = latency;
    }
  }

  /**
   * A point outside the window: widen the columns (doubling, so each new column is two old ones)
   * until the whole span fits, then move the window over it, and re-file the kept points.
   */
  private makeRoomFor(t: number): void {
    let col = Math.floor(t / this.colWidth);
    while (Math.max(this.colHi, col) - Math.min(this.colLo, col) + 1 > this.span) {
      this.colWidth *= 2;
      this.colLo = Math.floor(this.colLo / 2);
      this.colHi = Math.floor(this.colHi / 2);
      col = Math.floor(t / this.colWidth);
    }
    const lo = Math.min(this.colLo, col);
    const hi = Math.max(this.colHi, col);
    // Room to grow on the side the new point came from: results mostly arrive in time order.
    this.colBase = col >= this.colLo ? lo : hi - this.span + 1;
    const [ct, cl, cn] = [this.cellT, this.cellL, this.cellN];
    const [mt, ml] = [this.minT!, this.minL!];
    this.slotOf!.fill(-1);
    this.cellT = new Float64Array(ct.length);
    this.cellL = new Float64Array(cl.length);
    this.cellN = 0;
    this.minT = new Float64Array(this.span);
    this.minL = new Float64Array(this.span).fill(NaN);
    for (let i = 0; i < cn; i++) {
      const c = Math.floor(ct[i]! / this.colWidth) - this.colBase;
      this.keepMax(c * this.rows + this.rowOf(cl[i]!), ct[i]!, cl[i]!);
    }
    for (let i = 0; i < mt.length; i++) {
      const l = ml[i]!;
      if (Number.isNaN(l)) continue;
      const c = Math.floor(mt[i]! / this.colWidth) - this.colBase;
      if (!(l >= this.minL[c]!)) {
        this.minT[c] = mt[i]!;
        this.minL[c] = l;
      }
    }
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
