import { Mutex, RWMutex } from 'tailprobe/sync';

/**
 * The lookup service's shared, read-mostly table: hundreds of thousands of entries, each a small
 * object graph (tags, attributes, a history of samples, links to related entries), kept in memory
 * for the life of the process. That is the old generation the garbage collector has to mark on
 * every full collection, so the more often the service forces one, the longer and more frequent
 * the pauses its requests fall into.
 *
 * A rare writer refreshes the table (a batch of entries replaced every second). Readers want a
 * consistent view of an entry *and* the related entries it links to, so every read goes through a
 * lock; the accessor is asynchronous, the way a cache in front of async storage is: it fetches the
 * entry and then each related entry, yielding to the event loop between fetches. The lock is
 * therefore held across `await`s, across whole turns of the event loop, and that is where the two
 * lock strategies differ:
 *
 * - `mutex`: one Mutex for everything (the story's fault). Readers exclude each other, so under load
 *   they queue, and the queue is the tail.
 * - `rwmutex`: an RWMutex (the fix). Readers share the lock; only the rare writer is serialised.
 */
export type LockKind = 'mutex' | 'rwmutex';

export interface Sample {
  /** Epoch milliseconds. */
  t: number;
  /** A measurement in thousandths (an integer, so responses render without float formatting). */
  v: number;
}

export interface Entry {
  key: string;
  name: string;
  version: number;
  tags: string[];
  attrs: { region: string; tier: number; owner: string };
  history: Sample[];
  /** Keys of related entries; a lookup returns a summary of each. */
  related: string[];
}

/** What a lookup returns: the entry and its related entries, read under one lock hold. */
export interface LookupView {
  entry: Entry;
  related: Entry[];
}

export interface TableOptions {
  /** Number of entries (default 300000). */
  entries?: number;
  /** Samples in each entry's history (default 8). */
  history?: number;
  /** Related entries linked from each entry (default 8): each is one async read under the lock. */
  related?: number;
  /**
   * Every `popularEvery`-th entry (default 400; 0 = none) is a popular item: one many others relate
   * to, whose lookup reads `popularRelated` related entries instead of `related`. Real catalogues
   * have them, and a lock held across their reads makes them everybody's problem.
   */
  popularEvery?: number;
  /** Related entries of a popular entry (default 1000). */
  popularRelated?: number;
  /** Pieces each entry is read in, one turn of the event loop each (default 8). */
  chunks?: number;
  lock?: LockKind;
  /** Seed of the deterministic generator, so tests can predict every entry. */
  seed?: number;
}

const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-south-1', 'ap-northeast-1'];
const OWNERS = ['search', 'billing', 'catalog', 'identity', 'payments', 'ads', 'maps', 'mail'];
const TAGS = ['hot', 'cold', 'pinned', 'beta', 'legacy', 'shared', 'internal', 'public', 'eu', 'us'];

/** Keys are `k` + a zero-padded number, so clients (and the demo's targets) can pick any. */
export function keyOf(i: number): string {
  return `k${String(i).padStart(7, '0')}`;
}

export class LookupTable {
  readonly size: number;
  readonly lockKind: LockKind;
  private readonly map = new Map<string, Entry>();
  private readonly historyLen: number;
  private readonly relatedLen: number;
  private readonly popularEvery: number;
  private readonly popularRelated: number;
  private readonly chunks: number;
  private readonly mutex: Mutex | null;
  private readonly rw: RWMutex | null;
  private rand: () => number;
  /** Refreshes applied so far; each bumps the version of the entries it replaces. */
  generation = 0;

  constructor(opts: TableOptions = {}) {
    this.size = opts.entries ?? 300_000;
    this.historyLen = opts.history ?? 8;
    this.relatedLen = opts.related ?? 8;
    this.popularEvery = opts.popularEvery ?? 400;
    this.popularRelated = opts.popularRelated ?? 1000;
    this.chunks = Math.max(1, opts.chunks ?? 8);
    this.lockKind = opts.lock ?? 'mutex';
    this.mutex = this.lockKind === 'mutex' ? new Mutex('lookup.table') : null;
    this.rw = this.lockKind === 'rwmutex' ? new RWMutex('lookup.table') : null;
    this.rand = mulberry32(opts.seed ?? 1);
    for (let i = 0; i < this.size; i++) this.map.set(keyOf(i), this.makeEntry(i, 0));
  }

  /**
   * The read path: entry plus related entries, consistent with each other, and (given `build`)
   * whatever the caller builds from them, built while they still are. With `mutex` every reader
   * takes the one exclusive lock; with `rwmutex` readers share it. Either way it is held across
   * the async reads, i.e. across turns of the event loop, and across `build`.
   */
  async lookup(key: string): Promise<LookupView | undefined>;
  async lookup<T>(key: string, build: (view: LookupView) => T): Promise<T | undefined>;
  async lookup<T>(key: string, build?: (view: LookupView) => T): Promise<T | LookupView | undefined> {
    // The read lock: the call site a block profile names when readers queue.
    const release = this.mutex !== null ? await this.mutex.lock() : await this.rw!.rlock();
    try {
      const view = await this.read(key);
      // What the caller makes of the view (the response) is made while the view is still
      // guaranteed consistent: under the lock.
      return view === undefined || build === undefined ? view : build(view);
    } finally {
      release();
    }
  }

  /**
   * The entry and then each related entry from the (async) backing store, each in `chunks` pieces
   * that arrive on later turns of the event loop and are checked as they arrive (a history's
   * samples must be in time order), as a client of a remote store reads records in parts.
   * Written as one callback per piece rather than an `await` per piece, so that the read path
   * itself allocates next to nothing: what a heap profile shows is the response's garbage.
   */
  private read(key: string): Promise<LookupView | undefined> {
    const chunks = this.chunks;
    const map = this.map;
    return new Promise((resolve, reject) => {
      const entry = map.get(key);
      if (entry === undefined) {
        setImmediate(() => resolve(undefined));
        return;
      }
      const related: Entry[] = [];
      let current: Entry | undefined = entry;
      let next = 0; // entry.related[next] is read after `current`; `current` is `entry` itself while next is 0
      let c = 0;
      const piece = (): void => {
        if (current !== undefined) {
          const h = current.history;
          const per = Math.ceil(h.length / chunks);
          for (let i = Math.max(1, c * per); i < Math.min(h.length, (c + 1) * per); i++) {
            if (h[i]!.t <= h[i - 1]!.t) return reject(new Error(`corrupt entry ${current.key}: history out of order`));
          }
          if (++c < chunks) return void setImmediate(piece);
          if (next > 0) related.push(current);
        }
        if (next >= entry.related.length) return resolve({ entry, related });
        current = map.get(entry.related[next++]!);
        c = 0;
        setImmediate(piece);
      };
      setImmediate(piece);
    });
  }

  /**
   * The rare writer: replaces `count` entries with new versions. The new entries are built outside
   * the lock (they are the only allocation of the writer); the swap itself is short and exclusive.
   */
  async refresh(count: number): Promise<void> {
    const gen = ++this.generation;
    const fresh: Entry[] = [];
    for (let n = 0; n < count; n++) fresh.push(this.makeEntry(Math.floor(this.rand() * this.size), gen));
    const release = this.mutex !== null ? await this.mutex.lock() : await this.rw!.lock();
    try {
      for (const e of fresh) this.map.set(e.key, e);
    } finally {
      release();
    }
  }

  /** Whether entry `i` is one of the popular items (see TableOptions.popularEvery). */
  isPopular(i: number): boolean {
    return this.popularEvery > 0 && i % this.popularEvery === 0;
  }

  /** Synchronous read for tests and for computing expected responses (no lock, no await). */
  peek(key: string): Entry | undefined {
    return this.map.get(key);
  }

  private makeEntry(i: number, gen: number): Entry {
    const r = this.rand;
    const key = keyOf(i);
    const tags: string[] = [];
    const nTags = 1 + Math.floor(r() * 3);
    for (let t = 0; t < nTags; t++) tags.push(TAGS[Math.floor(r() * TAGS.length)]!);
    const history: Sample[] = [];
    const t0 = 1_700_000_000_000 + i * 1000;
    for (let h = 0; h < this.historyLen; h++) history.push({ t: t0 + h * 60_000, v: Math.floor(r() * 1_000_000) });
    const related: string[] = [];
    const nRelated = this.isPopular(i) ? this.popularRelated : this.relatedLen;
    for (let k = 0; k < nRelated; k++) related.push(keyOf(Math.floor(r() * this.size)));
    return {
      key,
      name: `item ${i} of ${OWNERS[i % OWNERS.length]}`,
      version: gen,
      tags,
      attrs: { region: REGIONS[i % REGIONS.length]!, tier: i % 4, owner: OWNERS[(i >> 3) % OWNERS.length]! },
      history,
      related,
    };
  }
}

/** A small, fast, seedable PRNG (tests regenerate the same table). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
