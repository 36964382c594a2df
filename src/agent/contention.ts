import type { Profile } from 'pprof-format';
import { wallClockNs } from '../time/wall.js';

/**
 * /debug/pprof/block and /debug/pprof/mutex: tailprobe/sync's contention records as Go-shaped
 * profiles. Without `seconds` the profile covers everything since contention profiling began (Go's
 * cumulative profile); with `seconds` it is the delta over the window (Go's ?seconds=N).
 *
 * tailprobe/sync is loaded from this same package (the same module instance the service imports
 * as `tailprobe/sync`), and only when one of these endpoints is asked for.
 */

type SyncModule = Pick<typeof import('../sync/index.js'), 'contentionSnapshot' | 'setContentionProfiling' | 'setWaitObserver'>;

// Loaded only when a contention profile is asked for or the agent starts; a variable specifier
// keeps the agent working in a build without the locks.
const SYNC_MODULE = '../sync/index.js';
let syncModule: Promise<SyncModule | null> | null = null;

function loadSync(): Promise<SyncModule | null> {
  syncModule ??= import(SYNC_MODULE).then(
    (m: SyncModule) => (typeof m.contentionSnapshot === 'function' ? m : null),
    () => null,
  );
  return syncModule;
}

/** Turns contention recording on (the agent is the opt-in; the locks record nothing otherwise). */
export async function enableContentionProfiling(): Promise<void> {
  const m = await loadSync();
  m?.setContentionProfiling?.(true);
}

type WaitObserver = import('../sync/index.js').WaitObserver;

/**
 * Installs (or with null removes) tailprobe/sync's one wait observer; resolves true when the locks
 * will report to it (false: no tailprobe/sync in this build, or one without the hook).
 */
export async function installWaitObserver(observer: WaitObserver | null): Promise<boolean> {
  const m = await loadSync();
  if (typeof m?.setWaitObserver !== 'function') return false;
  m.setWaitObserver(observer);
  return true;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

export async function captureContentionProfile(kind: 'block' | 'mutex', seconds: number | undefined, signal?: AbortSignal): Promise<Profile> {
  const { contentionToPprof, contentionDelta } = await import('../profile/contention.js');
  const m = await loadSync();
  if (!m) {
    return contentionToPprof([], { kind, emptyReason: 'tailprobe/sync is not available in this build' });
  }
  const first = m.contentionSnapshot();
  const emptyReason = first.enabled
    ? 'no contention on tailprobe/sync locks (Mutex, RWMutex) yet; other code cannot be seen here'
    : 'contention profiling is off (tailprobe/sync setContentionProfiling(false))';
  if (seconds === undefined) {
    return contentionToPprof(first[kind], {
      kind,
      startWallNs: first.since,
      durationNs: Number(wallClockNs() - first.since),
      emptyReason,
    });
  }
  const start = wallClockNs();
  await sleep(seconds * 1000, signal);
  const last = m.contentionSnapshot();
  return contentionToPprof(contentionDelta(first[kind], last[kind]), {
    kind,
    startWallNs: start,
    durationNs: Number(wallClockNs() - start),
    emptyReason: `${emptyReason} (in the ${seconds}s window)`,
  });
}
