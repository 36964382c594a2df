import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createResultWriter, type Result, type RunInfo, type ShardInfo } from '../../src/results/index.js';
import { checkShardSet, loadShards, planId } from '../../src/metrics/index.js';
import { UsageError } from '../../src/errors.js';
import { parseChronyTracking } from '../../src/time/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

const T0 = 1_800_000_000_000_000_000n;

function shardInfo(index: number, count: number, over: { startAt?: string; perSec?: number; lagNs?: number } = {}): ShardInfo {
  const plan = { pacer: { kind: 'constant', perSec: over.perSec ?? 100 }, durationNs: 1e9, targets: 'abc', startAt: over.startAt ?? '2027-01-15T08:00:00Z' };
  return {
    index,
    count,
    plan: { id: planId(plan, count), ...plan },
    clock: { source: 'none', synchronized: null, offsetNs: null, maxErrorNs: null, detail: '', readyLeadNs: 5e6, startMissNs: 0, firstSendLagNs: over.lagNs ?? 100_000 },
  };
}

function runInfo(shard: ShardInfo | undefined): RunInfo {
  return {
    name: '', pacer: '100/1s', rate: 100, maxMode: false, duration: 1e9, targets: ['GET http://127.0.0.1:9/'], targetCount: 1,
    workers: 1, connections: 10, startedAt: T0, version: '0.1.0', ...(shard ? { shard } : {}),
  };
}

/** A results file of shard index/count of a 100/s, 1 s plan: requests i ≡ index (mod count), 5 ms each. */
async function writeShard(path: string, shard: ShardInfo | undefined): Promise<void> {
  const out = createWriteStream(path);
  const w = createResultWriter(out, 'binary');
  w.writeMeta({ info: runInfo(shard) });
  const k = shard?.index ?? 0;
  const n = shard?.count ?? 1;
  for (let i = k; i < 100; i += n) {
    const r: Result = {
      attack: '', seq: i, code: 200, timestamp: T0 + BigInt(i) * 10_000_000n, latency: 5e6 + i * 1000, sendLag: 50_000,
      bytesOut: 0, bytesIn: 2, error: '', body: null, method: 'GET', url: 'http://127.0.0.1:9/', headers: null,
    };
    w.write(r);
  }
  await w.close();
}

test('a shard set: missing and overlapping shards are warnings, the start skew a note; different plans a usage error', async () => {
  const set = checkShardSet([
    { name: 'a', info: runInfo(shardInfo(0, 4, { lagNs: 200_000 })) },
    { name: 'b', info: runInfo(shardInfo(2, 4, { lagNs: 3_200_000 })) },
    { name: 'c', info: runInfo(shardInfo(2, 4)) },
  ])!;
  assert.deepEqual(set.present, [0, 2]);
  assert.deepEqual(set.missing, [1, 3]);
  assert.deepEqual(set.duplicates, [{ index: 2, files: ['b', 'c'] }]);
  assert.equal(set.startSkewNs, 3_100_000);
  assert.equal(set.clockErrorNs, null);
  assert.equal(checkShardSet([{ name: 'x', info: runInfo(undefined) }]), null, 'no shards: an ordinary merge');
  assert.throws(() => checkShardSet([{ name: 'a', info: runInfo(shardInfo(0, 2)) }, { name: 'b', info: runInfo(shardInfo(1, 2, { startAt: '2027-01-15T08:00:01Z' })) }]), (e: Error) => e instanceof UsageError && /different plans \(start /.test(e.message));
  assert.throws(() => checkShardSet([{ name: 'a', info: runInfo(shardInfo(0, 2)) }, { name: 'b', info: runInfo(shardInfo(1, 4)) }]), /2 shards vs 4/);
  assert.throws(() => checkShardSet([{ name: 'a', info: runInfo(shardInfo(0, 2)) }, { name: 'b', info: runInfo(undefined) }]), /b is not a shard/);
});

test('report, compare and plot merge shard files exactly and refuse shards of different plans (one line, exit 2)', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const good = join(dir, 'good');
    mkdirSync(good);
    for (let k = 0; k < 3; k++) await writeShard(join(good, `shard-${k}.bin`), shardInfo(k, 3));
    const merged = await loadShards([good]);
    assert.equal(merged.metrics.requests, 100, 'the three shards are the whole plan');
    assert.equal(merged.metrics.latency.max, 5e6 + 99 * 1000);

    const rep = await runCli(['report', good], { timeoutMs: 30_000 });
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(rep.stdout.toString(), /Requests\s+\[total, rate, throughput\]\s+100, /);
    assert.match(rep.stdout.toString(), /Note: 3 of 3 shards of plan/);
    const json = await runCli(['report', '-type=json', good], { timeoutMs: 30_000 });
    assert.equal(json.code, 0, json.stderr);
    const shards = (JSON.parse(json.stdout.toString()) as { shards: Record<string, unknown> }).shards;
    assert.deepEqual({ ...shards, plan: undefined, start_at: undefined }, {
      plan: undefined, start_at: undefined, count: 3, present: [0, 1, 2], missing: [], duplicates: [], start_skew: 0, clock_error: null,
    });
    const partial = await runCli(['report', join(good, 'shard-0.bin'), join(good, 'shard-2.bin'), join(good, 'shard-2.bin')], { timeoutMs: 30_000 });
    assert.equal(partial.code, 0, partial.stderr);
    assert.match(partial.stdout.toString(), /Warning: shards missing: 1 of 3 absent \(1\/3\)/);
    assert.match(partial.stdout.toString(), /Warning: shards overlap: shard 2\/3 is in /);

    // Consecutive shard files of one plan are one run in plot (one timeline) and compare.
    const html = await runCli(['plot', ...[0, 1, 2].map((k) => join(good, `shard-${k}.bin`))], { timeoutMs: 30_000 });
    assert.equal(html.code, 0, html.stderr);
    assert.match(html.stdout.toString(), /3 of 3 shards of plan/);
    const other = join(dir, 'other');
    mkdirSync(other);
    for (let k = 0; k < 3; k++) await writeShard(join(other, `shard-${k}.bin`), shardInfo(k, 3, { startAt: '2027-01-15T09:00:00Z' }));
    const cmp = await runCli(['compare', good, other], { timeoutMs: 30_000 });
    assert.equal(cmp.code, 0, cmp.stderr);

    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    await writeShard(join(mixed, 'a.bin'), shardInfo(0, 2));
    await writeShard(join(mixed, 'b.bin'), shardInfo(1, 2, { perSec: 200 }));
    for (const args of [['report', mixed], ['compare', good, mixed], ['plot', mixed]]) {
      const r = await runCli(args, { timeoutMs: 30_000 });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^tailprobe: .*a\.bin and .*b\.bin are shards of different plans \(pacer .*\): their union is not one schedule\n$/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('attack: a shard outside 0..N-1, a -start-at in the past, -shard without -start-at: one line, exit 2', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const targets = join(dir, 't.txt');
    writeFileSync(targets, 'GET http://127.0.0.1:9/\n');
    const cases: Array<[string[], RegExp]> = [
      [['-shard=5/4', '-start-at=+10s'], /invalid -shard "5\/4": K must be 0\.\.N-1/],
      [['-shard=1/4', '-start-at=2020-01-01T00:00:00Z'], /-start-at 2020-01-01T00:00:00Z is in the past/],
      [['-shard=1/4'], /-shard needs -start-at/],
      [['-shard=x'], /invalid -shard "x"/],
      [['-start-at=tomorrow'], /invalid -start-at "tomorrow"/],
    ];
    for (const [extra, want] of cases) {
      const r = await runCli(['attack', `-targets=${targets}`, '-rate=10', '-duration=1s', ...extra], { timeoutMs: 30_000 });
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a shard reads its clock quality from chrony\'s tracking CSV', () => {
  const est = parseChronyTracking('A29FC87B,ntp1.example.com,3,1700000000.123,0.000012000,0.000001,0.00002,-1.234,0.001,0.01,0.002000,0.000500,64.4,Normal\n')!;
  assert.equal(est.source, 'chrony');
  assert.equal(est.synchronized, true);
  assert.equal(est.offsetNs, -12_000, 'chrony says the system clock is 12 µs slow: it is behind NTP time');
  assert.equal(est.maxErrorNs, 12_000 + 500_000 + 1_000_000);
  assert.equal(parseChronyTracking('A29FC87B,,0,0,0,0,0,0,0,0,0,0,0,Not synchronised')!.synchronized, false);
  assert.equal(parseChronyTracking('garbage'), null);
});
