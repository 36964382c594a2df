import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { TimedRing } from './ring.js';

/**
 * The event loop's health: Node's native delay histogram (monitorEventLoopDelay, a libuv timer in
 * C++), plus each stall longer than a threshold with its start and duration.
 *
 * Stalls come from one unref'd JavaScript timer: each tick compares when it ran with when it was
 * due. A tick late by more than the threshold means the loop was blocked from (at least) the due
 * time to now. The start is therefore exact to within one tick interval, and the duration is a
 * lower bound by at most that much: cheap (one callback per interval), and precise enough to line a
 * stall up with the requests it delayed.
 */
export interface EventLoopOptions {
  /** Histogram sampling resolution in ms (Node's default, 10). */
  resolutionMs?: number;
  /** Smallest stall recorded, ms (default 20). */
  stallThresholdMs?: number;
  /** Stall detector tick, ms (default: the histogram's resolution, so both timers fire in the same
   * loop iteration: one wake-up, not two). */
  tickMs?: number;
  /** Stalls kept (default 10 000). */
  capacity?: number;
}

export interface EventLoopSummary {
  /** ns. */
  min: number;
  max: number;
  mean: number;
  stddev: number;
  count: number;
  percentiles: Record<string, number>;
}

export class EventLoopMonitor {
  readonly stalls: TimedRing;
  readonly resolutionMs: number;
  readonly thresholdMs: number;
  readonly tickMs: number;
  private histogram: IntervalHistogram | null = null;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  /** Since when the histogram has been recording (performance-clock ms). */
  histogramSince = 0;

  constructor(opts: EventLoopOptions = {}) {
    this.resolutionMs = opts.resolutionMs ?? 10;
    this.thresholdMs = opts.stallThresholdMs ?? 20;
    this.tickMs = opts.tickMs ?? this.resolutionMs;
    this.stalls = new TimedRing(opts.capacity ?? 10_000);
  }

  start(): void {
    if (this.timer) return;
    this.histogram = monitorEventLoopDelay({ resolution: this.resolutionMs });
    this.histogram.enable();
    this.histogramSince = performance.now();
    this.last = performance.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  private tick(): void {
    const now = performance.now();
    const due = this.last + this.tickMs;
    const late = now - due;
    if (late >= this.thresholdMs) this.stalls.push(due, late);
    this.last = now;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.histogram?.disable();
    this.histogram = null;
  }

  /** The delay histogram so far, in ns; `reset` starts a new one (to measure a window). */
  summary(reset = false): EventLoopSummary {
    const h = this.histogram;
    const empty = { min: 0, max: 0, mean: 0, stddev: 0, count: 0, percentiles: {} };
    if (!h) return empty;
    const count = (h as IntervalHistogram & { count?: number }).count ?? 0;
    const s: EventLoopSummary = count === 0 ? empty : {
      min: h.min,
      max: h.max,
      mean: Math.round(h.mean),
      stddev: Math.round(h.stddev),
      count,
      percentiles: Object.fromEntries(['50', '90', '99', '99.9', '100'].map((p) => [p, h.percentile(Number(p))])),
    };
    if (reset) {
      h.reset();
      this.histogramSince = performance.now();
    }
    return s;
  }
}
