/**
 * `using` support. TypeScript compiles `using x = ...` (target ES2022) into helpers that look up
 * `Symbol.dispose` at run time; Node has defined it since 20.4 (18.18), so on every Node this
 * package supports it already exists. The guard below only matters on a runtime without it, and
 * defines it the way Node's own polyfill did (a registered symbol), so that two copies of this
 * package, or this package and another polyfill using the same registry key, agree on it.
 */
if (typeof (Symbol as { dispose?: symbol }).dispose !== 'symbol') {
  Object.defineProperty(Symbol, 'dispose', { value: Symbol.for('nodejs.dispose'), configurable: false, writable: false });
}

/** Release is callable AND disposable: `release()` or `using _ = await m.lock()`. */
export type Release = (() => void) & { [Symbol.dispose](): void };

/** Thrown when a Release is called a second time: the second caller believed it still held the lock. */
export class LockReleaseError extends Error {
  readonly code = 'ERR_LOCK_ALREADY_RELEASED';
  constructor(lockName: string, mode: 'read' | 'write') {
    super(`tailprobe/sync: ${mode === 'read' ? 'read lock' : 'lock'} of ${lockName} released twice`);
    this.name = 'LockReleaseError';
  }
}

/** Rejects a lock() that waited longer than its timeoutMs. */
export class LockTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(lockName: string, mode: 'read' | 'write', timeoutMs: number) {
    super(`tailprobe/sync: timed out after ${timeoutMs}ms waiting for the ${mode === 'read' ? 'read lock' : 'lock'} of ${lockName}`);
    this.name = 'LockTimeoutError';
  }
}
