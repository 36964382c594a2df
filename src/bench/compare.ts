import { readFile } from 'node:fs/promises';
import { RuntimeError, UsageError, at } from '../errors.js';
import { METRICS, formatSpread, table, type Metric } from './format.js';
import { median, spread, mannWhitneyU } from './stats.js';

/**
 * `tailprobe bench -compare old new`: benchstat for tailprobe's -json output (and for `go test
 * -bench` text output, so Go services' benchmarks compare the same way).
 *
 * For each metric and each benchmark present in both files: median ± spread on each side, the
 * change of the median, and a two-sided Mann-Whitney U test of the runs; when p > alpha (0.05, as
 * benchstat) the change is printed as "~": not distinguishable from noise with this many runs.
 */

/** Runs of each benchmark: values per metric (absent metrics are empty arrays). */
export type Samples = Map<string, Record<Metric, number[]>>;

export interface ComparisonRow {
  name: string;
  metric: Metric;
  old: number[];
  new: number[];
  oldMedian: number;
  newMedian: number;
  /** (new - old) / old; null when old is 0. */
  delta: number | null;
  p: number;
  significant: boolean;
}

function emptyRecord(): Record<Metric, number[]> {
  return { nsPerOp: [], bytesPerOp: [], allocsPerOp: [] };
}

/** Matching key: Go's "Benchmark" prefix and the case of the first letter do not matter. */
export function benchKey(name: string): string {
  const n = name.startsWith('Benchmark') ? name.slice('Benchmark'.length) : name;
  return n.charAt(0).toLowerCase() + n.slice(1);
}

/** Parses tailprobe bench -json output or go test -bench text. */
export function parseBenchOutput(text: string, file = 'input'): Samples {
  const trimmed = text.trimStart();
  const out: Samples = new Map();
  if (trimmed.startsWith('[')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(data)) throw new UsageError(`${file}: expected the array printed by tailprobe bench -json`);
    for (const [i, b] of data.entries()) {
      const name = (b as { name?: unknown })?.name;
      const runs = (b as { runs?: unknown })?.runs;
      if (typeof name !== 'string' || !Array.isArray(runs)) {
        throw new UsageError(`${file}: entry ${i}: expected {name, runs: [...]} as printed by tailprobe bench -json`);
      }
      const rec = out.get(name) ?? emptyRecord();
      for (const r of runs as Array<Record<string, unknown>>) {
        for (const m of METRICS) {
          const v = r[m.key];
          if (typeof v === 'number' && Number.isFinite(v)) rec[m.key].push(v);
        }
      }
      out.set(name, rec);
    }
    return out;
  }
  const units: Record<string, Metric> = { 'ns/op': 'nsPerOp', 'B/op': 'bytesPerOp', 'allocs/op': 'allocsPerOp' };
  text.split('\n').forEach((line, i) => {
    const m = /^(Benchmark\S*)\s+(\d+)\s+(.*)$/.exec(line.trim());
    if (!m) return;
    const fields = m[3]!.trim().split(/\s+/);
    const rec = out.get(m[1]!) ?? emptyRecord();
    for (let k = 0; k + 1 < fields.length; k += 2) {
      const metric = units[fields[k + 1]!];
      const v = Number(fields[k]);
      if (metric === undefined) continue;
      if (!Number.isFinite(v)) throw new UsageError(at(file, i + 1, `invalid value "${fields[k]}" for ${fields[k + 1]}`));
      rec[metric].push(v);
    }
    out.set(m[1]!, rec);
  });
  if (out.size === 0) throw new UsageError(`${file}: no benchmark results (expected tailprobe bench -json output or go test -bench lines)`);
  return out;
}

export async function readBenchOutput(path: string): Promise<Samples> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new RuntimeError(err.code === 'ENOENT' ? `no such file: ${path}` : `${path}: ${err.message}`);
  }
  return parseBenchOutput(text, path);
}

export function compareSamples(before: Samples, after: Samples, alpha = 0.05): ComparisonRow[] {
  const afterByKey = new Map([...after].map(([name, rec]) => [benchKey(name), rec]));
  const rows: ComparisonRow[] = [];
  for (const m of METRICS) {
    for (const [name, rec] of before) {
      const other = afterByKey.get(benchKey(name));
      if (!other) continue;
      const o = rec[m.key];
      const n = other[m.key];
      if (o.length === 0 || n.length === 0) continue;
      const oldMedian = median(o);
      const newMedian = median(n);
      const { p } = mannWhitneyU(o, n);
      rows.push({
        name: name.startsWith('Benchmark') ? name.slice('Benchmark'.length) : name,
        metric: m.key,
        old: o,
        new: n,
        oldMedian,
        newMedian,
        delta: oldMedian === 0 ? (newMedian === 0 ? 0 : null) : (newMedian - oldMedian) / oldMedian,
        p,
        significant: p <= alpha,
      });
    }
  }
  return rows;
}

/** benchstat's (v1) layout: one table per metric, "~" where the change is not significant. */
export function formatComparison(rows: ComparisonRow[], alpha = 0.05): string {
  const parts: string[] = [];
  for (const m of METRICS) {
    const mine = rows.filter((r) => r.metric === m.key);
    if (mine.length === 0) continue;
    const body = mine.map((r) => {
      const stat = `(p=${r.p.toFixed(3)} n=${r.old.length}+${r.new.length})`;
      let delta: string;
      if (!r.significant) delta = `~ ${stat}`;
      else if (r.delta === null) delta = `? ${stat}`;
      else delta = `${r.delta >= 0 ? '+' : ''}${(r.delta * 100).toFixed(2)}% ${stat}`;
      return [
        r.name,
        `${m.format(r.oldMedian)} ${formatSpread(spread(r.old))}`,
        `${m.format(r.newMedian)} ${formatSpread(spread(r.new))}`,
        delta,
      ];
    });
    parts.push(table([['name', `old ${m.label}`, `new ${m.label}`, 'delta'], ...body]));
  }
  if (parts.length === 0) return 'no benchmarks in common\n';
  // With n1+n2 runs the smallest two-sided p-value the test can give is 2 / C(n1+n2, n1).
  const weak = rows.find((r) => minP(r.old.length, r.new.length) > alpha);
  const note = weak
    ? `\nnote: with n=${weak.old.length}+${weak.new.length} runs no change can be significant at alpha=${alpha} (smallest possible p=${minP(weak.old.length, weak.new.length).toFixed(3)}); run with -count=5 or more.\n`
    : '';
  return parts.join('\n') + note;
}

function minP(n1: number, n2: number): number {
  let c = 1;
  for (let i = 1; i <= n1; i++) c = (c * (n2 + i)) / i;
  return Math.min(1, 2 / c);
}
