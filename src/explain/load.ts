import { UsageError } from '../errors.js';
import { openResults } from '../results/reader.js';
import type { RunInfo } from '../results/result.js';
import { ClientRequests } from './explain.js';
import { expandInputs } from '../metrics/shards.js';

/**
 * Reads the results of one attack (one file, the shard files of one run, or a directory of them) into the
 * compact form explain works on. Files of different attacks are refused: their requests' ids and
 * clocks have nothing to do with each other.
 */
export async function loadClientRequests(paths: string[], stdin?: NodeJS.ReadableStream): Promise<{ client: ClientRequests; info: RunInfo }> {
  if (paths.length === 0) throw new UsageError('explain: need a results file (RESULTS)');
  // A directory is the shard files of one run (they share the attack id: see attack/options.ts).
  paths = await expandInputs(paths);
  let client: ClientRequests | null = null;
  let info: RunInfo | null = null;
  for (const p of paths) {
    const src = await openResults(p, stdin);
    for await (const batch of src.batches()) {
      if (batch.length === 0) continue;
      client ??= new ClientRequests(src.meta.info?.startedAt || batch[0]!.timestamp);
      for (const r of batch) client.add(r);
    }
    const mine = src.meta.info;
    if (!mine) {
      throw new UsageError(`${src.name}: no run info (a ${src.format === 'binary' ? 'truncated tailprobe file' : `vegeta ${src.format} file`}): explain needs the attack id of a tailprobe results file`);
    }
    if (info && info.id !== mine.id) throw new UsageError(`${src.name}: results of another attack (id ${mine.id ?? 'none'}, not ${info.id ?? 'none'}): explain takes one attack`);
    info ??= mine;
  }
  if (!client || !info) throw new UsageError(`explain: ${paths.join(', ')}: no results`);
  return { client, info };
}
