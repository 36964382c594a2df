/**
 * An example bench file, the story's `go test -bench=BenchmarkLookup -benchmem` for Node:
 *
 *   npx tsc -p . && tailprobe bench bench/lookup.bench.ts          # runs dist/bench/lookup.bench.js
 *   tailprobe bench -run=Render/ -count=10 -json bench/lookup.bench.ts > new.json
 *
 * Render/*: assembling a lookup response, a fresh object graph + JSON string + Buffer per request
 * (the fault) against writing into a pooled ByteBuilder (the fix); allocs/op should fall from
 * dozens to nearly none. Lookup/*: one read of a shared table through each lock, uncontended,
 * i.e. the price of the lock itself when nobody else wants it.
 */
import { bench, blackhole, type B } from '../src/bench/index.js';
import { BufferPool, ByteBuilder, CopyOnWriteMap, Mutex, RWMutex } from '../src/sync/index.js';

interface Entry {
  key: string;
  name: string;
  version: number;
  tags: string[];
  history: Array<{ t: number; v: number }>;
}

const table = new Map<string, Entry>();
for (let i = 0; i < 1000; i++) {
  const key = `k${String(i).padStart(7, '0')}`;
  table.set(key, {
    key,
    name: `item ${i}`,
    version: 1,
    tags: ['hot', 'shared'],
    history: Array.from({ length: 8 }, (_, h) => ({ t: 1_700_000_000_000 + h * 60_000, v: (i * 7919 + h) % 1_000_000 })),
  });
}
const KEYS = [...table.keys()];
const pool = new BufferPool({ size: 4096, max: 16 });

function renderFresh(b: B): void {
  for (let i = 0; i < b.n; i++) {
    const e = table.get(KEYS[i % KEYS.length]!)!;
    const doc = { key: e.key, name: e.name, version: e.version, tags: [...e.tags], history: e.history.map((h) => ({ t: h.t, v: h.v })) };
    blackhole(Buffer.from(JSON.stringify(doc)));
  }
}

function renderPooled(b: B): void {
  const out = new ByteBuilder(pool);
  for (let i = 0; i < b.n; i++) {
    const e = table.get(KEYS[i % KEYS.length]!)!;
    out.reset();
    out.appendString('{"key":"').appendString(e.key).appendString('","name":"').appendString(e.name);
    out.appendString('","version":').appendInt(e.version).appendString(',"tags":[');
    for (let t = 0; t < e.tags.length; t++) {
      out.appendString(t > 0 ? ',"' : '"').appendString(e.tags[t]!).appendByte(0x22);
    }
    out.appendString('],"history":[');
    for (let h = 0; h < e.history.length; h++) {
      out.appendString(h > 0 ? ',{"t":' : '{"t":').appendInt(e.history[h]!.t);
      out.appendString(',"v":').appendInt(e.history[h]!.v).appendByte(0x7d);
    }
    out.appendString(']}');
    blackhole(out.length);
  }
  out.release();
}

bench('Render/fresh', renderFresh);
bench('Render/pooled', renderPooled);

// The before/after workflow, one benchmark name and the implementation chosen outside:
//   RENDER=fresh  tailprobe bench -run='^Render$' -count=10 -o old.json bench/lookup.bench.ts
//   RENDER=pooled tailprobe bench -run='^Render$' -count=10 -o new.json bench/lookup.bench.ts
//   tailprobe bench -compare old.json new.json
bench('Render', process.env.RENDER === 'fresh' ? renderFresh : renderPooled);

const mutex = new Mutex('bench.table');
bench('Lookup/mutex', async (b: B) => {
  for (let i = 0; i < b.n; i++) {
    const release = await mutex.lock();
    blackhole(table.get(KEYS[i % KEYS.length]!));
    release();
  }
});

const rw = new RWMutex('bench.table');
bench('Lookup/rwmutex', async (b: B) => {
  for (let i = 0; i < b.n; i++) {
    const release = await rw.rlock();
    blackhole(table.get(KEYS[i % KEYS.length]!));
    release();
  }
});

const cow = new CopyOnWriteMap(table);
bench('Lookup/cow', (b: B) => {
  for (let i = 0; i < b.n; i++) blackhole(cow.get(KEYS[i % KEYS.length]!));
});
