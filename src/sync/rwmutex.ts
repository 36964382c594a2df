import type { Release } from './dispose.js';
import { LockCore, type LockOptions } from './lock.js';

/**
 * A reader-writer lock for async critical sections: any number of readers, or one writer.
 *
 * Writer-preferring and FIFO: once a writer waits, readers that arrive after it queue behind it, so
 * a stream of readers cannot starve writers; the readers queued behind a writer are admitted
 * together as soon as it releases. See LockCore for the rules.
 *
 * Not a free win over Mutex: each acquisition does the same work plus reader bookkeeping, so with
 * frequent writes or tiny critical sections it can lose. bench/sync-crossover.ts measures where it
 * pays off.
 */
export class RWMutex {
  private readonly core: LockCore;

  constructor(readonly name = 'RWMutex') {
    this.core = new LockCore(name);
  }

  /** Shared (read) lock. */
  rlock(opts?: LockOptions): Promise<Release> {
    return this.core.acquire(false, opts, RWMutex.prototype.rlock);
  }

  /** Exclusive (write) lock. */
  lock(opts?: LockOptions): Promise<Release> {
    return this.core.acquire(true, opts, RWMutex.prototype.lock);
  }

  /** A read lock now if no writer holds or waits for the lock, else null. */
  tryRLock(): Release | null {
    return this.core.tryAcquire(false);
  }

  /** The write lock now if the lock is free and nobody is queued, else null. */
  tryLock(): Release | null {
    return this.core.tryAcquire(true);
  }

  async runRead<T>(fn: () => T | Promise<T>, opts?: LockOptions): Promise<T> {
    const release = await this.core.acquire(false, opts, RWMutex.prototype.runRead);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  async runWrite<T>(fn: () => T | Promise<T>, opts?: LockOptions): Promise<T> {
    const release = await this.core.acquire(true, opts, RWMutex.prototype.runWrite);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Readers holding the lock now. */
  get readers(): number {
    return this.core.readers;
  }

  /** Whether a writer holds the lock now. */
  get writing(): boolean {
    return this.core.writer;
  }

  /** Acquisitions (read or write) queued. */
  get waiting(): number {
    return this.core.waiting;
  }
}
