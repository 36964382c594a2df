import { RuntimeError } from '../errors.js';
import type { ResultFormat } from './formats.js';
import { openResults, type ResultSource } from './reader.js';
import type { RunMeta } from './result.js';
import { createResultWriter } from './writer.js';

/**
 * Converts results from any readable format to `to`, streaming (what `tailprobe encode` does).
 * Inputs are read in order (stdin when `paths` is empty). Binary output keeps each input's run
 * metadata, written as soon as it has been read; vegeta's formats have no place for it.
 * Returns the sources (their truncation is known once this resolves).
 */
export async function encodeResults(
  paths: string[],
  out: NodeJS.WritableStream,
  to: ResultFormat,
  opts: { stdin?: NodeJS.ReadableStream; end?: boolean } = {},
): Promise<ResultSource[]> {
  const sources: ResultSource[] = [];
  try {
    for (const p of paths.length > 0 ? paths : ['-']) {
      const src = await openResults(p, opts.stdin);
      sources.push(src);
      if (src.format === 'hlog') {
        throw new RuntimeError(`${src.name}: an HdrHistogram log holds histograms, not results: it cannot be converted back to results`);
      }
    }
  } catch (e) {
    for (const s of sources) s.close();
    throw e;
  }
  const w = createResultWriter(out, to, { end: opts.end, flushIntervalMs: 0, flushBytes: 256 * 1024 });
  let failed = true;
  try {
    for (const src of sources) {
      const copied = { info: false, health: false, events: 0 };
      const copyMeta = () => {
        const meta: Partial<RunMeta> = {};
        const m = src.meta;
        if (m.info && !copied.info) meta.info = m.info;
        if (m.health && !copied.health) meta.health = m.health;
        if (m.events.length > copied.events) meta.events = m.events.slice(copied.events);
        if (meta.info || meta.health || meta.events) {
          w.writeMeta(meta);
          copied.info ||= !!meta.info;
          copied.health ||= !!meta.health;
          copied.events = m.events.length;
        }
      };
      for await (const batch of src.batches()) {
        copyMeta();
        for (let i = 0; i < batch.length; i++) w.write(batch[i]!);
        await w.drained();
      }
      copyMeta();
    }
    failed = false;
  } finally {
    // After a read error, closing is cleanup: its own error must not hide the first one.
    await (failed ? w.close().catch(() => {}) : w.close());
  }
  return sources;
}
