import { perfToWallNs } from '../time/wall.js';

/**
 * A fixed-size record of timed events (start, duration, kind), oldest overwritten first. Typed arrays,
 * so recording an event allocates nothing: the agent must not add garbage to the service it watches.
 */
export interface TimedEvent {
  /** Wall clock, ns since the epoch. */
  start: bigint;
  /** ns. */
  duration: number;
  kind: number;
}

export class TimedRing {
  private readonly starts: Float64Array;
  private readonly durations: Float64Array;
  private readonly kinds: Uint8Array;
  private next = 0;
  /** Events recorded since creation (more than capacity means the oldest were overwritten). */
  total = 0;

  constructor(readonly capacity: number) {
    this.starts = new Float64Array(capacity);
    this.durations = new Float64Array(capacity);
    this.kinds = new Uint8Array(capacity);
  }

  /** Records an event; times in performance-clock ms (as PerformanceEntry). */
  push(startMs: number, durationMs: number, kind = 0): void {
    const i = this.next;
    this.starts[i] = startMs;
    this.durations[i] = durationMs;
    this.kinds[i] = kind;
    this.next = (i + 1) % this.capacity;
    this.total++;
  }

  /** Events lost to overwriting. */
  get dropped(): number {
    return Math.max(0, this.total - this.capacity);
  }

  /** Events that overlap [since, until] (wall-clock ns), oldest first. */
  query(since?: bigint, until?: bigint): TimedEvent[] {
    const n = Math.min(this.total, this.capacity);
    const first = this.total > this.capacity ? this.next : 0;
    const out: TimedEvent[] = [];
    for (let k = 0; k < n; k++) {
      const i = (first + k) % this.capacity;
      const start = perfToWallNs(this.starts[i]!);
      const duration = Math.round(this.durations[i]! * 1e6);
      if (since !== undefined && start + BigInt(duration) < since) continue;
      if (until !== undefined && start > until) continue;
      out.push({ start, duration, kind: this.kinds[i]! });
    }
    return out;
  }
}
