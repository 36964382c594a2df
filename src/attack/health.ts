import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * The generator watching itself. A generator whose event loop stalls sends late; one whose CPU is
 * saturated cannot keep the schedule. Both are recorded so a report can say "this tail may be the
 * generator's" instead of blaming the service.
 */
export interface LoopStats {
  /** Event-loop delay percentiles, ns. */
  p99: number;
  max: number;
}

export class LoopMonitor {
  private readonly h: IntervalHistogram;

  constructor(resolutionMs = 5) {
    // A native (libuv) timer samples the loop's lateness: no JS runs per sample.
    this.h = monitorEventLoopDelay({ resolution: resolutionMs });
    this.h.enable();
  }

  stop(): LoopStats {
    this.h.disable();
    const n = this.h.count;
    return { p99: n ? this.h.percentile(99) : 0, max: n ? this.h.max : 0 };
  }
}

/** Process CPU (all threads) over a span of wall time, in percent of one core. */
export class CpuMeter {
  private readonly cpu0 = process.cpuUsage();
  private readonly t0 = performance.now();

  percent(): number {
    const d = process.cpuUsage(this.cpu0);
    const wallUs = (performance.now() - this.t0) * 1000;
    return wallUs > 0 ? ((d.user + d.system) / wallUs) * 100 : 0;
  }
}
