/**
 * The price of tailprobe/sync's primitives, and of leaving contention profiling on:
 *
 *   npx tsc -p . && tailprobe bench bench/sync-primitives.bench.ts
 *   tailprobe bench -run=Lock -count=10 -json bench/sync-primitives.bench.ts > locks.json
 *
 * Lock/*: one acquisition and release of a Mutex. Uncontended: the fast path, which records
 * nothing whether profiling is on or off (so on and off should not differ). Contended: each op is
 * one hand-off to a queued waiter, the path that records (two timestamps, and a stack while the
 * budget allows): off, on with the default budget (100 stacks/s), on with no stacks at all (the
 * timing and counting alone), and on with a stack for every event (the worst case, to show what
 * the budget saves).
 *
 * Buffer/*: a response-sized buffer per op, freshly allocated vs taken from a BufferPool (zeroed on
 * the way out) and given back. B/op shows the allocation the pool saves; ns/op what zeroing costs.
 */
import { bench, blackhole, type B } from '../src/bench/index.js';
import { BufferPool, Mutex, setContentionProfiling } from '../src/sync/index.js';

function uncontended(profiling: boolean) {
  return async (b: B) => {
    setContentionProfiling(profiling);
    const m = new Mutex('bench.uncontended');
    b.resetTimer();
    for (let i = 0; i < b.n; i++) {
      const release = await m.lock();
      release();
    }
  };
}

function contended(profiling: boolean, maxStacksPerSecond = 100) {
  return async (b: B) => {
    setContentionProfiling(false);
    setContentionProfiling(profiling, { maxStacksPerSecond });
    const m = new Mutex('bench.contended');
    b.resetTimer();
    for (let i = 0; i < b.n; i++) {
      const hold = await m.lock();
      const waiter = m.lock(); // queued behind the holder: the contended path
      hold();
      (await waiter)();
    }
    setContentionProfiling(false, { maxStacksPerSecond: 100 });
  };
}

bench('Lock/uncontended/profiling=off', uncontended(false));
bench('Lock/uncontended/profiling=on', uncontended(true));
bench('Lock/contended/profiling=off', contended(false));
bench('Lock/contended/profiling=on', contended(true));
bench('Lock/contended/profiling=on,no-stacks', contended(true, 0));
bench('Lock/contended/profiling=on,every-stack', contended(true, Infinity));

bench('Lock/tryLock', (b: B) => {
  const m = new Mutex('bench.try');
  for (let i = 0; i < b.n; i++) m.tryLock()!();
});

for (const size of [4096, 65536]) {
  const label = `${size / 1024}KiB`;
  bench(`Buffer/${label}/alloc`, (b: B) => {
    for (let i = 0; i < b.n; i++) {
      const buf = Buffer.alloc(size);
      buf[i % size] = 1;
      blackhole(buf);
    }
  });
  bench(`Buffer/${label}/pool`, (b: B) => {
    const pool = new BufferPool({ size, max: 4 });
    for (let i = 0; i < b.n; i++) {
      const buf = pool.get();
      buf[i % size] = 1;
      pool.put(buf);
    }
  });
}
