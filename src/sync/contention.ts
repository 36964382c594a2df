import { performance } from 'node:perf_hooks';
import { perfToWallNs } from '../time/wall.js';
import { captureStack, stackKey, type StackFrame } from './stack.js';

/**
 * Contention profiles of tailprobe/sync's locks, the data behind the agent's /debug/pprof/block and
 * /debug/pprof/mutex (Go's block and mutex profiles):
 *
 * - block: time spent waiting for a lock, by the waiter's call site (where `await m.lock()` is).
 * - mutex: time a lock was held while others waited for it, by the holder's call site at release
 *   (where the critical section ends, as Go's mutex profile records the Unlock site).
 *
 * Cost model. Nothing at all is done on the uncontended path: a lock that is free when asked for
 * takes no timestamp and no stack. A contended acquisition (the waiter path, which already costs a
 * promise, a queue node and at least one turn of the microtask queue) takes two timestamps, and a
 * stack only while a token bucket allows it: stack capture is the expensive part (several µs), so
 * at most `maxStacksPerSecond` stacks are taken (default 100/s, a burst of one second's worth).
 * Events beyond the budget are still timed and counted, in per-lock totals; in a snapshot each
 * lock's sampled records are scaled up so that they sum to the lock's totals, the way Go scales its
 * sampled block and mutex profiles. With fewer contended events than the budget every event has
 * its own stack and nothing is scaled.
 *
 * Off by default (as Go's rates are 0); the agent turns it on (`setContentionProfiling(true)`).
 */

export interface ContentionRecord {
  /** Innermost frame first: stack[0] is the call site. Empty if no event of the lock had a stack. */
  stack: StackFrame[];
  lockName: string;
  /** Contention events (waits for block, contended holds for mutex). */
  count: number;
  /** Total delay in nanoseconds. */
  delayNs: number;
  /** Which side of an RWMutex (a Mutex is always 'write'). */
  mode: 'read' | 'write';
}

export interface ContentionSnapshot {
  enabled: boolean;
  /** Wall-clock epoch ns since which these records accumulate (when profiling was turned on). */
  since: bigint;
  /** Wait time by acquirer call site. */
  block: ContentionRecord[];
  /** Hold time of contended locks by holder call site. */
  mutex: ContentionRecord[];
  /** How many events had their own stack; the rest were attributed by scaling. */
  sampled: { blockEvents: number; blockStacks: number; mutexEvents: number; mutexStacks: number };
}

export interface ContentionOptions {
  /** Most stacks captured per second (token bucket; bursts up to one second's worth). Default 100. */
  maxStacksPerSecond?: number;
}

type Kind = 'block' | 'mutex';

/** Everything that happened on one (lock name, mode) of one profile: all events, sampled or not. */
export interface LockTotals {
  kind: Kind;
  lockName: string;
  mode: 'read' | 'write';
  count: number;
  delayNs: number;
  sampledCount: number;
  sampledDelayNs: number;
  /** Sampled records by stack. */
  records: Map<string, ContentionRecord>;
}

/** Distinct (lock, mode) totals kept before further names are folded into one; guards memory. */
const MAX_TOTALS = 4096;
/** Distinct stacks kept per (lock, mode) before further stacks count only in the totals. */
const MAX_STACKS_PER_LOCK = 2048;

/**
 * Told of every contended wait, whether contention profiling is on or not: the
 * agent uses it to attribute lock waits to the HTTP request that waited (tailprobe/sync never imports
 * the agent; the agent sets this). Same cost model as above: the uncontended path never looks at it.
 */
export interface WaitObserver {
  /**
   * Called synchronously when a wait begins, in the waiter's own async context (so an
   * AsyncLocalStorage lookup here finds the waiter's store, not the releaser's). Returns a token to
   * be handed back to `end`, or undefined to not be told (and then no clock is read for it).
   */
  begin(): unknown;
  /**
   * Called when the wait ends: `granted` true when the waiter got the lock, false when it gave up
   * (timeout or abort: the time was spent waiting all the same). `site` is the waiter's call site
   * when the contention profiler sampled its stack, else null; `startMs` is performance.now() when
   * the wait began.
   */
  end(token: unknown, lockName: string, mode: 'read' | 'write', site: StackFrame | null, startMs: number, durationNs: number, granted: boolean): void;
  /**
   * Called once when the process's first lock is constructed, or by setWaitObserver at once if
   * locks exist already: until then nothing can wait, so an observer may defer its own set-up
   * (the agent enters no AsyncLocalStorage in a service without tailprobe/sync locks).
   */
  firstLock?(): void;
}

class Profiler {
  enabled = false;
  /** See WaitObserver; null (the default) costs the waiter path one field read. */
  waitObserver: WaitObserver | null = null;
  /** Locks constructed in this process (the observer's firstLock). */
  lockCount = 0;
  sinceNs = perfToWallNs(performance.now());
  /** Bumped on every reset, so locks drop the LockTotals they cached. */
  generation = 0;
  maxStacksPerSecond = 100;
  private tokens = 0;
  private lastRefillMs = 0;
  readonly totals = new Map<string, LockTotals>();

  reset(): void {
    this.totals.clear();
    this.generation++;
    this.sinceNs = perfToWallNs(performance.now());
    this.tokens = this.maxStacksPerSecond;
    this.lastRefillMs = performance.now();
  }

  totalsFor(kind: Kind, lockName: string, mode: 'read' | 'write'): LockTotals {
    let key = `${kind}\0${mode}\0${lockName}`;
    let t = this.totals.get(key);
    if (t === undefined) {
      if (this.totals.size >= MAX_TOTALS) {
        lockName = '(other locks)';
        key = `${kind}\0${mode}\0${lockName}`;
        t = this.totals.get(key);
      }
      if (t === undefined) {
        t = { kind, lockName, mode, count: 0, delayNs: 0, sampledCount: 0, sampledDelayNs: 0, records: new Map() };
        this.totals.set(key, t);
      }
    }
    return t;
  }

  /** Token bucket: may this event have a stack? */
  takeStackToken(nowMs: number): boolean {
    const rate = this.maxStacksPerSecond;
    if (rate === Infinity) return true;
    if (rate <= 0) return false;
    const elapsed = nowMs - this.lastRefillMs;
    if (elapsed > 0) {
      this.tokens = Math.min(rate, this.tokens + (elapsed * rate) / 1000);
      this.lastRefillMs = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export const profiler = new Profiler();

/** Turns contention recording on or off. Turning it on (from off) starts a fresh profile. */
export function setContentionProfiling(on: boolean, opts: ContentionOptions = {}): void {
  if (opts.maxStacksPerSecond !== undefined) {
    const r = opts.maxStacksPerSecond;
    if (!(r >= 0)) throw new RangeError(`maxStacksPerSecond must be >= 0, got ${r}`);
    profiler.maxStacksPerSecond = r;
  }
  if (on && !profiler.enabled) profiler.reset();
  profiler.enabled = on;
}

/** Sets (or, with null, removes) the one observer of contended waits. */
export function setWaitObserver(observer: WaitObserver | null): void {
  profiler.waitObserver = observer;
  if (observer !== null && profiler.lockCount > 0) observer.firstLock?.();
}

/** Forgets everything recorded so far (the profile starts again now). */
export function resetContentionProfile(): void {
  profiler.reset();
}

/** A stack for a contention event, if the budget allows; null otherwise. */
export function sampleStack(nowMs: number, above: Function): StackFrame[] | null {
  return profiler.takeStackToken(nowMs) ? captureStack(above) : null;
}

/** Adds one event (sampled when `stack` is not null) to a lock's totals. */
export function recordEvent(t: LockTotals, delayNs: number, stack: StackFrame[] | null): void {
  t.count += 1;
  t.delayNs += delayNs;
  if (stack === null) return;
  const key = stackKey(stack);
  let r = t.records.get(key);
  if (r === undefined) {
    if (t.records.size >= MAX_STACKS_PER_LOCK) return; // counted in the totals, attributed by scaling
    r = { stack, lockName: t.lockName, count: 0, delayNs: 0, mode: t.mode };
    t.records.set(key, r);
  }
  r.count += 1;
  r.delayNs += delayNs;
  t.sampledCount += 1;
  t.sampledDelayNs += delayNs;
}

/**
 * Everything recorded since profiling was turned on, as cumulative records (the agent computes
 * ?seconds=N windows as differences of two snapshots). Records are copies; sorted by delay.
 */
export function contentionSnapshot(): ContentionSnapshot {
  const block: ContentionRecord[] = [];
  const mutex: ContentionRecord[] = [];
  const sampled = { blockEvents: 0, blockStacks: 0, mutexEvents: 0, mutexStacks: 0 };
  for (const t of profiler.totals.values()) {
    const out = t.kind === 'block' ? block : mutex;
    if (t.kind === 'block') {
      sampled.blockEvents += t.count;
      sampled.blockStacks += t.sampledCount;
    } else {
      sampled.mutexEvents += t.count;
      sampled.mutexStacks += t.sampledCount;
    }
    if (t.sampledCount === 0) {
      if (t.count > 0) out.push({ stack: [], lockName: t.lockName, count: t.count, delayNs: Math.round(t.delayNs), mode: t.mode });
      continue;
    }
    const countScale = t.count / t.sampledCount;
    const delayScale = t.sampledDelayNs > 0 ? t.delayNs / t.sampledDelayNs : countScale;
    for (const r of t.records.values()) {
      out.push({
        stack: r.stack.map((f) => ({ ...f })),
        lockName: r.lockName,
        count: Math.round(r.count * countScale),
        delayNs: Math.round(r.delayNs * delayScale),
        mode: r.mode,
      });
    }
  }
  block.sort((a, b) => b.delayNs - a.delayNs);
  mutex.sort((a, b) => b.delayNs - a.delayNs);
  return { enabled: profiler.enabled, since: profiler.sinceNs, block, mutex, sampled };
}
