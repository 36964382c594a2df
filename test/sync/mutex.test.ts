import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockReleaseError, LockTimeoutError, Mutex, type Release } from '../../src/sync/index.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

test('Mutex: async critical sections never overlap', async () => {
  const m = new Mutex();
  let inside = 0;
  let maxInside = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      await m.runExclusive(async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        if (i % 3 === 0) await tick();
        else await null;
        inside--;
        done++;
      });
    }),
  );
  assert.equal(maxInside, 1);
  assert.equal(done, 50);
  assert.equal(m.locked, false);
  assert.equal(m.waiting, 0);
});

test('Mutex: FIFO: waiters get the lock in the order they asked', async () => {
  const m = new Mutex();
  const first = await m.lock();
  const order: number[] = [];
  const waits = Array.from({ length: 20 }, (_, i) => m.lock().then((r) => {
    order.push(i);
    r();
  }));
  assert.equal(m.waiting, 20);
  first();
  await Promise.all(waits);
  assert.deepEqual(order, Array.from({ length: 20 }, (_, i) => i));
});

test('Mutex: no lost wake-ups under many waiters with timeouts and aborts mixed in', async () => {
  const m = new Mutex();
  const N = 2000;
  let granted = 0;
  let rejected = 0;
  let inside = 0;
  const hold = await m.lock();
  const all = Array.from({ length: N }, async (_, i) => {
    const ac = new AbortController();
    const opts = i % 7 === 0 ? { timeoutMs: 1 } : i % 11 === 0 ? { signal: ac.signal } : undefined;
    if (i % 11 === 0) setImmediate(() => ac.abort());
    let r: Release;
    try {
      r = await m.lock(opts);
    } catch (e) {
      rejected++;
      assert.ok(e instanceof LockTimeoutError || (e as Error).name === 'AbortError', String(e));
      return;
    }
    inside++;
    assert.equal(inside, 1);
    if (i % 5 === 0) await tick();
    inside--;
    granted++;
    r();
  });
  await sleep(5); // let timeouts and aborts fire while the lock is held
  hold();
  await Promise.all(all);
  assert.equal(granted + rejected, N);
  assert.ok(rejected > 0 && granted > 0);
  assert.equal(m.locked, false);
  assert.equal(m.waiting, 0);
  // Still usable: nothing left stuck.
  const r = m.tryLock();
  assert.ok(r);
  r();
});

test('Mutex: a timed-out waiter leaves the queue; the ones behind it still get the lock', async () => {
  const m = new Mutex('t');
  const hold = await m.lock();
  const timedOut = m.lock({ timeoutMs: 10 });
  let behindGot = false;
  const behind = m.lock().then((r) => {
    behindGot = true;
    r();
  });
  await assert.rejects(timedOut, (e: Error) => e instanceof LockTimeoutError && /timed out after 10ms .*lock of t/.test(e.message));
  assert.equal(m.waiting, 1);
  assert.equal(behindGot, false);
  hold();
  await behind;
  assert.ok(behindGot);
});

test('Mutex: an aborted waiter rejects with the reason and never gets the lock later', async () => {
  const m = new Mutex();
  const hold = await m.lock();
  const ac = new AbortController();
  let gotIt = false;
  const p = m.lock({ signal: ac.signal }).then((r) => {
    gotIt = true;
    r();
  });
  ac.abort(new Error('client went away'));
  await assert.rejects(p, /client went away/);
  hold();
  await tick();
  await tick();
  assert.equal(gotIt, false);
  assert.equal(m.locked, false);
  // Already aborted before asking: rejected at once, even though the lock is free.
  await assert.rejects(m.lock({ signal: AbortSignal.abort() }), { name: 'AbortError' });
  assert.equal(m.locked, false);
  await assert.rejects(m.lock({ timeoutMs: -1 }), RangeError);
});

test('Mutex: abort after the grant does nothing (the caller holds the lock)', async () => {
  const m = new Mutex();
  const ac = new AbortController();
  const r = await m.lock({ signal: ac.signal, timeoutMs: 5 });
  ac.abort();
  await sleep(10); // the timeout would have fired by now
  assert.equal(m.locked, true);
  r();
  assert.equal(m.locked, false);
});

test('Mutex: tryLock never jumps the queue', async () => {
  const m = new Mutex();
  const hold = m.tryLock()!;
  assert.ok(hold);
  assert.equal(m.tryLock(), null);
  const waiter = m.lock();
  hold();
  // The lock went straight to the waiter (hand-off): a newcomer cannot take it first.
  assert.equal(m.tryLock(), null);
  (await waiter)();
  const again = m.tryLock();
  assert.ok(again);
  again();
});

test('Mutex: releasing twice is a clear error; `using` releases at the end of the block', async () => {
  const m = new Mutex('cache');
  const r = await m.lock();
  r();
  assert.throws(() => r(), (e: Error) => e instanceof LockReleaseError && /lock of cache released twice/.test(e.message));
  {
    using _held = await m.lock();
    assert.equal(m.locked, true);
  }
  assert.equal(m.locked, false);
  await assert.rejects(
    (async () => {
      using _held = await m.lock();
      throw new Error('boom');
    })(),
    /boom/,
  );
  assert.equal(m.locked, false, 'released even when the block throws');
  await assert.rejects(m.runExclusive(() => Promise.reject(new Error('inner'))), /inner/);
  assert.equal(m.locked, false);
});
