import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Mutex,
  RWMutex,
  ShardedMap,
  contentionSnapshot,
  resetContentionProfile,
  setContentionProfiling,
  setWaitObserver,
  type ContentionRecord,
} from '../../src/sync/index.js';

/** Line (1-based) of the compiled test file carrying a marker comment: what V8 reports. */
const SOURCE = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
function lineOf(marker: string): number {
  const i = SOURCE.findIndex((l) => l.includes(`@site:${marker}`) && !l.includes('lineOf('));
  assert.ok(i >= 0, `marker ${marker} not found in the compiled test`);
  return i + 1;
}

function only(records: ContentionRecord[], lockName: string): ContentionRecord[] {
  return records.filter((r) => r.lockName === lockName);
}

async function holdFor(m: Mutex, ms: number): Promise<void> {
  const release = await m.lock();
  await sleep(ms);
  release(); // @site:hold-release
}

async function waitForIt(m: Mutex): Promise<void> {
  const release = await m.lock(); // @site:block-wait
  release();
}

test('contention profiling is off until turned on, and records nothing then', async () => {
  assert.equal(contentionSnapshot().enabled, false);
  const m = new Mutex('off');
  await Promise.all([holdFor(m, 5), waitForIt(m)]);
  const s = contentionSnapshot();
  assert.equal(s.block.length + s.mutex.length, 0);
});

test('a wait is attributed to the waiting function and line; the contended hold to the holder', async () => {
  setContentionProfiling(true);
  const before = Date.now();
  const m = new Mutex('attrib');
  await Promise.all([holdFor(m, 30), waitForIt(m)]);
  const s = contentionSnapshot();
  assert.equal(s.enabled, true);
  assert.ok(s.since > BigInt(before - 60_000) * 1_000_000n && s.since <= BigInt(Date.now() + 1) * 1_000_000n, 'since is epoch ns');

  const [block] = only(s.block, 'attrib');
  assert.ok(block, 'a block record');
  assert.equal(block.count, 1);
  assert.equal(block.mode, 'write');
  assert.equal(block.stack[0]!.functionName, 'waitForIt');
  assert.equal(block.stack[0]!.line, lineOf('block-wait'));
  assert.match(block.stack[0]!.file, /contention\.test\.js$/);
  assert.ok(block.stack.every((f) => !/src\/sync\//.test(f.file)), 'no frames of tailprobe/sync itself');
  assert.ok(block.delayNs >= 20e6, `waited ${block.delayNs} ns for a 30 ms hold`);

  const [mutex] = only(s.mutex, 'attrib');
  assert.ok(mutex, 'a mutex record');
  assert.equal(mutex.count, 1);
  assert.equal(mutex.stack[0]!.functionName, 'holdFor');
  assert.equal(mutex.stack[0]!.line, lineOf('hold-release'));
  assert.ok(mutex.delayNs >= 20e6 && mutex.delayNs <= 31e6 * 100, `contended hold ${mutex.delayNs} ns`);
});

test('uncontended acquisitions record nothing', async () => {
  setContentionProfiling(true);
  const m = new Mutex('free');
  const rw = new RWMutex('free-rw');
  for (let i = 0; i < 1000; i++) {
    (await m.lock())();
    (await rw.rlock())();
    (await rw.lock())();
  }
  const s = contentionSnapshot();
  assert.equal(only(s.block, 'free').length + only(s.block, 'free-rw').length, 0);
  assert.equal(only(s.mutex, 'free').length + only(s.mutex, 'free-rw').length, 0);
});

async function readerBehindWriter(rw: RWMutex): Promise<void> {
  const r = await rw.rlock(); // @site:rw-read-wait
  r();
}

async function writerBehindReaders(rw: RWMutex): Promise<void> {
  const w = await rw.lock(); // @site:rw-write-wait
  w();
}

test('RWMutex: read and write waits are told apart', async () => {
  setContentionProfiling(true);
  const rw = new RWMutex('rw-modes');
  const r0 = await rw.rlock();
  const writer = writerBehindReaders(rw);
  const reader = readerBehindWriter(rw);
  await sleep(10);
  r0(); // @site:rw-reader-release
  await Promise.all([writer, reader]);
  const s = contentionSnapshot();
  const blocks = only(s.block, 'rw-modes');
  const w = blocks.find((r) => r.mode === 'write')!;
  const r = blocks.find((r) => r.mode === 'read')!;
  assert.equal(w.stack[0]!.functionName, 'writerBehindReaders');
  assert.equal(w.stack[0]!.line, lineOf('rw-write-wait'));
  assert.equal(r.stack[0]!.functionName, 'readerBehindWriter');
  assert.equal(r.stack[0]!.line, lineOf('rw-read-wait'));
  const held = only(s.mutex, 'rw-modes').find((x) => x.mode === 'read')!;
  assert.ok(held, 'the reader that made the writer wait');
  assert.equal(held.stack[0]!.line, lineOf('rw-reader-release'));
});

async function usingHolder(m: Mutex): Promise<void> {
  using _held = await m.lock();
  await sleep(10);
}

test('a `using` release is attributed to the function that held the lock', async () => {
  setContentionProfiling(true);
  const m = new Mutex('using');
  await Promise.all([usingHolder(m), waitForIt(m)]);
  const [rec] = only(contentionSnapshot().mutex, 'using');
  assert.ok(rec);
  assert.equal(rec.stack[0]!.functionName, 'usingHolder');
});

async function shardWriter(map: ShardedMap<string, number>): Promise<void> {
  const section = async (shard: Map<string, number>) => {
    await sleep(1);
    shard.set('k', 1);
  };
  await map.write('k', section); // @site:sharded-write
}

test('frames of tailprobe/sync (ShardedMap, runExclusive) are skipped: the caller is the call site', async () => {
  setContentionProfiling(true);
  const map = new ShardedMap<string, number>({ shards: 4, name: 'sharded' });
  await Promise.all([shardWriter(map), shardWriter(map)]);
  const blocks = contentionSnapshot().block.filter((r) => r.lockName.startsWith('sharded['));
  assert.equal(blocks.length, 1);
  assert.equal(blocks[0]!.stack[0]!.functionName, 'shardWriter');
  assert.equal(blocks[0]!.stack[0]!.line, lineOf('sharded-write'));
});

async function contend(m: Mutex, waiters: number): Promise<void> {
  const hold = await m.lock();
  const all = Array.from({ length: waiters }, () => waitForIt(m));
  await sleep(5);
  hold();
  await Promise.all(all);
}

test('past the stack budget, events are still counted and timed, and attributed by scaling', async () => {
  setContentionProfiling(false);
  setContentionProfiling(true, { maxStacksPerSecond: 0 });
  const m = new Mutex('nostacks');
  await contend(m, 10);
  let s = contentionSnapshot();
  const [bare] = only(s.block, 'nostacks');
  assert.ok(bare);
  assert.equal(bare.count, 10);
  assert.deepEqual(bare.stack, []);
  assert.ok(bare.delayNs > 0);
  assert.equal(s.sampled.blockStacks, 0);

  // A budget of 3 stacks: the bucket starts full (3), so 3 of 10 waits get a stack; the one record
  // (all waits come from the same call site) is scaled up to the 10 events.
  setContentionProfiling(false);
  setContentionProfiling(true, { maxStacksPerSecond: 3 });
  const m2 = new Mutex('budget');
  await contend(m2, 10);
  s = contentionSnapshot();
  const recs = only(s.block, 'budget');
  assert.equal(recs.length, 1);
  assert.equal(recs[0]!.count, 10);
  assert.equal(recs[0]!.stack[0]!.functionName, 'waitForIt');
  assert.equal(s.sampled.blockStacks, 3);
  assert.equal(s.sampled.blockEvents, 10);
  setContentionProfiling(true, { maxStacksPerSecond: 100 });
});

test('turning profiling off stops recording; on again starts a fresh profile', async () => {
  setContentionProfiling(true);
  const m = new Mutex('toggle');
  await contend(m, 2);
  assert.equal(only(contentionSnapshot().block, 'toggle')[0]!.count, 2);
  setContentionProfiling(false);
  await contend(m, 2);
  assert.equal(only(contentionSnapshot().block, 'toggle')[0]!.count, 2, 'nothing added while off');
  const sinceBefore = contentionSnapshot().since;
  setContentionProfiling(true);
  const s = contentionSnapshot();
  assert.ok(s.since > sinceBefore);
  assert.equal(only(s.block, 'toggle').length, 0);
  resetContentionProfile();
  assert.equal(contentionSnapshot().block.length, 0);
  assert.throws(() => setContentionProfiling(true, { maxStacksPerSecond: -1 }), RangeError);
});

test('the wait observer is asked at each contended wait, in the waiter\'s context, and told how it ended; never on the uncontended path', async () => {
  const begins: string[] = [];
  const ends: Array<{ token: unknown; lock: string; mode: string; durationNs: number; granted: boolean }> = [];
  let who = 'nobody';
  let firstLock = 0;
  new Mutex('exists'); // a lock exists already: setWaitObserver says so at once
  setWaitObserver({
    firstLock: () => firstLock++,
    begin: () => {
      begins.push(who);
      return who;
    },
    end: (token, lock, mode, _site, startMs, durationNs, granted) => {
      assert.ok(startMs > 0 && startMs <= performance.now());
      ends.push({ token, lock, mode, durationNs, granted });
    },
  });
  try {
    const m = new RWMutex('observed');
    who = 'free';
    (await m.lock())(); // uncontended: not asked
    (await m.rlock())();
    assert.deepEqual(begins, []);
    const release = await m.lock();
    who = 'reader';
    const reader = m.rlock();
    who = 'quitter';
    const quitter = m.lock({ timeoutMs: 5 });
    who = 'releaser';
    await assert.rejects(quitter);
    release();
    (await reader)();
    assert.deepEqual(begins, ['reader', 'quitter']);
    // The quitter gave up first; the reader was granted when the holder released.
    assert.deepEqual(ends.map((e) => [e.token, e.lock, e.mode, e.granted]), [
      ['quitter', 'observed', 'write', false],
      ['reader', 'observed', 'read', true],
    ]);
    assert.ok(ends.every((e) => e.durationNs > 0));
    assert.equal(firstLock, 1, 'told once, when set, since locks existed');
  } finally {
    setWaitObserver(null);
  }
  // Removed: the next contended wait asks nobody.
  const m = new Mutex('unobserved');
  const r = await m.lock();
  const w = m.lock();
  r();
  (await w)();
  assert.equal(begins.length, 2);
});

test('a throwing wait observer never breaks a lock', async () => {
  setWaitObserver({
    begin: () => {
      throw new Error('observer bug');
    },
    end: () => {
      throw new Error('observer bug');
    },
  });
  try {
    const m = new Mutex('robust');
    const r = await m.lock();
    const w = m.lock();
    r();
    (await w)();
    setWaitObserver({
      begin: () => 'token',
      end: () => {
        throw new Error('observer bug');
      },
    });
    const r2 = await m.lock();
    const w2 = m.lock();
    r2();
    (await w2)();
    assert.equal(m.locked, false);
  } finally {
    setWaitObserver(null);
  }
});
