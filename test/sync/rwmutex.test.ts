import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockTimeoutError, RWMutex, type Release } from '../../src/sync/index.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

test('RWMutex: readers share, a writer excludes everyone', async () => {
  const rw = new RWMutex();
  let readers = 0;
  let writers = 0;
  let maxReaders = 0;
  const check = () => {
    assert.ok(writers <= 1, 'two writers at once');
    assert.ok(writers === 0 || readers === 0, 'a reader alongside a writer');
  };
  await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      if (i % 10 === 0) {
        await rw.runWrite(async () => {
          writers++;
          check();
          await tick();
          check();
          writers--;
        });
      } else {
        await rw.runRead(async () => {
          readers++;
          maxReaders = Math.max(maxReaders, readers);
          check();
          await tick();
          check();
          readers--;
        });
      }
    }),
  );
  assert.ok(maxReaders > 1, 'readers ran concurrently');
  assert.equal(rw.readers, 0);
  assert.equal(rw.writing, false);
  assert.equal(rw.waiting, 0);
});

test('RWMutex: a stream of readers cannot starve a writer', async () => {
  const rw = new RWMutex();
  let stop = false;
  let readsAfterWriterAsked = 0;
  let writerAsked = false;
  let writerGot = false;
  // Overlapping readers, each holding across turns of the event loop, forever (until stop).
  const reader = async () => {
    while (!stop) {
      const r = await rw.rlock();
      if (writerAsked && !writerGot) readsAfterWriterAsked++;
      await tick();
      r();
    }
  };
  const readers = Array.from({ length: 8 }, reader);
  await sleep(5);
  writerAsked = true;
  const w = await rw.lock({ timeoutMs: 2000 });
  writerGot = true;
  w();
  stop = true;
  await Promise.all(readers);
  // Only readers already admitted, or queued before the writer, got in after it asked.
  assert.ok(readsAfterWriterAsked <= 8, `${readsAfterWriterAsked} reads overtook the waiting writer`);
});

test('RWMutex: FIFO across modes, readers behind a writer are admitted together after it', async () => {
  const rw = new RWMutex();
  const r0 = await rw.rlock();
  const events: string[] = [];
  const w1 = rw.lock().then(async (r) => {
    events.push('w1');
    await tick();
    events.push('w1 done');
    r();
  });
  const readersAfter = [1, 2, 3].map((i) => rw.rlock().then(async (r) => {
    events.push(`r${i}`);
    await tick();
    r();
  }));
  const w2 = rw.lock().then((r) => {
    events.push('w2');
    r();
  });
  assert.equal(rw.tryRLock(), null, 'a waiting writer blocks new readers');
  assert.equal(rw.waiting, 5);
  r0();
  await Promise.all([w1, ...readersAfter, w2]);
  assert.deepEqual(events, ['w1', 'w1 done', 'r1', 'r2', 'r3', 'w2']);
});

test('RWMutex: a writer that gives up at the head of the queue lets the readers behind it in', async () => {
  const rw = new RWMutex();
  const r0 = await rw.rlock();
  const ac = new AbortController();
  const w = rw.lock({ signal: ac.signal });
  let readerIn = false;
  const r1 = rw.rlock().then((r) => {
    readerIn = true;
    return r;
  });
  await tick();
  assert.equal(readerIn, false, 'blocked behind the waiting writer');
  ac.abort();
  await assert.rejects(w, { name: 'AbortError' });
  const rel = await r1; // must not be a lost wake-up: r0 still holds, readers share
  assert.ok(readerIn);
  rel();
  r0();
  assert.equal(rw.readers, 0);
});

test('RWMutex: timeouts on both sides leave the lock consistent', async () => {
  const rw = new RWMutex('rw');
  const w = await rw.lock();
  await assert.rejects(rw.rlock({ timeoutMs: 5 }), (e: Error) => e instanceof LockTimeoutError && /read lock of rw/.test(e.message));
  await assert.rejects(rw.lock({ timeoutMs: 5 }), LockTimeoutError);
  assert.equal(rw.waiting, 0);
  w();
  const r = rw.tryRLock();
  assert.ok(r);
  assert.equal(rw.tryLock(), null);
  r();
  const w2 = rw.tryLock();
  assert.ok(w2);
  w2();
});

test('RWMutex: randomized stress keeps the invariants and completes every acquisition', async () => {
  const rw = new RWMutex();
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  let readers = 0;
  let writer = false;
  let ok = 0;
  let gaveUp = 0;
  await Promise.all(
    Array.from({ length: 1500 }, async () => {
      const write = rand() < 0.2;
      const mode = rand();
      const ac = new AbortController();
      const opts = mode < 0.1 ? { timeoutMs: Math.floor(rand() * 3) } : mode < 0.2 ? { signal: ac.signal } : undefined;
      if (mode >= 0.1 && mode < 0.2) setTimeout(() => ac.abort(), Math.floor(rand() * 3));
      let r: Release;
      try {
        r = await (write ? rw.lock(opts) : rw.rlock(opts));
      } catch {
        gaveUp++;
        return;
      }
      if (write) {
        assert.ok(!writer && readers === 0);
        writer = true;
      } else {
        assert.ok(!writer);
        readers++;
      }
      if (rand() < 0.5) await tick();
      if (write) writer = false;
      else readers--;
      ok++;
      r();
    }),
  );
  assert.equal(ok + gaveUp, 1500);
  assert.equal(rw.waiting, 0);
  assert.equal(rw.readers, 0);
  assert.equal(rw.writing, false);
});
