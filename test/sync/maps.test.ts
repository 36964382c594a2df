import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CopyOnWriteMap, MapSnapshot, ShardedMap, defaultHash } from '../../src/sync/index.js';

test('ShardedMap: sync reads, async writes, read-modify-write without lost updates', async () => {
  const m = new ShardedMap<string, number>({ shards: 8 });
  await m.set('a', 1);
  assert.equal(m.get('a'), 1);
  assert.equal(m.has('b'), false);
  // 100 concurrent increments that each await inside their section: none lost.
  await Promise.all(Array.from({ length: 100 }, () => m.update('n', async (v) => {
    const cur = v ?? 0;
    await new Promise((r) => setImmediate(r));
    return cur + 1;
  })));
  assert.equal(m.get('n'), 100);
  assert.equal(await m.update('n', () => undefined), undefined);
  assert.equal(m.has('n'), false, 'undefined deletes');
  assert.equal(await m.delete('a'), true);
  assert.equal(m.size, 0);
  for (let i = 0; i < 100; i++) await m.set(`k${i}`, i);
  assert.equal(m.size, 100);
  assert.equal([...m].length, 100);
  const used = new Set([...Array(100).keys()].map((i) => m.shardOf(`k${i}`)));
  assert.ok(used.size > 4, 'keys spread over the shards');
});

test('ShardedMap: a writer holding one shard across awaits does not block readers of other shards', async () => {
  const m = new ShardedMap<number, string>({ shards: 4, hash: (k) => k });
  let writerDone = false;
  const writer = m.write(0, async (shard) => {
    await sleep(50);
    shard.set(0, 'written');
    writerDone = true;
  });
  await new Promise((r) => setImmediate(r));
  const other = await m.read(1, (v) => ({ v, writerDone }));
  assert.equal(other.writerDone, false, 'shard 1 read while shard 0 was held');
  const same = await m.read(0, (v) => ({ v, writerDone }));
  assert.deepEqual(same, { v: 'written', writerDone: true }, 'shard 0 read waited for the writer');
  await writer;
  assert.throws(() => new ShardedMap({ shards: 0 }), RangeError);
  assert.throws(() => new ShardedMap<object, number>().get({}), /need a hash option/);
  assert.equal(defaultHash('abc'), defaultHash('abc'));
  assert.notEqual(defaultHash(1), defaultHash(2));
});

test('CopyOnWriteMap: readers never wait, even while a writer awaits inside update', async () => {
  const m = new CopyOnWriteMap<string, number>([['a', 1]]);
  let inUpdate = false;
  const w = m.update(async (d) => {
    inUpdate = true;
    d.set('a', 2);
    await sleep(30);
    d.set('b', 3);
  });
  await new Promise((r) => setImmediate(r));
  assert.ok(inUpdate);
  assert.equal(m.get('a'), 1, 'readers see the old version, without waiting');
  assert.equal(m.has('b'), false);
  const snap = m.snapshot();
  await w;
  assert.equal(m.get('a'), 2);
  assert.equal(m.get('b'), 3);
  assert.equal(snap.get('a'), 1, 'a snapshot is consistent forever');
  assert.equal(snap.size, 1);
  assert.equal(m.version, 1);
  assert.ok(snap instanceof MapSnapshot);
  assert.equal((snap as unknown as { set?: unknown }).set, undefined, 'a snapshot has no mutators');
});

test('CopyOnWriteMap: writers are serialized (no lost write); a failed update changes nothing', async () => {
  const m = new CopyOnWriteMap<string, number>();
  await Promise.all(Array.from({ length: 50 }, () => m.update(async (d) => {
    const v = d.get('n') ?? 0;
    await new Promise((r) => setImmediate(r));
    d.set('n', v + 1);
  })));
  assert.equal(m.get('n'), 50);
  assert.equal(m.version, 50);
  await assert.rejects(m.update((d) => {
    d.set('n', -1);
    throw new Error('nope');
  }), /nope/);
  assert.equal(m.get('n'), 50);
  assert.equal(m.version, 50);
  await m.set('x', 1);
  assert.equal(await m.delete('x'), true);
  assert.deepEqual([...m.keys()], ['n']);
});
