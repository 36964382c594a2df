import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Socket, type AddressInfo } from 'node:net';
import { createServer as createH2Server } from 'node:http2';
import { attack, share } from '../../src/attack/index.js';
import { attackWithFaults } from '../../src/attack/attack.js';
import { constantPacer } from '../../src/pacer/index.js';
import { parseTargets } from '../../src/targets/index.js';
import { BinaryDecoder } from '../../src/results/index.js';
import { Metrics } from '../../src/metrics/index.js';
import type { Result, RunEvent } from '../../src/results/result.js';
import { textReport } from '../../src/report/index.js';
import { listen } from '../helpers/servers.js';

const targetsFor = (url: string) => parseTargets(`GET ${url}\n`, 'http');

test('max mode: exactly -connections requests in flight, closed loop, flagged as such', async () => {
  let inFlight = 0;
  let peak = 0;
  const sockets = new Set<unknown>();
  const srv = await listen((req, res) => {
    sockets.add(req.socket);
    inFlight++;
    peak = Math.max(peak, inFlight);
    setTimeout(() => {
      inFlight--;
      res.end('ok');
    }, 5);
  });
  try {
    const out = await attack({ targets: targetsFor(srv.url), pacer: null, connections: 3, durationNs: 500e6, workers: 1 });
    assert.equal(out.info.maxMode, true);
    assert.equal(out.info.pacer, 'max');
    assert.equal(out.info.rate, 0);
    assert.equal(peak, 3);
    assert.equal(sockets.size, 3);
    assert.ok(out.metrics.requests > 20, `${out.metrics.requests} requests`);
    assert.equal(out.metrics.success, 1);
  } finally {
    await srv.close();
  }
});

test('max mode needs a duration or a stop signal', async () => {
  await assert.rejects(attack({ targets: targetsFor('http://127.0.0.1:1/'), pacer: null, durationNs: 0 }), /needs a -duration/);
});

test('pipelining: several requests are written on one connection before the first response', async () => {
  let maxQueued = 0;
  const server = createNetServer((s: Socket) => {
    s.on('error', () => {});
    let buf = '';
    let timer: NodeJS.Timeout | null = null;
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      // Answer in batches, 10 ms after the first request of a batch, so pipelined ones pile up.
      timer ??= setTimeout(() => {
        timer = null;
        const n = buf.split('\r\n\r\n').length - 1;
        buf = buf.slice(buf.lastIndexOf('\r\n\r\n') + 4);
        maxQueued = Math.max(maxQueued, n);
        s.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'.repeat(n));
      }, 10);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const out = await attack({ targets: targetsFor(url), pacer: null, connections: 1, pipelining: 4, durationNs: 300e6, workers: 1 });
    assert.equal(maxQueued, 4);
    assert.equal(out.metrics.success, 1);
    assert.ok(out.metrics.requests >= 8);
  } finally {
    server.close();
  }
});

test('h2c: HTTP/2 over cleartext against a node:http2 server, one connection multiplexed', async () => {
  const sessions = new Set<unknown>();
  let h2Requests = 0;
  const server = createH2Server();
  server.on('session', (s) => sessions.add(s));
  server.on('stream', (stream, headers) => {
    h2Requests++;
    assert.equal(headers[':method'], 'GET');
    stream.respond({ ':status': 200 });
    setTimeout(() => stream.end('h2 ok'), 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/h2`;
  try {
    const results: Result[] = [];
    const out = await attack({ targets: targetsFor(url), pacer: constantPacer(200), durationNs: 250e6, h2c: true, workers: 1, maxBody: -1 }, (r) =>
      results.push(r),
    );
    assert.equal(out.metrics.requests, 50);
    assert.equal(h2Requests, 50);
    assert.equal(out.metrics.success, 1, JSON.stringify([...out.metrics.errors]));
    assert.equal(Buffer.from(results[0]!.body!).toString(), 'h2 ok');
    assert.equal(sessions.size, 1, 'streams share one HTTP/2 connection');
  } finally {
    for (const s of sessions) (s as { destroy(): void }).destroy();
    server.close();
  }
});

test('-keepalive=false: a new connection per request', async () => {
  const sockets = new Set<unknown>();
  const srv = await listen((req, res) => {
    sockets.add(req.socket);
    res.end('ok');
  });
  try {
    const out = await attack({ targets: targetsFor(srv.url), pacer: constantPacer(50), durationNs: 200e6, keepalive: false, connections: 0, workers: 1 });
    assert.equal(out.metrics.requests, 10);
    assert.equal(out.metrics.success, 1);
    assert.equal(sockets.size, 10);
  } finally {
    await srv.close();
  }
});

test('share() splits connections across workers exactly', () => {
  for (const [total, n] of [[10, 3], [1, 2], [64, 4], [7, 7]] as const) {
    const parts = Array.from({ length: n }, (_, k) => share(total, n, k));
    assert.equal(parts.reduce((a, b) => a + b, 0), total);
    assert.ok(Math.max(...parts) - Math.min(...parts) <= 1);
  }
});

test('workers share one schedule: every request exactly once, evenly spaced, metrics merged exactly', { timeout: 30_000 }, async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  try {
    const results: Result[] = [];
    const out = await attack({ targets: targetsFor(srv.url), pacer: constantPacer(400), durationNs: 1e9, workers: 2 }, (r) => results.push(r));
    assert.equal(out.info.workers, 2);
    assert.equal(results.length, 400);
    const seqs = results.map((r) => r.seq).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: 400 }, (_, i) => i));
    // the merged stream of intended times is the one-worker schedule: 2.5 ms apart, exactly
    const bySeq = [...results].sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < 400; i++) assert.equal(Number(bySeq[i]!.timestamp - bySeq[i - 1]!.timestamp), 2_500_000);
    // metrics shipped from the workers equal metrics computed here from every result
    const local = new Metrics();
    for (const r of results) local.add(r);
    assert.equal(out.metrics.requests, local.requests);
    assert.deepEqual(out.metrics.latencies(), local.latencies());
    assert.deepEqual(out.metrics.schedule(), local.schedule());
    assert.equal(out.metrics.earliest, local.earliest);
    assert.equal(out.metrics.end, local.end);
  } finally {
    await srv.close();
  }
});

test('workers with onEncoded: results travel as binary-format bytes that decode to every request', { timeout: 30_000 }, async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  try {
    const decoder = new BinaryDecoder('workers', { headerless: true });
    const results: Result[] = [];
    let objects = 0;
    const out = await attack(
      { targets: targetsFor(srv.url), pacer: constantPacer(300), durationNs: 1e9, workers: 3, onEncoded: (c) => decoder.push(Buffer.from(c), results) },
      () => objects++,
    );
    assert.equal(objects, 0);
    assert.equal(results.length, 300);
    assert.equal(out.metrics.requests, 300);
    assert.deepEqual(
      results.map((r) => r.seq).sort((a, b) => a - b),
      Array.from({ length: 300 }, (_, i) => i),
    );
    assert.ok(results.every((r) => r.code === 200 && r.sendLag >= 0));
  } finally {
    await srv.close();
  }
});

test('a worker that dies: reported, the others\' results kept, metrics match what was delivered', { timeout: 30_000 }, async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  try {
    const results: Result[] = [];
    const out = await attackWithFaults(
      { targets: targetsFor(srv.url), pacer: constantPacer(200), durationNs: 1.5e9, workers: 2 },
      (r) => results.push(r),
      { crashWorker: { index: 1, afterMs: 500 } },
    );
    assert.equal(out.failures.length, 1);
    assert.match(out.failures[0]!, /^worker 1 died: injected worker crash/);
    assert.match(out.health.ended, /^error: worker 1 died/);
    const even = results.filter((r) => r.seq % 2 === 0).map((r) => r.seq).sort((a, b) => a - b);
    assert.deepEqual(even, Array.from({ length: 150 }, (_, i) => 2 * i), 'worker 0 ran its whole share');
    const odd = results.filter((r) => r.seq % 2 === 1).length;
    assert.ok(odd > 0 && odd < 150, `worker 1 delivered ${odd} before dying`);
    assert.equal(out.metrics.requests, results.length);
  } finally {
    await srv.close();
  }
});

test('a pacer of its own (offsetOf and describe only) runs on one worker, on its schedule', async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  try {
    // Ten requests 20 ms apart, then the schedule ends (Infinity).
    const pacer = { offsetOf: (i: number) => (i < 10 ? i * 20e6 : Infinity), describe: () => 'ten, 20 ms apart' };
    const results: Result[] = [];
    const out = await attack({ targets: targetsFor(srv.url), pacer, durationNs: 1e9 }, (r) => results.push(r));
    assert.equal(out.info.workers, 1);
    assert.equal(out.info.pacer, 'ten, 20 ms apart');
    assert.equal(out.info.rate, 10); // 10 requests in the 1 s duration
    assert.deepEqual(results.map((r) => r.seq).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.ok(results.every((r) => r.code === 200));
    await assert.rejects(attack({ targets: targetsFor(srv.url), pacer, durationNs: 1e9, workers: 2 }), /custom pacer without a spec/);
  } finally {
    await srv.close();
  }
});

test("attack()'s outcome carries the run's metadata in the shape the reports and the results file take", async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  try {
    const events: RunEvent[] = [{ kind: 'gc', start: 1n, duration: 2e6, detail: 'scavenge' }];
    const out = await attack({
      targets: targetsFor(srv.url),
      pacer: constantPacer(100),
      durationNs: 100e6,
      workers: 1,
      plugins: [{ name: 'events', onEnd: () => ({ meta: { events } }) }],
    });
    assert.deepEqual(out.meta, [{ info: out.info, health: out.health, events }]);
    assert.match(textReport(out.metrics, out.meta), /^Requests\s+\[total, rate, throughput\]\s+10,/);
  } finally {
    await srv.close();
  }
});

test('stop signal: scheduling stops, in-flight requests finish, unsent requests are counted', async () => {
  const srv = await listen((_req, res) => setTimeout(() => res.end('ok'), 100));
  try {
    const ac = new AbortController();
    const results: Result[] = [];
    const out = await attack({ targets: targetsFor(srv.url), pacer: constantPacer(100), durationNs: 10e9, workers: 1, signal: ac.signal }, (r) => {
      // stop at the 10th result: ~10 more are in flight (100 req/s, 100 ms each)
      if (results.push(r) === 10) ac.abort();
    });
    assert.equal(out.health.ended, 'interrupted');
    assert.ok(results.length >= 15 && results.length <= 200, `${results.length} results`);
    assert.ok(results.every((r) => r.error === '' && r.code === 200), 'in-flight requests completed');
    assert.equal(out.health.unsent, 1000 - results.length);
  } finally {
    await srv.close();
  }
});

test('-http2 over TLS (ALPN) with -insecure; without -insecure a self-signed certificate is an error result', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { REPO_ROOT } = await import('../helpers/paths.js');
  const { createSecureServer } = await import('node:http2');
  const dir = join(REPO_ROOT, 'test', 'attack', 'tls');
  const sessions = new Set<{ destroy(): void }>();
  const versions = new Set<string>();
  // A throwaway self-signed certificate for 127.0.0.1, made for this test (not a secret).
  const server = createSecureServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')), allowHTTP1: true });
  server.on('session', (s) => sessions.add(s));
  server.on('request', (req, res) => {
    versions.add(req.httpVersion);
    res.end('tls ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const ok = await attack({ targets: targetsFor(url), pacer: constantPacer(100), durationNs: 200e6, http2: true, insecure: true, workers: 1 });
    assert.equal(ok.metrics.requests, 20);
    assert.equal(ok.metrics.success, 1, JSON.stringify([...ok.metrics.errors]));
    assert.deepEqual([...versions], ['2.0']);
    const bad = await attack({ targets: targetsFor(url), pacer: constantPacer(100), durationNs: 50e6, workers: 1 });
    assert.equal(bad.metrics.success, 0);
    assert.match([...bad.metrics.errors.keys()][0]!, /self.signed|certificate/i);
  } finally {
    for (const s of sessions) s.destroy();
    server.close();
  }
});
