import type { LockOptions } from './lock.js';
import { Mutex } from './mutex.js';

/**
 * A copy-on-write map: readers read an immutable snapshot and never wait; a writer copies the
 * current version, changes the copy, and swaps it in. Writers are serialized (a Mutex), readers are
 * not involved at all: a reader that holds a snapshot across `await`s keeps a consistent view for as
 * long as it likes, without blocking anyone.
 *
 * The cost is on the writer: every write copies the whole map, O(size). So it wins when reads vastly
 * outnumber writes and the map is not huge; batch several changes into one update() to pay once.
 * bench/sync-crossover.ts shows where it stops winning.
 */
export class CopyOnWriteMap<K, V> implements ReadonlyMap<K, V> {
  private current: MapSnapshot<K, V>;
  private readonly writers: Mutex;

  constructor(entries?: Iterable<readonly [K, V]>, opts: { name?: string } = {}) {
    this.current = new MapSnapshot(new Map(entries ?? []), 0);
    this.writers = new Mutex(opts.name ?? 'CopyOnWriteMap');
  }

  /** The current version: immutable, consistent, and free to hold across awaits. */
  snapshot(): MapSnapshot<K, V> {
    return this.current;
  }

  /** Incremented by each swap. */
  get version(): number {
    return this.current.version;
  }

  get(key: K): V | undefined {
    return this.current.get(key);
  }

  has(key: K): boolean {
    return this.current.has(key);
  }

  get size(): number {
    return this.current.size;
  }

  forEach(cb: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    this.current.forEach(cb, thisArg);
  }

  entries(): MapIterator<[K, V]> {
    return this.current.entries();
  }

  keys(): MapIterator<K> {
    return this.current.keys();
  }

  values(): MapIterator<V> {
    return this.current.values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.current.entries();
  }

  /**
   * Changes the map: fn gets a private copy of the current version to change (and may await); when
   * it returns, the copy becomes the current version. If fn throws, nothing changes. Writers run one
   * at a time, each on top of the previous one's result, so no write is lost.
   */
  async update<T>(fn: (draft: Map<K, V>) => T | Promise<T>, opts?: LockOptions): Promise<T> {
    const release = await this.writers.lock(opts);
    try {
      const base = this.current;
      const draft = new Map(BACKING.get(base as MapSnapshot<unknown, unknown>)! as Map<K, V>);
      const result = await fn(draft);
      this.current = new MapSnapshot(draft, base.version + 1);
      return result;
    } finally {
      release();
    }
  }

  set(key: K, value: V, opts?: LockOptions): Promise<void> {
    return this.update((d) => {
      d.set(key, value);
    }, opts);
  }

  delete(key: K, opts?: LockOptions): Promise<boolean> {
    return this.update((d) => d.delete(key), opts);
  }
}

/** Backing Maps of snapshots, reachable only from this module (for the writer's copy). */
const BACKING = new WeakMap<MapSnapshot<unknown, unknown>, Map<unknown, unknown>>();

/** A read-only view of one version of a CopyOnWriteMap (no way to change it from outside). */
export class MapSnapshot<K, V> implements ReadonlyMap<K, V> {
  readonly #map: Map<K, V>;

  constructor(map: Map<K, V>, readonly version: number) {
    this.#map = map;
    BACKING.set(this as MapSnapshot<unknown, unknown>, map as Map<unknown, unknown>);
  }

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  get size(): number {
    return this.#map.size;
  }

  forEach(cb: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    this.#map.forEach((v, k) => cb.call(thisArg, v, k, this));
  }

  entries(): MapIterator<[K, V]> {
    return this.#map.entries();
  }

  keys(): MapIterator<K> {
    return this.#map.keys();
  }

  values(): MapIterator<V> {
    return this.#map.values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.#map.entries();
  }
}
