// The module's binding, not the global: in Node `globalThis.performance` is a getter on every access.
import { performance } from 'node:perf_hooks';
import { LockReleaseError, LockTimeoutError, type Release } from './dispose.js';
import { profiler, recordEvent, sampleStack, type LockTotals, type WaitObserver } from './contention.js';
import type { StackFrame } from './stack.js';

export interface LockOptions {
  /** Give up waiting when this signal aborts: the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Give up waiting after this many milliseconds: the promise rejects with a LockTimeoutError. */
  timeoutMs?: number;
}

type Mode = 'read' | 'write';

/** A queued acquisition. A doubly linked node, so an aborted waiter leaves the queue in O(1). */
interface Waiter {
  write: boolean;
  resolve: (r: Release) => void;
  reject: (e: unknown) => void;
  prev: Waiter | null;
  next: Waiter | null;
  /** Still in the queue (false once granted, timed out or aborted: exactly one of those happens). */
  queued: boolean;
  enqueuedMs: number;
  /** The waiter's call site, when profiling was on and the stack budget allowed. */
  stack: StackFrame[] | null;
  /** Whether profiling was on when the wait began (a wait is recorded only if it was). */
  profiled: boolean;
  /** The wait observer's token (undefined: nobody to tell when this wait ends). */
  token: unknown;
  timer: ReturnType<typeof setTimeout> | null;
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

/** The observer's token for a wait beginning now; a throwing observer counts as none. */
function askObserver(observer: WaitObserver): unknown {
  try {
    return observer.begin();
  } catch {
    return undefined;
  }
}

/**
 * The queue and hand-off logic shared by Mutex (writers only) and RWMutex.
 *
 * Fairness is FIFO with direct hand-off: a released lock goes to the head of the queue, never to
 * whoever asks next, and nobody is granted past a non-empty queue (not even by tryLock). A run of
 * readers at the head is granted together; a writer in the queue therefore blocks every reader that
 * arrives after it (writer preference, so writers cannot starve under a stream of readers), and the
 * readers queued behind a writer go together right after it (so readers cannot starve either).
 *
 * Invariant (no lost wake-ups): whenever the state changes (a release, a waiter leaving the queue),
 * `drain()` runs and grants the head of the queue for as long as it is grantable. So the queue is
 * never non-empty while its head could hold the lock.
 */
export class LockCore {
  writer = false;
  readers = 0;
  private head: Waiter | null = null;
  private tail: Waiter | null = null;
  waiting = 0;
  /** performance.now() when the current contention episode (queue non-empty) began; 0 if none or unknown. */
  private contendedSinceMs = 0;
  private totalsGen = -1;
  private totals: Record<'block' | 'mutex', Record<Mode, LockTotals | null>> = {
    block: { read: null, write: null },
    mutex: { read: null, write: null },
  };

  constructor(readonly name: string) {
    if (++profiler.lockCount === 1) profiler.waitObserver?.firstLock?.();
  }

  canGrant(write: boolean): boolean {
    if (this.head !== null) return false;
    return write ? !this.writer && this.readers === 0 : !this.writer;
  }

  tryAcquire(write: boolean): Release | null {
    if (!this.canGrant(write)) return null;
    this.take(write);
    return this.makeRelease(write, 0);
  }

  /** `caller` is the public method on the stack: it and what it calls are left out of stacks. */
  acquire(write: boolean, opts: LockOptions | undefined, caller: Function): Promise<Release> {
    const signal = opts?.signal ?? null;
    const timeoutMs = opts?.timeoutMs;
    if (opts !== undefined) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
        return Promise.reject(new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`));
      }
    }
    if (this.canGrant(write)) {
      this.take(write);
      return Promise.resolve(this.makeRelease(write, 0));
    }
    return new Promise<Release>((resolve, reject) => {
      const profiled = profiler.enabled;
      // The observer (the agent's per-request records) is asked here, in the waiter's async context.
      const observer = profiler.waitObserver;
      const token = observer === null ? undefined : askObserver(observer);
      const now = profiled || token !== undefined ? performance.now() : 0; // no clock unless someone records
      const w: Waiter = {
        write,
        resolve,
        reject,
        prev: this.tail,
        next: null,
        queued: true,
        enqueuedMs: now,
        stack: profiled ? sampleStack(now, caller) : null,
        profiled,
        token,
        timer: null,
        signal,
        onAbort: null,
      };
      if (this.tail === null) {
        this.head = w;
        this.contendedSinceMs = profiled ? now : 0;
      } else this.tail.next = w;
      this.tail = w;
      this.waiting++;
      if (signal !== null) {
        w.onAbort = () => this.abandon(w, signal.reason);
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      if (timeoutMs !== undefined) {
        w.timer = setTimeout(() => this.abandon(w, new LockTimeoutError(this.name, write ? 'write' : 'read', timeoutMs)), timeoutMs);
      }
    });
  }

  private take(write: boolean): void {
    if (write) this.writer = true;
    else this.readers++;
  }

  private unlink(w: Waiter): void {
    w.queued = false;
    if (w.prev !== null) w.prev.next = w.next;
    else this.head = w.next;
    if (w.next !== null) w.next.prev = w.prev;
    else this.tail = w.prev;
    w.prev = w.next = null;
    this.waiting--;
    if (w.timer !== null) {
      clearTimeout(w.timer);
      w.timer = null;
    }
    if (w.onAbort !== null) {
      w.signal!.removeEventListener('abort', w.onAbort);
      w.onAbort = null;
    }
    if (this.head === null) this.contendedSinceMs = 0;
  }

  /** A waiter gives up (timeout or abort). It may have been the one blocking those behind it. */
  private abandon(w: Waiter, reason: unknown): void {
    if (!w.queued) return; // already granted: the grant won the race, the caller holds the lock
    this.unlink(w);
    if (w.token !== undefined) this.tellObserver(w, 0, false);
    w.reject(reason);
    this.drain(0);
  }

  /**
   * Grants the head of the queue for as long as it can hold the lock. `now` is the caller's
   * timestamp if it took one (0 if not), so a hand-off reads the clock once, not twice.
   */
  private drain(now: number): void {
    while (this.head !== null) {
      const w = this.head;
      if (w.write) {
        if (this.writer || this.readers > 0) return;
        this.unlink(w);
        this.writer = true;
        this.grant(w, now);
        return;
      }
      if (this.writer) return;
      this.unlink(w);
      this.readers++;
      now = this.grant(w, now);
    }
  }

  private grant(w: Waiter, now: number): number {
    let grantedMs = 0;
    if (w.profiled && profiler.enabled) {
      if (now === 0) now = performance.now();
      grantedMs = now;
      recordEvent(this.totalsOf('block', w.write ? 'write' : 'read'), Math.round((now - w.enqueuedMs) * 1e6), w.stack);
    }
    if (w.token !== undefined) now = this.tellObserver(w, now, true);
    w.resolve(this.makeRelease(w.write, grantedMs));
    return now;
  }

  /** The end of an observed wait (granted or given up); returns the timestamp it read, if any. */
  private tellObserver(w: Waiter, now: number, granted: boolean): number {
    const observer = profiler.waitObserver;
    if (observer === null) return now;
    if (now === 0) now = performance.now();
    const site = w.stack === null ? null : (w.stack[0] ?? null);
    try {
      observer.end(w.token, this.name, w.write ? 'write' : 'read', site, w.enqueuedMs, Math.round((now - w.enqueuedMs) * 1e6), granted);
    } catch {
      // An observer's failure must never break a hand-off (the waiter would never be resolved).
    }
    return now;
  }

  private release(write: boolean, grantedMs: number, releaseFn: Function): void {
    if (write) this.writer = false;
    else this.readers--;
    let now = 0;
    // Someone is waiting: this hold was contended from max(grant, start of the contention episode);
    // both are 0 (unknown) if profiling was off when they happened, and then nothing is recorded.
    if (this.head !== null && profiler.enabled) {
      const from = grantedMs > this.contendedSinceMs ? grantedMs : this.contendedSinceMs;
      if (from > 0) {
        now = performance.now();
        recordEvent(this.totalsOf('mutex', write ? 'write' : 'read'), Math.round((now - from) * 1e6), sampleStack(now, releaseFn));
      }
    }
    this.drain(now);
  }

  private makeRelease(write: boolean, grantedMs: number): Release {
    let released = false;
    const release = (): void => {
      if (released) throw new LockReleaseError(this.name, write ? 'write' : 'read');
      released = true;
      this.release(write, grantedMs, release);
    };
    (release as Release)[Symbol.dispose] = release;
    return release as Release;
  }

  private totalsOf(kind: 'block' | 'mutex', mode: Mode): LockTotals {
    if (this.totalsGen !== profiler.generation) {
      this.totals = { block: { read: null, write: null }, mutex: { read: null, write: null } };
      this.totalsGen = profiler.generation;
    }
    return (this.totals[kind][mode] ??= profiler.totalsFor(kind, this.name, mode));
  }
}
