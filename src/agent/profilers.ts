import type { Profile } from 'pprof-format';
import type { V8HeapProfile } from '../profile/v8.js';
import { wallClockNs } from '../time/wall.js';

/**
 * V8's sampling profilers, driven through the inspector protocol in-process (node:inspector), only
 * while a request asks for a profile: when nobody profiles, they cost nothing.
 *
 * One CPU profile and one heap sampling at a time (V8 has one of each per isolate); a second
 * request is refused with BusyError rather than queued, as Go's net/http/pprof refuses a second CPU
 * profile. The conversion to pprof is loaded on first use, so a service that never gets profiled
 * never loads it.
 */

export class BusyError extends Error {}

/** Waits `ms`, or less if the signal fires (the client went away: stop profiling at once). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

type Session = import('node:inspector/promises').Session;

async function openSession(): Promise<Session> {
  let mod: typeof import('node:inspector/promises');
  try {
    mod = await import('node:inspector/promises');
  } catch {
    throw new Error('this Node.js was built without the inspector: profiling is unavailable');
  }
  const s = new mod.Session();
  s.connect();
  return s;
}

let cpuBusy = false;
let heapBusy = false;

export function cpuProfileRunning(): boolean {
  return cpuBusy;
}

export interface CpuCaptureOptions {
  seconds: number;
  /** V8 sampling interval, µs (default 1000: 1 kHz, ten times Go's 100 Hz for short windows). */
  intervalUs?: number;
  signal?: AbortSignal;
}

/** A V8 CPU profile as the inspector returns it, and where its window lies on our clocks. */
export interface V8CpuCapture {
  profile: import('node:inspector').Profiler.Profile;
  intervalUs: number;
  /** Wall clock just before Profiler.start. */
  startWallNs: bigint;
  /** performance.now() just before and just after Profiler.start. */
  startPerfMs: [number, number];
  /** process.hrtime.bigint() - performance.now() (ns): the monotonic clock's value at performance.now() = 0. */
  hrOriginNs: number;
}

/**
 * Samples the JS thread for `seconds` and returns V8's own profile (nodes, samples, timeDeltas),
 * under the one-at-a-time rule. Both /debug/pprof/profile and /debug/tailprobe/cpu start here.
 */
export async function captureV8CpuProfile(opts: CpuCaptureOptions): Promise<V8CpuCapture> {
  if (cpuBusy) throw new BusyError('cpu profiling already in use');
  cpuBusy = true;
  let session: Session | null = null;
  try {
    session = await openSession();
    const intervalUs = opts.intervalUs ?? 1000;
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    const hr = process.hrtime.bigint();
    const p0 = performance.now();
    const hrOriginNs = Number(hr) - p0 * 1e6;
    const startWallNs = wallClockNs();
    await session.post('Profiler.start');
    const p1 = performance.now();
    await sleep(opts.seconds * 1000, opts.signal);
    const { profile } = await session.post('Profiler.stop');
    await session.post('Profiler.disable');
    return { profile, intervalUs, startWallNs, startPerfMs: [p0, p1], hrOriginNs };
  } finally {
    session?.disconnect();
    cpuBusy = false;
  }
}

/** Samples the JS thread for `seconds` and returns a pprof CPU profile. */
export async function captureCpuProfile(opts: CpuCaptureOptions): Promise<Profile> {
  const { profile, intervalUs, startWallNs } = await captureV8CpuProfile(opts);
  const { cpuProfileToPprof } = await import('../profile/v8.js');
  return cpuProfileToPprof(profile, {
    startWallNs,
    intervalNs: intervalUs * 1000,
    comments: [`tailprobe agent: pid ${process.pid}, ${process.argv.slice(1).join(' ').slice(0, 200)}`],
  });
}

export interface HeapCaptureOptions {
  /** 'inuse': live at the end of the window; 'alloc': every sampled allocation, collected or not. */
  kind: 'inuse' | 'alloc';
  seconds: number;
  /** Average bytes between samples (default 32768, V8's default). */
  intervalBytes?: number;
  /** Force a full GC before reading an in-use profile, so it holds live objects only (Go's ?gc=1). */
  gc?: boolean;
  signal?: AbortSignal;
}

/** Runs V8's sampling heap profiler over a window and returns a pprof heap or allocs profile. */
export async function captureHeapProfile(opts: HeapCaptureOptions): Promise<Profile> {
  if (heapBusy) throw new BusyError('heap sampling already in use');
  heapBusy = true;
  let session: Session | null = null;
  try {
    session = await openSession();
    const intervalBytes = opts.intervalBytes ?? 32768;
    const collected = opts.kind === 'alloc';
    await session.post('HeapProfiler.enable');
    const startWallNs = wallClockNs();
    const t0 = performance.now();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: intervalBytes,
      includeObjectsCollectedByMajorGC: collected,
      includeObjectsCollectedByMinorGC: collected,
    });
    let profile;
    try {
      await sleep(opts.seconds * 1000, opts.signal);
      if (opts.gc && !collected) await session.post('HeapProfiler.collectGarbage');
      ({ profile } = await session.post('HeapProfiler.getSamplingProfile'));
    } finally {
      await session.post('HeapProfiler.stopSampling');
      await session.post('HeapProfiler.disable');
    }
    const durationNs = (performance.now() - t0) * 1e6;
    const { heapProfileToPprof } = await import('../profile/v8.js');
    return heapProfileToPprof(profile as unknown as V8HeapProfile, { kind: opts.kind, intervalBytes, startWallNs, durationNs });
  } finally {
    session?.disconnect();
    heapBusy = false;
  }
}
