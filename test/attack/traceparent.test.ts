import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createH2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { attack } from '../../src/attack/index.js';
import { constantPacer } from '../../src/pacer/index.js';
import { parseTargets } from '../../src/targets/index.js';
import { parseTraceparent, seqOfTraceId, traceIdOf, traceparentOf } from '../../src/results/trace-id.js';
import type { Result } from '../../src/results/result.js';
import { listen } from '../helpers/servers.js';

/** The server answers each request with the traceparent it received; results keep the body. */
async function echoTraceparent() {
  const seen: string[] = [];
  const srv = await listen((req, res) => {
    const v = req.headers.traceparent;
    const one = Array.isArray(v) ? v.join(',') : (v ?? '');
    seen.push(one);
    res.end(one);
  });
  return { ...srv, seen };
}

function bodies(results: Result[]): Map<number, string> {
  return new Map(results.map((r) => [r.seq, Buffer.from(r.body ?? new Uint8Array()).toString('latin1')]));
}

test('every request carries a traceparent made of the attack id and its seq, and the result names it', async () => {
  const srv = await echoTraceparent();
  try {
    const results: Result[] = [];
    const out = await attack(
      { targets: parseTargets(`GET ${srv.url}/a\n\nGET ${srv.url}/b\n`, 'http'), pacer: constantPacer(400), durationNs: 250e6, workers: 1, maxBody: -1 },
      (r) => results.push(r),
    );
    assert.equal(results.length, 100);
    assert.match(out.info.id ?? '', /^[0-9a-f]{16}$/);
    assert.equal(out.info.traceparent, true);
    for (const [seq, got] of bodies(results)) {
      assert.equal(got, traceparentOf(out.info.id!, seq), `seq ${seq}`);
      const tp = parseTraceparent(got)!;
      assert.equal(tp.traceId, traceIdOf(out.info.id!, seq));
      assert.equal(seqOfTraceId(tp.traceId, out.info.id!), seq);
      assert.equal(tp.flags & 1, 1, 'sampled');
    }
    // Two attacks never share an id.
    const again = await attack({ targets: parseTargets(`GET ${srv.url}/\n`, 'http'), pacer: constantPacer(100), durationNs: 30e6, workers: 1 });
    assert.notEqual(again.info.id, out.info.id);
  } finally {
    await srv.close();
  }
});

test('workers share one attack id: every seq of the one schedule has its own trace id', async () => {
  const srv = await echoTraceparent();
  try {
    const results: Result[] = [];
    const out = await attack(
      { targets: parseTargets(`GET ${srv.url}/\n`, 'http'), pacer: constantPacer(400), durationNs: 250e6, workers: 2, maxBody: -1 },
      (r) => results.push(r),
    );
    assert.equal(results.length, 100);
    const b = bodies(results);
    assert.deepEqual([...b.keys()].sort((x, y) => x - y), [...Array(100).keys()]);
    for (const [seq, got] of b) assert.equal(got, traceparentOf(out.info.id!, seq));
  } finally {
    await srv.close();
  }
});

test("a target's own traceparent is sent as given, and -traceparent=false sends none", async () => {
  const srv = await echoTraceparent();
  const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  try {
    const mine: Result[] = [];
    await attack(
      { targets: parseTargets(`GET ${srv.url}/\nTraceParent: ${own}\n`, 'http'), pacer: constantPacer(200), durationNs: 50e6, workers: 1, maxBody: -1 },
      (r) => mine.push(r),
    );
    assert.ok(mine.length > 0);
    for (const got of bodies(mine).values()) assert.equal(got, own);
    const none: Result[] = [];
    const off = await attack(
      { targets: parseTargets(`GET ${srv.url}/\n`, 'http'), pacer: constantPacer(200), durationNs: 50e6, workers: 1, maxBody: -1, traceparent: false },
      (r) => none.push(r),
    );
    assert.equal(off.info.traceparent, false);
    for (const got of bodies(none).values()) assert.equal(got, '');
  } finally {
    await srv.close();
  }
});

test('through undici (h2c) the header is the same', async () => {
  const server = createH2Server();
  server.on('request', (req, res) => res.end(String(req.headers.traceparent ?? '')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sessions = new Set<{ destroy(): void }>();
  server.on('session', (s) => sessions.add(s));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const results: Result[] = [];
    const out = await attack({ targets: parseTargets(`GET ${url}\n`, 'http'), pacer: constantPacer(200), durationNs: 100e6, workers: 1, h2c: true, maxBody: -1 }, (r) => results.push(r));
    assert.equal(results.length, 20);
    for (const [seq, got] of bodies(results)) assert.equal(got, traceparentOf(out.info.id!, seq));
  } finally {
    for (const s of sessions) s.destroy();
    server.close();
  }
});

test('parseTraceparent follows the W3C rules a receiver must apply', () => {
  assert.deepEqual(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    parentId: '00f067aa0ba902b7',
    flags: 1,
  });
  assert.equal(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'), null, 'all-zero trace id');
  assert.equal(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'), null, 'all-zero parent id');
  assert.equal(parseTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), null, 'version ff');
  assert.equal(parseTraceparent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'), null, 'upper-case hex');
  assert.equal(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra'), null, 'v00 with more');
  assert.ok(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra'), 'a later version may carry more');
  assert.equal(parseTraceparent(undefined), null);
  assert.equal(seqOfTraceId(traceIdOf('0123456789abcdef', 2 ** 40 + 7), '0123456789abcdef'), 2 ** 40 + 7);
  assert.equal(seqOfTraceId(traceIdOf('0123456789abcdef', 5), 'fedcba9876543210'), null);
});

test('the shards of one run share an attack id (so their trace ids are one attack\'s), and another run gets another', async () => {
  const { resolveOptions } = await import('../../src/attack/options.js');
  const targets = parseTargets('GET http://127.0.0.1:1/\n', 'http');
  const startAtNs = BigInt(Date.now() + 60_000) * 1_000_000n;
  const of = (index: number, at = startAtNs) => resolveOptions({ targets, pacer: constantPacer(100), durationNs: 1e9, shard: { index, count: 4 }, startAtNs: at, signal: new AbortController().signal }).attackId;
  assert.equal(of(0), of(3));
  assert.notEqual(of(0), of(0, startAtNs + 1_000_000_000n));
  const single = () => resolveOptions({ targets, pacer: constantPacer(100), durationNs: 1e9 }).attackId;
  assert.notEqual(single(), single(), 'a run that is not a shard gets a random id');
});
