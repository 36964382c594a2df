import { test } from 'node:test';
import assert from 'node:assert/strict';
import { breakdown, estimateClockOffset, explain, formatExplanation, ClientRequests, parseThreshold, type AgentCapture } from '../../src/explain/index.js';
import { EventIndex, subtract, clipMerge } from '../../src/explain/intervals.js';
import { traceIdOf } from '../../src/results/trace-id.js';
import type { Result, RunInfo } from '../../src/results/result.js';

const sum = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);
const none = { gc: new EventIndex([]), stalls: new EventIndex([]) };

test('clock offset: causality bounds recover a known offset, within the round trip of the fastest request', () => {
  const theta = 123_456_789; // agent clock ahead by ~123 ms
  const sent: number[] = [];
  const recv: number[] = [];
  const start: number[] = [];
  for (let i = 0; i < 200; i++) {
    const s = i * 1e6;
    const net = 20_000 + ((i * 7919) % 50) * 1000; // 20..70 µs each way
    const work = 100_000 + ((i * 104729) % 900) * 1000;
    sent.push(s);
    start.push(s + net + theta);
    recv.push(s + 2 * net + work);
  }
  const c = estimateClockOffset(sent, recv, start)!;
  assert.equal(c.consistent, true);
  assert.ok(Math.abs(c.offsetNs - theta) <= c.uncertaintyNs, `${c.offsetNs} ± ${c.uncertaintyNs}`);
  // Bounded by the fastest request each way: in at 20 µs, answered 20 µs + 100 µs of work + 20 µs after.
  assert.ok(c.uncertaintyNs <= 80_000, `uncertainty ${c.uncertaintyNs}`);
  // A record that contradicts the others makes the bounds cross: said, and the median used.
  start[5] = sent[5]! + theta - 5e6;
  const bad = estimateClockOffset(sent, recv, start)!;
  assert.equal(bad.consistent, false);
  assert.ok(Math.abs(bad.offsetNs - theta) < 1e6);
  assert.equal(estimateClockOffset([], [], []), null);
});

test('intervals: subtract and merge count every instant once', () => {
  assert.deepEqual(clipMerge([[5, 10], [0, 3], [2, 6], [20, 30]], 1, 25), [[1, 10], [20, 25]]);
  assert.deepEqual(subtract([[0, 10], [20, 30]], [[2, 4], [8, 22], [25, 26]]), [[0, 2], [4, 8], [22, 25], [26, 30]]);
  const idx = new EventIndex([{ start: 0, end: 100 }, { start: 50, end: 60 }, { start: 200, end: 210 }]);
  assert.deepEqual([...idx.overlapping(90, 205)].map((e) => e.start), [0, 200]);
  // Given out of order (a capture built by hand, not read by readCapture), the index sorts them.
  const unsorted = new EventIndex([{ start: 300, end: 310 }, { start: 0, end: 100 }, { start: 50, end: 60 }]);
  assert.deepEqual([...unsorted.overlapping(90, 95)].map((e) => e.start), [0]);
  assert.deepEqual([...unsorted.overlapping(55, 305)].map((e) => e.start), [0, 50, 300]);
});

test('breakdown: the parts add up to the latency, GC before stall before lock, and the rest is said as unexplained', () => {
  const gc = new EventIndex([{ start: 2_000, end: 5_000, label: 'scavenge' }]);
  const stalls = new EventIndex([{ start: 4_000, end: 8_000, label: '' }]);
  const b = breakdown(
    {
      intended: 0,
      sent: 1_000, // 1 µs late
      received: 20_000,
      server: { start: 3_000, end: 18_000, waits: [{ start: 7_000, end: 12_000, label: 'table' }] },
    },
    { gc, stalls },
  );
  assert.equal(sum(b), 20_000);
  assert.equal(b.get('generator'), 1_000);
  assert.equal(b.get('gc:scavenge'), 3_000); // 2..5 (before and in the handler)
  assert.equal(b.get('stall'), 3_000); // 5..8, the part GC does not explain
  assert.equal(b.get('lock:table'), 4_000); // 8..12
  assert.equal(b.get('queue'), 1_000); // 1..3 minus the GC part 2..3
  assert.equal(b.get('unexplained'), 6_000); // 12..18
  assert.equal(b.get('after'), 2_000);
  const unrecorded = breakdown({ intended: 0, sent: 500, received: 9_000, server: null }, none);
  assert.deepEqual([...unrecorded.entries()], [['generator', 500], ['unrecorded', 8_500]]);
});

test('parseThreshold reads percentiles and latencies, and refuses anything else in one line', () => {
  assert.deepEqual(parseThreshold('p99'), { percentile: 99 });
  assert.deepEqual(parseThreshold('p(99.9)'), { percentile: 99.9 });
  assert.deepEqual(parseThreshold('50ms'), { latencyNs: 50e6 });
  assert.throws(() => parseThreshold('p100'), /between 0 and 100/);
  assert.throws(() => parseThreshold('slow'), /percentile \(p99, p99.9\) or a latency/);
});

/** A synthetic attack of 1000 requests at 1 ms spacing; every 100th waits 40 ms on a lock, a GC pause hits another few. */
function synthetic(offset: bigint) {
  const id = 'abcdef0123456789';
  const base = 1_700_000_000_000_000_000n;
  const info: RunInfo = { name: '', pacer: '1000/1s', rate: 1000, maxMode: false, duration: 1e9, targets: [], targetCount: 1, workers: 1, connections: 1, startedAt: base, version: 'test', id, traceparent: true };
  const client = new ClientRequests(base);
  const requests: NonNullable<AgentCapture['requests']> = [];
  const gcAt = 500_500_000; // a 30 ms GC pause from 500.5 ms
  const truth = new Map<number, string>();
  for (let i = 0; i < 1000; i++) {
    const t = i * 1e6;
    let work = 1e6;
    const start = t + 100_000;
    // Requests arriving during the GC pause wait for it to end.
    const begin = start >= gcAt && start < gcAt + 30e6 ? gcAt + 30e6 : start;
    const waits = [];
    if (i % 100 === 7) {
      waits.push({ lock: 'table', mode: 'write' as const, site: 'lookup (service.ts:10)', start: base + offset + BigInt(begin), duration: 40e6 });
      work += 40e6;
    }
    const end = begin + work;
    if (waits.length) truth.set(i, 'lock:table');
    else if (begin !== start) truth.set(i, 'gc:mark-sweep-compact');
    const r: Result = { attack: '', seq: i, code: 200, timestamp: base + BigInt(t), latency: end + 100_000 - t, sendLag: 50_000, bytesOut: 0, bytesIn: 10, error: '', body: null, method: 'GET', url: 'http://x/', headers: null };
    client.add(r);
    requests.push({ trace: traceIdOf(id, i), parent: '', start: base + offset + BigInt(Math.round(begin)), end: base + offset + BigInt(Math.round(end)), method: 'GET', path: '/', status: 200, bytes: 10, waits });
  }
  const capture: AgentCapture = {
    agent: 'node/test', url: 'http://agent', features: [], since: base, until: base + 2_000_000_000n,
    requests, requestsDropped: 0,
    gc: [{ start: base + offset + BigInt(gcAt), duration: 30e6, kind: 'mark-sweep-compact' }],
    stalls: [{ start: base + offset + BigInt(gcAt), duration: 30e6, kind: '' }],
    cpu: null,
  };
  return { client, info, capture, truth };
}

test('explain: on a run with known causes, the slow requests are attributed to them, whatever the agent clock offset', () => {
  for (const offset of [0n, 2_500_000_000n, -750_000_000n]) {
    const { client, info, capture, truth } = synthetic(offset);
    const e = explain(client, info, capture, { above: { latencyNs: 10e6 }, slowest: 1000 });
    // Slow: the 10 lock waiters, and those that waited more than 10 ms for the pause to end.
    const slowTruth = [...truth].filter(([seq]) => client.latency[seq]! > 10e6);
    assert.equal(e.slow, slowTruth.length, `offset ${offset}`);
    assert.equal(e.slowest.length, e.slow);
    for (const s of e.slowest) assert.equal(s.cause, truth.get(s.seq), `seq ${s.seq}`);
    assert.equal(e.matched, 1000);
    assert.ok(e.clock!.consistent);
    assert.ok(Math.abs(e.clock!.offsetNs - Number(offset)) <= e.clock!.uncertaintyNs + 1, `offset ${e.clock!.offsetNs} vs ${offset}`);
    const byKey = new Map(e.causes.map((c) => [c.key, c]));
    assert.equal(byKey.get('lock:table')?.requests, 10);
    assert.equal(byKey.get('gc:mark-sweep-compact')?.requests, slowTruth.length - 10, 'the GC explains the stall it caused');
    assert.equal(byKey.get('stall'), undefined);
    assert.deepEqual(new Set(e.verdict.causes), new Set(['lock:table', 'gc:mark-sweep-compact']));
    assert.equal(e.lockSites[0]?.site, 'lookup (service.ts:10)');
    assert.equal(e.slowest[0]!.traceId, traceIdOf(info.id!, e.slowest[0]!.seq));
  }
});

test('explain: a slow request with no part above its typical value is put on its largest part, not on the first one', () => {
  // Every request alike (2 ms, sent 50 µs late) and all of them "slow": nothing has excess, and the
  // generator's 50 µs, listed first, must not become the cause of the tail.
  const base = 1_700_000_000_000_000_000n;
  const info: RunInfo = { name: '', pacer: '100/1s', rate: 100, maxMode: false, duration: 1e9, targets: [], targetCount: 1, workers: 1, connections: 1, startedAt: base, version: 'test', id: 'abcdef0123456789', traceparent: true };
  const client = new ClientRequests(base);
  for (let i = 0; i < 100; i++) {
    client.add({ attack: '', seq: i, code: 200, timestamp: base + BigInt(i * 1e7), latency: 2e6, sendLag: 50_000, bytesOut: 0, bytesIn: 10, error: '', body: null, method: 'GET', url: 'http://x/', headers: null });
  }
  const e = explain(client, info, null, { above: { latencyNs: 1e6 } });
  assert.equal(e.slow, 100);
  assert.equal(e.causes.find((c) => c.key === 'generator')?.requests ?? 0, 0);
  assert.equal(e.causes.find((c) => c.key === 'unrecorded')?.requests, 100);
});

test('explain: counts the slow requests whose client gave up before the response, and says so', () => {
  const { client, info, capture } = synthetic(0n);
  const marked = { ...capture, requests: capture.requests!.map((r, i) => (i % 100 === 7 ? { ...r, aborted: true as const } : r)) };
  const e = explain(client, info, marked, { above: { latencyNs: 10e6 } });
  assert.equal(e.abortedSlow, 10, 'the ten lock waiters');
  assert.match(formatExplanation(e), /clients gave up on 10 of the slow requests before the response finished/);
  const plain = explain(client, info, capture, { above: { latencyNs: 10e6 } });
  assert.equal(plain.abortedSlow, 0);
  assert.doesNotMatch(formatExplanation(plain), /gave up/);
});

test('explain: without records it says what it cannot attribute; results without ids are refused', () => {
  const { client, info } = synthetic(0n);
  const e = explain(client, info, null, { above: { latencyNs: 10e6 } });
  assert.equal(e.matched, 0);
  assert.equal(e.causes[0]!.key, 'unrecorded');
  assert.match(e.limits.join('\n'), /no agent records/);
  assert.match(e.verdict.text, /No mechanism dominates/);
  assert.throws(() => explain(client, { ...info, id: undefined }, null), /carry no request ids/);
  const { capture } = synthetic(0n);
  const other = { ...capture, requests: capture.requests!.map((r) => ({ ...r, trace: traceIdOf('1111111111111111', 1) })) };
  assert.throws(() => explain(client, info, other), /name none of this attack's requests/);
});
