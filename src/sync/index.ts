/**
 * tailprobe/sync: the primitives that fix the usual causes of a fat tail in a Node service.
 *
 * - BufferPool, Pool, ByteBuilder: reuse instead of per-request allocation (the sync.Pool fix).
 * - Mutex, RWMutex: fair async locks for critical sections that await, with contention profiles of
 *   their own for the agent's /debug/pprof/block and /debug/pprof/mutex (the RWMutex fix).
 * - ShardedMap, CopyOnWriteMap: the alternatives for when writes are frequent.
 *
 * See docs/sync.md.
 */
export { type Release, LockReleaseError, LockTimeoutError } from './dispose.js';
export type { StackFrame } from './stack.js';
export {
  contentionSnapshot,
  setContentionProfiling,
  resetContentionProfile,
  setWaitObserver,
  type WaitObserver,
  type ContentionRecord,
  type ContentionSnapshot,
  type ContentionOptions,
} from './contention.js';
export type { LockOptions } from './lock.js';
export { Mutex } from './mutex.js';
export { RWMutex } from './rwmutex.js';
export { BufferPool, type BufferPoolOptions, type BufferPoolStats } from './buffer-pool.js';
export { Pool, type PoolOptions, type PoolStats } from './pool.js';
export { ByteBuilder, defaultPool } from './byte-builder.js';
export { ShardedMap, defaultHash, type ShardedMapOptions } from './sharded-map.js';
export { CopyOnWriteMap, MapSnapshot } from './cow-map.js';
