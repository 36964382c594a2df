import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  constantPacer, linearPacer, sinePacer, pacerFromSpec, countBefore, shareOf, shareSchedule, shardCount, checkShard, type Pacer,
} from '../../src/pacer/index.js';
import { UsageError } from '../../src/errors.js';

/**
 * The union of N shards' intended send times (each shard rebuilding the pacer from its spec, as a
 * separate process does) must be the one-generator schedule bit for bit: every request once, at
 * the same offset, compared with ===, not within a tolerance.
 */
function assertUnionIsSchedule(p: Pacer, durationNs: number, n: number, workers = 1): void {
  const total = countBefore(p, durationNs);
  const union = new Array<number | undefined>(total);
  let count = 0;
  for (let k = 0; k < n; k++) {
    const q = pacerFromSpec(p.spec!);
    let inShard = 0;
    for (let w = 0; w < workers; w++) {
      for (const [i, off] of shareSchedule(q, durationNs, shareOf({ index: k, count: n }, w, workers))) {
        assert.equal(i % n, k, `shard ${k}/${n} sends only i ≡ ${k} (mod ${n})`);
        assert.equal(union[i], undefined, `request ${i} sent by two shards (N=${n})`);
        union[i] = off;
        count++;
        inShard++;
      }
    }
    assert.equal(inShard, shardCount(total, { index: k, count: n }), `shard ${k}/${n}'s planned size`);
  }
  assert.equal(count, total, `N=${n}: every request of the schedule is sent`);
  for (let i = 0; i < total; i++) assert.ok(union[i] === p.offsetOf(i), `N=${n}: offset of request ${i} is the single schedule's`);
}

test('the union of N shards is the single schedule, bit for bit, for constant, ramp and sine pacers, N = 1..16', () => {
  const pacers: Array<[Pacer, number]> = [
    [constantPacer(400), 5e9],
    [constantPacer(333.3), 3e9],
    [linearPacer(100, 2000, 4e9), 4e9],
    [sinePacer(800, 300, 2e9), 3e9],
  ];
  for (const [p, d] of pacers) for (let n = 1; n <= 16; n++) assertUnionIsSchedule(p, d, n);
});

test('worker threads inside each shard keep the union exact', () => {
  for (const workers of [2, 3]) {
    assertUnionIsSchedule(constantPacer(500), 2e9, 4, workers);
    assertUnionIsSchedule(linearPacer(50, 900, 2e9), 2e9, 5, workers);
    assertUnionIsSchedule(sinePacer(600, 200, 1e9), 2e9, 3, workers);
  }
});

test('a shard outside 0..N-1 is a usage error', () => {
  assert.throws(() => checkShard({ index: 5, count: 4 }), UsageError);
  assert.throws(() => checkShard({ index: 0, count: 0 }), UsageError);
  assert.throws(() => checkShard({ index: -1, count: 2 }), UsageError);
  assert.deepEqual(checkShard({ index: 3, count: 4 }), { index: 3, count: 4 });
});
