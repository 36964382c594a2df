import type { LockOptions } from './lock.js';
import { RWMutex } from './rwmutex.js';

/**
 * A map split into N shards, each a plain Map with its own RWMutex, for async critical sections
 * over keys: a writer that holds a shard across an `await` blocks only the readers of that shard's
 * keys (about 1/N of them), not the whole map.
 *
 * Why the locks and why plain Maps: Node runs one task at a time, so a single synchronous
 * get/set/delete is already atomic; no lock is needed, or taken, for those (get/has/size read the
 * live map and never wait). The locks exist for what a single call cannot do atomically: sections
 * that read, await something (I/O, a fetch, a timer) and then act on what they read. Those go
 * through read()/write()/update(). Sharding is the remedy for frequent writes: with
 * one RWMutex every write blocks every reader; with N shards a write blocks 1/N of them. (Go shards
 * for a second reason, cache-line contention between cores, that has no counterpart in one JS thread.)
 *
 * A write section should mutate the shard in one synchronous step after its awaits, so that the
 * lock-free get() sees the value either before or after, never half-way.
 */
export interface ShardedMapOptions<K> {
  /** Number of shards (default 16). */
  shards?: number;
  /** Hash of a key to a 32-bit integer; required for keys that are not string/number/bigint/boolean. */
  hash?: (key: K) => number;
  /** Lock name prefix in contention profiles (shard i is `${name}[i]`). */
  name?: string;
}

export class ShardedMap<K, V> {
  private readonly maps: Map<K, V>[] = [];
  private readonly locks: RWMutex[] = [];
  private readonly hash: (key: K) => number;

  constructor(opts: ShardedMapOptions<K> = {}) {
    const n = opts.shards ?? 16;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`ShardedMap: shards must be a positive integer, got ${opts.shards}`);
    const name = opts.name ?? 'ShardedMap';
    for (let i = 0; i < n; i++) {
      this.maps.push(new Map());
      this.locks.push(new RWMutex(`${name}[${i}]`));
    }
    this.hash = opts.hash ?? defaultHash;
  }

  get shardCount(): number {
    return this.maps.length;
  }

  shardOf(key: K): number {
    return (this.hash(key) >>> 0) % this.maps.length;
  }

  /** The current value, without waiting (a synchronous read is atomic in one JS thread). */
  get(key: K): V | undefined {
    return this.maps[this.shardOf(key)]!.get(key);
  }

  has(key: K): boolean {
    return this.maps[this.shardOf(key)]!.has(key);
  }

  get size(): number {
    let n = 0;
    for (const m of this.maps) n += m.size;
    return n;
  }

  /** Runs fn holding the read lock of the key's shard: no writer of that shard runs meanwhile. */
  async read<T>(key: K, fn: (value: V | undefined, shard: ReadonlyMap<K, V>) => T | Promise<T>, opts?: LockOptions): Promise<T> {
    const i = this.shardOf(key);
    const release = await this.locks[i]!.rlock(opts);
    try {
      const m = this.maps[i]!;
      return await fn(m.get(key), m);
    } finally {
      release();
    }
  }

  /** Runs fn holding the write lock of the key's shard, with the shard's Map to change. */
  async write<T>(key: K, fn: (shard: Map<K, V>) => T | Promise<T>, opts?: LockOptions): Promise<T> {
    const i = this.shardOf(key);
    const release = await this.locks[i]!.lock(opts);
    try {
      return await fn(this.maps[i]!);
    } finally {
      release();
    }
  }

  /** Read-modify-write of one key under its shard's write lock; returning undefined deletes it. */
  update(key: K, fn: (current: V | undefined) => V | undefined | Promise<V | undefined>, opts?: LockOptions): Promise<V | undefined> {
    return this.write(key, async (m) => {
      const next = await fn(m.get(key));
      if (next === undefined) m.delete(key);
      else m.set(key, next);
      return next;
    }, opts);
  }

  /** Sets a key, in turn with the shard's async sections (it waits for a writer holding the shard). */
  set(key: K, value: V, opts?: LockOptions): Promise<void> {
    return this.write(key, (m) => {
      m.set(key, value);
    }, opts);
  }

  delete(key: K, opts?: LockOptions): Promise<boolean> {
    return this.write(key, (m) => m.delete(key), opts);
  }

  *entries(): IterableIterator<[K, V]> {
    for (const m of this.maps) yield* m.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}

/** FNV-1a over UTF-16 code units for strings; integer mixing for numbers. */
export function defaultHash(key: unknown): number {
  switch (typeof key) {
    case 'string': {
      let h = 0x811c9dc5;
      for (let i = 0; i < key.length; i++) {
        h ^= key.charCodeAt(i);
        h = Math.imul(h, 0x01000193);
      }
      return h >>> 0;
    }
    case 'number': {
      if (Number.isInteger(key) && Math.abs(key) <= 0x7fffffff) return mix32(key | 0);
      return defaultHash(String(key));
    }
    case 'bigint':
    case 'boolean':
      return defaultHash(String(key));
    default:
      throw new TypeError(`ShardedMap: keys of type ${key === null ? 'null' : typeof key} need a hash option`);
  }
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
  return (x ^ (x >>> 16)) >>> 0;
}
