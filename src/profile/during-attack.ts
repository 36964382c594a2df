import type { RunEvent } from '../results/result.js';
import { formatDuration } from '../units/duration.js';
import { captureProfiles, CaptureError, type CapturedProfile } from './capture.js';
import { fetchAgentEvents } from './events.js';
import { probeServer, type ProfileType, type ServerInfo } from './fetch.js';

/**
 * Profiling while an attack runs (`attack -profile=URL`): the capture starts once the attack has
 * warmed up (connections open, JIT warm, queues at steady state) and ends before it winds down, so
 * the profiles show the service in the state the latencies describe. Everything lives here; the
 * attack command only starts it and awaits it.
 */

export interface ProfileWindow {
  /** Delay from the attack's start to the capture's start, ms. */
  delayMs: number;
  /** Capture length, whole seconds (the pprof endpoints take integers). */
  seconds: number;
}

/** Fraction of the attack skipped before profiling (warm-up). */
export const WARMUP_FRACTION = 0.2;
/** Fraction left at the end (the capture must finish while the load is still on). */
export const TAIL_FRACTION = 0.1;
/** For an attack without a set duration (until interrupted): warm up this long, then profile 30 s. */
const OPEN_ENDED = { delayMs: 5_000, seconds: 30 };

/** The steady part of an attack of `durationNs` (0 = until interrupted). */
export function profileWindow(durationNs: number): ProfileWindow {
  if (!(durationNs > 0)) return OPEN_ENDED;
  const totalS = durationNs / 1e9;
  const seconds = Math.max(1, Math.floor(totalS * (1 - WARMUP_FRACTION - TAIL_FRACTION)));
  // Centre what is left over between warm-up and tail, never starting before the warm-up.
  const delayS = Math.max(totalS * WARMUP_FRACTION, Math.min(totalS - seconds, totalS * WARMUP_FRACTION + (totalS * (1 - WARMUP_FRACTION - TAIL_FRACTION) - seconds) / 2));
  return { delayMs: Math.round(delayS * 1000), seconds };
}

export interface ProfileDuringAttackOptions {
  url: string;
  types: ProfileType[];
  /** The attack's duration, ns (0 = until interrupted). */
  durationNs: number;
  outDir: string;
  token?: string;
  /** Aborts a capture in progress (the attack was interrupted). */
  signal?: AbortSignal;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** The server, if already probed (the attack probes before sending any load). */
  server?: ServerInfo;
}

export interface DuringAttackResult {
  captured: CapturedProfile[];
  failures: Error[];
  server: ServerInfo | null;
  window: ProfileWindow;
}

/**
 * Starts profiling in the background at once (the server is probed now, so a wrong URL fails
 * before the load starts) and resolves when the capture is over. Never rejects after the probe:
 * a failed profile must not cost the user their attack results; failures are returned.
 */
export async function profileDuringAttack(opts: ProfileDuringAttackOptions): Promise<{ done: Promise<DuringAttackResult> }> {
  const server = opts.server ?? (await probeServer(opts.url, { token: opts.token, signal: opts.signal }));
  const window = profileWindow(opts.durationNs);
  const log = opts.log ?? (() => {});
  const done = (async (): Promise<DuringAttackResult> => {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, window.delayMs);
      opts.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
    if (opts.signal?.aborted) return { captured: [], failures: [], server, window };
    log(`profiling ${server.base} for ${window.seconds}s: ${opts.types.join(', ')}`);
    try {
      const captured = await captureProfiles({
        url: opts.url,
        types: opts.types,
        seconds: window.seconds,
        outDir: opts.outDir,
        token: opts.token,
        signal: opts.signal,
        server,
      });
      return { captured, failures: [], server, window };
    } catch (err) {
      if (err instanceof CaptureError) return { captured: err.captured, failures: err.failures.map((f) => f.error), server, window };
      return { captured: [], failures: [err as Error], server, window };
    }
  })();
  return { done };
}

/** The agent's events of the attack window, or [] for a Go service (it has no such endpoint). */
export async function attackEvents(url: string, server: ServerInfo | null, since: bigint, until: bigint, token?: string): Promise<RunEvent[]> {
  if (server?.kind !== 'agent') return [];
  return fetchAgentEvents(url, since, until, token);
}

/** One line about the GC pauses and event-loop stalls the agent saw between two instants. */
export async function describeWindowEvents(url: string, since: bigint, until: bigint, token?: string, opts: { timeoutMs?: number } = {}): Promise<string> {
  const events = await fetchAgentEvents(url, since, until, token, opts);
  return summarizeEvents(events);
}

export function summarizeEvents(events: RunEvent[]): string {
  const gc = events.filter((e) => e.kind === 'gc');
  const stalls = events.filter((e) => e.kind === 'stall');
  const sum = (xs: RunEvent[]) => xs.reduce((s, e) => s + e.duration, 0);
  const max = (xs: RunEvent[]) => xs.reduce((m, e) => Math.max(m, e.duration), 0);
  const f = (ns: number) => formatDuration(ns < 1e6 ? Math.round(ns / 1e3) * 1e3 : Math.round(ns / 1e5) * 1e5);
  const majors = gc.filter((e) => e.detail === 'mark-sweep-compact').length;
  const parts = [
    gc.length
      ? `${gc.length} GC pauses (${majors} mark-sweep-compact), total ${f(sum(gc))}, longest ${f(max(gc))}`
      : 'no GC pauses',
    stalls.length ? `${stalls.length} event-loop stalls, longest ${f(max(stalls))}` : 'no event-loop stalls',
  ];
  return `agent: ${parts.join('; ')}`;
}
