import { openResults, type ResultSource } from '../results/reader.js';
import type { Result } from '../results/result.js';
import { Metrics } from './metrics.js';
import { readHlog } from './hlog.js';

/**
 * Results files into Metrics: what `report` and `compare` read. It lives with the metrics (which
 * consume results) so that src/results, the formats, knows nothing of what is computed from them.
 */
export interface ReadMetricsOptions {
  /** The stream '-' reads (process.stdin by default). */
  stdin?: NodeJS.ReadableStream;
  /** Called with every batch after it has been added to the metrics. */
  onBatch?: (batch: Result[], source: ResultSource) => void;
  /** Called once per input, after it is opened and before it is read. */
  onOpen?: (source: ResultSource) => void;
  /** Accumulate into this Metrics (e.g. one a rolling report reads while the inputs are still open). */
  into?: Metrics;
  /** Stop reading when aborted: what was read so far stays in the metrics. */
  signal?: AbortSignal;
}

/**
 * Reads one or more inputs (stdin when `paths` is empty) into one Metrics. All inputs are opened
 * (and their formats detected) before any is read, so a bad path fails fast.
 */
export async function readMetrics(
  paths: string[],
  opts: ReadMetricsOptions = {},
): Promise<{ metrics: Metrics; sources: ResultSource[] }> {
  const metrics = opts.into ?? new Metrics();
  const sources: ResultSource[] = [];
  const signal = opts.signal;
  const stop = () => {
    for (const s of sources) s.close();
  };
  signal?.addEventListener('abort', stop, { once: true });
  try {
    try {
      for (const p of paths.length > 0 ? paths : ['-']) {
        if (signal?.aborted) break;
        const src = await openResults(p, opts.stdin);
        sources.push(src);
        opts.onOpen?.(src);
      }
    } catch (e) {
      stop();
      if (signal?.aborted) return { metrics, sources };
      throw e;
    }
    for (const src of sources) {
      if (signal?.aborted) break;
      try {
        for await (const batch of src.batches()) {
          for (let i = 0; i < batch.length; i++) metrics.add(batch[i]!);
          opts.onBatch?.(batch, src);
          if (signal?.aborted) break;
        }
        if (src.format === 'hlog' && src.hlogText != null) {
          // An HdrHistogram log: its histograms add exactly; its totals line restores the rest.
          const h = readHlog(src.hlogText, src.name);
          metrics.merge(h.metrics);
          Object.assign(src.meta, h.meta);
        }
      } catch (e) {
        if (!signal?.aborted) throw e;
      }
    }
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  return { metrics, sources };
}
