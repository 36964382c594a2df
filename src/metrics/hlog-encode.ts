import { RuntimeError } from '../errors.js';
import { Metrics } from './metrics.js';
import type { WindowInterval } from './window.js';
import { HlogWriter } from './hlog.js';
import { openResults, type ResultSource } from '../results/reader.js';
import type { Result } from '../results/result.js';

/**
 * Results (any format tailprobe reads) to an HdrHistogram interval log: what `encode -to=hlog` and
 * `report -type=hlog` do. Each result goes to the interval in which it completed (scheduled send
 * time + latency), as a live `attack -hlog` records it when it completes; intervals count from the
 * run's start (the results file's run info) or else from the first result.
 *
 * Results files are in completion order only roughly (workers flush in batches), so intervals stay
 * open for `reorderNs` (10 s) after a later one has started; a result later than that joins the
 * oldest interval still open and is counted in `late`. Totals are exact either way.
 *
 * Several inputs (the shards of one distributed run, or runs side by side) are merged by completion
 * time, result by result, as if they were one file: read one after another, the second shard's
 * results would all land "late" in the first one's last interval. Intervals then count from the
 * earliest start among them.
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

  const add = (r: Result, done: bigint) => {
    if (r.sendLag >= 0) sendLagRecorded = true;
    total.add(r);
    let index = done > start ? (done - start) / intervalNs : 0n;
    if (index < lowest) {
      index = lowest;
      late++;
    }
    let m = open.get(index);
    if (!m) open.set(index, (m = new Metrics()));
    m.add(r);
    if (index - slack > lowest) flushBelow(index - slack);
  };

  // One cursor per input, holding one batch; the next result is the earliest-completing head (with
  // one input, simply the next one).
  const cursors: Cursor[] = [];
  for (const src of sources) {
    const c: Cursor = { src, it: src.batches()[Symbol.asyncIterator](), batch: [], pos: 0, done: 0n };
    if (await refill(c)) cursors.push(c);
  }
  if (cursors.length > 0) {
    start = cursors.reduce((t, c) => {
      const s0 = c.src.meta.info?.startedAt || c.batch[0]!.timestamp;
      return t === 0n || s0 < t ? s0 : t;
    }, 0n);
    writer = new HlogWriter(write, { startNs: start, comment: 'tailprobe: latency in µs from the scheduled send time; Tag=send-lag: send lag in µs' });
  }
  while (cursors.length > 0) {
    let k = 0;
    for (let j = 1; j < cursors.length; j++) if (cursors[j]!.done < cursors[k]!.done) k = j;
    const c = cursors[k]!;
    add(c.batch[c.pos]!, c.done);
    // Within a batch, no await: 10 million results must not cost 10 million promise turns.
    if (++c.pos < c.batch.length) c.done = doneAt(c.batch[c.pos]!);
    else if (!(await refill(c))) cursors.splice(k, 1);
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

/** When a result completed: its scheduled send time plus its latency (epoch ns). */
const doneAt = (r: Result): bigint => r.timestamp + BigInt(Math.round(r.latency));

interface Cursor {
  src: ResultSource;
  it: AsyncIterator<Result[]>;
  batch: Result[];
  pos: number;
  /** When the head result (batch[pos]) completed. */
  done: bigint;
}

/** The cursor's next non-empty batch; false at the end of its input. */
async function refill(c: Cursor): Promise<boolean> {
  for (;;) {
    const next = await c.it.next();
    if (next.done) return false;
    if (next.value.length > 0) {
      c.batch = next.value;
      c.pos = 0;
      c.done = doneAt(next.value[0]!);
      return true;
    }
  }
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
