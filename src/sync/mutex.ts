import type { Release } from './dispose.js';
import { LockCore, type LockOptions } from './lock.js';

/**
 * A mutual-exclusion lock for async critical sections: code that awaits while holding it.
 *
 * In Node a synchronous section needs no lock at all (nothing else runs until it returns); a lock
 * is for sections that span `await`s, where another task could otherwise see or change state
 * half-way. Waiters are served in FIFO order with direct hand-off; see LockCore for the rules.
 *
 *   const release = await mutex.lock();
 *   try { ... } finally { release(); }
 *   // or
 *   using _ = await mutex.lock();
 */
export class Mutex {
  private readonly core: LockCore;

  constructor(readonly name = 'Mutex') {
    this.core = new LockCore(name);
  }

  /** Resolves once the lock is held; rejects on timeout (LockTimeoutError) or abort (signal.reason). */
  lock(opts?: LockOptions): Promise<Release> {
    return this.core.acquire(true, opts, Mutex.prototype.lock);
  }

  /** The lock now if it is free and nobody is queued for it, else null (never jumps the queue). */
  tryLock(): Release | null {
    return this.core.tryAcquire(true);
  }

  /** Runs fn holding the lock and releases it however fn ends. */
  async runExclusive<T>(fn: () => T | Promise<T>, opts?: LockOptions): Promise<T> {
    const release = await this.core.acquire(true, opts, Mutex.prototype.runExclusive);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  get locked(): boolean {
    return this.core.writer;
  }

  /** Acquisitions queued behind the holder. */
  get waiting(): number {
    return this.core.waiting;
  }
}
