import { UsageError } from '../errors.js';
import { Metrics } from '../metrics/metrics.js';
import { readMetrics } from '../metrics/read.js';
import type { ResultSource } from '../results/reader.js';
import { checkShardSet, expandInputs } from '../metrics/shards.js';
import { everyInterval, RollingWindow } from '../metrics/window.js';
import { wallClockNs } from '../time/wall.js';
import type { RunMeta } from '../results/result.js';
import { hdrplotReport } from './hdrplot.js';
import { histReport, LatencyBuckets, parseHistBuckets } from './hist.js';
import { jsonReport } from './json.js';
import { textReport } from './text.js';
import type { SourceSummary } from './health.js';

/** A report type as `-type` names it. */
export type ReportType =
  | { kind: 'text' }
  | { kind: 'json'; buckets?: number[] }
  | { kind: 'hist'; buckets: number[] }
  | { kind: 'hdrplot' };

/** Parses `-type`: text, json, hist[0,1ms,5ms], hdrplot. `buckets` is vegeta's `-buckets` for json. */
export function parseReportType(text: string, buckets = ''): ReportType {
  const t = text.trim();
  if (t === 'text') return { kind: 'text' };
  if (t === 'json') return buckets ? { kind: 'json', buckets: parseHistBuckets(buckets) } : { kind: 'json' };
  if (t === 'hdrplot') return { kind: 'hdrplot' };
  if (t.startsWith('hist')) return { kind: 'hist', buckets: parseHistBuckets(buckets || t) };
  throw new UsageError(`report: unknown -type "${text}" (want text, json, hist[buckets] or hdrplot)`);
}

/**
 * Renders one report of the metrics so far. `buckets`: exact bucket counts for hist (and json with
 * buckets), fed while reading; without them the counts come from the HDR histogram.
 */
export function renderReport(
  type: ReportType,
  m: Metrics,
  meta: RunMeta[] = [],
  sources: SourceSummary[] = [],
  buckets?: LatencyBuckets,
): string {
  switch (type.kind) {
    case 'text':
      return textReport(m, meta, sources);
    case 'json':
      return `${JSON.stringify(jsonReport(m, meta, sources, { buckets: buckets ?? type.buckets }))}\n`;
    case 'hist':
      return histReport(m, buckets ?? type.buckets);
    case 'hdrplot':
      return hdrplotReport(m);
  }
}

/**
 * SLO GATE HOOK. A gate judges the final metrics once all inputs are read; `tailprobe report -slo=...`
 * (added by the SLO work) builds one from its flag and passes it to runReport. Its text goes to `err`
 * (stderr in the CLI, so stdout keeps only the report), and a failed gate makes `report` exit with
 * EXIT_SLO_FAILED.
 */
export type ReportGate = (m: Metrics, meta: RunMeta[]) => { text: string; failed: boolean };

export interface RunReportOptions {
  /** Input files; stdin when empty. */
  inputs: string[];
  stdin?: NodeJS.ReadableStream;
  /** Where reports go. */
  out: NodeJS.WritableStream;
  /** Where a gate's verdict goes (default: out). */
  err?: NodeJS.WritableStream;
  type: ReportType;
  /** Print a report of everything so far every this many ns while reading (vegeta's -every); 0 = only at the end. */
  everyNs?: number;
  /** Clear the screen before each rolling report (when the output is a terminal). */
  clearScreen?: boolean;
  /** Stop reading (and report what was read) when aborted. */
  signal?: AbortSignal;
  /** See ReportGate. */
  gate?: ReportGate;
}

export interface RunReportResult {
  metrics: Metrics;
  sources: ResultSource[];
  /** True when a gate failed. */
  failed: boolean;
}

const CLEAR = '\x1b[H\x1b[2J';

/** Reads the inputs and writes the report: once at the end, and every `everyNs` on the way. */
export async function runReport(opts: RunReportOptions): Promise<RunReportResult> {
  const metrics = new Metrics();
  const seen: ResultSource[] = [];
  const bounds = opts.type.kind === 'hist' || opts.type.kind === 'json' ? opts.type.buckets : undefined;
  const buckets = bounds ? new LatencyBuckets(bounds) : undefined;
  const render = () => renderReport(opts.type, metrics, seen.map((s) => s.meta), seen, buckets);
  // The rolling window the Prometheus endpoint and the hlog also cut (src/metrics/window.ts); the
  // report printed at each cut is vegeta's: everything so far.
  let timer: { stop(): unknown } | null = null;
  if (opts.everyNs && opts.everyNs > 0) {
    const window = new RollingWindow(metrics, wallClockNs());
    timer = everyInterval(window, opts.everyNs / 1e6, wallClockNs, () => {
      opts.out.write((opts.clearScreen ? CLEAR : '') + render());
    });
  }
  let sources: ResultSource[];
  try {
    ({ sources } = await readMetrics(await expandInputs(opts.inputs), {
      stdin: opts.stdin,
      into: metrics,
      signal: opts.signal,
      onOpen: (src) => seen.push(src),
      onBatch: buckets
        ? (batch) => {
            for (let i = 0; i < batch.length; i++) buckets.add(batch[i]!.latency);
          }
        : undefined,
    }));
  } finally {
    timer?.stop();
  }
  // Shards of different plans: their union is not one schedule (a one-line UsageError, exit 2).
  checkShardSet(sources.map((s) => ({ name: s.name, info: s.meta.info })));
  opts.out.write((timer && opts.clearScreen ? CLEAR : '') + render());
  let failed = false;
  if (opts.gate) {
    const verdict = opts.gate(metrics, sources.map((s) => s.meta));
    failed = verdict.failed;
    if (verdict.text) {
      const text = verdict.text.endsWith('\n') ? verdict.text : `${verdict.text}\n`;
      (opts.err ?? opts.out).write(text);
    }
  }
  return { metrics, sources, failed };
}
