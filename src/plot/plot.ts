import { open, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { RuntimeError, TailprobeError, UsageError } from '../errors.js';
import { explain, loadClientRequests, readCapture, type AgentCapture, type Threshold } from '../explain/index.js';
import { openResults, type ResultSource } from '../results/reader.js';
import { checkShardSet, groupRuns, type RunGroup } from '../metrics/shards.js';
import { emptyMeta, type Result, type RunMeta } from '../results/result.js';
import { renderPlotHtml, type PlotRenderOptions } from './html.js';
import { RunAggregator, type RunAggregateOptions, type RunPlot } from './run.js';
import { isSweepPlotDocument, parseSweepPlot, type SweepPlot } from './sweep.js';

/**
 * `tailprobe plot` as a library: results files (any format `openResults` reads) and `sweep` output
 * in, one self-contained HTML page out. Each results file is one run (a before/after pair is two
 * files); each is streamed once through a RunAggregator, so memory does not grow with its size.
 */
export interface PlotOptions extends RunAggregateOptions, PlotRenderOptions {
  /** The stream '-' reads (process.stdin by default). */
  stdin?: NodeJS.ReadableStream;
  /** Explain runs' slow requests from their agent captures: a lane of stacked bars under the latency chart. */
  explain?: PlotExplainOptions;
}

/**
 * `plot -explain=CAPTURE`: the i-th capture explains the i-th results run (sweep files do not
 * count); null or '' skips a run, runs past the last capture have no lane. A capture is a file
 * (`attack -explain`, `explain -save-capture`) or one already read.
 */
export interface PlotExplainOptions {
  captures: Array<AgentCapture | string | null>;
  /** Which requests are slow. Default p99. */
  above?: Threshold;
}

/** One run given directly (for library users and tests that already hold results). */
export interface PlotRunInput {
  /** Label in the page; default: the attack name, else the source's file name. */
  name?: string;
  source: string;
  meta?: RunMeta;
  /** Set when the input was cut off (read after the batches end). */
  truncated?: boolean;
  truncatedBytes?: number;
  batches: AsyncIterable<readonly Result[]> | Iterable<readonly Result[]>;
}

/** Streams one run into its plot aggregates. `meta` is read after the batches end (files carry it as they go). */
export async function aggregateRun(run: PlotRunInput, opts: RunAggregateOptions = {}): Promise<RunPlot> {
  const agg = new RunAggregator(opts);
  let attack = '';
  for await (const batch of run.batches) {
    if (attack === '' && batch.length > 0) {
      attack = batch[0]!.attack;
      // Binary files carry the run info ahead of the results: buckets then start at the schedule's start.
      const startedAt = run.meta?.info?.startedAt;
      if (startedAt !== undefined && startedAt > 0n) agg.setOrigin(startedAt);
    }
    agg.addBatch(batch);
  }
  const meta = run.meta ?? emptyMeta();
  const name = run.name || meta.info?.name || attack || runLabel(run.source);
  return agg.finish(name, run.source, meta, run.truncatedBytes ?? 0, run.truncated ?? false);
}

function runLabel(source: string): string {
  return source === 'stdin' || source === '-' ? 'stdin' : basename(source).replace(/(\.(bin|json|csv|gz|jsonl))+$/i, '') || source;
}

/** Reads results files and sweep files and returns the report page. */
export async function plotHtml(inputs: string[], opts: PlotOptions = {}): Promise<string> {
  const paths = inputs.length > 0 ? inputs : ['-'];
  const runs: RunPlot[] = [];
  /** The files each run was read from (explain reads them again: it needs every request's times). */
  const runFiles: string[][] = [];
  let sweep: SweepPlot | null = null;
  for (const group of await groupRuns(paths, opts.stdin)) {
    const path = group.label;
    if (group.files.length > 1 || group.files[0] !== path) {
      runs.push(await aggregateShards(group, opts));
      runFiles.push(group.files);
      continue;
    }
    const sw = await readSweepIfSweep(path);
    if (sw) {
      if (sweep) throw new RuntimeError(`${path}: only one sweep file can be plotted at a time (already have ${sweep.source})`);
      sweep = sw;
      continue;
    }
    const src = await openResults(path, opts.stdin);
    const plot = await aggregateRun(
      {
        source: src.name,
        batches: src.batches(),
        // Read once the batches have ended: binary files may carry meta records anywhere.
        get meta() {
          return src.meta;
        },
        get truncated() {
          return src.truncated;
        },
        get truncatedBytes() {
          return src.truncatedBytes;
        },
      },
      opts,
    );
    runs.push(plot);
    runFiles.push([path]);
  }
  if (runs.length > 0 && runs.every((r) => r.metrics.requests === 0) && !sweep) {
    throw new RuntimeError(`no results to plot in ${paths.join(', ')}`);
  }
  if (opts.explain) await explainRuns(runs, runFiles, opts.explain);
  return renderPlotHtml(runs, sweep, opts);
}

/** Sets each run's explanation from its capture (every slow request: the page bounds what it draws). */
async function explainRuns(runs: RunPlot[], files: string[][], ex: PlotExplainOptions): Promise<void> {
  if (ex.captures.length > runs.length) {
    throw new UsageError(`plot: ${ex.captures.length} -explain captures for ${runs.length} results run${runs.length === 1 ? '' : 's'} (one per run, in the order of the runs)`);
  }
  for (let i = 0; i < ex.captures.length; i++) {
    const c = ex.captures[i];
    if (c === null || c === undefined || c === '') continue;
    const name = typeof c === 'string' ? c : c.url || 'capture';
    if (files[i]!.some((f) => f === '-' || f === 'stdin')) throw new UsageError(`plot: -explain=${name}: explain needs the results in a file, not on stdin`);
    const { client, info } = await loadClientRequests(files[i]!);
    const capture = typeof c === 'string' ? await readCapture(c) : c;
    try {
      runs[i]!.explanation = explain(client, info, capture, { above: ex.above, slowest: Infinity });
    } catch (err) {
      // "the agent's records name none of this attack's requests": say which capture and which run.
      if (!(err instanceof TailprobeError)) throw err;
      const msg = `plot: ${name} does not explain ${runs[i]!.source}: ${err.message}`;
      throw err instanceof UsageError ? new UsageError(msg) : new RuntimeError(msg);
    }
  }
}

/**
 * The shards of one plan (a directory, or consecutive shard files; see groupRuns) as one run: every
 * file streamed into one aggregator on the plan's timeline (x = 0 at the agreed start), so the page
 * shows the one schedule. Shards of different plans are a UsageError.
 */
async function aggregateShards(group: RunGroup, opts: PlotOptions): Promise<RunPlot> {
  const sources: ResultSource[] = [];
  for (const f of group.files) sources.push(await openResults(f, opts.stdin));
  async function* all(): AsyncIterable<readonly Result[]> {
    for (const s of sources) yield* s.batches();
  }
  const meta = (): RunMeta => {
    const first = sources[0]!.meta;
    return { info: first.info, health: first.health, events: sources.flatMap((s) => s.meta.events) };
  };
  const plot = await aggregateRun(
    {
      source: group.label,
      batches: all(),
      get meta() {
        return meta();
      },
      get truncated() {
        return sources.some((s) => s.truncated);
      },
      get truncatedBytes() {
        return sources.reduce((a, s) => a + s.truncatedBytes, 0);
      },
    },
    opts,
  );
  checkShardSet(sources.map((s) => ({ name: s.name, info: s.meta.info })));
  plot.parts = sources.map((s) => ({ source: s.name, meta: s.meta, truncated: s.truncated, truncatedBytes: s.truncatedBytes }));
  return plot;
}

/** Sweep output is one JSON document with a list of steps; a results file never is. */
async function readSweepIfSweep(path: string): Promise<SweepPlot | null> {
  if (path === '-' || path === 'stdin') return null;
  let head: Buffer;
  try {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      head = buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch {
    return null; // openResults reports the problem in its own words
  }
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (!text.startsWith('{') || !/"(steps|knee|slo)"\s*:/.test(text)) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return null; // JSON lines: a results file after all
  }
  return isSweepPlotDocument(doc) ? parseSweepPlot(doc, path) : null;
}
