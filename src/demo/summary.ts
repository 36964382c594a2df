import type { Culprit, RunNumbers } from './findings.js';

/**
 * summary.json: what the demo measured and concluded, for CI and for people who want the numbers
 * without the narration. Latencies in milliseconds.
 */
export interface SummaryRun {
  /** 'broken', 'pool' or 'fixed'. */
  name: string;
  /** The service's switches for this run. */
  alloc: string;
  lock: string;
  /** Results file, relative to the output folder. */
  file: string;
  requests: number;
  /** Fraction of successful requests. */
  success: number;
  /** Asked and achieved request rates, req/s. */
  rate: number;
  achievedRate: number;
  p50: number;
  p90: number;
  p99: number;
  'p99.9': number;
  mean: number;
  max: number;
  /** GC share of the CPU profile under the same load (null if none was captured). */
  gcFraction: number | null;
  /**
   * Where the requests at or above this run's p99 fell in time: the share of them in the densest
   * window (s from the first request). A share of half or more means the p99 rests on that one
   * episode, not on the steady state (null: not computed).
   */
  tailEpisode: { share: number; startS: number; windowS: number } | null;
  /** The agent's GC pauses during the measured run. */
  gcPauses: number;
  gcPauseLongestMs: number;
  /** Total time requests waited for locks in the block profile's window, ms (null if none). */
  lockWaitMs: number | null;
  /**
   * How much the machine itself disturbed the run: event-loop stalls of the service that no GC
   * pause explains, and whether the load generator (short of CPU) rather than the service limited
   * the run (the report's verdict, with its reasons).
   */
  disturbance: { machineStalls: number; machineStallLongestMs: number; generatorBottleneck: boolean; generatorReasons: string[] };
}

export interface SummaryCulprit {
  /** Which step named it: 2 (allocation, from the broken run) or 3 (lock, from the pooled run). */
  step: number;
  kind: 'allocation' | 'lock';
  /** The run whose profile named it. */
  run: string;
  profile: 'allocs' | 'block';
  function: string;
  file: string;
  line: number;
  /** Share of the profile's total it owns. */
  share: number;
  lock?: string;
  /** True when it is where the service's fault lives (renderFresh; LookupTable.lookup's lock). */
  expected: boolean;
  /** The sentence the demo printed. */
  finding: string;
}

export interface SummaryCheck {
  /** The claim, e.g. "broken p99 >= 10x p50". */
  claim: string;
  measured: number;
  threshold: number;
  pass: boolean;
}

export interface DemoSummary {
  tool: 'tailprobe demo';
  version: 1;
  startedAt: string;
  finishedAt: string;
  /** 'completed' or 'interrupted' (then some runs may be missing). */
  status: 'completed' | 'interrupted' | 'failed';
  error?: string;
  quick: boolean;
  machine: { cores: number; node: string; platform: string };
  /** The rate every run used, req/s, and how it was chosen. */
  rate: number;
  rateSource: 'auto' | 'flag';
  /** The capacity probe behind an 'auto' rate: req/s served closed-loop, and the fraction used. */
  calibration?: { capacity: number; fraction: number; probes: Array<{ connections: number; throughput: number; p50: number; p99: number }>; reason: string };
  /** Length of each measured run, s. */
  durationS: number;
  runs: SummaryRun[];
  culprits: SummaryCulprit[];
  /** The story's bar, checked on this run's numbers. */
  checks: SummaryCheck[];
  /** compare's verdicts for p99 (each fix against the run before it). */
  verdicts: Array<{ before: string; after: string; stat: string; verdict: string; deltaPct: number | null }>;
  files: Record<string, string>;
  sweep?: DemoSweep;
}

/** Step 6 (-sweep): the SLO, the rates, and each service's knee and steps (latencies in ms). */
export interface DemoSweep {
  slo: string;
  rates: number[];
  broken: DemoSweepService;
  fixed: DemoSweepService;
}

export interface DemoSweepService {
  /** Highest rate that met the SLO (null: none did). */
  knee: number | null;
  /** The rate after which p99 stops growing gently and explodes (sweep's latencyKnee). */
  latencyKnee: number | null;
  steps: Array<{ rate: number; p50: number; p99: number; pass: boolean | null }>;
  /** sweep.json, relative to the output folder. */
  file: string | null;
}

export function msOf(ns: number): number {
  return Math.round(ns / 1e3) / 1e3;
}

export function summaryRun(
  n: RunNumbers,
  extra: Omit<SummaryRun, 'name' | 'requests' | 'success' | 'achievedRate' | 'p50' | 'p90' | 'p99' | 'p99.9' | 'mean' | 'max'>,
): SummaryRun {
  return {
    name: n.name,
    ...extra,
    requests: n.requests,
    success: n.success,
    achievedRate: Math.round(n.rate * 10) / 10,
    p50: msOf(n.p50),
    p90: msOf(n.p90),
    p99: msOf(n.p99),
    'p99.9': msOf(n.p999),
    mean: msOf(n.mean),
    max: msOf(n.max),
  };
}

export function summaryCulprit(step: number, run: string, c: Culprit, finding: string): SummaryCulprit {
  return {
    step,
    kind: c.kind,
    run,
    profile: c.profile,
    function: c.function,
    file: c.file,
    line: c.line,
    share: Math.round(c.share * 1000) / 1000,
    ...(c.lock ? { lock: c.lock } : {}),
    expected: c.expected,
    finding,
  };
}
