import { createWriteStream } from 'node:fs';
import { attack, type AttackOptions, type AttackProgress } from '../attack/index.js';
import type { Metrics } from '../metrics/metrics.js';
import { constantPacer } from '../pacer/index.js';
import { captureProfiles, CaptureError, fetchAgentEvents, type CapturedProfile, type ProfileType } from '../profile/index.js';
import { createResultWriter } from '../results/index.js';
import type { GeneratorHealth, RunEvent, RunInfo } from '../results/result.js';
import type { Target } from '../targets/index.js';
import { fetchCapture, type AgentCapture } from '../explain/index.js';
import { wallClockNs } from '../time/wall.js';

/**
 * The demo's load: constant-rate attacks (tailprobe's own attack(), open model) against the lookup
 * service, recorded request by request into a results file with the agent's GC pauses and stalls;
 * and the same load while profiles are captured.
 */

/** `n` lookups of keys spread over the table (a fixed seed: every run asks for the same keys). */
export function lookupTargets(baseUrl: string, entries: number, n = 4000): Target[] {
  let a = 0x9e3779b9;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out: Target[] = [];
  for (let i = 0; i < n; i++) {
    const key = `k${String(Math.floor(next() * entries)).padStart(7, '0')}`;
    out.push({ method: 'GET', url: `${baseUrl}/api/lookup?key=${key}`, headers: {}, body: null });
  }
  return out;
}

export interface DemoLoadOptions {
  name: string;
  targets: Target[];
  /** Requests per second. */
  rate: number;
  durationNs: number;
  signal?: AbortSignal;
  onProgress?: (p: AttackProgress) => void;
}

export interface MeasuredRun {
  metrics: Metrics;
  info: RunInfo;
  health: GeneratorHealth;
  /** The agent's GC pauses and event-loop stalls during the run. */
  events: RunEvent[];
  /** The results file written (binary format), or null. */
  file: string | null;
  /** What the agent recorded during the run (request records, pauses), for explain; null if it could not be read. */
  capture: AgentCapture | null;
}

/** Margin around a run's window when asking the agent for its records. */
const CAPTURE_MARGIN_NS = 1_000_000_000n;

/** Per-request timeout: long enough never to cut the tail we came to see, short enough to end. */
const TIMEOUT_NS = 15e9;

/**
 * One measured run: every result into `file` (tailprobe's binary format, readable by report,
 * compare and plot), then the run's info, the generator's health and the agent's events as meta.
 */
export async function measuredRun(opts: DemoLoadOptions & { file: string | null; agentUrl: string }): Promise<MeasuredRun> {
  const writer = opts.file ? createResultWriter(createWriteStream(opts.file), 'binary') : null;
  try {
    const run = await attack(
      {
        ...attackOptions(opts),
        onProgress: opts.onProgress,
        plugins: writer ? [{ name: 'results-file', onStart: ({ info }) => writer.writeMeta({ info }) }] : [],
      },
      writer ? (r) => writer.write(r) : undefined,
    );
    let events: RunEvent[] = [];
    const until = run.metrics.end > 0n ? run.metrics.end : wallClockNs();
    try {
      events = await fetchAgentEvents(opts.agentUrl, run.info.startedAt, until);
    } catch {
      // The agent's events are supporting evidence; a run without them still reports.
    }
    let capture: AgentCapture | null = null;
    try {
      // The agent's clock is the same machine's here, but explain never assumes it: a margin.
      capture = await fetchCapture(opts.agentUrl, run.info.startedAt - CAPTURE_MARGIN_NS, wallClockNs() + CAPTURE_MARGIN_NS);
    } catch {
      // Without records the run still reports; explain says what it cannot attribute.
    }
    writer?.writeMeta({ health: run.health, events });
    return { metrics: run.metrics, info: run.info, health: run.health, events, file: opts.file, capture };
  } finally {
    await writer?.close();
  }
}

/** A short run whose results are not kept: connections open, JIT warm, the heap at its working size. */
export async function warmUp(opts: DemoLoadOptions): Promise<Metrics> {
  const run = await attack(attackOptions(opts));
  return run.metrics;
}

/** The demo's load as attack() takes it: its targets at its constant rate, with its timeout. */
function attackOptions(opts: DemoLoadOptions): Partial<AttackOptions> & Pick<AttackOptions, 'targets'> {
  return {
    targets: opts.targets,
    pacer: constantPacer(opts.rate),
    durationNs: opts.durationNs,
    timeoutNs: TIMEOUT_NS,
    name: opts.name,
    signal: opts.signal,
  };
}

export interface ProfiledRun {
  metrics: Metrics;
  profiles: Partial<Record<ProfileType, CapturedProfile>>;
  failures: Error[];
  /** Length of each profile window, s. */
  seconds: number;
  /** The agent's GC pauses and stalls while profiling (the profilers' own cost included). */
  events: RunEvent[];
}

/** Load before the first capture starts (connections open, queues at their steady state). */
const PROFILE_LEAD_MS = 1000;

/**
 * The same load while the agent profiles the service. Captures run in `phases`, one after the
 * other, each over a `seconds` window, all inside one attack that ends when the last one has
 * landed. Why phases: V8's sampling heap profiler is not free on a large heap (starting and
 * stopping it can force full collections), so a CPU profile taken at the same time would show the
 * profiler's GC, not the service's. CPU and block go first, allocs after.
 */
export async function profiledRun(
  opts: Omit<DemoLoadOptions, 'durationNs'> & { agentUrl: string; phases: ProfileType[][]; seconds: number; outDir: string },
): Promise<ProfiledRun> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // Long enough for every phase with room to spare; stopped as soon as the captures are done.
  const durationNs = (PROFILE_LEAD_MS / 1000 + opts.phases.length * (opts.seconds + 30)) * 1e9;
  const running = attack({
    targets: opts.targets,
    pacer: constantPacer(opts.rate),
    durationNs,
    timeoutNs: TIMEOUT_NS,
    name: opts.name,
    signal: stop.signal,
    onProgress: opts.onProgress,
  });
  const profiles: Partial<Record<ProfileType, CapturedProfile>> = {};
  const failures: Error[] = [];
  const since = wallClockNs();
  try {
    await sleep(PROFILE_LEAD_MS, stop.signal);
    for (const types of opts.phases) {
      if (stop.signal.aborted) break;
      try {
        for (const c of await captureProfiles({ url: opts.agentUrl, types, seconds: opts.seconds, outDir: opts.outDir, signal: stop.signal })) profiles[c.type] = c;
      } catch (err) {
        if (err instanceof CaptureError) {
          for (const c of err.captured) profiles[c.type] = c;
          failures.push(...err.failures.map((f) => f.error));
        } else failures.push(err as Error);
      }
    }
  } finally {
    stop.abort();
    opts.signal?.removeEventListener('abort', onAbort);
  }
  const run = await running;
  let events: RunEvent[] = [];
  try {
    events = await fetchAgentEvents(opts.agentUrl, since, wallClockNs());
  } catch {
    // supporting evidence only
  }
  return { metrics: run.metrics, profiles, failures, seconds: opts.seconds, events };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
