import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createWriteStream, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import * as hdr from 'hdr-histogram-js';
import { attack } from '../../src/attack/index.js';
import { hlogAttackPlugin, prometheusAttackPlugin, BUCKET_BOUNDS_S, BUCKET_QUANTILE_ERROR, Exposition, NATIVE_QUANTILE_ERROR } from '../../src/export/index.js';
import { Metrics, encodeHlog, readMetrics } from '../../src/metrics/index.js';
import { constantPacer } from '../../src/pacer/index.js';
import { createResultWriter, type Result } from '../../src/results/index.js';
import { wallClockNs } from '../../src/time/wall.js';
import { runCli } from '../helpers/cli.js';
import { CLI, REPO_ROOT, tempDir } from '../helpers/paths.js';
import { listen } from '../helpers/servers.js';

type Family = { name: string; type: string; metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }> };
// A Prometheus text-format parser from the npm registry: what we write is read by code we did not write.
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[];

/** A loopback server with a spread of latencies (most fast, some 5-40 ms) so the tail has something in it. */
function slowSometimes() {
  let i = 0;
  return listen((_req, res) => {
    const k = i++ % 20;
    const delay = k === 0 ? 40 : k < 3 ? 5 + k * 5 : 0;
    setTimeout(() => res.end('ok'), delay);
  });
}

/** histogram_quantile() as Prometheus computes it: linear interpolation inside the bucket. */
function histogramQuantile(q: number, buckets: Record<string, string>): number {
  const bs = Object.entries(buckets)
    .map(([le, c]) => [le === '+Inf' ? Infinity : Number(le), Number(c)] as const)
    .sort((a, b) => a[0] - b[0]);
  const total = bs[bs.length - 1]![1];
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of bs) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / (count - prevCount);
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

function value(fams: Family[], name: string, labels?: Record<string, string>): number {
  const f = fams.find((x) => x.name === name);
  assert.ok(f, `family ${name} is exported`);
  const m = labels ? f.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v)) : f.metrics[0];
  return m ? Number(m.value) : 0;
}

test('during a real attack, /metrics parses with a registry parser, counters only grow, and the final scrape equals the results', { timeout: 60_000 }, async () => {
  const srv = await slowSometimes();
  const dir = tempDir();
  // Ended in finally too: a failing assertion must not leave the scraper looping (the file's process would never exit).
  let scraping = true;
  try {
    const prom = await prometheusAttackPlugin({ host: '127.0.0.1', port: 0, lingerMs: 600, windowMs: 200 });
    const hlogPath = join(dir, 'live.hlog');
    const hlog = hlogAttackPlugin({ out: createWriteStream(hlogPath), name: hlogPath, intervalMs: 500 });
    const scrapes: Family[][] = [];
    const scraper = (async () => {
      while (scraping) {
        try {
          const res = await fetch(prom.url);
          assert.equal(res.status, 200);
          assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
          const fams = parsePrometheus(await res.text());
          // Before onStart (the connections are opening) only the generator's own families exist.
          if (fams.some((f) => f.name === 'tailprobe_attack_info')) scrapes.push(fams);
        } catch (e) {
          if (e instanceof assert.AssertionError) throw e;
          // the listener closed after the linger: scraping is over
          if (!scraping) break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const results: Result[] = [];
    const out = await attack(
      { targets: [{ method: 'GET', url: `${srv.url}/`, headers: {}, body: null }], pacer: constantPacer(300), durationNs: 3e9, workers: 1, plugins: [prom, hlog] },
      (r) => results.push(r),
    );
    // attack() does not wait for the linger: the endpoint still answers, with the final numbers.
    const after = await fetch(prom.url);
    assert.equal(after.status, 200);
    scrapes.push(parsePrometheus(await after.text()));
    scraping = false;
    await scraper;
    assert.ok(scrapes.length >= 5, `scraped ${scrapes.length} times`);

    // Monotone counters.
    const sent = scrapes.map((s) => value(s, 'tailprobe_requests_sent_total'));
    const ok = scrapes.map((s) => value(s, 'tailprobe_requests_total', { code: '200' }));
    for (let i = 1; i < scrapes.length; i++) {
      assert.ok(sent[i]! >= sent[i - 1]!, `sent never decreases (${sent[i - 1]} -> ${sent[i]})`);
      assert.ok(ok[i]! >= ok[i - 1]!, 'requests_total never decreases');
    }
    assert.ok(sent.some((v) => v > 0 && v < out.metrics.requests), 'some scrape saw the attack in progress');

    // The last scrape (during the linger) equals the run's totals.
    const last = scrapes[scrapes.length - 1]!;
    const m = out.metrics;
    assert.equal(value(last, 'tailprobe_attack_running'), 0);
    assert.equal(value(last, 'tailprobe_requests_total', { code: '200' }), m.statusCodes.get(200));
    assert.equal(value(last, 'tailprobe_requests_success_total'), m.successes);
    assert.equal(value(last, 'tailprobe_late_sends_total'), m.lateSends);
    assert.equal(value(last, 'tailprobe_requests_sent_total'), m.requests);
    assert.equal(value(last, 'tailprobe_requests_scheduled_total'), 900, '300/s for 3 s');
    assert.equal(m.requests, results.length);
    const lat = last.find((f) => f.name === 'tailprobe_latency_seconds')!;
    assert.equal(lat.type, 'HISTOGRAM');
    assert.equal(Number(lat.metrics[0]!.count), m.requests);
    assert.ok(Math.abs(Number(lat.metrics[0]!.sum) - m.latency.sum / 1e9) < 1e-6);

    // Quantiles from the buckets within the stated error of the report's.
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const fromBuckets = histogramQuantile(q, lat.metrics[0]!.buckets!);
      const exact = m.latency.percentile(q * 100) / 1e9;
      const err = Math.abs(fromBuckets - exact) / exact;
      assert.ok(err <= BUCKET_QUANTILE_ERROR, `q=${q}: buckets say ${fromBuckets}s, the report ${exact}s (error ${(err * 100).toFixed(2)} %)`);
    }

    // Every metric the Grafana dashboard (examples/grafana) queries is one the endpoint exports.
    const dashboard = readFileSync(join(REPO_ROOT, 'examples', 'grafana', 'tailprobe-attack.json'), 'utf8');
    const used = new Set([...dashboard.matchAll(/tailprobe_[a-z0-9_]+/g)].map((x) => x[0].replace(/_bucket$/, '')));
    const exported = new Set(last.map((f) => f.name));
    for (const name of used) assert.ok(exported.has(name), `the dashboard's ${name} is exported`);
    assert.ok(used.size >= 10);

    // The live hlog, read back by hdr-histogram-js's own log reader, holds every result.
    const text = readFileSync(hlogPath, 'utf8');
    const reader = new hdr.HistogramLogReader(text, 64);
    let count = 0;
    let intervals = 0;
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) {
      if (h.tag !== 'send-lag') {
        count += h.totalCount;
        intervals++;
      }
    }
    assert.equal(count, m.requests);
    assert.ok(intervals >= 4, `${intervals} intervals of 500 ms in a 3 s attack (timers may run late on a loaded machine)`);

    // ...and the listener closes once the linger is over.
    let closed = false;
    for (let i = 0; i < 100 && !closed; i++) {
      closed = await fetch(prom.url).then(() => false, () => true);
      if (!closed) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(closed, 'the listener closed after the linger');
  } finally {
    scraping = false;
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('results -> hlog -> report gives the report of the results, and hdr-histogram-js reads the log with the same counts', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    // A results file with a known spread: 20 000 results over 10 s, latencies 100 µs..2 s, some errors.
    const path = join(dir, 'r.bin');
    const chunks: Buffer[] = [];
    const sink = new (await import('node:stream')).Writable({ write(c, _e, cb) { chunks.push(c); cb(); } });
    const w = createResultWriter(sink, 'binary');
    const t0 = 1_800_000_000_000_000_000n;
    w.writeMeta({
      info: {
        name: '', pacer: '2000/1s', rate: 2000, maxMode: false, duration: 10e9, targets: ['GET http://127.0.0.1/'], targetCount: 1,
        workers: 1, connections: 10, startedAt: t0, version: 'test',
      },
      // A generator that was itself saturated: the report warns, and so must the report of the hlog.
      health: { cpuPercent: 99, cores: 2, eventLoopP99: 30e6, eventLoopMax: 80e6, unsent: 0, ended: 'completed' },
    });
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20_000; i++) {
      const latency = Math.round(1e5 * Math.exp(rnd() * Math.log(2e4)));
      const failed = i % 97 === 0;
      w.write({
        attack: '', seq: i, code: failed ? 0 : 200, timestamp: t0 + BigInt(i) * 500_000n, latency,
        bytesOut: 0, bytesIn: failed ? 0 : 2, error: failed ? 'connection refused' : '', body: null,
        method: 'GET', url: 'http://127.0.0.1/', headers: null, sendLag: Math.round(rnd() * 2e6),
      });
    }
    await w.close();
    writeFileSync(path, Buffer.concat(chunks));

    let hlogText = '';
    const enc = await encodeHlog([path], (t) => (hlogText += t), { intervalNs: 1e9 });
    const hlogPath = join(dir, 'r.hlog');
    writeFileSync(hlogPath, hlogText);
    assert.equal(enc.late, 0);
    assert.ok(enc.intervals >= 10 && enc.intervals <= 13, `${enc.intervals} intervals`);

    const direct = (await readMetrics([path])).metrics;
    const viaHlog = (await readMetrics([hlogPath])).metrics;
    assert.equal(viaHlog.requests, direct.requests);
    assert.equal(viaHlog.successes, direct.successes);
    assert.deepEqual([...viaHlog.statusCodes], [...direct.statusCodes]);
    assert.deepEqual([...viaHlog.errors], [...direct.errors]);
    assert.deepEqual(viaHlog.latencies(), direct.latencies());
    assert.deepEqual(viaHlog.schedule(), direct.schedule());
    assert.equal(viaHlog.duration, direct.duration);

    // The CLI agrees: the text report of the hlog is the text report of the results.
    const a = await runCli(['report', path]);
    const b = await runCli(['report', hlogPath]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(a.stdout.toString(), /Warning: /);
    assert.equal(b.stdout.toString(), a.stdout.toString());

    // Two halves merge exactly.
    const half = await runCli(['report', '-type=json', hlogPath, hlogPath]);
    assert.equal(half.code, 0, half.stderr);
    assert.equal(JSON.parse(half.stdout.toString()).requests, 2 * direct.requests);

    // HdrHistogram's own reader: same counts, interval by interval adding up to the total.
    const reader = new hdr.HistogramLogReader(hlogText, 64);
    const sum = hdr.build({ bitBucketSize: 64, numberOfSignificantValueDigits: 3, highestTrackableValue: 3_600_000_000 });
    let lagCount = 0;
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) {
      if (h.tag === 'send-lag') lagCount += h.totalCount;
      else sum.add(h);
    }
    assert.equal(sum.totalCount, direct.requests);
    assert.equal(lagCount, direct.sendLag.count);
    assert.equal(sum.getValueAtPercentile(99) * 1000, direct.latency.percentile(99));

    // encode -to=hlog writes the same log as report -type=hlog.
    const e1 = await runCli(['encode', '-to=hlog', path]);
    const e2 = await runCli(['report', '-type=hlog', path]);
    assert.equal(e1.code, 0, e1.stderr);
    assert.equal(e1.stdout.toString(), hlogText);
    assert.equal(e2.stdout.toString(), hlogText);
    // ...and an hlog is not results: converting it back is one line.
    const back = await runCli(['encode', '-to=json', hlogPath]);
    assert.equal(back.code, 1);
    assert.match(back.stderr, /^tailprobe: .*r\.hlog: an HdrHistogram log holds histograms, not results.*\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an attack with a start ahead (-start-at) logs its intervals from that start: none ends before it begins, none before the start', { timeout: 60_000 }, async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  const dir = tempDir();
  try {
    const hlogPath = join(dir, 'ahead.hlog');
    const hlog = hlogAttackPlugin({ out: createWriteStream(hlogPath), name: hlogPath, intervalMs: 200 });
    // The connections open at once and onStart comes well before the start (a shard's are up to 3 s early).
    const startAtNs = wallClockNs() + 2_000_000_000n;
    const out = await attack({ targets: [{ method: 'GET', url: `${srv.url}/`, headers: {}, body: null }], pacer: constantPacer(100), durationNs: 1e9, workers: 1, startAtNs, plugins: [hlog] });
    assert.equal(out.info.startedAt, startAtNs);
    const text = readFileSync(hlogPath, 'utf8');
    const reader = new hdr.HistogramLogReader(text, 64);
    let count = 0;
    let intervals = 0;
    for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) {
      if (h.tag === 'send-lag') continue;
      intervals++;
      count += h.totalCount;
      assert.ok(h.endTimeStampMsec > h.startTimeStampMsec, `interval ${intervals} has a positive length: ${text.split('\n').filter((l) => /^\d|^-/.test(l)).join(' | ')}`);
      assert.ok(h.startTimeStampMsec >= Number(startAtNs / 1_000_000n) - 1, `interval ${intervals} starts at or after the start`);
    }
    assert.equal(count, out.metrics.requests);
    assert.ok(intervals >= 1);
    assert.equal((await readMetrics([hlogPath])).metrics.requests, out.metrics.requests);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exporter problems: a busy port, a non-loopback address without a token, an unwritable hlog: one line each, no attack', { timeout: 60_000 }, async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const busyPort = (busy.address() as { port: number }).port;
  const dir = tempDir();
  try {
    const input = `GET ${srv.url}/\n`;
    const out = join(dir, 'r.bin');
    const inUse = await runCli(['attack', '-rate=10', '-duration=1s', `-prometheus-addr=127.0.0.1:${busyPort}`, `-output=${out}`], { input });
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /^tailprobe: attack: prometheus: 127\.0\.0\.1:\d+ is already in use .*\n$/);

    const open = await runCli(['attack', '-rate=10', '-duration=1s', '-prometheus-addr=0.0.0.0:0'], { input, env: { TAILPROBE_PROMETHEUS_TOKEN: '' } });
    assert.equal(open.code, 2);
    assert.match(open.stderr, /^tailprobe: attack: prometheus: refusing to listen on 0\.0\.0\.0:0 without a token.*\n$/);

    const badAddr = await runCli(['attack', '-prometheus-addr=nonsense'], { input });
    assert.equal(badAddr.code, 2);
    assert.match(badAddr.stderr, /^tailprobe: attack: invalid value "nonsense" for flag -prometheus-addr .*\n$/);

    const noDir = await runCli(['attack', '-rate=10', '-duration=1s', `-hlog=${join(dir, 'missing', 'x.hlog')}`], { input });
    assert.equal(noDir.code, 1);
    assert.match(noDir.stderr, /^tailprobe: attack: cannot write \S*x\.hlog: no such file or directory \(ENOENT\)\n$/);
    const noOut = await runCli(['attack', '-rate=10', '-duration=1s', `-output=${join(dir, 'missing', 'x.bin')}`], { input });
    assert.equal(noOut.stderr.replace('x.bin', 'x.hlog'), noDir.stderr, '-hlog and -output fail to open alike');
    assert.equal(noOut.code, noDir.code);
    assert.equal(existsSync(out), false, 'no attack ran');

    // A usage error in the attack's own flags leaves an existing -hlog file as it was (and binds nothing).
    const kept = join(dir, 'kept.hlog');
    writeFileSync(kept, 'an earlier run\n');
    const badFlag = await runCli(['attack', '-rate=10', '-duration=1s', '-pipelining=0', `-hlog=${kept}`, `-prometheus-addr=127.0.0.1:${busyPort}`], { input });
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /^tailprobe: -pipelining must be an integer >= 1 \(got 0\)\n$/);
    assert.equal(readFileSync(kept, 'utf8'), 'an earlier run\n');
  } finally {
    busy.close();
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an hlog that fails while the attack runs (a full disk) loses no results: the results file is whole, exit 1, one line', { timeout: 60_000 }, async () => {
  // /dev/full is Linux's device that fails every write with ENOSPC (test/cli/output.test.ts uses it too).
  const srv = await listen((_req, res) => res.end('ok'));
  const dir = tempDir();
  try {
    const out = join(dir, 'r.bin');
    const a = await runCli(['attack', '-rate=100', '-duration=2s', '-hlog=/dev/full', '-hlog-interval=200ms', `-output=${out}`], { input: `GET ${srv.url}/\n` });
    assert.equal(a.code, 1);
    assert.match(a.stderr, /^tailprobe: attack: -hlog \/dev\/full: ENOSPC \(the log is incomplete; the results are not affected\)\n$/);
    const m = (await readMetrics([out])).metrics;
    assert.equal(m.requests, 200);
    assert.equal(m.successes, 200);
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the metrics endpoint follows the agent\'s rules: loopback peers only without a token, the token when one is set', { timeout: 30_000 }, async () => {
  const prom = await prometheusAttackPlugin({ host: '127.0.0.1', port: 0, token: 's3cret' });
  try {
    assert.equal((await fetch(prom.url)).status, 401);
    assert.equal((await fetch(prom.url, { headers: { authorization: 'Bearer nope' } })).status, 401);
    const ok = await fetch(prom.url, { headers: { authorization: 'Bearer s3cret' } });
    assert.equal(ok.status, 200);
    const fams = parsePrometheus(await ok.text());
    assert.equal(value(fams, 'tailprobe_attack_running'), 0, 'before the attack: not running');
    assert.equal((await fetch(prom.url.replace('/metrics', '/other') + '?token=s3cret')).status, 404);
  } finally {
    await prom.close();
  }
  const open = await prometheusAttackPlugin({ host: '127.0.0.1', port: 0 });
  try {
    // fetch() cannot set Host: a plain request, as a DNS-rebound browser page would send it.
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(open.url, { headers: { host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403);
  } finally {
    await open.close();
  }
});

test('a Prometheus that asks for protobuf gets native histograms (schema 5) that protobufjs decodes, holding the report\'s quantiles', { timeout: 60_000 }, async () => {
  const pb = createRequire(import.meta.url)('protobufjs') as {
    parse(text: string): { root: { lookupType(name: string): { decodeDelimited(r: unknown): unknown; toObject(m: unknown, o: object): unknown } } };
    Reader: { create(b: Uint8Array): { pos: number; len: number } };
  };
  const proto = readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'prometheus', 'metric-family.proto'), 'utf8');
  const MetricFamily = pb.parse(proto).root.lookupType('io.prometheus.client.MetricFamily');
  type PbFamily = {
    name: string; type: number;
    metric: Array<{ label?: Array<{ name: string; value: string }>; counter?: { value: number }; gauge?: { value: number };
      histogram?: { sampleCount: number; sampleSum: number; schema: number; bucket: Array<{ cumulativeCount: number; upperBound: number }>;
        positiveSpan: Array<{ offset: number; length: number }>; positiveDelta: number[] } }>;
  };
  const srv = await slowSometimes();
  try {
    const prom = await prometheusAttackPlugin({ host: '127.0.0.1', port: 0, lingerMs: 3000 });
    const run = attack({ targets: [{ method: 'GET', url: `${srv.url}/`, headers: {}, body: null }], pacer: constantPacer(200), durationNs: 2e9, workers: 1, plugins: [prom] });
    // Wait for the final numbers (the attack over, the endpoint lingering), so both scrapes see the same run.
    for (;;) {
      const fams = parsePrometheus(await (await fetch(prom.url)).text());
      if (fams.some((f) => f.name === 'tailprobe_attack_info') && value(fams, 'tailprobe_attack_running') === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The Accept header Prometheus sends when it scrapes native histograms (protobuf first).
    const accept = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,' +
      'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
    const res = await fetch(prom.url, { headers: { accept } });
    assert.match(res.headers.get('content-type') ?? '', /^application\/vnd\.google\.protobuf; proto=io\.prometheus\.client\.MetricFamily; encoding=delimited/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const reader = pb.Reader.create(bytes);
    const fams: PbFamily[] = [];
    while (reader.pos < reader.len) fams.push(MetricFamily.toObject(MetricFamily.decodeDelimited(reader), { longs: Number, defaults: false }) as PbFamily);
    // Prometheus' default Accept (text first) still gets text.
    const plain = await fetch(prom.url, { headers: { accept: 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } });
    assert.match(plain.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = parsePrometheus(await plain.text());
    const m = (await run).metrics;

    // The same families and values as the text exposition.
    assert.deepEqual(fams.map((f) => f.name), text.map((f) => f.name));
    const ok = fams.find((f) => f.name === 'tailprobe_requests_total')!.metric.find((x) => x.label?.[0]?.value === '200')!;
    assert.equal(ok.counter!.value, m.statusCodes.get(200));
    const h = fams.find((f) => f.name === 'tailprobe_latency_seconds')!.metric[0]!.histogram!;
    assert.equal(fams.find((f) => f.name === 'tailprobe_latency_seconds')!.type, 4);
    assert.equal(h.sampleCount, m.requests);
    assert.equal(h.schema, 5);
    const classic = text.find((f) => f.name === 'tailprobe_latency_seconds')!.metrics[0]!.buckets!;
    for (const b of h.bucket) assert.equal(b.cumulativeCount, Number(classic[String(b.upperBound)]), `classic bucket le=${b.upperBound}`);

    // Native buckets: decode spans and deltas, then every quantile lies in the bucket they put it in.
    const buckets: Array<[number, number]> = [];
    let index = 0;
    let count = 0;
    let d = 0;
    h.positiveSpan.forEach((span) => {
      index += span.offset;
      for (let k = 0; k < span.length; k++) {
        count += h.positiveDelta[d++]!;
        buckets.push([index + k, count]);
      }
      index += span.length;
    });
    assert.equal(buckets.reduce((n, [, c]) => n + c, 0), m.requests);
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const rank = q * m.requests;
      let cum = 0;
      const [i] = buckets.find(([, c]) => (cum += c) >= rank)!;
      const lo = Math.pow(2, (i - 1) / 32);
      const hi = Math.pow(2, i / 32);
      const exact = m.latency.percentile(q * 100) / 1e9;
      assert.ok(exact >= lo * 0.999 && exact <= hi * 1.001, `q=${q}: the report's ${exact}s is in native bucket (${lo}, ${hi}]`);
      assert.ok(hi / lo - 1 <= NATIVE_QUANTILE_ERROR);
    }
  } finally {
    await srv.close();
  }
});

test('report reads an interval log that HdrHistogram\'s own writer made (no tailprobe totals): latencies and counts, merged exactly', { timeout: 30_000 }, async () => {
  const dir = tempDir();
  try {
    // Written by hdr-histogram-js' HistogramLogWriter, values in µs as tailprobe reads them.
    let text = '';
    const writer = new hdr.HistogramLogWriter((s) => (text += s));
    writer.outputLogFormatVersion();
    writer.outputStartTime(1_700_000_000_000);
    writer.outputLegend();
    const all = hdr.build({ bitBucketSize: 64, numberOfSignificantValueDigits: 3, highestTrackableValue: 3_600_000_000 });
    for (let k = 0; k < 5; k++) {
      const h = hdr.build({ bitBucketSize: 64, numberOfSignificantValueDigits: 3, highestTrackableValue: 3_600_000_000 });
      for (let i = 1; i <= 1000; i++) h.recordValue(i * (k + 1) * 37);
      all.add(h);
      writer.outputIntervalHistogram(h, k, k + 1, 1000);
    }
    const path = join(dir, 'foreign.hlog');
    writeFileSync(path, text);
    const m = (await readMetrics([path])).metrics;
    assert.equal(m.requests, 5000);
    assert.equal(m.latency.count, 5000);
    for (const p of [50, 99, 99.9]) assert.equal(m.latency.h.getValueAtPercentile(p), all.getValueAtPercentile(p), `p${p}`);
    assert.equal(m.successes, 0, 'without the totals line nothing says which succeeded');
    assert.ok(Math.abs(m.duration - 5e9) < 1e6, 'the span of the intervals');

    // Garbage where a histogram should be: one line naming the file and line.
    writeFileSync(path, `${text}0.000,1.000,1.0,NOT-BASE64!!\n`);
    const r = await runCli(['report', path]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^tailprobe: .*foreign\.hlog:\d+: .*\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hlog flags are refused where they do not apply', { timeout: 30_000 }, async () => {
  const e = await runCli(['encode', '-to=json', '-hlog-interval=1s'], { input: '' });
  assert.equal(e.code, 2);
  assert.match(e.stderr, /^tailprobe: encode: -hlog-interval is for -to=hlog\n$/);
  const r = await runCli(['report', '-hlog-interval=1s'], { input: '' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^tailprobe: report: -hlog-interval is for -type=hlog\n$/);
  const a = await runCli(['attack', '-hlog-interval=1s'], { input: 'GET http://127.0.0.1:1/\n' });
  assert.equal(a.code, 2);
  assert.match(a.stderr, /^tailprobe: attack: -hlog-interval needs -hlog=FILE\n$/);
  const p = await runCli(['attack', '-prometheus-linger=1s'], { input: 'GET http://127.0.0.1:1/\n' });
  assert.equal(p.code, 2);
  assert.match(p.stderr, /^tailprobe: attack: -prometheus-linger needs -prometheus-addr=HOST:PORT\n$/);
});

test('the classic buckets are the HDR histogram\'s own counts at each bound, as the report\'s histogram counts them', () => {
  const m = new Metrics();
  let x = 3;
  for (let i = 0; i < 50_000; i++) {
    x = (x * 48271) % 2147483647;
    m.latency.record(2e3 * Math.exp((x / 2147483647) * Math.log(1e6))); // 2 µs..2 s: below, across and inside the bounds
  }
  const e = new Exposition();
  e.histogram('h_seconds', 'test', m.latency);
  const parsed = parsePrometheus(e.text())[0]!.metrics[0]!.buckets!;
  const bounds = [0, ...BUCKET_BOUNDS_S.map((b) => b * 1e9)];
  const counts = m.latency.countsInBuckets(bounds);
  let cum = 0;
  BUCKET_BOUNDS_S.forEach((b, k) => {
    cum += counts[k]!;
    assert.equal(Number(parsed[String(b)]), cum, `le=${b}`);
  });
  assert.equal(Number(parsed['+Inf']), 50_000);
  assert.equal(BUCKET_BOUNDS_S.length, 185);
  assert.ok(Math.abs(BUCKET_BOUNDS_S[0]! - 15.2587890625e-6) < 1e-15 && BUCKET_BOUNDS_S[184] === 128);
});

test('the CLI: attack -prometheus-addr=127.0.0.1:0 -hlog serves, lingers with the totals, and its hlog reports as its results do', { timeout: 60_000 }, async () => {
  const srv = await slowSometimes();
  const dir = tempDir();
  try {
    const out = join(dir, 'r.bin');
    const hlogPath = join(dir, 'r.hlog');
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [CLI, 'attack', '-rate=200', '-duration=2s', '-prometheus-addr=127.0.0.1:0', '-prometheus-linger=2s', `-hlog=${hlogPath}`, `-output=${out}`], { stdio: ['pipe', 'ignore', 'pipe'] });
    child.stdin.end(`GET ${srv.url}/\n`);
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
        const m = /^tailprobe: attack: prometheus metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)\n/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`exited before serving: ${stderr}`)));
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    let final: Family[] | null = null;
    while (final === null) {
      const fams = parsePrometheus(await (await fetch(url)).text());
      if (fams.some((f) => f.name === 'tailprobe_attack_info') && value(fams, 'tailprobe_attack_running') === 0) final = fams;
      else await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await exited, 0, stderr);
    const m = (await readMetrics([out])).metrics;
    assert.equal(m.requests, 400);
    assert.equal(value(final, 'tailprobe_requests_total', { code: '200' }), 400);
    assert.equal(value(final, 'tailprobe_requests_sent_total'), 400);
    const a = await runCli(['report', out]);
    const b = await runCli(['report', hlogPath]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout.toString(), a.stdout.toString());
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an interrupt during -prometheus-linger loses nothing: the results file and the hlog were finished when the attack ended', { timeout: 60_000 }, async () => {
  const srv = await slowSometimes();
  const dir = tempDir();
  const { spawn } = await import('node:child_process');
  const out = join(dir, 'r.bin');
  const hlogPath = join(dir, 'r.hlog');
  const child = spawn(process.execPath, [CLI, 'attack', '-rate=100', '-duration=1s', '-prometheus-addr=127.0.0.1:0', '-prometheus-linger=30s', `-hlog=${hlogPath}`, `-output=${out}`], { stdio: ['pipe', 'ignore', 'pipe'] });
  try {
    child.stdin.end(`GET ${srv.url}/\n`);
    let stderr = '';
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d;
        const m = /^tailprobe: attack: prometheus metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)\n/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      void exited.then(() => reject(new Error(`exited before serving: ${stderr}`)));
    });
    // The attack is over (the endpoint serves its final numbers): interrupt twice, as an impatient user would.
    for (;;) {
      const fams = parsePrometheus(await (await fetch(url)).text());
      if (fams.some((f) => f.name === 'tailprobe_attack_info') && value(fams, 'tailprobe_attack_running') === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGINT');
    await exited;
    const { metrics, sources } = await readMetrics([out]);
    assert.equal(metrics.requests, 100);
    assert.equal(sources[0]!.meta.health?.ended, 'completed', 'the results file has its health record');
    const a = await runCli(['report', out]);
    const b = await runCli(['report', hlogPath]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout.toString(), a.stdout.toString(), 'the hlog has its last interval and its totals');
  } finally {
    child.kill('SIGKILL');
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shards of one run logged together give the intervals of the whole run: merged by completion time, none late', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const t0 = 1_800_000_000_000_000_000n;
    const info = {
      name: '', pacer: '1000/1s', rate: 1000, maxMode: false, duration: 20e9, targets: ['GET http://127.0.0.1/'], targetCount: 1,
      workers: 1, connections: 10, startedAt: t0, version: 'test',
    };
    const writeFile = async (path: string, keep: (i: number) => boolean) => {
      const chunks: Buffer[] = [];
      const sink = new (await import('node:stream')).Writable({ write(c, _e, cb) { chunks.push(c); cb(); } });
      const w = createResultWriter(sink, 'binary');
      w.writeMeta({ info });
      for (let i = 0; i < 20_000; i++) {
        if (!keep(i)) continue;
        w.write({
          attack: '', seq: i, code: 200, timestamp: t0 + BigInt(i) * 1_000_000n, latency: 1e6 + (i % 50) * 1e5,
          bytesOut: 0, bytesIn: 2, error: '', body: null, method: 'GET', url: 'http://127.0.0.1/', headers: null, sendLag: 10_000,
        });
      }
      await w.close();
      writeFileSync(path, Buffer.concat(chunks));
    };
    // Two shards of one schedule (even and odd requests, as -shard=1/2 and 2/2 split it), 20 s long:
    // longer than the 10 s an interval waits for stragglers, so reading them one after the other
    // would put the second shard's first half into the first shard's last open interval.
    await writeFile(join(dir, 'whole.bin'), () => true);
    await writeFile(join(dir, 'a.bin'), (i) => i % 2 === 0);
    await writeFile(join(dir, 'b.bin'), (i) => i % 2 === 1);
    const counts = (text: string) => {
      const reader = new hdr.HistogramLogReader(text, 64);
      const out: number[] = [];
      for (let h = reader.nextIntervalHistogram(); h; h = reader.nextIntervalHistogram()) if (h.tag !== 'send-lag') out.push(h.totalCount);
      return out;
    };
    let whole = '';
    let shards = '';
    const w = await encodeHlog([join(dir, 'whole.bin')], (t) => (whole += t), { intervalNs: 1e9 });
    const s = await encodeHlog([join(dir, 'a.bin'), join(dir, 'b.bin')], (t) => (shards += t), { intervalNs: 1e9 });
    assert.equal(s.late, 0);
    assert.equal(s.metrics.requests, 20_000);
    assert.equal(s.intervals, w.intervals);
    assert.deepEqual(counts(shards), counts(whole));
    // One interval per second of the schedule, each with its ~1000 completions (the last: the stragglers).
    assert.ok(counts(whole).slice(0, -1).every((n) => n >= 990 && n <= 1000), counts(whole).join(','));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
