/**
 * Reads the JSON report that `tailprobe report -type=json` and `vegeta report -type=json` print.
 * tailprobe's report is vegeta's plus its own fields (the deep tail, the schedule, the generator's
 * health); the reader takes vegeta's field names and tailprobe's additions where present, so one
 * reader serves both tools. Durations are in ns in both.
 */
export interface ReportSummary {
  requests: number;
  /** Requests per second over the attack (vegeta: from first to last send). */
  rate: number;
  /** Successful requests per second over attack + wait. */
  throughput: number;
  success: number;
  durationNs: number;
  waitNs: number;
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** How far the generator fell behind its schedule (tailprobe's `schedule`; null for vegeta). */
  schedule: { p50: number; p99: number; max: number; late: number; lateRatio: number } | null;
  /** The generator's own health, when the report carries it (tailprobe). */
  health: { cpuPercent: number; eventLoopP99: number; unsent: number; ended: string } | null;
  /** tailprobe's warnings (e.g. the generator, not the target, was the bottleneck). */
  warnings: string[];
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null;
}

/** The first of `keys` present in o as a number (numbers given as strings are accepted). */
function num(o: Obj | null, ...keys: string[]): number {
  if (!o) return NaN;
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  }
  return NaN;
}

export function parseJsonReport(text: string): ReportSummary {
  let root: Obj | null;
  try {
    root = obj(JSON.parse(text));
  } catch {
    throw new Error(`report: not JSON: ${text.trim().slice(0, 120) || '(empty)'}`);
  }
  if (!root || typeof root.requests !== 'number') throw new Error(`report: no "requests" in JSON report`);
  const lat = obj(root.latencies);
  const sched = obj(root.schedule);
  const health = obj(root.health) ?? obj(obj(root.meta)?.health);
  return {
    requests: num(root, 'requests'),
    rate: num(root, 'rate'),
    throughput: num(root, 'throughput'),
    success: num(root, 'success'),
    durationNs: num(root, 'duration'),
    waitNs: num(root, 'wait'),
    latency: {
      mean: num(lat, 'mean'),
      p50: num(lat, '50th', 'p50'),
      p90: num(lat, '90th', 'p90'),
      p99: num(lat, '99th', 'p99'),
      max: num(lat, 'max'),
    },
    schedule: sched
      ? {
          p50: num(sched, 'lag_50th', 'p50'),
          p99: num(sched, 'lag_99th', 'p99'),
          max: num(sched, 'lag_max', 'max'),
          late: num(sched, 'late'),
          lateRatio: num(sched, 'late_ratio', 'lateRatio'),
        }
      : null,
    health: health
      ? {
          cpuPercent: num(health, 'cpuPercent', 'cpu_percent'),
          eventLoopP99: num(health, 'eventLoopP99', 'event_loop_p99'),
          unsent: num(health, 'unsent'),
          ended: typeof health.ended === 'string' ? health.ended : '',
        }
      : null,
    warnings: Array.isArray(root.warnings) ? root.warnings.map(String) : [],
  };
}
