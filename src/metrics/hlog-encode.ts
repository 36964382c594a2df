import { RuntimeError } from '../errors.js';
import { Metrics } from './metrics.js';
import type { WindowInterval } from './window.js';
import { HlogWriter } from './hlog.js';
import { openResults, type ResultSource } from '../results/reader.js';

/**
 * Results (any format tailprobe reads) to an HdrHistogram interval log: what `encode -to=hlog` and
 * `report -type=hlog` do. Each result goes to the interval in which it completed (scheduled send
 * time + latency), as a live `attack -hlog` records it when it completes; intervals count from the
 * run's start (the results file's run info) or else from the first result.
 *
 * Results files are in completion order only roughly (workers flush in batches), so intervals stay
 * open for `reorderNs` (10 s) after a later one has started; a result later than that joins the
 * oldest interval still open and is counted in `late`. Totals are exact either way.
 * Memory: the open intervals' histograms (about 0.4 MB each), whatever the number of results.
 */
export interface HlogEncodeOptions {
  intervalNs?: number;
  reorderNs?: number;
  stdin?: NodeJS.ReadableStream;
}

export interface HlogEncodeResult {
  sources: ResultSource[];
  metrics: Metrics;
  intervals: number;
  /** Results that completed in an interval already written (see reorderNs). */
  late: number;
}

export async function encodeHlog(
  paths: string[],
  write: (text: string) => void,
  opts: HlogEncodeOptions = {},
): Promise<HlogEncodeResult> {
  const intervalNs = BigInt(Math.round(opts.intervalNs ?? 1e9));
  if (intervalNs <= 0n) throw new RuntimeError('the hlog interval must be positive');
  const slack = BigInt(Math.max(1, Math.ceil((opts.reorderNs ?? 10e9) / Number(intervalNs))));
  const sources: ResultSource[] = [];
  try {
    for (const p of paths.length > 0 ? paths : ['-']) {
      const src = await openResults(p, opts.stdin);
      sources.push(src);
      if (src.format === 'hlog') throw new RuntimeError(`${src.name}: already an HdrHistogram log`);
    }
  } catch (e) {
    for (const s of sources) s.close();
    throw e;
  }

  const total = new Metrics();
  const open = new Map<bigint, Metrics>();
  let writer: HlogWriter | null = null;
  let start = 0n;
  let lowest = 0n; // the oldest interval not yet written
  let intervals = 0;
  let late = 0;
  let sendLagRecorded = false;

  const flushBelow = (index: bigint) => {
    for (; lowest < index; lowest++) {
      const m = open.get(lowest) ?? new Metrics();
      open.delete(lowest);
      const s = start + lowest * intervalNs;
      writer!.interval(intervalOf(m, s, s + intervalNs), sendLagRecorded);
      intervals++;
    }
  };

  for (const src of sources) {
    for await (const batch of src.batches()) {
      for (const r of batch) {
        if (writer === null) {
          start = src.meta.info?.startedAt || r.timestamp;
          writer = new HlogWriter(write, { startNs: start, comment: 'tailprobe: latency in µs from the scheduled send time; Tag=send-lag: send lag in µs' });
        }
        if (r.sendLag >= 0) sendLagRecorded = true;
        total.add(r);
        const done = r.timestamp + BigInt(Math.round(r.latency));
        let index = done > start ? (done - start) / intervalNs : 0n;
        if (index < lowest) {
          index = lowest;
          late++;
        }
        let m = open.get(index);
        if (!m) open.set(index, (m = new Metrics()));
        m.add(r);
        if (index - slack > lowest) flushBelow(index - slack);
      }
    }
  }
  if (writer === null) {
    writer = new HlogWriter(write, { startNs: 0n, comment: 'tailprobe: no results' });
  } else {
    let highest = lowest;
    for (const k of open.keys()) if (k > highest) highest = k;
    flushBelow(highest + 1n);
  }
  // Several inputs: their info and health are not one run's; one input keeps its own.
  const only = sources.length === 1 ? sources[0]!.meta : null;
  writer.totals(total, { info: only?.info, health: only?.health });
  return { sources, metrics: total, intervals, late };
}

/** A whole Metrics as one window interval (what an interval's own Metrics holds). */
export function intervalOf(m: Metrics, startNs: bigint, endNs: bigint): WindowInterval {
  return {
    startNs,
    endNs,
    requests: m.requests,
    successes: m.successes,
    lateSends: m.lateSends,
    bytesIn: m.bytesIn,
    bytesOut: m.bytesOut,
    latency: m.latency,
    sendLag: m.sendLag,
  };
}
