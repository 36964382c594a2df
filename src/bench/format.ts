import { arch, cpus, platform } from 'node:os';
import { formatBytes } from '../units/index.js';
import { displayName, type BenchResult, type BenchRun } from './runner.js';

/**
 * `go test -bench` output, so that Go people read it at a glance and benchstat can read it too:
 * configuration lines (`goos: linux`), then one line per measurement,
 *
 *   BenchmarkLookup/fresh   	   41220	     28611 ns/op	   66160 B/op	      41 allocs/op
 *
 * and, when there is more than one run, a summary table (median ± spread) whose lines do not start
 * with "Benchmark", so benchstat skips it.
 */

/** Go's `testing` number format: fewer decimals as the value grows. */
export function goNumber(x: number): string {
  const y = Math.abs(x);
  if (y === 0 || y >= 999.95) return x.toFixed(0);
  if (y >= 99.995) return x.toFixed(1);
  if (y >= 9.9995) return x.toFixed(2);
  if (y >= 0.99995) return x.toFixed(3);
  if (y >= 0.099995) return x.toFixed(4);
  if (y >= 0.0099995) return x.toFixed(5);
  return x.toFixed(6);
}

export function headerLines(file?: string): string {
  const lines = [`goos: ${platform()}`, `goarch: ${arch()}`, `node: ${process.version}`];
  if (file) lines.push(`pkg: ${file}`);
  const cpu = cpus()[0]?.model?.trim();
  if (cpu) lines.push(`cpu: ${cpu}`);
  return lines.join('\n') + '\n';
}

export function runLine(name: string, run: BenchRun, nameWidth: number): string {
  let s = `${displayName(name).padEnd(nameWidth)}\t${String(run.n).padStart(8)}\t${goNumber(run.nsPerOp).padStart(10)} ns/op`;
  if (run.bytesPerOp !== null) s += `\t${String(Math.round(run.bytesPerOp)).padStart(8)} B/op`;
  if (run.allocsPerOp !== null) s += `\t${String(Math.round(run.allocsPerOp)).padStart(8)} allocs/op`;
  return s;
}

/** Three significant digits with a unit: 950ns, 1.23µs, 45.6ms, 2.00s. */
export function formatNs(ns: number): string {
  const units: Array<[number, string]> = [
    [1e9, 's'],
    [1e6, 'ms'],
    [1e3, 'µs'],
  ];
  for (const [scale, u] of units) if (Math.abs(ns) >= scale) return `${sig3(ns / scale)}${u}`;
  return `${sig3(ns)}ns`;
}

export function formatCount(x: number): string {
  return Math.abs(x) >= 1000 ? x.toFixed(0) : sig3(x);
}

function sig3(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(3);
}

export type Metric = 'nsPerOp' | 'bytesPerOp' | 'allocsPerOp';
export const METRICS: Array<{ key: Metric; unit: string; label: string; format: (x: number) => string }> = [
  { key: 'nsPerOp', unit: 'ns/op', label: 'time/op', format: formatNs },
  { key: 'bytesPerOp', unit: 'B/op', label: 'alloc/op', format: (x) => formatBytes(Math.round(x)) },
  { key: 'allocsPerOp', unit: 'allocs/op', label: 'allocs/op', format: formatCount },
];

export function formatSpread(s: number | null): string {
  if (s === null) return '';
  if (!Number.isFinite(s)) return '± ∞%';
  return `± ${Math.round(s * 100)}%`;
}

/** The median ± spread table printed after the run lines. */
export function summaryTable(results: BenchResult[]): string {
  const ok = results.filter((r) => r.runs.length > 0);
  if (ok.length === 0) return '';
  const header = ['name', ...METRICS.map((m) => m.unit)];
  const rows = ok.map((r) => [
    r.name,
    ...METRICS.map((m) => (r[m.key] === null ? '-' : `${m.format(r[m.key]!)} ${formatSpread(r.spread[m.key])}`)),
  ]);
  const runs = ok.map((r) => r.runs.length);
  const n = Math.min(...runs) === Math.max(...runs) ? `${runs[0]} runs` : 'runs';
  return `\nmedian ± spread over ${n} (spread: largest distance from the median):\n${table([header, ...rows])}`;
}

/** Left-aligned columns, two spaces apart. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join('  ').trimEnd()).join('\n') + '\n';
}

/** `-json`: medians at the top, every run below (numbers rounded to 0.01; null = not measured). */
export function jsonResults(results: BenchResult[]): object[] {
  const r2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
  return results.map((r) => ({
    name: r.name,
    nsPerOp: r2(r.nsPerOp),
    bytesPerOp: r2(r.bytesPerOp),
    allocsPerOp: r2(r.allocsPerOp),
    spread: { nsPerOp: r2(r.spread.nsPerOp), bytesPerOp: r2(r.spread.bytesPerOp), allocsPerOp: r2(r.spread.allocsPerOp) },
    runs: r.runs.map((x) => ({
      n: x.n,
      nsPerOp: r2(x.nsPerOp),
      bytesPerOp: r2(x.bytesPerOp),
      allocsPerOp: r2(x.allocsPerOp),
      heapBytesPerOp: r2(x.heapBytesPerOp),
      externalBytesPerOp: r2(x.externalBytesPerOp),
      sampledHeapBytesPerOp: r2(x.sampledHeapBytesPerOp ?? null),
    })),
    ...(r.error !== undefined ? { error: r.error } : {}),
  }));
}
