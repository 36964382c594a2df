import { DurationHistogram } from './histogram.js';
import type { Metrics } from './metrics.js';

/**
 * The rolling window: a cumulative Metrics (the one a running attack, or a report reading its
 * inputs, keeps adding to) cut into consecutive intervals. Each cut gives what was added since the
 * previous one: exact counts, exact interval histograms (HDR histograms subtract exactly), so the
 * intervals add back up to the whole. One implementation serves `report -every` (which prints the
 * cumulative report at each cut), the Prometheus endpoint (rates over the last interval) and the
 * HdrHistogram interval log (one histogram per interval).
 *
 * Memory is constant: one copy of each cumulative histogram and one interval histogram each,
 * allocated once, whatever the length of the run.
 */
export interface WindowInterval {
  /** Bounds of the interval, ns on the caller's clock (epoch ns for an attack). */
  startNs: bigint;
  endNs: bigint;
  /** Results recorded in the interval. */
  requests: number;
  successes: number;
  lateSends: number;
  bytesIn: number;
  bytesOut: number;
  /** The interval's latencies and send lags (exact counts; min and max to 0.1 %). */
  latency: DurationHistogram;
  sendLag: DurationHistogram;
}

export class RollingWindow {
  // Snapshots of the cumulative histograms at the last cut, and the interval histograms handed out:
  // allocated once, reused at every cut (a cut allocates nothing large).
  private readonly prevLatency = new DurationHistogram();
  private readonly prevSendLag = new DurationHistogram();
  private readonly ivLatency = new DurationHistogram();
  private readonly ivSendLag = new DurationHistogram();
  private prev = { requests: 0, successes: 0, lateSends: 0, bytesIn: 0, bytesOut: 0 };
  private startNs: bigint;

  /** `source` is read at each cut; `startNs` opens the first interval. */
  constructor(
    private readonly source: Metrics,
    startNs: bigint,
  ) {
    this.startNs = startNs;
  }

  /** The metrics the window cuts (cumulative so far). */
  get total(): Metrics {
    return this.source;
  }

  /**
   * Closes the current interval at `nowNs` and opens the next one there. The interval's histograms
   * are valid until the next cut (copy them to keep them longer).
   */
  cut(nowNs: bigint): WindowInterval {
    const m = this.source;
    const latency = DurationHistogram.since(m.latency, this.prevLatency, this.ivLatency);
    const sendLag = DurationHistogram.since(m.sendLag, this.prevSendLag, this.ivSendLag);
    const out: WindowInterval = {
      startNs: this.startNs,
      endNs: nowNs,
      requests: m.requests - this.prev.requests,
      successes: m.successes - this.prev.successes,
      lateSends: m.lateSends - this.prev.lateSends,
      bytesIn: m.bytesIn - this.prev.bytesIn,
      bytesOut: m.bytesOut - this.prev.bytesOut,
      latency,
      sendLag,
    };
    this.prevLatency.copyFrom(m.latency);
    this.prevSendLag.copyFrom(m.sendLag);
    this.prev = { requests: m.requests, successes: m.successes, lateSends: m.lateSends, bytesIn: m.bytesIn, bytesOut: m.bytesOut };
    this.startNs = nowNs;
    return out;
  }
}

/**
 * Cuts `window` every `intervalMs` and hands each interval to `onInterval`; `stop()` ends the
 * ticking and, with `final`, cuts the last (partial) interval at `nowNs()` first. The clock is the
 * caller's (`nowNs`), so intervals line up with the timestamps the caller reports.
 */
export function everyInterval(
  window: RollingWindow,
  intervalMs: number,
  nowNs: () => bigint,
  onInterval: (iv: WindowInterval) => void,
): { stop(final?: boolean): WindowInterval | null } {
  const timer = setInterval(() => onInterval(window.cut(nowNs())), Math.max(1, intervalMs));
  timer.unref?.();
  let stopped = false;
  return {
    stop(final = false) {
      if (stopped) return null;
      stopped = true;
      clearInterval(timer);
      if (!final) return null;
      const iv = window.cut(nowNs());
      onInterval(iv);
      return iv;
    },
  };
}
