/**
 * Sets of time intervals [start, end) as sorted, disjoint arrays of pairs: what a request's window
 * shares with GC pauses, stalls and lock waits, without counting an instant twice.
 */
export type Span = [start: number, end: number];

/** The parts of `spans` inside [a, b), merged (sorted, disjoint). */
export function clipMerge(spans: Iterable<Span>, a: number, b: number): Span[] {
  const out: Span[] = [];
  for (const [s, e] of spans) {
    const lo = Math.max(s, a);
    const hi = Math.min(e, b);
    if (hi > lo) out.push([lo, hi]);
  }
  out.sort((x, y) => x[0] - y[0]);
  const merged: Span[] = [];
  for (const sp of out) {
    const last = merged[merged.length - 1];
    if (last && sp[0] <= last[1]) last[1] = Math.max(last[1], sp[1]);
    else merged.push([sp[0], sp[1]]);
  }
  return merged;
}

export function totalLength(spans: readonly Span[]): number {
  let t = 0;
  for (const [s, e] of spans) t += e - s;
  return t;
}

/** A \ B for merged sets. */
export function subtract(a: readonly Span[], b: readonly Span[]): Span[] {
  const out: Span[] = [];
  let j = 0;
  for (const [s0, e] of a) {
    let s = s0;
    while (j < b.length && b[j]![1] <= s) j++;
    let k = j;
    while (k < b.length && b[k]![0] < e) {
      const [bs, be] = b[k]!;
      if (bs > s) out.push([s, bs]);
      s = Math.max(s, be);
      if (s >= e) break;
      k++;
    }
    if (s < e) out.push([s, e]);
  }
  return out;
}

/** Union of merged sets. */
export function union(a: readonly Span[], b: readonly Span[]): Span[] {
  return clipMerge([...a, ...b], -Infinity, Infinity);
}

/** Length of the part of merged set `a` inside [lo, hi). */
export function lengthWithin(a: readonly Span[], lo: number, hi: number): number {
  let t = 0;
  for (const [s, e] of a) {
    const x = Math.max(s, lo);
    const y = Math.min(e, hi);
    if (y > x) t += y - x;
  }
  return t;
}

/**
 * Events sorted by start, with the longest duration known, so the ones overlapping a window are
 * found by binary search instead of a scan.
 */
export class EventIndex<T extends { start: number; end: number }> {
  /** The events, sorted by start (a copy: an unsorted list would make the search miss events). */
  readonly events: readonly T[];
  private readonly starts: Float64Array;
  private readonly maxLength: number;

  constructor(events: readonly T[]) {
    const sorted = [...events].sort((x, y) => x.start - y.start);
    this.events = sorted;
    this.starts = Float64Array.from(sorted, (e) => e.start);
    let m = 0;
    for (const e of sorted) m = Math.max(m, e.end - e.start);
    this.maxLength = m;
  }

  /** Events overlapping [a, b). */
  *overlapping(a: number, b: number): Generator<T> {
    let lo = 0;
    let hi = this.starts.length;
    const from = a - this.maxLength;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.events.length && this.starts[i]! < b; i++) {
      const e = this.events[i]!;
      if (e.end > a) yield e;
    }
  }
}
