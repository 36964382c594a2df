import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyDownsampler, PointGrid } from '../../src/plot/downsample.js';
import { rng } from '../../support/synthetic-run.js';

/** Points with a heavy tail and bursts, in shuffled (completion-like) order. */
function cloud(n: number, seed: number, spanNs: number): { t: Float64Array; l: Float64Array } {
  const rand = rng(seed);
  const t = new Float64Array(n);
  const l = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = Math.floor(rand() * spanNs);
    const u = rand();
    // 2 ms body, a 1 % tail up to 2 s, and a few exact-zero latencies (clamped rows).
    l[i] = u < 0.01 ? 50e6 + rand() * 2e9 : u < 0.0101 ? 0 : 2e6 * Math.exp(rand() * 1.5);
  }
  return { t, l };
}

function pairs(t: Float64Array, l: Float64Array): Set<string> {
  const s = new Set<string>();
  for (let i = 0; i < t.length; i++) s.add(`${t[i]}:${l[i]}`);
  return s;
}

test('below the exact limit every point is kept, sorted by time', () => {
  const g = new PointGrid({ exactLimit: 10_000 });
  const { t, l } = cloud(5000, 1, 10e9);
  for (let i = 0; i < t.length; i++) g.add(t[i]!, l[i]!);
  const p = g.points();
  assert.equal(g.exact, true);
  assert.equal(p.t.length, 5000);
  for (let i = 1; i < p.t.length; i++) assert.ok(p.t[i]! >= p.t[i - 1]!, 'sorted by time');
  assert.deepEqual(pairs(p.t, p.latency), pairs(t, l));
});

test('beyond the limit: the max of every column is kept, exactly, and the output is bounded', () => {
  const columns = 300;
  const rowsPerDecade = 20;
  const g = new PointGrid({ columns, rowsPerDecade, exactLimit: 1000 });
  const n = 250_000;
  const span = 600e9; // ten minutes
  const { t, l } = cloud(n, 7, span);
  for (let i = 0; i < n; i++) g.add(t[i]!, l[i]!);
  const p = g.points();
  assert.equal(g.exact, false);

  // Bounded: at most (2 x columns) columns, each with one point per occupied row plus its minimum.
  const rows = Math.ceil(Math.log10(3e9) * rowsPerDecade) + 1;
  assert.ok(p.t.length <= 2 * columns * (rows + 1), `${p.t.length} points`);
  assert.ok(p.t.length < n / 20, `output ${p.t.length} is much smaller than the input ${n}`);

  // Every column's slowest and fastest input are in the output.
  const w = g.columnWidthNs;
  const maxOf = new Map<number, [number, number]>();
  const minOf = new Map<number, [number, number]>();
  for (let i = 0; i < n; i++) {
    const c = Math.floor(t[i]! / w);
    const m = maxOf.get(c);
    if (!m || l[i]! > m[1]) maxOf.set(c, [t[i]!, l[i]!]);
    const k = minOf.get(c);
    if (!k || l[i]! < k[1]) minOf.set(c, [t[i]!, l[i]!]);
  }
  assert.ok(maxOf.size >= columns && maxOf.size <= 2 * columns, `${maxOf.size} columns`);
  const kept = pairs(p.t, p.latency);
  for (const [c, [ts, lat]] of maxOf) assert.ok(kept.has(`${ts}:${lat}`), `column ${c}: max ${lat} at ${ts} kept`);
  for (const [c, [ts, lat]] of minOf) assert.ok(kept.has(`${ts}:${lat}`), `column ${c}: min ${lat} at ${ts} kept`);

  // Every point out is a point in (no invention, no averaging).
  const input = pairs(t, l);
  for (const k of kept) assert.ok(input.has(k), `${k} is an input point`);
  // And the single slowest request of the run is there.
  let slowest = 0;
  for (let i = 0; i < n; i++) slowest = Math.max(slowest, l[i]!);
  assert.equal(Math.max(...p.latency), slowest);
});

test('the grid keeps the shape: every occupied (column, latency band) keeps a point', () => {
  const g = new PointGrid({ columns: 100, rowsPerDecade: 10, exactLimit: 0 });
  // Two separate bands: 1-2 ms and 400-500 ms, over 100 s.
  const rand = rng(3);
  for (let i = 0; i < 200_000; i++) {
    const slow = rand() < 0.05;
    g.add(rand() * 100e9, slow ? 400e6 + rand() * 100e6 : 1e6 + rand() * 1e6);
  }
  const p = g.points();
  const w = g.columnWidthNs;
  const bands = new Map<number, Set<string>>();
  for (let i = 0; i < p.t.length; i++) {
    const c = Math.floor(p.t[i]! / w);
    if (!bands.has(c)) bands.set(c, new Set());
    bands.get(c)!.add(p.latency[i]! > 100e6 ? 'slow' : 'fast');
  }
  for (const [c, b] of bands) assert.deepEqual([...b].sort(), ['fast', 'slow'], `column ${c} shows both bands`);
});

test('columns widen as the span grows, whatever the arrival order', () => {
  const g = new PointGrid({ columns: 50, exactLimit: 0 });
  // Out of order: late times first, then early ones (negative relative times too).
  for (const t of [90e9, 10e9, -5e9, 55e9, 0, 99e9]) g.add(t, 1e6);
  const cols = new Set(Array.from(g.points().t, (t) => Math.floor(t / g.columnWidthNs)));
  assert.ok(g.columnWidthNs * 100 >= 104e9, 'span of 104 s fits in at most 100 columns');
  assert.equal(cols.size, 6);
});

test('errors are kept apart: rare errors all survive among a million successes', () => {
  const d = new LatencyDownsampler({ columns: 200, exactLimit: 5000 });
  const rand = rng(11);
  const errors: string[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    const t = i * 1e6;
    if (i % 50_000 === 17) {
      const lat = 1e9 * rand();
      d.add(t, lat, true);
      errors.push(`${t}:${lat}`);
    } else d.add(t, 1e6 + rand() * 3e6, false);
  }
  const r = d.result();
  assert.equal(r.seen, 1_000_000);
  assert.equal(r.exact, false);
  assert.equal(r.errors.t.length, errors.length);
  assert.deepEqual(pairs(r.errors.t, r.errors.latency), new Set(errors));
  assert.ok(r.ok.t.length < 50_000);
});

test('many errors are downsampled like successes, keeping the slowest error of each column', () => {
  const d = new LatencyDownsampler({ columns: 100, exactLimit: 100 });
  const rand = rng(5);
  let slowestError = 0;
  for (let i = 0; i < 100_000; i++) {
    const lat = rand() * 5e9;
    d.add(i * 1e6, lat, true);
    slowestError = Math.max(slowestError, lat);
  }
  const r = d.result();
  assert.equal(r.ok.t.length, 0);
  assert.ok(r.errors.t.length < 100_000 / 5);
  assert.equal(Math.max(...r.errors.latency), slowestError);
});
