/**
 * A bounded pool of reusable byte buffers: Go's `sync.Pool` of `bytes.Buffer`, for Node.
 *
 * Worth it only on a hot path (a buffer per request at hundreds of requests a second), where the
 * allocation it saves is both large and frequent: Buffer.alloc of a large size is an off-heap
 * allocation, zero-filled, that the GC must later find dead and free.
 *
 * Guarantees:
 * - Reset on the way out: every buffer get() returns is zero-filled over its whole backing store,
 *   so no byte of a previous tenant is visible, not even through `buf.buffer`, and not even if that
 *   tenant (wrongly) kept writing after put().
 * - Bounded: at most `max` buffers and `maxBytes` bytes are kept; buffers bigger than
 *   `maxBufferSize` are never kept; what has not been needed for a whole `trimIntervalMs` is let go
 *   (the pool keeps only what the service's recent peak used, as Go's pool drops its contents at GC).
 * - put() of a buffer twice, or of a buffer this pool did not hand out, is an error: two owners of
 *   one buffer is the bug a pool must never create silently.
 *
 * Sizes: buffers come in power-of-two classes from `size` up to `maxBufferSize`; get(minSize)
 * takes the smallest class that fits and returns a Buffer of exactly `minSize` bytes (the whole
 * backing buffer when minSize is a class size, so get() of the default size allocates nothing).
 */
export interface BufferPoolOptions {
  /** Default (and smallest) buffer size in bytes. Default 4096. */
  size?: number;
  /** Most buffers kept. Default 64. */
  max?: number;
  /** Most bytes kept, all classes together. Default max * size. */
  maxBytes?: number;
  /** Largest buffer kept; larger requests are allocated and dropped on put. Default max(size, 1 MiB). */
  maxBufferSize?: number;
  /** Buffers left unused through a whole interval are released. Default 10000; 0 = never trim. */
  trimIntervalMs?: number;
}

export interface BufferPoolStats {
  /** get() served from the pool. */
  hits: number;
  /** get() that had to allocate. */
  misses: number;
  /** Buffers in the pool now. */
  size: number;
  /** Bytes held by the pool now. */
  bytes: number;
  /** Buffers handed out and not yet put back. */
  outstanding: number;
  /** put() of buffers not kept (pool full, oversize). */
  dropped: number;
  /** Buffers released by idle trimming. */
  trimmed: number;
}

/** Per backing store: its full-size Buffer and whether it is in the pool right now. */
interface Slot {
  full: Buffer;
  pooled: boolean;
  /** Class index, or -1 for an oversize buffer that is never kept. */
  cls: number;
}

export class BufferPool {
  readonly size: number;
  readonly max: number;
  readonly maxBytes: number;
  readonly maxBufferSize: number;
  private readonly classes: Buffer[][] = [];
  /** Lowest length of each class's free list since the last trim: what was never needed. */
  private readonly lowWater: number[] = [];
  private readonly slots = new WeakMap<ArrayBuffer, Slot>();
  private readonly trimIntervalMs: number;
  private trimTimer: ReturnType<typeof setInterval> | null = null;
  private held = 0;
  private heldBytes = 0;
  private hits = 0;
  private misses = 0;
  private dropped = 0;
  private trimmed = 0;
  private outstanding = 0;

  constructor(opts: BufferPoolOptions = {}) {
    this.size = positiveInt('size', opts.size ?? 4096);
    this.max = nonNegativeInt('max', opts.max ?? 64);
    this.maxBytes = nonNegativeInt('maxBytes', opts.maxBytes ?? this.max * this.size);
    this.maxBufferSize = positiveInt('maxBufferSize', opts.maxBufferSize ?? Math.max(this.size, 1 << 20));
    this.trimIntervalMs = nonNegativeInt('trimIntervalMs', opts.trimIntervalMs ?? 10_000);
    for (let c = this.size; c <= this.maxBufferSize; c *= 2) {
      this.classes.push([]);
      this.lowWater.push(0);
    }
  }

  /** A zero-filled Buffer of exactly `minSize` bytes (default: the pool's size). */
  get(minSize: number = this.size): Buffer {
    if (!(minSize >= 0) || !Number.isInteger(minSize)) throw new RangeError(`BufferPool.get: invalid size ${minSize}`);
    const cls = this.classOf(minSize);
    let full: Buffer | undefined;
    if (cls >= 0) {
      const list = this.classes[cls]!;
      full = list.pop();
      if (full !== undefined) {
        if (list.length < this.lowWater[cls]!) this.lowWater[cls] = list.length;
        const slot = this.slots.get(full.buffer as ArrayBuffer)!;
        slot.pooled = false;
        this.held--;
        this.heldBytes -= full.length;
        full.fill(0);
        this.hits++;
      }
    }
    if (full === undefined) {
      this.misses++;
      const capacity = cls >= 0 ? this.size * 2 ** cls : Math.max(minSize, 1);
      // allocUnsafeSlow: a backing store of its own (never a slice of Node's shared 8 KiB slab),
      // so `buf.buffer` identifies it; then zeroed, as Buffer.alloc would.
      full = Buffer.allocUnsafeSlow(capacity).fill(0);
      this.slots.set(full.buffer as ArrayBuffer, { full, pooled: false, cls });
    }
    this.outstanding++;
    return minSize === full.length ? full : full.subarray(0, minSize);
  }

  /** Gives a buffer back. Use it no more: its next tenant may be anyone. */
  put(buf: Buffer): void {
    const slot = buf instanceof Uint8Array ? this.slots.get(buf.buffer as ArrayBuffer) : undefined;
    if (slot === undefined) throw new TypeError('BufferPool.put: this buffer did not come from this pool');
    if (slot.pooled) throw new Error('BufferPool.put: buffer put back twice (it already belongs to the pool)');
    this.outstanding--;
    const cls = slot.cls;
    const full = slot.full;
    if (cls < 0 || this.held >= this.max || this.heldBytes + full.length > this.maxBytes) {
      // Not kept: forget it, so a second put of it is still caught as foreign rather than silently kept.
      this.slots.delete(full.buffer as ArrayBuffer);
      this.dropped++;
      return;
    }
    slot.pooled = true;
    this.classes[cls]!.push(full);
    this.held++;
    this.heldBytes += full.length;
    if (this.trimTimer === null && this.trimIntervalMs > 0) this.startTrimming();
  }

  stats(): BufferPoolStats {
    return {
      hits: this.hits,
      misses: this.misses,
      size: this.held,
      bytes: this.heldBytes,
      outstanding: this.outstanding,
      dropped: this.dropped,
      trimmed: this.trimmed,
    };
  }

  /** Releases every pooled buffer now. */
  clear(): void {
    for (let c = 0; c < this.classes.length; c++) this.releaseFrom(c, this.classes[c]!.length);
    this.stopTrimming();
  }

  /**
   * Releases, per class, the buffers that stayed in the pool through the whole interval since the
   * last trim (the low-water mark): the service did not need them even at its busiest moment.
   * Called by the pool's own timer; public for callers that want to trim on their own schedule.
   */
  trim(): void {
    for (let c = 0; c < this.classes.length; c++) {
      const unused = this.lowWater[c]!;
      if (unused > 0) this.releaseFrom(c, unused);
      this.lowWater[c] = this.classes[c]!.length;
    }
    if (this.held === 0) this.stopTrimming();
  }

  /** Smallest class holding `n` bytes, or -1 if n is above maxBufferSize. */
  private classOf(n: number): number {
    if (n > this.maxBufferSize) return -1;
    let c = 0;
    for (let cap = this.size; cap < n; cap *= 2) c++;
    return c < this.classes.length ? c : -1;
  }

  private releaseFrom(c: number, n: number): void {
    const list = this.classes[c]!;
    for (let i = 0; i < n && list.length > 0; i++) {
      const full = list.shift()!; // the oldest first
      this.slots.delete(full.buffer as ArrayBuffer);
      this.held--;
      this.heldBytes -= full.length;
      this.trimmed++;
    }
  }

  private startTrimming(): void {
    for (let c = 0; c < this.classes.length; c++) this.lowWater[c] = this.classes[c]!.length;
    this.trimTimer = setInterval(() => this.trim(), this.trimIntervalMs);
    this.trimTimer.unref(); // a pool never keeps a process alive
  }

  private stopTrimming(): void {
    if (this.trimTimer !== null) clearInterval(this.trimTimer);
    this.trimTimer = null;
  }
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`BufferPool: ${name} must be a positive integer, got ${v}`);
  return v;
}

function nonNegativeInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`BufferPool: ${name} must be a non-negative integer, got ${v}`);
  return v;
}
