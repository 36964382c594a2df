import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { attack } from '../../src/attack/index.js';
import { constantPacer } from '../../src/pacer/index.js';
import { parseTargets } from '../../src/targets/index.js';
import type { Result } from '../../src/results/result.js';
import { listen } from '../helpers/servers.js';

/**
 * Faults: each failure is a result with an error text, and the attack goes on. Loads are tiny
 * (tens of requests); nothing here depends on the machine's speed.
 */

async function run(url: string, opts: Parameters<typeof attack>[0] extends infer O ? Partial<O> : never = {}) {
  const results: Result[] = [];
  const out = await attack(
    { targets: parseTargets(`GET ${url}\n`, 'http'), pacer: constantPacer(50), durationNs: 400e6, timeoutNs: 2e9, workers: 1, ...opts },
    (r) => results.push(r),
  );
  return { ...out, results };
}

function netServer(onConnection: (s: Socket) => void) {
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s);
  });
  return new Promise<{ url: string; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

test('connection refused: every request is a result with the connect error', async () => {
  const { results, metrics } = await run('http://127.0.0.1:1/');
  assert.equal(results.length, 20);
  for (const r of results) {
    assert.equal(r.code, 0);
    assert.equal(r.error, 'connect ECONNREFUSED 127.0.0.1:1');
  }
  assert.equal(metrics.success, 0);
  assert.deepEqual([...metrics.errors], [['connect ECONNREFUSED 127.0.0.1:1', 20]]);
});

test('hanging server: requests time out at -timeout, and the attack keeps its schedule', async () => {
  const srv = await listen(() => {
    /* never answers */
  });
  try {
    const { results, metrics } = await run(srv.url, { timeoutNs: 300e6 });
    assert.equal(results.length, 20);
    for (const r of results) {
      assert.equal(r.error, 'timeout');
      assert.equal(r.code, 0);
      // from the intended send time: at least the timeout, and not wildly more
      assert.ok(r.latency >= 300e6 && r.latency < 2e9, `latency ${r.latency}`);
    }
    // the schedule was kept: 20 requests 20 ms apart, whatever the server did
    const ts = results.map((r) => r.timestamp).sort((a, b) => (a < b ? -1 : 1));
    assert.equal(Number(ts[19]! - ts[0]!), 19 * 20e6);
    assert.equal(metrics.errors.get('timeout'), 20);
  } finally {
    await srv.close();
  }
});

test('a server that hangs every other request: on-time requests dial rather than queue behind late ones', async () => {
  let n = 0;
  const srv = await listen((_req, res) => {
    if (n++ % 2 === 0) res.end('ok'); // the odd ones hang until the timeout
  });
  try {
    // A hung connection frees only at the 1 s timeout. Before the fix a request that was already
    // late sat at the head of the wait queue and held every on-time request behind it for that
    // second; the send lag showed it (p99 ~1 s). Dialling on the credit of any on-time waiter
    // keeps the lag to the cost of a dial.
    const { results, metrics } = await run(srv.url, { pacer: constantPacer(100), durationNs: 1.5e9, timeoutNs: 1e9 });
    assert.equal(results.length, 150);
    assert.equal(metrics.errors.get('timeout'), 75);
    const lag = metrics.schedule();
    assert.ok(lag.p99 < 500e6, `send lag p99 ${lag.p99 / 1e6} ms: requests waited for hung connections`);
  } finally {
    await srv.close();
  }
});

test('reset: the server resets the connection on every request', async () => {
  const srv = await netServer((s) => s.once('data', () => s.resetAndDestroy()));
  try {
    const { results } = await run(srv.url);
    assert.equal(results.length, 20);
    for (const r of results) {
      assert.equal(r.code, 0);
      assert.match(r.error, /ECONNRESET|closed/);
    }
  } finally {
    await srv.close();
  }
});

test('garbage response: not HTTP is an error result', async () => {
  const srv = await netServer((s) => s.once('data', () => s.end('SSH-2.0-OpenSSH_9.6\r\n\r\nnot http at all\r\n')));
  try {
    const { results } = await run(srv.url);
    assert.equal(results.length, 20);
    for (const r of results) {
      assert.equal(r.code, 0);
      assert.match(r.error, /^invalid response: /);
    }
  } finally {
    await srv.close();
  }
});

test('huge body: read and counted in full, kept only up to -max-body', async () => {
  const big = Buffer.alloc(8 * 1024 * 1024, 0x61);
  const srv = await listen((_req, res) => res.end(big));
  try {
    const { results } = await run(srv.url, { pacer: constantPacer(10), durationNs: 300e6, maxBody: 1024 });
    assert.equal(results.length, 3);
    for (const r of results) {
      assert.equal(r.error, '');
      assert.equal(r.code, 200);
      assert.equal(r.bytesIn, big.length);
      assert.equal(r.body?.length, 1024);
    }
    const none = await run(srv.url, { pacer: constantPacer(10), durationNs: 100e6 });
    assert.equal(none.results[0]!.body, null); // default: keep no body
  } finally {
    await srv.close();
  }
});

test('slow body: latency runs to the last byte of the body', async () => {
  const srv = await listen((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first ');
    setTimeout(() => res.end('last'), 250);
  });
  try {
    const { results } = await run(srv.url, { pacer: constantPacer(10), durationNs: 300e6, maxBody: -1 });
    assert.equal(results.length, 3);
    for (const r of results) {
      assert.equal(r.error, '');
      assert.ok(r.latency >= 250e6, `latency ${r.latency}`);
      assert.equal(Buffer.from(r.body!).toString(), 'first last');
      assert.equal(r.bytesIn, 10);
    }
  } finally {
    await srv.close();
  }
});

test('target goes down mid-attack: later requests fail, the attack goes on to its end', async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  setTimeout(() => void srv.close(), 300);
  const { results, health } = await run(srv.url, { pacer: constantPacer(50), durationNs: 800e6 });
  assert.equal(results.length, 40);
  const ok = results.filter((r) => r.error === '').length;
  assert.ok(ok >= 5 && ok <= 30, `ok ${ok}`);
  assert.ok(results.some((r) => /ECONNREFUSED|closed|ECONNRESET/.test(r.error)), 'errors after the server went down');
  assert.equal(health.ended, 'completed');
});

test('redirects: followed up to -redirects; -1 keeps the 3xx as a success', async () => {
  let hops = 0;
  const srv = await listen((req, res) => {
    if (req.url === '/final') return res.end('done');
    if (req.url === '/loop') {
      res.writeHead(302, { location: '/loop' });
      return res.end();
    }
    hops++;
    res.writeHead(301, { location: '/final' });
    res.end();
  });
  try {
    const followed = await run(srv.url + '/start', { pacer: constantPacer(10), durationNs: 200e6, maxBody: -1 });
    assert.ok(followed.results.every((r) => r.code === 200 && Buffer.from(r.body!).toString() === 'done'));
    assert.equal(followed.results[0]!.url, srv.url + '/start'); // the target's URL, as vegeta records it
    assert.ok(hops >= 2);
    const kept = await run(srv.url + '/start', { pacer: constantPacer(10), durationNs: 200e6, redirects: -1 });
    assert.ok(kept.results.every((r) => r.code === 301 && r.error === ''));
    const loop = await run(srv.url + '/loop', { pacer: constantPacer(10), durationNs: 100e6, redirects: 3 });
    assert.equal(loop.results[0]!.error, 'stopped after 3 redirects');
  } finally {
    await srv.close();
  }
});

test('headers and body are sent as given; results carry method and url', async () => {
  const seen: Array<{ method: string; ua: string; x: string; body: string }> = [];
  const srv = await listen((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, ua: String(req.headers['user-agent']), x: String(req.headers['x-a']), body });
      res.end('ok');
    });
  });
  try {
    const targets = parseTargets(
      JSON.stringify({ method: 'POST', url: srv.url + '/p', body: Buffer.from('payload').toString('base64'), header: { 'X-A': ['t'] } }) + '\n',
      'json',
    );
    const results: Result[] = [];
    await attack({ targets, pacer: constantPacer(20), durationNs: 100e6, workers: 1, headers: { 'X-A': ['global'] } }, (r) => results.push(r));
    assert.equal(results.length, 2);
    assert.equal(results[0]!.method, 'POST');
    assert.equal(results[0]!.bytesOut, 7);
    assert.deepEqual(seen[0], { method: 'POST', ua: seen[0]!.ua, x: 'global, t', body: 'payload' });
    assert.match(seen[0]!.ua, /^tailprobe\//);
  } finally {
    await srv.close();
  }
});
