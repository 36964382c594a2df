import * as hdr from 'hdr-histogram-js';
import { RuntimeError } from '../errors.js';
import { DurationHistogram } from './histogram.js';
import { Metrics } from './metrics.js';
import type { WindowInterval } from './window.js';
import { emptyMeta, type GeneratorHealth, type RunInfo, type RunMeta } from '../results/result.js';

/**
 * HdrHistogram's interval log format (`.hlog`), as HdrHistogram's HistogramLogWriter writes it and
 * its log readers (Java's HistogramLogProcessor, hdr-histogram-js's HistogramLogReader, ...) read it:
 * one line per interval, `start,length,max,BASE64` with the interval's compressed histogram.
 *
 * What tailprobe puts in it:
 * - untagged lines: the latency histogram of each interval, in MICROSECONDS (1 µs..1 h, 3 digits),
 *   measured from each request's scheduled send time; the max column is in milliseconds
 *   (HistogramLogProcessor: `-outputValueUnitRatio 1000` prints milliseconds);
 * - `Tag=send-lag` lines: the same interval's send lag (how late the generator sent), when recorded;
 * - `#[StartTime: ...]` and `#[BaseTime: ...]`: the attack's start, epoch seconds; interval
 *   timestamps are seconds since it;
 * - a last comment `#[tailprobe-totals: {...}]` with what the histograms cannot carry (status codes,
 *   errors, bytes, the exact sum/min/max, the run's info and the generator's health), so `report`
 *   on an hlog prints the run's full report, warnings included.
 *
 * Writing uses hdr-histogram-js's HistogramLogWriter; reading uses its HistogramLogReader.
 */

export const SEND_LAG_TAG = 'send-lag';
/** hdr-histogram-js's tag of an untagged histogram. */
const NO_TAG = 'NO TAG';
const TOTALS_PREFIX = '#[tailprobe-totals: ';

export interface HlogWriterOptions {
  /** The run's start, epoch ns: the log's StartTime and BaseTime. */
  startNs: bigint;
  /** A first comment line (e.g. what produced the log). */
  comment?: string;
}

/** Writes an interval log, line by line, to `write`. */
export class HlogWriter {
  private readonly log: hdr.HistogramLogWriter;
  private readonly baseSec: number;

  constructor(
    private readonly write: (text: string) => void,
    opts: HlogWriterOptions,
  ) {
    this.log = new hdr.HistogramLogWriter(write);
    this.baseSec = Number(opts.startNs / 1000n) / 1e6;
    this.log.outputLogFormatVersion();
    if (opts.comment) this.log.outputComment(`[${opts.comment}]`);
    const ms = Number(opts.startNs / 1_000_000n);
    // HistogramLogWriter's outputStartTime would add a blank line; the same line, without it.
    this.log.outputComment(`[StartTime: ${this.baseSec.toFixed(3)} (seconds since epoch), ${new Date(ms).toISOString()}]`);
    this.log.outputComment(`[BaseTime: ${this.baseSec.toFixed(3)} (seconds since epoch)]`);
    this.log.outputLegend();
  }

  /** One interval: its latency histogram, and its send lag when the run records it. */
  interval(iv: WindowInterval, sendLagRecorded = true): void {
    const start = Number(iv.startNs / 1000n) / 1e6 - this.baseSec;
    const end = Number(iv.endNs / 1000n) / 1e6 - this.baseSec;
    const lat = iv.latency.h;
    lat.tag = NO_TAG;
    this.log.outputIntervalHistogram(lat, start, end, 1000);
    if (sendLagRecorded) {
      const lag = iv.sendLag.h;
      lag.tag = SEND_LAG_TAG;
      this.log.outputIntervalHistogram(lag, start, end, 1000);
    }
  }

  /** The last line: the run's totals beyond the histograms (see the file comment). */
  totals(m: Metrics, meta: { info?: RunInfo | null; health?: GeneratorHealth | null } = {}): void {
    const t: HlogTotals = {
      requests: m.requests,
      successes: m.successes,
      bytesIn: m.bytesIn,
      bytesOut: m.bytesOut,
      lateSends: m.lateSends,
      earliest: String(m.earliest),
      latest: String(m.latest),
      end: String(m.end),
      statusCodes: [...m.statusCodes],
      errors: [...m.errors],
      otherErrors: m.otherErrors,
      latency: [m.latency.sum, m.latency.min, m.latency.max],
      sendLag: [m.sendLag.sum, m.sendLag.min, m.sendLag.max],
    };
    if (meta.info) t.info = { ...meta.info, startedAt: String(meta.info.startedAt) };
    if (meta.health) t.health = meta.health;
    this.write(`${TOTALS_PREFIX}${JSON.stringify(t)}]\n`);
  }
}

interface HlogTotals {
  requests: number;
  successes: number;
  bytesIn: number;
  bytesOut: number;
  lateSends: number;
  earliest: string;
  latest: string;
  end: string;
  statusCodes: Array<[number, number]>;
  errors: Array<[string, number]>;
  otherErrors: number;
  /** Exact [sum, min, max] in ns. */
  latency: [number, number, number];
  sendLag: [number, number, number];
  /** The run's info (startedAt as a decimal string) and the generator's health, when known. */
  info?: Omit<RunInfo, 'startedAt'> & { startedAt: string };
  health?: GeneratorHealth;
}

/** True when the first meaningful text looks like an interval log (HdrHistogram logs start with `#[`). */
export function looksLikeHlog(head: string): boolean {
  const t = head.replace(/^\uFEFF/, '').trimStart();
  return t.startsWith('#') || t.startsWith('"StartTimestamp"') || t.startsWith('Tag=');
}

/**
 * Reads an interval log into Metrics, adding every interval's histogram (exactly: HDR histograms
 * add without loss). With tailprobe's totals line, everything else comes back too (codes, errors,
 * bytes, exact sum/min/max, the run's span). Without it (another tool's log, or one cut off), only
 * the latencies and their count are known: requests = the count, successes 0, no codes.
 */
export function readHlog(text: string, name: string): { metrics: Metrics; meta: RunMeta; intervals: number } {
  const reader = new hdr.HistogramLogReader(text, 64, false);
  const latency = new DurationHistogram();
  const sendLag = new DurationHistogram();
  let intervals = 0;
  let first = Infinity;
  let last = -Infinity;
  for (;;) {
    let h: hdr.Histogram | null;
    try {
      h = reader.nextIntervalHistogram();
    } catch (e) {
      throw new RuntimeError(`${name}:${reader.currentLineIndex}: not a valid interval histogram (${(e as Error).message})`);
    }
    if (h === null) break;
    try {
      if (h.tag === SEND_LAG_TAG) sendLag.h.add(h);
      else if (h.tag === undefined || h.tag === NO_TAG) {
        latency.h.add(h);
        intervals++;
        first = Math.min(first, h.startTimeStampMsec);
        last = Math.max(last, h.endTimeStampMsec);
      }
    } catch (e) {
      throw new RuntimeError(`${name}:${reader.currentLineIndex}: ${(e as Error).message}`);
    } finally {
      h.destroy();
    }
  }
  if (intervals === 0 && !text.includes(TOTALS_PREFIX)) {
    throw new RuntimeError(`${name}: no interval histograms in this HdrHistogram log`);
  }
  const m = new Metrics();
  m.latency.merge(DurationHistogram.fromHdr(latency.h));
  m.sendLag.merge(DurationHistogram.fromHdr(sendLag.h));
  const totals = parseTotals(text, name);
  const meta = emptyMeta();
  if (totals?.info) meta.info = { ...totals.info, startedAt: BigInt(totals.info.startedAt) };
  if (totals?.health) meta.health = totals.health;
  if (totals) {
    m.requests = totals.requests;
    m.successes = totals.successes;
    m.bytesIn = totals.bytesIn;
    m.bytesOut = totals.bytesOut;
    m.lateSends = totals.lateSends;
    m.earliest = BigInt(totals.earliest);
    m.latest = BigInt(totals.latest);
    m.end = BigInt(totals.end);
    for (const [c, n] of totals.statusCodes) m.statusCodes.set(c, n);
    for (const [e, n] of totals.errors) m.errors.set(e, n);
    m.otherErrors = totals.otherErrors;
    if (m.latency.count > 0) m.latency.setExact(...totals.latency);
    if (m.sendLag.count > 0) m.sendLag.setExact(...totals.sendLag);
    if (m.latency.count !== m.requests) {
      throw new RuntimeError(`${name}: the interval histograms hold ${m.latency.count} values but the totals line says ${m.requests} requests`);
    }
  } else {
    m.requests = m.latency.count;
    if (intervals > 0) {
      m.earliest = BigInt(Math.round(first)) * 1_000_000n;
      m.latest = BigInt(Math.round(last)) * 1_000_000n;
      m.end = m.latest;
    }
  }
  return { metrics: m, meta, intervals };
}

function parseTotals(text: string, name: string): HlogTotals | null {
  const at = text.lastIndexOf(TOTALS_PREFIX);
  if (at < 0) return null;
  const eol = text.indexOf('\n', at);
  const line = text.slice(at + TOTALS_PREFIX.length, eol < 0 ? undefined : eol).replace(/\]\s*$/, '');
  try {
    return JSON.parse(line) as HlogTotals;
  } catch {
    throw new RuntimeError(`${name}: unreadable tailprobe-totals line`);
  }
}
