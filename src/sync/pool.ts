/**
 * A bounded free list of reusable objects with a reset hook: Go's sync.Pool with the Reset built in.
 *
 *   const pool = new Pool({ create: () => ({ parts: [] as string[] }), reset: (o) => { o.parts.length = 0; } });
 *   const o = pool.get();  // fresh from create(), or a previous one passed through reset()
 *   ...
 *   pool.put(o);
 *
 * reset runs on the way out (in get), so whatever get returns has been reset, even if the previous
 * tenant kept using the object after put (the bug a pool otherwise turns into a data leak between
 * requests). If pooled objects hold on to large things, let them go before put, or they stay alive
 * as long as the pool holds the object.
 *
 * At most `max` objects are kept (default 64); put beyond that drops the object. Putting the same
 * object twice is an error (two tenants would share it).
 */
export interface PoolOptions<T> {
  create: () => T;
  reset: (x: T) => void;
  max?: number;
}

export interface PoolStats {
  hits: number;
  misses: number;
  /** Objects in the pool now. */
  size: number;
  dropped: number;
}

export class Pool<T> {
  private readonly free: T[] = [];
  private readonly pooled = new WeakSet<object>();
  private readonly create: () => T;
  private readonly reset: (x: T) => void;
  readonly max: number;
  private hits = 0;
  private misses = 0;
  private dropped = 0;

  constructor(opts: PoolOptions<T>) {
    if (typeof opts?.create !== 'function' || typeof opts.reset !== 'function') {
      throw new TypeError('Pool: create and reset functions are required');
    }
    this.create = opts.create;
    this.reset = opts.reset;
    this.max = opts.max ?? 64;
    if (!Number.isInteger(this.max) || this.max < 0) throw new RangeError(`Pool: max must be a non-negative integer, got ${opts.max}`);
  }

  get(): T {
    const x = this.free.pop();
    if (x === undefined) {
      this.misses++;
      return this.create();
    }
    this.pooled.delete(x as object);
    this.hits++;
    this.reset(x);
    return x;
  }

  put(x: T): void {
    if (x === null || (typeof x !== 'object' && typeof x !== 'function')) {
      throw new TypeError('Pool.put: only objects can be pooled');
    }
    if (this.pooled.has(x as object)) throw new Error('Pool.put: object put back twice (it already belongs to the pool)');
    if (this.free.length >= this.max) {
      this.dropped++;
      return;
    }
    this.pooled.add(x as object);
    this.free.push(x);
  }

  stats(): PoolStats {
    return { hits: this.hits, misses: this.misses, size: this.free.length, dropped: this.dropped };
  }

  clear(): void {
    for (const x of this.free) this.pooled.delete(x as object);
    this.free.length = 0;
  }
}
