import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { LookupTable, keyOf, type Entry, type LockKind } from '../../examples/lookup/table.js';
import { PooledRenderer, renderFresh, type AllocKind } from '../../examples/lookup/render.js';
import { startLookupService, queryKey } from '../../examples/lookup/service.js';
import { parseReadyLine } from '../../src/demo/service.js';
import { REPO_ROOT } from '../helpers/paths.js';

/**
 * The lookup service on its own: correct responses with every switch, the pool never leaking a
 * previous response's bytes, and the two lock strategies behaving as the story says (a Mutex
 * serialises readers; an RWMutex lets them share the lock).
 */

const SERVER_JS = join(REPO_ROOT, 'dist', 'examples', 'lookup', 'server.js');

/** The response format, spelled out independently of both renderers. */
function expectedBody(table: LookupTable, key: string): string {
  const e = table.peek(key)!;
  const iso = (ms: number) => new Date(ms).toISOString();
  const val = (v: number) => (v / 1000).toFixed(3);
  return JSON.stringify({
    key: e.key,
    name: e.name,
    version: e.version,
    tags: e.tags,
    attrs: { region: e.attrs.region, tier: e.attrs.tier, owner: e.attrs.owner },
    history: e.history.map((h) => ({ at: iso(h.t), value: val(h.v) })),
    related: e.related
      .map((k) => table.peek(k)!)
      .map((r: Entry) => ({ key: r.key, name: r.name, tier: r.attrs.tier, at: iso(r.history.at(-1)!.t), value: val(r.history.at(-1)!.v) })),
  });
}

function get(url: string, agent?: import('node:http').Agent): Promise<{ status: number; body: string; length: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, body: body.toString('latin1'), length: Number(res.headers['content-length'] ?? -1) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

for (const alloc of ['fresh', 'pool'] as AllocKind[]) {
  for (const lock of ['mutex', 'rwmutex'] as LockKind[]) {
    test(`lookup service (alloc=${alloc}, lock=${lock}) answers correctly, concurrently`, { timeout: 60_000 }, async () => {
      const svc = await startLookupService({ alloc, lock, entries: 3000, refreshMs: 0, bufferSize: 64 * 1024, popularEvery: 0 });
      const { Agent } = await import('node:http');
      const agent = new Agent({ keepAlive: true, maxSockets: 32 });
      try {
        const one = await get(`${svc.url}/api/lookup?key=k0000042`);
        assert.equal(one.status, 200);
        assert.equal(one.body, expectedBody(svc.table, 'k0000042'));
        assert.equal(one.length, Buffer.byteLength(one.body, 'latin1'));
        assert.equal((await get(`${svc.url}/api/lookup?key=nope`)).status, 404);
        assert.equal((await get(`${svc.url}/api/lookup`)).status, 400);
        assert.equal((await get(`${svc.url}/api/lookup?other=1&key=k0000007`)).body, expectedBody(svc.table, 'k0000007'));
        assert.equal((await get(`${svc.url}/healthz`)).status, 200);
        assert.equal((await get(`${svc.url}/elsewhere`)).status, 404);
        // Many requests at once over a few keep-alive connections: each body is exactly its own
        // response (with the pool, a buffer handed back too early would show up here as another
        // response's bytes, or as a body of the wrong length).
        const keys = Array.from({ length: 400 }, (_, i) => keyOf((i * 7919) % 3000));
        const got = await Promise.all(keys.map((k) => get(`${svc.url}/api/lookup?key=${k}`, agent)));
        got.forEach((r, i) => {
          assert.equal(r.status, 200);
          assert.equal(r.body, expectedBody(svc.table, keys[i]!), `response for ${keys[i]}`);
          assert.equal(r.length, r.body.length);
        });
        assert.equal(svc.stats.ok, 400 + 2);
      } finally {
        agent.destroy();
        await svc.close();
      }
    });
  }
}

test('pooled rendering reuses buffers and never leaks the previous tenant\'s bytes', async () => {
  const table = new LookupTable({ entries: 2000, lock: 'mutex', popularEvery: 0 });
  const pooled = new PooledRenderer(64 * 1024, 4);
  // Find a long and a short response.
  const views = await Promise.all(Array.from({ length: 200 }, (_, i) => table.lookup(keyOf(i))));
  const sized = views.map((v) => ({ v: v!, n: renderFresh(v!, 64 * 1024).body.length })).sort((a, b) => a.n - b.n);
  const short = sized[0]!;
  const long = sized[sized.length - 1]!;
  assert.ok(long.n > short.n + 20, `${long.n} vs ${short.n}`);
  const first = pooled.render(long.v);
  const firstBuffer = first.body.buffer;
  assert.equal(first.body.toString('latin1'), renderFresh(long.v, 64 * 1024).body.toString('latin1'));
  first.release();
  const second = pooled.render(short.v);
  assert.equal(second.body.buffer, firstBuffer, 'the pool handed the same buffer back');
  assert.equal(second.body.length, short.n);
  assert.equal(second.body.toString('latin1'), renderFresh(short.v, 64 * 1024).body.toString('latin1'));
  // Nothing of the long response survives past the short one's end, not even in the unused tail.
  const whole = Buffer.from(second.body.buffer, second.body.byteOffset, 64 * 1024);
  assert.ok(whole.subarray(short.n).every((b) => b === 0), 'bytes after the response are zero');
  second.release();
  assert.ok(pooled.pool.stats().hits >= 1);
  // A buffer still out is never handed to someone else.
  const a = pooled.render(short.v);
  const b = pooled.render(short.v);
  assert.notEqual(a.body.buffer, b.body.buffer);
  a.release();
  b.release();
});

test('pool: a buffer still queued on a slow socket is never reused under it', { timeout: 60_000 }, async () => {
  const { connect } = await import('node:net');
  const svc = await startLookupService({ alloc: 'pool', lock: 'rwmutex', entries: 3000, refreshMs: 0, bufferSize: 16 * 1024, popularEvery: 0 });
  try {
    const port = svc.port;
    // A client that sends many pipelined requests and does not read: the server's writes back up
    // (kernel buffers full, then Node's own), with pooled buffers queued on that socket.
    const keys = Array.from({ length: 6000 }, (_, i) => keyOf((i * 31) % 3000));
    const slow = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    slow.pause();
    const chunks: Buffer[] = [];
    slow.on('data', (d: Buffer) => chunks.push(d));
    slow.write(keys.map((k) => `GET /api/lookup?key=${k} HTTP/1.1\r\nHost: t\r\n\r\n`).join(''));
    await new Promise((r) => setTimeout(r, 500));
    // Meanwhile other clients keep the pool busy: a buffer handed back too early would be taken
    // (and zeroed, and rewritten) by one of these.
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => get(`${svc.url}/api/lookup?key=${keyOf(i * 13 + round)}`)));
    }
    // Read everything: done when the last response has arrived.
    let seen = 0;
    let carry = '';
    const all = new Promise<void>((resolve) => {
      const count = (d?: Buffer) => {
        const text = carry + (d ? d.toString('latin1') : '');
        for (let i = text.indexOf('HTTP/1.1 '); i >= 0; i = text.indexOf('HTTP/1.1 ', i + 1)) seen++;
        carry = text.slice(-8); // a status line split across chunks is counted once, in the next one
        if (seen >= keys.length) resolve();
      };
      slow.on('data', count);
      for (const c of chunks) count(c);
    });
    slow.resume();
    await all;
    slow.destroy();
    const raw = Buffer.concat(chunks).toString('latin1');
    let at = 0;
    let n = 0;
    while (at < raw.length) {
      const head = raw.indexOf('\r\n\r\n', at);
      assert.ok(head > 0, `response ${n}: headers`);
      const len = Number(/content-length: (\d+)/i.exec(raw.slice(at, head))![1]);
      const body = raw.slice(head + 4, head + 4 + len);
      assert.equal(body, expectedBody(svc.table, keys[n]!), `pipelined response ${n} (${keys[n]})`);
      at = head + 4 + len;
      n++;
    }
    assert.equal(n, keys.length);
    assert.ok(svc.stats.ok >= keys.length + 250);
  } finally {
    await svc.close();
  }
});

test('both renderers produce identical bytes, including awkward dates and values', async () => {
  const table = new LookupTable({ entries: 500, lock: 'rwmutex', popularEvery: 0 });
  const pooled = new PooledRenderer(64 * 1024);
  for (let i = 0; i < 500; i += 3) {
    const v = (await table.lookup(keyOf(i)))!;
    const r = pooled.render(v);
    assert.equal(r.body.toString('latin1'), renderFresh(v, 64 * 1024).body.toString('latin1'));
    r.release();
  }
  const e = table.peek(keyOf(1))!;
  const cases: Array<[number, number]> = [
    [0, 0],
    [951_782_400_000, 5], // 2000-02-29
    [1_709_251_199_999, 999], // 2024-02-29T23:59:59.999Z
    [4_102_444_799_999, 1_000], // 2099-12-31T23:59:59.999Z
    [86_399_999, 999_999],
    [253_402_300_799_999, 1_005], // 9999-12-31T23:59:59.999Z
  ];
  for (const [t, v] of cases) {
    e.history[0] = { t, v };
    const view = { entry: e, related: [] };
    const r = pooled.render(view);
    assert.equal(r.body.toString('latin1'), renderFresh(view, 64 * 1024).body.toString('latin1'), `t=${t} v=${v}`);
    r.release();
  }
});

/** Counts turns of the event loop (one setImmediate a turn) until stopped. */
function turnCounter(): { readonly turns: number; stop(): void } {
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turns() {
      return turns;
    },
    stop: () => void (ticking = false),
  };
}

/** Runs `n` lookups at once and counts the event-loop turns until all are done. */
async function turnsFor(lock: LockKind, n: number): Promise<{ turns: number; order: number[] }> {
  const table = new LookupTable({ entries: 1000, lock, related: 8, chunks: 4, popularEvery: 0 });
  const counter = turnCounter();
  const order: number[] = [];
  await Promise.all(Array.from({ length: n }, (_, i) => table.lookup(keyOf(i)).then(() => order.push(i))));
  counter.stop();
  return { turns: counter.turns, order };
}

test('Mutex: readers queue, one at a time, in order; RWMutex: readers share the lock', async () => {
  const n = 10;
  const perRead = (1 + 8) * 4; // the entry, then each related entry, 4 pieces each, one loop turn per piece
  const m = await turnsFor('mutex', n);
  assert.deepEqual(m.order, [...Array(n).keys()], 'FIFO');
  assert.ok(m.turns >= n * perRead, `mutex: ${m.turns} turns for ${n} reads`);
  const rw = await turnsFor('rwmutex', n);
  assert.ok(rw.turns < 2 * perRead + 3, `rwmutex: ${rw.turns} turns for ${n} reads`);
});

test('popular entries: a Mutex makes everybody wait for their long read; an RWMutex does not', async () => {
  const chunks = 2;
  const opts = { entries: 1000, related: 4, chunks, popularEvery: 100, popularRelated: 200 };
  const probe = new LookupTable(opts);
  assert.equal(probe.peek(keyOf(300))!.related.length, 200, 'every 100th entry is popular');
  assert.equal(probe.peek(keyOf(301))!.related.length, 4);
  assert.ok(probe.isPopular(0) && probe.isPopular(900) && !probe.isPopular(901));
  const popularTurns = (1 + 200) * chunks;
  for (const lock of ['mutex', 'rwmutex'] as LockKind[]) {
    const table = new LookupTable({ ...opts, lock });
    const counter = turnCounter();
    const popular = table.lookup(keyOf(300));
    // An ordinary lookup asked for just after the popular one.
    const ordinary = await table.lookup(keyOf(301)).then((v) => ({ v, turns: counter.turns }));
    const big = await popular;
    counter.stop();
    assert.equal(big!.related.length, 200);
    assert.equal(ordinary.v!.related.length, 4);
    if (lock === 'mutex') assert.ok(ordinary.turns >= popularTurns, `mutex: the ordinary read waited (${ordinary.turns} turns)`);
    else assert.ok(ordinary.turns < 2 * (1 + 4) * chunks + 3, `rwmutex: the ordinary read did not wait (${ordinary.turns} turns)`);
  }
});

test('the writer replaces entries under the exclusive lock; readers see whole entries', async () => {
  for (const lock of ['mutex', 'rwmutex'] as LockKind[]) {
    const table = new LookupTable({ entries: 1000, lock });
    const reads = Array.from({ length: 50 }, (_, i) => table.lookup(keyOf(i)));
    const write = table.refresh(200);
    const more = Array.from({ length: 50 }, (_, i) => table.lookup(keyOf(i)));
    const views = await Promise.all([...reads, ...more]);
    await write;
    assert.equal(table.generation, 1);
    for (const v of views) assert.equal(v!.related.length, v!.entry.related.length);
    let replaced = 0;
    for (let i = 0; i < 1000; i++) if (table.peek(keyOf(i))!.version === 1) replaced++;
    assert.ok(replaced > 100 && replaced <= 200, `${replaced} replaced`);
  }
});

test('queryKey finds key= among other parameters', () => {
  assert.equal(queryKey('/api/lookup?key=k1'), 'k1');
  assert.equal(queryKey('/api/lookup?a=1&key=k2&b=2'), 'k2');
  assert.equal(queryKey('/api/lookup?monkey=x&key=k3'), 'k3');
  assert.equal(queryKey('/api/lookup?monkey=x'), '');
  assert.equal(queryKey('/api/lookup'), '');
});

test('server.js: flags and LOOKUP_* variables, the ready line, the agent, SIGTERM', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, [SERVER_JS, '--port=0', '--entries=2000', '-lock=rwmutex', '--pprof=0'], {
    env: { ...process.env, LOOKUP_ALLOC: 'pool', LOOKUP_LOCK: 'mutex' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const ready = await new Promise<Record<string, string>>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const r = out.split('\n').map(parseReadyLine).find((x) => x !== null);
        if (r) resolve(r);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    assert.equal(ready.alloc, 'pool', 'from LOOKUP_ALLOC');
    assert.equal(ready.lock, 'rwmutex', 'the flag wins over LOOKUP_LOCK');
    assert.equal(ready.entries, '2000');
    assert.match(ready.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(ready.pprof!, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await get(`${ready.url}/api/lookup?key=k0000001`);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).key, 'k0000001');
    const block = await get(`${ready.pprof}/debug/pprof/`);
    assert.equal(block.status, 200);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('server.js: a bad switch is a one-line usage error, exit 2', { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, [SERVER_JS, '--alloc=arena'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(code, 2);
  assert.match(err.split('\n')[0]!, /^lookup: invalid --alloc "arena": expected fresh or pool$/);
});
