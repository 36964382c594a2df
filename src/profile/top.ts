import type { Profile } from 'pprof-format';
import { formatDuration } from '../units/duration.js';
import { int64, str } from './parse.js';

/**
 * The `go tool pprof -top` view: functions by flat value (their own) and cumulative value (theirs
 * and their callees'), in the profile's default sample type.
 */

export interface FunctionTotal {
  /** Function name as the profile spells it (`main.burnCPU`, `spinHotLoop`, `(garbage collector)`). */
  name: string;
  file: string;
  flat: number;
  cum: number;
}

export interface SampleTypeInfo {
  index: number;
  type: string;
  unit: string;
}

/** The sample type pprof shows by default: `default_sample_type` if set, else the last one. */
export function defaultSampleIndex(p: Profile): number {
  const want = str(p, p.defaultSampleType);
  if (want) {
    const i = p.sampleType.findIndex((t) => str(p, t.type) === want);
    if (i >= 0) return i;
  }
  return p.sampleType.length - 1;
}

/** Resolves a sample type by name (`alloc_space`, `delay`...) or index; the default when absent. */
export function sampleTypeInfo(p: Profile, which?: string | number): SampleTypeInfo {
  let index = defaultSampleIndex(p);
  if (typeof which === 'number') index = which;
  else if (which) {
    index = p.sampleType.findIndex((t) => str(p, t.type) === which);
    if (index < 0) {
      const have = p.sampleType.map((t) => str(p, t.type)).join(', ');
      throw new Error(`no sample type "${which}" in this profile (it has ${have})`);
    }
  }
  const t = p.sampleType[index]!;
  return { index, type: str(p, t.type), unit: str(p, t.unit) };
}

/** A location's frames, innermost (inlined) first, as (name, file) pairs. */
function locationFunctions(p: Profile): Map<number, Array<{ key: string; name: string; file: string }>> {
  const fns = new Map<number, { key: string; name: string; file: string }>();
  for (const f of p.function) {
    const name = str(p, f.name);
    const file = str(p, f.filename);
    fns.set(Number(f.id), { key: `${name}\0${file}`, name, file });
  }
  const locs = new Map<number, Array<{ key: string; name: string; file: string }>>();
  for (const l of p.location) {
    const frames = l.line.map((ln) => fns.get(Number(ln.functionId))).filter((x) => x !== undefined);
    if (frames.length === 0) {
      const hex = `0x${BigInt(l.address).toString(16)}`;
      frames.push({ key: hex, name: hex, file: '' });
    }
    locs.set(Number(l.id), frames);
  }
  return locs;
}

/**
 * Visits every sample with its stack as function keys (leaf first) and its value. The stack
 * callback receives the same array object across calls; copy it to keep it.
 */
export function forEachStack(
  p: Profile,
  sampleIndex: number,
  fn: (stack: Array<{ key: string; name: string; file: string }>, value: number, labels: Map<string, string>) => void,
): void {
  const locs = locationFunctions(p);
  const stack: Array<{ key: string; name: string; file: string }> = [];
  for (const s of p.sample) {
    const v = int64(s.value[sampleIndex]);
    if (v === 0) continue;
    stack.length = 0;
    for (const id of s.locationId) for (const f of locs.get(Number(id)) ?? []) stack.push(f);
    const labels = new Map<string, string>();
    for (const l of s.label) labels.set(str(p, l.key), Number(l.str) ? str(p, l.str) : String(int64(l.num)));
    fn(stack, v, labels);
  }
}

/** Flat and cumulative totals per function (name + file), largest flat first (or cum, when asked). */
export function functionTotals(p: Profile, opts: { sampleIndex?: number; cum?: boolean } = {}): { rows: FunctionTotal[]; total: number } {
  const index = opts.sampleIndex ?? defaultSampleIndex(p);
  const rows = new Map<string, FunctionTotal>();
  let total = 0;
  const seen = new Set<string>();
  forEachStack(p, index, (stack, v) => {
    total += Math.abs(v);
    seen.clear();
    stack.forEach((f, i) => {
      let r = rows.get(f.key);
      if (!r) rows.set(f.key, (r = { name: f.name, file: f.file, flat: 0, cum: 0 }));
      if (i === 0) r.flat += v;
      // A recursive function counts once per sample in its cumulative value.
      if (!seen.has(f.key)) {
        seen.add(f.key);
        r.cum += v;
      }
    });
  });
  const sorted = [...rows.values()].sort((a, b) =>
    opts.cum ? Math.abs(b.cum) - Math.abs(a.cum) || Math.abs(b.flat) - Math.abs(a.flat) : Math.abs(b.flat) - Math.abs(a.flat) || Math.abs(b.cum) - Math.abs(a.cum),
  );
  return { rows: sorted, total };
}

/** Totals by the value of one sample label (e.g. `lock` in tailprobe's block/mutex profiles). */
export function labelTotals(p: Profile, key: string, sampleIndex = defaultSampleIndex(p)): Array<{ value: string; total: number }> {
  const by = new Map<string, number>();
  forEachStack(p, sampleIndex, (_s, v, labels) => {
    const l = labels.get(key);
    if (l !== undefined) by.set(l, (by.get(l) ?? 0) + v);
  });
  return [...by.entries()].map(([value, total]) => ({ value, total })).sort((a, b) => b.total - a.total);
}

/** Formats a value in its unit the way pprof does: 1.20s, 350ms, 1.50MB, 12345. */
export function formatValue(v: number, unit: string): string {
  const sign = v < 0 ? '-' : '';
  const a = Math.abs(v);
  switch (unit) {
    case 'nanoseconds':
      return a === 0 ? '0' : sign + formatDuration(roundSig(a));
    case 'microseconds':
      return a === 0 ? '0' : sign + formatDuration(roundSig(a * 1e3));
    case 'milliseconds':
      return a === 0 ? '0' : sign + formatDuration(roundSig(a * 1e6));
    case 'bytes': {
      const units = ['B', 'kB', 'MB', 'GB', 'TB'];
      let x = a;
      let i = 0;
      while (x >= 1024 && i < units.length - 1) {
        x /= 1024;
        i++;
      }
      return sign + (i === 0 ? `${x}B` : `${x.toFixed(2)}${units[i]}`);
    }
    default:
      return sign + String(a);
  }
}

/** Three significant digits, so durations read like pprof's ("1.23s", not "1.234567891s"). */
function roundSig(ns: number): number {
  if (ns < 1000) return Math.round(ns);
  const mag = Math.pow(10, Math.floor(Math.log10(ns)) - 2);
  return Math.round(ns / mag) * mag;
}

function pct(x: number, total: number): string {
  return total === 0 ? '0%' : `${((100 * x) / total).toFixed(2)}%`;
}

export interface TopOptions {
  /** Rows shown (default 20; 0 = all). */
  n?: number;
  /** Sort by cumulative value instead of flat. */
  cum?: boolean;
  /** Sample type by name or index; the profile's default when absent. */
  sampleType?: string | number;
}

/** The table `go tool pprof -top` prints, with its header (type, duration, total). */
export function topTable(p: Profile, opts: TopOptions = {}): string {
  const t = sampleTypeInfo(p, opts.sampleType);
  const { rows, total } = functionTotals(p, { sampleIndex: t.index, cum: opts.cum });
  const n = opts.n === undefined ? 20 : opts.n <= 0 ? rows.length : opts.n;
  const shown = rows.slice(0, n);
  const fmt = (v: number) => formatValue(v, t.unit);
  const shownFlat = shown.reduce((s, r) => s + r.flat, 0);
  const out: string[] = [];
  out.push(`Type: ${t.type}`);
  const dur = int64(p.durationNanos);
  if (dur > 0) out.push(`Duration: ${formatDuration(roundSig(dur))}, Total ${t.type} = ${fmt(total)}`);
  if (rows.length === 0) {
    out.push('(no samples)');
    return out.join('\n') + '\n';
  }
  out.push(`Showing nodes accounting for ${fmt(shownFlat)}, ${pct(shownFlat, total)} of ${fmt(total)} total`);
  if (shown.length < rows.length) out.push(`Showing top ${shown.length} nodes out of ${rows.length}`);
  // Names that occur in more than one file get their file, or the rows would look like duplicates.
  const nameCount = new Map<string, number>();
  for (const r of rows) nameCount.set(r.name, (nameCount.get(r.name) ?? 0) + 1);
  const cells = shown.map((r) => [fmt(r.flat), pct(r.flat, total), '', fmt(r.cum), pct(r.cum, total)]);
  let sum = 0;
  shown.forEach((r, i) => {
    sum += r.flat;
    cells[i]![2] = pct(sum, total);
  });
  const head = ['flat', 'flat%', 'sum%', 'cum', 'cum%'];
  const widths = head.map((h, j) => Math.max(h.length, ...cells.map((c) => c[j]!.length)) + 1);
  const line = (c: string[]) => c.map((x, j) => x.padStart(widths[j]! + (j === 0 || j === 3 ? 2 : 0))).join('');
  out.push(line(head));
  shown.forEach((r, i) => {
    const name = (nameCount.get(r.name) ?? 0) > 1 && r.file ? `${r.name} (${r.file})` : r.name;
    out.push(`${line(cells[i]!)}  ${name}`);
  });
  return out.join('\n') + '\n';
}
