import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { readMetrics } from '../metrics/read.js';
import { checkShardSet, expandInputs, shardSetLines, type RunGroup } from '../metrics/shards.js';
import { runFromMetrics, type RunData, type RowStat } from './compare.js';
import { SampleBuilder } from './sample.js';

/**
 * Reading a run for compare: a results file in any format tailprobe reads (binary, vegeta JSON or
 * CSV, gzipped or not; '-' for stdin), read once into both Metrics and the block sample; or a saved
 * `tailprobe report -type=json` (or `vegeta report -type=json`), which has the numbers but not the
 * requests behind them, so its changes get no confidence interval.
 */
export interface LoadOptions {
  /** Block width for the block bootstrap, ns (default 100 ms). */
  blockNs?: number;
  stdin?: NodeJS.ReadableStream;
}

/** Reports are small; a file larger than this is results, not a report, and is not read whole. */
const MAX_REPORT_BYTES = 4 << 20;

export async function loadRun(path: string, opts: LoadOptions = {}): Promise<RunData> {
  const files = await expandInputs([path]);
  if (files.length !== 1 || files[0] !== path) return loadRunGroup({ label: path, files }, opts);
  if (path !== '-') {
    const report = await readSavedReport(path);
    if (report) return report;
  }
  return loadRunGroup({ label: path, files: [path] }, opts);
}

/**
 * One run from several results files: the shards of one plan (a directory of them, or consecutive
 * files; see groupRuns), merged exactly (one Metrics, one block sample on one timeline). Shards of
 * different plans are a UsageError; missing or overlapping shards and the start skew are notes.
 */
export async function loadRunGroup(group: RunGroup, opts: LoadOptions = {}): Promise<RunData> {
  const builder = new SampleBuilder();
  const { metrics, sources } = await readMetrics(group.files, {
    stdin: opts.stdin,
    onBatch: (batch) => {
      for (const r of batch) builder.add(r);
    },
  });
  const src = sources[0]!;
  const name = sources.length === 1 ? src.name : group.label;
  if (metrics.requests === 0) throw new UsageError(`${name}: no results`);
  const notes: string[] = [];
  for (const s of sources) {
    const which = sources.length === 1 ? '' : `${s.name} `;
    if (s.truncatedBytes > 0) notes.push(`${which}ends with a cut-off record (${s.truncatedBytes} bytes ignored); compared what was complete`);
  }
  const shards = checkShardSet(sources.map((s) => ({ name: s.name, info: s.meta.info })));
  if (shards) notes.push(...shardSetLines(shards).map((l) => l.replace(/^(Warning|Note): /, '')));
  return runFromMetrics(name, src.format, metrics, src.meta, builder.build(opts.blockNs), notes);
}

/** The run a saved JSON report describes, or null when the file is not one. */
export async function readSavedReport(path: string): Promise<RunData | null> {
  // Gzip, binary results and CSV never start with '{'; large files are results and are not read whole.
  // A file that cannot be read is left to the results reader, whose error says so in one line.
  const size = await stat(path).then((s) => (s.isFile() ? s.size : Infinity), () => Infinity);
  if (size > MAX_REPORT_BYTES) return null;
  const text = (await readFile(path, 'utf8')).trim();
  if (!text.startsWith('{')) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null; // vegeta JSON results: one object per line, not one document
  }
  return reportToRun(path, doc);
}

/** Maps vegeta's JSON report fields (and tailprobe's additions) to a RunData without a sample. */
export function reportToRun(name: string, doc: unknown): RunData | null {
  const d = doc as Record<string, unknown>;
  const lat = d?.latencies as Record<string, unknown> | undefined;
  if (typeof lat !== 'object' || lat === null || typeof d.requests !== 'number') return null;
  const num = (...vals: unknown[]): number => {
    for (const v of vals) if (typeof v === 'number' && Number.isFinite(v)) return v;
    return NaN;
  };
  const requests = d.requests;
  if (requests === 0) throw new UsageError(`${name}: the report has no results`);
  const point: Record<RowStat, number> = {
    p50: num(lat['50th'], lat.p50),
    p90: num(lat['90th'], lat.p90),
    p99: num(lat['99th'], lat.p99),
    'p99.9': num(lat['99.9th'], lat.p999, lat['p99.9']),
    max: num(lat.max),
    mean: num(lat.mean),
    success: num(d.success),
    throughput: num(d.throughput),
  };
  // tailprobe's report adds the generator's schedule keeping; vegeta's has none.
  const sch = d.schedule as Record<string, unknown> | undefined;
  const schedule =
    sch && sch.recorded === true
      ? { recorded: true, late: num(sch.late), lateRatio: num(sch.late_ratio), p50: num(sch.lag_50th), p99: num(sch.lag_99th), max: num(sch.lag_max) }
      : null;
  return {
    name,
    format: 'report',
    requests,
    point,
    rate: num(d.rate),
    duration: num(d.duration),
    wait: num(d.wait, 0),
    schedule,
    meta: null,
    sample: null,
    notes: [],
  };
}
