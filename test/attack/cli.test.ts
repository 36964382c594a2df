import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMetrics } from '../../src/metrics/index.js';
import { openResults } from '../../src/results/index.js';
import { formatProgress } from '../../src/attack/index.js';
import { Metrics } from '../../src/metrics/index.js';
import { runCli } from '../helpers/cli.js';
import { CLI, REPO_ROOT, tempDir } from '../helpers/paths.js';
import { listen } from '../helpers/servers.js';
import { result } from '../../support/results.js';

test('the seed pipeline: echo target | tailprobe attack | tailprobe report', { timeout: 60_000 }, async () => {
  const srv = await listen((_req, res) => res.end('hello'));
  try {
    const a = await runCli(['attack', '-duration=2s', '-rate=100'], { input: `GET ${srv.url}/api/lookup\n`, timeoutMs: 30_000 });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stderr, '', 'no progress line when stderr is not a terminal');
    const r = await runCli(['report'], { input: a.stdout, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout.toString();
    assert.match(text, /Requests\s+\[total, rate, throughput\]\s+200, 100\.00, /);
    assert.match(text, /Status Codes\s+\[code:count\]\s+200:200/);
    assert.match(text, /Success\s+\[ratio\]\s+100\.00%/);
  } finally {
    await srv.close();
  }
});

test('SIGINT: stop scheduling, finish in-flight requests, flush; the partial file reports', { timeout: 60_000 }, async () => {
  const srv = await listen((_req, res) => setTimeout(() => res.end('ok'), 20));
  const dir = tempDir();
  const out = join(dir, 'partial.bin');
  try {
    const child = spawn(process.execPath, [CLI, 'attack', '-duration=0', '-rate=100', `-output=${out}`], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(`GET ${srv.url}/\n`);
    // wait until results are on disk (the writer flushes at least every 200 ms), then interrupt
    const t0 = Date.now();
    while (Date.now() - t0 < 20_000) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        if (statSync(out).size > 2000) break;
      } catch {
        /* not created yet */
      }
    }
    child.kill('SIGINT');
    const [code] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    assert.equal(code, 0, stderr);
    const { metrics, sources } = await readMetrics([out]);
    assert.ok(metrics.requests > 20, `${metrics.requests} results`);
    assert.equal(metrics.success, 1, 'in-flight requests were allowed to finish');
    const meta = sources[0]!.meta;
    assert.equal(meta.health?.ended, 'interrupted');
    assert.equal(meta.info?.rate, 100);
    assert.equal(meta.info?.duration, 0);
    assert.equal(sources[0]!.truncatedBytes, 0);
    const r = await runCli(['report', out], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), /Success\s+\[ratio\]\s+100\.00%/);
  } finally {
    await srv.close();
  }
});

test('-output-format=json writes vegeta JSON lines, with response headers', { timeout: 30_000 }, async () => {
  const srv = await listen((_req, res) => {
    res.setHeader('x-served-by', 'test');
    res.end('body!');
  });
  try {
    const a = await runCli(['attack', '-duration=200ms', '-rate=20', '-output-format=json', '-max-body=-1', '-name=j'], {
      input: `GET ${srv.url}/x\n`,
      timeoutMs: 30_000,
    });
    assert.equal(a.code, 0, a.stderr);
    const lines = a.stdout.toString().trim().split('\n');
    assert.equal(lines.length, 4);
    const first = JSON.parse(lines[0]!) as Record<string, unknown>;
    for (const k of ['attack', 'seq', 'code', 'timestamp', 'latency', 'bytes_out', 'bytes_in', 'error', 'body', 'method', 'url', 'headers']) {
      assert.ok(k in first, `field ${k}`);
    }
    assert.equal(first.attack, 'j');
    assert.equal(first.code, 200);
    assert.equal(Buffer.from(first.body as string, 'base64').toString(), 'body!');
    assert.deepEqual((first.headers as Record<string, string[]>)['X-Served-By'] ?? (first.headers as Record<string, string[]>)['x-served-by'], ['test']);
    assert.match(String(first.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d)$/);
  } finally {
    await srv.close();
  }
});

test('workers through the CLI: binary batches from two workers make one readable file', { timeout: 60_000 }, async () => {
  const srv = await listen((_req, res) => res.end('ok'));
  const dir = tempDir();
  const out = join(dir, 'w.bin');
  try {
    const a = await runCli(['attack', '-duration=1s', '-rate=200', '-workers=2', `-output=${out}`], { input: `GET ${srv.url}/\n`, timeoutMs: 40_000 });
    assert.equal(a.code, 0, a.stderr);
    const src = await openResults(out);
    const seqs: number[] = [];
    for await (const b of src.batches()) for (const r of b) seqs.push(r.seq);
    assert.deepEqual(seqs.sort((x, y) => x - y), Array.from({ length: 200 }, (_, i) => i));
    assert.equal(src.meta.info?.workers, 2);
    assert.ok(src.meta.health && src.meta.health.cpuPercent > 0);
  } finally {
    await srv.close();
  }
});

test('bad flags and values: one line, exit 2, nothing sent', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const targets = join(dir, 't.txt');
  writeFileSync(targets, 'GET http://127.0.0.1:1/\n');
  const cases: Array<[string[], RegExp]> = [
    [['-rate=abc'], /^tailprobe: invalid rate "abc"/],
    [['-duration=5'], /^tailprobe: attack: invalid value "5" for flag -duration/],
    [['-output-format=xml', '-duration=1s'], /^tailprobe: attack: invalid value "xml" for flag -output-format/],
    [['-rate=0'], /^tailprobe: attack: max mode \(-rate=0\) needs a -duration/],
    [['-ramp-to=200'], /^tailprobe: attack: -ramp-to needs -duration or -ramp-duration/],
    [['-sine-period=10s', '-duration=1s'], /^tailprobe: attack: -sine-period needs -sine-amp/],
    [['-workers=-1', '-duration=1s'], /^tailprobe: -workers must be an integer >= 1/],
    [['-format=yaml', '-duration=1s'], /^tailprobe: attack: invalid value "yaml" for flag -format/],
    [['-nope'], /^tailprobe: attack: unknown flag -nope/],
    [['-header=bad', '-duration=1s'], /^tailprobe: invalid header "bad"/],
    [['-targets=/nonexistent/t.txt', '-duration=1s'], /^tailprobe: \/nonexistent\/t.txt: no such file\n$/],
  ];
  for (const [flags, re] of cases) {
    const args = flags.some((f) => f.startsWith('-targets')) ? ['attack', ...flags] : ['attack', `-targets=${targets}`, ...flags];
    const r = await runCli(args, { timeoutMs: 20_000 });
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, flags.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line for ${flags.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout.length, 0);
  }
  // Not a usage error: the output cannot be opened (one line, status 1, as every command's output).
  const o = await runCli(['attack', `-targets=${targets}`, '-output=/nonexistent/dir/o.bin', '-duration=1s'], { timeoutMs: 20_000 });
  assert.equal(o.code, 1, o.stderr);
  assert.equal(o.stderr, 'tailprobe: attack: cannot write /nonexistent/dir/o.bin: no such file or directory (ENOENT)\n');
});

test('--help lists every flag with its default', async () => {
  const r = await runCli(['attack', '--help']);
  assert.equal(r.code, 0);
  const h = r.stdout.toString();
  for (const f of ['rate', 'duration', 'timeout', 'header', 'body', 'connections', 'max-connections', 'keepalive', 'http2', 'h2c', 'pipelining',
    'insecure', 'redirects', 'max-body', 'name', 'output', 'output-format', 'targets', 'format', 'ramp-to', 'sine-period', 'sine-amp', 'workers', 'quiet']) {
    assert.match(h, new RegExp(`-${f}\\b`), f);
  }
  assert.match(h, /default 50\/1s/);
  assert.match(h, /default 30s/);
});

test('the progress line: elapsed, rate, in flight, p50/p99, errors, late sends', () => {
  const m = new Metrics();
  for (let i = 0; i < 100; i++) {
    m.add(result(i, (i + 1) * 1e6, { attack: '', code: i < 98 ? 200 : 500, timestamp: BigInt(i) * 10_000_000n, sendLag: i === 0 ? 5e6 : 0, bytesIn: 0, url: 'http://x/' }));
  }
  const line = formatProgress({ elapsedNs: 1e9, metrics: m, inFlight: 3, sent: 103 });
  assert.equal(line, '[1.0s] 100 done, 103.0 req/s sent, 3 in flight, p50 50ms, p99 99ms, 2 errors, 1 late');
});
